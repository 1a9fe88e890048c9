package io.weir.log.internals;

import io.weir.common.record.CompressionType;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.Header;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.record.RecordTooLargeException;
import io.weir.common.utils.ByteBufferOutputStream;
import io.weir.log.AppendOrigin;
import io.weir.log.BatchValidator;
import io.weir.log.testing.BatchSurgery;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Mutated valid batches of every codec: the validator either refuses them with one of its three
 * documented exceptions or accepts them, and then every record iterates to the declared count. The
 * CRC is recomputed after the mutation in most tries so that the rules behind it are what is tested.
 * jqwik prints the seed of a failing try.
 */
class BatchValidatorProperties {
    private static final BatchValidator.Rules[] RULES = {
        new BatchValidator.Rules(AppendOrigin.CLIENT, false, 1 << 20),
        new BatchValidator.Rules(AppendOrigin.CLIENT, true, 1 << 20),
        new BatchValidator.Rules(AppendOrigin.COORDINATOR, false, 1 << 20),
        new BatchValidator.Rules(AppendOrigin.REPLICATION, false, 1 << 20),
    };

    @Property(tries = 3000)
    void mutatedBatchesAreRefusedOrFullyReadable(@ForAll CompressionType codec, @ForAll long seed,
                                                 @ForAll @IntRange(min = 1, max = 6) int mutations) {
        Random random = new Random(seed);
        ByteBuffer batch = codec != CompressionType.NONE && random.nextBoolean()
            ? compressedOverDamagedRecords(codec, random) : validBatch(codec, random);
        for (int i = 0; i < mutations; i++) {
            batch = mutate(batch, random);
        }
        if (random.nextInt(10) != 0) {
            BatchSurgery.fixAllCrcs(batch);
        }
        BatchValidator.Rules rules = RULES[random.nextInt(RULES.length)];
        MemoryRecords records = MemoryRecords.readableRecords(batch);
        try {
            BatchValidator.validate(records, rules, "prop-0");
        } catch (CorruptRecordException | InvalidRecordException | RecordTooLargeException refused) {
            return;
        }
        for (RecordBatch b : records) {
            int n = 0;
            for (Iterator<Record> it = b.records(); it.hasNext(); n++) {
                it.next().headers();
            }
            assertEquals(b.recordCount(), n);
        }
    }

    private static ByteBuffer validBatch(CompressionType codec, Random random) {
        RecordBatchBuilder b = new RecordBatchBuilder(codec);
        if (random.nextBoolean()) {
            b.producer(random.nextInt(1000), (short) random.nextInt(5), random.nextInt(1000));
        }
        int n = 1 + random.nextInt(8);
        for (int i = 0; i < n; i++) {
            byte[] key = random.nextInt(4) == 0 ? null : new byte[random.nextInt(6)];
            byte[] value = random.nextInt(6) == 0 ? null : new byte[random.nextInt(40)];
            Header[] headers = new Header[random.nextInt(3)];
            for (int h = 0; h < headers.length; h++) {
                headers[h] = new Header("h" + h, random.nextBoolean() ? null : new byte[random.nextInt(4)]);
            }
            b.append(1_700_000_000_000L + random.nextInt(1000), key, value, headers);
        }
        return b.build();
    }

    /** A batch whose records were damaged before they were compressed: only decompressing finds it. */
    private static ByteBuffer compressedOverDamagedRecords(CompressionType codec, Random random) {
        ByteBuffer plain = validBatch(CompressionType.NONE, random);
        int recordsBytes = plain.remaining() - RecordBatch.RECORDS_OFFSET;
        int at = RecordBatch.RECORDS_OFFSET + random.nextInt(recordsBytes);
        plain.put(at, (byte) random.nextInt(256));
        ByteBufferOutputStream out = new ByteBufferOutputStream(plain.remaining() + 64);
        out.write(plain.duplicate().limit(RecordBatch.RECORDS_OFFSET));
        codec.compress(plain.duplicate().position(RecordBatch.RECORDS_OFFSET), out, codec.defaultLevel);
        ByteBuffer b = out.buffer().flip();
        b.putInt(RecordBatch.LENGTH_OFFSET, b.remaining() - RecordBatch.LOG_OVERHEAD);
        b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) ((b.getShort(RecordBatch.ATTRIBUTES_OFFSET) & ~7) | codec.id));
        return b;
    }

    /** One random damage: a flipped byte, a rewritten header int, a cut or grown length, inserted bytes. */
    private static ByteBuffer mutate(ByteBuffer batch, Random random) {
        int size = batch.remaining();
        switch (random.nextInt(6)) {
            case 0 -> {
                int at = random.nextInt(size);
                batch.put(at, (byte) (batch.get(at) ^ (1 << random.nextInt(8))));
                return batch;
            }
            case 1 -> {
                int[] fields = {RecordBatch.RECORDS_COUNT_OFFSET, RecordBatch.LAST_OFFSET_DELTA_OFFSET,
                    RecordBatch.BASE_SEQUENCE_OFFSET, RecordBatch.LENGTH_OFFSET};
                int[] values = {0, -1, 1, Integer.MAX_VALUE, Integer.MIN_VALUE, random.nextInt(20)};
                batch.putInt(fields[random.nextInt(fields.length)], values[random.nextInt(values.length)]);
                return batch;
            }
            case 2 -> {
                int at = RecordBatch.RECORDS_OFFSET + random.nextInt(Math.max(1, size - RecordBatch.RECORDS_OFFSET));
                if (at < size) {
                    batch.put(at, (byte) random.nextInt(256));
                }
                return batch;
            }
            case 3 -> {
                batch.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) random.nextInt(0x80));
                return batch;
            }
            case 4 -> {
                // drop or add bytes at the end and keep the length field in step
                int delta = random.nextInt(9) - 4;
                int newSize = Math.max(RecordBatch.HEADER_SIZE, size + delta);
                ByteBuffer out = ByteBuffer.allocate(newSize);
                out.put(batch.duplicate().limit(Math.min(size, newSize)));
                out.clear();
                out.putInt(RecordBatch.LENGTH_OFFSET, newSize - RecordBatch.LOG_OVERHEAD);
                return out;
            }
            default -> {
                batch.put(RecordBatch.MAGIC_OFFSET, (byte) random.nextInt(4));
                return batch;
            }
        }
    }
}
