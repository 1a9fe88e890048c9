package io.weir.common.utils;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class Crc32cTest {
    private static long reference(byte[] bytes, int from, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, from, length);
        return crc.getValue();
    }

    @Test
    void shouldMatchTheJdkOnHeapSlicedAndDirectBuffersWithoutMovingThem() {
        byte[] bytes = new byte[300];
        new Random(7).nextBytes(bytes);
        ByteBuffer heap = ByteBuffer.wrap(bytes);
        ByteBuffer sliced = ByteBuffer.wrap(bytes).position(50).slice(); // a non-zero array offset
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();

        assertEquals(reference(bytes, 21, 200), Crc32c.compute(heap, 21, 200));
        assertEquals(reference(bytes, 71, 200), Crc32c.compute(sliced, 21, 200));
        assertEquals(reference(bytes, 21, 200), Crc32c.compute(direct, 21, 200));
        assertEquals(reference(bytes, 0, 0), Crc32c.compute(heap, 5, 0));
        assertEquals(0, heap.position());
        assertEquals(0, direct.position());
        // the thread's reused instance starts afresh each time
        assertEquals(reference(bytes, 21, 200), Crc32c.compute(heap, 21, 200));
    }

    @Test
    void shouldRefuseARegionOutsideTheBuffer() {
        ByteBuffer b = ByteBuffer.allocate(100).limit(50);
        assertThrows(IllegalArgumentException.class, () -> Crc32c.compute(b, 40, 61));
    }
}
