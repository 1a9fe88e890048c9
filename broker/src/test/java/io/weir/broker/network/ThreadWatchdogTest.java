package io.weir.broker.network;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A supervised thread that dies is replaced by a fresh one from the same factory, and counted. */
class ThreadWatchdogTest {
    @Test
    void shouldReplaceADeadThreadAndCountIt() throws Exception {
        AtomicInteger started = new AtomicInteger();
        CountDownLatch replacementRunning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ThreadWatchdog watchdog = new ThreadWatchdog("test-worker-", slot -> () -> {
            if (started.incrementAndGet() == 1) {
                throw new StackOverflowError("the first thread dies");
            }
            replacementRunning.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        watchdog.start(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (watchdog.doWork(0) == 0) {
            if (System.nanoTime() > deadline) {
                fail("the dead thread was never replaced");
            }
            Thread.sleep(5);
        }
        assertTrue(replacementRunning.await(60, TimeUnit.SECONDS), "the replacement runs");
        assertEquals(1, watchdog.replacements());
        assertEquals(0, watchdog.doWork(0), "a live thread is left alone");
        release.countDown();
        for (Thread t : watchdog.stop()) {
            t.join(15_000);
        }
        assertEquals(0, watchdog.doWork(0), "a stopped watchdog replaces nothing");
        assertEquals(2, started.get());
    }
}
