package io.weir.consumer.errors;

import io.weir.common.TopicPartition;

import java.util.Set;

/** A partition has no valid position and {@code auto.offset.reset} cannot supply one. */
public abstract class InvalidOffsetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    protected InvalidOffsetException(String message) {
        super(message);
    }

    public abstract Set<TopicPartition> partitions();
}
