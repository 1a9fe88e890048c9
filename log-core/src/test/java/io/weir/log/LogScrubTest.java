package io.weir.log;

import io.weir.common.TopicPartition;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.weir.common.testing.Batches.describe;
import static io.weir.common.testing.Batches.records;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damage below the recovery point, which recovery never re-reads: the scrubber (or
 * log.verify.on.start) finds it, quarantines exactly the damaged stretch, and reads of it fail with
 * a clear error while everything around it stays readable.
 */
class LogScrubTest {
    private final Path root = TempDirs.create("scrub");
    private final Path dir = root.resolve("orders-0");
    private final MockTime time = new MockTime();
    private static final Map<String, String> CFG = Map.of(LogConfig.SEGMENT_BYTES, "600",
        LogConfig.INDEX_INTERVAL_BYTES, "1");

    @AfterEach
    void cleanUp() {
        TempDirs.delete(root);
    }

    private Log open() {
        return Log.open(dir, LogConfig.fromMap(CFG), Long.MAX_VALUE, 0, true, time);
    }

    /** 30 one-record batches over several segments, closed cleanly: the next open skips recovery. */
    private void writeLog() {
        try (LogManager m = LogManager.open(root, LogConfig.fromMap(CFG), Map.of(), time)) {
            Log log = m.getOrCreateLog(new TopicPartition("orders", 0), LogConfig.fromMap(CFG));
            for (int i = 0; i < 30; i++) {
                log.appendAsLeader(records(time.milliseconds(), "value-" + i), 0);
            }
            assertTrue(log.numberOfSegments() >= 3, "segments: " + log.numberOfSegments());
        }
    }

    /** File position of the n-th batch of the first segment. */
    private long batchPosition(RandomAccessFile f, int n) throws Exception {
        long pos = 0;
        for (int i = 0; i < n; i++) {
            f.seek(pos + 8);
            pos += 12 + f.readInt();
        }
        return pos;
    }

    private void damage(int batch, boolean lengthToo) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("00000000000000000000.log").toFile(), "rw")) {
            long pos = batchPosition(f, batch);
            f.seek(pos + 70);
            int b = f.read();
            f.seek(pos + 70);
            f.write(b ^ 0xff); // inside the records: the CRC no longer matches
            if (lengthToo) {
                f.seek(pos + 8);
                f.writeInt(1 << 30);
            }
        }
    }

    private static List<String> readFrom(Log log, long offset) {
        try {
            return describe(log.read(offset, 1 << 20, Long.MAX_VALUE, false).records().readRecords());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void shouldQuarantineABadCrcBatchBelowTheRecoveryPointAndServeAroundIt() throws Exception {
        writeLog();
        damage(2, false);
        Log log = open();
        assertTrue(log.quarantined().isEmpty(), "a clean open does not look below the recovery point");
        assertTrue(log.scrub(Long.MAX_VALUE) > 0);
        assertEquals(List.of(new Log.Quarantine(2, 3, 0, log.quarantined().get(0).position(),
            log.quarantined().get(0).reason())), log.quarantined());
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> readFrom(log, 2));
        assertTrue(e.getMessage().contains("quarantined") && e.getMessage().contains("seek to 3"), e.getMessage());
        assertEquals(List.of("0:k-value-0=value-0", "1:k-value-1=value-1"), readFrom(log, 0), "stops before it");
        assertEquals("3:k-value-3=value-3", readFrom(log, 3).get(0));
        log.close();
        Log reopened = open();
        assertEquals(1, reopened.quarantined().size(), "the quarantine survives a restart");
        assertThrows(CorruptRecordException.class, () -> readFrom(reopened, 2));
        reopened.close();
    }

    @Test
    void shouldResumeAtTheNextIndexedBatchWhenTheLengthIsDamaged() throws Exception {
        writeLog();
        damage(1, true);
        Log log = open();
        log.scrub(Long.MAX_VALUE);
        assertEquals(1, log.quarantined().size());
        assertEquals(1, log.quarantined().get(0).firstOffset());
        assertEquals(2, log.quarantined().get(0).endOffset(), "the next batch is indexed and intact");
        assertEquals("2:k-value-2=value-2", readFrom(log, 2).get(0));
        log.close();
    }

    @Test
    void shouldVerifyEverySegmentOnStartWhenAsked() throws Exception {
        writeLog();
        damage(3, false);
        try (LogManager m = LogManager.open(root, LogConfig.fromMap(CFG), Map.of(), time, true)) {
            Log log = m.getLog(new TopicPartition("orders", 0));
            assertEquals(3, log.quarantined().get(0).firstOffset());
            assertThrows(CorruptRecordException.class, () -> readFrom(log, 3));
        }
    }

    @Test
    void shouldScrubAtABoundedRateAndDropQuarantineOnTruncation() throws Exception {
        writeLog();
        damage(2, false);
        try (LogManager m = LogManager.open(root, LogConfig.fromMap(CFG), Map.of(), time)) {
            Log log = m.getLog(new TopicPartition("orders", 0));
            long first = m.doScrub(time.milliseconds(), 100);
            assertTrue(first > 0 && first < 400, "about a second's budget (one batch at least): " + first);
            long total = first;
            for (int i = 0; i < 100 && log.quarantined().isEmpty(); i++) {
                time.sleep(1000);
                total += m.doScrub(time.milliseconds(), 100);
            }
            assertEquals(1, log.quarantined().size(), "found after " + total + " bytes");
            log.truncateTo(1);
            assertTrue(log.quarantined().isEmpty(), "offsets from 1 on are gone, and so is their quarantine");
            log.appendAsLeader(records(time.milliseconds(), "new"), 0);
            assertEquals(List.of("0:k-value-0=value-0", "1:k-new=new"), readFrom(log, 0));
        }
    }
}
