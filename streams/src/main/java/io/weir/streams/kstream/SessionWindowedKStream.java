package io.weir.streams.kstream;

import io.weir.streams.processor.StateStore;

/**
 * A grouped stream cut into sessions: each aggregation keeps one aggregate per key and session in a
 * session store. When a record merges sessions, the merged-away sessions are emitted as deletes
 * ({@code Windowed} key, null value) and the merged session as the new row.
 */
public interface SessionWindowedKStream<K, V> {

    KTable<Windowed<K>, Long> count();

    KTable<Windowed<K>, Long> count(Materialized<K, Long, ? extends StateStore> materialized);

    KTable<Windowed<K>, V> reduce(Reducer<V> reducer);

    KTable<Windowed<K>, V> reduce(Reducer<V> reducer, Materialized<K, V, ? extends StateStore> materialized);

    <VR> KTable<Windowed<K>, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                           Merger<? super K, VR> sessionMerger);

    <VR> KTable<Windowed<K>, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                           Merger<? super K, VR> sessionMerger, Materialized<K, VR, ? extends StateStore> materialized);
}
