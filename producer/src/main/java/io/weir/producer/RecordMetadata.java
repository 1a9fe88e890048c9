package io.weir.producer;

/**
 * Where an acknowledged record went. {@code offset} is -1 when unknown (acks=0, or a failure);
 * {@code timestamp} is the log append time if the topic uses LogAppendTime, else the record's
 * create time. Sizes are of the serialized key and value, -1 when null. Immutable.
 */
public record RecordMetadata(String topic, int partition, long offset, long timestamp, int serializedKeySize,
                             int serializedValueSize) {
    /** True when the broker reported the offset (not acks=0, not a failure). */
    public boolean hasOffset() {
        return offset >= 0;
    }

    @Override
    public String toString() {
        return topic + "-" + partition + "@" + offset;
    }
}
