package io.weir.broker.coordinator.runtime;

import io.weir.common.TopicPartition;

import java.nio.ByteBuffer;

/** Reads a coordinator partition's log back, for {@link CoordinatorShard#replay} at load. */
public interface CoordinatorLoader {
    /** Receives the records in log order. */
    @FunctionalInterface
    interface RecordSink {
        void accept(long offset, long producerId, short producerEpoch, ByteBuffer key, ByteBuffer value);

        /** A transaction marker (control batch) at {@code offset}: COMMIT when {@code commit}, else ABORT. */
        default void endMarker(long offset, long producerId, short producerEpoch, boolean commit) {
        }
    }

    /**
     * Hands every keyed data record from the log start up to the log end to {@code sink}, and every
     * transaction marker to {@link RecordSink#endMarker}, in log order, on the calling thread. A new
     * leader's log end may sit above its high watermark: those records are its log, which the followers
     * now copy, so they commit unless this leader fails first (then the shard is unloaded anyway).
     *
     * @return the offset the load stopped at: the shard's state is the log up to there
     */
    long load(TopicPartition tp, RecordSink sink);
}
