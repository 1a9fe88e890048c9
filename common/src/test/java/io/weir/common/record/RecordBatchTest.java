package io.weir.common.record;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecordBatchTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ByteBuffer sampleBatch(CompressionType type, int count) {
        RecordBatchBuilder b = new RecordBatchBuilder(type).baseOffset(100).producer(7L, (short) 3, 40);
        for (int i = 0; i < count; i++) {
            b.append(1_000L + i, utf8("k" + i), utf8("value-" + i), new Header("h", utf8("v" + i)));
        }
        return b.build();
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldRoundTripRecordsThroughEveryCodec(CompressionType type) {
        ByteBuffer buf = sampleBatch(type, 50);
        RecordBatch batch = new RecordBatch(buf);
        batch.ensureValid();
        assertEquals(type, batch.compressionType());
        assertEquals(100, batch.baseOffset());
        assertEquals(149, batch.lastOffset());
        assertEquals(50, batch.recordCount());
        assertEquals(1_049L, batch.maxTimestamp());
        assertEquals(7L, batch.producerId());
        assertEquals(3, batch.producerEpoch());
        assertEquals(40, batch.baseSequence());
        assertEquals(89, batch.lastSequence());
        assertEquals(buf.limit(), batch.sizeInBytes());
        int i = 0;
        for (Iterator<Record> it = batch.records(); it.hasNext(); i++) {
            Record r = it.next();
            assertEquals(100 + i, r.offset());
            assertEquals(1_000L + i, r.timestamp());
            assertEquals(40 + i, r.sequence());
            assertArrayEquals(utf8("k" + i), r.keyBytes());
            assertArrayEquals(utf8("value-" + i), r.valueBytes());
            assertEquals(1, r.headers().length);
            assertEquals(new Header("h", utf8("v" + i)), r.headers()[0]);
        }
        assertEquals(50, i);
    }

    @Test
    void shouldCompressRepetitiveRecords() {
        for (CompressionType type : new CompressionType[] {CompressionType.GZIP, CompressionType.SNAPPY,
            CompressionType.LZ4, CompressionType.ZSTD}) {
            int plain = sampleBatch(CompressionType.NONE, 200).limit();
            int compressed = sampleBatch(type, 200).limit();
            assertTrue(compressed < plain, type + ": " + compressed + " >= " + plain);
        }
    }

    @Test
    void shouldKeepNullKeysValuesAndHeaderValues() {
        ByteBuffer buf = new RecordBatchBuilder(CompressionType.NONE)
            .append(5L, (byte[]) null, null, new Header("n", null)).build();
        Record r = new RecordBatch(buf).records().next();
        assertFalse(r.hasKey());
        assertFalse(r.hasValue());
        assertNull(r.key());
        assertNull(r.headers()[0].value());
    }

    @Test
    void shouldAssignOffsetsInPlaceWithoutInvalidatingCrc() {
        ByteBuffer buf = sampleBatch(CompressionType.LZ4, 10);
        RecordBatch batch = new RecordBatch(buf);
        long crc = batch.checksum();
        batch.setBaseOffset(5_000);
        batch.setPartitionLeaderEpoch(9);
        batch.ensureValid();
        assertEquals(crc, batch.checksum());
        assertEquals(5_009, batch.lastOffset());
        assertEquals(9, batch.partitionLeaderEpoch());
        assertEquals(5_003, readAll(batch).get(3).offset());
    }

    @Test
    void shouldBuildControlBatches() {
        ByteBuffer buf = new RecordBatchBuilder(CompressionType.NONE).producer(11L, (short) 2, -1).transactional(true)
            .appendControl(77L, ControlRecordType.COMMIT, 4).build();
        RecordBatch batch = new RecordBatch(buf);
        batch.ensureValid();
        assertTrue(batch.isControlBatch());
        assertTrue(batch.isTransactional());
        assertEquals(ControlRecordType.COMMIT, batch.controlType());
        assertEquals(4, ControlRecordType.coordinatorEpoch(batch.records().next().value()));
    }

    @Test
    void shouldStoreDeleteHorizonInBaseTimestampAndKeepRecordTimestamps() {
        ByteBuffer buf = new RecordBatchBuilder(CompressionType.NONE).deleteHorizonMs(10_000L)
            .append(3_000L, utf8("a"), null).append(12_000L, utf8("b"), utf8("x")).build();
        RecordBatch batch = new RecordBatch(buf);
        assertTrue(batch.hasDeleteHorizon());
        assertEquals(10_000L, batch.deleteHorizonMs());
        List<Record> records = readAll(batch);
        assertEquals(3_000L, records.get(0).timestamp());
        assertEquals(12_000L, records.get(1).timestamp());
        assertEquals(12_000L, batch.maxTimestamp());
    }

    @Test
    void shouldApplyLogAppendTimeToEveryRecord() {
        ByteBuffer buf = new RecordBatchBuilder(CompressionType.NONE).timestampType(TimestampType.LOG_APPEND_TIME)
            .append(1L, utf8("a"), utf8("b")).append(2L, utf8("a"), utf8("b")).build();
        RecordBatch batch = new RecordBatch(buf);
        assertEquals(TimestampType.LOG_APPEND_TIME, batch.timestampType());
        for (Record r : readAll(batch)) {
            assertEquals(batch.maxTimestamp(), r.timestamp());
        }
    }

    @Test
    void shouldRejectBatchWithBadCrc() {
        ByteBuffer buf = sampleBatch(CompressionType.NONE, 5);
        int i = buf.limit() - 3;
        buf.put(i, (byte) (buf.get(i) ^ 0x40));
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> new RecordBatch(buf).ensureValid());
        assertTrue(e.getMessage().contains("CRC"), e.getMessage());
        assertFalse(new RecordBatch(buf).isValid());
    }

    @Test
    void shouldRejectWrongMagic() {
        ByteBuffer buf = sampleBatch(CompressionType.NONE, 5);
        buf.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> new RecordBatch(buf).ensureValid());
        assertTrue(e.getMessage().contains("magic 1"), e.getMessage());
    }

    @Test
    void shouldRejectLengthThatOverrunsTheBuffer() {
        ByteBuffer buf = sampleBatch(CompressionType.NONE, 5);
        buf.putInt(RecordBatch.LENGTH_OFFSET, Integer.MAX_VALUE - 100);
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> new RecordBatch(buf).ensureValid());
        assertTrue(e.getMessage().contains("bytes follow"), e.getMessage());
        assertThrows(CorruptRecordException.class,
            () -> MemoryRecords.readableRecords(buf).strictBatches().iterator().hasNext());
        assertFalse(MemoryRecords.readableRecords(buf).iterator().hasNext(), "a partial batch ends lenient iteration");
    }

    @Test
    void shouldRejectLengthShorterThanTheHeader() {
        ByteBuffer buf = sampleBatch(CompressionType.NONE, 5);
        buf.putInt(RecordBatch.LENGTH_OFFSET, 10);
        assertThrows(CorruptRecordException.class, () -> new RecordBatch(buf).ensureValid());
        assertThrows(CorruptRecordException.class, () -> MemoryRecords.readableRecords(buf).iterator().hasNext());
    }

    @Test
    void shouldRejectRecordCountThatDoesNotMatch() {
        ByteBuffer more = withRecordCount(sampleBatch(CompressionType.NONE, 5), 6);
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> readAll(new RecordBatch(more)));
        // caught by the header check: lastOffsetDelta 4 cannot cover 6 records
        assertTrue(e.getMessage().contains("6 records"), e.getMessage());
        ByteBuffer moreWithDelta = sampleBatch(CompressionType.NONE, 5);
        moreWithDelta.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 5);
        withRecordCount(moreWithDelta, 6);
        e = assertThrows(CorruptRecordException.class, () -> readAll(new RecordBatch(moreWithDelta)));
        assertTrue(e.getMessage().contains("holds only 5"), e.getMessage());

        ByteBuffer fewer = withRecordCount(sampleBatch(CompressionType.GZIP, 5), 4);
        e = assertThrows(CorruptRecordException.class, () -> readAll(new RecordBatch(fewer)));
        assertTrue(e.getMessage().contains("bytes left after"), e.getMessage());
    }

    @Test
    void shouldRejectHostileRecordCountWithoutAllocating() {
        ByteBuffer buf = withRecordCount(sampleBatch(CompressionType.NONE, 1), Integer.MAX_VALUE);
        assertThrows(CorruptRecordException.class, () -> new RecordBatch(buf).ensureValid());
    }

    @Test
    void shouldRejectNegativeRecordLength() {
        ByteBuffer buf = sampleBatch(CompressionType.NONE, 2);
        buf.put(RecordBatch.RECORDS_OFFSET, (byte) 0x01); // zig-zag 1 = -1
        fixCrc(buf);
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> readAll(new RecordBatch(buf)));
        assertTrue(e.getMessage().contains("length -1"), e.getMessage());
    }

    @Test
    void shouldRejectOverlongVarint() {
        ByteBuffer buf = sampleBatch(CompressionType.NONE, 2);
        for (int i = 0; i < 6; i++) {
            buf.put(RecordBatch.RECORDS_OFFSET + i, (byte) 0xff);
        }
        fixCrc(buf);
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> readAll(new RecordBatch(buf)));
        assertTrue(e.getMessage().contains("varint"), e.getMessage());
    }

    @Test
    void shouldRejectHostileKeyLength() {
        ByteBuffer buf = new RecordBatchBuilder(CompressionType.NONE).append(1L, utf8("key"), utf8("v")).build();
        // record: length varint(1 byte) attributes(1) tsDelta(1) offsetDelta(1) keyLength(1)
        int keyLengthAt = RecordBatch.RECORDS_OFFSET + 4;
        assertEquals(6, buf.get(keyLengthAt)); // zig-zag of 3
        buf.put(keyLengthAt, (byte) 0x7e); // zig-zag 63: far more than remains
        fixCrc(buf);
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> readAll(new RecordBatch(buf)));
        assertTrue(e.getMessage().contains("key length 63"), e.getMessage());
    }

    @Test
    void shouldRejectUnknownCompressionId() {
        ByteBuffer buf = sampleBatch(CompressionType.NONE, 2);
        buf.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) 6);
        fixCrc(buf);
        assertThrows(CorruptRecordException.class, () -> new RecordBatch(buf).ensureValid());
    }

    @Test
    void shouldRejectCorruptCompressedPayload() {
        ByteBuffer buf = sampleBatch(CompressionType.LZ4, 20);
        buf.put(RecordBatch.RECORDS_OFFSET + 10, (byte) 0x55);
        buf.put(RecordBatch.RECORDS_OFFSET + 11, (byte) 0x55);
        fixCrc(buf);
        assertThrows(CorruptRecordException.class, () -> readAll(new RecordBatch(buf)));
    }

    @Test
    void shouldRefuseToDecompressBeyondTheBound() {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.ZSTD);
        for (int i = 0; i < 100; i++) {
            b.append(1L, null, new byte[10_000]);
        }
        RecordBatch batch = new RecordBatch(b.build());
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> batch.records(100_000).next());
        assertTrue(e.getMessage().contains("more than 100000"), e.getMessage());
    }

    @Test
    void shouldIterateSeveralBatchesInOneBuffer() {
        ByteBuffer a = sampleBatch(CompressionType.NONE, 3);
        ByteBuffer b = sampleBatch(CompressionType.SNAPPY, 4);
        ByteBuffer all = ByteBuffer.allocate(a.limit() + b.limit() + 20);
        all.put(a.duplicate()).put(b.duplicate()).put(new byte[20]).flip();
        MemoryRecords records = MemoryRecords.readableRecords(all);
        Iterator<RecordBatch> it = records.iterator();
        assertEquals(3, it.next().recordCount());
        assertEquals(CompressionType.SNAPPY, it.next().compressionType());
        // the trailing 20 zero bytes read as a batch of length 0: corrupt, not a partial batch
        assertThrows(CorruptRecordException.class, it::hasNext);

        ByteBuffer partial = ByteBuffer.allocate(a.limit() + b.limit() - 7);
        partial.put(a.duplicate()).put(b.duplicate().limit(b.limit() - 7)).flip();
        MemoryRecords withPartialTail = MemoryRecords.readableRecords(partial);
        List<RecordBatch> batches = new ArrayList<>();
        withPartialTail.forEach(batches::add);
        assertEquals(1, batches.size());
        assertEquals(a.limit(), withPartialTail.validBytes());
    }

    static List<Record> readAll(RecordBatch batch) {
        List<Record> out = new ArrayList<>();
        batch.records().forEachRemaining(out::add);
        return out;
    }

    private static ByteBuffer withRecordCount(ByteBuffer buf, int count) {
        buf.putInt(RecordBatch.RECORDS_COUNT_OFFSET, count);
        fixCrc(buf);
        return buf;
    }

    private static void fixCrc(ByteBuffer buf) {
        RecordBatch b = new RecordBatch(buf);
        buf.putInt(RecordBatch.CRC_OFFSET, (int) b.computeChecksum());
    }

    @Test
    void shouldReportDamagedSnappyChunkLengthAsCorruption() {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.SNAPPY);
        b.append(1L, "k".getBytes(StandardCharsets.UTF_8), "some value".getBytes(StandardCharsets.UTF_8));
        ByteBuffer buf = b.build();
        // the snappy stream: a 16-byte header, then per chunk a 4-byte length; make the first length negative
        buf.putInt(RecordBatch.RECORDS_OFFSET + 16, 0xfcffff0b);
        RecordBatch batch = new RecordBatch(buf);
        buf.putInt(RecordBatch.CRC_OFFSET, (int) batch.computeChecksum());
        // snappy-java signals this with SnappyError, an Error: it must not escape as one
        assertThrows(CorruptRecordException.class, () -> batch.records(1 << 20).forEachRemaining(r -> { }));
    }
}
