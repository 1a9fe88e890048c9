package io.weir.streams;

import io.weir.consumer.Deserializer;
import io.weir.producer.Serializer;
import io.weir.streams.processor.StreamPartitioner;
import io.weir.streams.processor.TimestampExtractor;
import io.weir.streams.processor.TopicNameExtractor;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.processor.internals.InternalTopologyBuilder;
import io.weir.streams.state.StoreBuilder;

/**
 * A stream job's processing graph: sources reading topics, processors, sinks writing topics, and the
 * state stores processors use. Built by hand (the Processor API) or by a {@link StreamsBuilder} (the
 * DSL); run by the runtime or by {@code TopologyTestDriver}. Every {@code add*} checks its arguments
 * at once and fails with a {@link io.weir.streams.errors.TopologyException} naming what is wrong.
 * Null serializers or deserializers mean the job's {@code default.key.serde} / {@code default.value.serde}.
 * Its methods are synchronized, as Kafka's are, but a topology is meant to be built on one thread.
 */
public final class Topology {
    private final InternalTopologyBuilder builder = new InternalTopologyBuilder();

    public Topology() {
    }

    public synchronized Topology addSource(String name, String... topics) {
        builder.addSource(name, null, null, null, topics);
        return this;
    }

    public synchronized Topology addSource(String name, Deserializer<?> keyDeserializer, Deserializer<?> valueDeserializer,
                                           String... topics) {
        builder.addSource(name, null, keyDeserializer, valueDeserializer, topics);
        return this;
    }

    public synchronized Topology addSource(TimestampExtractor timestampExtractor, String name, Deserializer<?> keyDeserializer,
                                           Deserializer<?> valueDeserializer, String... topics) {
        builder.addSource(name, timestampExtractor, keyDeserializer, valueDeserializer, topics);
        return this;
    }

    public synchronized <KIn, VIn, KOut, VOut> Topology addProcessor(String name,
                                                                     ProcessorSupplier<KIn, VIn, KOut, VOut> supplier,
                                                                     String... parentNames) {
        builder.addProcessor(name, supplier, parentNames);
        return this;
    }

    public synchronized Topology addSink(String name, String topic, String... parentNames) {
        builder.addSink(name, topic, null, null, null, null, parentNames);
        return this;
    }

    public synchronized <K, V> Topology addSink(String name, String topic, Serializer<K> keySerializer,
                                                Serializer<V> valueSerializer, String... parentNames) {
        builder.addSink(name, topic, null, keySerializer, valueSerializer, null, parentNames);
        return this;
    }

    public synchronized <K, V> Topology addSink(String name, String topic, Serializer<K> keySerializer,
                                                Serializer<V> valueSerializer, StreamPartitioner<? super K, ? super V> partitioner,
                                                String... parentNames) {
        builder.addSink(name, topic, null, keySerializer, valueSerializer, partitioner, parentNames);
        return this;
    }

    public synchronized <K, V> Topology addSink(String name, TopicNameExtractor<K, V> topicExtractor, String... parentNames) {
        builder.addSink(name, null, topicExtractor, null, null, null, parentNames);
        return this;
    }

    public synchronized <K, V> Topology addSink(String name, TopicNameExtractor<K, V> topicExtractor, Serializer<K> keySerializer,
                                                Serializer<V> valueSerializer, String... parentNames) {
        builder.addSink(name, null, topicExtractor, keySerializer, valueSerializer, null, parentNames);
        return this;
    }

    /** Adds a store and connects it to the named processors (more can be connected later). */
    public synchronized Topology addStateStore(StoreBuilder<?> storeBuilder, String... processorNames) {
        builder.addStateStore(storeBuilder, processorNames);
        return this;
    }

    /**
     * Adds a global store: every instance fills it from all partitions of {@code topic} through the
     * processor (which puts what it reads; it forwards nothing), and every processor may read it by name
     * without connecting it. The topic is its changelog, so the store's logging is turned off.
     */
    public synchronized <KIn, VIn> Topology addGlobalStore(StoreBuilder<?> storeBuilder, String sourceName,
                                                           Deserializer<KIn> keyDeserializer, Deserializer<VIn> valueDeserializer,
                                                           String topic, String processorName,
                                                           ProcessorSupplier<KIn, VIn, Void, Void> stateUpdateSupplier) {
        builder.addGlobalStore(storeBuilder, sourceName, null, keyDeserializer, valueDeserializer, topic, processorName,
            stateUpdateSupplier);
        return this;
    }

    public synchronized Topology connectProcessorAndStateStores(String processorName, String... stateStoreNames) {
        builder.connectProcessorAndStateStores(processorName, stateStoreNames);
        return this;
    }

    /**
     * The graph as sub-topologies (nodes joined by edges or shared stores; a repartition topic splits
     * them). Internal topics show with their application-id prefix once the id is known.
     */
    public synchronized TopologyDescription describe() {
        return builder.describe();
    }

    /** The machinery, for the runtime and the test driver; not for users. */
    public InternalTopologyBuilder internalTopologyBuilder() {
        return builder;
    }

    @Override
    public String toString() {
        return describe().toString();
    }
}
