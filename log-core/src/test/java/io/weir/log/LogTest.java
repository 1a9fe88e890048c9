package io.weir.log;

import io.weir.common.errors.OffsetOutOfRangeException;
import io.weir.common.record.CompressionType;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.record.RecordTooLargeException;
import io.weir.common.record.TimestampType;
import io.weir.common.testing.Batches;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.internals.LogSegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.weir.common.testing.Batches.describe;
import static io.weir.common.testing.Batches.records;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogTest {
    private final Path root = TempDirs.create("log");
    private final Path dir = root.resolve("orders-0");
    private final MockTime time = new MockTime();
    private final List<Log> open = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Log l : open) {
            try {
                l.close();
            } catch (RuntimeException ignored) {
                // already closed
            }
        }
        TempDirs.delete(root);
    }

    private Log open(Map<String, String> cfg, boolean clean, long recoveryPoint) {
        Log log = Log.open(dir, LogConfig.fromMap(cfg), recoveryPoint, 0, clean, time);
        open.add(log);
        return log;
    }

    private Log open(Map<String, String> cfg) {
        return open(cfg, true, 0);
    }

    private static List<String> readAll(Log log, long from) throws Exception {
        List<String> out = new ArrayList<>();
        long next = from;
        while (next < log.logEndOffset()) {
            FetchDataInfo info = log.read(next, 1 << 20, Long.MAX_VALUE, true);
            MemoryRecords m = info.records().readRecords();
            List<String> d = describe(m);
            for (String s : d) {
                long off = Long.parseLong(s.substring(0, s.indexOf(':')));
                if (off >= next) {
                    out.add(s);
                }
            }
            long last = next;
            for (RecordBatch b : m) {
                last = Math.max(last, b.nextOffset());
            }
            next = last;
        }
        return out;
    }

    @Test
    void shouldAssignOffsetsAndReadBackAcrossRolls() throws Exception {
        Log log = open(Map.of(LogConfig.SEGMENT_BYTES, "300", LogConfig.INDEX_INTERVAL_BYTES, "1"));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            LogAppendInfo info = log.appendAsLeader(records(time.milliseconds(), "a" + i, "b" + i), 3);
            assertEquals(2L * i, info.firstOffset());
            assertEquals(2L * i + 1, info.lastOffset());
            assertTrue(info.appended());
            expected.add((2 * i) + ":k-a" + i + "=a" + i);
            expected.add((2 * i + 1) + ":k-b" + i + "=b" + i);
        }
        assertTrue(log.numberOfSegments() > 3, "rolled by size: " + log.numberOfSegments());
        assertEquals(60, log.logEndOffset());
        assertEquals(expected, readAll(log, 0));
        assertEquals(expected.subList(37, 60), readAll(log, 37));
        FetchDataInfo first = log.read(0, 1 << 20, Long.MAX_VALUE, false);
        assertEquals(3, new RecordBatch(first.records().readRecords().buffer()).partitionLeaderEpoch());
        // the region goes out through transferTo
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        first.records().writeFullyTo(Channels.newChannel(sink));
        assertArrayEquals(sink.toByteArray(), first.records().readRecords().buffer().array());
    }

    @Test
    void shouldBoundReadsByMaxOffsetAndMaxBytes() throws Exception {
        Log log = open(Map.of());
        for (int i = 0; i < 5; i++) {
            log.appendAsLeader(records(time.milliseconds(), "v" + i), 0);
        }
        FetchDataInfo hw = log.read(1, 1 << 20, 3, false);
        assertEquals(List.of("1:k-v1=v1", "2:k-v2=v2"), describe(hw.records().readRecords()));
        assertEquals(0, log.read(3, 1 << 20, 3, false).records().sizeInBytes());
        FetchDataInfo tiny = log.read(0, 1, Long.MAX_VALUE, true);
        assertEquals(List.of("0:k-v0=v0"), describe(tiny.records().readRecords()));
        // without minOneBatch a first batch that does not fit gives nothing (never a cut batch), but still
        // says where that batch starts
        FetchDataInfo cut = log.read(1, 1, Long.MAX_VALUE, false);
        assertEquals(0, cut.records().sizeInBytes());
        assertEquals(log.read(1, 1 << 20, Long.MAX_VALUE, false).fetchOffsetMetadata(), cut.fetchOffsetMetadata());
        int firstBatch = log.read(1, 1, Long.MAX_VALUE, true).records().sizeInBytes();
        assertEquals(0, log.read(1, firstBatch - 1, Long.MAX_VALUE, false).records().sizeInBytes());
        assertEquals(List.of("1:k-v1=v1"), describe(log.read(1, firstBatch, Long.MAX_VALUE, false).records().readRecords()));
        assertEquals(0, log.read(5, 100, Long.MAX_VALUE, true).records().sizeInBytes());
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(6, 100, Long.MAX_VALUE, true));
    }

    @Test
    void shouldBoundAReadByKnownOffsetMetadataWithoutScanningHeaders() throws Exception {
        Log log = open(Map.of(LogConfig.INDEX_INTERVAL_BYTES, Integer.toString(1 << 20)));
        for (int i = 0; i < 30; i++) {
            log.appendAsLeader(records(time.milliseconds(), "v" + i), 0);
        }
        LogOffsetMetadata hw = log.logEndOffsetMetadata(); // as a partition keeps its high watermark
        for (int i = 30; i < 50; i++) {
            log.appendAsLeader(records(time.milliseconds(), "v" + i), 0);
        }
        LogSegment seg = log.activeSegment();
        long before = seg.headerReads();
        List<String> byOffset = describe(log.read(0, 1 << 20, 30L, false).records().readRecords());
        long scanned = seg.headerReads() - before;
        before = seg.headerReads();
        List<String> byMetadata = describe(log.read(0, 1 << 20, hw, false).records().readRecords());
        long checked = seg.headerReads() - before;
        assertEquals(30, byOffset.size());
        assertEquals(byOffset, byMetadata);
        assertTrue(scanned >= 30, "an offset-only bound scans headers up to it: " + scanned);
        assertTrue(checked <= 2, "a known position costs one header check (plus the start lookup): " + checked);
    }

    @Test
    void shouldIgnoreStaleOffsetMetadataAfterTheLogWasRewritten() throws Exception {
        Log log = open(Map.of());
        for (int i = 0; i < 30; i++) {
            log.appendAsLeader(records(time.milliseconds(), "v" + i), 0);
        }
        LogOffsetMetadata stale = log.logEndOffsetMetadata();
        log.truncateTo(10);
        for (int i = 10; i < 50; i++) {
            // larger records: offset 30 now sits at another byte position
            log.appendAsLeader(records(time.milliseconds(), "longer-value-" + i), 0);
        }
        assertEquals(describe(log.read(0, 1 << 20, 30L, false).records().readRecords()),
            describe(log.read(0, 1 << 20, stale, false).records().readRecords()));
        assertEquals(30, describe(log.read(0, 1 << 20, stale, false).records().readRecords()).size());
    }

    @Test
    void shouldWriteProducerSnapshotsOutsideTheLogLock() {
        Log log = open(Map.of(LogConfig.SEGMENT_BYTES, "300"));
        List<Boolean> lockedDuringWrite = java.util.Collections.synchronizedList(new ArrayList<>());
        log.producerStateManager().onSnapshotWrite(() -> lockedDuringWrite.add(log.isLocked()));
        for (int i = 0; i < 20; i++) {
            log.appendAsLeader(records(time.milliseconds(), "a" + i, "b" + i), 0);
        }
        assertTrue(log.numberOfSegments() > 2, "rolled: " + log.numberOfSegments());
        log.roll();
        log.close();
        open.remove(log);
        assertTrue(lockedDuringWrite.size() >= 3, "snapshots at rolls and close: " + lockedDuringWrite);
        assertFalse(lockedDuringWrite.contains(true), "a snapshot was written under the log lock: " + lockedDuringWrite);
        Log reopened = open(Map.of(LogConfig.SEGMENT_BYTES, "300"));
        assertEquals(40, reopened.logEndOffset());
    }

    private static MemoryRecords timestamped(CompressionType codec, long... timestamps) {
        RecordBatchBuilder b = new RecordBatchBuilder(codec);
        for (long ts : timestamps) {
            b.append(ts, ("k" + ts).getBytes(java.nio.charset.StandardCharsets.UTF_8), new byte[] {1});
        }
        return MemoryRecords.readableRecords(b.build());
    }

    @Test
    void shouldAnswerMaxTimestampWithTheRecordHoldingItAcrossSegmentsAndRecovery() {
        Map<String, String> cfg = Map.of(LogConfig.SEGMENT_BYTES, "200");
        Log log = open(cfg);
        log.appendAsLeader(timestamped(CompressionType.NONE, 100, 900, 300), 0);  // offsets 0-2: max at 1
        log.appendAsLeader(timestamped(CompressionType.LZ4, 200, 950, 950, 10), 0); // offsets 3-6: max at 4
        log.appendAsLeader(timestamped(CompressionType.NONE, 400, 500), 0);    // offsets 7-8
        log.roll();
        log.appendAsLeader(timestamped(CompressionType.NONE, 600, 700), 0);    // offsets 9-10
        assertTrue(log.numberOfSegments() >= 2);
        assertEquals(new TimestampAndOffset(950, 4), log.fetchOffsetByTimestamp(Log.MAX_TIMESTAMP));
        log.appendAsLeader(timestamped(CompressionType.ZSTD, 1, 2000, 3), 0); // offsets 11-13: max at 12
        assertEquals(new TimestampAndOffset(2000, 12), log.fetchOffsetByTimestamp(Log.MAX_TIMESTAMP));
        log.close();
        open.remove(log);
        Log recovered = open(cfg, false, 0); // unclean: every segment re-validated, indexes rebuilt
        assertEquals(new TimestampAndOffset(2000, 12), recovered.fetchOffsetByTimestamp(Log.MAX_TIMESTAMP));
    }

    @Test
    void shouldRollWhenSegmentMsPassesSinceFirstBatch() {
        Log log = open(Map.of(LogConfig.SEGMENT_MS, "1000"));
        log.appendAsLeader(records(time.milliseconds(), "a"), 0);
        time.advance(500);
        log.appendAsLeader(records(time.milliseconds(), "b"), 0);
        assertEquals(1, log.numberOfSegments());
        time.advance(600);
        log.appendAsLeader(records(time.milliseconds(), "c"), 0);
        assertEquals(2, log.numberOfSegments());
        assertEquals(2, log.activeSegment().baseOffset());
        assertEquals(2, log.recoveryPoint(), "a roll fsyncs the old segment");
    }

    @Test
    void shouldRollWhenIndexIsFull() {
        Log log = open(Map.of(LogConfig.SEGMENT_INDEX_BYTES, "24", LogConfig.INDEX_INTERVAL_BYTES, "1"));
        for (int i = 0; i < 10; i++) {
            log.appendAsLeader(records(time.milliseconds() + i, "v" + i), 0);
        }
        assertTrue(log.numberOfSegments() >= 3, "segments: " + log.numberOfSegments());
    }

    @Test
    void shouldAppendAndRecoverAllBatchesWhenIndexFillsMidRequest() throws Exception {
        // 3 offset-index entries, one per batch after the first: a 6-batch request overfills the index
        Map<String, String> cfg = Map.of(LogConfig.SEGMENT_INDEX_BYTES, "24", LogConfig.INDEX_INTERVAL_BYTES, "0");
        Log log = open(cfg);
        MemoryRecords[] batches = new MemoryRecords[6];
        for (int i = 0; i < batches.length; i++) {
            batches[i] = records(time.milliseconds() + i, "v" + i);
        }
        LogAppendInfo info = log.appendAsLeader(io.weir.common.testing.Batches.concat(batches), 0);
        assertEquals(5, info.lastOffset());
        assertEquals(6, readAll(log, 0).size());
        assertEquals(List.of("4:k-v4=v4", "5:k-v5=v5"), readAll(log, 4));
        open.remove(log); // crash: no close
        Log recovered = open(cfg, false, 0);
        assertEquals(0, recovered.recoveryReport().bytesTruncated(), "recovery must not cut valid batches");
        assertEquals(6, recovered.logEndOffset());
        assertEquals(6, readAll(recovered, 0).size());
        assertEquals(6, recovered.appendAsLeader(records(time.milliseconds(), "next"), 0).firstOffset());
        assertEquals(2, recovered.numberOfSegments(), "a full index rolls the segment on the next append");
    }

    @Test
    void shouldDeleteSegmentsPastRetentionMsButNeverTheActiveOne() throws Exception {
        Log log = open(Map.of(LogConfig.SEGMENT_BYTES, "200", LogConfig.RETENTION_MS, "10000",
            LogConfig.FILE_DELETE_DELAY_MS, "0"));
        for (int i = 0; i < 10; i++) {
            log.appendAsLeader(records(time.milliseconds(), "value-" + i), 0);
        }
        int segments = log.numberOfSegments();
        assertTrue(segments > 2);
        assertEquals(0, log.deleteOldSegments(time.milliseconds()));
        time.advance(20_000);
        assertEquals(segments - 1, log.deleteOldSegments(time.milliseconds()));
        assertEquals(1, log.numberOfSegments());
        assertEquals(log.activeSegment().baseOffset(), log.logStartOffset());
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(0, 100, Long.MAX_VALUE, true));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.filter(p -> p.toString().endsWith(".deleted")).count());
        }
    }

    @Test
    void shouldDeleteOldestSegmentsOverRetentionBytes() {
        Log log = open(Map.of(LogConfig.SEGMENT_BYTES, "200", LogConfig.RETENTION_BYTES, "400"));
        for (int i = 0; i < 12; i++) {
            log.appendAsLeader(records(time.milliseconds(), "value-" + i), 0);
        }
        long before = log.sizeInBytes();
        assertTrue(before > 400);
        assertTrue(log.deleteOldSegments(time.milliseconds()) > 0);
        assertTrue(log.sizeInBytes() <= 400 + 200, "size " + log.sizeInBytes());
        assertTrue(log.sizeInBytes() > 400 - 200);
        assertTrue(log.logStartOffset() > 0);
    }

    @Test
    void shouldTruncateToOffsetAndAppendAgain() throws Exception {
        Log log = open(Map.of(LogConfig.SEGMENT_BYTES, "200"));
        for (int i = 0; i < 10; i++) {
            log.appendAsLeader(records(time.milliseconds(), "v" + i), 0);
        }
        assertTrue(log.truncateTo(4));
        assertEquals(4, log.logEndOffset());
        assertEquals(List.of("0:k-v0=v0", "1:k-v1=v1", "2:k-v2=v2", "3:k-v3=v3"), readAll(log, 0));
        assertEquals(4, log.appendAsLeader(records(time.milliseconds(), "x"), 1).firstOffset());
        assertFalse(log.truncateTo(100));
        log.truncateFullyAndStartAt(50);
        assertEquals(50, log.logStartOffset());
        assertEquals(50, log.logEndOffset());
        assertEquals(50, log.appendAsLeader(records(time.milliseconds(), "y"), 1).firstOffset());
    }

    @Test
    void shouldKeepLogEndAcrossRestartAfterTruncatingInsideABatch() throws Exception {
        Map<String, String> cfg = Map.of(LogConfig.INDEX_INTERVAL_BYTES, "0");
        Log log = open(cfg);
        log.appendAsLeader(records(time.milliseconds(), "a"), 0);
        log.appendAsLeader(records(time.milliseconds(), "b", "c", "d"), 0); // indexed: offset 1
        assertTrue(log.truncateTo(2)); // inside [1, 3]: the whole batch goes
        assertEquals(1, log.logEndOffset());
        log.close();
        open.remove(log);
        Log reopened = open(cfg, true, log.recoveryPoint());
        assertFalse(reopened.recoveryReport().recovered());
        assertEquals(1, reopened.logEndOffset(), "the index entry of the removed batch must go with it");
        assertEquals(1, reopened.appendAsLeader(records(time.milliseconds(), "e"), 0).firstOffset());
        assertEquals(List.of("0:k-a=a", "1:k-e=e"), readAll(reopened, 0));
    }

    @Test
    void shouldFindOffsetForTimestamp() {
        Log log = open(Map.of(LogConfig.SEGMENT_BYTES, "250", LogConfig.INDEX_INTERVAL_BYTES, "1"));
        long t0 = time.milliseconds();
        for (int i = 0; i < 20; i++) {
            log.appendAsLeader(records(t0 + i * 100L, "v" + i), 0);
        }
        assertEquals(new TimestampAndOffset(t0 + 500, 5), log.offsetForTimestamp(t0 + 450));
        assertEquals(new TimestampAndOffset(t0 + 500, 5), log.offsetForTimestamp(t0 + 500));
        assertEquals(new TimestampAndOffset(t0, 0), log.offsetForTimestamp(0));
        assertNull(log.offsetForTimestamp(t0 + 10_000));
        assertEquals(0, log.fetchOffsetByTimestamp(Log.EARLIEST_TIMESTAMP).offset());
        assertEquals(20, log.fetchOffsetByTimestamp(Log.LATEST_TIMESTAMP).offset());
        assertEquals(new TimestampAndOffset(t0 + 1900, 19), log.fetchOffsetByTimestamp(Log.MAX_TIMESTAMP));
    }

    @Test
    void shouldRejectWholeRequestOnFirstBadBatch() {
        Log log = open(Map.of());
        MemoryRecords good = records(1, "a");
        MemoryRecords bad = records(1, "b");
        bad.buffer().put(bad.sizeInBytes() - 1, (byte) 0x55);
        assertThrows(CorruptRecordException.class,
            () -> log.appendAsLeader(io.weir.common.testing.Batches.concat(good, bad), 0));
        assertEquals(0, log.logEndOffset());
        Log small = open(Map.of(LogConfig.MAX_MESSAGE_BYTES, "10"));
        assertThrows(RecordTooLargeException.class, () -> small.appendAsLeader(records(1, "a"), 0));
    }

    @Test
    void shouldRejectKeylessRecordsInCompactedTopic() {
        Log log = open(Map.of(LogConfig.CLEANUP_POLICY, "compact"));
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        b.append(1L, (byte[]) null, "v".getBytes());
        assertThrows(InvalidRecordException.class, () -> log.appendAsLeader(MemoryRecords.readableRecords(b.build()), 0));
    }

    @Test
    void shouldStampLogAppendTimeAndKeepCrcValid() throws Exception {
        Log log = open(Map.of(LogConfig.MESSAGE_TIMESTAMP_TYPE, "LogAppendTime"));
        LogAppendInfo info = log.appendAsLeader(records(5, "a"), 0);
        assertEquals(time.milliseconds(), info.logAppendTimeMs());
        RecordBatch b = new RecordBatch(log.read(0, 1000, Long.MAX_VALUE, true).records().readRecords().buffer());
        b.ensureValid();
        assertEquals(TimestampType.LOG_APPEND_TIME, b.timestampType());
        assertEquals(time.milliseconds(), b.maxTimestamp());
    }

    @Test
    void shouldKeepFollowerOffsetsAndRejectGoingBackwards() {
        Log log = open(Map.of());
        MemoryRecords m = records(1, "a", "b");
        new RecordBatch(m.buffer()).setBaseOffset(10);
        log.appendAsFollower(m);
        assertEquals(12, log.logEndOffset());
        MemoryRecords back = records(1, "c");
        new RecordBatch(back.buffer()).setBaseOffset(11);
        assertThrows(InvalidRecordException.class, () -> log.appendAsFollower(back));
    }

    @Test
    void shouldFlushByMessagesAndByTime() {
        Log log = open(Map.of(LogConfig.FLUSH_MESSAGES, "3", LogConfig.FLUSH_MS, "1000"));
        log.appendAsLeader(records(1, "a", "b"), 0);
        assertEquals(0, log.recoveryPoint());
        log.appendAsLeader(records(1, "c"), 0);
        assertEquals(3, log.recoveryPoint());
        log.appendAsLeader(records(1, "d"), 0);
        assertFalse(log.maybeFlushByTime(time.milliseconds()));
        time.advance(1000);
        assertTrue(log.maybeFlushByTime(time.milliseconds()));
        assertEquals(4, log.recoveryPoint());
    }

    // ---------------------------------------------------------------- recovery

    private Log writeAndCrash(int batches, Map<String, String> cfg) {
        Log log = open(cfg);
        for (int i = 0; i < batches; i++) {
            log.appendAsLeader(records(time.milliseconds(), "value-" + i), 0);
        }
        // simulate kill -9: drop the object without close(); segments keep their files
        open.remove(log);
        return log;
    }

    private Path activeLogFile() throws Exception {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".log")).sorted().reduce((a, b) -> b).orElseThrow();
        }
    }

    @Test
    void shouldTruncateFlippedByteInLastBatchOnRecovery() throws Exception {
        writeAndCrash(5, Map.of());
        Path f = activeLogFile();
        long size = Files.size(f);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(size - 2);
            int b = raf.read();
            raf.seek(size - 2);
            raf.write(b ^ 0xff);
        }
        Log log = open(Map.of(), false, 0);
        assertEquals(4, log.logEndOffset());
        assertTrue(log.recoveryReport().bytesTruncated() > 0);
        assertEquals(4, readAll(log, 0).size());
        assertEquals(4, log.appendAsLeader(records(1, "again"), 0).firstOffset());
    }

    @Test
    void shouldTruncateTornTailOnRecovery() throws Exception {
        writeAndCrash(5, Map.of());
        Path f = activeLogFile();
        long size = Files.size(f);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(size - 7);
        }
        Log log = open(Map.of(), false, 0);
        assertEquals(4, log.logEndOffset());
        assertEquals(List.of("0:k-value-0=value-0", "1:k-value-1=value-1", "2:k-value-2=value-2",
            "3:k-value-3=value-3"), readAll(log, 0));
    }

    @Test
    void shouldTruncateZeroFilledTailOnRecovery() throws Exception {
        writeAndCrash(3, Map.of());
        Path f = activeLogFile();
        long size = Files.size(f);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(size + 4096);
        }
        Log log = open(Map.of(), false, 0);
        assertEquals(3, log.logEndOffset());
        assertEquals(4096, log.recoveryReport().bytesTruncated());
        assertEquals(size, Files.size(f));
    }

    @Test
    void shouldDeleteSegmentsAfterDamagedOneOnRecovery() throws Exception {
        writeAndCrash(10, Map.of(LogConfig.SEGMENT_BYTES, "200"));
        Path first = LogSegment.file(dir, 0, LogSegment.LOG_SUFFIX);
        try (RandomAccessFile raf = new RandomAccessFile(first.toFile(), "rw")) {
            raf.seek(raf.length() - 1);
            raf.write(0x7f ^ raf.read());
        }
        Log log = open(Map.of(LogConfig.SEGMENT_BYTES, "200"), false, 0);
        assertEquals(1, log.numberOfSegments());
        assertTrue(log.recoveryReport().segmentsDeleted() > 0);
        assertTrue(log.logEndOffset() < 10);
        assertEquals(log.logEndOffset(), readAll(log, 0).size());
    }

    @Test
    void shouldRebuildDeletedIndex() throws Exception {
        Map<String, String> cfg = Map.of(LogConfig.SEGMENT_BYTES, "400", LogConfig.INDEX_INTERVAL_BYTES, "1");
        Log log = open(cfg);
        for (int i = 0; i < 10; i++) {
            log.appendAsLeader(records(time.milliseconds(), "v" + i), 0);
        }
        log.close();
        open.remove(log);
        Path index = LogSegment.file(dir, 0, LogSegment.INDEX_SUFFIX);
        Files.delete(index);
        Log reopened = open(cfg, true, 10);
        assertTrue(Files.exists(index));
        assertTrue(reopened.recoveryReport().indexesRebuilt() >= 1);
        assertTrue(reopened.segments().get(0).offsetIndex().entries() > 0);
        assertEquals(10, readAll(reopened, 0).size());
        assertEquals(6, readAll(reopened, 4).size());
    }

    @Test
    void shouldRebuildCorruptIndex() throws Exception {
        Map<String, String> cfg = Map.of(LogConfig.SEGMENT_BYTES, "400", LogConfig.INDEX_INTERVAL_BYTES, "1");
        Log log = open(cfg);
        for (int i = 0; i < 10; i++) {
            log.appendAsLeader(records(time.milliseconds(), "v" + i), 0);
        }
        log.close();
        open.remove(log);
        Path index = LogSegment.file(dir, 0, LogSegment.INDEX_SUFFIX);
        try (RandomAccessFile raf = new RandomAccessFile(index.toFile(), "rw")) {
            raf.seek(8);
            raf.writeInt(0); // entry 1's offset no longer above entry 0's
            raf.writeInt(0);
        }
        Log reopened = open(cfg, true, 10);
        assertEquals(1, reopened.recoveryReport().indexesRebuilt());
        assertEquals(10, readAll(reopened, 0).size());
        assertEquals(7, readAll(reopened, 3).size());
    }

    @Test
    void shouldRebuildLostTransactionIndexFromAbortMarkersOnRecovery() throws Exception {
        Log log = open(Map.of());
        log.appendAsLeader(records(time.milliseconds(), "plain"), 0);                                   // 0
        log.appendAsLeader(Batches.transactional(7L, (short) 0, 0, time.milliseconds(), "t1", "t2"), 0); // 1-2
        log.appendAsLeader(Batches.marker(7L, (short) 0, ControlRecordType.ABORT, 3, time.milliseconds()), 0); // 3
        log.appendAsLeader(records(time.milliseconds(), "after"), 0);                                   // 4
        List<AbortedTxn> expected = List.of(new AbortedTxn(7L, 1, 3, 4));
        assertEquals(expected, log.collectAbortedTransactions(0, 5));
        open.remove(log); // crash: no close, no clean shutdown
        Path txnIndex = LogSegment.file(dir, 0, LogSegment.TXN_INDEX_SUFFIX);
        Files.delete(txnIndex);
        Log recovered = open(Map.of(), false, 0);
        assertTrue(recovered.recoveryReport().recovered());
        assertEquals(5, recovered.logEndOffset());
        assertEquals(expected, recovered.collectAbortedTransactions(0, 5));
        assertEquals(expected, recovered.collectAbortedTransactions(3, 4));
        assertTrue(Files.size(txnIndex) > 0, "the rebuilt index is on disk");
    }

    @Test
    void shouldRebuildTransactionIndexForTransactionStartedBeforeTheRecoveredSegment() throws Exception {
        Log log = open(Map.of());
        log.appendAsLeader(Batches.transactional(9L, (short) 2, 0, time.milliseconds(), "t1"), 0);      // 0
        long base = log.roll();                                                                            // fsyncs [0, 1)
        assertEquals(1, log.recoveryPoint());
        log.appendAsLeader(Batches.transactional(9L, (short) 2, 1, time.milliseconds(), "t2"), 0);      // 1
        log.appendAsLeader(Batches.marker(9L, (short) 2, ControlRecordType.ABORT, 0, time.milliseconds()), 0); // 2
        List<AbortedTxn> expected = List.of(new AbortedTxn(9L, 0, 2, 3));
        assertEquals(expected, log.collectAbortedTransactions(0, 3));
        long recoveryPoint = log.recoveryPoint();
        open.remove(log); // crash
        // the marker's segment lost its index, and the producer state must come from replaying segment 0
        Files.write(LogSegment.file(dir, base, LogSegment.TXN_INDEX_SUFFIX), new byte[0]);
        try (var files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".snapshot")).toList()) {
                Files.delete(p);
            }
        }
        Log recovered = open(Map.of(), false, recoveryPoint);
        assertEquals(3, recovered.logEndOffset());
        assertEquals(expected, recovered.collectAbortedTransactions(0, 3));
        assertTrue(recovered.firstUnstableOffset().isEmpty(), "the aborted transaction is closed");
    }

    @Test
    void shouldSkipRecoveryAfterCleanShutdown() throws Exception {
        Log log = open(Map.of());
        log.appendAsLeader(records(1, "a"), 0);
        log.close();
        open.remove(log);
        Log reopened = open(Map.of(), true, 1);
        assertFalse(reopened.recoveryReport().recovered());
        assertEquals(1, reopened.logEndOffset());
        assertEquals(1, reopened.recoveryPoint());
    }
}
