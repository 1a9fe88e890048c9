package io.weir.broker.purgatory;

import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DelayedOperationPurgatoryTest {
    private final MockTime time = new MockTime();
    private final DelayedOperationPurgatory<String, Op> purgatory =
        new DelayedOperationPurgatory<>("test", new WheelTimer(time), 10, false);

    @AfterEach
    void close() {
        purgatory.close();
    }

    /** Completes when {@link #ready} is set; counts every callback. */
    private static final class Op extends DelayedOperation {
        final AtomicBoolean ready = new AtomicBoolean();
        final AtomicInteger completions = new AtomicInteger();
        final AtomicInteger expirations = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        volatile RuntimeException throwOnComplete;

        Op(long delayMs) {
            super(delayMs);
        }

        @Override
        public boolean tryComplete() {
            return ready.get() && forceComplete();
        }

        @Override
        protected void onComplete() {
            completions.incrementAndGet();
            if (throwOnComplete != null) {
                throw throwOnComplete;
            }
        }

        @Override
        protected void onExpiration() {
            expirations.incrementAndGet();
        }

        @Override
        protected void onCompletionFailure(Throwable t) {
            failure.set(t);
        }
    }

    @Test
    void shouldExpireOnceAtTheDeadline() {
        Op op = new Op(100);
        assertFalse(purgatory.tryCompleteElseWatch(op, List.of("a")));
        time.advance(99);
        assertEquals(0, purgatory.advanceClock(0));
        assertFalse(op.isCompleted());
        time.advance(1);
        assertEquals(1, purgatory.advanceClock(0));
        assertEquals(1, op.completions.get());
        assertEquals(1, op.expirations.get());
        time.advance(1_000);
        purgatory.advanceClock(0);
        assertEquals(0, purgatory.checkAndComplete("a"));
        assertEquals(1, op.completions.get());
        assertEquals(1, op.expirations.get());
    }

    @Test
    void shouldCompleteAtOnceWhenTheConditionAlreadyHolds() {
        Op op = new Op(100);
        op.ready.set(true);
        assertTrue(purgatory.tryCompleteElseWatch(op, List.of("a")));
        assertEquals(0, purgatory.watched());
        assertEquals(0, purgatory.delayed());
    }

    @Test
    void shouldCompleteByWatchKeyAndNotExpireAfterwards() {
        Op op = new Op(100);
        purgatory.tryCompleteElseWatch(op, List.of("a", "b"));
        assertEquals(0, purgatory.checkAndComplete("a"), "condition not met yet");
        op.ready.set(true);
        assertEquals(0, purgatory.checkAndComplete("unrelated"));
        assertFalse(op.isCompleted());
        assertEquals(1, purgatory.checkAndComplete("b"));
        assertEquals(0, purgatory.delayed(), "the timer entry is cancelled on completion");
        time.advance(200);
        assertEquals(0, purgatory.advanceClock(0));
        assertEquals(1, op.completions.get());
        assertEquals(0, op.expirations.get());
        assertEquals(0, purgatory.checkAndComplete("a"), "already completed: dropped from the other key's list");
        assertEquals(0, purgatory.watched());
    }

    @Test
    void shouldPurgeCompletedOperationsFromOtherKeysWatchLists() {
        for (int i = 0; i < 50; i++) {
            Op op = new Op(1_000);
            purgatory.tryCompleteElseWatch(op, List.of("k" + i, "shared"));
            op.ready.set(true);
            purgatory.checkAndComplete("k" + i);
        }
        assertEquals(50, purgatory.watched(), "the \"shared\" list still holds the completed operations");
        purgatory.advanceClock(0);
        assertEquals(0, purgatory.watched());
    }

    @Test
    void shouldAnswerWithTheFailureWhenCompletionThrows() {
        Op op = new Op(100);
        op.throwOnComplete = new IllegalStateException("log closed");
        purgatory.tryCompleteElseWatch(op, List.of("a"));
        op.ready.set(true);
        assertEquals(1, purgatory.checkAndComplete("a"));
        assertInstanceOf(IllegalStateException.class, op.failure.get());
        time.advance(200);
        purgatory.advanceClock(0);
        assertEquals(1, op.completions.get());
    }

    @Test
    void shouldAnswerWithTheFailureWhenExpiryCompletionThrows() {
        Op op = new Op(100);
        op.throwOnComplete = new IllegalStateException("log closed");
        purgatory.tryCompleteElseWatch(op, List.of("a"));
        time.advance(100);
        assertEquals(1, purgatory.advanceClock(0));
        assertInstanceOf(IllegalStateException.class, op.failure.get());
    }

    @Test
    void shouldCompleteExactlyOnceWhenWakeUpsRaceTheDeadline() throws Exception {
        for (int round = 0; round < 200; round++) {
            Op op = new Op(10);
            purgatory.tryCompleteElseWatch(op, List.of("a", "b"));
            op.ready.set(true);
            time.advance(10);
            CyclicBarrier start = new CyclicBarrier(3);
            CountDownLatch done = new CountDownLatch(3);
            Runnable[] racers = {
                () -> purgatory.checkAndComplete("a"),
                () -> purgatory.checkAndComplete("b"),
                () -> purgatory.advanceClock(0),
            };
            for (Runnable r : racers) {
                new Thread(() -> {
                    try {
                        start.await();
                        r.run();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    } finally {
                        done.countDown();
                    }
                }).start();
            }
            done.await();
            assertEquals(1, op.completions.get(), "round " + round);
            assertTrue(op.expirations.get() <= 1);
        }
    }
}
