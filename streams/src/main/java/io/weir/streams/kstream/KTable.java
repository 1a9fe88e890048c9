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

    /**
     * Foreign-key join: each row of this table joins the row of {@code other} whose key
     * {@code foreignKeyExtractor} takes from this row's value; the result is keyed like this table.
     * Rows travel through two internal topics (subscriptions by foreign key, responses by primary key),
     * so the tables need not be co-partitioned. Both tables must be kept in stores. A response that
     * arrives after this row changed again is discarded (rows are matched by a hash of their bytes).
     */
    <VR, KO, VO> KTable<K, VR> join(KTable<KO, VO> other, java.util.function.Function<? super V, ? extends KO> foreignKeyExtractor,
                                    ValueJoiner<? super V, ? super VO, ? extends VR> joiner);

    /** Like the foreign-key {@code join}, keeping rows whose foreign row is missing (joined with null). */
    <VR, KO, VO> KTable<K, VR> leftJoin(KTable<KO, VO> other, java.util.function.Function<? super V, ? extends KO> foreignKeyExtractor,
                                        ValueJoiner<? super V, ? super VO, ? extends VR> joiner);

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
