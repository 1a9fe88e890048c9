package io.weir.admin;

import io.weir.admin.internals.WeirAdminClient;

import io.weir.common.TopicPartition;
import io.weir.consumer.OffsetAndMetadata;
import java.time.Duration;

import java.util.Collection;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Manages topics, partitions, configs and cluster information over the Kafka protocol. Works with
 * Weir and with Apache Kafka brokers.
 *
 * <p>Every method returns at once; results arrive through futures that fail with typed exceptions
 * ({@code io.weir.admin.errors}, or {@link io.weir.protocol.client.TimeoutException} after
 * {@code default.api.timeout.ms} or {@link AdminOptions#timeoutMs(int)}). Retriable failures
 * (lost connection, NOT_CONTROLLER, ...) are retried within that time. Thread-safe: one instance
 * may be shared; close it when done.
 */
public interface Admin extends AutoCloseable {
    /** Creates an admin client; fails with a ConfigException naming any unknown or invalid key. */
    static Admin create(Map<String, ?> config) {
        return new WeirAdminClient(new AdminClientConfig(config));
    }

    static Admin create(Properties props) {
        Map<String, Object> map = new HashMap<>();
        props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k)));
        return create(map);
    }

    /** Creates topics. Fails per topic with TopicExistsException, InvalidPartitionsException, ... */
    AdminResult<String, CreatedTopic> createTopics(Collection<NewTopic> topics, AdminOptions options);

    default AdminResult<String, CreatedTopic> createTopics(Collection<NewTopic> topics) {
        return createTopics(topics, AdminOptions.defaults());
    }

    /** Deletes topics by name. Fails per topic with UnknownTopicOrPartitionException if absent. */
    AdminResult<String, Void> deleteTopics(Collection<String> topics, AdminOptions options);

    default AdminResult<String, Void> deleteTopics(Collection<String> topics) {
        return deleteTopics(topics, AdminOptions.defaults());
    }

    /** Lists topics by name (internal ones only with {@link AdminOptions#listInternal(boolean)}). */
    CompletableFuture<Map<String, TopicListing>> listTopics(AdminOptions options);

    default CompletableFuture<Map<String, TopicListing>> listTopics() {
        return listTopics(AdminOptions.defaults());
    }

    /** Describes topics: id, partitions with leader, replicas and ISR. */
    AdminResult<String, TopicDescription> describeTopics(Collection<String> topics, AdminOptions options);

    default AdminResult<String, TopicDescription> describeTopics(Collection<String> topics) {
        return describeTopics(topics, AdminOptions.defaults());
    }

    /** Grows topics to a new total partition count. */
    AdminResult<String, Void> createPartitions(Map<String, NewPartitions> newPartitions, AdminOptions options);

    default AdminResult<String, Void> createPartitions(Map<String, NewPartitions> newPartitions) {
        return createPartitions(newPartitions, AdminOptions.defaults());
    }

    /** Reads the configs of topics and brokers. */
    AdminResult<ConfigResource, Config> describeConfigs(Collection<ConfigResource> resources, AdminOptions options);

    default AdminResult<ConfigResource, Config> describeConfigs(Collection<ConfigResource> resources) {
        return describeConfigs(resources, AdminOptions.defaults());
    }

    /** Sets, deletes, appends to or subtracts from individual configs of topics and brokers. */
    AdminResult<ConfigResource, Void> incrementalAlterConfigs(Map<ConfigResource, Collection<AlterConfigOp>> ops,
                                                              AdminOptions options);

    default AdminResult<ConfigResource, Void> incrementalAlterConfigs(Map<ConfigResource, Collection<AlterConfigOp>> ops) {
        return incrementalAlterConfigs(ops, AdminOptions.defaults());
    }

    /**
     * Replaces each resource's whole set of dynamic configs with the given entries (the legacy
     * AlterConfigs API: keys not given return to their defaults). Prefer
     * {@link #incrementalAlterConfigs}, which changes single keys.
     */
    AdminResult<ConfigResource, Void> alterConfigs(Map<ConfigResource, Collection<ConfigEntry>> configs,
                                                   AdminOptions options);

    default AdminResult<ConfigResource, Void> alterConfigs(Map<ConfigResource, Collection<ConfigEntry>> configs) {
        return alterConfigs(configs, AdminOptions.defaults());
    }

    /**
     * Deletes the records of each partition below the given offset (-1: the high watermark) by moving
     * its log start offset, asked of the partition's leader; completes with the new low watermark.
     * Fails per partition with OffsetOutOfRange (past the high watermark), PolicyViolationException
     * (a compacted topic), UnknownTopicOrPartitionException, ...
     */
    AdminResult<TopicPartition, Long> deleteRecords(Map<TopicPartition, Long> beforeOffsets, AdminOptions options);

    default AdminResult<TopicPartition, Long> deleteRecords(Map<TopicPartition, Long> beforeOffsets) {
        return deleteRecords(beforeOffsets, AdminOptions.defaults());
    }

    /**
     * Elects partition leaders through the controller: {@link ElectionType#PREFERRED} makes each
     * partition's preferred replica its leader when it is live and in sync; {@link ElectionType#UNCLEAN}
     * gives a partition with no live leader any live replica. {@code partitions} null means every
     * partition, and the answer then lists only those whose election did something or failed. Each
     * partition maps to empty (elected) or its failure: an ApiException with ELECTION_NOT_NEEDED,
     * PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE, or an UnknownTopicOrPartitionException.
     */
    CompletableFuture<Map<TopicPartition, Optional<Throwable>>> electLeaders(ElectionType type,
                                                                            Set<TopicPartition> partitions,
                                                                            AdminOptions options);

    default CompletableFuture<Map<TopicPartition, Optional<Throwable>>> electLeaders(ElectionType type,
                                                                                    Set<TopicPartition> partitions) {
        return electLeaders(type, partitions, AdminOptions.defaults());
    }

    /**
     * Moves partitions to new replicas through the controller (KIP-455): each partition maps to its target
     * replicas, or to empty to cancel its reassignment in progress. Completes per partition once the
     * controller has started (or cancelled) it — the move itself completes when the new replicas are in
     * sync ({@link #listPartitionReassignments} shows it until then). Fails per partition with
     * InvalidReplicaAssignment (empty, duplicate or unknown brokers), UnknownTopicOrPartition,
     * NoReassignmentInProgress (a cancel of none), ...
     */
    AdminResult<TopicPartition, Void> alterPartitionReassignments(Map<TopicPartition, Optional<List<Integer>>> reassignments,
                                                                  AdminOptions options);

    default AdminResult<TopicPartition, Void> alterPartitionReassignments(
        Map<TopicPartition, Optional<List<Integer>>> reassignments) {
        return alterPartitionReassignments(reassignments, AdminOptions.defaults());
    }

    /** The reassignments in progress of {@code partitions} ({@code null}: all of them). */
    CompletableFuture<Map<TopicPartition, PartitionReassignment>> listPartitionReassignments(Set<TopicPartition> partitions,
                                                                                            AdminOptions options);

    default CompletableFuture<Map<TopicPartition, PartitionReassignment>> listPartitionReassignments(
        Set<TopicPartition> partitions) {
        return listPartitionReassignments(partitions, AdminOptions.defaults());
    }

    /** Each broker's log directories (by path), with the replicas in them, their sizes and lags. */
    AdminResult<Integer, Map<String, LogDirDescription>> describeLogDirs(Collection<Integer> brokers, AdminOptions options);

    default AdminResult<Integer, Map<String, LogDirDescription>> describeLogDirs(Collection<Integer> brokers) {
        return describeLogDirs(brokers, AdminOptions.defaults());
    }

    /**
     * Moves replicas of {@code broker} to the named log directories of that broker (AlterReplicaLogDirs): each
     * future completes once the broker started the move (it copies in the background; {@link #describeLogDirs}
     * shows the copy as a future replica until it is swapped in), or fails with the partition's error
     * (REPLICA_NOT_AVAILABLE: the broker does not host the partition yet; LOG_DIR_NOT_FOUND; KAFKA_STORAGE_ERROR:
     * an offline directory).
     */
    AdminResult<TopicPartition, Void> alterReplicaLogDirs(int broker, Map<TopicPartition, String> logDirs,
                                                          AdminOptions options);

    default AdminResult<TopicPartition, Void> alterReplicaLogDirs(int broker, Map<TopicPartition, String> logDirs) {
        return alterReplicaLogDirs(broker, logDirs, AdminOptions.defaults());
    }

    /** The cluster id, controller and brokers. */
    CompletableFuture<ClusterDescription> describeCluster(AdminOptions options);

    default CompletableFuture<ClusterDescription> describeCluster() {
        return describeCluster(AdminOptions.defaults());
    }

    /**
     * The offset of each partition at {@code spec} (earliest, latest, or by timestamp), asked of the
     * partition's leader. Fails per partition with UnknownTopicOrPartitionException, ...
     */
    AdminResult<TopicPartition, ListOffsetsResultInfo> listOffsets(Map<TopicPartition, OffsetSpec> specs,
                                                                   AdminOptions options);

    default AdminResult<TopicPartition, ListOffsetsResultInfo> listOffsets(Map<TopicPartition, OffsetSpec> specs) {
        return listOffsets(specs, AdminOptions.defaults());
    }

    // ------------------------------------------------------------------ consumer groups

    /**
     * Consumer groups on every broker (protocol type "consumer", and "simple" groups that only hold
     * offsets), sorted by group id, with their state.
     */
    CompletableFuture<List<ConsumerGroupListing>> listConsumerGroups(AdminOptions options);

    default CompletableFuture<List<ConsumerGroupListing>> listConsumerGroups() {
        return listConsumerGroups(AdminOptions.defaults());
    }

    /**
     * State, assignor, coordinator and members (with their assigned partitions) of each group. Fails
     * per group with GroupIdNotFoundException if the group does not exist.
     */
    AdminResult<String, ConsumerGroupDescription> describeConsumerGroups(Collection<String> groupIds, AdminOptions options);

    default AdminResult<String, ConsumerGroupDescription> describeConsumerGroups(Collection<String> groupIds) {
        return describeConsumerGroups(groupIds, AdminOptions.defaults());
    }

    /**
     * Deletes groups and their committed offsets. Fails per group with GroupNotEmptyException while
     * it has members, GroupIdNotFoundException if it does not exist.
     */
    AdminResult<String, Void> deleteConsumerGroups(Collection<String> groupIds, AdminOptions options);

    default AdminResult<String, Void> deleteConsumerGroups(Collection<String> groupIds) {
        return deleteConsumerGroups(groupIds, AdminOptions.defaults());
    }

    /**
     * The group's committed offsets for {@code partitions} (null: every partition it has an offset
     * for). Partitions without a committed offset are absent from the map; an unknown group has none.
     */
    CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> listConsumerGroupOffsets(
        String groupId, Collection<TopicPartition> partitions, AdminOptions options);

    default CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> listConsumerGroupOffsets(String groupId) {
        return listConsumerGroupOffsets(groupId, null, AdminOptions.defaults());
    }

    /**
     * Sets the group's committed offsets. Only a group without active members accepts this (a group
     * that does not exist yet is created, empty); a live group fails every partition with
     * GroupNotEmptyException.
     */
    AdminResult<TopicPartition, Void> alterConsumerGroupOffsets(String groupId, Map<TopicPartition, OffsetAndMetadata> offsets,
                                                                AdminOptions options);

    default AdminResult<TopicPartition, Void> alterConsumerGroupOffsets(String groupId,
                                                                        Map<TopicPartition, OffsetAndMetadata> offsets) {
        return alterConsumerGroupOffsets(groupId, offsets, AdminOptions.defaults());
    }

    /**
     * Drops the group's committed offsets of partitions. Fails per partition with
     * GroupSubscribedToTopicException while live members subscribe to the topic, and for all with
     * GroupIdNotFoundException if the group does not exist.
     */
    AdminResult<TopicPartition, Void> deleteConsumerGroupOffsets(String groupId, Set<TopicPartition> partitions,
                                                                 AdminOptions options);

    default AdminResult<TopicPartition, Void> deleteConsumerGroupOffsets(String groupId, Set<TopicPartition> partitions) {
        return deleteConsumerGroupOffsets(groupId, partitions, AdminOptions.defaults());
    }

    // ------------------------------------------------------------------ transactions

    /** Transactional ids known to the coordinators, filtered by state, producer id and duration, sorted by id. */
    CompletableFuture<List<TransactionListing>> listTransactions(ListTransactionsOptions filters, AdminOptions options);

    default CompletableFuture<List<TransactionListing>> listTransactions() {
        return listTransactions(ListTransactionsOptions.all(), AdminOptions.defaults());
    }

    /**
     * Each transactional id's state at its coordinator (producer id and epoch, timeout, the open
     * transaction's start and partitions). Fails per id with TRANSACTIONAL_ID_NOT_FOUND if unknown.
     */
    AdminResult<String, TransactionDescription> describeTransactions(Collection<String> transactionalIds,
                                                                     AdminOptions options);

    default AdminResult<String, TransactionDescription> describeTransactions(Collection<String> transactionalIds) {
        return describeTransactions(transactionalIds, AdminOptions.defaults());
    }

    /** The producers with state in each partition, from its leader: who holds an open transaction there. */
    AdminResult<TopicPartition, List<ProducerState>> describeProducers(Collection<TopicPartition> partitions,
                                                                       AdminOptions options);

    default AdminResult<TopicPartition, List<ProducerState>> describeProducers(Collection<TopicPartition> partitions) {
        return describeProducers(partitions, AdminOptions.defaults());
    }

    /**
     * Ends a hanging transaction in one partition by writing an ABORT marker there (as Kafka's admin
     * does, without the coordinator): the last stable offset moves past it. Use the producer id, epoch
     * and coordinator epoch that {@link #describeProducers} reports.
     */
    CompletableFuture<Void> abortTransaction(AbortTransactionSpec spec, AdminOptions options);

    default CompletableFuture<Void> abortTransaction(AbortTransactionSpec spec) {
        return abortTransaction(spec, AdminOptions.defaults());
    }

    /**
     * Fences the current producer of each transactional id: its epoch is bumped (its open transaction
     * aborted), so that producer fails fatally (fenced) at its next call.
     */
    AdminResult<String, FenceProducersResult> fenceProducers(Collection<String> transactionalIds, AdminOptions options);

    default AdminResult<String, FenceProducersResult> fenceProducers(Collection<String> transactionalIds) {
        return fenceProducers(transactionalIds, AdminOptions.defaults());
    }

    /** Waits up to {@code timeout} for outstanding calls, then fails the rest and releases the connections. */
    void close(Duration timeout);

    @Override
    default void close() {
        close(Duration.ofSeconds(30));
    }
}
