package io.weir.producer.internals;

import io.weir.common.testing.MockTime;
import io.weir.protocol.client.TimeoutException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BufferPoolTest {
    private static final int BATCH = 1024;
    private final MockTime time = new MockTime();

    /** Starts {@code allocate} on another thread and returns once it is waiting in the pool. */
    private static CompletableFuture<ByteBuffer> blockedAllocation(BufferPool pool, int size, long maxBlockMs) {
        CompletableFuture<ByteBuffer> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(pool.allocate(size, maxBlockMs));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "blocked-allocation");
        t.setDaemon(true);
        t.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!pool.hasWaiters() && !result.isDone()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("the allocation neither waited nor returned in 30 s; its thread is " + t.getState());
            }
            Thread.onSpinWait();
        }
        return result;
    }

    @Test
    void shouldHandBackTheSameBufferOnceABatchGaveItBack() throws Exception {
        BufferPool pool = new BufferPool(4L * BATCH, BATCH, time);
        ByteBuffer first = pool.allocate(BATCH, 0);
        first.putInt(42);
        pool.deallocate(first, BATCH);
        assertEquals(1, pool.freeBuffers());

        ByteBuffer again = pool.allocate(BATCH, 0);

        assertSame(first, again, "the pooled buffer is reused");
        assertEquals(0, again.position(), "handed out cleared");
        assertEquals(BATCH, again.capacity());
        assertEquals(1, pool.buffersAllocated(), "one buffer was ever created");
        assertEquals(3L * BATCH, pool.availableBytes());
    }

    @Test
    void shouldGiveAnOversizedRequestADedicatedBufferThatIsNeverPooled() throws Exception {
        BufferPool pool = new BufferPool(4L * BATCH, BATCH, time);
        ByteBuffer big = pool.allocate(BATCH + 1, 0);
        assertEquals(BATCH + 1, big.capacity());
        assertEquals(3L * BATCH - 1, pool.availableBytes());

        pool.deallocate(big, BATCH + 1);

        assertEquals(0, pool.freeBuffers(), "a dedicated buffer goes to the garbage collector");
        assertEquals(4L * BATCH, pool.availableBytes(), "its bytes are free again");
    }

    @Test
    void shouldDropFreeBuffersWhenAnotherSizeNeedsTheirBytes() throws Exception {
        BufferPool pool = new BufferPool(2L * BATCH, BATCH, time);
        ByteBuffer a = pool.allocate(BATCH, 0);
        ByteBuffer b = pool.allocate(BATCH, 0);
        pool.deallocate(a, BATCH);
        pool.deallocate(b, BATCH);
        assertEquals(2, pool.freeBuffers());

        ByteBuffer big = pool.allocate(2 * BATCH, 0);

        assertEquals(2 * BATCH, big.capacity());
        assertEquals(0, pool.freeBuffers());
        assertEquals(0, pool.availableBytes());
    }

    @Test
    void shouldWakeABlockedAllocationWithTheBufferACompletedBatchGaveBack() throws Exception {
        BufferPool pool = new BufferPool(2L * BATCH, BATCH, time);
        ByteBuffer a = pool.allocate(BATCH, 0);
        pool.allocate(BATCH, 0);
        CompletableFuture<ByteBuffer> waiting = blockedAllocation(pool, BATCH, Long.MAX_VALUE);
        assertFalse(waiting.isDone(), "the pool is empty: the caller waits");

        pool.deallocate(a, BATCH);

        assertSame(a, waiting.get(30, TimeUnit.SECONDS), "the waiter got the buffer that came back");
        assertFalse(pool.hasWaiters());
        assertEquals(2, pool.buffersAllocated());
    }

    @Test
    void shouldTimeOutAtMaxBlockMsOnTheInjectedClock() throws Exception {
        BufferPool pool = new BufferPool(BATCH, BATCH, time);
        time.addListener(pool::onTimeUpdated);
        pool.allocate(BATCH, 0);
        CompletableFuture<ByteBuffer> waiting = blockedAllocation(pool, BATCH, 60_000);

        time.advance(59_999);
        pool.onTimeUpdated(); // whatever the listener's timing, the waiter re-checks its deadline at least once more
        assertFalse(waiting.isDone(), "1 ms of max.block.ms is left on the mock clock");
        assertTrue(pool.hasWaiters());

        time.advance(1);

        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(30, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("buffer.memory"), e.getCause().getMessage());
        assertFalse(pool.hasWaiters());
        assertEquals(0, pool.availableBytes(), "the timed-out caller took nothing");
    }

    @Test
    void shouldTimeOutAtOnceWithZeroMaxBlockMsWhenEmpty() throws Exception {
        BufferPool pool = new BufferPool(BATCH, BATCH, time);
        pool.allocate(BATCH, 0);
        assertThrows(TimeoutException.class, () -> pool.allocate(BATCH, 0));
    }
}
