package io.weir.streams.kstream;

/** A side effect per record ({@code foreach}, {@code peek}). */
@FunctionalInterface
public interface ForeachAction<K, V> {
    void apply(K key, V value);
}
