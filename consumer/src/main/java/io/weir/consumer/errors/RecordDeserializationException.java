package io.weir.consumer.errors;

import io.weir.common.TopicPartition;

/**
 * A record's key or value could not be deserialized. The position stays at the record, so the
 * application may {@code seek} past {@link #offset()} and go on.
 */
public class RecordDeserializationException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient TopicPartition partition;
    private final long offset;

    public RecordDeserializationException(TopicPartition partition, long offset, String message, Throwable cause) {
        super(message, cause);
        this.partition = partition;
        this.offset = offset;
    }

    public TopicPartition topicPartition() {
        return partition;
    }

    public long offset() {
        return offset;
    }
}
