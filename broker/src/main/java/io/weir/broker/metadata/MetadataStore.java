package io.weir.broker.metadata;

import java.util.Map;
import java.util.Optional;

/**
 * Where the cluster's topic metadata lives. A single broker keeps it in its log directory
 * ({@link LocalMetadataStore}); the clustering work puts it in ZooKeeper behind this same interface.
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

    @Override
    void close();
}
