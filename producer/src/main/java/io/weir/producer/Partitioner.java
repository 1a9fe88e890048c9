package io.weir.producer;

import io.weir.protocol.client.Cluster;

import java.io.Closeable;
import java.util.Map;

/**
 * Chooses the partition of a record that names none. Loaded from {@code partitioner.class} (a public
 * no-argument constructor is required), configured once with the producer's original configs, and
 * called on the sending thread, so implementations must be thread-safe and fast.
 */
public interface Partitioner extends Closeable {
    default void configure(Map<String, ?> configs) {
    }

    /**
     * @param cluster the current metadata; it holds the topic with at least one partition
     * @return a partition index in {@code [0, partition count)}
     */
    int partition(String topic, Object key, byte[] keyBytes, Object value, byte[] valueBytes, Cluster cluster);

    @Override
    default void close() {
    }
}
