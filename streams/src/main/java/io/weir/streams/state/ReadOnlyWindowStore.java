package io.weir.streams.state;

import io.weir.streams.kstream.Windowed;

/**
 * Reads of a window store: one value per key and window start. Windows past the store's retention
 * are gone. Time bounds are inclusive window starts.
 */
public interface ReadOnlyWindowStore<K, V> {

    /** The value of the key in the window starting at {@code windowStartMs}, or null. */
    V fetch(K key, long windowStartMs);

    /** The key's windows with {@code timeFromMs <= start <= timeToMs}, in start order. */
    WindowStoreIterator<V> fetch(K key, long timeFromMs, long timeToMs);

    /** Every key's windows with {@code timeFromMs <= start <= timeToMs}, in start order, then serialized-key order. */
    KeyValueIterator<Windowed<K>, V> fetchAll(long timeFromMs, long timeToMs);

    /** Every retained window of every key. */
    KeyValueIterator<Windowed<K>, V> all();
}
