package io.weir.streams.kstream.internals;

import io.weir.streams.kstream.Aggregator;
import io.weir.streams.kstream.Initializer;
import io.weir.streams.kstream.KTable;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Named;
import io.weir.streams.kstream.Reducer;
import io.weir.streams.kstream.TimeWindowedKStream;
import io.weir.streams.kstream.TimeWindows;
import io.weir.streams.kstream.Windowed;
import io.weir.streams.kstream.WindowedSerdes;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serde;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.WindowStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Objects;

/**
 * Windowed aggregations: per record, every window it falls in that is still open (end + grace after
 * stream time) gets the record folded into its aggregate in a window store kept for size + grace (or
 * the materialized retention); each update is emitted as a {@code Windowed<K>} table row. A record
 * too late for a window is skipped for it and logged.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
final class TimeWindowedKStreamImpl<K, V> implements TimeWindowedKStream<K, V> {
    private static final Logger log = LoggerFactory.getLogger(TimeWindowedKStreamImpl.class);

    private final KGroupedStreamImpl<K, V> grouped;
    private final TimeWindows windows;

    TimeWindowedKStreamImpl(KGroupedStreamImpl<K, V> grouped, TimeWindows windows) {
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
        Objects.requireNonNull(materialized, "materialized");
        if (materialized.valueSerde() == null) {
            materialized.withValueSerde(Serdes.Long());
        }
        return aggregate("KSTREAM-AGGREGATE-", named, materialized, (Serde) Serdes.Long(),
            (k, v, old) -> old == null ? 1L : (Long) old + 1);
    }

    @Override
    public KTable<Windowed<K>, V> reduce(Reducer<V> reducer) {
        return reduce(reducer, Materialized.with(grouped.keySerde(), grouped.valueSerde()));
    }

    @Override
    public KTable<Windowed<K>, V> reduce(Reducer<V> reducer, Materialized<K, V, ? extends StateStore> materialized) {
        Objects.requireNonNull(reducer, "reducer");
        Objects.requireNonNull(materialized, "materialized");
        Reducer<Object> r = (Reducer) reducer;
        return aggregate("KSTREAM-REDUCE-", null, materialized, (Serde) grouped.valueSerde(),
            (k, v, old) -> old == null ? v : r.apply(old, v));
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
        Objects.requireNonNull(aggregator, "aggregator");
        Objects.requireNonNull(materialized, "materialized");
        Aggregator<Object, Object, Object> a = (Aggregator) aggregator;
        return aggregate("KSTREAM-AGGREGATE-", named, materialized, null,
            (k, v, old) -> a.apply(k, v, old == null ? initializer.apply() : old));
    }

    private <VR> KTable<Windowed<K>, VR> aggregate(String prefix, Named named, Materialized<K, VR, ?> materialized,
                                                   Serde<VR> defaultValueSerde, KGroupedStreamImpl.Step step) {
        InternalStreamsBuilder builder = grouped.builder();
        String storeName = materialized.storeName() != null ? materialized.storeName()
            : builder.newName(prefix + "STATE-STORE-");
        KStreamImpl<K, V> input = grouped.input(storeName);
        String name = builder.name(named, prefix);
        Serde<VR> aggSerde = materialized.valueSerde() != null ? materialized.valueSerde() : defaultValueSerde;
        long sizeMs = windows.size();
        long graceMs = windows.gracePeriodMs();
        builder.topology().addStateStore(builder.windowStore(materialized, storeName, sizeMs, sizeMs + graceMs,
            grouped.keySerde(), aggSerde));
        ProcessorSupplier<Object, Object, Object, Object> supplier = () -> new ContextualProcessor<>() {
            private WindowStore<Object, Object> store;
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
                long closeTimeMs = context().currentStreamTimeMs() - graceMs;
                long ts = record.timestamp();
                // the windows' starts computed in place: windowsFor's map per record showed in profiles
                for (long start = windows.firstWindowStartMs(ts); start <= ts; start += windows.advanceMs) {
                    TimeWindow window = new TimeWindow(start, start + sizeMs);
                    if (window.end() <= closeTimeMs) {
                        log.debug("Skipping a record of key {} at {} ms for window [{}, {}): closed at stream time {} ms (grace {} ms)",
                            record.key(), record.timestamp(), window.start(), window.end(), closeTimeMs + graceMs, graceMs);
                        continue;
                    }
                    Object old = store.fetch(record.key(), window.start());
                    Object updated = step.apply(record.key(), record.value(), old);
                    store.put(record.key(), updated, window.start());
                    forwarder.maybeForward(new Record<>(new Windowed<>(record.key(), window), null, record.timestamp(),
                        record.headers()), updated, old);
                }
            }
        };
        builder.topology().addProcessor(name, supplier, input.nodeName);
        builder.topology().connectProcessorAndStateStores(name, storeName);
        Serde<K> keySerde = materialized.keySerde() != null ? materialized.keySerde() : grouped.keySerde();
        Serde<Windowed<K>> windowedSerde = keySerde == null ? null : WindowedSerdes.timeWindowedSerdeFrom(keySerde, sizeMs);
        // the table's rows live in a window store, not a key-value store: joins cannot look them up
        return new KTableImpl<>(builder, name, windowedSerde, aggSerde, materialized.storeName() != null ? storeName : null, null)
            .windowed(graceMs, keySerde);
    }
}
