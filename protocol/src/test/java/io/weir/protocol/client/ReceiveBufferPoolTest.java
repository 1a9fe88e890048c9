package io.weir.protocol.client;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ReceiveBufferPoolTest {
    @Test
    void shouldHandOutAnArrayHandedBackForAFrameItHolds() {
        ReceiveBufferPool pool = new ReceiveBufferPool(2);
        ByteBuffer first = pool.allocate(100_000);
        assertEquals(0, first.position());
        assertEquals(100_000, first.limit());
        assertEquals(100_000, first.capacity(), "the frame sees only its own bytes");
        assertEquals(128 * 1024, first.array().length, "rounded up to a step, so nearby sizes share it");
        pool.release(first.array());
        assertEquals(1, pool.size());

        ByteBuffer second = pool.allocate(120_000);
        assertSame(first.array(), second.array());
        assertEquals(120_000, second.limit());
        assertEquals(1, pool.reused());
        assertEquals(0, pool.size());
        assertNotSame(second.array(), pool.allocate(120_000).array(), "taken: the next frame gets another");
    }

    @Test
    void shouldTakeTheSmallestArrayThatHoldsTheFrame() {
        ReceiveBufferPool pool = new ReceiveBufferPool(2);
        byte[] big = pool.allocate(1 << 20).array();
        byte[] small = pool.allocate(200_000).array();
        pool.release(big);
        pool.release(small);
        assertSame(small, pool.allocate(150_000).array());
        assertSame(big, pool.allocate(150_000).array());
    }

    @Test
    void shouldLeaveSmallAndHugeFramesToTheHeap() {
        ReceiveBufferPool pool = new ReceiveBufferPool(2);
        ByteBuffer small = pool.allocate(1_000);
        assertEquals(1_000, small.array().length);
        pool.release(small.array());
        ByteBuffer huge = pool.allocate(ReceiveBufferPool.MAX_POOLED_BYTES + 1);
        pool.release(huge.array());
        assertEquals(0, pool.size(), "neither is kept");
    }

    @Test
    void shouldKeepTheLargestArraysWhenFullAndRefuseOneHandedBackTwice() {
        ReceiveBufferPool pool = new ReceiveBufferPool(2);
        byte[] a = pool.allocate(100_000).array();
        byte[] b = pool.allocate(300_000).array();
        byte[] c = pool.allocate(500_000).array();
        pool.release(a);
        pool.release(b);
        assertThrows(IllegalStateException.class, () -> pool.release(b));
        pool.release(c); // full: the smallest (a) makes room
        assertEquals(2, pool.size());
        assertSame(b, pool.allocate(100_000).array());
        assertSame(c, pool.allocate(100_000).array());
        assertEquals(2, pool.reused());
    }
}
