package io.weir.common.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WaitTest {
    @Test
    void untilReturnsOnceTheConditionHolds() throws Exception {
        AtomicInteger checks = new AtomicInteger();
        Wait.until(() -> checks.incrementAndGet() >= 3, Duration.ofSeconds(30), "three checks");
        assertEquals(3, checks.get());
    }

    @Test
    void untilFailsWithTheMessageWhenTheConditionNeverHolds() {
        AtomicInteger seen = new AtomicInteger(7);
        AssertionError e = assertThrows(AssertionError.class,
            () -> Wait.until(() -> false, Duration.ZERO, () -> "expected 8, saw " + seen.get()));
        assertTrue(e.getMessage().contains("expected 8, saw 7"), e.getMessage());
    }

    @Test
    void getReturnsTheValueAndRethrowsAnUncheckedFailure() throws Exception {
        assertEquals("v", Wait.get(CompletableFuture.completedFuture("v"), Duration.ofSeconds(30), () -> "v"));
        IllegalStateException boom = new IllegalStateException("boom");
        assertEquals(boom, assertThrows(IllegalStateException.class,
            () -> Wait.get(CompletableFuture.failedFuture(boom), Duration.ofSeconds(30), () -> "boom")));
        AssertionError e = assertThrows(AssertionError.class,
            () -> Wait.get(new CompletableFuture<>(), Duration.ZERO, () -> "never completes"));
        assertTrue(e.getMessage().contains("never completes"), e.getMessage());
    }

    @Test
    void joinFailsWithTheStuckThreadsStack() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Thread stuck = new Thread(() -> {
            try {
                release.await();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "stuck");
        stuck.start();
        try {
            AssertionError e = assertThrows(AssertionError.class,
                () -> Wait.join(stuck, Duration.ofMillis(1), () -> "it waits for a latch"));
            assertTrue(e.getMessage().contains("stuck") && e.getMessage().contains("latch"), e.getMessage());
            assertEquals(1, e.getSuppressed().length);
        } finally {
            release.countDown();
            stuck.join();
        }
    }
}
