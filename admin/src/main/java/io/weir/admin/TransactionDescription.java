package io.weir.admin;

import io.weir.common.TopicPartition;

import java.util.OptionalLong;
import java.util.Set;

/**
 * A transactional id as its coordinator sees it ({@link Admin#describeTransactions}): state, the
 * producer id and epoch in use, the timeout, when the open transaction started and which partitions
 * it holds. Immutable.
 *
 * @param coordinatorId the broker that coordinates this transactional id
 * @param transactionStartTimeMs when the ongoing transaction started; empty if none is open
 */
public record TransactionDescription(int coordinatorId, String state, long producerId, int producerEpoch,
                                     long transactionTimeoutMs, OptionalLong transactionStartTimeMs,
                                     Set<TopicPartition> topicPartitions) {
    public TransactionDescription {
        topicPartitions = Set.copyOf(topicPartitions);
    }
}
