package io.weir.common.utils;

/**
 * Runs tasks at a time of the injected clock: the scheduler for timeouts (the coordinator runtime's
 * shard timers, and anything else that waits on the clock). A task must be short (put an event on a
 * queue) and may run on any thread. {@link SystemTimerService} runs on a thread; tests use a
 * mock that fires due tasks when the test moves the clock.
 */
public interface TimerService extends AutoCloseable {
    /** Cancels a scheduled task (no effect once it ran). */
    @FunctionalInterface
    interface Handle {
        void cancel();
    }

    /** Runs {@code task} once the clock reads {@code deadlineMs} or later. */
    Handle schedule(long deadlineMs, Runnable task);

    @Override
    void close();
}
