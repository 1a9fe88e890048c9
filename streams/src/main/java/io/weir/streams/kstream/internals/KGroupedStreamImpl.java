package io.weir.streams.kstream.internals;

import io.weir.streams.kstream.Aggregator;
import io.weir.streams.kstream.Initializer;
import io.weir.streams.kstream.KGroupedStream;
import io.weir.streams.kstream.KTable;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Named;
import io.weir.streams.kstream.Reducer;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serde;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueStore;

import java.util.Objects;

/**
 * A grouped stream waiting for its aggregation. The aggregation adds, in order: the repartition (if
 * the key may have changed) through {@code <application.id>-<name>-repartition}, where name is the
 * {@code Grouped} name or else the store name; the store; and the aggregating processor, which emits
 * each key's new aggregate (with the old one, for downstream tables).
 */
@SuppressWarnings({"unchecked", "rawtypes"})
final class KGroupedStreamImpl<K, V> implements KGroupedStream<K, V> {
    private final KStreamImpl<K, V> stream;
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private final String groupedName;
    private final boolean repartitionRequired;

    KGroupedStreamImpl(KStreamImpl<K, V> stream, Serde<K> keySerde, Serde<V> valueSerde, String groupedName,
                       boolean repartitionRequired) {
        this.stream = stream;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.groupedName = groupedName;
        this.repartitionRequired = repartitionRequired;
    }

    @Override
    public io.weir.streams.kstream.TimeWindowedKStream<K, V> windowedBy(io.weir.streams.kstream.TimeWindows windows) {
        return new TimeWindowedKStreamImpl<>(this, Objects.requireNonNull(windows, "windows"));
    }

    @Override
    public io.weir.streams.kstream.TimeWindowedKStream<K, V> windowedBy(io.weir.streams.kstream.SlidingWindows windows) {
        return new SlidingWindowedKStreamImpl<>(this, Objects.requireNonNull(windows, "windows"));
    }

    @Override
    public io.weir.streams.kstream.SessionWindowedKStream<K, V> windowedBy(io.weir.streams.kstream.SessionWindows windows) {
        return new SessionWindowedKStreamImpl<>(this, Objects.requireNonNull(windows, "windows"));
    }

    /**
     * The stream to aggregate: this one, or (if the key may have changed) this one through
     * {@code <application.id>-<Grouped name, else store name>-repartition}.
     */
    KStreamImpl<K, V> input(String storeName) {
        if (!repartitionRequired) {
            return stream;
        }
        return stream.repartitionThrough(groupedName != null ? groupedName : storeName, keySerde, valueSerde, null, true);
    }

    InternalStreamsBuilder builder() {
        return stream.builder;
    }

    Serde<K> keySerde() {
        return keySerde;
    }

    Serde<V> valueSerde() {
        return valueSerde;
    }

    /** How one record changes a key's aggregate; {@code old} is null for a new key. */
    @FunctionalInterface
    interface Step {
        Object apply(Object key, Object value, Object old);
    }

    @Override
    public KTable<K, Long> count() {
        return count(null, Materialized.with(keySerde, Serdes.Long()));
    }

    @Override
    public KTable<K, Long> count(Named named) {
        return count(named, Materialized.with(keySerde, Serdes.Long()));
    }

    @Override
    public KTable<K, Long> count(Materialized<K, Long, ? extends StateStore> materialized) {
        return count(null, materialized);
    }

    @Override
    public KTable<K, Long> count(Named named, Materialized<K, Long, ? extends StateStore> materialized) {
        Objects.requireNonNull(materialized, "materialized");
        if (materialized.valueSerde() == null) {
            materialized.withValueSerde(Serdes.Long());
        }
        return aggregate("KSTREAM-AGGREGATE-", named, materialized, (Serde) Serdes.Long(),
            (k, v, old) -> old == null ? 1L : (Long) old + 1);
    }

    @Override
    public KTable<K, V> reduce(Reducer<V> reducer) {
        return reduce(reducer, null, Materialized.with(keySerde, valueSerde));
    }

    @Override
    public KTable<K, V> reduce(Reducer<V> reducer, Materialized<K, V, ? extends StateStore> materialized) {
        return reduce(reducer, null, materialized);
    }

    @Override
    public KTable<K, V> reduce(Reducer<V> reducer, Named named, Materialized<K, V, ? extends StateStore> materialized) {
        Objects.requireNonNull(reducer, "reducer");
        Objects.requireNonNull(materialized, "materialized");
        Reducer<Object> r = (Reducer) reducer;
        return aggregate("KSTREAM-REDUCE-", named, materialized, (Serde) valueSerde,
            (k, v, old) -> old == null ? v : r.apply(old, v));
    }

    @Override
    public <VR> KTable<K, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator) {
        return aggregate(initializer, aggregator, null, Materialized.with(keySerde, null));
    }

    @Override
    public <VR> KTable<K, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                        Materialized<K, VR, ? extends StateStore> materialized) {
        return aggregate(initializer, aggregator, null, materialized);
    }

    @Override
    public <VR> KTable<K, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                        Named named, Materialized<K, VR, ? extends StateStore> materialized) {
        Objects.requireNonNull(initializer, "initializer");
        Objects.requireNonNull(aggregator, "aggregator");
        Objects.requireNonNull(materialized, "materialized");
        Aggregator<Object, Object, Object> a = (Aggregator) aggregator;
        return aggregate("KSTREAM-AGGREGATE-", named, materialized, null,
            (k, v, old) -> a.apply(k, v, old == null ? initializer.apply() : old));
    }

    private <VR> KTable<K, VR> aggregate(String prefix, Named named, Materialized<K, VR, ?> materialized,
                                         Serde<VR> defaultValueSerde, Step step) {
        InternalStreamsBuilder builder = stream.builder;
        String storeName = materialized.storeName() != null ? materialized.storeName()
            : builder.newName(prefix + "STATE-STORE-");
        KStreamImpl<K, V> input = input(storeName);
        String name = builder.name(named, prefix);
        Serde<VR> aggSerde = materialized.valueSerde() != null ? materialized.valueSerde() : defaultValueSerde;
        builder.topology().addStateStore(builder.keyValueStore(materialized, storeName, keySerde, aggSerde));
        ProcessorSupplier<Object, Object, Object, Object> supplier = () -> new ContextualProcessor<>() {
            private KeyValueStore<Object, Object> store;
            private TableForwarder forwarder;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                store = context.getStateStore(storeName);
                forwarder = new TableForwarder(store, context);
            }

            @Override
            public void process(Record<Object, Object> record) {
                if (record.key() == null || record.value() == null) {
                    return;
                }
                Object old = store.get(record.key());
                Object updated = step.apply(record.key(), record.value(), old);
                store.put(record.key(), updated);
                forwarder.maybeForward(record, updated, old);
            }
        };
        builder.topology().addProcessor(name, supplier, input.nodeName);
        builder.topology().connectProcessorAndStateStores(name, storeName);
        Serde<K> tableKeySerde = materialized.keySerde() != null ? materialized.keySerde() : keySerde;
        return new KTableImpl<>(builder, name, tableKeySerde, aggSerde, materialized.storeName() != null ? storeName : null, storeName);
    }
}
