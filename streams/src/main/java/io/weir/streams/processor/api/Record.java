package io.weir.streams.processor.api;

import io.weir.common.record.Header;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A record flowing through a topology: key, value, timestamp and headers. Immutable; the
 * {@code with*} methods return a changed copy, so a processor may forward the same record to
 * several children without them seeing each other's changes.
 */
public final class Record<K, V> {
    private final K key;
    private final V value;
    private final long timestamp;
    private final List<Header> headers;

    public Record(K key, V value, long timestamp, List<Header> headers) {
        if (timestamp < 0) {
            throw new IllegalArgumentException("timestamp must be >= 0, got " + timestamp);
        }
        this.key = key;
        this.value = value;
        this.timestamp = timestamp;
        this.headers = headers == null ? List.of() : List.copyOf(headers);
    }

    public Record(K key, V value, long timestamp) {
        this(key, value, timestamp, List.of());
    }

    public K key() {
        return key;
    }

    public V value() {
        return value;
    }

    public long timestamp() {
        return timestamp;
    }

    /** The headers, immutable. */
    public List<Header> headers() {
        return headers;
    }

    public <NewK> Record<NewK, V> withKey(NewK newKey) {
        return new Record<>(newKey, value, timestamp, headers);
    }

    public <NewV> Record<K, NewV> withValue(NewV newValue) {
        return new Record<>(key, newValue, timestamp, headers);
    }

    public Record<K, V> withTimestamp(long newTimestamp) {
        return new Record<>(key, value, newTimestamp, headers);
    }

    public Record<K, V> withHeaders(List<Header> newHeaders) {
        return new Record<>(key, value, timestamp, newHeaders);
    }

    /** A copy with one more header. */
    public Record<K, V> withHeader(Header header) {
        List<Header> more = new ArrayList<>(headers);
        more.add(header);
        return new Record<>(key, value, timestamp, more);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Record<?, ?> r && timestamp == r.timestamp && Objects.equals(key, r.key)
            && Objects.equals(value, r.value) && headers.equals(r.headers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, value, timestamp, headers);
    }

    @Override
    public String toString() {
        return "Record(key=" + key + ", value=" + value + ", timestamp=" + timestamp + ", headers=" + headers + ")";
    }
}
