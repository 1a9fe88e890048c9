package io.weir.streams.state;

/**
 * Reads of a key-value store. Keys are ordered by their serialized bytes (unsigned, byte-wise), so
 * ranges follow that order, not the key type's own.
 */
public interface ReadOnlyKeyValueStore<K, V> {

    /** The value of the key, or null. */
    V get(K key);

    /** Entries with {@code from <= key <= to} (serialized order); a null bound is open; from > to is empty. */
    KeyValueIterator<K, V> range(K from, K to);

    /** Every entry in key order. */
    KeyValueIterator<K, V> all();

    /** An estimate of the number of entries (exact for the in-memory engine). */
    long approximateNumEntries();
}
