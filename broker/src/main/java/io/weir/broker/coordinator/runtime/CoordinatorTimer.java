package io.weir.broker.coordinator.runtime;

/**
 * A shard's timeouts (session expiry, rebalance and sync deadlines, offset expiry; transaction
 * timeouts next), on the runtime's clock. A timeout runs as a write operation on the shard's queue:
 * it may change the state and return records, like any operation.
 *
 * <p>Keys name timeouts: scheduling a key that is already scheduled replaces it, so a session
 * timeout is pushed back by scheduling it again. Call these methods only from the shard's own
 * operations (its queue); a timeout that fires after it was cancelled or replaced does not run.
 *
 * @param <R> the record type of the shard
 */
public interface CoordinatorTimer<R> {
    /** The work done when a timeout fires; what it returns is appended like a write's records. */
    @FunctionalInterface
    interface TimeoutOperation<R> {
        CoordinatorResult<Void, R> run();
    }

    /** Runs {@code operation} once the clock reaches {@code deadlineMs} (replacing {@code key}). */
    void scheduleAt(String key, long deadlineMs, TimeoutOperation<R> operation);

    /** Runs {@code operation} after {@code delayMs} (replacing {@code key}). */
    void schedule(String key, long delayMs, TimeoutOperation<R> operation);

    void cancel(String key);

    boolean isScheduled(String key);
}
