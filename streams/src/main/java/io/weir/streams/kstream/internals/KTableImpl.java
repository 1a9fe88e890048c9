package io.weir.streams.kstream.internals;

import io.weir.streams.kstream.KStream;
import io.weir.streams.kstream.KTable;
import io.weir.streams.kstream.KeyValueMapper;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Named;
import io.weir.streams.kstream.Predicate;
import io.weir.streams.kstream.ValueJoiner;
import io.weir.streams.kstream.ValueMapper;
import io.weir.streams.kstream.ValueMapperWithKey;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.KeyValueStore;

import java.util.Objects;
import java.util.function.BiFunction;

/**
 * A {@link KTable} as a node whose records carry {@link Change}s (new and old value of a key).
 * {@code storeName} is the store holding this table's current rows (null when it is not materialized);
 * {@code queryableName} is that name only when the user gave it.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
public final class KTableImpl<K, V> implements KTable<K, V> {
    private final InternalStreamsBuilder builder;
    private final String nodeName;
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private final String queryableName;
    private final String storeName;
    /** For windowed aggregation results: the windows and the inner key serde; null otherwise. */
    private WindowedTable windowed;

    /** What {@code suppress(untilWindowCloses)} needs of a windowed aggregation's table. */
    record WindowedTable(long graceMs, Serde<?> innerKeySerde) {
    }

    KTableImpl(InternalStreamsBuilder builder, String nodeName, Serde<K> keySerde, Serde<V> valueSerde, String queryableName,
               String storeName) {
        this.builder = builder;
        this.nodeName = nodeName;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.queryableName = queryableName;
        this.storeName = storeName;
    }

    KTableImpl<K, V> windowed(long graceMs, Serde<?> innerKeySerde) {
        this.windowed = new WindowedTable(graceMs, innerKeySerde);
        return this;
    }

    @Override
    public KTable<K, V> filter(Predicate<? super K, ? super V> predicate) {
        return filter(predicate, null, null);
    }

    @Override
    public KTable<K, V> filter(Predicate<? super K, ? super V> predicate, Named named) {
        return filter(predicate, named, null);
    }

    @Override
    public KTable<K, V> filter(Predicate<? super K, ? super V> predicate, Materialized<K, V, ? extends StateStore> materialized) {
        return filter(predicate, null, materialized);
    }

    @Override
    public KTable<K, V> filter(Predicate<? super K, ? super V> predicate, Named named,
                               Materialized<K, V, ? extends StateStore> materialized) {
        Objects.requireNonNull(predicate, "predicate");
        Predicate<Object, Object> p = (Predicate) predicate;
        return (KTable<K, V>) derive(builder.name(named, "KTABLE-FILTER-"), materialized, valueSerde,
            (k, v) -> v != null && p.test(k, v) ? v : null);
    }

    @Override
    public KTable<K, V> filterNot(Predicate<? super K, ? super V> predicate) {
        return filterNot(predicate, null);
    }

    @Override
    public KTable<K, V> filterNot(Predicate<? super K, ? super V> predicate, Named named) {
        Objects.requireNonNull(predicate, "predicate");
        return filter((k, v) -> !predicate.test(k, v), named, null);
    }

    @Override
    public <VR> KTable<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper) {
        return mapValues(mapper, (Named) null);
    }

    @Override
    public <VR> KTable<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper, Named named) {
        Objects.requireNonNull(mapper, "mapper");
        return mapValues((ValueMapperWithKey<K, V, VR>) (k, v) -> mapper.apply(v), named, null);
    }

    @Override
    public <VR> KTable<K, VR> mapValues(ValueMapperWithKey<? super K, ? super V, ? extends VR> mapper) {
        return mapValues(mapper, null, null);
    }

    @Override
    public <VR> KTable<K, VR> mapValues(ValueMapperWithKey<? super K, ? super V, ? extends VR> mapper,
                                        Materialized<K, VR, ? extends StateStore> materialized) {
        return mapValues(mapper, null, materialized);
    }

    @Override
    public <VR> KTable<K, VR> mapValues(ValueMapperWithKey<? super K, ? super V, ? extends VR> mapper, Named named,
                                        Materialized<K, VR, ? extends StateStore> materialized) {
        Objects.requireNonNull(mapper, "mapper");
        ValueMapperWithKey<Object, Object, Object> m = (ValueMapperWithKey) mapper;
        return (KTable<K, VR>) derive(builder.name(named, "KTABLE-MAPVALUES-"), materialized, null,
            (k, v) -> v == null ? null : m.apply(k, v));
    }

    /**
     * A table whose rows are {@code f(key, row)} of this one (null: no row). An update that leaves the
     * derived row absent before and after is not emitted; one that removes it is emitted as a delete.
     */
    private KTable<?, ?> derive(String name, Materialized<?, ?, ?> materialized, Serde<?> defaultValueSerde,
                                BiFunction<Object, Object, Object> f) {
        String derivedStore = null;
        Serde<Object> derivedSerde = (Serde<Object>) defaultValueSerde;
        if (materialized != null) {
            derivedStore = materialized.storeName() != null ? materialized.storeName() : builder.newName("KTABLE-STATE-STORE-");
            if (materialized.valueSerde() != null) {
                derivedSerde = (Serde<Object>) materialized.valueSerde();
            }
            builder.topology().addStateStore(builder.keyValueStore((Materialized) materialized, derivedStore, keySerde, derivedSerde));
        }
        String store = derivedStore;
        ProcessorSupplier<Object, Object, Object, Object> supplier = () -> new ContextualProcessor<>() {
            private KeyValueStore<Object, Object> kv;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                kv = store == null ? null : context.getStateStore(store);
            }

            @Override
            public void process(Record<Object, Object> record) {
                Change<Object> change = (Change<Object>) record.value();
                Object newValue = f.apply(record.key(), change.newValue());
                Object oldValue = change.oldValue() == null ? null : f.apply(record.key(), change.oldValue());
                if (newValue == null && oldValue == null) {
                    return;
                }
                if (kv != null) {
                    kv.put(record.key(), newValue);
                }
                context().forward(record.withValue(new Change<>(newValue, oldValue)));
            }
        };
        builder.topology().addProcessor(name, supplier, nodeName);
        if (store != null) {
            builder.topology().connectProcessorAndStateStores(name, store);
        }
        String queryable = materialized != null && materialized.storeName() != null ? store : null;
        return new KTableImpl<>(builder, name, keySerde, derivedSerde, queryable, store);
    }

    @Override
    public KStream<K, V> toStream() {
        return toStream(null);
    }

    @Override
    public KStream<K, V> toStream(Named named) {
        String name = builder.name(named, "KTABLE-TOSTREAM-");
        builder.topology().addProcessor(name, Processors.stateless((ctx, r) ->
            ctx.forward(r.withValue(((Change<Object>) r.value()).newValue()))), nodeName);
        return new KStreamImpl<>(builder, name, keySerde, valueSerde, false);
    }

    @Override
    public <KR, VR> io.weir.streams.kstream.KGroupedTable<KR, VR> groupBy(
        KeyValueMapper<? super K, ? super V, io.weir.streams.KeyValue<KR, VR>> selector) {
        return groupBy(selector, io.weir.streams.kstream.Grouped.with(null, null));
    }

    @Override
    public <KR, VR> io.weir.streams.kstream.KGroupedTable<KR, VR> groupBy(
        KeyValueMapper<? super K, ? super V, io.weir.streams.KeyValue<KR, VR>> selector, io.weir.streams.kstream.Grouped<KR, VR> grouped) {
        Objects.requireNonNull(selector, "selector");
        Objects.requireNonNull(grouped, "grouped");
        return new KGroupedTableImpl<>(builder, nodeName, (KeyValueMapper) selector, grouped.keySerde(), grouped.valueSerde(),
            grouped.name());
    }

    @Override
    public <VR, KO, VO> KTable<K, VR> join(KTable<KO, VO> other, java.util.function.Function<? super V, ? extends KO> foreignKeyExtractor,
                                           ValueJoiner<? super V, ? super VO, ? extends VR> joiner) {
        return ForeignKeyJoin.join(this, other, foreignKeyExtractor, joiner, false);
    }

    @Override
    public <VR, KO, VO> KTable<K, VR> leftJoin(KTable<KO, VO> other,
                                               java.util.function.Function<? super V, ? extends KO> foreignKeyExtractor,
                                               ValueJoiner<? super V, ? super VO, ? extends VR> joiner) {
        return ForeignKeyJoin.join(this, other, foreignKeyExtractor, joiner, true);
    }

    InternalStreamsBuilder builder() {
        return builder;
    }

    String nodeName() {
        return nodeName;
    }

    Serde<K> keySerde() {
        return keySerde;
    }

    Serde<V> valueSerde() {
        return valueSerde;
    }

    /** The store of the table, or a TopologyException saying how to get one. */
    static String requireStore(KTable<?, ?> table, String why) {
        String store = ((KTableImpl<?, ?>) table).storeName;
        if (store == null) {
            throw new io.weir.streams.errors.TopologyException("a table must be kept in a store to " + why
                + ": give the operation that made it a Materialized (e.g. filter(predicate, Materialized.as(\"name\")))");
        }
        return store;
    }

    private enum JoinKind { INNER, LEFT, OUTER }

    @Override
    public <VO, VR> KTable<K, VR> join(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner) {
        return tableJoin(other, joiner, null, null, JoinKind.INNER);
    }

    @Override
    public <VO, VR> KTable<K, VR> join(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                       Named named, Materialized<K, VR, ? extends StateStore> materialized) {
        return tableJoin(other, joiner, named, materialized, JoinKind.INNER);
    }

    @Override
    public <VO, VR> KTable<K, VR> leftJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner) {
        return tableJoin(other, joiner, null, null, JoinKind.LEFT);
    }

    @Override
    public <VO, VR> KTable<K, VR> leftJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                           Named named, Materialized<K, VR, ? extends StateStore> materialized) {
        return tableJoin(other, joiner, named, materialized, JoinKind.LEFT);
    }

    @Override
    public <VO, VR> KTable<K, VR> outerJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner) {
        return tableJoin(other, joiner, null, null, JoinKind.OUTER);
    }

    @Override
    public <VO, VR> KTable<K, VR> outerJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                            Named named, Materialized<K, VR, ? extends StateStore> materialized) {
        return tableJoin(other, joiner, named, materialized, JoinKind.OUTER);
    }

    /**
     * Two nodes, one per side: an update of one side looks the key up in the other side's store and
     * emits the joined row before and after the update; a merge node unites both (and materializes the
     * result if asked).
     */
    private <VO, VR> KTable<K, VR> tableJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                             Named named, Materialized<K, VR, ? extends StateStore> materialized, JoinKind kind) {
        Objects.requireNonNull(other, "other");
        Objects.requireNonNull(joiner, "joiner");
        KTableImpl<K, VO> that = (KTableImpl<K, VO>) other;
        String thisStore = requireStore(this, "join it with another table");
        String otherStore = requireStore(other, "join it with another table");
        ValueJoiner<Object, Object, Object> j = (ValueJoiner) joiner;
        BiFunction<Object, Object, Object> joinRow = (l, r) -> switch (kind) {
            case INNER -> l != null && r != null ? j.apply(l, r) : null;
            case LEFT -> l != null ? j.apply(l, r) : null;
            case OUTER -> l != null || r != null ? j.apply(l, r) : null;
        };
        String base = named != null && named.name() != null ? named.name() : null;
        String thisName = base != null ? base + "-join-this" : builder.newName("KTABLE-JOINTHIS-");
        String otherName = base != null ? base + "-join-other" : builder.newName("KTABLE-JOINOTHER-");
        builder.topology().addProcessor(thisName, joinSide(otherStore, joinRow, true), nodeName);
        builder.topology().connectProcessorAndStateStores(thisName, otherStore);
        builder.topology().addProcessor(otherName, joinSide(thisStore, joinRow, false), that.nodeName);
        builder.topology().connectProcessorAndStateStores(otherName, thisStore);

        String resultStore = null;
        Serde<Object> resultSerde = null;
        if (materialized != null) {
            resultStore = materialized.storeName() != null ? materialized.storeName() : builder.newName("KTABLE-STATE-STORE-");
            resultSerde = (Serde<Object>) materialized.valueSerde();
            builder.topology().addStateStore(builder.keyValueStore((Materialized) materialized, resultStore, keySerde, resultSerde));
        }
        String mergeName = base != null ? base : builder.newName("KTABLE-MERGE-");
        String store = resultStore;
        builder.topology().addProcessor(mergeName, () -> new ContextualProcessor<Object, Object, Object, Object>() {
            private KeyValueStore<Object, Object> kv;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                kv = store == null ? null : context.getStateStore(store);
            }

            @Override
            public void process(Record<Object, Object> record) {
                if (kv != null) {
                    kv.put(record.key(), ((Change<Object>) record.value()).newValue());
                }
                context().forward(record);
            }
        }, thisName, otherName);
        if (store != null) {
            builder.topology().connectProcessorAndStateStores(mergeName, store);
        }
        String queryable = materialized != null && materialized.storeName() != null ? store : null;
        return new KTableImpl<>(builder, mergeName, keySerde, (Serde<VR>) resultSerde, queryable, store);
    }

    /** One side of a table-table join: {@code thisSide} says whether updates arrive from the left table. */
    private static ProcessorSupplier<Object, Object, Object, Object> joinSide(String otherStore,
                                                                            BiFunction<Object, Object, Object> joinRow,
                                                                            boolean thisSide) {
        return () -> new ContextualProcessor<>() {
            private KeyValueStore<Object, Object> store;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                store = context.getStateStore(otherStore);
            }

            @Override
            public void process(Record<Object, Object> record) {
                Change<Object> change = (Change<Object>) record.value();
                Object otherValue = store.get(record.key());
                Object newRow = thisSide ? joinRow.apply(change.newValue(), otherValue) : joinRow.apply(otherValue, change.newValue());
                // the other side did not change, so the row before this update joined the old value with it
                Object oldRow = thisSide ? joinRow.apply(change.oldValue(), otherValue) : joinRow.apply(otherValue, change.oldValue());
                if (newRow == null && oldRow == null) {
                    return;
                }
                context().forward(record.withValue(new Change<>(newRow, oldRow)));
            }
        };
    }

    @Override
    public KTable<K, V> suppress(io.weir.streams.kstream.Suppressed<? super K> suppressed) {
        Objects.requireNonNull(suppressed, "suppressed");
        if (windowed == null) {
            throw new io.weir.streams.errors.TopologyException("suppress(untilWindowCloses) applies to windowed aggregation "
                + "results only (windowedBy(...).count/reduce/aggregate directly)");
        }
        String given = ((SuppressedInternal<?>) suppressed).name();
        String name = given != null ? given : builder.newName("KTABLE-SUPPRESS-");
        String bufferStore = name + "-store";
        builder.topology().addStateStore(io.weir.streams.state.Stores.keyValueStoreBuilder(
            io.weir.streams.state.Stores.persistentKeyValueStore(bufferStore), io.weir.streams.serialization.Serdes.ByteArray(),
            io.weir.streams.serialization.Serdes.ByteArray()));
        builder.topology().addProcessor(name, SuppressProcessor.supplier(bufferStore, windowed.graceMs(),
            (Serde<Object>) windowed.innerKeySerde(), (Serde<Object>) valueSerde), nodeName);
        builder.topology().connectProcessorAndStateStores(name, bufferStore);
        return new KTableImpl<>(builder, name, keySerde, valueSerde, null, null);
    }

    @Override
    public String queryableStoreName() {
        return queryableName;
    }

    /** The store holding this table's rows, or null. */
    String storeName() {
        return storeName;
    }

    /** The source-topic table of {@code StreamsBuilder.table}: stores each row and emits it with the row it replaced. */
    static ProcessorSupplier<Object, Object, Object, Object> tableSource(String storeName) {
        return () -> new ContextualProcessor<>() {
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
                if (record.key() == null) {
                    return;
                }
                Object old = store.get(record.key());
                if (old == null && record.value() == null) {
                    return;
                }
                store.put(record.key(), record.value());
                forwarder.maybeForward(record, record.value(), old);
            }
        };
    }

    /** Creates the table of {@code StreamsBuilder.table}: a source, the table node and its store. */
    public static <K, V> KTable<K, V> fromTopic(InternalStreamsBuilder builder, String topic, io.weir.streams.kstream.Consumed<K, V> consumed,
                                                Materialized<K, V, ?> materialized) {
        Serde<K> k = materialized.keySerde() != null ? materialized.keySerde() : consumed.keySerde();
        Serde<V> v = materialized.valueSerde() != null ? materialized.valueSerde() : consumed.valueSerde();
        String source = consumed.name() != null ? consumed.name() : builder.newName("KSTREAM-SOURCE-");
        builder.topology().addSource(source, consumed.timestampExtractor(),
            consumed.keySerde() == null ? null : consumed.keySerde().deserializer(),
            consumed.valueSerde() == null ? null : consumed.valueSerde().deserializer(), topic);
        String storeName = materialized.storeName() != null ? materialized.storeName() : builder.newName(topic + "-STATE-STORE-");
        builder.topology().addStateStore(builder.keyValueStore(materialized, storeName, k, v));
        String name = builder.newName("KTABLE-SOURCE-");
        builder.topology().addProcessor(name, tableSource(storeName), source);
        builder.topology().connectProcessorAndStateStores(name, storeName);
        return new KTableImpl<>(builder, name, k, v, materialized.storeName() != null ? storeName : null, storeName);
    }
}
