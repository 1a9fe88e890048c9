package io.weir.streams.test;

import io.weir.common.record.Header;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/** A record piped into a {@link TestInputTopic} or read from a {@link TestOutputTopic}. Immutable. */
public final class TestRecord<K, V> {
    private final K key;
    private final V value;
    private final List<Header> headers;
    private final Instant recordTime;

    /** A record; a null {@code recordTime} takes the input topic's current time. */
    public TestRecord(K key, V value, List<Header> headers, Instant recordTime) {
        this.key = key;
        this.value = value;
        this.headers = headers == null ? List.of() : List.copyOf(headers);
        this.recordTime = recordTime;
    }

    public TestRecord(K key, V value, Instant recordTime) {
        this(key, value, List.of(), recordTime);
    }

    public TestRecord(K key, V value) {
        this(key, value, List.of(), null);
    }

    public TestRecord(V value) {
        this(null, value, List.of(), null);
    }

    public K key() {
        return key;
    }

    public V value() {
        return value;
    }

    public K getKey() {
        return key;
    }

    public V getValue() {
        return value;
    }

    public List<Header> headers() {
        return headers;
    }

    /** The timestamp in ms, or null if none was given. */
    public Long timestamp() {
        return recordTime == null ? null : recordTime.toEpochMilli();
    }

    public Instant getRecordTime() {
        return recordTime;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TestRecord<?, ?> r && Objects.equals(key, r.key) && Objects.equals(value, r.value)
            && headers.equals(r.headers) && Objects.equals(recordTime, r.recordTime);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, value, headers, recordTime);
    }

    @Override
    public String toString() {
        return "TestRecord(key=" + key + ", value=" + value + ", headers=" + headers + ", recordTime=" + recordTime + ")";
    }
}
