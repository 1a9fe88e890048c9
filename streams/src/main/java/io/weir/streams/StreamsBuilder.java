package io.weir.streams;

import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.GlobalKTable;
import io.weir.streams.kstream.KStream;
import io.weir.streams.kstream.KTable;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.internals.GlobalKTableImpl;
import io.weir.streams.kstream.internals.InternalStreamsBuilder;
import io.weir.streams.kstream.internals.KStreamImpl;
import io.weir.streams.kstream.internals.KTableImpl;
import io.weir.streams.processor.StateStore;
import io.weir.streams.state.StoreBuilder;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Properties;

/**
 * The entry point of the DSL: create streams and tables from topics, chain operations, then
 * {@link #build} the {@link Topology}. The DSL adds ordinary nodes and stores to the topology, so a job
 * may mix DSL and Processor API freely. Not thread-safe.
 */
public final class StreamsBuilder {
    private final Topology topology = new Topology();
    private final InternalStreamsBuilder internal = new InternalStreamsBuilder(topology.internalTopologyBuilder());

    public StreamsBuilder() {
    }

    public <K, V> KStream<K, V> stream(String topic) {
        return stream(List.of(topic), Consumed.with(null, null));
    }

    public <K, V> KStream<K, V> stream(String topic, Consumed<K, V> consumed) {
        return stream(List.of(topic), consumed);
    }

    public <K, V> KStream<K, V> stream(Collection<String> topics) {
        return stream(topics, Consumed.with(null, null));
    }

    /** A stream of the topics' records; serdes null in {@code consumed} mean the job's defaults. */
    public synchronized <K, V> KStream<K, V> stream(Collection<String> topics, Consumed<K, V> consumed) {
        Objects.requireNonNull(consumed, "consumed");
        String name = consumed.name() != null ? consumed.name() : internal.newName("KSTREAM-SOURCE-");
        topology.internalTopologyBuilder().addSource(name, consumed.timestampExtractor(),
            consumed.keySerde() == null ? null : consumed.keySerde().deserializer(),
            consumed.valueSerde() == null ? null : consumed.valueSerde().deserializer(), topics.toArray(new String[0]));
        return new KStreamImpl<>(internal, name, consumed.keySerde(), consumed.valueSerde(), false);
    }

    public <K, V> KTable<K, V> table(String topic) {
        return table(topic, Consumed.with(null, null), Materialized.with(null, null));
    }

    public <K, V> KTable<K, V> table(String topic, Consumed<K, V> consumed) {
        return table(topic, consumed, Materialized.with(null, null));
    }

    public <K, V> KTable<K, V> table(String topic, Materialized<K, V, ? extends StateStore> materialized) {
        return table(topic, Consumed.with(null, null), materialized);
    }

    /** A table of the topic read as a changelog (latest value per key; null values delete), kept in a store. */
    public synchronized <K, V> KTable<K, V> table(String topic, Consumed<K, V> consumed,
                                                  Materialized<K, V, ? extends StateStore> materialized) {
        Objects.requireNonNull(consumed, "consumed");
        Objects.requireNonNull(materialized, "materialized");
        return KTableImpl.fromTopic(internal, topic, consumed, materialized);
    }

    public <K, V> GlobalKTable<K, V> globalTable(String topic) {
        return globalTable(topic, Consumed.with(null, null), Materialized.with(null, null));
    }

    public <K, V> GlobalKTable<K, V> globalTable(String topic, Consumed<K, V> consumed) {
        return globalTable(topic, consumed, Materialized.with(null, null));
    }

    public <K, V> GlobalKTable<K, V> globalTable(String topic, Materialized<K, V, ? extends StateStore> materialized) {
        return globalTable(topic, Consumed.with(null, null), materialized);
    }

    /** A table of all partitions of the topic, held whole by every instance (its topic is its changelog). */
    public synchronized <K, V> GlobalKTable<K, V> globalTable(String topic, Consumed<K, V> consumed,
                                                              Materialized<K, V, ? extends StateStore> materialized) {
        Objects.requireNonNull(consumed, "consumed");
        Objects.requireNonNull(materialized, "materialized");
        return GlobalKTableImpl.fromTopic(internal, topic, consumed, materialized);
    }

    /** Adds a store for {@code KStream.process}/{@code processValues} to connect by name. */
    public synchronized StreamsBuilder addStateStore(StoreBuilder<?> builder) {
        topology.internalTopologyBuilder().addStateStore(builder);
        return this;
    }

    /** The topology built so far; its internal topic names get the application id when the job runs. */
    public synchronized Topology build() {
        return topology;
    }

    /**
     * The topology, with the application id of {@code props} already applied, so {@link Topology#describe()}
     * shows internal topics by their full names ({@code <application.id>-<name>-repartition}).
     */
    public synchronized Topology build(Properties props) {
        topology.internalTopologyBuilder().setApplicationId(StreamsConfig.applicationId(StreamsConfig.toMap(props)));
        return topology;
    }
}
