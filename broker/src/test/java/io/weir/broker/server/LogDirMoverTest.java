package io.weir.broker.server;

import io.weir.common.TopicPartition;
import io.weir.common.errors.StorageException;
import io.weir.common.testing.Batches;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.Log;
import io.weir.log.LogConfig;
import io.weir.log.LogManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LogDirMover} driven on the test's thread with a mock clock: the throttle spreads the copy over
 * passes, appends and truncations of the current log during the copy end up in the moved log, and the
 * replaced log's files go after {@code file.delete.delay.ms}.
 */
class LogDirMoverTest {
    private static final TopicPartition TP = new TopicPartition("orders", 0);

    private final Path root = TempDirs.create("mover");
    private final Path a = root.resolve("a");
    private final Path b = root.resolve("b");
    private final MockTime time = new MockTime();
    private final AtomicInteger swapped = new AtomicInteger();
    private LogManager logManager;
    private Partition partition;
    private LogDirMover mover;

    @BeforeEach
    void setUp() {
        logManager = LogManager.open(List.of(a, b), LogConfig.defaults(), Map.of(), time, false);
        Log log = logManager.getOrCreateLog(TP, LogConfig.defaults().with(Map.of(LogConfig.SEGMENT_BYTES, "1024")));
        partition = new Partition(TP, UUID.randomUUID(), log, 0, 1, -1);
        partition.leadAlone();
        mover = new LogDirMover(logManager, tp -> tp.equals(TP) ? partition : null, time, tp -> swapped.incrementAndGet());
        mover.setPausedForTest(true); // its thread runs no pass: the test calls doWork
    }

    @AfterEach
    void tearDown() {
        mover.close();
        logManager.close();
        TempDirs.delete(root);
    }

    private void append(String prefix, int count) {
        for (int i = 0; i < count; i++) {
            String v = prefix + i;
            partition.underRoleReadLock(() -> partition.log().appendAsLeader(Batches.records(time.milliseconds(), v), 0));
            partition.maybeIncrementHighWatermark();
        }
    }

    private List<String> values(Log log) throws Exception {
        List<String> out = new ArrayList<>();
        long next = log.logStartOffset();
        while (next < log.logEndOffset()) { // a read returns at most one segment
            for (String d : Batches.describe(log.read(next, Integer.MAX_VALUE, Long.MAX_VALUE, true)
                    .records().readRecords())) {
                out.add(d.substring(d.indexOf('=') + 1));
                next = Long.parseLong(d.substring(0, d.indexOf(':'))) + 1;
            }
        }
        return out;
    }

    /** Passes one second apart until no move is left; returns how many it took. */
    private int finish() {
        int passes = 0;
        while (mover.movesInProgress() > 0) {
            time.sleep(1000);
            mover.doWork(time.milliseconds());
            assertTrue(++passes < 1000, "the move never finished");
        }
        return passes;
    }

    @Test
    void shouldCopyAtTheThrottledRateWhileTheLogTakesAppendsAndSwapOnceCaughtUp() throws Exception {
        append("before-", 40);
        long size = partition.log().sizeInBytes();
        mover.setThrottle(size / 4);
        assertTrue(mover.move(TP, b));
        assertTrue(mover.move(TP, b), "moving there already");
        Log future = mover.futureLog(TP);
        assertNotNull(future);
        assertEquals(b, future.dir().getParent());
        long first = 0;
        for (long n = mover.doWork(time.milliseconds()); n > 0; n = mover.doWork(time.milliseconds())) {
            first += n; // passes at the same instant share one second's allowance
        }
        // one second's worth, and at most one batch more (a step copies at least one whole batch)
        assertTrue(first > 0 && first < size / 2, "one second's worth of " + size + " bytes: " + first);
        assertEquals(0, mover.doWork(time.milliseconds()), "the allowance is spent until time passes");
        assertSame(future, mover.futureLog(TP));
        long copied = future.logEndOffset();
        assertTrue(copied > 0 && copied < 40, "copied " + copied);

        append("during-", 20); // the log keeps taking writes while its copy is behind
        int passes = finish();
        assertTrue(passes >= 3, "the throttle spread the copy over passes: " + passes);
        assertEquals(1, swapped.get());
        Log moved = partition.log();
        assertSame(moved, logManager.getLog(TP));
        assertEquals(b.resolve(TP.dirName()), moved.dir());
        assertEquals(60, moved.logEndOffset());
        assertEquals(60, partition.highWatermark());
        assertEquals(moved.logEndOffsetMetadata(), partition.highWatermarkMetadata(), "located in the moved log");
        assertEquals(0, moved.latestLeaderEpoch());
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            expected.add("before-" + i);
        }
        for (int i = 0; i < 20; i++) {
            expected.add("during-" + i);
        }
        assertEquals(expected, values(moved));
        assertTrue(moved.numberOfSegments() > 1);
        append("after-", 1);
        assertEquals(61, moved.logEndOffset(), "appends go to the moved log");

