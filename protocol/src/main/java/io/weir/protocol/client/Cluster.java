package io.weir.protocol.client;

import io.weir.protocol.Errors;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * An immutable snapshot of what a client knows about the cluster: brokers, controller, cluster id,
 * and for each topic of interest its partitions with leader, replicas and ISR. {@link Metadata}
 * replaces its snapshot atomically on every update, so a reader always sees one consistent view.
 */
public final class Cluster {
    /** One topic's metadata. {@code partitions} are sorted by partition index. */
    public record TopicInfo(String name, UUID topicId, boolean internal, List<PartitionInfo> partitions) {
        public TopicInfo {
            partitions = List.copyOf(partitions);
        }
    }

    /**
     * One partition: the leader id is -1 when there is none (election in progress); {@code error}
     * is the partition-level error the broker reported (NONE normally, LEADER_NOT_AVAILABLE ...).
     */
    public record PartitionInfo(String topic, int partition, int leaderId, int leaderEpoch, List<Integer> replicas,
                                List<Integer> isr, List<Integer> offlineReplicas, Errors error) {
        public PartitionInfo {
            replicas = List.copyOf(replicas);
            isr = List.copyOf(isr);
            offlineReplicas = List.copyOf(offlineReplicas);
        }
    }

    private static final Cluster EMPTY = new Cluster(null, List.of(), null, Map.of(), Map.of(), true);

    private final String clusterId;
    private final List<Node> nodes;
    private final Map<Integer, Node> nodesById;
    private final Node controller;
    private final Map<String, TopicInfo> topics;
    private final Map<String, Errors> topicErrors;
    private final boolean bootstrap;

    public Cluster(String clusterId, List<Node> nodes, Integer controllerId, Map<String, TopicInfo> topics,
                   Map<String, Errors> topicErrors) {
        this(clusterId, nodes, controllerId, topics, topicErrors, false);
    }

    private Cluster(String clusterId, List<Node> nodes, Integer controllerId, Map<String, TopicInfo> topics,
                    Map<String, Errors> topicErrors, boolean bootstrap) {
        this.clusterId = clusterId;
        this.nodes = List.copyOf(nodes);
        Map<Integer, Node> byId = new LinkedHashMap<>();
        for (Node n : this.nodes) {
            byId.put(n.id(), n);
        }
        this.nodesById = Collections.unmodifiableMap(byId);
        this.controller = controllerId == null ? null : byId.get(controllerId);
        this.topics = Collections.unmodifiableMap(new LinkedHashMap<>(topics));
        this.topicErrors = Collections.unmodifiableMap(new LinkedHashMap<>(topicErrors));
        this.bootstrap = bootstrap;
    }

    /** The view before any metadata arrived: no nodes. */
    public static Cluster empty() {
        return EMPTY;
    }

    /** The view before any metadata arrived: only the bootstrap addresses. */
    public static Cluster bootstrap(List<Node> bootstrapNodes) {
        return new Cluster(null, bootstrapNodes, null, Map.of(), Map.of(), true);
    }

    /** True until the first successful metadata response. */
    public boolean isBootstrap() {
        return bootstrap;
    }

    /** The cluster id, or null if unknown. */
    public String clusterId() {
        return clusterId;
    }

    public List<Node> nodes() {
        return nodes;
    }

    /** The node with this id, or null. */
    public Node node(int id) {
        return nodesById.get(id);
    }

    /** The controller, or null if unknown or not among the live brokers. */
    public Node controller() {
        return controller;
    }

    public Map<String, TopicInfo> topics() {
        return topics;
    }

    public Set<String> topicNames() {
        return topics.keySet();
    }

    /** The topic, or null if unknown (see {@link #topicError}). */
    public TopicInfo topic(String name) {
        return topics.get(name);
    }

    /** The topic-level error of the last update for a topic that is not in {@link #topics()}, or NONE. */
    public Errors topicError(String name) {
        return topicErrors.getOrDefault(name, Errors.NONE);
    }

    public Map<String, Errors> topicErrors() {
        return topicErrors;
    }

    /** The partitions of {@code topic}, empty if unknown. */
    public List<PartitionInfo> partitionsFor(String topic) {
        TopicInfo t = topics.get(topic);
        return t == null ? List.of() : t.partitions();
    }

    /** The leader of a partition, if it has one that is among the known nodes. */
    public Optional<Node> leaderFor(String topic, int partition) {
        TopicInfo t = topics.get(topic);
        if (t == null) {
            return Optional.empty();
        }
        for (PartitionInfo p : t.partitions()) {
            if (p.partition() == partition) {
                return p.leaderId() < 0 ? Optional.empty() : Optional.ofNullable(nodesById.get(p.leaderId()));
            }
        }
        return Optional.empty();
    }

    /** The leader epoch of a partition, or -1 if the partition or its epoch is unknown. */
    public int leaderEpochFor(String topic, int partition) {
        TopicInfo t = topics.get(topic);
        if (t != null) {
            for (PartitionInfo p : t.partitions()) {
                if (p.partition() == partition) {
                    return p.leaderEpoch();
                }
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "Cluster(id=" + clusterId + ", nodes=" + nodes + ", controller=" + controller + ", topics="
            + topics.keySet() + (bootstrap ? ", bootstrap" : "") + ")";
    }
}
