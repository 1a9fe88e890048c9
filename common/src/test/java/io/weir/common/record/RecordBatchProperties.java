package io.weir.common.record;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Property tests: random batches round-trip through every codec; damaged bytes fail only as corruption. */
class RecordBatchProperties {

    record Rec(long timestampDelta, byte[] key, byte[] value, List<Header> headers) {
    }

    @Provide
    Arbitrary<Rec> records() {
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(300).injectNull(0.1);
        Arbitrary<Header> header = Combinators.combine(Arbitraries.strings().ofMaxLength(12),
            Arbitraries.bytes().array(byte[].class).ofMaxSize(20).injectNull(0.2)).as(Header::new);
        return Combinators.combine(Arbitraries.longs().between(-100_000, 100_000), bytes, bytes,
            header.list().ofMaxSize(3)).as(Rec::new);
    }

    @Property(tries = 200)
    void batchesRoundTripThroughEveryCodec(@ForAll @Size(min = 1, max = 40) List<@From("records") Rec> recs,
                                           @ForAll CompressionType type,
                                           @ForAll @IntRange(min = 0, max = 1_000_000) int baseOffset) {
        long base = 1_650_000_000_000L;
        RecordBatchBuilder b = new RecordBatchBuilder(type).baseOffset(baseOffset);
        for (Rec r : recs) {
            b.append(base + r.timestampDelta(), r.key(), r.value(), r.headers().toArray(new Header[0]));
        }
        RecordBatch batch = new RecordBatch(b.build());
        batch.ensureValid();
        assertEquals(recs.size(), batch.recordCount());
        assertEquals(baseOffset + recs.size() - 1L, batch.lastOffset());
        Iterator<Record> it = batch.records();
        int i = 0;
        for (Rec r : recs) {
            Record got = it.next();
            assertEquals(baseOffset + i++, got.offset());
            assertEquals(base + r.timestampDelta(), got.timestamp());
            assertArrayEquals(r.key(), got.keyBytes());
            assertArrayEquals(r.value(), got.valueBytes());
            assertEquals(r.headers(), List.of(got.headers()));
        }
        assertFalse(it.hasNext());
    }

    @Property(tries = 500)
    void damagedRecordBytesFailOnlyAsCorruption(@ForAll @Size(min = 1, max = 10) List<@From("records") Rec> recs,
                                                @ForAll CompressionType type,
                                                @ForAll @IntRange(min = 0, max = 10_000) int where,
                                                @ForAll byte xor) {
        RecordBatchBuilder b = new RecordBatchBuilder(type);
        for (Rec r : recs) {
            b.append(r.timestampDelta(), r.key(), r.value(), r.headers().toArray(new Header[0]));
        }
        ByteBuffer buf = b.build();
        int index = RecordBatch.RECORDS_COUNT_OFFSET + where % (buf.limit() - RecordBatch.RECORDS_COUNT_OFFSET);
        buf.put(index, (byte) (buf.get(index) ^ (xor == 0 ? 1 : xor)));
        RecordBatch batch = new RecordBatch(buf);
        // re-seal the CRC so the damage reaches the record parser instead of stopping at the checksum
        buf.putInt(RecordBatch.CRC_OFFSET, (int) batch.computeChecksum());
        try {
            batch.records(1 << 20).forEachRemaining(r -> { });
        } catch (CorruptRecordException expected) {
            // the only acceptable failure
        }
    }

    @Property
    void varintsRoundTrip(@ForAll int value) {
        ByteBuffer buf = ByteBuffer.allocate(5);
        Varints.writeVarint(value, buf);
        assertEquals(Varints.sizeOfVarint(value), buf.position());
        buf.flip();
        assertEquals(value, Varints.readVarint(buf));
    }

    @Property
    void varlongsRoundTrip(@ForAll long value) {
        ByteBuffer buf = ByteBuffer.allocate(10);
        Varints.writeVarlong(value, buf);
        assertEquals(Varints.sizeOfVarlong(value), buf.position());
        buf.flip();
        assertEquals(value, Varints.readVarlong(buf));
    }
}
