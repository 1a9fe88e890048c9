package io.weir.streams.state;

import io.weir.streams.KeyValue;

import java.io.Closeable;
import java.util.Iterator;

/** An iterator over store entries in key order that holds engine resources until {@link #close}d. */
public interface KeyValueIterator<K, V> extends Iterator<KeyValue<K, V>>, Closeable {

    /** The next key without moving; fails if there is none. */
    K peekNextKey();

    @Override
    void close();
}
