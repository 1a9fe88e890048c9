package io.weir.streams.kstream;

import io.weir.streams.serialization.Serde;

/**
 * Options of a stream-stream join: serdes of the key and both sides' values (for the join stores and
 * any repartition), a name for the join nodes, and a base name for its stores
 * ({@code <store name>-this-join-store}, {@code -other-join-store}, {@code -outer-shared-join-store}).
 * Immutable.
 */
public final class StreamJoined<K, V1, V2> {
    private final Serde<K> keySerde;
    private final Serde<V1> valueSerde;
    private final Serde<V2> otherValueSerde;
    private final String name;
    private final String storeName;

    private StreamJoined(Serde<K> keySerde, Serde<V1> valueSerde, Serde<V2> otherValueSerde, String name, String storeName) {
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.otherValueSerde = otherValueSerde;
        this.name = name;
        this.storeName = storeName;
    }

    public static <K, V1, V2> StreamJoined<K, V1, V2> with(Serde<K> keySerde, Serde<V1> valueSerde, Serde<V2> otherValueSerde) {
        return new StreamJoined<>(keySerde, valueSerde, otherValueSerde, null, null);
    }

    public static <K, V1, V2> StreamJoined<K, V1, V2> as(String storeName) {
        Named.validate(storeName);
        return new StreamJoined<>(null, null, null, null, storeName);
    }

    public StreamJoined<K, V1, V2> withName(String newName) {
        Named.validate(newName);
        return new StreamJoined<>(keySerde, valueSerde, otherValueSerde, newName, storeName);
    }

    public StreamJoined<K, V1, V2> withStoreName(String newStoreName) {
        Named.validate(newStoreName);
        return new StreamJoined<>(keySerde, valueSerde, otherValueSerde, name, newStoreName);
    }

    public StreamJoined<K, V1, V2> withKeySerde(Serde<K> serde) {
        return new StreamJoined<>(serde, valueSerde, otherValueSerde, name, storeName);
    }

    public StreamJoined<K, V1, V2> withValueSerde(Serde<V1> serde) {
        return new StreamJoined<>(keySerde, serde, otherValueSerde, name, storeName);
    }

    public StreamJoined<K, V1, V2> withOtherValueSerde(Serde<V2> serde) {
        return new StreamJoined<>(keySerde, valueSerde, serde, name, storeName);
    }

    public Serde<K> keySerde() {
        return keySerde;
    }

    public Serde<V1> valueSerde() {
        return valueSerde;
    }

    public Serde<V2> otherValueSerde() {
        return otherValueSerde;
    }

    public String name() {
        return name;
    }

    public String storeName() {
        return storeName;
    }
}
