package io.weir.tools;

import io.weir.common.record.CompressionType;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.Header;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DumpLogSegmentsTest {
    @TempDir
    Path dir;

    private static Result run(String... args) {
        return ToolRun.capture((out, err) -> DumpLogSegments.run(args, out, err));
    }

    private Path writeSegment(ByteBuffer... batches) throws IOException {
        Path log = dir.resolve("00000000000000000100.log");
        int size = 0;
        for (ByteBuffer b : batches) {
            size += b.remaining();
        }
        ByteBuffer all = ByteBuffer.allocate(size);
        for (ByteBuffer b : batches) {
            all.put(b.duplicate());
        }
        Files.write(log, all.array());
        return log;
    }

    private static ByteBuffer batch(long base, CompressionType type, int count) {
        RecordBatchBuilder b = new RecordBatchBuilder(type).baseOffset(base).producer(4L, (short) 0, (int) base);
        for (int i = 0; i < count; i++) {
            b.append(1_000L + i, ("k" + i).getBytes(StandardCharsets.UTF_8), ("v" + i).getBytes(StandardCharsets.UTF_8),
                new Header("trace", null));
        }
        return b.build();
    }

    @Test
    void shouldPrintOneLinePerBatchInKafkaShape() throws IOException {
        ByteBuffer first = batch(100, CompressionType.NONE, 100);
        ByteBuffer second = batch(200, CompressionType.ZSTD, 3);
        Path log = writeSegment(first, second);
        Result r = run("--files", log.toString());
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.lines();
        assertEquals("Dumping " + log, lines.get(0));
        assertEquals("Log starting offset: 100", lines.get(1));
        assertTrue(lines.get(2).startsWith("baseOffset: 100 lastOffset: 199 count: 100 baseSequence: 100 lastSequence: 199 producerId: 4 producerEpoch: 0"), lines.get(2));
        assertTrue(lines.get(2).contains("isTransactional: false isControl: false"), lines.get(2));
        assertTrue(lines.get(2).contains("position: 0 CreateTime: 1099 size: " + first.remaining()), lines.get(2));
        assertTrue(lines.get(2).endsWith("compresscodec: none crc: " + Integer.toUnsignedLong(first.getInt(17)) + " isvalid: true"), lines.get(2));
        assertTrue(lines.get(3).contains("position: " + first.remaining()) && lines.get(3).contains("compresscodec: zstd"), lines.get(3));
        assertEquals(4, lines.size());
    }

    @Test
    void shouldPrintRecordsWithPrintDataLog() throws IOException {
        ByteBuffer marker = new RecordBatchBuilder(CompressionType.NONE).baseOffset(102).producer(4L, (short) 0, -1)
            .transactional(true).appendControl(5L, ControlRecordType.COMMIT, 3).build();
        Path log = writeSegment(batch(100, CompressionType.LZ4, 2), marker);
        Result r = run("--files", log.toString(), "--print-data-log");
        assertEquals(0, r.status());
        List<String> lines = r.lines();
        assertEquals("| offset: 100 CreateTime: 1000 keySize: 2 valueSize: 2 sequence: 100 headerKeys: [trace] key: k0 payload: v0", lines.get(3));
        assertEquals("| offset: 101 CreateTime: 1001 keySize: 2 valueSize: 2 sequence: 101 headerKeys: [trace] key: k1 payload: v1", lines.get(4));
        assertTrue(lines.get(5).contains("isTransactional: true isControl: true"), lines.get(5));
        assertTrue(lines.get(6).endsWith("endTxnMarker: COMMIT coordinatorEpoch: 3"), lines.get(6));
    }

    @Test
    void shouldPrintSequenceMinusOneForABatchWithoutAProducerLikeKafka() throws IOException {
        ByteBuffer plain = new RecordBatchBuilder(CompressionType.NONE).baseOffset(100)
            .append(5L, "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8)).build();
        Result r = run("--files", writeSegment(plain).toString(), "--print-data-log");
        assertEquals(0, r.status(), r.err());
        assertEquals("| offset: 100 CreateTime: 5 keySize: 1 valueSize: 1 sequence: -1 headerKeys: [] key: k payload: v",
            r.lines().get(3));
    }

    @Test
    void shouldReportBadCrcAndTornTail() throws IOException {
        ByteBuffer good = batch(100, CompressionType.NONE, 5);
        ByteBuffer damaged = batch(105, CompressionType.NONE, 5);
        damaged.put(damaged.limit() - 2, (byte) (damaged.get(damaged.limit() - 2) ^ 1));
        ByteBuffer torn = batch(110, CompressionType.NONE, 5).limit(30);
        Path log = writeSegment(good, damaged, torn);
        Result r = run("--files", log.toString(), "--print-data-log");
        assertEquals(0, r.status());
        List<String> lines = r.lines();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("baseOffset: 105") && l.endsWith("isvalid: false")), r.out());
        assertTrue(lines.get(lines.size() - 1).startsWith("Found 30 invalid bytes at the end of 00000000000000000100.log"), r.out());
    }

    @Test
    void shouldNotAllocateForAHostileLength() throws IOException {
        ByteBuffer b = batch(100, CompressionType.NONE, 1);
        b.putInt(8, Integer.MAX_VALUE);
        Path log = writeSegment(b);
        Result r = run("--files", log.toString());
        assertTrue(r.out().contains("runs past the end of the file"), r.out());
    }

    @Test
    void shouldReportIndexEntriesPastTheLog() throws IOException {
        Path log = writeSegment(batch(100, CompressionType.NONE, 5));
        long logSize = Files.size(log);
        ByteBuffer idx = ByteBuffer.allocate(8 * 4);
        idx.putInt(0).putInt(0).putInt(3).putInt((int) logSize + 100); // second entry points past the log
        Files.write(dir.resolve("00000000000000000100.index"), idx.array());
        Result r = run("--files", dir.resolve("00000000000000000100.index").toString());
        assertEquals(0, r.status());
        assertTrue(r.out().contains("offset: 100 position: 0"), r.out());
        assertTrue(r.out().contains("entry 1 (offset 103) points to position " + (logSize + 100) + " past the end"), r.out());
        assertTrue(r.out().contains("1 index entries point past the end of the log"), r.out());

        ByteBuffer tidx = ByteBuffer.allocate(12 * 3);
        tidx.putLong(1_004L).putInt(4).putLong(9_999L).putInt(50);
        Files.write(dir.resolve("00000000000000000100.timeindex"), tidx.array());
        r = run("--files", dir.resolve("00000000000000000100.timeindex").toString());
        assertTrue(r.out().contains("timestamp: 1004 offset: 104"), r.out());
        assertTrue(r.out().contains("entry 1 points to offset 150 past the last offset 104"), r.out());
    }

    @Test
    void shouldPrintUsageAndFailOnBadFlag() {
        Result r = run("--no-such-flag");
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("Usage: weir-dump-log.sh"), r.err());
        assertNotEquals(0, run().status()); // --files is required
    }
}
