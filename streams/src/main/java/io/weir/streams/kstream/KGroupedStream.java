package io.weir.streams.kstream;

import io.weir.streams.processor.StateStore;

/**
 * A stream grouped by key, ready to aggregate into a {@link KTable} kept in a state store. Records
 * with a null key or a null value are skipped (as in Kafka Streams). Every update of a key is
 * emitted downstream (there is no record cache yet).
 */
public interface KGroupedStream<K, V> {

    /** Cuts each key's records into time windows (tumbling or hopping) for windowed aggregations. */
    TimeWindowedKStream<K, V> windowedBy(TimeWindows windows);

    /** Cuts each key's records into sliding windows (one per distinct set of records within the difference). */
    TimeWindowedKStream<K, V> windowedBy(SlidingWindows windows);

    /** Cuts each key's records into sessions separated by inactivity gaps. */
    SessionWindowedKStream<K, V> windowedBy(SessionWindows windows);

    /** The number of records per key. */
    KTable<K, Long> count();

    KTable<K, Long> count(Named named);

    KTable<K, Long> count(Materialized<K, Long, ? extends StateStore> materialized);

    KTable<K, Long> count(Named named, Materialized<K, Long, ? extends StateStore> materialized);

    /** Combines the values of each key; the first value of a key is its first aggregate. */
    KTable<K, V> reduce(Reducer<V> reducer);

    KTable<K, V> reduce(Reducer<V> reducer, Materialized<K, V, ? extends StateStore> materialized);

    KTable<K, V> reduce(Reducer<V> reducer, Named named, Materialized<K, V, ? extends StateStore> materialized);

    /** Folds the values of each key into an aggregate that starts at {@code initializer}'s value. */
    <VR> KTable<K, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator);

    <VR> KTable<K, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                 Materialized<K, VR, ? extends StateStore> materialized);

    <VR> KTable<K, VR> aggregate(Initializer<VR> initializer, Aggregator<? super K, ? super V, VR> aggregator,
                                 Named named, Materialized<K, VR, ? extends StateStore> materialized);
}
