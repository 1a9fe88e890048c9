package io.weir.admin;

import io.weir.common.TopicPartition;

import java.util.Objects;

/**
 * Which hanging transaction {@link Admin#abortTransaction} ends: the partition and the producer id,
 * epoch and coordinator epoch as {@link Admin#describeProducers} reports them. Immutable.
 */
public record AbortTransactionSpec(TopicPartition topicPartition, long producerId, short producerEpoch,
                                   int coordinatorEpoch) {
    public AbortTransactionSpec {
        Objects.requireNonNull(topicPartition, "topicPartition");
    }
}
