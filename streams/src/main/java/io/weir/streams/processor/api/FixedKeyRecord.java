package io.weir.streams.processor.api;

import io.weir.common.record.Header;

import java.util.List;
import java.util.Objects;

/**
 * A record whose key a {@link FixedKeyProcessor} cannot change: there is no {@code withKey}, so the
 * DSL knows the stream stays partitioned by its key and needs no repartition downstream.
 */
public final class FixedKeyRecord<K, V> {
    private final Record<K, V> record;

    private FixedKeyRecord(Record<K, V> record) {
        this.record = record;
    }

    /** Runtime use: wraps a record entering a fixed-key processor. */
    public static <K, V> FixedKeyRecord<K, V> of(Record<K, V> record) {
        return new FixedKeyRecord<>(record);
    }

    /** Runtime use: the record as it flows on. */
    public Record<K, V> toRecord() {
        return record;
    }

    public K key() {
        return record.key();
    }

    public V value() {
        return record.value();
    }

    public long timestamp() {
        return record.timestamp();
    }

    public List<Header> headers() {
        return record.headers();
    }

    public <NewV> FixedKeyRecord<K, NewV> withValue(NewV newValue) {
        return new FixedKeyRecord<>(record.withValue(newValue));
    }

    public FixedKeyRecord<K, V> withTimestamp(long newTimestamp) {
        return new FixedKeyRecord<>(record.withTimestamp(newTimestamp));
    }

    public FixedKeyRecord<K, V> withHeaders(List<Header> newHeaders) {
        return new FixedKeyRecord<>(record.withHeaders(newHeaders));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FixedKeyRecord<?, ?> r && record.equals(r.record);
    }

    @Override
    public int hashCode() {
        return Objects.hash(record);
    }

    @Override
    public String toString() {
        return "Fixed" + record;
    }
}
