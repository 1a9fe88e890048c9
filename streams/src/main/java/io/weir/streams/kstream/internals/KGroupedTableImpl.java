package io.weir.streams.kstream.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.kstream.Aggregator;
import io.weir.streams.kstream.Initializer;
import io.weir.streams.kstream.KGroupedTable;
import io.weir.streams.kstream.KTable;
import io.weir.streams.kstream.KeyValueMapper;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Reducer;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serde;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueStore;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * {@code KTable.groupBy} and its aggregations. The select node maps each update's old row to a
 * "subtract" and its new row to an "add", encoded (with the value serde, the job's default when none
 * is given) as
 *
 * <pre>
 *   | flags (1): bit 0 add present, bit 1 subtract present | add length (4) | add bytes | subtract bytes |
 * </pre>
 *
 * and sends them through the repartition topic; the aggregate node decodes them, subtracts, then adds.
 * When old and new rows map to one group, both travel in one record, so the group never shows the
 * intermediate state.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
final class KGroupedTableImpl<K, V> implements KGroupedTable<K, V> {
    private final InternalStreamsBuilder builder;
    private final String parentNode;
    private final KeyValueMapper<Object, Object, KeyValue<Object, Object>> selector;
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private final String groupedName;

    KGroupedTableImpl(InternalStreamsBuilder builder, String parentNode, KeyValueMapper<Object, Object, KeyValue<Object, Object>> selector,
                      Serde<K> keySerde, Serde<V> valueSerde, String groupedName) {
        this.builder = builder;
        this.parentNode = parentNode;
        this.selector = selector;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.groupedName = groupedName;
    }

    /** Folds an add or a subtract into the aggregate (null before the group's first row). */
    @FunctionalInterface
    private interface Fold {
        Object apply(Object key, Object value, Object aggregate);
    }

    @Override
    public KTable<K, Long> count() {
        return count(Materialized.with(keySerde, Serdes.Long()));
    }

    @Override
    public KTable<K, Long> count(Materialized<K, Long, ? extends StateStore> materialized) {
        if (materialized.valueSerde() == null) {
            materialized.withValueSerde(Serdes.Long());
        }
        return aggregate(materialized, (Serde) Serdes.Long(),
            (k, v, agg) -> (agg == null ? 0L : (Long) agg) + 1, (k, v, agg) -> (agg == null ? 0L : (Long) agg) - 1);
    }

    @Override
    public KTable<K, V> reduce(Reducer<V> adder, Reducer<V> subtractor) {
        return reduce(adder, subtractor, Materialized.with(keySerde, valueSerde));
    }

    @Override
    public KTable<K, V> reduce(Reducer<V> adder, Reducer<V> subtractor, Materialized<K, V, ? extends StateStore> materialized) {
        Objects.requireNonNull(adder, "adder");
        Objects.requireNonNull(subtractor, "subtractor");
        Reducer<Object> add = (Reducer) adder;
        Reducer<Object> sub = (Reducer) subtractor;
        return aggregate(materialized, (Serde) valueSerde, (k, v, agg) -> agg == null ? v : add.apply(agg, v),
            (k, v, agg) -> agg == null ? null : sub.apply(agg, v));
    }

