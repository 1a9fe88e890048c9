package io.weir.streams.kstream;

/** Maps a value to a new value, reading (not changing) the key. */
@FunctionalInterface
public interface ValueMapperWithKey<K, V, VR> {
    VR apply(K readOnlyKey, V value);
}
