package io.weir.streams.state;

import io.weir.streams.KeyValue;
import io.weir.streams.processor.StateStore;

import java.util.List;

/**
 * A key-value store a processor reads and writes. Writes are part of the task's open transaction:
 * reads see them at once, they reach the changelog with the task's output, and they become durable
 * (and visible to interactive queries) only when the task commits.
 */
public interface KeyValueStore<K, V> extends StateStore, ReadOnlyKeyValueStore<K, V> {

    /** Writes the value; a null value deletes the key. */
    void put(K key, V value);

    /** Writes the value only if the key has none; returns the value it had (null if it was written). */
    V putIfAbsent(K key, V value);

    void putAll(List<KeyValue<K, V>> entries);

    /** Deletes the key; returns the value it had, or null. */
    V delete(K key);
}
