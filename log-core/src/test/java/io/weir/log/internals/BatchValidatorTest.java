package io.weir.log.internals;

import io.weir.common.record.CompressionType;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.Header;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.record.RecordError;
import io.weir.common.record.RecordTooLargeException;
import io.weir.log.AppendOrigin;
import io.weir.log.BatchValidator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.weir.log.testing.BatchSurgery.batch;
import static io.weir.log.testing.BatchSurgery.edit;
import static io.weir.log.testing.BatchSurgery.records;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchValidatorTest {
    private static final BatchValidator.Rules CLIENT = new BatchValidator.Rules(AppendOrigin.CLIENT, false, 1 << 20);
    private static final BatchValidator.Rules COMPACTED = new BatchValidator.Rules(AppendOrigin.CLIENT, true, 1 << 20);
    private static final BatchValidator.Rules FOLLOWER = new BatchValidator.Rules(AppendOrigin.REPLICATION, false, 1 << 20);
    private static final int FIRST_RECORD = RecordBatch.RECORDS_OFFSET;

    private static void valid(ByteBuffer b, BatchValidator.Rules rules) {
        BatchValidator.validate(records(b), rules, "t-0");
    }

    private static InvalidRecordException invalid(ByteBuffer b, BatchValidator.Rules rules) {
        return assertThrows(InvalidRecordException.class, () -> valid(b, rules));
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldAcceptValidBatchesOfEveryCodec(CompressionType codec) {
        valid(batch(codec, 1), CLIENT);
        valid(batch(codec, 50), COMPACTED);
        RecordBatchBuilder b = new RecordBatchBuilder(codec).producer(7L, (short) 1, 0);
        b.append(1L, "k".getBytes(), null, new Header("h", "x".getBytes()), new Header("n", null));
        b.append(2L, (byte[]) null, new byte[300]);
        valid(b.build(), CLIENT);
    }

    @Test
    void shouldRejectCountThatDisagreesWithLastOffsetDelta() {
        ByteBuffer b = edit(batch(CompressionType.NONE, 10),
            x -> x.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, Integer.MAX_VALUE));
        assertTrue(invalid(b, CLIENT).getMessage().contains("lastOffsetDelta"));
        ByteBuffer fewer = edit(batch(CompressionType.NONE, 10), x -> x.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 9));
        invalid(fewer, CLIENT);
    }

    @Test
    void shouldRejectZeroCountWithRecordsPresent() {
        ByteBuffer b = edit(batch(CompressionType.NONE, 3), x -> {
            x.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 0);
            x.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, -1);
        });
        invalid(b, CLIENT);
        invalid(b, FOLLOWER); // bytes left after zero records
    }

    @Test
    void shouldRejectRecordLengthRunningPastTheBatch() {
        ByteBuffer b = edit(batch(CompressionType.NONE, 2), x -> x.put(FIRST_RECORD, (byte) 0x7e));
        assertTrue(invalid(b, CLIENT).getMessage().contains("runs past"));
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void shouldRejectCompressedAttributeOverBytesThatDoNotDecompress(CompressionType codec) {
        ByteBuffer b = edit(batch(CompressionType.NONE, 4),
            x -> x.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) codec.id));
        assertTrue(invalid(b, CLIENT).getMessage().contains("decompress"), codec.name());
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void shouldWalkTheRecordsOfCompressedBatches(CompressionType codec) {
        // a compressed batch claiming one record more than it holds
        ByteBuffer b = edit(batch(codec, 5), x -> {
            x.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 6);
            x.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 5);
        });
        invalid(b, CLIENT);
    }

    @Test
    void shouldRejectOffsetDeltasOutOfOrder() {
        // record 0 of "k0"/"v0" is 11 bytes: its offset delta is byte 3 (length, attributes, timestamp delta)
        ByteBuffer b = edit(batch(CompressionType.NONE, 2), x -> x.put(FIRST_RECORD + 3, (byte) 2));
        assertTrue(invalid(b, CLIENT).getMessage().contains("offset delta"));
    }

    @Test
    void shouldRejectKeyLengthRunningPastTheRecord() {
        ByteBuffer b = edit(batch(CompressionType.NONE, 2), x -> x.put(FIRST_RECORD + 4, (byte) 0x10));
        assertTrue(invalid(b, CLIENT).getMessage().contains("key length"));
    }

    @Test
    void shouldRejectHeaderCountThatDoesNotFit() {
        // the header count is the record's last byte (record 0 ends at FIRST_RECORD + 11)
        ByteBuffer b = edit(batch(CompressionType.NONE, 2), x -> x.put(FIRST_RECORD + 10, (byte) 2));
        assertTrue(invalid(b, CLIENT).getMessage().contains("header"));
    }

    @Test
    void shouldRejectBytesLeftAfterTheLastRecord() {
        ByteBuffer good = batch(CompressionType.NONE, 2);
        ByteBuffer longer = ByteBuffer.allocate(good.remaining() + 3).put(good.duplicate()).flip();
        longer.limit(longer.capacity());
        longer.putInt(RecordBatch.LENGTH_OFFSET, longer.getInt(RecordBatch.LENGTH_OFFSET) + 3);
        ByteBuffer b = edit(longer, x -> { });
        assertTrue(invalid(b, CLIENT).getMessage().contains("left after"));
    }

    @Test
    void shouldAnswerCorruptForBadCrcOrMagic() {
        ByteBuffer crc = batch(CompressionType.NONE, 2);
        crc.put(FIRST_RECORD + 6, (byte) 'x');
        assertThrows(CorruptRecordException.class, () -> valid(crc, CLIENT));
        ByteBuffer magic = batch(CompressionType.NONE, 2);
        magic.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
        assertThrows(CorruptRecordException.class, () -> valid(magic, CLIENT));
        ByteBuffer partial = batch(CompressionType.NONE, 2);
        partial.limit(partial.limit() - 1);
        assertThrows(CorruptRecordException.class, () -> valid(partial, CLIENT));
    }

    @Test
    void shouldRefuseControlBatchesFromClientsOnly() {
        ByteBuffer marker = new RecordBatchBuilder(CompressionType.NONE).producer(3L, (short) 0, RecordBatch.NO_SEQUENCE)
            .transactional(true).appendControl(5L, ControlRecordType.COMMIT, 0).build();
        assertTrue(invalid(marker, CLIENT).getMessage().contains("control"));
        valid(marker, new BatchValidator.Rules(AppendOrigin.COORDINATOR, false, 1 << 20));
        valid(marker, FOLLOWER);
    }

    @Test
    void shouldRequireConsistentProducerFieldsFromClients() {
        ByteBuffer noSequence = new RecordBatchBuilder(CompressionType.NONE).producer(3L, (short) 0, -1)
            .append(1L, "k".getBytes(), "v".getBytes()).build();
        assertTrue(invalid(noSequence, CLIENT).getMessage().contains("sequence"));
        ByteBuffer noEpoch = edit(new RecordBatchBuilder(CompressionType.NONE).producer(3L, (short) 0, 0)
            .append(1L, "k".getBytes(), "v".getBytes()).build(), x -> x.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, (short) -1));
        assertTrue(invalid(noEpoch, CLIENT).getMessage().contains("epoch"));
        ByteBuffer txnWithoutProducer = edit(batch(CompressionType.NONE, 1),
            x -> x.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) 0x10));
        assertTrue(invalid(txnWithoutProducer, CLIENT).getMessage().contains("transactional"));
        ByteBuffer negativeId = edit(batch(CompressionType.NONE, 1), x -> x.putLong(RecordBatch.PRODUCER_ID_OFFSET, -7L));
        invalid(negativeId, CLIENT);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldNameEveryKeylessRecordOfACompactedTopic(CompressionType codec) {
        RecordBatchBuilder b = new RecordBatchBuilder(codec);
        for (int i = 0; i < 10; i++) {
            b.append(1L, i % 3 == 1 ? null : ("k" + i).getBytes(StandardCharsets.UTF_8), "v".getBytes());
        }
        ByteBuffer batch = b.build();
        valid(batch, CLIENT);
        InvalidRecordException e = invalid(batch, COMPACTED);
        assertEquals(List.of(1, 4, 7), e.recordErrors().stream().map(RecordError::batchIndex).toList());
        assertTrue(e.getMessage().contains("3 of 10 records"), e.getMessage());
    }

    @Test
    void shouldAcceptCompactedBatchesFromFollowers() {
        // a cleaned batch: offset range 0..9 with only offsets 2 and 7 left
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        b.appendWithOffset(2, 1L, ByteBuffer.wrap("a".getBytes()), ByteBuffer.wrap("1".getBytes()));
        b.appendWithOffset(7, 1L, ByteBuffer.wrap("b".getBytes()), ByteBuffer.wrap("2".getBytes()));
        ByteBuffer cleaned = edit(b.build(), x -> x.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 9));
        valid(cleaned, FOLLOWER);
        invalid(cleaned, CLIENT);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldAcceptHeaderOnlyBatchesFromFollowersOnly(CompressionType codec) {
        // what Kafka's cleaner leaves of a batch whose records were all removed: a header, no records section
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        header.putInt(RecordBatch.LENGTH_OFFSET, RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD);
        header.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC);
        header.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) codec.id);
        header.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 4);
        header.putLong(RecordBatch.PRODUCER_ID_OFFSET, 5L);
        ByteBuffer b = edit(header, x -> { });
        valid(b, FOLLOWER);
        invalid(b, CLIENT);
    }

    @Test
    void shouldRejectOversizedBatchesExceptFromFollowers() {
        ByteBuffer b = batch(CompressionType.NONE, 10);
        assertThrows(RecordTooLargeException.class,
            () -> valid(b, new BatchValidator.Rules(AppendOrigin.CLIENT, false, 50)));
        valid(b, new BatchValidator.Rules(AppendOrigin.REPLICATION, false, 50));
    }

    @Test
    void shouldBoundDecompressionOfABomb() {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.ZSTD);
        b.append(1L, "k".getBytes(), new byte[4 << 20]);
        ByteBuffer bomb = b.build();
        assertTrue(bomb.remaining() < 4096);
        // 64 x max(batch, max.message.bytes) is far below 4 MiB here
        InvalidRecordException e = invalid(bomb, new BatchValidator.Rules(AppendOrigin.CLIENT, false, 8192));
        assertTrue(e.getMessage().contains("more than"), e.getMessage());
        valid(bomb, CLIENT); // the default bound (64 MiB) takes well-compressing data
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void shouldWalkCompressedRecordsInBoundedMemory(CompressionType codec) {
        RecordBatchBuilder b = new RecordBatchBuilder(codec);
        b.append(1L, "k".getBytes(), new byte[16 << 20]);
        b.append(2L, "k".getBytes(), new byte[16 << 20]);
        ByteBuffer batch = b.build();
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long threadId = Thread.currentThread().getId();
        long before = mx.getThreadAllocatedBytes(threadId);
        valid(batch, new BatchValidator.Rules(AppendOrigin.CLIENT, false, 4 << 20)); // snappy: 1.5 MB of frames
        long allocated = mx.getThreadAllocatedBytes(threadId) - before;
        // 32 MiB of records walked; the validator holds one chunk and the codec's buffers, not the records
        assertTrue(allocated < 4 << 20, codec + " allocated " + allocated + " bytes");
    }

    @Test
    void shouldValidateEveryBatchOfARequest() {
        ByteBuffer good = batch(CompressionType.NONE, 2);
        ByteBuffer bad = edit(batch(CompressionType.NONE, 2), x -> x.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 0));
        ByteBuffer both = ByteBuffer.allocate(good.remaining() + bad.remaining()).put(good.duplicate()).put(bad.duplicate()).flip();
        assertThrows(InvalidRecordException.class, () -> BatchValidator.validate(MemoryRecords.readableRecords(both), CLIENT, "t-0"));
    }
}
