package io.weir.streams.kstream;

/** Folds a record into its key's aggregate ({@code aggregate}). */
@FunctionalInterface
public interface Aggregator<K, V, VA> {
    VA apply(K key, V value, VA aggregate);
}
