package io.weir.streams.kstream;

import io.weir.streams.processor.StateStore;

/**
 * A grouped stream cut into time windows: each aggregation keeps one aggregate per key and window in
 * a window store and emits every update as a {@code Windowed<K>} row. Records with a null key or
 * value, and records for windows already closed (end + grace at or before stream time), are skipped.
 */
public interface TimeWindowedKStream<K, V> {

    KTable<Windowed<K>, Long> count();

    KTable<Windowed<K>, Long> count(Named named);

    KTable<Windowed<K>, Long> count(Materialized<K, Long, ? extends StateStore> materialized);

    KTable<Windowed<K>, Long> count(Named named, Materialized<K, Long, ? extends StateStore> materialized);

    KTable<Windowed<K>, V> reduce(Reducer<V> reducer);

    KTable<Windowed<K>, V> reduce(Reducer<V> reducer, Materialized<K, V, ? extends StateStore> materialized);

    <VR> KTable<Windowed<K>, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator);

    <VR> KTable<Windowed<K>, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                           Materialized<K, VR, ? extends StateStore> materialized);

    <VR> KTable<Windowed<K>, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                           Named named, Materialized<K, VR, ? extends StateStore> materialized);
}
