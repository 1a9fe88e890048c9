package io.weir.admin;

import java.util.List;
import java.util.UUID;

/** A topic as described by {@link Admin#describeTopics}: partitions sorted by index. */
public record TopicDescription(String name, boolean isInternal, UUID topicId, List<TopicPartitionInfo> partitions) {
    public TopicDescription {
        partitions = List.copyOf(partitions);
    }
}
