package io.weir.broker.network;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RequestMemoryPoolTest {
    @Test
    void shouldGrantWhatIsAvailableAndWakeListenersOnlyAfterAShortage() {
        RequestMemoryPool pool = new RequestMemoryPool(100);
        AtomicInteger wakeups = new AtomicInteger();
        pool.onMemoryFreed(wakeups::incrementAndGet);
        assertEquals(60, pool.reserveUpTo(60));
        pool.release(10);
        assertEquals(0, wakeups.get(), "no one was short of memory");
        assertEquals(50, pool.reserveUpTo(80), "only what is left");
        assertEquals(0, pool.reserveUpTo(1));
        assertEquals(100, pool.usedBytes());
        pool.release(30);
        assertEquals(1, wakeups.get(), "a shortage is followed by one wakeup");
        pool.release(5);
        assertEquals(1, wakeups.get());
        assertEquals(65, pool.usedBytes());
    }

    @Test
    void shouldLeaveWhatACallerAsksToKeepAndWakeListenersWhenBelowIt() {
        RequestMemoryPool pool = new RequestMemoryPool(100);
        AtomicInteger wakeups = new AtomicInteger();
        pool.onMemoryFreed(wakeups::incrementAndGet);
        assertEquals(30, pool.reserveUpTo(30, 40));
        assertEquals(30, pool.reserveUpTo(50, 40), "only down to the 40 kept");
        assertEquals(0, pool.reserveUpTo(10, 40));
        assertEquals(40, pool.availableBytes());
        pool.release(5);
        assertEquals(1, wakeups.get(), "a caller kept short of memory is woken");
        assertEquals(false, pool.availableAbove(45));
        assertEquals(true, pool.availableAbove(44));
        pool.release(5);
        assertEquals(2, wakeups.get(), "availableAbove that found too little asks for the next wakeup");
        assertEquals(50, pool.reserveUpTo(50), "a caller keeping nothing takes the rest");
    }

    @Test
    void shouldNeverGrantMoreThanItsCapacityUnderConcurrency() throws InterruptedException {
        RequestMemoryPool pool = new RequestMemoryPool(1000);
        AtomicInteger maxUsed = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < 20_000; i++) {
                    int got = pool.reserveUpTo(1 + i % 300);
                    maxUsed.accumulateAndGet((int) pool.usedBytes(), Math::max);
                    pool.release(got);
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join();
        }
        assertEquals(0, pool.usedBytes());
        assertEquals(true, maxUsed.get() <= 1000, "used " + maxUsed.get());
    }
}
