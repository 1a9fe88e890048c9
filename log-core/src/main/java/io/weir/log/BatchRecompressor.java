package io.weir.log;

import io.weir.common.record.CompressionType;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Rewrites a produce request's batches in a topic's codec ({@code compression.type} set to a codec
 * rather than {@code producer}): each batch whose codec differs is decompressed and built again with
 * the target codec and level. Everything else of the batch stays: base offset and each record's offset
 * delta, timestamps and timestamp type, keys, values and headers, producer id, epoch and base sequence,
 * the transactional flag, the partition leader epoch and a delete horizon. Control batches (transaction
 * markers) keep their bytes: they are written by coordinators, not producers, and are one tiny record.
 * Batches already in the target codec keep their bytes too (Kafka does not recompress for a level).
 *
 * <p>Each batch's CRC is checked before it is decompressed, so a corrupt batch fails as
 * {@link CorruptRecordException} just as it would on append. Stateless and thread-safe.
 */
public final class BatchRecompressor {
    private BatchRecompressor() {
    }

    /**
     * {@code records} with every producer batch in {@code target} at {@code level}; the same instance
     * when no batch needs rewriting. {@code maxDecompressedBytes} bounds what one batch may inflate to.
     */
    public static MemoryRecords recompress(MemoryRecords records, CompressionType target, int level,
                                           int maxDecompressedBytes) {
        boolean needed = false;
        for (RecordBatch batch : records.strictBatches()) {
            if (needsRewrite(batch, target)) {
                needed = true;
                break;
            }
        }
        if (!needed) {
            return records;
        }
        List<ByteBuffer> out = new ArrayList<>();
        int total = 0;
        for (RecordBatch batch : records.strictBatches()) {
            ByteBuffer b;
            if (needsRewrite(batch, target)) {
                batch.ensureValid();
                b = rebuild(batch, target, level, maxDecompressedBytes);
            } else {
                b = batch.slice();
            }
            out.add(b);
            total += b.remaining();
        }
        ByteBuffer joined = ByteBuffer.allocate(total);
        for (ByteBuffer b : out) {
            joined.put(b.duplicate());
        }
        return MemoryRecords.readableRecords(joined.flip());
    }

    private static boolean needsRewrite(RecordBatch batch, CompressionType target) {
        return batch.compressionType() != target && !batch.isControlBatch() && batch.recordCount() > 0;
    }

    private static ByteBuffer rebuild(RecordBatch batch, CompressionType target, int level, int maxDecompressedBytes) {
        RecordBatchBuilder builder = new RecordBatchBuilder(target, Math.max(256, batch.sizeInBytes() * 2))
            .compressionLevel(level)
            .baseOffset(batch.baseOffset())
            .timestampType(batch.timestampType())
            .producer(batch.producerId(), batch.producerEpoch(), batch.baseSequence())
            .transactional(batch.isTransactional())
            .partitionLeaderEpoch(batch.partitionLeaderEpoch());
        if (batch.hasDeleteHorizon()) {
            builder.deleteHorizonMs(batch.deleteHorizonMs());
        }
        Iterator<Record> it = batch.records(maxDecompressedBytes);
        int count = 0;
        while (it.hasNext()) {
            Record r = it.next();
            builder.appendWithOffset(r.offset(), r.timestamp(), r.key(), r.value(), r.headers());
            count++;
        }
        if (count != batch.recordCount()) {
            throw new CorruptRecordException("batch at offset " + batch.baseOffset() + " claims " + batch.recordCount()
                + " records but holds " + count);
        }
        ByteBuffer rebuilt = builder.build();
        if (batch.lastOffsetDelta() != rebuilt.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET)) {
            // a gap after the last record (only the cleaner leaves those, never a producer) would be lost
            throw new InvalidRecordException("batch at offset " + batch.baseOffset() + " has lastOffsetDelta "
                + batch.lastOffsetDelta() + " beyond its last record");
        }
        return rebuilt;
    }
}
