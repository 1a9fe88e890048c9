package io.weir.log;

import io.weir.common.record.ControlRecordType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.common.testing.Batches;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.internals.LogCleaner;
import io.weir.log.internals.LogSegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.weir.common.testing.Batches.describe;
import static io.weir.common.testing.Batches.records;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogCleanerTest {
    private final Path root = TempDirs.create("cleaner");
    private final Path dir = root.resolve("changelog-0");
    private final MockTime time = new MockTime();
    private final Map<String, String> cfg = Map.of(LogConfig.CLEANUP_POLICY, "compact", LogConfig.SEGMENT_BYTES, "250",
        LogConfig.DELETE_RETENTION_MS, "1000", LogConfig.FILE_DELETE_DELAY_MS, "0");

    @AfterEach
    void cleanUp() {
        TempDirs.delete(root);
    }

    private static List<String> read(Log log) throws Exception {
        List<String> out = new ArrayList<>();
        long next = log.logStartOffset();
        while (next < log.logEndOffset()) {
            FetchDataInfo info = log.read(next, 1 << 20, Long.MAX_VALUE, true);
            MemoryRecords m = info.records().readRecords();
            for (String d : describe(m)) {
                if (Long.parseLong(d.substring(0, d.indexOf(':'))) >= next) {
                    out.add(d);
                }
            }
            for (RecordBatch b : m) {
                next = Math.max(next, b.nextOffset());
            }
        }
        return out;
    }

    private Log writeKeys() {
        Log log = Log.open(dir, LogConfig.fromMap(cfg), 0, 0, true, time);
        String[] ops = {"a=1", "b=1", "c=1", "a=2", "b=2", "d=1", "a=3", "c=null", "e=1", "b=3", "f=1", "g=1"};
        for (String op : ops) {
            log.appendAsLeader(records(time.milliseconds(), op), 0);
        }
        return log;
    }

    @Test
    void shouldKeepLatestRecordPerKeyWithOffsetsUnchanged() throws Exception {
        Log log = writeKeys();
        int segments = log.numberOfSegments();
        assertTrue(segments >= 3);
        List<String> activeBefore = describe(readSegment(log.activeSegment()));
        long cleaned = new LogCleaner(time).clean(log, time.milliseconds());
        assertTrue(cleaned > 0);
        List<String> after = read(log);
        // a, b superseded; c's tombstone kept (younger than delete.retention.ms) unless in the active segment
        assertFalse(after.contains("0:a=1"));
        assertFalse(after.contains("3:a=2"));
        assertTrue(after.contains("6:a=3"));
        assertTrue(after.contains("7:c=null") || activeBefore.contains("7:c=null"));
        assertFalse(after.contains("2:c=1"));
        assertEquals(activeBefore, describe(readSegment(log.activeSegment())), "active segment untouched");
        assertEquals(12, log.logEndOffset());
        assertEquals(12, log.appendAsLeader(records(time.milliseconds(), "h=1"), 0).firstOffset());
        log.close();
    }

    private static MemoryRecords readSegment(LogSegment s) throws Exception {
        return s.read(s.baseOffset(), Integer.MAX_VALUE, s.sizeInBytes(), true) == null
            ? MemoryRecords.readableRecords(java.nio.ByteBuffer.allocate(0))
            : s.read(s.baseOffset(), Integer.MAX_VALUE, s.sizeInBytes(), true).records().readRecords();
    }

    @Test
    void shouldDropTombstonesOlderThanDeleteRetention() throws Exception {
        Log log = writeKeys();
        log.roll();
        LogCleaner cleaner = new LogCleaner(time);
        cleaner.clean(log, time.milliseconds());
        assertTrue(read(log).contains("7:c=null"));
        time.advance(5000);
        assertTrue(cleaner.clean(log, time.milliseconds()) > 0);
        List<String> after = read(log);
        assertFalse(after.contains("7:c=null"), after.toString());
        assertEquals(List.of("5:d=1", "6:a=3", "8:e=1", "9:b=3", "10:f=1", "11:g=1"), after);
        log.close();
        Log reopened = Log.open(dir, LogConfig.fromMap(cfg), 12, 0, true, time);
        assertEquals(after, read(reopened));
        reopened.close();
    }

    @Test
    void shouldCompleteSwapLeftByCrash() throws Exception {
        Log log = writeKeys();
        log.roll();
        log.close();
        Path copy = root.resolve("copy");
        copyDir(dir, copy);
        Log again = Log.open(dir, LogConfig.fromMap(cfg), 12, 0, true, time);
        new LogCleaner(time).clean(again, time.milliseconds());
        List<String> cleaned = read(again);
        again.close();
        // crash after the commit point: old segment 0 is back, the cleaned one waits as .swap; plus a stray .cleaned
        Path cleanedZero = LogSegment.file(dir, 0, LogSegment.LOG_SUFFIX);
        Path swap = LogSegment.file(copy, 0, LogSegment.LOG_SUFFIX + ".swap");
        Files.copy(cleanedZero, swap);
        Files.write(LogSegment.file(copy, 5, LogSegment.LOG_SUFFIX + ".cleaned"), new byte[100]);
        TempDirs.delete(dir);
        copyDir(copy, dir);
        Log recovered = Log.open(dir, LogConfig.fromMap(cfg), 0, 0, false, time);
        List<String> got = read(recovered);
        try (var files = Files.list(dir)) {
            assertEquals(0, files.filter(p -> p.toString().endsWith(".swap") || p.toString().endsWith(".cleaned")).count());
        }
        for (String s : got) {
            assertTrue(s.startsWith("0:") ? cleaned.contains(s) : true);
        }
        assertFalse(got.contains("0:a=1"));
        assertEquals(12, recovered.logEndOffset());
        recovered.close();
    }

    /** Plain records, one per batch, enough to roll past the 250-byte segments a few times. */
    private void filler(Log log, String prefix, int n) {
        for (int i = 0; i < n; i++) {
            log.appendAsLeader(records(time.milliseconds(), prefix + i + "=x"), 0);
        }
    }

    @Test
    void abortedWritesNeitherShadowCommittedValuesNorSurvive() throws Exception {
        Log log = Log.open(dir, LogConfig.fromMap(cfg), 0, 0, true, time);
        log.appendAsLeader(records(time.milliseconds(), "k=committed"), 0);                                  // 0
        log.appendAsLeader(Batches.transactional(7L, (short) 0, 0, time.milliseconds(), "k=aborted", "j=aborted"), 0); // 1-2
        log.appendAsLeader(Batches.marker(7L, (short) 0, ControlRecordType.ABORT, 0, time.milliseconds()), 0); // 3
        filler(log, "f", 8);
        assertTrue(log.numberOfSegments() >= 3);

        assertTrue(new LogCleaner(time).clean(log, time.milliseconds()) > 0);

        List<String> after = read(log);
        assertTrue(after.contains("0:k=committed"), "an aborted write must not remove the committed value: " + after);
        assertFalse(after.contains("1:k=aborted"), after.toString());
        assertFalse(after.contains("2:j=aborted"), after.toString());
        assertEquals(List.of(new AbortedTxn(7L, 1, 3, 4)), log.collectAbortedTransactions(0, log.logEndOffset()));
        log.close();
    }

    @Test
    void segmentsFromTheFirstOpenTransactionOnAreNotCleaned() throws Exception {
        Log log = Log.open(dir, LogConfig.fromMap(cfg), 0, 0, true, time);
        filler(log, "g", 3);
        log.appendAsLeader(Batches.transactional(9L, (short) 0, 0, time.milliseconds(), "a=open"), 0);      // 3, undecided
        log.appendAsLeader(records(time.milliseconds(), "a=later"), 0);                                       // 4
        filler(log, "h", 6);
        assertEquals(3L, log.firstUnstableOffset().getAsLong());

        new LogCleaner(time).clean(log, time.milliseconds());
        assertTrue(read(log).contains("3:a=open"), "the open transaction's record is kept until it is decided");

        log.appendAsLeader(Batches.marker(9L, (short) 0, ControlRecordType.COMMIT, 0, time.milliseconds()), 0);
        filler(log, "i", 4);
        new LogCleaner(time).clean(log, time.milliseconds());
        List<String> after = read(log);
        assertFalse(after.contains("3:a=open"), "once committed it is shadowed by the later value: " + after);
        assertTrue(after.contains("4:a=later"), after.toString());
        log.close();
    }

    private static void copyDir(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path p : files.toList()) {
                Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
