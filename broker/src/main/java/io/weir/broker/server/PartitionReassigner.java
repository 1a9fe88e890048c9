package io.weir.broker.server;

import io.weir.common.TopicPartition;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Partition reassignments (KIP-455: AlterPartitionReassignments, ListPartitionReassignments,
 * {@code kafka-reassign-partitions.sh}): the controller moves a partition's replicas to a target set by
 * first adding the new replicas (they fetch as followers), then, once every target replica is in the ISR,
 * making the target the assignment (a new leader from the target if the old one leaves) and removing the
 * others, which delete their logs. In a cluster this is {@code io.weir.broker.zk.ZkController}: the
 * controller starts a reassignment at once; any other broker hands the request to it through ZooKeeper.
 */
public interface PartitionReassigner {
    /** A reassignment in progress: the current replicas (targets first), those being added and removed. */
    record Ongoing(List<Integer> replicas, List<Integer> adding, List<Integer> removing) {
    }

    /**
     * Starts (or replaces, or with a null target cancels) the reassignment of each partition; answers per
     * partition once it is written: NONE, UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT (empty,
     * duplicate, or unregistered brokers), INVALID_REPLICATION_FACTOR (a changed replica count while
     * {@code allowReplicationFactorChange} is false), NO_REASSIGNMENT_IN_PROGRESS (a cancel of none).
     * Waits at most {@code timeoutMs} for another broker's controller, then throws
     * {@link TopicController.NotCompletedException}.
     */
    Map<TopicPartition, LeaderElector.Result> alterPartitionReassignments(Map<TopicPartition, List<Integer>> targets,
                                                                          boolean allowReplicationFactorChange,
                                                                          long timeoutMs);

    /** The reassignments in progress of {@code partitions} (null: all), from this broker's metadata. */
    Map<TopicPartition, Ongoing> listPartitionReassignments(Set<TopicPartition> partitions);
}
