package io.weir.log;

import io.weir.common.TopicPartition;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.weir.common.testing.Batches.records;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A log manager over several {@code log.dirs} (JBOD): placement, restart, per-directory files. */
class LogManagerLogDirsTest {
    private final Path root = TempDirs.create("logdirs");
    private final Path a = root.resolve("a");
    private final Path b = root.resolve("b");
    private final Path c = root.resolve("c");
    private final MockTime time = new MockTime();

    @AfterEach
    void cleanUp() {
        TempDirs.delete(root);
    }

    private LogManager open(List<Path> dirs) {
        return LogManager.open(dirs, LogConfig.defaults(), Map.of(), time, false);
    }

    private static TopicPartition tp(int p) {
        return new TopicPartition("orders", p);
    }

    @Test
    void shouldPlaceEachNewLogInTheDirectoryWithFewestLogsFirstListedOnTie() throws Exception {
        Files.createDirectories(b.resolve("old-0")); // b starts with one log
        try (LogManager lm = open(List.of(a, b, c))) {
            assertEquals(List.of(a, b, c), lm.logDirs());
            assertEquals(a, lm.logDir());
            assertEquals(b, lm.logDirOf(new TopicPartition("old", 0)));
            lm.getOrCreateLog(tp(0), LogConfig.defaults());
            lm.getOrCreateLog(tp(1), LogConfig.defaults());
            lm.getOrCreateLog(tp(2), LogConfig.defaults());
            lm.getOrCreateLog(tp(3), LogConfig.defaults());
            lm.getOrCreateLog(tp(4), LogConfig.defaults());
            // a:0 b:1 c:0 -> a; a:1 b:1 c:0 -> c; then all tied at 1 -> a, b
            assertEquals(a, lm.logDirOf(tp(0)));
            assertEquals(c, lm.logDirOf(tp(1)));
            assertEquals(a, lm.logDirOf(tp(2)));
            assertEquals(b, lm.logDirOf(tp(3)));
            assertEquals(c, lm.logDirOf(tp(4)));
            assertTrue(Files.isDirectory(c.resolve("orders-4")));
            assertNull(lm.logDirOf(tp(9)));
            // an existing log stays where it is
            assertEquals(lm.getLog(tp(0)), lm.getOrCreateLog(tp(0), LogConfig.defaults()));
            assertEquals(a, lm.logDirOf(tp(0)));
        }
    }

    @Test
    void shouldReopenLogsOfEveryDirectoryWithTheirOwnCheckpointsAndMarkers() throws Exception {
        try (LogManager lm = open(List.of(a, b))) {
            lm.getOrCreateLog(tp(0), LogConfig.defaults()).appendAsLeader(records(1, "x", "y"), 0);
            lm.getOrCreateLog(tp(1), LogConfig.defaults()).appendAsLeader(records(1, "z"), 0);
            assertEquals(a, lm.logDirOf(tp(0)));
            assertEquals(b, lm.logDirOf(tp(1)));
        }
        for (Path d : List.of(a, b)) {
            assertTrue(Files.exists(d.resolve(LogManager.CLEAN_SHUTDOWN_FILE)), d.toString());
            assertTrue(Files.exists(d.resolve(LogManager.LOG_START_OFFSET_CHECKPOINT)), d.toString());
        }
        assertEquals("0\n1\norders 0 2\n", Files.readString(a.resolve(LogManager.RECOVERY_POINT_CHECKPOINT)));
        assertEquals("0\n1\norders 1 1\n", Files.readString(b.resolve(LogManager.RECOVERY_POINT_CHECKPOINT)));
        try (LogManager again = open(List.of(a, b))) {
            assertTrue(again.hadCleanShutdown());
            assertFalse(again.wasFreshDirectory());
            assertEquals(2, again.getLog(tp(0)).logEndOffset());
            assertEquals(1, again.getLog(tp(1)).logEndOffset());
            assertEquals(b, again.logDirOf(tp(1)));
            assertFalse(Files.exists(b.resolve(LogManager.CLEAN_SHUTDOWN_FILE)));
        }
    }

