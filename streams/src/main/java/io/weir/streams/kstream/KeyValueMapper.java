package io.weir.streams.kstream;

/** Maps a key and value to a result: a new key ({@code selectKey}, {@code groupBy}) or a new record ({@code map}). */
@FunctionalInterface
public interface KeyValueMapper<K, V, VR> {
    VR apply(K key, V value);
}
