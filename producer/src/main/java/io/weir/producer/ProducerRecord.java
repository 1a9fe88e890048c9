package io.weir.producer;

import io.weir.common.record.Header;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One record to send: a topic, an optional partition (otherwise the partitioner decides), an
 * optional key, a value, an optional timestamp (otherwise the send time) and headers. Immutable.
 */
public final class ProducerRecord<K, V> {
    private static final Header[] NO_HEADERS = new Header[0];

    private final String topic;
    private final Integer partition;
    private final Long timestamp;
    private final K key;
    private final V value;
    private final Header[] headers;

    public ProducerRecord(String topic, Integer partition, Long timestamp, K key, V value, Iterable<Header> headers) {
        if (topic == null || topic.isEmpty()) {
            throw new IllegalArgumentException("topic cannot be null or empty");
        }
        if (timestamp != null && timestamp < 0) {
            throw new IllegalArgumentException("invalid timestamp " + timestamp + ": it must be >= 0");
        }
        if (partition != null && partition < 0) {
            throw new IllegalArgumentException("invalid partition " + partition + ": it must be >= 0");
        }
        this.topic = topic;
        this.partition = partition;
        this.timestamp = timestamp;
        this.key = key;
        this.value = value;
        if (headers == null) {
            this.headers = NO_HEADERS;
        } else {
            List<Header> list = new java.util.ArrayList<>();
            headers.forEach(h -> list.add(Objects.requireNonNull(h, "header")));
            this.headers = list.toArray(NO_HEADERS);
        }
    }

    public ProducerRecord(String topic, Integer partition, Long timestamp, K key, V value) {
        this(topic, partition, timestamp, key, value, null);
    }

    public ProducerRecord(String topic, Integer partition, K key, V value) {
        this(topic, partition, null, key, value, null);
    }

    public ProducerRecord(String topic, K key, V value) {
        this(topic, null, null, key, value, null);
    }

    public ProducerRecord(String topic, V value) {
        this(topic, null, null, null, value, null);
    }

    public String topic() {
        return topic;
    }

    /** The partition asked for, or null to let the partitioner choose. */
    public Integer partition() {
        return partition;
    }

    /** The timestamp asked for, or null for the send time. */
    public Long timestamp() {
        return timestamp;
    }

    public K key() {
        return key;
    }

    public V value() {
        return value;
    }

    public List<Header> headers() {
        return List.of(headers);
    }

    /** The headers without a copy; callers must not modify the array. */
    Header[] headerArray() {
        return headers;
    }

    @Override
    public String toString() {
        return "ProducerRecord(topic=" + topic + ", partition=" + partition + ", headers=" + Arrays.toString(headers)
            + ", key=" + key + ", value=" + value + ", timestamp=" + timestamp + ")";
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ProducerRecord<?, ?> r)) {
            return false;
        }
        return topic.equals(r.topic) && Objects.equals(partition, r.partition) && Objects.equals(timestamp, r.timestamp)
            && Objects.equals(key, r.key) && Objects.equals(value, r.value) && Arrays.equals(headers, r.headers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, partition, timestamp, key, value, Arrays.hashCode(headers));
    }
}