    @Test
    void shouldRecoverOnlyTheDirectoryThatLostItsMarker() throws Exception {
        try (LogManager lm = open(List.of(a, b))) {
            lm.getOrCreateLog(tp(0), LogConfig.defaults()).appendAsLeader(records(1, "x"), 0);
            lm.getOrCreateLog(tp(1), LogConfig.defaults()).appendAsLeader(records(1, "y"), 0);
        }
        // b's recovery point says nothing was flushed and its marker is gone: its log is re-validated,
        // and the torn tail cut; a's log is trusted as closed
        Files.delete(b.resolve(LogManager.CLEAN_SHUTDOWN_FILE));
        Files.writeString(b.resolve(LogManager.RECOVERY_POINT_CHECKPOINT), "0\n1\norders 1 0\n");
        Path seg = b.resolve("orders-1").resolve("00000000000000000000.log");
        try (RandomAccessFile raf = new RandomAccessFile(seg.toFile(), "rw")) {
            raf.setLength(raf.length() - 3);
        }
        try (LogManager again = open(List.of(a, b))) {
            assertFalse(again.hadCleanShutdown());
            assertFalse(again.getLog(tp(0)).recoveryReport().recovered());
            assertTrue(again.getLog(tp(1)).recoveryReport().recovered());
            assertEquals(0, again.getLog(tp(1)).logEndOffset());
            assertEquals(1, again.getLog(tp(0)).logEndOffset());
        }
    }

