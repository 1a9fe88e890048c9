package io.weir.streams.state;

/** The windows of one key in start order: each entry's key is the window start (ms). */
public interface WindowStoreIterator<V> extends KeyValueIterator<Long, V> {
}
