package io.weir.log;

import io.weir.common.TopicPartition;
import io.weir.common.config.ConfigException;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.internals.CheckpointFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.weir.common.testing.Batches.records;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogManagerTest {
    private final Path root = TempDirs.create("manager");
    private final MockTime time = new MockTime();
    private final TopicPartition tp = new TopicPartition("orders", 3);

    @AfterEach
    void cleanUp() {
        TempDirs.delete(root);
    }

    @Test
    void shouldRoundTripCheckpointFileAndRejectMalformedOne() throws Exception {
        CheckpointFile f = new CheckpointFile(root.resolve("cp"));
        Map<TopicPartition, Long> m = new LinkedHashMap<>();
        m.put(tp, 42L);
        m.put(new TopicPartition("my-topic", 0), 7L);
        f.write(m);
        assertEquals("0\n2\norders 3 42\nmy-topic 0 7\n", Files.readString(root.resolve("cp")));
        assertEquals(m, f.read());
        Files.writeString(root.resolve("cp"), "0\n3\norders 3 42\n");
        assertThrows(IOException.class, f::read);
    }

    @Test
    void shouldSkipRecoveryAfterCleanShutdownAndDeleteMarker() throws Exception {
        LogManager lm = LogManager.open(root, LogConfig.defaults(), Map.of(), time);
        assertFalse(lm.hadCleanShutdown());
        Log log = lm.getOrCreateLog(tp, LogConfig.defaults());
        log.appendAsLeader(records(1, "a", "b"), 0);
        lm.close();
        assertTrue(Files.exists(root.resolve(LogManager.CLEAN_SHUTDOWN_FILE)));
        assertTrue(Files.readString(root.resolve(LogManager.RECOVERY_POINT_CHECKPOINT)).contains("orders 3 2"));
        LogManager again = LogManager.open(root, LogConfig.defaults(), Map.of(), time);
        assertTrue(again.hadCleanShutdown());
        assertFalse(Files.exists(root.resolve(LogManager.CLEAN_SHUTDOWN_FILE)));
        assertFalse(again.getLog(tp).recoveryReport().recovered());
        assertEquals(2, again.getLog(tp).logEndOffset());
        again.close();
    }

    @Test
    void shouldTellAFreshDirectoryFromARecovery() throws Exception {
        LogManager fresh = LogManager.open(root.resolve("new"), LogConfig.defaults(), Map.of(), time);
        assertTrue(fresh.wasFreshDirectory());
        assertFalse(fresh.hadCleanShutdown());
        fresh.getOrCreateLog(tp, LogConfig.defaults()).appendAsLeader(records(1, "a"), 0);
        fresh.halt(); // a crash before any checkpoint: the partition directory is there, so this is a recovery
        LogManager crashed = LogManager.open(root.resolve("new"), LogConfig.defaults(), Map.of(), time);
        assertFalse(crashed.wasFreshDirectory());
        assertFalse(crashed.hadCleanShutdown());
        crashed.close();
        LogManager clean = LogManager.open(root.resolve("new"), LogConfig.defaults(), Map.of(), time);
        assertFalse(clean.wasFreshDirectory());
        assertTrue(clean.hadCleanShutdown());
        clean.close();
    }

    @Test
    void shouldRecoverAfterCrashKeepingFlushedData() throws Exception {
        LogManager lm = LogManager.open(root, LogConfig.defaults(), Map.of(), time);
        Log log = lm.getOrCreateLog(tp, LogConfig.defaults());
        log.appendAsLeader(records(1, "a"), 0);
        log.flush();
        assertEquals(1, lm.doCheckpoint());
        log.appendAsLeader(records(1, "b"), 0);
        lm.halt(); // crash: no close; then the unflushed tail is torn
        Path seg = root.resolve("orders-3").resolve("00000000000000000000.log");
        try (RandomAccessFile raf = new RandomAccessFile(seg.toFile(), "rw")) {
            raf.setLength(raf.length() - 3);
        }
        LogManager again = LogManager.open(root, LogConfig.defaults(), Map.of(), time);
        assertFalse(again.hadCleanShutdown());
        Log recovered = again.getLog(tp);
        assertTrue(recovered.recoveryReport().recovered());
        assertEquals(1, recovered.logEndOffset());
        assertEquals(1, recovered.recoveryPoint());
        again.close();
    }

    @Test
    void shouldRefuseASecondManagerOnALockedDirectory() {
        LogManager lm = LogManager.open(root, LogConfig.defaults(), Map.of(), time);
        lm.getOrCreateLog(tp, LogConfig.defaults()).appendAsLeader(records(1, "a"), 0);
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> LogManager.open(root, LogConfig.defaults(), Map.of(), time));
        assertTrue(e.getMessage().contains(root.toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains(LogManager.LOCK_FILE), e.getMessage());
        // the refused manager touched nothing: the first one still owns a working log
        assertEquals(1, lm.getLog(tp).appendAsLeader(records(1, "b"), 0).firstOffset());
        lm.close();
        LogManager next = LogManager.open(root, LogConfig.defaults(), Map.of(), time);
        assertTrue(next.hadCleanShutdown(), "close() released the lock");
        assertEquals(2, next.getLog(tp).logEndOffset());
        next.halt();
        LogManager afterHalt = LogManager.open(root, LogConfig.defaults(), Map.of(), time);
        assertFalse(afterHalt.hadCleanShutdown());
        afterHalt.close();
    }

    @Test
    void shouldRunDutiesAndDeleteLogs() {
        LogConfig cfg = LogConfig.fromMap(Map.of(LogConfig.SEGMENT_BYTES, "200", LogConfig.RETENTION_MS, "1000",
            LogConfig.FLUSH_MS, "10"));
        LogManager lm = LogManager.open(root, cfg, Map.of(), time);
        Log log = lm.getOrCreateLog(tp, cfg);
        for (int i = 0; i < 10; i++) {
            log.appendAsLeader(records(time.milliseconds(), "value-" + i), 0);
        }
        time.advance(100);
        assertEquals(1, lm.doFlush(time.milliseconds()));
        assertEquals(0, lm.doFlush(time.milliseconds()));
        time.advance(5000);
        assertTrue(lm.doRetention(time.milliseconds()) > 0);
        assertEquals(0, lm.doCleaning(time.milliseconds()));
        assertTrue(lm.deleteLog(tp));
        assertFalse(Files.exists(root.resolve("orders-3")));
        lm.close();
    }

    @Test
    void shouldNameTheKeyAndAllowedValuesInConfigErrors() {
        ConfigException e = assertThrows(ConfigException.class,
            () -> LogConfig.fromMap(Map.of(LogConfig.CLEANUP_POLICY, "shred")));
        assertTrue(e.getMessage().contains("cleanup.policy") && e.getMessage().contains("delete, compact"));
        assertThrows(ConfigException.class, () -> LogConfig.fromMap(Map.of(LogConfig.RETENTION_MS, "-5")));
        LogConfig both = LogConfig.fromMap(Map.of(LogConfig.CLEANUP_POLICY, "compact,delete"));
        assertTrue(both.compact && both.delete);
        assertEquals(1024 * 1024 * 1024, LogConfig.defaults().segmentBytes);
    }
    @Test
    void shouldExpireIdleProducersOfEveryLog() {
        LogManager lm = LogManager.open(root, LogConfig.defaults(), Map.of(), time);
        Log a = lm.getOrCreateLog(tp, LogConfig.defaults());
        Log b = lm.getOrCreateLog(new TopicPartition("orders", 4), LogConfig.defaults());
        long t0 = time.milliseconds();
        a.appendAsLeader(io.weir.common.testing.Batches.idempotent(1, (short) 0, 0, t0, "x"), 0);
        b.appendAsLeader(io.weir.common.testing.Batches.idempotent(2, (short) 0, 0, t0, "y"), 0);
        b.appendAsLeader(io.weir.common.testing.Batches.idempotent(3, (short) 0, 0, t0 + 100, "z"), 0);
        assertEquals(2, lm.doProducerIdExpiration(t0 + 100, 100));
        assertTrue(a.activeProducers().isEmpty());
        assertEquals(3, b.activeProducers().get(0).producerId());
        assertEquals(1, b.activeProducers().size());
        lm.close();
    }
}
