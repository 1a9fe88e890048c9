package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.processor.TopicNameExtractor;
import io.weir.streams.processor.api.FixedKeyProcessorSupplier;
import io.weir.streams.processor.api.ProcessorSupplier;

/**
 * A record stream: every record is an independent event. Operations add nodes to the topology the
 * stream's {@code StreamsBuilder} builds; nothing runs until the topology does. Operations that may
 * change the key ({@code map}, {@code flatMap}, {@code selectKey}, {@code process}) mark the stream so
 * that a later grouping first repartitions it by the new key through
 * {@code <application.id>-<name>-repartition}.
 */
public interface KStream<K, V> {

    KStream<K, V> filter(Predicate<? super K, ? super V> predicate);

    KStream<K, V> filter(Predicate<? super K, ? super V> predicate, Named named);

    KStream<K, V> filterNot(Predicate<? super K, ? super V> predicate);

    KStream<K, V> filterNot(Predicate<? super K, ? super V> predicate, Named named);

    <KR> KStream<KR, V> selectKey(KeyValueMapper<? super K, ? super V, ? extends KR> mapper);

    <KR> KStream<KR, V> selectKey(KeyValueMapper<? super K, ? super V, ? extends KR> mapper, Named named);

    <KR, VR> KStream<KR, VR> map(KeyValueMapper<? super K, ? super V, ? extends KeyValue<? extends KR, ? extends VR>> mapper);

    <KR, VR> KStream<KR, VR> map(KeyValueMapper<? super K, ? super V, ? extends KeyValue<? extends KR, ? extends VR>> mapper,
                                 Named named);

