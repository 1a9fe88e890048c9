package io.weir.common.testing;

import io.weir.common.record.CompressionType;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** Builds record batches for log tests. */
public final class Batches {
    private Batches() {
    }

    /** One uncompressed batch with one record per value (keys "k<i>" unless given as "key=value"). */
    public static MemoryRecords records(long timestamp, String... values) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        for (String v : values) {
            addRecord(b, timestamp, v);
        }
        return MemoryRecords.readableRecords(b.build());
    }

    private static void addRecord(RecordBatchBuilder b, long timestamp, String v) {
        int eq = v.indexOf('=');
        byte[] key = eq < 0 ? ("k-" + v).getBytes(StandardCharsets.UTF_8) : v.substring(0, eq).getBytes(StandardCharsets.UTF_8);
        String value = eq < 0 ? v : v.substring(eq + 1);
        b.append(timestamp, key, value.equals("null") ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    /** An idempotent producer's batch. */
    public static MemoryRecords idempotent(long producerId, short epoch, int baseSequence, long timestamp, String... values) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE).producer(producerId, epoch, baseSequence);
        for (String v : values) {
            addRecord(b, timestamp, v);
        }
        return MemoryRecords.readableRecords(b.build());
    }

    public static MemoryRecords transactional(long producerId, short epoch, int baseSequence, long timestamp, String... values) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE).producer(producerId, epoch, baseSequence)
            .transactional(true);
        for (String v : values) {
            addRecord(b, timestamp, v);
        }
        return MemoryRecords.readableRecords(b.build());
    }

    public static MemoryRecords marker(long producerId, short epoch, ControlRecordType type, int coordinatorEpoch, long ts) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE).producer(producerId, epoch, RecordBatch.NO_SEQUENCE)
            .transactional(true);
        b.appendControl(ts, type, coordinatorEpoch);
        return MemoryRecords.readableRecords(b.build());
    }

    /** Several batches in one buffer. */
    public static MemoryRecords concat(MemoryRecords... parts) {
        int size = 0;
        for (MemoryRecords m : parts) {
            size += m.sizeInBytes();
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        for (MemoryRecords m : parts) {
            b.put(m.buffer());
        }
        return MemoryRecords.readableRecords(b.flip());
    }

    /** Every record's "offset:key=value" in order (value "null" for a tombstone). */
    public static List<String> describe(MemoryRecords records) {
        List<String> out = new ArrayList<>();
        for (RecordBatch batch : records) {
            if (batch.isControlBatch()) {
                out.add(batch.baseOffset() + ":" + batch.controlType());
                continue;
            }
            for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
                Record r = it.next();
                out.add(r.offset() + ":" + str(r.key()) + "=" + str(r.value()));
            }
        }
        return out;
    }

    private static String str(ByteBuffer b) {
        return b == null ? "null" : StandardCharsets.UTF_8.decode(b.duplicate()).toString();
    }
}
