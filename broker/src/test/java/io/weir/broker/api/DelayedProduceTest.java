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
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** acks=all through the produce purgatory, against a real log and replica manager on a mock clock. */
class DelayedProduceTest {
    private static final short PRODUCE_V = 9;
    private static final TopicPartition TP = new TopicPartition("t", 0);

    @TempDir
    Path dir;

    private final MockTime time = new MockTime();
    private LogManager logManager;
    private ReplicaManager replicaManager;
    private DelayedOperationPurgatory<TopicPartition, DelayedProduce> purgatory;
    private ProduceHandler handler;
    private final CapturingSink connection = new CapturingSink();

    @BeforeEach
    void start() {
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, dir.toString()));
        TopicConfigs topicConfigs = new TopicConfigs(config);
        logManager = LogManager.open(dir, topicConfigs.defaultLogConfig(), Map.of(), time);
        replicaManager = new ReplicaManager(0, logManager, topicConfigs);
        TopicService topics = new TopicService(config, new LocalMetadataStore(dir, null), replicaManager, topicConfigs);
        assertEquals(Errors.NONE, topics.create(TP.topic(), 1, (short) 1, Map.of(), Map.of(), false).error());
        purgatory = new DelayedOperationPurgatory<>("produce", new WheelTimer(time), 100, false);
        replicaManager.setAppendListener(purgatory::checkAndComplete);
        handler = new ProduceHandler(replicaManager, purgatory);
    }

    @AfterEach
    void stop() {
        purgatory.close();
        logManager.close();
    }

    private static ByteBuffer batch(int records) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        for (int i = 0; i < records; i++) {
            b.append(1L, ("k" + i).getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
        }
        return b.build();
    }

    private ProduceRequest request(short acks, ByteBuffer records) {
        return new ProduceRequest().setAcks(acks).setTimeoutMs(1_000).setTopicData(List.of(
            new ProduceRequest.TopicProduceData().setName(TP.topic()).setPartitionData(List.of(
                new ProduceRequest.PartitionProduceData().setIndex(TP.partition()).setRecords(Records.wrap(records))))));
    }

    private RequestContext context(int correlationId) {
        return RequestContext.of(RequestHeader.of(ApiKeys.PRODUCE, PRODUCE_V, correlationId, "c"), connection, "c1");
    }

    private ProduceResponse.PartitionProduceResponse answer(int correlationId) {
        MessageCodec.ParsedResponse parsed = MessageCodec.parseResponse(ApiKeys.PRODUCE, PRODUCE_V,
            connection.last().response());
        assertEquals(correlationId, parsed.correlationId());
        return ((ProduceResponse) parsed.body()).responses().get(0).partitionResponses().get(0);
    }

    @Test
    void shouldAnswerAcksAllAtOnceWhenTheLeaderIsTheWholeIsr() {
        handler.handle(context(1), request((short) -1, batch(3)));
        assertEquals(1, connection.size());
        assertEquals(Errors.NONE.code(), answer(1).errorCode());
        assertEquals(0, answer(1).baseOffset());
        assertEquals(0, purgatory.delayed());
        assertEquals(0, purgatory.watched());

        handler.handle(context(2), request((short) -1, batch(2)));
        assertEquals(3, answer(2).baseOffset());
    }

    /** A produce whose records the ISR has not reached waits: here the offset it needs lies ahead of the log. */
    private DelayedProduce parkedProduce(int correlationId, long requiredOffset) {
        ProduceResponse.PartitionProduceResponse pr = new ProduceResponse.PartitionProduceResponse()
            .setIndex(TP.partition()).setBaseOffset(0);
        ProduceResponse response = new ProduceResponse().setResponses(List.of(
            new ProduceResponse.TopicProduceResponse().setName(TP.topic()).setPartitionResponses(List.of(pr))));
        Map<TopicPartition, DelayedProduce.Pending> pending = new LinkedHashMap<>();
        pending.put(TP, new DelayedProduce.Pending(pr, requiredOffset));
        return new DelayedProduce(1_000, context(correlationId), handler, request((short) -1, batch(1)), response,
            pending, replicaManager);
    }

    @Test
    void shouldWaitUntilTheHighWatermarkReachesTheAppendedRecords() {
        purgatory.tryCompleteElseWatch(parkedProduce(1, 5), List.of(TP));
        assertEquals(0, connection.size());
        handler.handle(context(2), request((short) 1, batch(3)));
        assertEquals(1, connection.size(), "only the acks=1 produce was answered; the high watermark is at 3");
        handler.handle(context(3), request((short) 1, batch(2)));
        assertEquals(3, connection.size());
        assertEquals(1, MessageCodec.parseResponse(ApiKeys.PRODUCE, PRODUCE_V,
            connection.outcomes.get(1).response()).correlationId(), "the parked produce completed on the append");
        assertEquals(Errors.NONE.code(), ((ProduceResponse) MessageCodec.parseResponse(ApiKeys.PRODUCE, PRODUCE_V,
            connection.outcomes.get(1).response()).body()).responses().get(0).partitionResponses().get(0).errorCode());
    }

    @Test
    void shouldAnswerNotEnoughReplicasAfterAppendWhenTheIsrShrinksBelowMinIsrBeforeTheRecordsCommit() throws Exception {
        // a replica manager on the mock clock leading an rf-3 partition with min.insync.replicas 2; the
        // controller commits whatever ISR change the leader asks for
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, dir.toString()));
        ReplicaManager rm = new ReplicaManager(0, logManager, new TopicConfigs(config), time);
        rm.setAlterPartitionSender((tp, leaderEpoch, partitionEpoch, isr) -> java.util.concurrent.CompletableFuture
            .completedFuture(new io.weir.broker.metadata.PartitionState(0, leaderEpoch, isr, 1, partitionEpoch + 1)));
        rm.setHighWatermarkListener(purgatory::checkAndComplete);
        rm.setAppendListener(purgatory::checkAndComplete);
        io.weir.broker.metadata.TopicMetadata topic = new io.weir.broker.metadata.TopicMetadata("r",
            java.util.UUID.randomUUID(), 1, (short) 3, Map.of("min.insync.replicas", "2"));
        TopicPartition tp = new TopicPartition("r", 0);
        rm.hostPartition(topic, 0, List.of(0, 1, 2), new io.weir.broker.metadata.PartitionState(0, 0, List.of(0, 1, 2),
            1, 0));
        ProduceHandler produce = new ProduceHandler(rm, purgatory);
        ProduceRequest req = new ProduceRequest().setAcks((short) -1).setTimeoutMs(30_000).setTopicData(List.of(
            new ProduceRequest.TopicProduceData().setName("r").setPartitionData(List.of(
                new ProduceRequest.PartitionProduceData().setIndex(0).setRecords(Records.wrap(batch(3)))))));

        // appended while the ISR (3) is big enough; the followers have not fetched it: the produce waits
        produce.handle(context(1), req);
        assertEquals(3, rm.partition(tp).log().logEndOffset());
        assertEquals(0, connection.size());

        // the followers fall behind: the ISR shrinks to the leader alone, which commits the batch, short of min ISR
        time.sleep(10_001);
        assertEquals(1, rm.doIsrCheck(time.milliseconds(), 10_000));
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (connection.size() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(5); // the controller's answer is applied on the replica manager's state thread
        }
        assertEquals(List.of(0), rm.partition(tp).isr());
        assertEquals(3, rm.partition(tp).highWatermark());
        assertEquals(1, connection.size());
        assertEquals(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND.code(), answer(1).errorCode());
        assertEquals(0, answer(1).baseOffset(), "the records were appended (and are committed now)");
        rm.shutdown();
    }

    @Test
    void shouldAnswerRequestTimedOutWhenTheIsrDoesNotCatchUpInTime() {
        purgatory.tryCompleteElseWatch(parkedProduce(1, 5), List.of(TP));
        time.advance(999);
        purgatory.advanceClock(0);
        assertEquals(0, connection.size());
        time.advance(1);
        purgatory.advanceClock(0);
        assertEquals(1, connection.size());
        assertEquals(Errors.REQUEST_TIMED_OUT.code(), answer(1).errorCode());
    }
}