    @Test
    void shouldRefuseAPartitionFoundInTwoDirectoriesAndReleaseEveryLock() throws Exception {
        try (LogManager lm = open(List.of(a, b))) {
            lm.getOrCreateLog(tp(0), LogConfig.defaults()).appendAsLeader(records(1, "x"), 0);
        }
        Files.createDirectories(b.resolve("orders-0"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> open(List.of(a, b)));
        assertTrue(e.getMessage().contains("orders-0") && e.getMessage().contains(a.resolve("orders-0").toAbsolutePath()
            .toString()) && e.getMessage().contains(b.resolve("orders-0").toAbsolutePath().toString()), e.getMessage());
        // nothing kept: with the stray copy gone the same directories open again
        Files.delete(b.resolve("orders-0"));
        try (LogManager again = open(List.of(a, b))) {
            assertEquals(1, again.getLog(tp(0)).logEndOffset());
        }
    }

    @Test
    void shouldKeepAnUnfinishedFutureCopyBesideTheCurrentLogForTheBrokerToResume() throws Exception {
        try (LogManager lm = open(List.of(a, b))) {
            lm.getOrCreateLog(tp(0), LogConfig.defaults()).appendAsLeader(records(1, "x"), 0);
        }
        Path future = b.resolve("orders-0.6c2f0b8a4d1e4b7f9a3c5d2e1f0a9b8c-future");
        Files.createDirectories(future);
        Files.writeString(future.resolve("00000000000000000000.log"), "torn");
        Path sameDir = a.resolve("orders-0.00000000000000000000000000000000-future");
        Files.createDirectories(sameDir);
        try (LogManager again = open(List.of(a, b))) {
            assertEquals(a, again.logDirOf(tp(0)));
            assertEquals(1, again.getLog(tp(0)).logEndOffset());
            assertEquals(1, again.allLogs().size(), "the copy is no log of the manager's");
            assertEquals(Map.of(tp(0), future), again.futureLogDirsFound());
            assertTrue(Files.exists(future));
            assertFalse(Files.exists(sameDir), "a copy in the log's own directory is no move");
        }
    }

    @Test
    void shouldSwapInACompleteFutureCopyAndKeepTheOriginalForReadsInFlight() throws Exception {
        Path future;
        try (LogManager lm = open(List.of(a, b))) {
            Log log = lm.getOrCreateLog(tp(0), LogConfig.defaults());
            log.assignLeaderEpoch(2);
            log.appendAsLeader(records(1, "x", "y"), 2);
            log.appendAsLeader(io.weir.common.testing.Batches.idempotent(9, (short) 0, 0, 1, "z"), 2);
            future = lm.newFutureLogDir(tp(0), b);
            assertTrue(future.getFileName().toString().startsWith("orders-0.")
                && future.getFileName().toString().endsWith(LogManager.FUTURE_DIR_SUFFIX), future.toString());
            assertThrows(IllegalArgumentException.class, () -> lm.newFutureLogDir(tp(0), c));
            Log copy = Log.open(future, tp(0), LogConfig.defaults(), 0, 0, true, time);
            copy.appendAsFollower(log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true).records().readRecords());
            assertThrows(IllegalStateException.class, () -> lm.replaceCurrentWithFuture(tp(0), copy),
                "only with the duties paused");
            LogManager.ReplacedLog replaced = lm.withDutiesPaused(() -> lm.replaceCurrentWithFuture(tp(0), copy));
            assertEquals(b, lm.logDirOf(tp(0)));
            assertEquals(replaced.log(), lm.getLog(tp(0)));
            assertFalse(Files.exists(future));
            assertTrue(Files.isDirectory(replaced.oldDir()), "the original stays until its reads are done");
            assertTrue(replaced.oldDir().getFileName().toString().endsWith(LogManager.DELETE_DIR_SUFFIX));
            assertEquals(3, replaced.log().logEndOffset());
            assertEquals(2, replaced.log().latestLeaderEpoch());
            assertEquals(9, replaced.log().activeProducers().get(0).producerId());
            assertEquals(2, log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true).records().readRecords()
                .iterator().next().recordCount(), "the old log still reads its first batch");
            log.releaseRenamedAway();
            LogManager.deleteDirectory(replaced.oldDir());
            assertFalse(Files.exists(a.resolve("orders-0")));
        }
        try (LogManager again = open(List.of(a, b))) {
            assertEquals(b, again.logDirOf(tp(0)));
            assertEquals(3, again.getLog(tp(0)).logEndOffset());
            assertFalse(again.getLog(tp(0)).recoveryReport().recovered());
        }
    }

    @Test
    void shouldFinishAMoveCutShortAfterTheOriginalWasRenamed() throws Exception {
        try (LogManager lm = open(List.of(a, b))) {
            lm.getOrCreateLog(tp(0), LogConfig.defaults()).appendAsLeader(records(1, "x", "y"), 0);
        }
        // the state a crash leaves between the two renames: a complete copy and the renamed original
        String id = "0123456789abcdef0123456789abcdef";
        Path future = b.resolve("orders-0." + id + "-future");
        Files.createDirectories(future);
        try (var files = Files.list(a.resolve("orders-0"))) {
            for (Path f : files.toList()) {
                Files.copy(f, future.resolve(f.getFileName()));
            }
        }
        Files.move(a.resolve("orders-0"), a.resolve("orders-0." + id + "-delete"));
        try (LogManager again = open(List.of(a, b))) {
            assertEquals(b, again.logDirOf(tp(0)));
            assertEquals(2, again.getLog(tp(0)).logEndOffset());
            assertFalse(Files.exists(future));
            assertFalse(Files.exists(a.resolve("orders-0." + id + "-delete")));
        }
    }

    @Test
    void shouldDeleteACopyWithoutItsLogWhoseSwapHadNotBegun() throws Exception {
        try (LogManager lm = open(List.of(a, b))) {
            lm.getOrCreateLog(tp(0), LogConfig.defaults()).appendAsLeader(records(1, "x", "y"), 0);
            // a move's copy, then the topic deleted: the copy outlives the log (no -delete original: no swap began)
            Path future = lm.newFutureLogDir(tp(0), b);
            Log copy = Log.open(future, tp(0), LogConfig.defaults(), 0, 0, true, time);
            copy.appendAsFollower(lm.getLog(tp(0)).read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true).records()
                .readRecords());
            copy.close();
            assertTrue(lm.deleteLog(tp(0)));
        }
        try (LogManager again = open(List.of(a, b))) {
            assertEquals(null, again.getLog(tp(0)), "the deleted topic's data does not come back");
            assertEquals(Map.of(), again.futureLogDirsFound());
            try (var s = Files.list(b)) {
                assertEquals(List.of(), s.filter(f -> f.getFileName().toString().startsWith("orders-0")).toList());
            }
        }
    }

    @Test
    void shouldRefuseADirectoryListedTwice() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> open(List.of(a, b, root.resolve("x").resolve("..").resolve("a"))));
        assertTrue(e.getMessage().contains("twice") && e.getMessage().contains(a.toAbsolutePath().toString()),
            e.getMessage());
    }

    @Test
    void shouldReleaseTheFirstLockWhenALaterDirectoryIsInUse() {
        try (LogManager other = open(List.of(b))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> open(List.of(a, b)));
            assertTrue(e.getMessage().contains(b.toAbsolutePath().toString()), e.getMessage());
            try (LogManager onlyA = open(List.of(a))) {
                assertEquals(List.of(a), onlyA.logDirs());
            }
        }
    }

    @Test
    void shouldDeleteALogFromItsOwnDirectory() {
        try (LogManager lm = open(List.of(a, b))) {
            lm.getOrCreateLog(tp(0), LogConfig.defaults());
            lm.getOrCreateLog(tp(1), LogConfig.defaults());
            assertTrue(lm.deleteLog(tp(1)));
            assertFalse(Files.exists(b.resolve("orders-1")));
            assertTrue(Files.exists(a.resolve("orders-0")));
            // b is emptiest again
            lm.getOrCreateLog(tp(2), LogConfig.defaults());
            assertEquals(b, lm.logDirOf(tp(2)));
        }
    }
}
