package io.weir.streams.processor.internals;

import io.weir.streams.processor.StateStore;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.SessionBytesStoreSupplier;
import io.weir.streams.state.SessionStore;
import io.weir.streams.state.StoreBuilder;
import io.weir.streams.state.WindowBytesStoreSupplier;
import io.weir.streams.state.WindowStore;
import io.weir.streams.state.internals.BytesStoreSupplier;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Builds the transactional stores (key-value, window, session) over one engine supplier: the name,
 * the changelog switch and its topic configs are common; only the store made at {@link #build} differs.
 * Caching (off unless asked for, as Kafka's store builders) makes a store's writes wait in the thread's
 * record cache ({@link ThreadCache}) until a flush.
 * Not thread-safe (topology building).
 */
public final class TransactionalStoreBuilder<T extends StateStore> implements StoreBuilder<T> {
    private final String name;
    /** Makes the store, given whether it logs to a changelog and whether it caches. */
    private final BiFunction<Boolean, Boolean, T> factory;
    private boolean logging = true;
    private boolean caching;
    private final Map<String, String> logConfig = new HashMap<>();

    private TransactionalStoreBuilder(String name, BiFunction<Boolean, Boolean, T> factory) {
        this.name = name;
        this.factory = factory;
    }

    /** Key-value stores ({@link TransactionalKeyValueStore}). */
    public static <K, V> StoreBuilder<KeyValueStore<K, V>> keyValue(BytesStoreSupplier supplier, Serde<K> keySerde,
                                                                   Serde<V> valueSerde) {
        return new TransactionalStoreBuilder<>(supplier.name(),
            (logging, caching) -> new TransactionalKeyValueStore<>(supplier, keySerde, valueSerde, logging, caching));
    }

    /** Window stores ({@link TransactionalWindowStore}). */
    public static <K, V> StoreBuilder<WindowStore<K, V>> window(WindowBytesStoreSupplier supplier, Serde<K> keySerde,
                                                               Serde<V> valueSerde) {
        return new TransactionalStoreBuilder<>(supplier.name(),
            (logging, caching) -> new TransactionalWindowStore<>(supplier, keySerde, valueSerde, logging, caching));
    }

    /** Session stores ({@link TransactionalSessionStore}). */
    public static <K, V> StoreBuilder<SessionStore<K, V>> session(SessionBytesStoreSupplier supplier, Serde<K> keySerde,
                                                                 Serde<V> valueSerde) {
        return new TransactionalStoreBuilder<>(supplier.name(),
            (logging, caching) -> new TransactionalSessionStore<>(supplier, keySerde, valueSerde, logging, caching));
    }

    @Override
    public StoreBuilder<T> withLoggingEnabled(Map<String, String> changelogTopicConfig) {
        logging = true;
        logConfig.clear();
        if (changelogTopicConfig != null) {
            logConfig.putAll(changelogTopicConfig);
        }
        return this;
    }

    @Override
    public StoreBuilder<T> withLoggingDisabled() {
        logging = false;
        logConfig.clear();
        return this;
    }

    @Override
    public StoreBuilder<T> withCachingEnabled() {
        caching = true;
        return this;
    }

    @Override
    public StoreBuilder<T> withCachingDisabled() {
        caching = false;
        return this;
    }

    /** Whether the store keeps its writes in the record cache until a flush. */
    public boolean cachingEnabled() {
        return caching;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean loggingEnabled() {
        return logging;
    }

    @Override
    public Map<String, String> logConfig() {
        return Map.copyOf(logConfig);
    }

    @Override
    public T build() {
        return factory.apply(logging, caching);
    }
}
