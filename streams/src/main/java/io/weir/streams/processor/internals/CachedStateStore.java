package io.weir.streams.processor.internals;

/**
 * A store that may keep writes in the thread's record cache (see {@link ThreadCache}) and hand them on
 * only at a flush. A DSL node that writes it and forwards table updates asks it first: when caching is on,
 * the store forwards the de-duplicated updates through the listener and the node must not forward itself.
 */
public interface CachedStateStore<K, V> {

    /**
     * Registers who gets the flushed updates; returns true if the store caches (the caller then lets the
     * listener forward), false if it writes through (the caller forwards each update itself).
     */
    boolean setFlushListener(CacheFlushListener<K, V> listener);
}
