package io.weir.broker.coordinator.runtime;

import io.weir.common.TopicPartition;

import java.util.List;

/**
 * Appends a coordinator's records to its internal partition and reports which offsets are committed.
 *
 * <p>"Committed" is the writer's to define: on one broker, appended (and flushed as the flush policy
 * says); with replication, below the high watermark. The writer reports it through
 * {@link Listener#onCommitted}, from any thread, whenever it moves (replication calls it when the
 * high watermark advances); the runtime answers the operations whose records lie below it.
 *
 * <p>The runtime calls {@link #append} from a shard's event queue and never holds a lock while doing
 * so. Implementations must be thread-safe (shards of different partitions append concurrently).
 */
public interface PartitionWriter {
    /** Told when the committed offset of a partition moves. */
    @FunctionalInterface
    interface Listener {
        /** Every record below {@code committedOffset} (exclusive) is committed. */
        void onCommitted(TopicPartition tp, long committedOffset);
    }

    void registerListener(TopicPartition tp, Listener listener);

    void deregisterListener(TopicPartition tp, Listener listener);

    /**
     * Appends the records as one batch, in order.
     *
     * @return the offset given to the first record (the others follow it)
     * @throws CoordinatorException.AppendFailed with the storage error when nothing was appended
     */
    long append(TopicPartition tp, long timestampMs, List<SerializedRecord> records);

    /**
     * Appends the records as one transactional batch of {@code producerId} at {@code producerEpoch} (a
     * transactional offset commit); the partition's producer state fences an older epoch.
     *
     * @return the offset given to the first record
     * @throws CoordinatorException.AppendFailed with the storage or producer-state error when nothing was appended
     */
    default long appendTransactional(TopicPartition tp, long timestampMs, long producerId, short producerEpoch,
                                     List<SerializedRecord> records) {
        throw new UnsupportedOperationException("this writer does not append transactional records");
    }

    /**
     * Appends a COMMIT ({@code commit}) or ABORT marker of {@code producerId}'s transaction.
     *
     * @return the offset of the marker
     * @throws CoordinatorException.AppendFailed when nothing was appended
     */
    default long appendEndMarker(TopicPartition tp, long timestampMs, long producerId, short producerEpoch,
                                 int coordinatorEpoch, boolean commit) {
        throw new UnsupportedOperationException("this writer does not append transaction markers");
    }
}
