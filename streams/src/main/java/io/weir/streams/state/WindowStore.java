package io.weir.streams.state;

import io.weir.streams.processor.StateStore;

/**
 * A store of one value per key and fixed-size window, kept for a retention period of stream time.
 * Like {@link KeyValueStore}, its writes are part of the task's open transaction and are changelogged.
 */
public interface WindowStore<K, V> extends StateStore, ReadOnlyWindowStore<K, V> {

    /** Writes the value of the key's window starting at {@code windowStartMs}; null deletes it. */
    void put(K key, V value, long windowStartMs);
}