    <VR> KStream<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper);

    <VR> KStream<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper, Named named);

    <VR> KStream<K, VR> mapValues(ValueMapperWithKey<? super K, ? super V, ? extends VR> mapper);

    <VR> KStream<K, VR> mapValues(ValueMapperWithKey<? super K, ? super V, ? extends VR> mapper, Named named);

    <KR, VR> KStream<KR, VR> flatMap(
        KeyValueMapper<? super K, ? super V, ? extends Iterable<? extends KeyValue<? extends KR, ? extends VR>>> mapper);

    <KR, VR> KStream<KR, VR> flatMap(
        KeyValueMapper<? super K, ? super V, ? extends Iterable<? extends KeyValue<? extends KR, ? extends VR>>> mapper,
        Named named);

    <VR> KStream<K, VR> flatMapValues(ValueMapper<? super V, ? extends Iterable<? extends VR>> mapper);

    <VR> KStream<K, VR> flatMapValues(ValueMapper<? super V, ? extends Iterable<? extends VR>> mapper, Named named);

    <VR> KStream<K, VR> flatMapValues(ValueMapperWithKey<? super K, ? super V, ? extends Iterable<? extends VR>> mapper);

    <VR> KStream<K, VR> flatMapValues(ValueMapperWithKey<? super K, ? super V, ? extends Iterable<? extends VR>> mapper,
                                      Named named);

    /** Runs the action on each record and passes it on unchanged. */
    KStream<K, V> peek(ForeachAction<? super K, ? super V> action);

    KStream<K, V> peek(ForeachAction<? super K, ? super V> action, Named named);

    /** Runs the action on each record; the stream ends here. */
    void foreach(ForeachAction<? super K, ? super V> action);

    void foreach(ForeachAction<? super K, ? super V> action, Named named);

    BranchedKStream<K, V> split();

    /** Splits the stream; the name prefixes the branch names. */
    BranchedKStream<K, V> split(Named named);

    /** Both streams' records in one stream (no order between them is promised). */
    KStream<K, V> merge(KStream<K, V> stream);

    KStream<K, V> merge(KStream<K, V> stream, Named named);

    /** Writes every record to the topic, which must exist. */
    void to(String topic);

    void to(String topic, Produced<K, V> produced);

    /** Writes each record to the topic the extractor picks for it. */
    void to(TopicNameExtractor<K, V> topicExtractor);

    void to(TopicNameExtractor<K, V> topicExtractor, Produced<K, V> produced);

    /** Writes the stream to a repartition topic and reads it back, partitioned by the current key. */
    KStream<K, V> repartition();

    KStream<K, V> repartition(Repartitioned<K, V> repartitioned);

    /** Runs a Processor API processor (which may change keys) with the named stores connected. */
    <KOut, VOut> KStream<KOut, VOut> process(ProcessorSupplier<? super K, ? super V, KOut, VOut> processorSupplier,
                                             String... stateStoreNames);

    <KOut, VOut> KStream<KOut, VOut> process(ProcessorSupplier<? super K, ? super V, KOut, VOut> processorSupplier,
                                             Named named, String... stateStoreNames);

    /** Runs a processor that keeps each record's key (so no repartition follows). */
    <VOut> KStream<K, VOut> processValues(FixedKeyProcessorSupplier<? super K, ? super V, VOut> processorSupplier,
                                          String... stateStoreNames);

    <VOut> KStream<K, VOut> processValues(FixedKeyProcessorSupplier<? super K, ? super V, VOut> processorSupplier,
                                          Named named, String... stateStoreNames);

    /**
     * Joins records of both streams with equal keys whose timestamps are within the join windows; each
     * result has the later of the two timestamps. Both sides are buffered in changelogged stores for
     * before + after + grace of stream time.
     */
    <VO, VR> KStream<K, VR> join(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                 JoinWindows windows);

    <VO, VR> KStream<K, VR> join(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                 JoinWindows windows, StreamJoined<K, V, VO> streamJoined);

    /** Like the inner join, plus each left record that found no partner, joined with null once its window closes. */
    <VO, VR> KStream<K, VR> leftJoin(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                     JoinWindows windows);

    <VO, VR> KStream<K, VR> leftJoin(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                     JoinWindows windows, StreamJoined<K, V, VO> streamJoined);

    /** Like the left join, for records of either side that found no partner. */
    <VO, VR> KStream<K, VR> outerJoin(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                      JoinWindows windows);

    <VO, VR> KStream<K, VR> outerJoin(KStream<K, VO> otherStream, ValueJoiner<? super V, ? super VO, ? extends VR> joiner,
                                      JoinWindows windows, StreamJoined<K, V, VO> streamJoined);

    /**
     * Joins each record with the table's current value of its key (lookup at the record's arrival; a
     * record whose key the table lacks is dropped). The table must be kept in a store: a table from
     * {@code table()}, an aggregation, or an operation given a {@code Materialized}. Records with a
     * null key or value are dropped.
     */
    <VT, VR> KStream<K, VR> join(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner);

    <VT, VR> KStream<K, VR> join(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner,
                                 Joined<K, V, VT> joined);

    <VT, VR> KStream<K, VR> join(KTable<K, VT> table, ValueJoinerWithKey<? super K, ? super V, ? super VT, ? extends VR> joiner,
                                 Joined<K, V, VT> joined);

    /** Like {@link #join(KTable, ValueJoiner)}, but a record whose key the table lacks is joined with null. */
    <VT, VR> KStream<K, VR> leftJoin(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner);

    <VT, VR> KStream<K, VR> leftJoin(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner,
                                     Joined<K, V, VT> joined);

    <VT, VR> KStream<K, VR> leftJoin(KTable<K, VT> table,
                                     ValueJoinerWithKey<? super K, ? super V, ? super VT, ? extends VR> joiner,
                                     Joined<K, V, VT> joined);

    /**
     * Joins each record with the global table's value of the key {@code keySelector} computes from it
     * (no repartition: every instance holds the whole table); records whose lookup finds nothing are
     * dropped. The result keeps the stream's key.
     */
    <GK, GV, RV> KStream<K, RV> join(GlobalKTable<GK, GV> globalTable, KeyValueMapper<? super K, ? super V, ? extends GK> keySelector,
                                     ValueJoiner<? super V, ? super GV, ? extends RV> joiner);

    /** Like {@link #join(GlobalKTable, KeyValueMapper, ValueJoiner)}, joining with null when the lookup finds nothing. */
    <GK, GV, RV> KStream<K, RV> leftJoin(GlobalKTable<GK, GV> globalTable,
                                         KeyValueMapper<? super K, ? super V, ? extends GK> keySelector,
                                         ValueJoiner<? super V, ? super GV, ? extends RV> joiner);

    /**
     * The stream read as a changelog: each record is the latest value of its key (null deletes), kept in
     * a store (repartitioning first if an earlier operation may have changed keys).
     */
    KTable<K, V> toTable();

    KTable<K, V> toTable(Materialized<K, V, ? extends io.weir.streams.processor.StateStore> materialized);

    /** Groups by the current key (repartitioning first if an earlier operation may have changed keys). */
    KGroupedStream<K, V> groupByKey();

    KGroupedStream<K, V> groupByKey(Grouped<K, V> grouped);

    /** Groups by a new key; always repartitions. */
    <KR> KGroupedStream<KR, V> groupBy(KeyValueMapper<? super K, ? super V, KR> keySelector);

    <KR> KGroupedStream<KR, V> groupBy(KeyValueMapper<? super K, ? super V, KR> keySelector, Grouped<KR, V> grouped);
}
