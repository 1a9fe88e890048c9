package io.weir.broker.server;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.LogManager;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The failure handler's duty cycle over a real replica manager with two log directories, driven on the test's
 * thread: a failed directory's partitions go offline (KAFKA_STORAGE_ERROR, never hosted again), the others keep
 * serving, the controller is told (again after a failed report, and again under a new broker epoch), and with
 * every directory failed the broker is asked to stop.
 */
class LogDirFailureHandlerTest {
    private static final TopicMetadata TOPIC = new TopicMetadata("t", UUID.randomUUID(), 2, (short) 1,
        Map.of("segment.bytes", "100"));
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);

    private final Path root = TempDirs.create("logdir-failure-handler");
    private final Path a = root.resolve("a");
    private final Path b = root.resolve("b");
    private final MockTime time = new MockTime();
    private LogManager logs;

    /** What the handler reported: broker epoch, directories, partitions. */
    private record Report(long epoch, List<Path> dirs, Set<TopicPartition> partitions) {
    }

    @AfterEach
    void cleanUp() {
        if (logs != null) {
            logs.close();
        }
        TempDirs.delete(root);
    }

    private static Records batch(String value) {
        return Records.wrap(new RecordBatchBuilder(CompressionType.NONE)
            .append(1L, null, value.getBytes(StandardCharsets.UTF_8)).build());
    }

    @Test
    void shouldTakeTheFailedDirectoryOfflineTellTheControllerAndStopWhenNoneIsLeft() throws Exception {
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, a + "," + b));
        TopicConfigs topicConfigs = new TopicConfigs(config);
        logs = LogManager.open(List.of(a, b), topicConfigs.defaultLogConfig(), Map.of(), time, false);
        ReplicaManager rm = new ReplicaManager(0, logs, topicConfigs, time);
        rm.hostTopic(TOPIC);
        assertEquals(a, logs.logDirOf(P0));
        assertEquals(b, logs.logDirOf(P1));
        assertEquals(Errors.NONE, rm.appendAsLeader(P0, batch("x"), (short) 1).error());
        assertEquals(Errors.NONE, rm.appendAsLeader(P1, batch("y"), (short) 1).error());

        List<Report> reports = new ArrayList<>();
        AtomicLong brokerEpoch = new AtomicLong(5);
        AtomicInteger refuse = new AtomicInteger();
        AtomicBoolean stopped = new AtomicBoolean();
        LogDirFailureHandler handler = new LogDirFailureHandler(rm, brokerEpoch::get, (epoch, dirs, partitions) -> {
            if (refuse.getAndDecrement() > 0) {
                throw new IllegalStateException("ZooKeeper is away");
            }
            reports.add(new Report(epoch, dirs, partitions));
        }, () -> stopped.set(true));
        assertEquals(0, handler.doWork(0));
        assertTrue(reports.isEmpty(), "nothing failed, nothing reported");

        // a real fault: the directory is gone, the next append rolls and cannot create the segment
        Path moved = root.resolve("b.failed");
        Files.move(b, moved, StandardCopyOption.ATOMIC_MOVE);
        assertEquals(Errors.KAFKA_STORAGE_ERROR, rm.appendAsLeader(P1, batch("lost"), (short) 1).error());
        assertTrue(logs.isOffline(b));
        refuse.set(1);
        assertEquals(1, handler.doWork(0));
        assertTrue(reports.isEmpty(), "the first report failed");
        assertTrue(rm.isOffline(P1));
        assertNull(rm.partition(P1));
        assertNull(logs.getLog(P1));
        assertEquals(Errors.KAFKA_STORAGE_ERROR, rm.appendAsLeader(P1, batch("refused"), (short) 1).error());
        assertEquals(Errors.KAFKA_STORAGE_ERROR, rm.read(P1, 0, 1 << 20, true, false).error());
        assertEquals(Errors.KAFKA_STORAGE_ERROR, rm.validateLeader(P1, -1));
        assertEquals(Errors.NONE, rm.appendAsLeader(P0, batch("x2"), (short) 1).error(), "a keeps serving");
        assertEquals(2, rm.read(P0, 0, 1 << 20, true, false).highWatermark());

        handler.doWork(0);
        assertEquals(List.of(new Report(5, List.of(b), Set.of(P1))), reports, "retried");
        handler.doWork(0);
        assertEquals(1, reports.size(), "reported once per broker epoch");
        brokerEpoch.set(9); // registered again (a new ZooKeeper session): the ephemeral report is gone
        handler.doWork(0);
        assertEquals(new Report(9, List.of(b), Set.of(P1)), reports.get(1));

        // the controller's state of an offline partition is not applied, and no empty log replaces it
        rm.hostPartition(TOPIC, 1, List.of(0), new PartitionState(0, 1, List.of(0), 1, 1));
        assertNull(rm.partition(P1));
        assertNull(logs.getLog(P1));
        assertFalse(Files.exists(a.resolve(P1.dirName())));

        assertFalse(stopped.get());
        Files.move(a, root.resolve("a.failed"), StandardCopyOption.ATOMIC_MOVE);
        assertEquals(Errors.KAFKA_STORAGE_ERROR, rm.appendAsLeader(P0, batch("lost"), (short) 1).error());
        assertEquals(1, handler.doWork(0));
        assertTrue(stopped.get(), "every directory failed: the broker stops");
        assertTrue(handler.allLogDirsFailed());
        assertTrue(rm.isOffline(P0));
        assertEquals(2, reports.size(), "no report once the broker stops");
    }
}
