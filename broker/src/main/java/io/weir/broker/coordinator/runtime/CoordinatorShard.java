package io.weir.broker.coordinator.runtime;

/**
 * The state of one partition of a coordinator's internal compacted topic (one partition of
 * {@code __consumer_offsets}, later of {@code __transaction_state}), owned by the
 * {@link CoordinatorRuntime}.
 *
 * <p>Write operations (given to {@link CoordinatorRuntime#scheduleWriteOperation}) inspect the state
 * and return a {@link CoordinatorResult}: the records to append and the response. They must not make
 * a durable change themselves: the runtime appends the records and, once the append succeeded, hands
 * each record to {@link #replay}. Loading the partition (after a restart, or when leadership moves
 * here) hands the log's records to the same {@link #replay}, so the write path and the load path
 * cannot build different state. State that is not durable (who is waiting for a response, session
 * deadlines) lives next to it and is changed by the operations directly.
 *
 * <p>Not thread-safe, and need not be: the runtime calls a shard from one operation at a time
 * (operations, replay, timers and the lifecycle callbacks below all run on the shard's event queue).
 *
 * @param <R> the coordinator's record type
 */
public interface CoordinatorShard<R> {
    /**
     * Applies one record to the state: on the write path right after its append succeeded, on the
     * load path for every record of the log in order.
     *
     * @param offset        the record's offset in the partition
     * @param producerId    the producer of a transactional record, or -1
     * @param producerEpoch that producer's epoch, or -1
     * @param record        the record
     */
    void replay(long offset, long producerId, short producerEpoch, R record);

    /**
     * Applies a transaction marker (COMMIT or ABORT control record) of {@code producerId}: records that
     * producer appended transactionally since its last marker become part of the state (commit) or are
     * dropped (abort). Like {@link #replay}, called on the write path right after the marker was appended
     * and on the load path in log order. Coordinators that never see transactional records ignore it.
     */
    default void replayEndTransactionMarker(long offset, long producerId, short producerEpoch, boolean commit) {
    }

    /** Called once the whole log has been replayed, before the first operation runs. */
    default void onLoaded() {
    }

    /** Called when the partition is unloaded: answer whatever still waits, with NOT_COORDINATOR. */
    default void onUnloaded() {
    }
}
