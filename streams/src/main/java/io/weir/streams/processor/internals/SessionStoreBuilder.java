package io.weir.streams.processor.internals;

import io.weir.streams.serialization.Serde;
import io.weir.streams.state.StoreBuilder;
import io.weir.streams.state.SessionBytesStoreSupplier;
import io.weir.streams.state.SessionStore;

import java.util.HashMap;
import java.util.Map;

/** Builds {@link TransactionalSessionStore}s over one engine supplier. Not thread-safe (topology building). */
public final class SessionStoreBuilder<K, V> implements StoreBuilder<SessionStore<K, V>> {
    private final SessionBytesStoreSupplier supplier;
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private boolean logging = true;
    private final Map<String, String> logConfig = new HashMap<>();

    public SessionStoreBuilder(SessionBytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde) {
        this.supplier = supplier;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
    }

    @Override
    public StoreBuilder<SessionStore<K, V>> withLoggingEnabled(Map<String, String> changelogTopicConfig) {
        logging = true;
        logConfig.clear();
        if (changelogTopicConfig != null) {
            logConfig.putAll(changelogTopicConfig);
        }
        return this;
    }

    @Override
    public StoreBuilder<SessionStore<K, V>> withLoggingDisabled() {
        logging = false;
        logConfig.clear();
        return this;
    }

    @Override
    public StoreBuilder<SessionStore<K, V>> withCachingEnabled() {
        return this;
    }

    @Override
    public StoreBuilder<SessionStore<K, V>> withCachingDisabled() {
        return this;
    }

    @Override
    public String name() {
        return supplier.name();
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
    public SessionStore<K, V> build() {
        return new TransactionalSessionStore<>(supplier, keySerde, valueSerde, logging);
    }
}
