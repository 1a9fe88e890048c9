package io.weir.broker.metadata;

import io.weir.common.TopicPartition;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the cluster's metadata lives: topics, and in a cluster the live brokers, the controller and
 * each partition's replicas and leadership. Brokers use {@code io.weir.broker.zk.ZkMetadataStore}
 * (ZooKeeper, embedded for a standalone broker); {@link LocalMetadataStore} is the file format of
 * brokers before ZooKeeper, read once to import it, and a simple store for unit tests.
 * Implementations are thread-safe, and every change is durable before the call returns.
 */
public interface MetadataStore extends AutoCloseable {
    String clusterId();

    /** A consistent snapshot of all topics, by name. */
    Map<String, TopicMetadata> topics();

    default Optional<TopicMetadata> topic(String name) {
        return Optional.ofNullable(topics().get(name));
    }

    /** Creates the topic; false if a topic of that name already exists. */
    boolean createTopic(TopicMetadata topic);

    /** Deletes the topic; false if it did not exist. */
    boolean deleteTopic(String name);

    /** Replaces the topic's metadata (partition count, configs); false if it did not exist. */
    boolean updateTopic(TopicMetadata topic);

    /** The brokers registered now; empty when this store knows only the local broker. */
    default List<BrokerRegistration> liveBrokers() {
        return List.of();
    }

    /** The id of the elected controller, or -1 when unknown (none elected, or no cluster). */
    default int controllerId() {
        return -1;
    }

    /** The partition's replicas (broker ids, preferred leader first); empty when not recorded. */
    default List<Integer> replicas(TopicPartition tp) {
        return List.of();
    }

    /** The partition's leader, epochs and ISR as last written by a controller; empty when not recorded. */
    default Optional<PartitionState> partitionState(TopicPartition tp) {
        return Optional.empty();
    }

    @Override
    void close();
}
