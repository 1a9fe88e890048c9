package io.weir.admin;

import io.weir.protocol.client.Node;

import java.util.List;

/** The cluster as {@link Admin#describeCluster} sees it; {@code controller} is null if unknown. */
public record ClusterDescription(String clusterId, Node controller, List<Node> nodes) {
    public ClusterDescription {
        nodes = List.copyOf(nodes);
    }
}
