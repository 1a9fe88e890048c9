package io.weir.broker.api;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.LocalMetadataStore;
import io.weir.broker.purgatory.DelayedOperationPurgatory;
import io.weir.broker.purgatory.WheelTimer;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicConfigs;
import io.weir.broker.server.TopicService;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.testing.MockTime;
import io.weir.log.LogManager;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.Records;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ApiVersionsRequest;
import io.weir.protocol.message.ApiVersionsResponse;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Delayed fetches against a real log, a real replica manager and the real fetch handler, on a mock
 * clock with the purgatory driven by hand; a sink stands for the client's connection.
 */
class DelayedFetchTest {
    private static final short FETCH_V = 12;
    private static final String TOPIC = "t";

    @TempDir
    Path dir;

    private final MockTime time = new MockTime();
    private final AtomicInteger reads = new AtomicInteger();
    /** Reads to let through before the reader fails (an injected storage failure); -1 never fails. */
    private volatile int failAfterReads = -1;
    private LogManager logManager;
    private ReplicaManager replicaManager;
    private DelayedOperationPurgatory<TopicPartition, DelayedFetch> purgatory;
    private RequestDispatcher dispatcher;
    private final CapturingSink connection = new CapturingSink();
    private int correlation;

    @BeforeEach
    void start() {
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, dir.toString()));
        TopicConfigs topicConfigs = new TopicConfigs(config);
        LocalMetadataStore store = new LocalMetadataStore(dir, null);
        logManager = LogManager.open(dir, topicConfigs.defaultLogConfig(), Map.of(), time);
        replicaManager = new ReplicaManager(0, logManager, topicConfigs);
        TopicService topics = new TopicService(config, store, replicaManager, topicConfigs);
        assertEquals(Errors.NONE, topics.create(TOPIC, 2, (short) 1, Map.of(), Map.of(), false).error());
        purgatory = new DelayedOperationPurgatory<>("fetch", new WheelTimer(time), 100, false);
        replicaManager.setAppendListener(purgatory::checkAndComplete);
        FetchHandler.PartitionReader reader = (tp, offset, maxBytes, minOneBatch, readCommitted) -> {
            int n = reads.incrementAndGet();
            if (failAfterReads >= 0 && n > failAfterReads) {
                throw new IllegalStateException("injected storage failure");
            }
            return replicaManager.read(tp, offset, maxBytes, minOneBatch, readCommitted);
        };
        dispatcher = new RequestDispatcher(ApiHandlerRegistry.builder()
            .register(new FetchHandler(store, replicaManager, reader, new FetchSessionCache(10), purgatory))
            .build());
    }

    @AfterEach
    void stop() {
        purgatory.close();
        logManager.close();
    }

    private static ByteBuffer batch(int records) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        for (int i = 0; i < records; i++) {
            b.append(1L, ("key-" + i).getBytes(StandardCharsets.UTF_8), new byte[50]);
        }
        return b.build();
    }

    private void append(int partition, ByteBuffer batch) {
        ReplicaManager.AppendResult r = replicaManager.appendAsLeader(new TopicPartition(TOPIC, partition),
            Records.wrap(batch), (short) 1);
        assertEquals(Errors.NONE, r.error());
    }

    private static ByteBuffer frameOnly(ByteBuffer sized) {
        ByteBuffer b = sized.duplicate();
        b.position(b.position() + 4);
        return b.slice();
    }

    /** Sends a fetch of both partitions from offset 0 (no session). */
    private int fetch(int minBytes, int maxWaitMs) {
        int id = ++correlation;
        FetchRequest req = new FetchRequest().setReplicaId(-1).setMaxWaitMs(maxWaitMs).setMinBytes(minBytes)
            .setMaxBytes(1 << 20).setIsolationLevel((byte) 0).setSessionId(0).setSessionEpoch(-1)
            .setTopics(List.of(new FetchRequest.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                new FetchRequest.FetchPartition().setPartition(0).setFetchOffset(0).setPartitionMaxBytes(1 << 20),
                new FetchRequest.FetchPartition().setPartition(1).setFetchOffset(0).setPartitionMaxBytes(1 << 20)))));
        dispatcher.handle(frameOnly(MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.FETCH, FETCH_V, id, "c"),
            req)), connection, "c1");
        return id;
    }

    private FetchResponse response(int correlationId) {
        MessageCodec.ParsedResponse parsed = MessageCodec.parseResponse(ApiKeys.FETCH, FETCH_V,
            connection.last().response());
        assertEquals(correlationId, parsed.correlationId());
        return (FetchResponse) parsed.body();
    }

    private static int recordBytes(FetchResponse resp) {
        int n = 0;
        for (FetchResponse.FetchableTopicResponse t : resp.responses()) {
            for (FetchResponse.PartitionData p : t.partitions()) {
                n += p.records() == null ? 0 : p.records().sizeInBytes();
            }
        }
        return n;
    }

    /** Makes partition 0 replicated on brokers 0 (this leader) and 1 at leader epoch {@code epoch}, ISR {@code isr}. */
    private void replicate(int epoch, List<Integer> isr, int partitionEpoch) {
        replicaManager.applyPartitionState(new TopicPartition(TOPIC, 0), List.of(0, 1),
            new io.weir.broker.metadata.PartitionState(0, epoch, isr, 1, partitionEpoch));
    }

    /** Sends a follower's fetch (broker 1, Fetch v12) of partition 0. */
    private int followerFetch(int leaderEpoch, int lastFetchedEpoch, long offset, int minBytes, int maxWaitMs) {
        int id = ++correlation;
        FetchRequest req = new FetchRequest().setReplicaId(1).setMaxWaitMs(maxWaitMs).setMinBytes(minBytes)
            .setMaxBytes(1 << 20).setIsolationLevel((byte) 0).setSessionId(0).setSessionEpoch(-1)
            .setTopics(List.of(new FetchRequest.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                new FetchRequest.FetchPartition().setPartition(0).setCurrentLeaderEpoch(leaderEpoch).setFetchOffset(offset)
                    .setLastFetchedEpoch(lastFetchedEpoch).setLogStartOffset(0).setPartitionMaxBytes(1 << 20)))));
        dispatcher.handle(frameOnly(MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.FETCH, FETCH_V, id, "c"),
            req)), connection, "c1");
        return id;
    }

    @Test
    void shouldAnswerAFollowerWhoseLogDivergesAtOnceWithTheDivergingEpochAndNoRecords() {
        append(0, batch(3)); // epoch 0: [0, 3)
        replicate(2, List.of(0, 1), 0);
        append(0, batch(2)); // epoch 2: [3, 5)

        // the follower's last batch is of epoch 1, which this leader never wrote: it must truncate to 3 first
        int id = followerFetch(2, 1, 4, 1 << 20, 500);
        assertEquals(1, connection.size(), "answered at once, not parked for min bytes");
        FetchResponse.PartitionData pd = response(id).responses().get(0).partitions().get(0);
        assertEquals(Errors.NONE.code(), pd.errorCode());
        assertEquals(0, pd.divergingEpoch().epoch());
        assertEquals(3, pd.divergingEpoch().endOffset());
        assertEquals(0, pd.records() == null ? 0 : pd.records().sizeInBytes());

        // after truncating to 3 (its last epoch now 0) it fetches the leader's epoch-2 batch
        id = followerFetch(2, 0, 3, 1, 500);
        pd = response(id).responses().get(0).partitions().get(0);
        assertEquals(-1, pd.divergingEpoch().endOffset(), "no diverging epoch");
        assertTrue(pd.records().sizeInBytes() > 0);
    }

    @Test
    void shouldParkAThrottledFollowersFetchInsteadOfAnsweringItEmptyAtOnce() {
        append(0, batch(3));
        replicate(1, List.of(0), 0); // broker 1 is a new replica, outside the ISR
        replicaManager.leaderReplicationThrottle().setRate(10);
        replicaManager.leaderReplicationThrottle().setThrottledReplicas(Map.of(TOPIC, "0:0"));
        replicaManager.recordLeaderThrottled(new TopicPartition(TOPIC, 0), 1, 1_000_000); // the bucket is empty

        int id = followerFetch(1, -1, 0, 1, 500);
        assertEquals(0, connection.size(), "held-back bytes do not complete the fetch: it waits");
        time.advance(500);
        purgatory.advanceClock(0);
        assertEquals(1, connection.size());
        FetchResponse.PartitionData pd = response(id).responses().get(0).partitions().get(0);
        assertEquals(Errors.NONE.code(), pd.errorCode());
        assertEquals(0, pd.records() == null ? 0 : pd.records().sizeInBytes(), "still held back");
    }

    @Test
    void shouldWakeWhenEnoughBytesArriveAndNotBeforeWithoutReadingOnWakeUps() {
        int one = batch(1).remaining();
        int id = fetch(one * 2 + 1, 10_000);
        assertEquals(0, connection.size(), "nothing to read yet: parked");
        int parkedReads = reads.get();

        append(0, batch(1));
        append(1, batch(1));
        assertEquals(0, connection.size(), "two small batches are below fetch.min.bytes");
        assertEquals(parkedReads, reads.get(), "a wake-up compares positions; it reads nothing");

        append(0, batch(1));
        assertEquals(1, connection.size(), "the third batch crosses fetch.min.bytes");
        assertEquals(parkedReads + 2, reads.get(), "completion reads each partition once");
        FetchResponse resp = response(id);
        assertEquals(Errors.NONE.code(), resp.errorCode());
        assertEquals(one * 3, recordBytes(resp));

        time.advance(10_000);
        purgatory.advanceClock(0);
        assertEquals(1, connection.size(), "completed once: the deadline does not answer again");
    }

    @Test
    void shouldAnswerWithWhatThereIsAtTheDeadline() {
        int id = fetch(1 << 20, 500);
        append(1, batch(2));
        time.advance(499);
        purgatory.advanceClock(0);
        assertEquals(0, connection.size());
        time.advance(1);
        assertEquals(1, purgatory.advanceClock(0));
        assertEquals(1, connection.size());
        assertEquals(batch(2).remaining(), recordBytes(response(id)));
    }

    @Test
    void shouldAnswerAtOnceWhenTheFirstReadIsEnough() {
        append(0, batch(3));
        int id = fetch(1, 10_000);
        assertEquals(1, connection.size());
        assertEquals(batch(3).remaining(), recordBytes(response(id)));
        assertEquals(0, purgatory.delayed());
    }

    /** Issue 9 §5.1: a parked fetch whose completion throws must still answer its client. */
    @Test
    void shouldAnswerAParkedFetchWhoseCompletionThrowsAndKeepTheConnection() {
        int id = fetch(1, 10_000);
        assertEquals(0, connection.size());
        failAfterReads = reads.get();

        append(0, batch(1));
        assertEquals(1, connection.size(), "the failed completion answered the fetch");
        assertFalse(connection.last().closed());
        FetchResponse resp = response(id);
        assertEquals(Errors.UNKNOWN_SERVER_ERROR.code(), resp.errorCode());
        for (FetchResponse.FetchableTopicResponse t : resp.responses()) {
            for (FetchResponse.PartitionData p : t.partitions()) {
                assertEquals(Errors.UNKNOWN_SERVER_ERROR.code(), p.errorCode());
            }
        }
        assertEquals(2, resp.responses().get(0).partitions().size());

        // the same connection serves its next request
        failAfterReads = -1;
        int next = fetch(1, 10_000);
        assertEquals(2, connection.size());
        assertEquals(Errors.NONE.code(), response(next).errorCode());
        assertTrue(recordBytes(response(next)) > 0);
    }

    /** Issue 9 §5.1, deadline path: the expiry's completion throws; the client still gets its answer. */
    @Test
    void shouldAnswerAnExpiringFetchWhoseCompletionThrows() {
        int id = fetch(1, 100);
        failAfterReads = reads.get();
        time.advance(100);
        purgatory.advanceClock(0);
        assertEquals(1, connection.size());
        assertEquals(Errors.UNKNOWN_SERVER_ERROR.code(), response(id).errorCode());

        int next = ++correlation;
        dispatcher.handle(frameOnly(MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.API_VERSIONS, (short) 3,
            next, "c"), new ApiVersionsRequest().setClientSoftwareName("c").setClientSoftwareVersion("1"))),
            connection, "c1");
        MessageCodec.ParsedResponse parsed = MessageCodec.parseResponse(ApiKeys.API_VERSIONS, (short) 3,
            connection.last().response());
        assertEquals(next, parsed.correlationId());
        assertEquals(Errors.NONE.code(), ((ApiVersionsResponse) parsed.body()).errorCode());
    }
}
