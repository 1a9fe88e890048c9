package io.weir.streams;

import io.weir.common.TopicPartition;
import io.weir.streams.state.HostInfo;

import java.util.Set;

/**
 * One instance of a running job as the group's last assignment describes it: its {@code application.server}
 * endpoint, the stores and source partitions it holds actively, and those it holds as standby copies.
 */
public record StreamsMetadata(HostInfo hostInfo, Set<String> stateStoreNames, Set<TopicPartition> topicPartitions,
                              Set<String> standbyStateStoreNames, Set<TopicPartition> standbyTopicPartitions) {
    public StreamsMetadata {
        stateStoreNames = Set.copyOf(stateStoreNames);
        topicPartitions = Set.copyOf(topicPartitions);
        standbyStateStoreNames = Set.copyOf(standbyStateStoreNames);
        standbyTopicPartitions = Set.copyOf(standbyTopicPartitions);
    }

    public String host() {
        return hostInfo.host();
    }

    public int port() {
        return hostInfo.port();
    }
}
