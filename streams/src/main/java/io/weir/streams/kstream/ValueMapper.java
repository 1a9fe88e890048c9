package io.weir.streams.kstream;

/** Maps a value to a new value (the key cannot change, so no repartition follows). */
@FunctionalInterface
public interface ValueMapper<V, VR> {
    VR apply(V value);
}
