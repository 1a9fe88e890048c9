package io.weir.streams.processor.internals;

import io.weir.consumer.Deserializer;
import io.weir.producer.Serializer;
import io.weir.streams.TopologyDescription;
import io.weir.streams.errors.TopologyException;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.StreamPartitioner;
import io.weir.streams.processor.TimestampExtractor;
import io.weir.streams.processor.TopicNameExtractor;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.state.StoreBuilder;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The machinery behind {@code Topology}: node and store definitions, checked as they are added, from
 * which {@link #build} makes the per-task {@link ProcessorTopology}. The DSL writes into the same
 * builder, so DSL jobs and Processor API jobs run on one graph implementation.
 *
 * <p>Topic names of internal topics (repartition topics) are held short ({@code <name>-repartition})
 * and prefixed with the application id once it is known ({@link #setApplicationId}). Not thread-safe.
 */
public final class InternalTopologyBuilder {

    /** A node definition. */
    public sealed interface NodeDef permits SourceDef, ProcessorDef, SinkDef {
        String name();

        List<String> parents();
    }

    public record SourceDef(String name, List<String> topics, Deserializer<?> keyDeserializer,
                            Deserializer<?> valueDeserializer, TimestampExtractor timestampExtractor) implements NodeDef {
        @Override
        public List<String> parents() {
            return List.of();
        }
    }

    public record ProcessorDef(String name, ProcessorSupplier<?, ?, ?, ?> supplier, List<String> parents,
                               Set<String> stores) implements NodeDef {
    }

    /** A sink to a fixed topic (extractor null) or to the extractor's topics (topic null). */
    public record SinkDef(String name, String topic, TopicNameExtractor<?, ?> extractor, Serializer<?> keySerializer,
                          Serializer<?> valueSerializer, StreamPartitioner<?, ?> partitioner,
                          List<String> parents) implements NodeDef {
    }

    /**
     * A topic the job creates: a repartition topic, or a store's compacted changelog. {@code partitions}
     * is the count asked for ({@code Repartitioned.withNumberOfPartitions}), or null for the runtime to
     * derive (a changelog has its task's input's count).
     */
    public record InternalTopic(String name, Kind kind, Map<String, String> configs, Integer partitions) {
        public enum Kind { REPARTITION, CHANGELOG }
    }

    private final Map<String, NodeDef> nodes = new LinkedHashMap<>();
    private final Map<String, StoreBuilder<?>> stores = new LinkedHashMap<>();
    private final Map<String, String> sourceByTopic = new HashMap<>();
    private final Set<String> internalTopics = new LinkedHashSet<>();
    private final Map<String, Integer> internalTopicPartitions = new HashMap<>();
    /** Nodes of global stores (a source and its updating processor): every instance runs them on all partitions. */
    private final Set<String> globalNodes = new LinkedHashSet<>();
    private final Set<String> globalStores = new LinkedHashSet<>();
    private String applicationId;

    public void setApplicationId(String applicationId) {
        this.applicationId = applicationId;
    }

    public String applicationId() {
        return applicationId;
    }

    /** Marks a short topic name (as used in sources and sinks) as a repartition topic of the job. */
    public void addInternalTopic(String shortName) {
        internalTopics.add(shortName);
    }

    /** Like {@link #addInternalTopic(String)}, with the partition count it must have. */
    public void addInternalTopic(String shortName, int partitions) {
        internalTopics.add(shortName);
        internalTopicPartitions.put(shortName, partitions);
    }

    public void addSource(String name, TimestampExtractor extractor, Deserializer<?> keyDeserializer,
                          Deserializer<?> valueDeserializer, String... topics) {
        checkNewName(name);
        if (topics == null || topics.length == 0) {
            throw new TopologyException("source " + name + " must name at least one topic");
        }
        for (String topic : topics) {
            if (topic == null || topic.isEmpty()) {
                throw new TopologyException("source " + name + " names a null or empty topic");
            }
            String other = sourceByTopic.get(topic);
            if (other != null) {
                throw new TopologyException("topic " + topic + " is already read by source " + other);
            }
        }
        for (String topic : topics) {
            sourceByTopic.put(topic, name);
        }
        nodes.put(name, new SourceDef(name, List.of(topics), keyDeserializer, valueDeserializer, extractor));
    }

    public void addProcessor(String name, ProcessorSupplier<?, ?, ?, ?> supplier, String... parentNames) {
        checkNewName(name);
        if (supplier == null) {
            throw new TopologyException("processor " + name + " has a null supplier");
        }
        List<String> parents = checkParents(name, parentNames);
        nodes.put(name, new ProcessorDef(name, supplier, parents, new LinkedHashSet<>()));
        for (StoreBuilder<?> store : supplier.stores()) {
            if (!stores.containsKey(store.name())) {
                addStateStore(store);
            }
            connectProcessorAndStateStores(name, store.name());
        }
    }

    public void addSink(String name, String topic, TopicNameExtractor<?, ?> extractor, Serializer<?> keySerializer,
                        Serializer<?> valueSerializer, StreamPartitioner<?, ?> partitioner, String... parentNames) {
        checkNewName(name);
        if ((topic == null || topic.isEmpty()) && extractor == null) {
            throw new TopologyException("sink " + name + " needs a topic or a topic name extractor");
        }
        List<String> parents = checkParents(name, parentNames);
        nodes.put(name, new SinkDef(name, topic, extractor, keySerializer, valueSerializer, partitioner, parents));
    }

    public void addStateStore(StoreBuilder<?> store, String... processorNames) {
        if (stores.containsKey(store.name())) {
            throw new TopologyException("a store named " + store.name() + " was already added");
        }
        stores.put(store.name(), store);
        for (String p : processorNames) {
            connectProcessorAndStateStores(p, store.name());
        }
    }

    /**
     * Adds a global store: filled from all partitions of {@code topic} by the processor, readable by every
     * processor of every task without connecting it. The topic is its changelog, so logging is disabled.
     */
    public void addGlobalStore(StoreBuilder<?> store, String sourceName, TimestampExtractor extractor, Deserializer<?> keyDeserializer,
                               Deserializer<?> valueDeserializer, String topic, String processorName,
                               ProcessorSupplier<?, ?, ?, ?> stateUpdateSupplier) {
        if (processorName != null && processorName.equals(sourceName)) {
            throw new TopologyException("the source and processor of global store " + store.name() + " need different names");
        }
        store.withLoggingDisabled();
        addSource(sourceName, extractor, keyDeserializer, valueDeserializer, topic);
        addStateStore(store);
        addProcessor(processorName, stateUpdateSupplier, sourceName);
        connectProcessorAndStateStores(processorName, store.name());
        globalNodes.add(sourceName);
        globalNodes.add(processorName);
        globalStores.add(store.name());
    }

    /** True if the topology has global stores. */
    public boolean hasGlobalStores() {
        return !globalStores.isEmpty();
    }

    public boolean isGlobalStore(String name) {
        return globalStores.contains(name);
    }

    /** The graph that fills the global stores (run by one global task per instance). */
    public ProcessorTopology buildGlobal() {
        return build(null, true);
    }

    public void connectProcessorAndStateStores(String processorName, String... storeNames) {
        NodeDef node = nodes.get(processorName);
        if (!(node instanceof ProcessorDef p)) {
            throw new TopologyException("no processor named " + processorName + " to connect stores to");
        }
        for (String store : storeNames) {
            if (!stores.containsKey(store)) {
                throw new TopologyException("store " + store + " is not added yet (add it before connecting it to " + processorName + ")");
            }
            if (globalStores.contains(store)) {
                throw new TopologyException("global store " + store + " is readable by every processor; do not connect it to "
                    + processorName);
            }
            p.stores().add(store);
        }
    }

    public boolean hasStore(String name) {
        return stores.containsKey(name);
    }

    /** The topic name as the job uses it: internal topics get the application id prefix. */
    public String resolveTopic(String topic) {
        if (topic != null && applicationId != null && internalTopics.contains(topic)) {
            return applicationId + "-" + topic;
        }
        return topic;
    }

    /** The topics the job creates; needs the application id. */
    public List<InternalTopic> internalTopics() {
        requireApplicationId();
        List<InternalTopic> topics = new ArrayList<>();
        for (String t : internalTopics) {
            topics.add(new InternalTopic(resolveTopic(t), InternalTopic.Kind.REPARTITION, Map.of(), internalTopicPartitions.get(t)));
        }
        for (StoreBuilder<?> s : stores.values()) {
            if (s.loggingEnabled()) {
                Map<String, String> configs = new HashMap<>(s.logConfig());
                configs.put("cleanup.policy", "compact");
                topics.add(new InternalTopic(ProcessorStateNames.changelogTopic(applicationId, s.name()),
                    InternalTopic.Kind.CHANGELOG, Map.copyOf(configs), null));
            }
        }
        return topics;
    }

    /** Every input topic of the job's tasks (resolved); global stores' topics are not among them. */
    public Set<String> sourceTopics() {
        Set<String> topics = new LinkedHashSet<>();
        for (Map.Entry<String, String> e : sourceByTopic.entrySet()) {
            if (!globalNodes.contains(e.getValue())) {
                topics.add(resolveTopic(e.getKey()));
            }
        }
        return topics;
    }

    /**
     * The input topics (resolved) of each sub-topology: the runtime makes one task per partition of
     * each, and the topics of one sub-topology must be co-partitioned (same partition count).
     */
    public Map<Integer, Set<String>> sourceTopicsBySubtopology() {
        Map<Integer, Set<String>> result = new TreeMap<>();
        for (Map.Entry<Integer, List<String>> e : subtopologies().entrySet()) {
            Set<String> topics = new LinkedHashSet<>();
            for (String node : e.getValue()) {
                if (nodes.get(node) instanceof SourceDef s) {
                    s.topics().forEach(t -> topics.add(resolveTopic(t)));
                }
            }
            result.put(e.getKey(), topics);
        }
        return result;
    }

    /** The topics that fill global stores. */
    public Set<String> globalTopics() {
        Set<String> topics = new LinkedHashSet<>();
        for (Map.Entry<String, String> e : sourceByTopic.entrySet()) {
            if (globalNodes.contains(e.getValue())) {
                topics.add(e.getKey());
            }
        }
        return topics;
    }

    /** Node names grouped by sub-topology (nodes linked by an edge or a shared store), numbered in order. */
    public Map<Integer, List<String>> subtopologies() {
        Map<String, String> parent = new HashMap<>();
        for (String n : nodes.keySet()) {
            parent.put(n, n);
        }
        Map<String, String> storeOwner = new HashMap<>();
        for (NodeDef n : nodes.values()) {
            for (String p : n.parents()) {
                union(parent, n.name(), p);
            }
            if (n instanceof ProcessorDef p) {
                for (String s : p.stores()) {
                    String owner = storeOwner.putIfAbsent(s, p.name());
                    if (owner != null) {
                        union(parent, owner, p.name());
                    }
                }
            }
        }
        Map<String, Integer> idByRoot = new HashMap<>();
        Map<Integer, List<String>> result = new TreeMap<>();
        for (String n : nodes.keySet()) {
            if (globalNodes.contains(n)) {
                continue;
            }
            int id = idByRoot.computeIfAbsent(find(parent, n), r -> idByRoot.size());
            result.computeIfAbsent(id, i -> new ArrayList<>()).add(n);
        }
        return result;
    }

    /** The definitions, in the order they were added. */
    public Map<String, NodeDef> nodes() {
        return nodes;
    }

    public Map<String, StoreBuilder<?>> stores() {
        return stores;
    }

    /** The children of each node, in the order they were added. */
    public Map<String, List<String>> children() {
        Map<String, List<String>> children = new LinkedHashMap<>();
        for (String n : nodes.keySet()) {
            children.put(n, new ArrayList<>());
        }
        for (NodeDef n : nodes.values()) {
            for (String p : n.parents()) {
                children.get(p).add(n.name());
            }
        }
        return children;
    }

    /**
     * The runnable graph of the given sub-topologies (null: all of them, as the test driver runs), with
     * new processor and store instances: call once per task.
     */
    public ProcessorTopology build(Set<Integer> subtopologyIds) {
        return build(subtopologyIds, false);
    }

    private ProcessorTopology build(Set<Integer> subtopologyIds, boolean global) {
        requireApplicationId();
        Set<String> included = new LinkedHashSet<>();
        if (global) {
            included.addAll(globalNodes);
        } else {
            for (Map.Entry<Integer, List<String>> e : subtopologies().entrySet()) {
                if (subtopologyIds == null || subtopologyIds.contains(e.getKey())) {
                    included.addAll(e.getValue());
                }
            }
        }
        Map<String, ProcessorNode> built = new LinkedHashMap<>();
        Map<String, SourceNode> sourcesByTopic = new LinkedHashMap<>();
        Map<String, StateStore> storeInstances = new LinkedHashMap<>();
        for (NodeDef def : nodes.values()) {
            if (!included.contains(def.name())) {
                continue;
            }
            ProcessorNode node;
            if (def instanceof SourceDef s) {
                SourceNode source = new SourceNode(s.name(), s.keyDeserializer(), s.valueDeserializer(), s.timestampExtractor());
                for (String t : s.topics()) {
                    sourcesByTopic.put(resolveTopic(t), source);
                }
                node = source;
            } else if (def instanceof ProcessorDef p) {
                for (String s : p.stores()) {
                    storeInstances.computeIfAbsent(s, name -> stores.get(name).build());
                }
                node = new ProcessorNodeImpl(p.name(), p.supplier().get(), Set.copyOf(p.stores()));
            } else {
                SinkDef s = (SinkDef) def;
                node = new SinkNode(s.name(), resolveTopic(s.topic()), s.extractor(), s.keySerializer(), s.valueSerializer(), s.partitioner());
            }
            built.put(def.name(), node);
        }
        for (Map.Entry<String, List<String>> e : children().entrySet()) {
            ProcessorNode parentNode = built.get(e.getKey());
            if (parentNode == null) {
                continue;
            }
            for (String child : e.getValue()) {
                parentNode.addChild(built.get(child));
            }
        }
        Map<String, Boolean> logged = new HashMap<>();
        for (String s : storeInstances.keySet()) {
            logged.put(s, stores.get(s).loggingEnabled());
        }
        return new ProcessorTopology(List.copyOf(built.values()), sourcesByTopic, storeInstances, logged);
    }

    public TopologyDescription describe() {
        return TopologyDescription.of(this);
    }

    private void requireApplicationId() {
        if (applicationId == null) {
            throw new TopologyException("the application id is not set (it names the job's internal topics)");
        }
    }

    private void checkNewName(String name) {
        if (name == null || name.isEmpty()) {
            throw new TopologyException("a node name cannot be null or empty");
        }
        if (nodes.containsKey(name)) {
            throw new TopologyException("a node named " + name + " was already added");
        }
    }

    private List<String> checkParents(String name, String... parentNames) {
        if (parentNames == null || parentNames.length == 0) {
            throw new TopologyException(name + " must have at least one parent");
        }
        for (String p : parentNames) {
            NodeDef parent = nodes.get(p);
            if (parent == null) {
                throw new TopologyException("parent " + p + " of " + name + " is not added yet");
            }
            if (parent instanceof SinkDef) {
                throw new TopologyException("sink " + p + " cannot be the parent of " + name);
            }
            if (p.equals(name)) {
                throw new TopologyException(name + " cannot be its own parent");
            }
        }
        return List.of(parentNames);
    }

    private static String find(Map<String, String> parent, String n) {
        String root = n;
        while (!parent.get(root).equals(root)) {
            root = parent.get(root);
        }
        parent.put(n, root);
        return root;
    }

    private static void union(Map<String, String> parent, String a, String b) {
        String ra = find(parent, a);
        String rb = find(parent, b);
        if (!ra.equals(rb)) {
            parent.put(ra, rb);
        }
    }
}
