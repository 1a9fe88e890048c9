package io.weir.common.record;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecordCursorTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldReadEveryFieldOfEveryRecordThroughEveryCodec(CompressionType type) {
        RecordBatchBuilder b = new RecordBatchBuilder(type).baseOffset(200).producer(9L, (short) 1, 10);
        for (int i = 0; i < 30; i++) {
            // every third record: no key, every fifth: a tombstone, every other: two headers (one null-valued)
            byte[] key = i % 3 == 0 ? null : utf8("kéy-" + i);
            byte[] value = i % 5 == 0 ? null : utf8("value-" + i);
            Header[] headers = i % 2 == 0 ? new Header[0]
                : new Header[] {new Header("h", utf8("v" + i)), new Header("n", null)};
            b.append(5_000L + i, key, value, headers);
        }
        RecordBatch batch = new RecordBatch(b.build());
        RecordCursor cursor = new RecordCursor().reset(batch, RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES);
        java.util.Iterator<Record> records = batch.records();
        int i = 0;
        while (cursor.next()) {
            Record r = records.next();
            assertEquals(200 + i, cursor.offset());
            assertEquals(5_000L + i, cursor.timestamp());
            assertEquals(10 + i, cursor.sequence());
            assertEquals(r.sizeInBytes(), cursor.sizeInBytes());
            byte[] key = i % 3 == 0 ? null : utf8("kéy-" + i);
            byte[] value = i % 5 == 0 ? null : utf8("value-" + i);
            assertArrayEquals(key, cursor.keyBytes());
            assertArrayEquals(value, cursor.valueBytes());
            assertEquals(key == null ? -1 : key.length, cursor.keyLength());
            assertEquals(value == null ? -1 : value.length, cursor.valueLength());
            assertEquals(key == null ? null : "kéy-" + i, cursor.keyString(StandardCharsets.UTF_8));
            assertEquals(value == null ? null : "value-" + i, cursor.valueString(StandardCharsets.UTF_8));
            assertEquals(key == null ? null : ByteBuffer.wrap(key), cursor.key());
            assertEquals(value == null ? null : ByteBuffer.wrap(value), cursor.value());
            if (value != null) {
                assertTrue(cursor.value().isReadOnly());
            }
            if (i % 2 == 0) {
                assertEquals(0, cursor.headerCount());
                assertEquals(0, cursor.headers().length);
            } else {
                assertArrayEquals(new Header[] {new Header("h", utf8("v" + i)), new Header("n", null)}, cursor.headers());
            }
            assertArrayEquals(r.headers(), cursor.headers());
            i++;
        }
        assertEquals(30, i);
        assertFalse(records.hasNext());
    }

    @Test
    void shouldShareOneEmptyHeaderArrayForRecordsWithoutHeaders() {
        RecordBatch batch = new RecordBatch(new RecordBatchBuilder(CompressionType.NONE)
            .append(1L, utf8("a"), utf8("b")).append(2L, utf8("c"), utf8("d")).build());
        RecordCursor cursor = new RecordCursor().reset(batch, RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES);
        assertTrue(cursor.next());
        Header[] first = cursor.headers();
        assertTrue(cursor.next());
        assertSame(first, cursor.headers());
        assertFalse(cursor.next());
    }

    @Test
    void shouldGiveLogAppendTimeRecordsTheBatchMaxTimestamp() {
        ByteBuffer buf = new RecordBatchBuilder(CompressionType.NONE).timestampType(TimestampType.LOG_APPEND_TIME)
            .append(1L, utf8("a"), utf8("b")).append(7L, utf8("c"), utf8("d")).build();
        RecordCursor cursor = new RecordCursor().reset(new RecordBatch(buf), RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES);
        assertTrue(cursor.next());
        assertEquals(7L, cursor.timestamp());
        assertTrue(cursor.next());
        assertEquals(7L, cursor.timestamp());
    }

    @Test
    void shouldWalkOneBatchAfterAnotherWithOneCursor() {
        RecordCursor cursor = new RecordCursor();
        for (int n = 1; n <= 3; n++) {
            RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.LZ4).baseOffset(n * 100L);
            for (int i = 0; i < n; i++) {
                b.append(i, utf8("k"), utf8("v" + n + "-" + i));
            }
            cursor.reset(new RecordBatch(b.build()), RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES);
            for (int i = 0; i < n; i++) {
                assertTrue(cursor.next());
                assertEquals(n * 100L + i, cursor.offset());
                assertEquals("v" + n + "-" + i, cursor.valueString(StandardCharsets.UTF_8));
            }
            assertFalse(cursor.next());
        }
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldReuseOneDecompressionBufferAcrossBatchesOfEverySize(CompressionType type) {
        RecordCursor cursor = new RecordCursor(true);
        for (int n : new int[] {40, 3, 200, 1, 0, 90}) {
            RecordBatchBuilder b = new RecordBatchBuilder(type).baseOffset(n * 1000L);
            for (int i = 0; i < n; i++) {
                b.append(i, utf8("k" + n), utf8("value " + n + "/" + i + " " + "z".repeat(i % 97)));
            }
            if (n == 0) {
                continue; // a batch needs a record
            }
            cursor.reset(new RecordBatch(b.build()), RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES);
            for (int i = 0; i < n; i++) {
                assertTrue(cursor.next());
                assertEquals(n * 1000L + i, cursor.offset());
                assertArrayEquals(utf8("k" + n), cursor.keyBytes());
                assertEquals("value " + n + "/" + i + " " + "z".repeat(i % 97), cursor.valueString(StandardCharsets.UTF_8));
            }
            assertFalse(cursor.next());
        }
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void shouldRefuseToDecompressPastTheBoundWithOrWithoutScratch(CompressionType type) {
        RecordBatchBuilder b = new RecordBatchBuilder(type);
        for (int i = 0; i < 100; i++) {
            b.append(i, null, new byte[1000]);
        }
        RecordBatch batch = new RecordBatch(b.build());
        assertThrows(CorruptRecordException.class, () -> new RecordCursor().reset(batch, 50_000));
        assertThrows(CorruptRecordException.class, () -> new RecordCursor(true).reset(batch, 50_000));
        ByteBuffer region = batch.recordsRegion();
        assertThrows(CorruptRecordException.class, () -> type.decompress(region, 50_000, new byte[10]));
        assertThrows(CorruptRecordException.class, () -> type.decompress(region, 50_000, new byte[60_000]));
        int size = type.decompress(region, 1 << 20).remaining();
        byte[] scratch = new byte[size];
        assertSame(scratch, type.decompress(region, size, scratch).array()); // exactly the bound fits
        assertEquals(size, type.decompress(region, size, new byte[7]).remaining());
    }

    @Test
    void shouldRejectARecordWhoseValueRunsPastItsEnd() {
        ByteBuffer buf = new RecordBatchBuilder(CompressionType.NONE).append(1L, utf8("key"), utf8("value")).build();
        // the record: length, attributes, timestampDelta, offsetDelta, keyLength(3) "key", valueLength(5) "value", 0
        int valueLength = RecordBatch.RECORDS_OFFSET + 1 + 1 + 1 + 1 + 1 + 3;
        assertEquals(10, buf.get(valueLength)); // zigzag 5
        buf.put(valueLength, (byte) 40);        // zigzag 20: past the record
        RecordCursor cursor = new RecordCursor().reset(new RecordBatch(buf), RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES);
        CorruptRecordException e = assertThrows(CorruptRecordException.class, cursor::next);
        assertTrue(e.getMessage().contains("value length 20"), e.getMessage());
    }

    @Test
    void shouldRejectABatchClaimingMoreRecordsThanItHolds() {
        ByteBuffer buf = new RecordBatchBuilder(CompressionType.NONE).append(1L, utf8("k"), utf8("v")).build();
        buf.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 2);
        buf.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 1);
        RecordCursor cursor = new RecordCursor().reset(new RecordBatch(buf), RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES);
        assertTrue(cursor.next());
        CorruptRecordException e = assertThrows(CorruptRecordException.class, cursor::next);
        assertTrue(e.getMessage().contains("claims 2 records"), e.getMessage());
    }

    @Test
    void shouldCheckTheBatchHeaderButNotTheCrcOnReset() {
        ByteBuffer buf = new RecordBatchBuilder(CompressionType.NONE).append(1L, utf8("k"), utf8("v")).build();
        buf.putInt(RecordBatch.CRC_OFFSET, buf.getInt(RecordBatch.CRC_OFFSET) ^ 1);
        RecordCursor cursor = new RecordCursor().reset(new RecordBatch(buf), RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES);
        assertTrue(cursor.next()); // the CRC is RecordBatch.ensureValid's job
        assertThrows(CorruptRecordException.class, () -> new RecordBatch(buf).ensureValid());
        buf.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
        assertThrows(CorruptRecordException.class, () -> cursor.reset(new RecordBatch(buf), 1 << 20));
    }
}
