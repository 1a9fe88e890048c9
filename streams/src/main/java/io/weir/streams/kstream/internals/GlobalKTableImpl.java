package io.weir.streams.kstream.internals;

import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.GlobalKTable;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.serialization.Serde;

/** A global table: its store's name; the store is filled by a global source and processor. */
public final class GlobalKTableImpl<K, V> implements GlobalKTable<K, V> {
    private final String storeName;

    private GlobalKTableImpl(String storeName) {
        this.storeName = storeName;
    }

    /** Adds the global store, its source and its updating processor for {@code StreamsBuilder.globalTable}. */
    public static <K, V> GlobalKTable<K, V> fromTopic(InternalStreamsBuilder builder, String topic, Consumed<K, V> consumed,
                                                      Materialized<K, V, ?> materialized) {
        Serde<K> k = materialized.keySerde() != null ? materialized.keySerde() : consumed.keySerde();
        Serde<V> v = materialized.valueSerde() != null ? materialized.valueSerde() : consumed.valueSerde();
        String storeName = materialized.storeName() != null ? materialized.storeName() : builder.newName(topic + "-STATE-STORE-");
        String source = consumed.name() != null ? consumed.name() : builder.newName("KSTREAM-SOURCE-");
        String processor = builder.newName("KTABLE-SOURCE-");
        builder.topology().addGlobalStore(builder.keyValueStore(materialized, storeName, k, v), source, consumed.timestampExtractor(),
            consumed.keySerde() == null ? null : consumed.keySerde().deserializer(),
            consumed.valueSerde() == null ? null : consumed.valueSerde().deserializer(), topic, processor,
            KTableImpl.tableSource(storeName));
        return new GlobalKTableImpl<>(storeName);
    }

    @Override
    public String queryableStoreName() {
        return storeName;
    }
}
