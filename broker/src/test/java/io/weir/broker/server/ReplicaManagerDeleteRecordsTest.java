package io.weir.broker.server;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.testing.MockTime;
import io.weir.log.LogConfig;
import io.weir.log.LogManager;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** DeleteRecords through the replica manager: the new log start is durable at once, even across a crash. */
class ReplicaManagerDeleteRecordsTest {
    @TempDir
    Path dir;

    @Test
    void logStartShouldSurviveACrashRightAfterDeleteRecords() {
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, dir.toString()));
        TopicConfigs topicConfigs = new TopicConfigs(config);
        TopicMetadata topic = new TopicMetadata("t", UUID.randomUUID(), 1, (short) 1,
            Map.of(LogConfig.SEGMENT_BYTES, "300"));
        MockTime time = new MockTime();
        LogManager logs = LogManager.open(dir, topicConfigs.defaultLogConfig(), Map.of(), time);
        ReplicaManager rm = new ReplicaManager(0, logs, topicConfigs);
        rm.hostTopic(topic);
        TopicPartition tp = new TopicPartition("t", 0);
        for (int i = 0; i < 10; i++) {
            Records batch = Records.wrap(new RecordBatchBuilder(CompressionType.NONE)
                .append(1L, ("k" + i).getBytes(), new byte[60]).build());
            assertEquals(Errors.NONE, rm.appendAsLeader(tp, batch, (short) 1).error());
        }
        ReplicaManager.DeleteRecordsResult r = rm.deleteRecords(tp, 7);
        assertEquals(Errors.NONE, r.error());
        assertEquals(7, r.lowWatermark());
        long firstSegment = rm.partition(tp).log().segments().get(0).baseOffset();
        assertEquals(true, firstSegment < 7, "the segment holding offset 7 starts below it: " + firstSegment);

        logs.halt(); // kill -9: no close, no checkpoint at shutdown

        LogManager reopened = LogManager.open(dir, topicConfigs.defaultLogConfig(),
            Map.of(tp, topicConfigs.logConfig(topic.configs())), time);
        try {
            assertEquals(7, reopened.getLog(tp).logStartOffset());
        } finally {
            reopened.close();
        }
    }
}
