package io.weir.streams.kstream;

import io.weir.streams.serialization.Serde;

/**
 * How a grouping works: serdes for the repartition topic and store (null: the stream's, else the
 * defaults) and a name, which also names the repartition topic {@code <application.id>-<name>-repartition}.
 * Immutable.
 */
public final class Grouped<K, V> {
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private final String name;

    private Grouped(Serde<K> keySerde, Serde<V> valueSerde, String name) {
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.name = name;
    }

    public static <K, V> Grouped<K, V> with(Serde<K> keySerde, Serde<V> valueSerde) {
        return new Grouped<>(keySerde, valueSerde, null);
    }

    public static <K, V> Grouped<K, V> with(String name, Serde<K> keySerde, Serde<V> valueSerde) {
        Named.validate(name);
        return new Grouped<>(keySerde, valueSerde, name);
    }

    public static <K, V> Grouped<K, V> as(String name) {
        Named.validate(name);
        return new Grouped<>(null, null, name);
    }

    public static <K, V> Grouped<K, V> keySerde(Serde<K> keySerde) {
        return new Grouped<>(keySerde, null, null);
    }

    public static <K, V> Grouped<K, V> valueSerde(Serde<V> valueSerde) {
        return new Grouped<>(null, valueSerde, null);
    }

    public Grouped<K, V> withKeySerde(Serde<K> serde) {
        return new Grouped<>(serde, valueSerde, name);
    }

    public Grouped<K, V> withValueSerde(Serde<V> serde) {
        return new Grouped<>(keySerde, serde, name);
    }

    public Grouped<K, V> withName(String newName) {
        Named.validate(newName);
        return new Grouped<>(keySerde, valueSerde, newName);
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
}
