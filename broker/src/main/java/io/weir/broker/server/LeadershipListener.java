package io.weir.broker.server;

import io.weir.common.TopicPartition;

/**
 * Told by the {@link ReplicaManager} when this broker starts or stops leading a partition, so what
 * lives beside a partition's leader — the coordinator shards of {@code __consumer_offsets} and
 * {@code __transaction_state} — loads and unloads as leadership moves. Called in order per
 * partition, on the thread that applied the change; implementations must not block (schedule work).
 */
public interface LeadershipListener {
    /** This broker now leads {@code tp} at {@code leaderEpoch}; its log holds everything committed. */
    void onBecomeLeader(TopicPartition tp, int leaderEpoch);

    /**
     * This broker no longer leads {@code tp}: it became a follower at {@code leaderEpoch}, or stopped
     * hosting the partition ({@code leaderEpoch} -1).
     */
    void onResign(TopicPartition tp, int leaderEpoch);
}