        // the original stays, renamed, for reads in flight until file.delete.delay.ms has passed
        List<Path> deleted;
        try (var s = Files.list(a)) {
            deleted = s.filter(p -> p.getFileName().toString().endsWith(LogManager.DELETE_DIR_SUFFIX)).toList();
        }
        assertEquals(1, deleted.size());
        assertFalse(Files.exists(a.resolve(TP.dirName())));
        time.sleep(LogConfig.defaults().fileDeleteDelayMs);
        mover.doWork(time.milliseconds());
        assertFalse(Files.exists(deleted.get(0)));
    }

    @Test
    void shouldCutTheCopyWhereTheCurrentLogWasTruncated() throws Exception {
        append("kept-", 10);
        append("cut-", 10);
        mover.setThrottle(Long.MAX_VALUE);
        assertTrue(mover.move(TP, b));
        while (mover.copyStep(TP, Integer.MAX_VALUE) > 0) {
            // a step reads at most one segment
        }
        assertEquals(20, mover.futureLog(TP).logEndOffset());
        // a follower's truncation: the current log first, then (as ReplicaManager does) the copy
        partition.log().truncateTo(10);
        mover.truncated(TP, 10);
        assertEquals(10, mover.futureLog(TP).logEndOffset());
        append("new-", 5);
        finish();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            expected.add("kept-" + i);
        }
        for (int i = 0; i < 5; i++) {
            expected.add("new-" + i);
        }
        assertEquals(expected, values(partition.log()));
        assertEquals(b, logManager.logDirOf(TP));
    }

    @Test
    void shouldResumeAfterACrashFromTheCopyCutAtItsLastWholeBatch() throws Exception {
        append("v-", 30);
        assertTrue(mover.move(TP, b));
        for (int i = 0; i < 2; i++) {
            assertTrue(mover.copyStep(TP, 300) > 0);
        }
        Path copy = mover.futureLog(TP).dir();
        long copied = mover.futureLog(TP).logEndOffset();
        assertTrue(copied > 0 && copied < 30, "copied " + copied);
        mover.close();
        // a crash that tore the copy's last write, then a start: the copy is kept beside the log
        Path lastSegment;
        try (var files = Files.list(copy)) {
            lastSegment = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().reduce((x, y) -> y)
                .orElseThrow();
        }
        Files.write(lastSegment, new byte[] {0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 1}, java.nio.file.StandardOpenOption.APPEND);
        logManager.halt();
        logManager = LogManager.open(List.of(a, b), LogConfig.defaults(), Map.of(), time, false);
        assertEquals(Map.of(TP, copy), logManager.futureLogDirsFound());
        assertEquals(a, logManager.logDirOf(TP));
        partition = new Partition(TP, UUID.randomUUID(), logManager.getLog(TP), 0, 1, -1);
        partition.leadAlone();
        mover = new LogDirMover(logManager, tp -> tp.equals(TP) ? partition : null, time, tp -> swapped.incrementAndGet());
        mover.setPausedForTest(true);
        mover.resume(TP, copy);
        assertEquals(copied, mover.futureLog(TP).logEndOffset(), "the torn bytes are cut, the whole batches kept");
        append("w-", 5);
        finish();
        assertEquals(b, logManager.logDirOf(TP));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            expected.add("v-" + i);
        }
        for (int i = 0; i < 5; i++) {
            expected.add("w-" + i);
        }
        assertEquals(expected, values(partition.log()));
    }

    @Test
    void shouldDeleteACopyFoundWithoutItsLog() throws Exception {
        Path stray = b.resolve("gone-0.0123456789abcdef0123456789abcdef" + LogManager.FUTURE_DIR_SUFFIX);
        Files.createDirectories(stray);
        mover.resume(new TopicPartition("gone", 0), stray);
        assertFalse(Files.exists(stray));
        assertEquals(0, mover.movesInProgress());
    }

    @Test
    void shouldCancelAMoveAndDeleteItsCopy() throws Exception {
        append("x-", 5);
        assertTrue(mover.move(TP, b));
        Path copy = mover.futureLog(TP).dir();
        assertTrue(Files.isDirectory(copy));
        assertTrue(mover.cancel(TP));
        assertFalse(Files.exists(copy));
        assertEquals(0, mover.movesInProgress());
        assertFalse(mover.cancel(TP));
        assertTrue(mover.move(TP, a), "where it is: nothing to do");
        assertEquals(0, mover.movesInProgress());
        assertFalse(mover.move(new TopicPartition("none", 0), b));
        assertThrows(IllegalArgumentException.class, () -> mover.move(TP, root.resolve("c")));
        assertThrows(IllegalArgumentException.class, () -> mover.setThrottle(0));
    }

    private List<String> expected(String prefix, int count) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(prefix + i);
        }
        return out;
    }

    @Test
    void shouldFailTheTargetDirectoryOnAnIoErrorWritingTheCopyWhileTheLogKeepsServing() throws Exception {
        append("v-", 40);
        Log log = partition.log();
        assertTrue(mover.move(TP, b));
        assertTrue(mover.copyStep(TP, 300) > 0);
        Files.move(b, root.resolve("b.gone"), StandardCopyOption.ATOMIC_MOVE); // the target disk is gone
        for (int i = 0; i < 100 && mover.movesInProgress() > 0; i++) {
            mover.doWork(time.milliseconds());
        }
        assertEquals(0, mover.movesInProgress(), "the move is abandoned");
        assertTrue(logManager.isOffline(b), "an I/O error on the copy fails its directory");
        assertFalse(logManager.isOffline(a));
        assertEquals(b, logManager.failureChannel().pollNextOfflineLogDir(0, TimeUnit.MILLISECONDS));
        assertSame(log, partition.log());
        assertSame(log, logManager.getLog(TP));
        append("w-", 1);
        List<String> all = expected("v-", 40);
        all.add("w-0");
        assertEquals(all, values(log), "the log keeps serving from its directory");
        assertEquals(0, swapped.get());
    }

    @Test
    void shouldPutTheLogBackAndFailTheTargetDirectoryWhenTheCopyCannotBeRenamedInPlace() throws Exception {
        append("v-", 20);
        Log log = partition.log();
        assertTrue(mover.move(TP, b));
        for (int i = 0; i < 100 && mover.copyStep(TP, Integer.MAX_VALUE) != -1; i++) {
            // a step reads at most one segment
        }
        // the copy's final name is taken: the swap renames the log away, then cannot put the copy in its place
        Files.createDirectories(b.resolve(TP.dirName()).resolve("taken"));
        mover.doWork(time.milliseconds());

        assertEquals(0, mover.movesInProgress());
        assertEquals(0, swapped.get());
        assertTrue(logManager.isOffline(b), "the failed rename fails the copy's directory");
        assertFalse(logManager.isOffline(a), "the log's directory is fine: the log went back");
        assertTrue(Files.isDirectory(a.resolve(TP.dirName())));
        try (var s = Files.list(a)) {
            assertEquals(List.of(), s.filter(f -> f.getFileName().toString().endsWith(LogManager.DELETE_DIR_SUFFIX))
                .toList());
        }
        assertSame(log, partition.log());
        assertSame(log, logManager.getLog(TP));
        append("w-", 30); // rolls new segments in the log's directory
        List<String> all = expected("v-", 20);
        all.addAll(expected("w-", 30));
        assertEquals(all, values(log));
    }

    @Test
    void shouldRefuseAMoveToAnOfflineDirectoryAndAbandonMovesOfAFailedOne() throws Exception {
        append("v-", 5);
        assertTrue(mover.move(TP, b));
        Path copy = mover.futureLog(TP).dir();
        logManager.reportFailure(b, "a test's failed disk", new java.io.IOException("Input/output error"));
        assertEquals(1, mover.logDirFailed(b));
        assertEquals(0, mover.movesInProgress());
        assertTrue(Files.isDirectory(copy), "nothing is deleted in a failed directory");
        assertThrows(StorageException.class, () -> mover.move(TP, b));
        assertNull(mover.futureLog(TP));
        assertEquals(0, mover.logDirFailed(a));
    }

    @Test
    void shouldPutBothBackAndKeepServingFromTheLogWhenTheCopyCannotBeOpenedInPlace() throws Exception {
        append("v-", 20);
        Log log = partition.log();
        assertTrue(mover.move(TP, b));
        Path copy = mover.futureLog(TP).dir();
        for (int i = 0; i < 100 && mover.copyStep(TP, Integer.MAX_VALUE) != -1; i++) {
            // a step reads at most one segment
        }
        // a leftover the copy's opening must delete and cannot: both renames succeed, the open after them fails
        Files.createDirectories(copy.resolve("stuck.tmp").resolve("inside"));
        mover.doWork(time.milliseconds());

        assertEquals(0, mover.movesInProgress());
        assertEquals(0, swapped.get());
        assertTrue(logManager.isOffline(b), "the copy's directory is failed");
        assertFalse(logManager.isOffline(a));
        assertTrue(Files.isDirectory(a.resolve(TP.dirName())), "the log is back under its name");
        assertTrue(Files.isDirectory(copy), "the copy is back under its -future name");
        assertFalse(Files.exists(b.resolve(TP.dirName())));
        try (var s = Files.list(a)) {
            assertEquals(List.of(), s.filter(f -> f.getFileName().toString().endsWith(LogManager.DELETE_DIR_SUFFIX))
                .toList());
        }
        assertSame(log, partition.log());
        assertSame(log, logManager.getLog(TP));
        append("w-", 5);
        mover.close();
        logManager.close();
        // the acknowledged records survive a restart: nothing of the log is left renamed -delete
        logManager = LogManager.open(List.of(a, b), LogConfig.defaults(), Map.of(), time, false);
        List<String> all = expected("v-", 20);
        all.addAll(expected("w-", 5));
        assertEquals(all, values(logManager.getLog(TP)));
        mover = new LogDirMover(logManager, tp -> null, time, tp -> { });
    }

    @Test
    void shouldFailTheTargetNotTheLogOnAnIoErrorTruncatingTheCopy() throws Exception {
        append("v-", 20);
        Log log = partition.log();
        assertTrue(mover.move(TP, b));
        while (mover.copyStep(TP, Integer.MAX_VALUE) > 0) {
            // a step reads at most one segment
        }
        Files.move(b, root.resolve("b.gone"), StandardCopyOption.ATOMIC_MOVE); // the target disk is gone
        // a follower restarting its log at the leader's log start: the log's truncation succeeds, the copy's cannot
        partition.log().truncateFullyAndStartAt(30);
        mover.truncatedFully(TP, 30); // ReplicaManager reports what this throws as a failure of the log's directory
        assertEquals(0, mover.movesInProgress(), "the move is abandoned");
        assertTrue(logManager.isOffline(b), "the copy's directory failed");
        assertFalse(logManager.isOffline(a), "the log's directory is healthy");
        assertEquals(b, logManager.failureChannel().pollNextOfflineLogDir(0, TimeUnit.MILLISECONDS));
        assertSame(log, partition.log());
        append("w-", 3);
        assertEquals(expected("w-", 3), values(log));
    }

    @Test
    void shouldCancelAMoveWhoseLogIsGone() throws Exception {
        append("v-", 5);
        assertTrue(mover.move(TP, b));
        Path copy = mover.futureLog(TP).dir();
        partition = null; // no longer hosted: a topic deletion, its log deleted after the copy was created
        assertTrue(logManager.deleteLog(TP));
        mover.doWork(time.milliseconds());
        assertEquals(0, mover.movesInProgress());
        assertFalse(Files.exists(copy), "a copy whose log is gone is deleted, not kept for a swap that never comes");
    }

    @Test
    void shouldReleaseTheOriginalOfALogMovedBackWithinTheDeleteDelay() throws Exception {
        append("v-", 30); // several segments
        assertTrue(mover.move(TP, b));
        finish();
        assertEquals(b, logManager.logDirOf(TP));
        assertTrue(mover.move(TP, a), "back before file.delete.delay.ms is over: <a>/<tp> exists again");
        finish();
        assertEquals(a, logManager.logDirOf(TP));
        append("w-", 3);
        time.sleep(LogConfig.defaults().fileDeleteDelayMs);
        mover.doWork(time.milliseconds());
        for (Path dir : List.of(a, b)) {
            try (var s = Files.list(dir)) {
                assertEquals(List.of(), s.filter(f -> f.getFileName().toString().endsWith(LogManager.DELETE_DIR_SUFFIX))
                    .toList(), "both originals are deleted once the delay is over");
            }
        }
        List<String> all = expected("v-", 30);
        all.addAll(expected("w-", 3));
        assertEquals(all, values(partition.log()), "the log moved back keeps every file");
        mover.close();
        logManager.close();
        logManager = LogManager.open(List.of(a, b), LogConfig.defaults(), Map.of(), time, false);
        assertEquals(all, values(logManager.getLog(TP)));
        mover = new LogDirMover(logManager, tp -> null, time, tp -> { });
    }
}
