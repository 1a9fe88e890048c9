package io.weir.streams;

import io.weir.streams.processor.internals.InternalTopologyBuilder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a {@link Topology} is made of, for reading and logging: its sub-topologies (the units the
 * runtime makes tasks of) with their nodes, edges, topics and stores. {@link #toString()} prints it in
 * the layout Kafka Streams users know. Immutable.
 */
public final class TopologyDescription {

    /** The kind of a node. */
    public enum NodeType { SOURCE, PROCESSOR, SINK }

    /**
     * One node: sources have {@code topics}, processors {@code stores}, sinks {@code topic} (null when an
     * extractor picks it per record); predecessor and successor names.
     */
    public record Node(NodeType type, String name, List<String> topics, List<String> stores, String topic,
                       List<String> predecessors, List<String> successors) {
    }

    public record Subtopology(int id, List<Node> nodes) {
    }

    private final List<Subtopology> subtopologies;
    private final List<Node> globalStoreNodes;

    private TopologyDescription(List<Subtopology> subtopologies, List<Node> globalStoreNodes) {
        this.subtopologies = List.copyOf(subtopologies);
        this.globalStoreNodes = List.copyOf(globalStoreNodes);
    }

    /** Describes the builder's current graph. */
    public static TopologyDescription of(InternalTopologyBuilder builder) {
        Map<String, List<String>> children = builder.children();
        List<Subtopology> subs = new ArrayList<>();
        java.util.Set<String> inSubtopologies = new java.util.HashSet<>();
        for (Map.Entry<Integer, List<String>> e : builder.subtopologies().entrySet()) {
            List<Node> nodes = new ArrayList<>();
            for (String name : e.getValue()) {
                nodes.add(node(builder, children, name));
                inSubtopologies.add(name);
            }
            subs.add(new Subtopology(e.getKey(), nodes));
        }
        List<Node> global = new ArrayList<>();
        for (String name : builder.nodes().keySet()) {
            if (!inSubtopologies.contains(name)) {
                global.add(node(builder, children, name));
            }
        }
        return new TopologyDescription(subs, global);
    }

    private static Node node(InternalTopologyBuilder builder, Map<String, List<String>> children, String name) {
        InternalTopologyBuilder.NodeDef def = builder.nodes().get(name);
        List<String> succ = List.copyOf(children.get(name));
        if (def instanceof InternalTopologyBuilder.SourceDef s) {
            return new Node(NodeType.SOURCE, name, s.topics().stream().map(builder::resolveTopic).toList(), List.of(), null, List.of(), succ);
        }
        if (def instanceof InternalTopologyBuilder.ProcessorDef p) {
            return new Node(NodeType.PROCESSOR, name, List.of(), List.copyOf(p.stores()), null, p.parents(), succ);
        }
        InternalTopologyBuilder.SinkDef s = (InternalTopologyBuilder.SinkDef) def;
        return new Node(NodeType.SINK, name, List.of(), List.of(), builder.resolveTopic(s.topic()), s.parents(), succ);
    }

    /** The source and processor nodes that fill global stores (they make no tasks). */
    public List<Node> globalStoreNodes() {
        return globalStoreNodes;
    }

    public List<Subtopology> subtopologies() {
        return subtopologies;
    }

    /** Every topic a sink of the topology writes to by name. */
    public List<String> sinkTopics() {
        List<String> topics = new ArrayList<>();
        for (Subtopology s : subtopologies) {
            for (Node n : s.nodes()) {
                if (n.type() == NodeType.SINK && n.topic() != null) {
                    topics.add(n.topic());
                }
            }
        }
        return topics;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Topologies:\n");
        List<Subtopology> all = new ArrayList<>(subtopologies);
        if (!globalStoreNodes.isEmpty()) {
            all.add(new Subtopology(-1, globalStoreNodes));
        }
        for (Subtopology s : all) {
            sb.append(s.id() < 0 ? "   Global stores (no tasks)" : "   Sub-topology: " + s.id()).append('\n');
            for (Node n : s.nodes()) {
                switch (n.type()) {
                    case SOURCE -> sb.append("    Source: ").append(n.name()).append(" (topics: ").append(n.topics()).append(")\n");
                    case PROCESSOR -> sb.append("    Processor: ").append(n.name()).append(" (stores: ").append(n.stores()).append(")\n");
                    case SINK -> sb.append("    Sink: ").append(n.name()).append(" (")
                        .append(n.topic() == null ? "extractor" : "topic: " + n.topic()).append(")\n");
                    default -> throw new AssertionError(n.type());
                }
                if (!n.successors().isEmpty()) {
                    sb.append("      --> ").append(String.join(", ", n.successors())).append('\n');
                }
                if (!n.predecessors().isEmpty()) {
                    sb.append("      <-- ").append(String.join(", ", n.predecessors())).append('\n');
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
