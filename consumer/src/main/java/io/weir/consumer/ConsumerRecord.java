package io.weir.consumer;

import io.weir.common.record.Header;
import io.weir.common.record.TimestampType;

import java.util.Arrays;
import java.util.Optional;

/**
 * One record handed to the application: where it is (topic, partition, offset), its timestamp and
 * timestamp type, deserialized key and value, headers, and the leader epoch of its batch. Immutable.
 */
public final class ConsumerRecord<K, V> {
    public static final long NO_TIMESTAMP = -1L;
    public static final int NULL_SIZE = -1;

    private final String topic;
    private final int partition;
    private final long offset;
    private final long timestamp;
    private final TimestampType timestampType;
    private final int serializedKeySize;
    private final int serializedValueSize;
    private final K key;
    private final V value;
    private final Header[] headers;
    private final Optional<Integer> leaderEpoch;

    public ConsumerRecord(String topic, int partition, long offset, long timestamp, TimestampType timestampType,
                          int serializedKeySize, int serializedValueSize, K key, V value, Header[] headers,
                          Optional<Integer> leaderEpoch) {
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
        this.timestampType = timestampType;
        this.serializedKeySize = serializedKeySize;
        this.serializedValueSize = serializedValueSize;
        this.key = key;
        this.value = value;
        this.headers = headers == null ? new Header[0] : headers;
        this.leaderEpoch = leaderEpoch;
    }

    /** A record with no timestamp, headers or sizes (for tests and tools). */
    public ConsumerRecord(String topic, int partition, long offset, K key, V value) {
        this(topic, partition, offset, NO_TIMESTAMP, TimestampType.CREATE_TIME, NULL_SIZE, NULL_SIZE, key, value,
            null, Optional.empty());
    }

    public String topic() {
        return topic;
    }

    public int partition() {
        return partition;
    }

    public long offset() {
        return offset;
    }

    public long timestamp() {
        return timestamp;
    }

    public TimestampType timestampType() {
        return timestampType;
    }

    /** Size of the key's bytes, or -1 for a null key. */
    public int serializedKeySize() {
        return serializedKeySize;
    }

    /** Size of the value's bytes, or -1 for a null value. */
    public int serializedValueSize() {
        return serializedValueSize;
    }

    public K key() {
        return key;
    }

    public V value() {
        return value;
    }

    /** The headers in wire order (a copy of the array). */
    public Header[] headers() {
        return headers.clone();
    }

    /** The last header with this key, or null. */
    public Header lastHeader(String key) {
        for (int i = headers.length - 1; i >= 0; i--) {
            if (headers[i].key().equals(key)) {
                return headers[i];
            }
        }
        return null;
    }

    public Optional<Integer> leaderEpoch() {
        return leaderEpoch;
    }

    @Override
    public String toString() {
        return "ConsumerRecord(topic = " + topic + ", partition = " + partition + ", leaderEpoch = "
            + leaderEpoch.orElse(null) + ", offset = " + offset + ", " + timestampType + " = " + timestamp
            + ", serialized key size = " + serializedKeySize + ", serialized value size = " + serializedValueSize
            + ", headers = " + Arrays.toString(headers) + ", key = " + key + ", value = " + value + ")";
    }
}
