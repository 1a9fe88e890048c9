package io.weir.protocol.client;

/**
 * Chooses the broker for one attempt of a call. Evaluated on the {@link NetworkClient} I/O thread
 * before each attempt (so a retry after NOT_CONTROLLER goes to the new controller); returning null
 * means "no suitable node yet": the client refreshes metadata and asks again until the deadline.
 */
@FunctionalInterface
public interface NodeSelector {
    Node select(Cluster cluster, NetworkClient client);

    /** The node with the fewest in-flight requests that can be used now (any broker will do). */
    static NodeSelector leastLoaded() {
        return (cluster, client) -> client.leastLoadedNode();
    }

    /** The controller from the latest metadata. */
    static NodeSelector controller() {
        return (cluster, client) -> cluster.isBootstrap() ? null : cluster.controller();
    }

    /** A specific broker by id (known from metadata). */
    static NodeSelector node(int nodeId) {
        return (cluster, client) -> cluster.node(nodeId);
    }

    /** Exactly this node, even if metadata does not list it. */
    static NodeSelector fixed(Node node) {
        return (cluster, client) -> node;
    }
}
