package io.weir.streams.kstream;

import io.weir.streams.processor.TimestampExtractor;
import io.weir.streams.serialization.Serde;

/**
 * How a source reads its topic: serdes (null: the job's defaults), a timestamp extractor, a node name.
 * Immutable; each {@code with*} returns a new instance.
 */
public final class Consumed<K, V> {
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private final TimestampExtractor timestampExtractor;
    private final String name;

    private Consumed(Serde<K> keySerde, Serde<V> valueSerde, TimestampExtractor timestampExtractor, String name) {
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.timestampExtractor = timestampExtractor;
        this.name = name;
    }

    public static <K, V> Consumed<K, V> with(Serde<K> keySerde, Serde<V> valueSerde) {
        return new Consumed<>(keySerde, valueSerde, null, null);
    }

    public static <K, V> Consumed<K, V> with(TimestampExtractor timestampExtractor) {
        return new Consumed<>(null, null, timestampExtractor, null);
    }

    public static <K, V> Consumed<K, V> as(String processorName) {
        Named.validate(processorName);
        return new Consumed<>(null, null, null, processorName);
    }

    public Consumed<K, V> withKeySerde(Serde<K> serde) {
        return new Consumed<>(serde, valueSerde, timestampExtractor, name);
    }

    public Consumed<K, V> withValueSerde(Serde<V> serde) {
        return new Consumed<>(keySerde, serde, timestampExtractor, name);
    }

    public Consumed<K, V> withTimestampExtractor(TimestampExtractor extractor) {
        return new Consumed<>(keySerde, valueSerde, extractor, name);
    }

    public Consumed<K, V> withName(String processorName) {
        Named.validate(processorName);
        return new Consumed<>(keySerde, valueSerde, timestampExtractor, processorName);
    }

    public Serde<K> keySerde() {
        return keySerde;
    }

    public Serde<V> valueSerde() {
        return valueSerde;
    }

    public TimestampExtractor timestampExtractor() {
        return timestampExtractor;
    }

    public String name() {
        return name;
    }
}
