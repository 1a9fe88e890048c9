package io.weir.streams.processor.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.StateStoreContext;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.ReadOnlyKeyValueStore;

import java.util.List;

/**
 * What stream tasks see of a key-value global store in {@code WeirStreams}: reads of its COMMITTED state
 * (safe from any thread while the {@link GlobalStreamThread} writes and commits the store); writes are
 * refused, because only the global thread fills a global store. The global thread owns the store, so
 * {@link #close()} does nothing.
 */
final class GlobalKeyValueStoreView<K, V> implements KeyValueStore<K, V> {
    private final TransactionalKeyValueStore<K, V> store;
    private final ReadOnlyKeyValueStore<K, V> committed;

    GlobalKeyValueStoreView(TransactionalKeyValueStore<K, V> store) {
        this.store = store;
        this.committed = store.committedView();
    }

    @Override
    public String name() {
        return store.name();
    }

    @Override
    public void init(StateStoreContext context) {
        throw new IllegalStateException("global store " + name() + " is opened by the global thread");
    }

    @Override
    public boolean persistent() {
        return store.persistent();
    }

    @Override
    public boolean isOpen() {
        return store.isOpen();
    }

    @Override
    public void close() {
        // the global thread closes the store
    }

    @Override
    public V get(K key) {
        return committed.get(key);
    }

    @Override
    public KeyValueIterator<K, V> range(K from, K to) {
        return committed.range(from, to);
    }

    @Override
    public KeyValueIterator<K, V> all() {
        return committed.all();
    }

    @Override
    public long approximateNumEntries() {
        return committed.approximateNumEntries();
    }

    @Override
    public void put(K key, V value) {
        throw readOnly();
    }

    @Override
    public V putIfAbsent(K key, V value) {
        throw readOnly();
    }

    @Override
    public void putAll(List<KeyValue<K, V>> entries) {
        throw readOnly();
    }

    @Override
    public V delete(K key) {
        throw readOnly();
    }

    private UnsupportedOperationException readOnly() {
        return new UnsupportedOperationException("global store " + name() + " is read-only for stream tasks: "
            + "only its global topic fills it");
    }

    /** The stores as stream tasks get them: key-value stores as committed read views, others as they are. */
    static java.util.Map<String, StateStore> forStreamTasks(java.util.Map<String, StateStore> stores) {
        java.util.Map<String, StateStore> out = new java.util.LinkedHashMap<>();
        stores.forEach((name, s) -> out.put(name, s instanceof TransactionalKeyValueStore<?, ?> kv
            ? new GlobalKeyValueStoreView<>(kv) : s));
        return java.util.Map.copyOf(out);
    }
}
