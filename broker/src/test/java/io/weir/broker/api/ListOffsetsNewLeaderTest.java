package io.weir.broker.api;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicConfigs;
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
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.ListOffsetsResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 12: a leader elected with a high watermark below its epoch's start offset (a restarted broker's
 * comes from its checkpoint) must not answer a consumer's latest offset with it — that end lies below
 * offsets already acknowledged — but OFFSET_NOT_AVAILABLE until its followers fetch (Kafka's KIP-207).
 */
class ListOffsetsNewLeaderTest {
    private static final short VERSION = 7;
    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final TopicMetadata TOPIC = new TopicMetadata("t", UUID.randomUUID(), 1, (short) 2, Map.of());

    @TempDir
    Path dir;
    private LogManager logs;

    @AfterEach
    void close() {
        if (logs != null) {
            logs.close();
        }
    }

    private static Records batch(int records) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        for (int i = 0; i < records; i++) {
            b.append(1L, ("k" + i).getBytes(StandardCharsets.UTF_8), new byte[20]);
        }
        return Records.wrap(b.build());
    }

    private static ListOffsetsResponse.ListOffsetsPartitionResponse latest(ListOffsetsHandler handler, int replicaId) {
        CapturingSink sink = new CapturingSink();
        handler.handle(RequestContext.of(RequestHeader.of(ApiKeys.LIST_OFFSETS, VERSION, 1, "c"), sink, "c1"),
            new ListOffsetsRequest().setReplicaId(replicaId).setTopics(List.of(new ListOffsetsRequest.ListOffsetsTopic()
                .setName("t").setPartitions(List.of(new ListOffsetsRequest.ListOffsetsPartition().setPartitionIndex(0)
                    .setCurrentLeaderEpoch(-1).setTimestamp(-1L))))));
        ListOffsetsResponse r = (ListOffsetsResponse) MessageCodec.parseResponse(ApiKeys.LIST_OFFSETS, VERSION,
            sink.last().response()).body();
        return r.topics().get(0).partitions().get(0);
    }

    @Test
    void shouldAnswerOffsetNotAvailableToConsumersUntilTheNewLeadersHighWatermarkReachesItsEpochStart() {
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, dir.toString()));
        TopicConfigs topicConfigs = new TopicConfigs(config);
        logs = LogManager.open(dir, topicConfigs.defaultLogConfig(), Map.of(), new MockTime());
        ReplicaManager rm = new ReplicaManager(0, logs, topicConfigs, new MockTime());
        ListOffsetsHandler handler = new ListOffsetsHandler(rm);
        rm.hostPartition(TOPIC, 0, List.of(0, 1), new PartitionState(0, 0, List.of(0, 1), 1, 0));
        assertEquals(Errors.NONE, rm.appendAsLeader(TP, batch(5), (short) -1).error());
        // leader again at a new epoch before follower 1 fetched: the epoch starts at 5, the high watermark is 0
        rm.applyPartitionState(TP, List.of(0, 1), new PartitionState(0, 1, List.of(0, 1), 1, 1));
        assertEquals(5, rm.partition(TP).leaderEpochStartOffset());
        assertEquals(0, rm.partition(TP).highWatermark());

        assertEquals(Errors.OFFSET_NOT_AVAILABLE.code(), latest(handler, -1).errorCode(), "a consumer retries");
        assertEquals(Errors.NONE.code(), latest(handler, 1).errorCode(), "a replica is answered");

        rm.readForFollower(TP, 1, 5, 1 << 20, true, 1, 0, true);
        assertEquals(5, rm.partition(TP).highWatermark());
        ListOffsetsResponse.ListOffsetsPartitionResponse caughtUp = latest(handler, -1);
        assertEquals(Errors.NONE.code(), caughtUp.errorCode());
        assertEquals(5, caughtUp.offset());
    }
}
