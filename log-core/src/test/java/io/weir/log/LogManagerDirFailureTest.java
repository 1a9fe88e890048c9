package io.weir.log;

import io.weir.common.TopicPartition;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.weir.common.testing.Batches.records;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A log manager over two directories, one of which fails: the failure is reported once to the
 * {@link LogDirFailureChannel}, the directory's logs leave the served set, new logs go to the other directory,
 * and nothing more is written there, so the next start recovers it.
 */
class LogManagerDirFailureTest {
    private final Path root = TempDirs.create("logdir-failure");
    private final Path a = root.resolve("a");
    private final Path b = root.resolve("b");
    private final MockTime time = new MockTime();

    @AfterEach
    void cleanUp() {
        TempDirs.delete(root);
    }

    private LogManager open() {
        return LogManager.open(List.of(a, b), LogConfig.defaults(), Map.of(), time, false);
    }

    private static TopicPartition tp(int p) {
        return new TopicPartition("orders", p);
    }

    @Test
    void shouldReportADirectoryWhoseCheckpointsCannotBeWrittenAndKeepCheckpointingTheOther() throws Exception {
        Path moved = root.resolve("b.failed");
        try (LogManager lm = open()) {
            lm.getOrCreateLog(tp(0), LogConfig.defaults()).appendAsLeader(records(1L, "x"), 0);
            lm.getOrCreateLog(tp(1), LogConfig.defaults()).appendAsLeader(records(1L, "y"), 0);
            assertEquals(b, lm.logDirOf(tp(1)));
            Files.move(b, moved, StandardCopyOption.ATOMIC_MOVE); // the disk is gone

            assertEquals(1, lm.doCheckpoint(), "a's entry written");
            assertTrue(lm.isOffline(b));
            assertFalse(lm.isOffline(a));
            assertEquals(List.of(a), lm.onlineLogDirs());
            assertEquals(b, lm.failureChannel().pollNextOfflineLogDir(0, TimeUnit.MILLISECONDS));
            lm.doCheckpoint();
            assertNull(lm.failureChannel().pollNextOfflineLogDir(0, TimeUnit.MILLISECONDS), "reported once");
            assertTrue(Files.readString(a.resolve(LogManager.RECOVERY_POINT_CHECKPOINT)).contains("orders 0 "));
        }
        assertTrue(Files.exists(a.resolve(LogManager.CLEAN_SHUTDOWN_FILE)));
    }

    @Test
    void shouldTakeAFailedDirectoryOutOfServiceAndRecoverItAtTheNextStart() throws Exception {
        try (LogManager lm = open()) {
            lm.getOrCreateLog(tp(0), LogConfig.defaults()).appendAsLeader(records(1L, "x"), 0);
            Log inB = lm.getOrCreateLog(tp(1), LogConfig.defaults());
            inB.appendAsLeader(records(1L, "y", "z"), 0);
            assertEquals(b, lm.logDirOf(tp(1)));
            lm.doCheckpoint();
            String bCheckpoint = Files.readString(b.resolve(LogManager.RECOVERY_POINT_CHECKPOINT));
            assertTrue(bCheckpoint.contains("orders 1 "), bCheckpoint);
            lm.reportFailure(b, "a test's failed disk", new java.io.IOException("Input/output error"));

            assertEquals(List.of(tp(1)), lm.takeOffline(b));
            assertNull(lm.getLog(tp(1)));
            assertEquals(1, lm.allLogs().size());
            // new logs go to the directory still online, even where the failed one has fewer logs
            lm.getOrCreateLog(tp(2), LogConfig.defaults());
            assertEquals(a, lm.logDirOf(tp(2)));
            lm.doCheckpoint();
            assertEquals(bCheckpoint, Files.readString(b.resolve(LogManager.RECOVERY_POINT_CHECKPOINT)),
                "nothing written in b again");
        }
        assertTrue(Files.exists(a.resolve(LogManager.CLEAN_SHUTDOWN_FILE)));
        assertFalse(Files.exists(b.resolve(LogManager.CLEAN_SHUTDOWN_FILE)), "b is recovered at the next start");

        try (LogManager lm = open()) {
            assertFalse(lm.hadCleanShutdown());
            assertEquals(b, lm.logDirOf(tp(1)));
            assertEquals(2, lm.getLog(tp(1)).logEndOffset(), "what b held before it failed");
            assertEquals(1, lm.getLog(tp(0)).logEndOffset());
        }
    }

    @Test
    void shouldRefuseNewLogsWhenEveryDirectoryFailed() {
        try (LogManager lm = open()) {
            lm.takeOffline(a);
            lm.takeOffline(b);
            assertTrue(lm.onlineLogDirs().isEmpty());
            assertThrows(io.weir.common.errors.StorageException.class,
                () -> lm.getOrCreateLog(tp(0), LogConfig.defaults()));
        }
    }

    @Test
    void shouldReportADirectoryWhereRetentionCannotRenameASegment() throws Exception {
        try (LogManager lm = open()) {
            lm.getOrCreateLog(tp(0), LogConfig.defaults());
            Log log = lm.getOrCreateLog(tp(1), LogConfig.defaults().with(Map.of(LogConfig.SEGMENT_BYTES, "200",
                LogConfig.RETENTION_MS, "1000")));
            assertEquals(b, lm.logDirOf(tp(1)));
            for (int i = 0; i < 10; i++) {
                log.appendAsLeader(records(time.milliseconds(), "value-" + i), 0);
            }
            assertTrue(log.numberOfSegments() > 2, "segments: " + log.numberOfSegments());
            // the oldest segment's file cannot be renamed for deletion: its new name is taken by a directory
            Path oldest;
            try (var files = Files.list(log.dir())) {
                oldest = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().findFirst().orElseThrow();
            }
            Files.createDirectories(oldest.resolveSibling(oldest.getFileName() + Log.DELETED_SUFFIX).resolve("taken"));
            time.sleep(10_000);

            lm.doRetention(time.milliseconds());
            assertTrue(lm.isOffline(b), "a failed rename is an I/O error of its directory");
            assertFalse(lm.isOffline(a));
            assertEquals(b, lm.failureChannel().pollNextOfflineLogDir(0, TimeUnit.MILLISECONDS));
        }
    }
}
