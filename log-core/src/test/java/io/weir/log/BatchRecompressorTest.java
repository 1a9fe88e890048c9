package io.weir.log;

import io.weir.common.record.CompressionType;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.Header;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The broker's recompression to a topic's codec keeps every field of the batch but the codec. */
class BatchRecompressorTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ByteBuffer idempotentTransactional(CompressionType codec) {
        RecordBatchBuilder b = new RecordBatchBuilder(codec).producer(4242L, (short) 7, 100).transactional(true)
            .partitionLeaderEpoch(3);
        b.append(1_000L, utf8("k0"), utf8("v0"), new Header("h", utf8("x")));
        b.append(900L, null, utf8("v1"));
        b.append(5_000L, utf8("k2"), null, new Header("a", null), new Header("b", utf8("yy")));
        return b.build();
    }

    private static List<String> describe(RecordBatch batch) {
        List<String> out = new ArrayList<>();
        Iterator<Record> it = batch.records();
        while (it.hasNext()) {
            Record r = it.next();
            StringBuilder sb = new StringBuilder().append(r.offset()).append('@').append(r.timestamp()).append(' ')
                .append(r.hasKey() ? new String(r.keyBytes(), StandardCharsets.UTF_8) : "null").append('=')
                .append(r.hasValue() ? new String(r.valueBytes(), StandardCharsets.UTF_8) : "null");
            for (Header h : r.headers()) {
                sb.append(" [").append(h.key()).append(':')
                    .append(h.value() == null ? "null" : new String(h.value(), StandardCharsets.UTF_8)).append(']');
            }
            out.add(sb.toString());
        }
        return out;
    }

    @Test
    void shouldRecompressToEveryCodecKeepingProducerFieldsOffsetsTimestampsAndHeaders() {
        for (CompressionType from : CompressionType.values()) {
            for (CompressionType to : CompressionType.values()) {
                RecordBatch original = new RecordBatch(idempotentTransactional(from));
                MemoryRecords in = MemoryRecords.readableRecords(idempotentTransactional(from));
                MemoryRecords out = BatchRecompressor.recompress(in, to, to.defaultLevel, 1 << 20);
                if (from == to) {
                    assertSame(in, out, from + " -> " + to);
                    continue;
                }
                RecordBatch b = out.iterator().next();
                b.ensureValid();
                String what = from + " -> " + to;
                assertEquals(to, b.compressionType(), what);
                assertEquals(4242L, b.producerId(), what);
                assertEquals(7, b.producerEpoch(), what);
                assertEquals(100, b.baseSequence(), what);
                assertEquals(102, b.lastSequence(), what);
                assertTrue(b.isTransactional(), what);
                assertEquals(3, b.partitionLeaderEpoch(), what);
                assertEquals(original.baseTimestamp(), b.baseTimestamp(), what);
                assertEquals(5_000L, b.maxTimestamp(), what);
                assertEquals(original.lastOffsetDelta(), b.lastOffsetDelta(), what);
                assertEquals(original.timestampType(), b.timestampType(), what);
                assertEquals(describe(original), describe(b), what);
            }
        }
    }

    @Test
    void shouldApplyTheLevelAndLeaveControlBatchesAndSameCodecBatchesAlone() {
        byte[] value = new byte[4000];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) ("abcdefgh".charAt(i % 8) + (i % 97 == 0 ? 1 : 0));
        }
        ByteBuffer plain = new RecordBatchBuilder(CompressionType.NONE).append(1L, null, value).build();
        ByteBuffer marker = new RecordBatchBuilder(CompressionType.NONE).producer(1L, (short) 0, -1).transactional(true)
            .appendControl(2L, ControlRecordType.COMMIT, 0).build();
        ByteBuffer already = new RecordBatchBuilder(CompressionType.GZIP).append(3L, null, value).build();
        ByteBuffer all = ByteBuffer.allocate(plain.remaining() + marker.remaining() + already.remaining());
        all.put(plain.duplicate()).put(marker.duplicate()).put(already.duplicate()).flip();
        MemoryRecords out = BatchRecompressor.recompress(MemoryRecords.readableRecords(all), CompressionType.GZIP, 9, 1 << 20);
        List<RecordBatch> batches = new ArrayList<>();
        out.forEach(batches::add);
        assertEquals(3, batches.size());
        assertEquals(CompressionType.GZIP, batches.get(0).compressionType());
        assertTrue(batches.get(0).sizeInBytes() < plain.remaining() / 4);
        assertEquals(marker, batches.get(1).slice());
        assertEquals(already, batches.get(2).slice());
        assertArrayEquals(value, batches.get(0).records().next().valueBytes());
    }

    @Test
    void shouldRefuseACorruptBatchBeforeDecompressingIt() {
        ByteBuffer b = new RecordBatchBuilder(CompressionType.NONE).append(1L, null, utf8("v")).build();
        b.put(b.limit() - 1, (byte) (b.get(b.limit() - 1) ^ 1));
        assertThrows(CorruptRecordException.class, () ->
            BatchRecompressor.recompress(MemoryRecords.readableRecords(b), CompressionType.LZ4, 9, 1 << 20));
    }
}
