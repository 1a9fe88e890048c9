package io.weir.streams.kstream.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.kstream.Aggregator;
import io.weir.streams.kstream.Initializer;
import io.weir.streams.kstream.KTable;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Named;
import io.weir.streams.kstream.Reducer;
import io.weir.streams.kstream.SlidingWindows;
import io.weir.streams.kstream.TimeWindowedKStream;
import io.weir.streams.kstream.Windowed;
import io.weir.streams.kstream.WindowedSerdes;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serde;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.Stores;
import io.weir.streams.state.WindowStore;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Sliding-window aggregations. The windows of a key are the left windows {@code [max(0, x - d), .. + d]}
 * of its records x and the non-empty right windows {@code [x + 1, x + 1 + d]}. A record at t changes
 * every window containing t and may bring its own right window into being; each changed, still open
 * window is re-aggregated from the records in it (kept in a byte store
 * {@code | key length (4) | key | t (8) | seq (8) | -> value}, folded in timestamp order), stored in the
 * window store and emitted. A record none of whose windows is open is dropped.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
final class SlidingWindowedKStreamImpl<K, V> implements TimeWindowedKStream<K, V> {
    private final KGroupedStreamImpl<K, V> grouped;
    private final SlidingWindows windows;

    SlidingWindowedKStreamImpl(KGroupedStreamImpl<K, V> grouped, SlidingWindows windows) {
        this.grouped = grouped;
        this.windows = windows;
    }

    @Override
    public KTable<Windowed<K>, Long> count() {
        return count(null, Materialized.with(grouped.keySerde(), Serdes.Long()));
    }

    @Override
    public KTable<Windowed<K>, Long> count(Named named) {
        return count(named, Materialized.with(grouped.keySerde(), Serdes.Long()));
    }

    @Override
    public KTable<Windowed<K>, Long> count(Materialized<K, Long, ? extends StateStore> materialized) {
        return count(null, materialized);
    }

    @Override
    public KTable<Windowed<K>, Long> count(Named named, Materialized<K, Long, ? extends StateStore> materialized) {
        if (materialized.valueSerde() == null) {
            materialized.withValueSerde(Serdes.Long());
        }
        return aggregate(named, materialized, (Serde) Serdes.Long(), (k, v, old) -> old == null ? 1L : (Long) old + 1);
    }

    @Override
    public KTable<Windowed<K>, V> reduce(Reducer<V> reducer) {
        return reduce(reducer, Materialized.with(grouped.keySerde(), grouped.valueSerde()));
    }

    @Override
    public KTable<Windowed<K>, V> reduce(Reducer<V> reducer, Materialized<K, V, ? extends StateStore> materialized) {
        Reducer<Object> r = (Reducer) Objects.requireNonNull(reducer, "reducer");
        return aggregate(null, materialized, (Serde) grouped.valueSerde(), (k, v, old) -> old == null ? v : r.apply(old, v));
    }