    @Override
    public <VR> KTable<K, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> adder,
                                        Aggregator<? super K, ? super V, VR> subtractor) {
        return aggregate(initializer, adder, subtractor, Materialized.with(keySerde, null));
    }

    @Override
    public <VR> KTable<K, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> adder,
                                        Aggregator<? super K, ? super V, VR> subtractor,
                                        Materialized<K, VR, ? extends StateStore> materialized) {
        Objects.requireNonNull(initializer, "initializer");
        Aggregator<Object, Object, Object> add = (Aggregator) Objects.requireNonNull(adder, "adder");
        Aggregator<Object, Object, Object> sub = (Aggregator) Objects.requireNonNull(subtractor, "subtractor");
        return aggregate(materialized, null, (k, v, agg) -> add.apply(k, v, agg == null ? initializer.apply() : agg),
            (k, v, agg) -> sub.apply(k, v, agg == null ? initializer.apply() : agg));
    }

    private <VR> KTable<K, VR> aggregate(Materialized<K, VR, ?> materialized, Serde<VR> defaultAggSerde, Fold adder, Fold subtractor) {
        Objects.requireNonNull(materialized, "materialized");
        String storeName = materialized.storeName() != null ? materialized.storeName()
            : builder.newName("KTABLE-AGGREGATE-STATE-STORE-");
        String base = groupedName != null ? groupedName : storeName;
        String topic = base + "-repartition";
        builder.topology().addInternalTopic(topic);

        String select = base + "-select";
        builder.topology().addProcessor(select, selectNode(selector, (Serde<Object>) valueSerde), parentNode);
        builder.topology().addSink(base + "-repartition-sink", topic, null, keySerde == null ? null : keySerde.serializer(),
            Serdes.ByteArray().serializer(), null, select);
        String source = base + "-repartition-source";
        builder.topology().addSource(source, null, keySerde == null ? null : keySerde.deserializer(),
            Serdes.ByteArray().deserializer(), topic);

        Serde<VR> aggSerde = materialized.valueSerde() != null ? materialized.valueSerde() : defaultAggSerde;
        builder.topology().addStateStore(builder.keyValueStore(materialized, storeName, keySerde, aggSerde));
        String name = builder.newName("KTABLE-AGGREGATE-");
        Serde<Object> values = (Serde<Object>) valueSerde;
        ProcessorSupplier<Object, Object, Object, Object> supplier = () -> new ContextualProcessor<>() {
            private KeyValueStore<Object, Object> store;
            private Serde<Object> serde;
            private TableForwarder forwarder;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                store = context.getStateStore(storeName);
                forwarder = new TableForwarder(store, context);
                serde = values != null ? values : (Serde<Object>) context.valueSerde();
            }

            @Override
            public void process(Record<Object, Object> record) {
                if (record.key() == null) {
                    return;
                }
                byte[] encoded = (byte[]) record.value();
                ByteBuffer buf = ByteBuffer.wrap(encoded);
                byte flags = buf.get();
                int addLength = buf.getInt();
                Object old = store.get(record.key());
                Object agg = old;
                if ((flags & 2) != 0) {
                    byte[] sub = Arrays.copyOfRange(encoded, 5 + addLength, encoded.length);
                    agg = subtractor.apply(record.key(), serde.deserializer().deserialize(topic, sub), agg);
                }
                if ((flags & 1) != 0) {
                    byte[] add = Arrays.copyOfRange(encoded, 5, 5 + addLength);
                    agg = adder.apply(record.key(), serde.deserializer().deserialize(topic, add), agg);
                }
                store.put(record.key(), agg);
                forwarder.maybeForward(record, agg, old);
            }
        };
        builder.topology().addProcessor(name, supplier, source);
        builder.topology().connectProcessorAndStateStores(name, storeName);
        Serde<K> tableKeySerde = materialized.keySerde() != null ? materialized.keySerde() : keySerde;
        return new KTableImpl<>(builder, name, tableKeySerde, aggSerde, materialized.storeName() != null ? storeName : null, storeName);
    }

    /** Maps each table update to the subtract of its old row and the add of its new row, by group key. */
    private static ProcessorSupplier<Object, Object, Object, Object> selectNode(KeyValueMapper<Object, Object, KeyValue<Object, Object>> selector,
                                                                              Serde<Object> valueSerde) {
        return () -> new ContextualProcessor<>() {
            private Serde<Object> serde;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                serde = valueSerde != null ? valueSerde : (Serde<Object>) context.valueSerde();
            }

            @Override
            public void process(Record<Object, Object> record) {
                Change<Object> change = (Change<Object>) record.value();
                KeyValue<Object, Object> added = change.newValue() == null ? null : selector.apply(record.key(), change.newValue());
                KeyValue<Object, Object> removed = change.oldValue() == null ? null : selector.apply(record.key(), change.oldValue());
                if (added != null && removed != null && Objects.equals(added.key, removed.key)) {
                    send(record, added.key, added.value, removed.value, true, true);
                    return;
                }
                if (removed != null) {
                    send(record, removed.key, null, removed.value, false, true);
                }
                if (added != null) {
                    send(record, added.key, added.value, null, true, false);
                }
            }

            private void send(Record<Object, Object> record, Object key, Object add, Object sub, boolean hasAdd, boolean hasSub) {
                if (key == null) {
                    return;
                }
                byte[] a = hasAdd ? serde.serializer().serialize(null, add) : new byte[0];
                byte[] s = hasSub ? serde.serializer().serialize(null, sub) : new byte[0];
                byte flags = (byte) ((hasAdd ? 1 : 0) | (hasSub ? 2 : 0));
                byte[] encoded = ByteBuffer.allocate(5 + a.length + s.length).put(flags).putInt(a.length).put(a).put(s).array();
                context().forward(record.withKey(key).withValue(encoded));
            }
        };
    }
}
