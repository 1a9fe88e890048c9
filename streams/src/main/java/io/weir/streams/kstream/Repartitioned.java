package io.weir.streams.kstream;

import io.weir.streams.processor.StreamPartitioner;
import io.weir.streams.serialization.Serde;

/**
 * How {@code KStream.repartition} writes its topic {@code <application.id>-<name>-repartition}: serdes,
 * a name, a partitioner, a partition count (null: the runtime picks the input's). Immutable.
 */
public final class Repartitioned<K, V> {
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private final String name;
    private final StreamPartitioner<K, V> partitioner;
    private final Integer numberOfPartitions;

    private Repartitioned(Serde<K> keySerde, Serde<V> valueSerde, String name, StreamPartitioner<K, V> partitioner,
                          Integer numberOfPartitions) {
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.name = name;
        this.partitioner = partitioner;
        this.numberOfPartitions = numberOfPartitions;
    }

    public static <K, V> Repartitioned<K, V> with(Serde<K> keySerde, Serde<V> valueSerde) {
        return new Repartitioned<>(keySerde, valueSerde, null, null, null);
    }

    public static <K, V> Repartitioned<K, V> as(String name) {
        Named.validate(name);
        return new Repartitioned<>(null, null, name, null, null);
    }

    public static <K, V> Repartitioned<K, V> numberOfPartitions(int n) {
        return new Repartitioned<>(null, null, null, null, n);
    }

    public Repartitioned<K, V> withKeySerde(Serde<K> serde) {
        return new Repartitioned<>(serde, valueSerde, name, partitioner, numberOfPartitions);
    }

    public Repartitioned<K, V> withValueSerde(Serde<V> serde) {
        return new Repartitioned<>(keySerde, serde, name, partitioner, numberOfPartitions);
    }

    public Repartitioned<K, V> withName(String newName) {
        Named.validate(newName);
        return new Repartitioned<>(keySerde, valueSerde, newName, partitioner, numberOfPartitions);
    }

    public Repartitioned<K, V> withStreamPartitioner(StreamPartitioner<K, V> p) {
        return new Repartitioned<>(keySerde, valueSerde, name, p, numberOfPartitions);
    }

    public Repartitioned<K, V> withNumberOfPartitions(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("numberOfPartitions must be at least 1, got " + n);
        }
        return new Repartitioned<>(keySerde, valueSerde, name, partitioner, n);
    }

    public Serde<K> keySerde() {
        return keySerde;
    }

    public Serde<V> valueSerde() {
        return valueSerde;
    }

    public String name() {
        return name;
    }

    public StreamPartitioner<K, V> streamPartitioner() {
        return partitioner;
    }

    public Integer numberOfPartitions() {
        return numberOfPartitions;
    }
}
