package io.weir.streams.kstream;

/** Decides whether a record passes ({@code filter}) or which branch it takes ({@code split}). */
@FunctionalInterface
public interface Predicate<K, V> {
    boolean test(K key, V value);
}
