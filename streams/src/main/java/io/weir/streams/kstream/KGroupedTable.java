package io.weir.streams.kstream;

import io.weir.streams.processor.StateStore;

/**
 * A table re-grouped by a new key ({@code KTable.groupBy}), ready to aggregate. Because a row can move
 * from one group to another, each aggregation takes an adder (a row joins the group) and a subtractor
 * (a row leaves it, or is replaced). Rows always travel through a repartition topic
 * {@code <application.id>-<name>-repartition}.
 */
public interface KGroupedTable<K, V> {

    /** The number of rows per group. */
    KTable<K, Long> count();

    KTable<K, Long> count(Materialized<K, Long, ? extends StateStore> materialized);

    KTable<K, V> reduce(Reducer<V> adder, Reducer<V> subtractor);

    KTable<K, V> reduce(Reducer<V> adder, Reducer<V> subtractor, Materialized<K, V, ? extends StateStore> materialized);

    <VR> KTable<K, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> adder,
                                 Aggregator<? super K, ? super V, VR> subtractor);

    <VR> KTable<K, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> adder,
                                 Aggregator<? super K, ? super V, VR> subtractor,
                                 Materialized<K, VR, ? extends StateStore> materialized);
}
