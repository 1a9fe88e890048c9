package io.weir.common.record;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class RecordBatchBuilderAppendTest {
    private static final Header[] HEADERS = {new Header("h", "v".getBytes(StandardCharsets.UTF_8)), new Header("n", null)};

    @Test
    void shouldWriteTheSameBytesFromArraysAndFromBuffersWithoutMovingTheBuffers() {
        byte[] key = "key".getBytes(StandardCharsets.UTF_8);
        byte[] value = "value".getBytes(StandardCharsets.UTF_8);
        ByteBuffer keyBuffer = ByteBuffer.wrap(("xx" + "key").getBytes(StandardCharsets.UTF_8)).position(2);
        ByteBuffer valueBuffer = ByteBuffer.allocateDirect(5).put(value).flip();

        ByteBuffer fromArrays = new RecordBatchBuilder(CompressionType.NONE)
            .append(7L, key, value, HEADERS).append(8L, (byte[]) null, null).build();
        ByteBuffer fromBuffers = new RecordBatchBuilder(CompressionType.NONE)
            .append(7L, keyBuffer, valueBuffer, HEADERS).append(8L, (ByteBuffer) null, null).build();

        assertEquals(fromArrays, fromBuffers);
        assertEquals(2, keyBuffer.position());
        assertEquals(0, valueBuffer.position());
        RecordBatch batch = new RecordBatch(fromArrays);
        batch.ensureValid();
        java.util.Iterator<Record> it = batch.records();
        Record first = it.next();
        assertEquals(ByteBuffer.wrap(key), first.key());
        assertEquals(ByteBuffer.wrap(value), first.value());
        assertEquals(null, it.next().key());
    }

    @Test
    void shouldFinishAnUncompressedBatchInTheGivenBuffer() {
        ByteBuffer pooled = ByteBuffer.allocate(1024);
        ByteBuffer built = new RecordBatchBuilder(CompressionType.NONE, pooled).append(1L, new byte[] {1}, new byte[] {2})
            .build();
        assertSame(pooled.array(), built.array());
        new RecordBatch(built).ensureValid();
        assertEquals(0, built.position());
    }

    /** A header's key is encoded once and kept ({@link Header#keyBytes}); records sharing the header read it back whole. */
    @Test
    void shouldWriteANonAsciiHeaderKeyTheSameEachTimeItIsAppended() {
        Header shared = new Header("schlüssel-ключ-鍵", new byte[] {9});
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE);
        for (int i = 0; i < 3; i++) {
            builder.append(i, (byte[]) null, new byte[] {(byte) i}, shared);
        }
        assertSame(shared.keyBytes(), shared.keyBytes());
        RecordBatch batch = new RecordBatch(builder.build());
        batch.ensureValid();
        java.util.Iterator<Record> it = batch.records();
        for (int i = 0; i < 3; i++) {
            assertEquals(shared, it.next().headers()[0]);
        }
    }
}
