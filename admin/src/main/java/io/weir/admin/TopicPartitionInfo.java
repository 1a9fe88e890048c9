package io.weir.admin;

import io.weir.protocol.client.Node;

import java.util.List;

/** One partition of a described topic; {@code leader} is null when the partition has none. */
public record TopicPartitionInfo(int partition, Node leader, List<Node> replicas, List<Node> isr) {
    public TopicPartitionInfo {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }
}
