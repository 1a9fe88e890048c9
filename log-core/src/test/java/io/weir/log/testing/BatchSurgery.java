package io.weir.log.testing;

import io.weir.common.record.CompressionType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.utils.Crc32c;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Makes CRC-valid but malformed batches for validation tests: edit a valid batch's bytes, then
 * {@link #fixCrc} so that only the validator's deeper rules can catch the damage.
 */
public final class BatchSurgery {
    private BatchSurgery() {
    }

    /** One batch of {@code n} records "k&lt;i&gt;" = "v&lt;i&gt;" in {@code compression}. */
    public static ByteBuffer batch(CompressionType compression, int n) {
        RecordBatchBuilder b = new RecordBatchBuilder(compression);
        for (int i = 0; i < n; i++) {
            b.append(1_000L + i, ("k" + i).getBytes(StandardCharsets.UTF_8), ("v" + i).getBytes(StandardCharsets.UTF_8));
        }
        return b.build();
    }

    /** A copy of {@code batch} with {@code edit} applied to its bytes (absolute indexes) and the CRC fixed. */
    public static ByteBuffer edit(ByteBuffer batch, Consumer<ByteBuffer> edit) {
        ByteBuffer copy = ByteBuffer.allocate(batch.remaining()).put(batch.duplicate()).flip();
        edit.accept(copy);
        return fixCrc(copy);
    }

    /** Recomputes the CRC of the batch at position 0 (its length field says how far it goes). */
    public static ByteBuffer fixCrc(ByteBuffer b) {
        int size = RecordBatch.LOG_OVERHEAD + b.getInt(RecordBatch.LENGTH_OFFSET);
        long crc = Crc32c.compute(b, RecordBatch.ATTRIBUTES_OFFSET, size - RecordBatch.ATTRIBUTES_OFFSET);
        b.putInt(RecordBatch.CRC_OFFSET, (int) crc);
        return b;
    }

    /**
     * Recomputes the CRC of each batch in {@code buf} (absolute indexes from 0) whose length field fits;
     * stops at the first that does not. Fuzz targets use it to get past the CRC to the rules behind it.
     */
    public static void fixAllCrcs(ByteBuffer buf) {
        int at = 0;
        while (buf.limit() - at >= RecordBatch.HEADER_SIZE) {
            int length = buf.getInt(at + RecordBatch.LENGTH_OFFSET);
            if (length < RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD || length > buf.limit() - at - RecordBatch.LOG_OVERHEAD) {
                return;
            }
            int size = RecordBatch.LOG_OVERHEAD + length;
            long crc = Crc32c.compute(buf, at + RecordBatch.ATTRIBUTES_OFFSET, size - RecordBatch.ATTRIBUTES_OFFSET);
            buf.putInt(at + RecordBatch.CRC_OFFSET, (int) crc);
            at += size;
        }
    }

    public static MemoryRecords records(ByteBuffer b) {
        return MemoryRecords.readableRecords(b.duplicate());
    }
}
