package io.weir.streams.kstream;

import io.weir.streams.processor.StateStore;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.internals.BytesStoreSupplier;

import java.util.HashMap;
import java.util.Map;

/**
 * How a table's state store is made: its name (which makes it queryable and names its changelog
 * {@code <application.id>-<name>-changelog}), serdes, engine (persistent by default, or in memory) and
 * changelog settings. The third type parameter mirrors Kafka Streams ({@code KeyValueStore<Bytes, byte[]>}).
 * Mutable builder, as Kafka's: each {@code with*} changes and returns this instance.
 */
public final class Materialized<K, V, S extends StateStore> {

    /** The engine of stores the DSL creates. */
    public enum StoreType { ROCKS_DB, IN_MEMORY }

    private String storeName;
    private BytesStoreSupplier supplier;
    private Serde<K> keySerde;
    private Serde<V> valueSerde;
    private StoreType storeType;
    private boolean loggingEnabled = true;
    private boolean cachingEnabled = true;
    private java.time.Duration retention;
    private final Map<String, String> topicConfig = new HashMap<>();

    private Materialized() {
    }

    public static <K, V, S extends StateStore> Materialized<K, V, S> as(String storeName) {
        Named.validate(storeName);
        Materialized<K, V, S> m = new Materialized<>();
        m.storeName = storeName;
        return m;
    }

    /** Uses the given engine; the store takes the supplier's name. */
    public static <K, V, S extends StateStore> Materialized<K, V, S> as(BytesStoreSupplier supplier) {
        if (supplier == null) {
            throw new IllegalArgumentException("store supplier cannot be null");
        }
        Materialized<K, V, S> m = new Materialized<>();
        m.supplier = supplier;
        m.storeName = supplier.name();
        return m;
    }

    public static <K, V, S extends StateStore> Materialized<K, V, S> as(StoreType storeType) {
        Materialized<K, V, S> m = new Materialized<>();
        m.storeType = storeType;
        return m;
    }

    public static <K, V, S extends StateStore> Materialized<K, V, S> with(Serde<K> keySerde, Serde<V> valueSerde) {
        Materialized<K, V, S> m = new Materialized<>();
        m.keySerde = keySerde;
        m.valueSerde = valueSerde;
        return m;
    }

    public Materialized<K, V, S> withKeySerde(Serde<K> serde) {
        this.keySerde = serde;
        return this;
    }

    public Materialized<K, V, S> withValueSerde(Serde<V> serde) {
        this.valueSerde = serde;
        return this;
    }

    public Materialized<K, V, S> withStoreType(StoreType type) {
        this.storeType = type;
        return this;
    }

    public Materialized<K, V, S> withLoggingEnabled(Map<String, String> config) {
        loggingEnabled = true;
        topicConfig.clear();
        if (config != null) {
            topicConfig.putAll(config);
        }
        return this;
    }

    public Materialized<K, V, S> withLoggingDisabled() {
        loggingEnabled = false;
        topicConfig.clear();
        return this;
    }

    /**
     * For window stores: how much stream time of windows to keep (default and minimum: window size +
     * grace), so interactive queries can read closed windows for longer.
     */
    public Materialized<K, V, S> withRetention(java.time.Duration retention) {
        if (retention.isNegative()) {
            throw new IllegalArgumentException("retention must be >= 0, got " + retention);
        }
        this.retention = retention;
        return this;
    }

    /** The retention asked for, or null. */
    public java.time.Duration retention() {
        return retention;
    }

    /**
     * The store keeps its writes in the record cache ({@code statestore.cache.max.bytes}) until the next
     * commit or until the cache is full, so that many updates of a key between two commits reach the
     * changelog and the downstream nodes once, as the latest value. On by default, as in Kafka Streams.
     */
    public Materialized<K, V, S> withCachingEnabled() {
        cachingEnabled = true;
        return this;
    }

    /** Every update reaches the changelog and the downstream nodes at once. */
    public Materialized<K, V, S> withCachingDisabled() {
        cachingEnabled = false;
        return this;
    }

    /** Whether the store caches its writes (see {@link #withCachingEnabled()}). */
    public boolean cachingEnabled() {
        return cachingEnabled;
    }

    /** The store name given, or null (the DSL then generates one and the store is not queryable by a known name). */
    public String storeName() {
        return storeName;
    }

    public BytesStoreSupplier storeSupplier() {
        return supplier;
    }

    public StoreType storeType() {
        return storeType;
    }

    public Serde<K> keySerde() {
        return keySerde;
    }

    public Serde<V> valueSerde() {
        return valueSerde;
    }

    public boolean loggingEnabled() {
        return loggingEnabled;
    }

    public Map<String, String> logConfig() {
        return Map.copyOf(topicConfig);
    }
}
