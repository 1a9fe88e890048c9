package io.weir.streams.kstream;

/**
 * A table every instance holds whole: filled from all partitions of its topic, so a stream can join
 * it on any key it computes, without co-partitioning or repartitioning ({@code KStream.join(GlobalKTable,
 * KeyValueMapper, ValueJoiner)}).
 */
public interface GlobalKTable<K, V> {

    /** The name of its store (readable by name from every processor). */
    String queryableStoreName();
}
