package io.weir.streams.kstream;

/** Combines the aggregate so far with a new value of the same type ({@code reduce}). */
@FunctionalInterface
public interface Reducer<V> {
    V apply(V aggregate, V value);
}
