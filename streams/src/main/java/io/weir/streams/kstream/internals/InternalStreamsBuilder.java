package io.weir.streams.kstream.internals;

import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Named;
import io.weir.streams.processor.internals.InternalTopologyBuilder;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.StoreBuilder;
import io.weir.streams.state.Stores;
import io.weir.streams.state.WindowBytesStoreSupplier;
import io.weir.streams.state.WindowStore;
import io.weir.streams.state.internals.BytesStoreSupplier;

/**
 * The DSL's side of topology building: generates node and store names ({@code KSTREAM-FILTER-0000000003},
 * as Kafka Streams numbers them, one counter per builder) and turns {@code Materialized} options into
 * store builders. Not thread-safe.
 */
public final class InternalStreamsBuilder {
    private final InternalTopologyBuilder topology;
    private int index;

    public InternalStreamsBuilder(InternalTopologyBuilder topology) {
        this.topology = topology;
    }

    public InternalTopologyBuilder topology() {
        return topology;
    }

    /** A generated name with the next index. */
    public String newName(String prefix) {
        return String.format("%s%010d", prefix, index++);
    }

    /** The user's name if given, else a generated one. */
    public String name(Named named, String prefix) {
        return named != null && named.name() != null ? named.name() : newName(prefix);
    }

    /**
     * The window store builder a {@code Materialized} describes for windows of {@code windowSizeMs} that
     * must be kept at least {@code minRetentionMs} (size + grace).
     */
    public <K, V> StoreBuilder<WindowStore<K, V>> windowStore(Materialized<K, V, ?> materialized, String name,
                                                              long windowSizeMs, long minRetentionMs,
                                                              Serde<K> keySerde, Serde<V> valueSerde) {
        long retentionMs = materialized.retention() != null ? materialized.retention().toMillis() : minRetentionMs;
        if (retentionMs < minRetentionMs) {
            throw new IllegalArgumentException("the retention of window store " + name + " (" + retentionMs
                + " ms) must be at least window size + grace (" + minRetentionMs + " ms)");
        }
        BytesStoreSupplier engine = materialized.storeSupplier();
        if (engine == null) {
            engine = materialized.storeType() == Materialized.StoreType.IN_MEMORY
                ? Stores.inMemoryKeyValueStore(name)
                : Stores.persistentKeyValueStore(name);
        }
        StoreBuilder<WindowStore<K, V>> builder = Stores.windowStoreBuilder(new WindowBytesStoreSupplier(engine, retentionMs, windowSizeMs),
            materialized.keySerde() != null ? materialized.keySerde() : keySerde,
            materialized.valueSerde() != null ? materialized.valueSerde() : valueSerde);
        if (materialized.loggingEnabled()) {
            builder.withLoggingEnabled(materialized.logConfig());
        } else {
            builder.withLoggingDisabled();
        }
        if (materialized.cachingEnabled()) {
            builder.withCachingEnabled();
        } else {
            builder.withCachingDisabled();
        }
        return builder;
    }

    /** The session store builder a {@code Materialized} describes, kept at least {@code minRetentionMs} (gap + grace). */
    public <K, V> StoreBuilder<io.weir.streams.state.SessionStore<K, V>> sessionStore(Materialized<K, V, ?> materialized, String name,
                                                                                     long minRetentionMs, Serde<K> keySerde,
                                                                                     Serde<V> valueSerde) {
        long retentionMs = materialized.retention() != null ? materialized.retention().toMillis() : minRetentionMs;
        if (retentionMs < minRetentionMs) {
            throw new IllegalArgumentException("the retention of session store " + name + " (" + retentionMs
                + " ms) must be at least inactivity gap + grace (" + minRetentionMs + " ms)");
        }
        BytesStoreSupplier engine = materialized.storeSupplier();
        if (engine == null) {
            engine = materialized.storeType() == Materialized.StoreType.IN_MEMORY
                ? Stores.inMemoryKeyValueStore(name)
                : Stores.persistentKeyValueStore(name);
        }
        StoreBuilder<io.weir.streams.state.SessionStore<K, V>> builder = Stores.sessionStoreBuilder(
            new io.weir.streams.state.SessionBytesStoreSupplier(engine, retentionMs),
            materialized.keySerde() != null ? materialized.keySerde() : keySerde,
            materialized.valueSerde() != null ? materialized.valueSerde() : valueSerde);
        if (materialized.loggingEnabled()) {
            builder.withLoggingEnabled(materialized.logConfig());
        } else {
            builder.withLoggingDisabled();
        }
        if (materialized.cachingEnabled()) {
            builder.withCachingEnabled();
        } else {
            builder.withCachingDisabled();
        }
        return builder;
    }

    /**
     * The store builder a {@code Materialized} describes; {@code name} is its store name or a generated
     * one, and the serdes fill in what the materialized leaves null.
     */
    public <K, V> StoreBuilder<KeyValueStore<K, V>> keyValueStore(Materialized<K, V, ?> materialized, String name,
                                                                  Serde<K> keySerde, Serde<V> valueSerde) {
        BytesStoreSupplier supplier = materialized.storeSupplier();
        if (supplier == null) {
            supplier = materialized.storeType() == Materialized.StoreType.IN_MEMORY
                ? Stores.inMemoryKeyValueStore(name)
                : Stores.persistentKeyValueStore(name);
        }
        StoreBuilder<KeyValueStore<K, V>> builder = Stores.keyValueStoreBuilder(supplier,
            materialized.keySerde() != null ? materialized.keySerde() : keySerde,
            materialized.valueSerde() != null ? materialized.valueSerde() : valueSerde);
        if (materialized.loggingEnabled()) {
            builder.withLoggingEnabled(materialized.logConfig());
        } else {
            builder.withLoggingDisabled();
        }
        if (materialized.cachingEnabled()) {
            builder.withCachingEnabled();
        } else {
            builder.withCachingDisabled();
        }
        return builder;
    }
}
