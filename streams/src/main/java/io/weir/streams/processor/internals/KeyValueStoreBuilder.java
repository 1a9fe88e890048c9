package io.weir.streams.processor.internals;

import io.weir.streams.serialization.Serde;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.StoreBuilder;
import io.weir.streams.state.internals.BytesStoreSupplier;

import java.util.HashMap;
import java.util.Map;

/** Builds {@link TransactionalKeyValueStore}s over one engine supplier. Not thread-safe (topology building). */
public final class KeyValueStoreBuilder<K, V> implements StoreBuilder<KeyValueStore<K, V>> {
    private final BytesStoreSupplier supplier;
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private boolean logging = true;
    private final Map<String, String> logConfig = new HashMap<>();

    public KeyValueStoreBuilder(BytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde) {
        this.supplier = supplier;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
    }

    @Override
    public StoreBuilder<KeyValueStore<K, V>> withLoggingEnabled(Map<String, String> changelogTopicConfig) {
        logging = true;
        logConfig.clear();
        if (changelogTopicConfig != null) {
            logConfig.putAll(changelogTopicConfig);
        }
        return this;
    }

    @Override
    public StoreBuilder<KeyValueStore<K, V>> withLoggingDisabled() {
        logging = false;
        logConfig.clear();
        return this;
    }

    @Override
    public StoreBuilder<KeyValueStore<K, V>> withCachingEnabled() {
        return this;
    }

    @Override
    public StoreBuilder<KeyValueStore<K, V>> withCachingDisabled() {
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
    public KeyValueStore<K, V> build() {
        return new TransactionalKeyValueStore<>(supplier, keySerde, valueSerde, logging);
    }
}
