package io.weir.streams.kstream;

import io.weir.streams.serialization.Serde;

/**
 * Options of a stream-table join: serdes of the key, the stream's values and the table's values (used
 * if the stream must be repartitioned first), and a name for the join node (and that repartition
 * topic, {@code <application.id>-<name>-left-repartition}). Immutable.
 */
public final class Joined<K, V, VO> {
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private final Serde<VO> otherValueSerde;
    private final String name;

    private Joined(Serde<K> keySerde, Serde<V> valueSerde, Serde<VO> otherValueSerde, String name) {
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.otherValueSerde = otherValueSerde;
        this.name = name;
    }

    public static <K, V, VO> Joined<K, V, VO> with(Serde<K> keySerde, Serde<V> valueSerde, Serde<VO> otherValueSerde) {
        return new Joined<>(keySerde, valueSerde, otherValueSerde, null);
    }

    public static <K, V, VO> Joined<K, V, VO> as(String name) {
        Named.validate(name);
        return new Joined<>(null, null, null, name);
    }

    public Joined<K, V, VO> withKeySerde(Serde<K> serde) {
        return new Joined<>(serde, valueSerde, otherValueSerde, name);
    }

    public Joined<K, V, VO> withValueSerde(Serde<V> serde) {
        return new Joined<>(keySerde, serde, otherValueSerde, name);
    }

    public Joined<K, V, VO> withOtherValueSerde(Serde<VO> serde) {
        return new Joined<>(keySerde, valueSerde, serde, name);
    }

    public Joined<K, V, VO> withName(String newName) {
        Named.validate(newName);
        return new Joined<>(keySerde, valueSerde, otherValueSerde, newName);
    }

    public Serde<K> keySerde() {
        return keySerde;
    }

    public Serde<V> valueSerde() {
        return valueSerde;
    }

    public Serde<VO> otherValueSerde() {
        return otherValueSerde;
    }

    public String name() {
        return name;
    }
}
