package io.weir.streams.kstream;

/** Combines the values of two joined records, reading (not changing) their common key. */
@FunctionalInterface
public interface ValueJoinerWithKey<K, V1, V2, VR> {
    VR apply(K readOnlyKey, V1 value1, V2 value2);
}
