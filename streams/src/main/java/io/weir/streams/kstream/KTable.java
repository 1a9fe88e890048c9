package io.weir.streams.kstream;

import io.weir.streams.processor.StateStore;

/**
 * A changelog stream read as a table: each record is the latest value of its key, a null value
 * deletes it. Operations see each update; a filtered-out update of a key that was visible becomes a
 * delete downstream.
 */
public interface KTable<K, V> {

    KTable<K, V> filter(Predicate<? super K, ? super V> predicate);

    KTable<K, V> filter(Predicate<? super K, ? super V> predicate, Named named);

    KTable<K, V> filter(Predicate<? super K, ? super V> predicate, Materialized<K, V, ? extends StateStore> materialized);

    KTable<K, V> filter(Predicate<? super K, ? super V> predicate, Named named,
                        Materialized<K, V, ? extends StateStore> materialized);

    KTable<K, V> filterNot(Predicate<? super K, ? super V> predicate);

    KTable<K, V> filterNot(Predicate<? super K, ? super V> predicate, Named named);

    /** Maps each value; the mapper sees old values too (to retract them), so it must be pure. */
    <VR> KTable<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper);

    <VR> KTable<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper, Named named);

    <VR> KTable<K, VR> mapValues(ValueMapperWithKey<? super K, ? super V, ? extends VR> mapper);

    <VR> KTable<K, VR> mapValues(ValueMapperWithKey<? super K, ? super V, ? extends VR> mapper,
                                 Materialized<K, VR, ? extends StateStore> materialized);

    <VR> KTable<K, VR> mapValues(ValueMapperWithKey<? super K, ? super V, ? extends VR> mapper, Named named,
                                 Materialized<K, VR, ? extends StateStore> materialized);

    /** The table's updates as a stream (deletes as null values). */
    KStream<K, V> toStream();

    KStream<K, V> toStream(Named named);

    /**
     * The inner join of two tables on their key: a row exists where both have one. Both tables must be
     * kept in stores (see {@code KStream.join}). Each update of either side emits the new joined row
     * (or a delete when the row stops existing).
     */
    <VO, VR> KTable<K, VR> join(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner);

    <VO, VR> KTable<K, VR> join(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                Named named, Materialized<K, VR, ? extends StateStore> materialized);

    /** A row wherever this table has one; the other side's value may be null. */
    <VO, VR> KTable<K, VR> leftJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner);

    <VO, VR> KTable<K, VR> leftJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                    Named named, Materialized<K, VR, ? extends StateStore> materialized);

    /** A row wherever either table has one; either value may be null. */
    <VO, VR> KTable<K, VR> outerJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner);

    <VO, VR> KTable<K, VR> outerJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                     Named named, Materialized<K, VR, ? extends StateStore> materialized);

    /** Re-groups the rows by a new key (and value) for {@link KGroupedTable} aggregations. */
    <KR, VR> KGroupedTable<KR, VR> groupBy(KeyValueMapper<? super K, ? super V, io.weir.streams.KeyValue<KR, VR>> selector);

    <KR, VR> KGroupedTable<KR, VR> groupBy(KeyValueMapper<? super K, ? super V, io.weir.streams.KeyValue<KR, VR>> selector,
                                           Grouped<KR, VR> grouped);

    /**
     * Holds back updates as {@code suppressed} says; {@code untilWindowCloses} applies to windowed
     * aggregation results only.
     */
    KTable<K, V> suppress(Suppressed<? super K> suppressed);

    /** The name of the store holding this table, or null if it is not materialized under a name. */
    String queryableStoreName();
}
