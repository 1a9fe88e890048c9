package io.weir.streams.state;

import io.weir.streams.processor.internals.TransactionalStoreBuilder;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.internals.BytesStoreSupplier;
import io.weir.streams.state.internals.InMemoryBytesStore;
import io.weir.streams.state.internals.RocksDbBytesStore;

import java.time.Duration;

/**
 * Factories for stores: pick an engine (persistent or in-memory), then wrap it with serdes in a
 * {@link StoreBuilder}. Every engine keeps uncommitted writes apart until the task commits (see
 * DESIGN.md, "Exactly-once"), so the choice changes durability, never the semantics.
 */
public final class Stores {
    private Stores() {
    }

    /** The persistent key-value engine (RocksDB), the DSL's default. */
    public static BytesStoreSupplier persistentKeyValueStore(String name) {
        checkName(name);
        return RocksDbBytesStore.supplier(name);
    }

    /** The in-memory key-value engine: restored from its changelog after a restart. */
    public static BytesStoreSupplier inMemoryKeyValueStore(String name) {
        checkName(name);
        return InMemoryBytesStore.supplier(name);
    }

    /** A builder of typed stores over the engine; null serdes mean the job's default serdes. */
    public static <K, V> StoreBuilder<KeyValueStore<K, V>> keyValueStoreBuilder(BytesStoreSupplier supplier,
                                                                              Serde<K> keySerde, Serde<V> valueSerde) {
        if (supplier == null) {
            throw new IllegalArgumentException("store supplier cannot be null");
        }
        return TransactionalStoreBuilder.keyValue(supplier, keySerde, valueSerde);
    }

    /**
     * A persistent window store: windows of {@code windowSize}, kept for {@code retentionPeriod} of stream
     * time. {@code retainDuplicates} (several values per key and window, for stream-stream joins) is not
     * supported yet and must be false.
     */
    public static WindowBytesStoreSupplier persistentWindowStore(String name, Duration retentionPeriod, Duration windowSize,
                                                                 boolean retainDuplicates) {
        checkNoDuplicates(retainDuplicates);
        return new WindowBytesStoreSupplier(persistentKeyValueStore(name), retentionPeriod.toMillis(), windowSize.toMillis());
    }

    /** An in-memory window store (see {@link #persistentWindowStore}). */
    public static WindowBytesStoreSupplier inMemoryWindowStore(String name, Duration retentionPeriod, Duration windowSize,
                                                               boolean retainDuplicates) {
        checkNoDuplicates(retainDuplicates);
        return new WindowBytesStoreSupplier(inMemoryKeyValueStore(name), retentionPeriod.toMillis(), windowSize.toMillis());
    }

    /** A builder of typed window stores; null serdes mean the job's default serdes. */
    public static <K, V> StoreBuilder<WindowStore<K, V>> windowStoreBuilder(WindowBytesStoreSupplier supplier,
                                                                          Serde<K> keySerde, Serde<V> valueSerde) {
        if (supplier == null) {
            throw new IllegalArgumentException("store supplier cannot be null");
        }
        return TransactionalStoreBuilder.window(supplier, keySerde, valueSerde);
    }

    /** A persistent session store keeping sessions for {@code retentionPeriod} of stream time after they end. */
    public static SessionBytesStoreSupplier persistentSessionStore(String name, Duration retentionPeriod) {
        return new SessionBytesStoreSupplier(persistentKeyValueStore(name), retentionPeriod.toMillis());
    }

    public static SessionBytesStoreSupplier inMemorySessionStore(String name, Duration retentionPeriod) {
        return new SessionBytesStoreSupplier(inMemoryKeyValueStore(name), retentionPeriod.toMillis());
    }

    /** A builder of typed session stores; null serdes mean the job's default serdes. */
    public static <K, V> StoreBuilder<SessionStore<K, V>> sessionStoreBuilder(SessionBytesStoreSupplier supplier,
                                                                            Serde<K> keySerde, Serde<V> valueSerde) {
        if (supplier == null) {
            throw new IllegalArgumentException("store supplier cannot be null");
        }
        return TransactionalStoreBuilder.session(supplier, keySerde, valueSerde);
    }

    private static void checkNoDuplicates(boolean retainDuplicates) {
        if (retainDuplicates) {
            throw new UnsupportedOperationException("window stores with duplicates (for stream-stream joins) are not built yet");
        }
    }

    private static void checkName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("store name cannot be null or empty");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128) && c != '.' && c != '_' && c != '-') {
                throw new IllegalArgumentException("store name " + name
                    + " is illegal: it may contain only ASCII letters, digits, '.', '_' and '-'");
            }
        }
    }
}
