package io.weir.common.utils;

import io.weir.common.Time;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A {@link TimerService} on one daemon thread. A task may fire a millisecond before the clock reads
 * its deadline (the thread sleeps on the monotonic clock); timeouts therefore re-check the clock and
 * re-arm when it is early. Thread-safe.
 */
public final class SystemTimerService implements TimerService {
    private final Time time;
    private final ScheduledThreadPoolExecutor executor;

    public SystemTimerService(Time time, String threadName) {
        this.time = time;
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
    }

    @Override
    public Handle schedule(long deadlineMs, Runnable task) {
        long delayMs = Math.max(0, deadlineMs - time.milliseconds());
        ScheduledFuture<?> f = executor.schedule(task, delayMs, TimeUnit.MILLISECONDS);
        return () -> f.cancel(false);
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
