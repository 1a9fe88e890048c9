package io.weir.consumer.errors;

import io.weir.common.TopicPartition;

import java.util.Map;
import java.util.Set;

/** The fetch position is outside the log and {@code auto.offset.reset=none}. */
public class OffsetOutOfRangeException extends InvalidOffsetException {
    private static final long serialVersionUID = 1L;
    private final transient Map<TopicPartition, Long> offsetOutOfRangePartitions;

    public OffsetOutOfRangeException(Map<TopicPartition, Long> offsets) {
        super("Fetch position is out of range with no configured reset policy for partitions: " + offsets);
        this.offsetOutOfRangePartitions = Map.copyOf(offsets);
    }

    public Map<TopicPartition, Long> offsetOutOfRangePartitions() {
        return offsetOutOfRangePartitions;
    }

    @Override
    public Set<TopicPartition> partitions() {
        return offsetOutOfRangePartitions.keySet();
    }
}
