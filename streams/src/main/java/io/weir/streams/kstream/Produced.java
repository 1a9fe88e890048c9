package io.weir.streams.kstream;

import io.weir.streams.processor.StreamPartitioner;
import io.weir.streams.serialization.Serde;

/**
 * How a sink writes: serdes (null: the stream's serdes, else the job's defaults), a partitioner, a node
 * name. Immutable.
 */
public final class Produced<K, V> {
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private final StreamPartitioner<? super K, ? super V> partitioner;
    private final String name;

    private Produced(Serde<K> keySerde, Serde<V> valueSerde, StreamPartitioner<? super K, ? super V> partitioner, String name) {
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.partitioner = partitioner;
        this.name = name;
    }

    public static <K, V> Produced<K, V> with(Serde<K> keySerde, Serde<V> valueSerde) {
        return new Produced<>(keySerde, valueSerde, null, null);
    }

    public static <K, V> Produced<K, V> keySerde(Serde<K> keySerde) {
        return new Produced<>(keySerde, null, null, null);
    }

    public static <K, V> Produced<K, V> valueSerde(Serde<V> valueSerde) {
        return new Produced<>(null, valueSerde, null, null);
    }

    public static <K, V> Produced<K, V> streamPartitioner(StreamPartitioner<? super K, ? super V> partitioner) {
        return new Produced<>(null, null, partitioner, null);
    }

    public static <K, V> Produced<K, V> as(String processorName) {
        Named.validate(processorName);
        return new Produced<>(null, null, null, processorName);
    }

    public Produced<K, V> withKeySerde(Serde<K> serde) {
        return new Produced<>(serde, valueSerde, partitioner, name);
    }

    public Produced<K, V> withValueSerde(Serde<V> serde) {
        return new Produced<>(keySerde, serde, partitioner, name);
    }

    public Produced<K, V> withStreamPartitioner(StreamPartitioner<? super K, ? super V> p) {
        return new Produced<>(keySerde, valueSerde, p, name);
    }

    public Produced<K, V> withName(String processorName) {
        Named.validate(processorName);
        return new Produced<>(keySerde, valueSerde, partitioner, processorName);
    }

    public Serde<K> keySerde() {
        return keySerde;
    }

    public Serde<V> valueSerde() {
        return valueSerde;
    }

    public StreamPartitioner<? super K, ? super V> streamPartitioner() {
        return partitioner;
    }

    public String name() {
        return name;
    }
}