    @Override
    public <VR> KTable<Windowed<K>, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator) {
        return aggregate(initializer, aggregator, null, Materialized.with(grouped.keySerde(), null));
    }

    @Override
    public <VR> KTable<Windowed<K>, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                                  Materialized<K, VR, ? extends StateStore> materialized) {
        return aggregate(initializer, aggregator, null, materialized);
    }

    @Override
    public <VR> KTable<Windowed<K>, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                                  Named named, Materialized<K, VR, ? extends StateStore> materialized) {
        Objects.requireNonNull(initializer, "initializer");
        Aggregator<Object, Object, Object> a = (Aggregator) Objects.requireNonNull(aggregator, "aggregator");
        return aggregate(named, materialized, null, (k, v, old) -> a.apply(k, v, old == null ? initializer.apply() : old));
    }

    private <VR> KTable<Windowed<K>, VR> aggregate(Named named, Materialized<K, VR, ?> materialized, Serde<VR> defaultValueSerde,
                                                   KGroupedStreamImpl.Step step) {
        Objects.requireNonNull(materialized, "materialized");
        InternalStreamsBuilder builder = grouped.builder();
        String storeName = materialized.storeName() != null ? materialized.storeName()
            : builder.newName("KSTREAM-AGGREGATE-STATE-STORE-");
        String recordsStore = storeName + "-sliding-records";
        KStreamImpl<K, V> input = grouped.input(storeName);
        String name = builder.name(named, "KSTREAM-SLIDINGWINDOWAGGREGATE-");
        Serde<VR> aggSerde = materialized.valueSerde() != null ? materialized.valueSerde() : defaultValueSerde;
        long d = windows.timeDifferenceMs();
        long graceMs = windows.gracePeriodMs();
        builder.topology().addStateStore(builder.windowStore(materialized, storeName, d, d + graceMs + 2, grouped.keySerde(), aggSerde));
        builder.topology().addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(recordsStore),
            Serdes.ByteArray(), Serdes.ByteArray()));
        Serde<Object> keys = (Serde<Object>) grouped.keySerde();
        Serde<Object> values = (Serde<Object>) grouped.valueSerde();
        ProcessorSupplier<Object, Object, Object, Object> supplier = () -> new ContextualProcessor<>() {
            private WindowStore<Object, Object> store;
            private KeyValueStore<byte[], byte[]> records;
            private Serde<Object> keySerde;
            private Serde<Object> valueSerde;
            private long seqBase;
            private long counter;
            private long lastPurgeMs = -1;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                store = context.getStateStore(storeName);
                records = context.getStateStore(recordsStore);
                keySerde = keys != null ? keys : (Serde<Object>) context.keySerde();
                valueSerde = values != null ? values : (Serde<Object>) context.valueSerde();
                seqBase = context.currentSystemTimeMs() << 20;
            }

            @Override
            public void process(Record<Object, Object> record) {
                if (record.key() == null || record.value() == null) {
                    return;
                }
                long t = record.timestamp();
                long closeTimeMs = context().currentStreamTimeMs() - graceMs;
                byte[] k = keySerde.serializer().serialize(recordsStore, record.key());
                List<Long> near = new ArrayList<>();
                try (KeyValueIterator<byte[], byte[]> it = records.range(recordKey(k, Math.max(0, t - d - 1), 0),
                    recordKey(k, t + d + 1, Long.MAX_VALUE))) {
                    it.forEachRemaining(e -> near.add(time(e.key)));
                }
                TreeSet<Long> starts = new TreeSet<>();
                List<Long> withRecord = new ArrayList<>(near);
                withRecord.add(t);
                for (long x : withRecord) {
                    long left = Math.max(0, x - d);
                    if (left <= t && t <= left + d && left + d >= closeTimeMs) {
                        starts.add(left);
                    }
                    long right = x + 1;
                    if (right <= t && t <= right + d && right + d >= closeTimeMs) {
                        starts.add(right);
                    }
                }
                if (starts.isEmpty()) {
                    return; // every window of this record is closed
                }
                long ownRight = t + 1;
                boolean rightExisted = near.stream().anyMatch(x -> Math.max(0, x - d) == ownRight || x + 1 == ownRight);
                boolean rightNonEmpty = near.stream().anyMatch(x -> ownRight <= x && x <= ownRight + d);
                if (rightNonEmpty && !rightExisted && ownRight + d >= closeTimeMs) {
                    starts.add(ownRight);
                }
                records.put(recordKey(k, t, seqBase + counter++), valueSerde.serializer().serialize(recordsStore, record.value()));
                for (long s : starts) {
                    Object agg = null;
                    long maxTime = 0;
                    try (KeyValueIterator<byte[], byte[]> it = records.range(recordKey(k, s, 0), recordKey(k, s + d, Long.MAX_VALUE))) {
                        while (it.hasNext()) {
                            KeyValue<byte[], byte[]> e = it.next();
                            agg = step.apply(record.key(), valueSerde.deserializer().deserialize(recordsStore, e.value), agg);
                            maxTime = Math.max(maxTime, time(e.key));
                        }
                    }
                    Object old = store.fetch(record.key(), s);
                    store.put(record.key(), agg, s);
                    context().forward(new Record<>(new Windowed<>(record.key(), new TimeWindow(s, s + d)), new Change<>(agg, old),
                        maxTime, record.headers()));
                }
                maybePurge(context().currentStreamTimeMs());
            }

            /** Records older than every open window are no longer needed: a scan once per d + grace of stream time. */
            private void maybePurge(long streamTime) {
                if (lastPurgeMs >= 0 && streamTime - lastPurgeMs < d + graceMs + 1) {
                    return;
                }
                lastPurgeMs = streamTime;
                long cutoff = streamTime - graceMs - d - 1;
                List<byte[]> old = new ArrayList<>();
                try (KeyValueIterator<byte[], byte[]> it = records.all()) {
                    while (it.hasNext()) {
                        byte[] key = it.next().key;
                        if (time(key) < cutoff) {
                            old.add(key);
                        }
                    }
                }
                old.forEach(records::delete);
            }
        };
        builder.topology().addProcessor(name, supplier, input.nodeName);
        builder.topology().connectProcessorAndStateStores(name, storeName, recordsStore);
        Serde<K> keySerde = materialized.keySerde() != null ? materialized.keySerde() : grouped.keySerde();
        Serde<Windowed<K>> windowedSerde = keySerde == null ? null : WindowedSerdes.timeWindowedSerdeFrom(keySerde, d);
        return new KTableImpl<>(builder, name, windowedSerde, aggSerde, materialized.storeName() != null ? storeName : null, null);
    }

    private static byte[] recordKey(byte[] key, long t, long seq) {
        return ByteBuffer.allocate(4 + key.length + 16).putInt(key.length).put(key).putLong(t).putLong(seq).array();
    }

    private static long time(byte[] recordKey) {
        return ByteBuffer.wrap(recordKey, recordKey.length - 16, 8).getLong();
    }
}
