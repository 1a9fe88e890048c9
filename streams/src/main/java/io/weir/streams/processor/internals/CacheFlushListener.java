package io.weir.streams.processor.internals;

import io.weir.streams.processor.api.Record;

/**
 * Gets what a caching store hands on at a flush or an eviction: one record per key with its latest
 * value (null: deleted), stamped with the timestamp and headers of the write that set it, and the value
 * the store held before the cache took the key's writes. The DSL's table nodes forward it downstream as
 * a table update.
 */
@FunctionalInterface
public interface CacheFlushListener<K, V> {
    void apply(Record<K, V> record, V oldValue);
}
