package io.weir.streams.kstream.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.kstream.BranchedKStream;
import io.weir.streams.kstream.ForeachAction;
import io.weir.streams.kstream.Grouped;
import io.weir.streams.kstream.KGroupedStream;
import io.weir.streams.kstream.Joined;
import io.weir.streams.kstream.KStream;
import io.weir.streams.kstream.KTable;
import io.weir.streams.kstream.KeyValueMapper;
import io.weir.streams.kstream.Named;
import io.weir.streams.kstream.Predicate;
import io.weir.streams.kstream.Produced;
import io.weir.streams.kstream.Repartitioned;
import io.weir.streams.kstream.ValueJoiner;
import io.weir.streams.kstream.ValueJoinerWithKey;
import io.weir.streams.kstream.ValueMapper;
import io.weir.streams.kstream.ValueMapperWithKey;
import io.weir.streams.processor.StreamPartitioner;
import io.weir.streams.processor.TopicNameExtractor;
import io.weir.streams.processor.api.FixedKeyProcessorSupplier;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.serialization.Serde;

import java.util.Objects;

/**
 * A {@link KStream} as a node of the topology under construction: each operation adds a processor
 * (or sink) under {@link #nodeName} and returns the stream of the new node. Serdes travel with the
 * stream as long as an operation keeps the type; {@code repartitionRequired} travels until a
 * repartition.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
public final class KStreamImpl<K, V> implements KStream<K, V> {
    final InternalStreamsBuilder builder;
    final String nodeName;
    final Serde<K> keySerde;
    final Serde<V> valueSerde;
    final boolean repartitionRequired;

    public KStreamImpl(InternalStreamsBuilder builder, String nodeName, Serde<K> keySerde, Serde<V> valueSerde,
                       boolean repartitionRequired) {
        this.builder = builder;
        this.nodeName = nodeName;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.repartitionRequired = repartitionRequired;
    }

    private <KR, VR> KStreamImpl<KR, VR> add(String name, ProcessorSupplier<?, ?, ?, ?> supplier, Serde<KR> k, Serde<VR> v,
                                             boolean repartition, String... stores) {
        builder.topology().addProcessor(name, supplier, nodeName);
        if (stores.length > 0) {
            builder.topology().connectProcessorAndStateStores(name, stores);
        }
        return new KStreamImpl<>(builder, name, k, v, repartition);
    }

    @Override
    public KStream<K, V> filter(Predicate<? super K, ? super V> predicate) {
        return filter(predicate, null);
    }

    @Override
    public KStream<K, V> filter(Predicate<? super K, ? super V> predicate, Named named) {
        Objects.requireNonNull(predicate, "predicate");
        Predicate<Object, Object> p = (Predicate) predicate;
        return add(builder.name(named, "KSTREAM-FILTER-"), Processors.stateless((ctx, r) -> {
            if (p.test(r.key(), r.value())) {
                ctx.forward(r);
            }
        }), keySerde, valueSerde, repartitionRequired);
    }

    @Override
    public KStream<K, V> filterNot(Predicate<? super K, ? super V> predicate) {
        return filterNot(predicate, null);
    }

    @Override
    public KStream<K, V> filterNot(Predicate<? super K, ? super V> predicate, Named named) {
        Objects.requireNonNull(predicate, "predicate");
        return filter((k, v) -> !predicate.test(k, v), named);
    }

    @Override
    public <KR> KStream<KR, V> selectKey(KeyValueMapper<? super K, ? super V, ? extends KR> mapper) {
        return selectKey(mapper, null);
    }

    @Override
    public <KR> KStream<KR, V> selectKey(KeyValueMapper<? super K, ? super V, ? extends KR> mapper, Named named) {
        Objects.requireNonNull(mapper, "mapper");
        KeyValueMapper<Object, Object, Object> m = (KeyValueMapper) mapper;
        return add(builder.name(named, "KSTREAM-KEY-SELECT-"),
            Processors.stateless((ctx, r) -> ctx.forward(r.withKey(m.apply(r.key(), r.value())))), null, valueSerde, true);
    }

    @Override
    public <KR, VR> KStream<KR, VR> map(KeyValueMapper<? super K, ? super V, ? extends KeyValue<? extends KR, ? extends VR>> mapper) {
        return map(mapper, null);
    }

    @Override
    public <KR, VR> KStream<KR, VR> map(KeyValueMapper<? super K, ? super V, ? extends KeyValue<? extends KR, ? extends VR>> mapper,
                                        Named named) {
        Objects.requireNonNull(mapper, "mapper");
        KeyValueMapper<Object, Object, KeyValue<Object, Object>> m = (KeyValueMapper) mapper;
        return add(builder.name(named, "KSTREAM-MAP-"), Processors.stateless((ctx, r) -> {
            KeyValue<Object, Object> kv = m.apply(r.key(), r.value());
            if (kv == null) {
                throw new NullPointerException("the mapper of map() returned null; return a KeyValue");
            }
            ctx.forward(r.withKey(kv.key).withValue(kv.value));
        }), null, null, true);
    }

    @Override
    public <VR> KStream<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper) {
        return mapValues(mapper, (Named) null);
    }

    @Override
    public <VR> KStream<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper, Named named) {
        Objects.requireNonNull(mapper, "mapper");
        return mapValues((ValueMapperWithKey<K, V, VR>) (k, v) -> mapper.apply(v), named);
    }

    @Override
    public <VR> KStream<K, VR> mapValues(ValueMapperWithKey<? super K, ? super V, ? extends VR> mapper) {
        return mapValues(mapper, null);
    }

    @Override
    public <VR> KStream<K, VR> mapValues(ValueMapperWithKey<? super K, ? super V, ? extends VR> mapper, Named named) {
        Objects.requireNonNull(mapper, "mapper");
        ValueMapperWithKey<Object, Object, Object> m = (ValueMapperWithKey) mapper;
        return add(builder.name(named, "KSTREAM-MAPVALUES-"),
            Processors.stateless((ctx, r) -> ctx.forward(r.withValue(m.apply(r.key(), r.value())))), keySerde, null,
            repartitionRequired);
    }

    @Override
    public <KR, VR> KStream<KR, VR> flatMap(
        KeyValueMapper<? super K, ? super V, ? extends Iterable<? extends KeyValue<? extends KR, ? extends VR>>> mapper) {
        return flatMap(mapper, null);
    }

    @Override
    public <KR, VR> KStream<KR, VR> flatMap(
        KeyValueMapper<? super K, ? super V, ? extends Iterable<? extends KeyValue<? extends KR, ? extends VR>>> mapper,
        Named named) {
        Objects.requireNonNull(mapper, "mapper");
        KeyValueMapper<Object, Object, Iterable<KeyValue<Object, Object>>> m = (KeyValueMapper) mapper;
        return add(builder.name(named, "KSTREAM-FLATMAP-"), Processors.stateless((ctx, r) -> {
            for (KeyValue<Object, Object> kv : m.apply(r.key(), r.value())) {
                ctx.forward(r.withKey(kv.key).withValue(kv.value));
            }
        }), null, null, true);
    }

    @Override
    public <VR> KStream<K, VR> flatMapValues(ValueMapper<? super V, ? extends Iterable<? extends VR>> mapper) {
        return flatMapValues(mapper, (Named) null);
    }

    @Override
    public <VR> KStream<K, VR> flatMapValues(ValueMapper<? super V, ? extends Iterable<? extends VR>> mapper, Named named) {
        Objects.requireNonNull(mapper, "mapper");
        return flatMapValues((ValueMapperWithKey<K, V, Iterable<? extends VR>>) (k, v) -> mapper.apply(v), named);
    }

    @Override
    public <VR> KStream<K, VR> flatMapValues(ValueMapperWithKey<? super K, ? super V, ? extends Iterable<? extends VR>> mapper) {
        return flatMapValues(mapper, null);
    }

    @Override
    public <VR> KStream<K, VR> flatMapValues(ValueMapperWithKey<? super K, ? super V, ? extends Iterable<? extends VR>> mapper,
                                             Named named) {
        Objects.requireNonNull(mapper, "mapper");
        ValueMapperWithKey<Object, Object, Iterable<Object>> m = (ValueMapperWithKey) mapper;
        return add(builder.name(named, "KSTREAM-FLATMAPVALUES-"), Processors.stateless((ctx, r) -> {
            for (Object v : m.apply(r.key(), r.value())) {
                ctx.forward(r.withValue(v));
            }
        }), keySerde, null, repartitionRequired);
    }

    @Override
    public KStream<K, V> peek(ForeachAction<? super K, ? super V> action) {
        return peek(action, null);
    }

    @Override
    public KStream<K, V> peek(ForeachAction<? super K, ? super V> action, Named named) {
        Objects.requireNonNull(action, "action");
        ForeachAction<Object, Object> a = (ForeachAction) action;
        return add(builder.name(named, "KSTREAM-PEEK-"), Processors.stateless((ctx, r) -> {
            a.apply(r.key(), r.value());
            ctx.forward(r);
        }), keySerde, valueSerde, repartitionRequired);
    }

    @Override
    public void foreach(ForeachAction<? super K, ? super V> action) {
        foreach(action, null);
    }

    @Override
    public void foreach(ForeachAction<? super K, ? super V> action, Named named) {
        Objects.requireNonNull(action, "action");
        ForeachAction<Object, Object> a = (ForeachAction) action;
        add(builder.name(named, "KSTREAM-FOREACH-"), Processors.stateless((ctx, r) -> a.apply(r.key(), r.value())),
            null, null, false);
    }

    @Override
    public BranchedKStream<K, V> split() {
        return split(null);
    }

    @Override
    public BranchedKStream<K, V> split(Named named) {
        String splitName = builder.name(named, "KSTREAM-BRANCH-");
        String prefix = named != null && named.name() != null ? named.name() : splitName;
        BranchedKStreamImpl<K, V> branched = new BranchedKStreamImpl<>(this, splitName, prefix);
        builder.topology().addProcessor(splitName, branched.supplier(), nodeName);
        return branched;
    }

    @Override
    public KStream<K, V> merge(KStream<K, V> stream) {
        return merge(stream, null);
    }

    @Override
    public KStream<K, V> merge(KStream<K, V> stream, Named named) {
        KStreamImpl<K, V> other = (KStreamImpl<K, V>) Objects.requireNonNull(stream, "stream");
        String name = builder.name(named, "KSTREAM-MERGE-");
        builder.topology().addProcessor(name, Processors.stateless((ctx, r) -> ctx.forward(r)), nodeName, other.nodeName);
        // keep serdes only where both sides agree on them, else the job's defaults apply downstream
        return new KStreamImpl<>(builder, name, sameSerde(keySerde, other.keySerde), sameSerde(valueSerde, other.valueSerde),
            repartitionRequired || other.repartitionRequired);
    }

    private static <T> Serde<T> sameSerde(Serde<T> a, Serde<T> b) {
        return a != null && b != null && a.getClass() == b.getClass() ? a : null;
    }

    @Override
    public void to(String topic) {
        to(topic, Produced.with(keySerde, valueSerde));
    }

    @Override
    public void to(String topic, Produced<K, V> produced) {
        if (topic == null || topic.isEmpty()) {
            throw new IllegalArgumentException("topic cannot be null or empty");
        }
        addSink(topic, null, produced);
    }

    @Override
    public void to(TopicNameExtractor<K, V> topicExtractor) {
        to(topicExtractor, Produced.with(keySerde, valueSerde));
    }

    @Override
    public void to(TopicNameExtractor<K, V> topicExtractor, Produced<K, V> produced) {
        addSink(null, Objects.requireNonNull(topicExtractor, "topicExtractor"), produced);
    }

    private void addSink(String topic, TopicNameExtractor<K, V> extractor, Produced<K, V> produced) {
        Objects.requireNonNull(produced, "produced");
        Serde<K> k = produced.keySerde() != null ? produced.keySerde() : keySerde;
        Serde<V> v = produced.valueSerde() != null ? produced.valueSerde() : valueSerde;
        String name = produced.name() != null ? produced.name() : builder.newName("KSTREAM-SINK-");
        builder.topology().addSink(name, topic, extractor, k == null ? null : k.serializer(), v == null ? null : v.serializer(),
            produced.streamPartitioner(), nodeName);
    }

    @Override
    public KStream<K, V> repartition() {
        return repartition(Repartitioned.with(keySerde, valueSerde));
    }

    @Override
    public KStream<K, V> repartition(Repartitioned<K, V> repartitioned) {
        String base = repartitioned.name() != null ? repartitioned.name() : builder.newName("KSTREAM-REPARTITION-");
        if (repartitioned.numberOfPartitions() != null) {
            builder.topology().addInternalTopic(base + "-repartition", repartitioned.numberOfPartitions());
        }
        return repartitionThrough(base, repartitioned.keySerde() != null ? repartitioned.keySerde() : keySerde,
            repartitioned.valueSerde() != null ? repartitioned.valueSerde() : valueSerde, repartitioned.streamPartitioner(), false);
    }

    /**
     * Writes this stream to {@code <application.id>-<base>-repartition} and reads it back: a new
     * sub-topology starts at the source. Grouping drops null keys first (they have no partition).
     */
    KStreamImpl<K, V> repartitionThrough(String base, Serde<K> k, Serde<V> v, StreamPartitioner<K, V> partitioner,
                                         boolean dropNullKeys) {
        String topic = base + "-repartition";
        builder.topology().addInternalTopic(topic);
        String parent = nodeName;
        if (dropNullKeys) {
            String filter = base + "-repartition-filter";
            builder.topology().addProcessor(filter, Processors.stateless((ctx, r) -> {
                if (r.key() != null) {
                    ctx.forward(r);
                }
            }), parent);
            parent = filter;
        }
        builder.topology().addSink(base + "-repartition-sink", topic, null, k == null ? null : k.serializer(),
            v == null ? null : v.serializer(), partitioner, parent);
        String source = base + "-repartition-source";
        builder.topology().addSource(source, null, k == null ? null : k.deserializer(), v == null ? null : v.deserializer(), topic);
        return new KStreamImpl<>(builder, source, k, v, false);
    }

    @Override
    public <KOut, VOut> KStream<KOut, VOut> process(ProcessorSupplier<? super K, ? super V, KOut, VOut> processorSupplier,
                                                    String... stateStoreNames) {
        return process(processorSupplier, null, stateStoreNames);
    }

    @Override
    public <KOut, VOut> KStream<KOut, VOut> process(ProcessorSupplier<? super K, ? super V, KOut, VOut> processorSupplier,
                                                    Named named, String... stateStoreNames) {
        Objects.requireNonNull(processorSupplier, "processorSupplier");
        return add(builder.name(named, "KSTREAM-PROCESSOR-"), processorSupplier, null, null, true, stateStoreNames);
    }

    @Override
    public <VOut> KStream<K, VOut> processValues(FixedKeyProcessorSupplier<? super K, ? super V, VOut> processorSupplier,
                                                 String... stateStoreNames) {
        return processValues(processorSupplier, null, stateStoreNames);
    }

    @Override
    public <VOut> KStream<K, VOut> processValues(FixedKeyProcessorSupplier<? super K, ? super V, VOut> processorSupplier,
                                                 Named named, String... stateStoreNames) {
        Objects.requireNonNull(processorSupplier, "processorSupplier");
        FixedKeyProcessorSupplier<Object, Object, Object> s = (FixedKeyProcessorSupplier) processorSupplier;
        ProcessorSupplier<Object, Object, Object, Object> adapted = new ProcessorSupplier<>() {
            @Override
            public io.weir.streams.processor.api.Processor<Object, Object, Object, Object> get() {
                return new FixedKeyProcessorAdapter<>(s.get());
            }

            @Override
            public java.util.Set<io.weir.streams.state.StoreBuilder<?>> stores() {
                return s.stores();
            }
        };
        return add(builder.name(named, "KSTREAM-PROCESSVALUES-"), adapted, keySerde, null, repartitionRequired, stateStoreNames);
    }

    @Override
    public <VO, VR> KStream<K, VR> join(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                        io.weir.streams.kstream.JoinWindows windows) {
        return join(otherStream, joiner, windows, io.weir.streams.kstream.StreamJoined.with(null, null, null));
    }

    @Override
    public <VO, VR> KStream<K, VR> join(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                        io.weir.streams.kstream.JoinWindows windows,
                                        io.weir.streams.kstream.StreamJoined<K, V, VO> streamJoined) {
        return streamStreamJoin(otherStream, joiner, windows, streamJoined, false, false);
    }

    @Override
    public <VO, VR> KStream<K, VR> leftJoin(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                            io.weir.streams.kstream.JoinWindows windows) {
        return leftJoin(otherStream, joiner, windows, io.weir.streams.kstream.StreamJoined.with(null, null, null));
    }

    @Override
    public <VO, VR> KStream<K, VR> leftJoin(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                            io.weir.streams.kstream.JoinWindows windows,
                                            io.weir.streams.kstream.StreamJoined<K, V, VO> streamJoined) {
        return streamStreamJoin(otherStream, joiner, windows, streamJoined, true, false);
    }

    @Override
    public <VO, VR> KStream<K, VR> outerJoin(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                             io.weir.streams.kstream.JoinWindows windows) {
        return outerJoin(otherStream, joiner, windows, io.weir.streams.kstream.StreamJoined.with(null, null, null));
    }

    @Override
    public <VO, VR> KStream<K, VR> outerJoin(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                             io.weir.streams.kstream.JoinWindows windows,
                                             io.weir.streams.kstream.StreamJoined<K, V, VO> streamJoined) {
        return streamStreamJoin(otherStream, joiner, windows, streamJoined, true, true);
    }

    private <VO, VR> KStream<K, VR> streamStreamJoin(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                                     io.weir.streams.kstream.JoinWindows windows,
                                                     io.weir.streams.kstream.StreamJoined<K, V, VO> streamJoined,
                                                     boolean leftOuter, boolean rightOuter) {
        Objects.requireNonNull(otherStream, "otherStream");
        Objects.requireNonNull(joiner, "joiner");
        Objects.requireNonNull(windows, "windows");
        Objects.requireNonNull(streamJoined, "streamJoined");
        return StreamStreamJoin.join(this, otherStream, joiner, windows, streamJoined, leftOuter, rightOuter);
    }

    @Override
    public <VT, VR> KStream<K, VR> join(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner) {
        return join(table, joiner, Joined.with(null, null, null));
    }

    @Override
    public <VT, VR> KStream<K, VR> join(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner,
                                        Joined<K, V, VT> joined) {
        Objects.requireNonNull(joiner, "joiner");
        return join(table, (ValueJoinerWithKey<K, V, VT, VR>) (k, v, vt) -> joiner.apply(v, vt), joined);
    }

    @Override
    public <VT, VR> KStream<K, VR> join(KTable<K, VT> table, ValueJoinerWithKey<? super K, ? super V, ? super VT, ? extends VR> joiner,
                                        Joined<K, V, VT> joined) {
        return streamTableJoin(table, joiner, joined, false);
    }

    @Override
    public <VT, VR> KStream<K, VR> leftJoin(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner) {
        return leftJoin(table, joiner, Joined.with(null, null, null));
    }

    @Override
    public <VT, VR> KStream<K, VR> leftJoin(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner,
                                            Joined<K, V, VT> joined) {
        Objects.requireNonNull(joiner, "joiner");
        return leftJoin(table, (ValueJoinerWithKey<K, V, VT, VR>) (k, v, vt) -> joiner.apply(v, vt), joined);
    }

    @Override
    public <VT, VR> KStream<K, VR> leftJoin(KTable<K, VT> table,
                                            ValueJoinerWithKey<? super K, ? super V, ? super VT, ? extends VR> joiner,
                                            Joined<K, V, VT> joined) {
        return streamTableJoin(table, joiner, joined, true);
    }

    /**
     * The join node looks each record's key up in the table's store; it shares that store with the
     * table's node, so both land in one sub-topology (one task reads both co-partitioned inputs).
     */
    private <VT, VR> KStream<K, VR> streamTableJoin(KTable<K, VT> table, ValueJoinerWithKey<? super K, ? super V, ? super VT, ? extends VR> joiner,
                                                    Joined<K, V, VT> joined, boolean left) {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(joiner, "joiner");
        Objects.requireNonNull(joined, "joined");
        String storeName = KTableImpl.requireStore(table, "join a stream with it");
        String name = joined.name() != null ? joined.name() : builder.newName(left ? "KSTREAM-LEFTJOIN-" : "KSTREAM-JOIN-");
        Serde<K> k = joined.keySerde() != null ? joined.keySerde() : keySerde;
        KStreamImpl<K, V> input = this;
        if (repartitionRequired) {
            input = repartitionThrough(name + "-left", k, joined.valueSerde() != null ? joined.valueSerde() : valueSerde, null, true);
        }
        ValueJoinerWithKey<Object, Object, Object, Object> j = (ValueJoinerWithKey) joiner;
        ProcessorSupplier<Object, Object, Object, Object> supplier = () -> new io.weir.streams.processor.api.ContextualProcessor<>() {
            private io.weir.streams.state.KeyValueStore<Object, Object> store;

            @Override
            public void init(io.weir.streams.processor.api.ProcessorContext<Object, Object> context) {
                super.init(context);
                store = context.getStateStore(storeName);
            }

            @Override
            public void process(io.weir.streams.processor.api.Record<Object, Object> record) {
                if (record.key() == null || record.value() == null) {
                    return;
                }
                Object other = store.get(record.key());
                if (other == null && !left) {
                    return;
                }
                context().forward(record.withValue(j.apply(record.key(), record.value(), other)));
            }
        };
        builder.topology().addProcessor(name, supplier, input.nodeName);
        builder.topology().connectProcessorAndStateStores(name, storeName);
        return new KStreamImpl<>(builder, name, k, null, false);
    }

    @Override
    public <GK, GV, RV> KStream<K, RV> join(io.weir.streams.kstream.GlobalKTable<GK, GV> globalTable,
                                            KeyValueMapper<? super K, ? super V, ? extends GK> keySelector,
                                            ValueJoiner<? super V, ? super GV, ? extends RV> joiner) {
        return globalJoin(globalTable, keySelector, joiner, false);
    }

    @Override
    public <GK, GV, RV> KStream<K, RV> leftJoin(io.weir.streams.kstream.GlobalKTable<GK, GV> globalTable,
                                                KeyValueMapper<? super K, ? super V, ? extends GK> keySelector,
                                                ValueJoiner<? super V, ? super GV, ? extends RV> joiner) {
        return globalJoin(globalTable, keySelector, joiner, true);
    }

    private <GK, GV, RV> KStream<K, RV> globalJoin(io.weir.streams.kstream.GlobalKTable<GK, GV> globalTable,
                                                   KeyValueMapper<? super K, ? super V, ? extends GK> keySelector,
                                                   ValueJoiner<? super V, ? super GV, ? extends RV> joiner, boolean left) {
        Objects.requireNonNull(globalTable, "globalTable");
        Objects.requireNonNull(keySelector, "keySelector");
        Objects.requireNonNull(joiner, "joiner");
        String storeName = globalTable.queryableStoreName();
        KeyValueMapper<Object, Object, Object> selector = (KeyValueMapper) keySelector;
        ValueJoiner<Object, Object, Object> j = (ValueJoiner) joiner;
        ProcessorSupplier<Object, Object, Object, Object> supplier = () -> new io.weir.streams.processor.api.ContextualProcessor<>() {
            private io.weir.streams.state.KeyValueStore<Object, Object> store;

            @Override
            public void init(io.weir.streams.processor.api.ProcessorContext<Object, Object> context) {
                super.init(context);
                store = context.getStateStore(storeName);
            }

            @Override
            public void process(io.weir.streams.processor.api.Record<Object, Object> record) {
                if (record.value() == null) {
                    return;
                }
                Object lookupKey = selector.apply(record.key(), record.value());
                Object other = lookupKey == null ? null : store.get(lookupKey);
                if (other == null && !left) {
                    return;
                }
                context().forward(record.withValue(j.apply(record.value(), other)));
            }
        };
        return add(builder.newName(left ? "KSTREAM-LEFTJOIN-" : "KSTREAM-JOIN-"), supplier, keySerde, null, repartitionRequired);
    }

    @Override
    public KTable<K, V> toTable() {
        return toTable(io.weir.streams.kstream.Materialized.with(keySerde, valueSerde));
    }

    @Override
    public KTable<K, V> toTable(io.weir.streams.kstream.Materialized<K, V, ? extends io.weir.streams.processor.StateStore> materialized) {
        Objects.requireNonNull(materialized, "materialized");
        String storeName = materialized.storeName() != null ? materialized.storeName() : builder.newName("KSTREAM-TOTABLE-STATE-STORE-");
        KStreamImpl<K, V> input = repartitionRequired ? repartitionThrough(storeName, keySerde, valueSerde, null, true) : this;
        Serde<K> k = materialized.keySerde() != null ? materialized.keySerde() : keySerde;
        Serde<V> v = materialized.valueSerde() != null ? materialized.valueSerde() : valueSerde;
        builder.topology().addStateStore(builder.keyValueStore(materialized, storeName, k, v));
        String name = builder.newName("KSTREAM-TOTABLE-");
        builder.topology().addProcessor(name, KTableImpl.tableSource(storeName), input.nodeName);
        builder.topology().connectProcessorAndStateStores(name, storeName);
        return new KTableImpl<>(builder, name, k, v, materialized.storeName() != null ? storeName : null, storeName);
    }

    @Override
    public KGroupedStream<K, V> groupByKey() {
        return groupByKey(Grouped.with(keySerde, valueSerde));
    }

    @Override
    public KGroupedStream<K, V> groupByKey(Grouped<K, V> grouped) {
        Objects.requireNonNull(grouped, "grouped");
        return new KGroupedStreamImpl<>(this, grouped.keySerde() != null ? grouped.keySerde() : keySerde,
            grouped.valueSerde() != null ? grouped.valueSerde() : valueSerde, grouped.name(), repartitionRequired);
    }

    @Override
    public <KR> KGroupedStream<KR, V> groupBy(KeyValueMapper<? super K, ? super V, KR> keySelector) {
        return groupBy(keySelector, Grouped.with(null, valueSerde));
    }

    @Override
    public <KR> KGroupedStream<KR, V> groupBy(KeyValueMapper<? super K, ? super V, KR> keySelector, Grouped<KR, V> grouped) {
        Objects.requireNonNull(keySelector, "keySelector");
        Objects.requireNonNull(grouped, "grouped");
        KStreamImpl<KR, V> selected = (KStreamImpl<KR, V>) selectKey(keySelector,
            grouped.name() != null ? Named.as(grouped.name() + "-key-select") : null);
        return new KGroupedStreamImpl<>(selected, grouped.keySerde(),
            grouped.valueSerde() != null ? grouped.valueSerde() : valueSerde, grouped.name(), true);
    }
}
