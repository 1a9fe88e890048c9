package io.weir.streams.processor;

/** Picks the partition of each record a sink writes; null lets the producer hash the serialized key. */
@FunctionalInterface
public interface StreamPartitioner<K, V> {
    Integer partition(String topic, K key, V value, int numPartitions);
}
