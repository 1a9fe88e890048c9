package io.weir.streams.kstream;

/** Combines the values of two joined records (one may be null in left and outer joins). */
@FunctionalInterface
public interface ValueJoiner<V1, V2, VR> {
    VR apply(V1 value1, V2 value2);
}
