package io.weir.consumer;

import io.weir.common.TopicPartition;

import java.util.Collection;

/**
 * Callbacks around a group rebalance, called on the thread that calls {@link Consumer#poll} (never on
 * a background thread). With the eager protocol every owned partition is revoked before a rebalance;
 * with cooperative-sticky only the partitions that move to another member are.
 */
public interface ConsumerRebalanceListener {
    /** Called before partitions are taken away, while the consumer may still commit their offsets. */
    void onPartitionsRevoked(Collection<TopicPartition> partitions);

    /** Called after the new assignment is known (with only the added partitions when cooperative). */
    void onPartitionsAssigned(Collection<TopicPartition> partitions);

    /** Called when partitions were lost without a chance to commit (the member fell out of the group). */
    default void onPartitionsLost(Collection<TopicPartition> partitions) {
        onPartitionsRevoked(partitions);
    }

    /** A listener that does nothing. */
    ConsumerRebalanceListener NO_OP = new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        }
    };
}
