package io.weir.broker.server;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.testing.MockTime;
import io.weir.log.LogManager;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * KIP-903 on the leader: the ISR expansion a caught-up follower triggers names, for that follower, the broker
 * epoch its fetch carried (not the one the metadata has), so the controller can refuse a replica whose broker
 * restarted since (INELIGIBLE_REPLICA).
 */
class IsrExpansionBrokerEpochTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final TopicMetadata TOPIC = new TopicMetadata("t", UUID.randomUUID(), 1, (short) 2, Map.of());

    @TempDir
    Path dir;

    private final MockTime time = new MockTime();
    private LogManager logs;
    private final List<Map<Integer, Long>> sentEpochs = new ArrayList<>();
    private final List<List<Integer>> sentIsrs = new ArrayList<>();

    @AfterEach
    void close() {
        logs.close();
    }

    @Test
    void shouldNameTheBrokerEpochTheFollowerFetchedWithInTheExpansion() {
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, dir.toString()));
        TopicConfigs topicConfigs = new TopicConfigs(config);
        logs = LogManager.open(dir, topicConfigs.defaultLogConfig(), Map.of(), time);
        ReplicaManager rm = new ReplicaManager(0, logs, topicConfigs, time);
        rm.setAlterPartitionSender(new AlterPartitionSender() {
            @Override
            public CompletableFuture<PartitionState> submit(TopicPartition tp, int leaderEpoch, int partitionEpoch,
                                                            List<Integer> newIsr) {
                throw new AssertionError("the leader names its followers' fetched broker epochs");
            }

            @Override
            public CompletableFuture<PartitionState> submit(TopicPartition tp, int leaderEpoch, int partitionEpoch,
                                                            List<Integer> newIsr, Map<Integer, Long> memberEpochs) {
                sentIsrs.add(newIsr);
                sentEpochs.add(memberEpochs);
                return new CompletableFuture<>();
            }
        });
        rm.hostPartition(TOPIC, 0, List.of(0, 1), new PartitionState(0, 0, List.of(0), 1, 0));
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        for (int i = 0; i < 3; i++) {
            b.append(1L, null, new byte[10]);
        }
        assertEquals(Errors.NONE, rm.appendAsLeader(TP, Records.wrap(b.build()), (short) 1).error());

        // follower 1 fetches at the log end (the high watermark) under broker epoch 42
        ReplicaManager.ReadResult r = rm.readForFollower(TP, new ReplicaManager.FollowerFetch(1, 42L, 0, -1, 0), 3,
            1 << 20, true, true);
        assertEquals(Errors.NONE, r.error());
        assertEquals(List.of(List.of(0, 1)), sentIsrs, "the caught-up follower is proposed for the ISR");
        assertEquals(List.of(Map.of(1, 42L)), sentEpochs);
    }
}
