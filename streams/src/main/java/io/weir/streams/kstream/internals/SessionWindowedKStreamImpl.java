package io.weir.streams.kstream.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.kstream.Aggregator;
import io.weir.streams.kstream.Initializer;
import io.weir.streams.kstream.KTable;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Merger;
import io.weir.streams.kstream.Reducer;
import io.weir.streams.kstream.SessionWindowedKStream;
import io.weir.streams.kstream.SessionWindows;
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
import io.weir.streams.state.SessionStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Session aggregations: a record at time t joins (merges) every session of its key that ends at or after
 * t - gap and starts at or before t + gap; the merged sessions are removed and emitted as deletes, the
 * new session [min start, max end] is stored and emitted. A record whose merged session would end
 * before stream time - grace is dropped (logged).
 */
@SuppressWarnings({"unchecked", "rawtypes"})
final class SessionWindowedKStreamImpl<K, V> implements SessionWindowedKStream<K, V> {
    private static final Logger log = LoggerFactory.getLogger(SessionWindowedKStreamImpl.class);

    private final KGroupedStreamImpl<K, V> grouped;
    private final SessionWindows windows;

    SessionWindowedKStreamImpl(KGroupedStreamImpl<K, V> grouped, SessionWindows windows) {
        this.grouped = grouped;
        this.windows = windows;
    }

    @Override
    public KTable<Windowed<K>, Long> count() {
        return count(Materialized.with(grouped.keySerde(), Serdes.Long()));
    }

    @Override
    public KTable<Windowed<K>, Long> count(Materialized<K, Long, ? extends StateStore> materialized) {
        if (materialized.valueSerde() == null) {
            materialized.withValueSerde(Serdes.Long());
        }
        return aggregate(materialized, (Serde) Serdes.Long(), () -> 0L, (k, v, agg) -> (Long) agg + 1,
            (k, a, b) -> (Long) a + (Long) b);
    }

    @Override
    public KTable<Windowed<K>, V> reduce(Reducer<V> reducer) {
        return reduce(reducer, Materialized.with(grouped.keySerde(), grouped.valueSerde()));
    }

    @Override
    public KTable<Windowed<K>, V> reduce(Reducer<V> reducer, Materialized<K, V, ? extends StateStore> materialized) {
        Objects.requireNonNull(reducer, "reducer");
        Reducer<Object> r = (Reducer) reducer;
        return aggregate(materialized, (Serde) grouped.valueSerde(), () -> null, (k, v, agg) -> agg == null ? v : r.apply(agg, v),
            (k, a, b) -> a == null ? b : b == null ? a : r.apply(a, b));
    }

    @Override
    public <VR> KTable<Windowed<K>, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                                  Merger<? super K, VR> sessionMerger) {
        return aggregate(initializer, aggregator, sessionMerger, Materialized.with(grouped.keySerde(), null));
    }

    @Override
    public <VR> KTable<Windowed<K>, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                                  Merger<? super K, VR> sessionMerger,
                                                  Materialized<K, VR, ? extends StateStore> materialized) {
        Objects.requireNonNull(initializer, "initializer");
        Objects.requireNonNull(aggregator, "aggregator");
        Objects.requireNonNull(sessionMerger, "sessionMerger");
        return aggregate(materialized, null, (Initializer) initializer, (Aggregator) aggregator, (Merger) sessionMerger);
    }

    private <VR> KTable<Windowed<K>, VR> aggregate(Materialized<K, VR, ?> materialized, Serde<VR> defaultValueSerde,
                                                   Initializer<Object> initializer, Aggregator<Object, Object, Object> aggregator,
                                                   Merger<Object, Object> merger) {
        Objects.requireNonNull(materialized, "materialized");
        InternalStreamsBuilder builder = grouped.builder();
        String storeName = materialized.storeName() != null ? materialized.storeName()
            : builder.newName("KSTREAM-AGGREGATE-STATE-STORE-");
        KStreamImpl<K, V> input = grouped.input(storeName);
        String name = builder.newName("KSTREAM-SESSION-AGGREGATE-");
        Serde<VR> aggSerde = materialized.valueSerde() != null ? materialized.valueSerde() : defaultValueSerde;
        long gapMs = windows.inactivityGap();
        long graceMs = windows.gracePeriodMs();
        builder.topology().addStateStore(builder.sessionStore(materialized, storeName, gapMs + graceMs, grouped.keySerde(), aggSerde));
        ProcessorSupplier<Object, Object, Object, Object> supplier = () -> new ContextualProcessor<>() {
            private SessionStore<Object, Object> store;
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
                long ts = record.timestamp();
                long start = ts;
                long end = ts;
                Object agg = initializer.apply();
                List<KeyValue<Windowed<Object>, Object>> merged = new ArrayList<>();
                try (KeyValueIterator<Windowed<Object>, Object> it = store.findSessions(record.key(), ts - gapMs, ts + gapMs)) {
                    while (it.hasNext()) {
                        KeyValue<Windowed<Object>, Object> session = it.next();
                        merged.add(session);
                        start = Math.min(start, session.key.window().start());
                        end = Math.max(end, session.key.window().end());
                        agg = merger.apply(record.key(), agg, session.value);
                    }
                }
                long closeTimeMs = context().currentStreamTimeMs() - graceMs;
                if (end < closeTimeMs) {
                    log.debug("Skipping a record of key {} at {} ms: its session [{}, {}] closed at stream time {} ms (grace {} ms)",
                        record.key(), ts, start, end, closeTimeMs + graceMs, graceMs);
                    return;
                }
                for (KeyValue<Windowed<Object>, Object> session : merged) {
                    store.remove(session.key);
                    forwarder.maybeForward(new Record<>(session.key, null, ts, record.headers()), null, session.value);
                }
                agg = aggregator.apply(record.key(), record.value(), agg);
                Windowed<Object> key = new Windowed<>(record.key(), new SessionWindow(start, end));
                store.put(key, agg);
                forwarder.maybeForward(new Record<>(key, null, ts, record.headers()), agg, null);
            }
        };
        builder.topology().addProcessor(name, supplier, input.nodeName);
        builder.topology().connectProcessorAndStateStores(name, storeName);
        Serde<K> keySerde = materialized.keySerde() != null ? materialized.keySerde() : grouped.keySerde();
        Serde<Windowed<K>> windowedSerde = keySerde == null ? null : WindowedSerdes.sessionWindowedSerdeFrom(keySerde);
        return new KTableImpl<>(builder, name, windowedSerde, aggSerde, materialized.storeName() != null ? storeName : null, null);
    }
}
