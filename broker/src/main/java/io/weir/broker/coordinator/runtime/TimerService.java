package io.weir.broker.coordinator.runtime;

/**
 * Runs tasks at a time of the injected clock. The runtime uses it to fire every shard's
 * {@link CoordinatorTimer} timeouts; the task it gives only puts an event on a shard's queue, so a
 * task is short and may run on any thread. {@link SystemTimerService} runs on a thread; tests use a
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
