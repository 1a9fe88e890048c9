package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.RawConnection;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.CreateTopicsResponse;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Incremental fetch sessions on the wire: creation, partitions left out when unchanged, errors. */
class FetchSessionTest {
    private static final short FETCH_V = 12;
    private EmbeddedBroker broker;
    private RawConnection connection;

    @BeforeEach
    void start() throws IOException {
        broker = new EmbeddedBroker().start();
        connection = new RawConnection(broker.port());
        CreateTopicsResponse created = (CreateTopicsResponse) call(ApiKeys.CREATE_TOPICS, (short) 7,
            new CreateTopicsRequest().setTimeoutMs(5_000).setTopics(List.of(new CreateTopicsRequest.CreatableTopic()
                .setName("s").setNumPartitions(2).setReplicationFactor((short) 1))));
        assertEquals(Errors.NONE.code(), created.topics().get(0).errorCode());
    }

    @AfterEach
    void stop() throws IOException {
        connection.close();
        broker.close();
    }

    private ApiMessage call(ApiKeys api, short version, ApiMessage body) throws IOException {
        return connection.call(api, version, body);
    }

    private void produce(int partition) throws IOException {
        ByteBuffer batch = new RecordBatchBuilder(CompressionType.NONE).append(1L, null, new byte[] {1, 2, 3}).build();
        ProduceResponse r = (ProduceResponse) call(ApiKeys.PRODUCE, (short) 9, new ProduceRequest().setAcks((short) 1)
            .setTimeoutMs(5_000).setTopicData(List.of(new ProduceRequest.TopicProduceData().setName("s")
                .setPartitionData(List.of(new ProduceRequest.PartitionProduceData().setIndex(partition)
                    .setRecords(Records.wrap(batch)))))));
        assertEquals(Errors.NONE.code(), r.responses().get(0).partitionResponses().get(0).errorCode());
    }

    private FetchResponse fetch(int sessionId, int epoch, long[] offsets) throws IOException {
        List<FetchRequest.FetchPartition> parts = new ArrayList<>();
        for (int p = 0; p < offsets.length; p++) {
            if (offsets[p] >= 0) {
                parts.add(new FetchRequest.FetchPartition().setPartition(p).setFetchOffset(offsets[p])
                    .setPartitionMaxBytes(1 << 20));
            }
        }
        List<FetchRequest.FetchTopic> topics = parts.isEmpty() ? List.of()
            : List.of(new FetchRequest.FetchTopic().setTopic("s").setPartitions(parts));
        return (FetchResponse) call(ApiKeys.FETCH, FETCH_V, new FetchRequest().setMaxWaitMs(50).setMinBytes(1)
            .setMaxBytes(1 << 20).setSessionId(sessionId).setSessionEpoch(epoch).setTopics(topics));
    }

    private static List<Integer> partitionsIn(FetchResponse r) {
        List<Integer> out = new ArrayList<>();
        r.responses().forEach(t -> t.partitions().forEach(p -> out.add(p.partitionIndex())));
        return out;
    }

    @Test
    void shouldCreateASessionAndSendOnlyChangedPartitions() throws IOException {
        produce(0);
        FetchResponse full = fetch(0, 0, new long[] {0, 0});
        assertEquals(Errors.NONE.code(), full.errorCode());
        int session = full.sessionId();
        assertNotEquals(0, session);
        assertEquals(List.of(0, 1), partitionsIn(full), "a full response carries every partition");

        // partition 0 moved to offset 1; nothing new anywhere: both partitions are left out
        FetchResponse quiet = fetch(session, 1, new long[] {1, -1});
        assertEquals(session, quiet.sessionId());
        assertEquals(List.of(), partitionsIn(quiet));

        produce(1);
        FetchResponse news = fetch(session, 2, new long[] {-1, -1});
        assertEquals(List.of(1), partitionsIn(news), "only the partition with new data");
        assertTrue(news.responses().get(0).partitions().get(0).records().sizeInBytes() > 0);
    }

    @Test
    void shouldRejectUnknownSessionsAndWrongEpochs() throws IOException {
        FetchResponse full = fetch(0, 0, new long[] {0, 0});
        int session = full.sessionId();
        assertEquals(Errors.INVALID_FETCH_SESSION_EPOCH.code(), fetch(session, 5, new long[] {-1, -1}).errorCode());
        assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND.code(), fetch(session + 1, 1, new long[] {-1, -1}).errorCode());
        assertEquals(Errors.NONE.code(), fetch(session, 1, new long[] {-1, -1}).errorCode());
        // epoch -1 closes the session and answers as a sessionless full fetch
        FetchResponse closing = fetch(session, -1, new long[] {0, 0});
        assertEquals(0, closing.sessionId());
        assertEquals(List.of(0, 1), partitionsIn(closing));
        assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND.code(), fetch(session, 2, new long[] {-1, -1}).errorCode());
    }
}
