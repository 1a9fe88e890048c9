package io.weir.consumer.errors;

import io.weir.common.TopicPartition;

import java.util.Set;

/** No committed offset and {@code auto.offset.reset=none}. */
public class NoOffsetForPartitionException extends InvalidOffsetException {
    private static final long serialVersionUID = 1L;
    private final transient Set<TopicPartition> partitions;

    public NoOffsetForPartitionException(Set<TopicPartition> partitions) {
        super("Undefined offset with no reset policy for partitions: " + partitions);
        this.partitions = Set.copyOf(partitions);
    }

    @Override
    public Set<TopicPartition> partitions() {
        return partitions;
    }
}
