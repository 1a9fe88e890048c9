package io.weir.streams.state;

import io.weir.common.TopicPartition;
import io.weir.streams.KeyValue;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.StateStoreContext;
import io.weir.streams.processor.TaskId;
import io.weir.streams.processor.internals.TransactionalKeyValueStore;
import io.weir.streams.serialization.Serde;
import io.weir.streams.serialization.Serdes;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The typed store over the in-memory engine: reads, writes, ranges, the changelog hook, commit and abort. */
class KeyValueStoreTest {

    /** A task's store context that records what the store hands to its changelog. */
    private static final class RecordingContext implements StateStoreContext {
        final List<KeyValue<String, Long>> changelog = new ArrayList<>();
        final List<StateStore> registered = new ArrayList<>();

        @Override
        public String applicationId() {
            return "app";
        }

        @Override
        public TaskId taskId() {
            return new TaskId(0, 0);
        }

        @Override
        public Path stateDir() {
            return Path.of("unused-by-the-in-memory-engine");
        }

        @Override
        public Map<String, Object> appConfigs() {
            return Map.of();
        }

        @Override
        public Serde<?> keySerde() {
            return Serdes.String();
        }

        @Override
        public Serde<?> valueSerde() {
            return Serdes.Long();
        }

        @Override
        public void register(StateStore store) {
            registered.add(store);
        }

        @Override
        public ChangelogSink changelogSink(String storeName) {
            assertEquals("s", storeName);
            return (k, v) -> changelog.add(KeyValue.pair(Serdes.String().deserializer().deserialize("t", k),
                v == null ? null : Serdes.Long().deserializer().deserialize("t", v)));
        }
    }

    private static KeyValueStore<String, Long> open(RecordingContext context, boolean logging) {
        StoreBuilder<KeyValueStore<String, Long>> builder = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("s"), null, null);
        if (!logging) {
            builder.withLoggingDisabled();
        }
        KeyValueStore<String, Long> store = builder.build();
        store.init(context);
        return store;
    }

    @Test
    void shouldReadWriteAndLogEveryChange() {
        RecordingContext context = new RecordingContext();
        KeyValueStore<String, Long> store = open(context, true);
        assertSame(store, context.registered.get(0));
        store.put("b", 2L);
        store.put("a", 1L);
        assertNull(store.putIfAbsent("c", 3L));
        assertEquals(3L, store.putIfAbsent("c", 30L));
        assertEquals(2L, store.delete("b"));
        assertNull(store.delete("missing"));
        store.putAll(List.of(KeyValue.pair("d", 4L), KeyValue.pair("e", 5L)));
        assertEquals(1L, store.get("a"));
        assertNull(store.get("b"));
        assertEquals(4, store.approximateNumEntries());
        assertEquals(List.of(KeyValue.pair("b", 2L), KeyValue.pair("a", 1L), KeyValue.pair("c", 3L), KeyValue.pair("b", (Long) null),
            KeyValue.pair("d", 4L), KeyValue.pair("e", 5L)), context.changelog);
    }

    @Test
    void shouldIterateRangesInSerializedKeyOrder() {
        KeyValueStore<String, Long> store = open(new RecordingContext(), false);
        for (String k : List.of("d", "a", "c", "b", "e")) {
            store.put(k, (long) k.charAt(0));
        }
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, Long> it = store.range("b", "d")) {
            assertEquals("b", it.peekNextKey());
            it.forEachRemaining(kv -> keys.add(kv.key));
            assertThrows(NoSuchElementException.class, it::peekNextKey);
        }
        assertEquals(List.of("b", "c", "d"), keys);
        try (KeyValueIterator<String, Long> it = store.range("d", "b")) {
            assertTrue(!it.hasNext(), "from > to is empty");
        }
        try (KeyValueIterator<String, Long> it = store.range(null, "b")) {
            assertEquals(KeyValue.pair("a", 97L), it.next());
            assertEquals(KeyValue.pair("b", 98L), it.next());
            assertTrue(!it.hasNext());
        }
    }

    @Test
    void shouldShowWritesToQueriesOnlyAfterCommitAndDropThemOnAbort() {
        KeyValueStore<String, Long> store = open(new RecordingContext(), true);
        TransactionalKeyValueStore<String, Long> tx = (TransactionalKeyValueStore<String, Long>) store;
        ReadOnlyKeyValueStore<String, Long> queries = tx.committedView();
        store.put("a", 1L);
        assertEquals(1L, store.get("a"));
        assertNull(queries.get("a"));
        tx.commit(Map.of(new TopicPartition("in", 0), 5L));
        assertEquals(1L, queries.get("a"));
        assertEquals(Map.of(new TopicPartition("in", 0), 5L), tx.committedOffsets());
        store.put("a", 2L);
        store.put("b", 1L);
        assertTrue(tx.uncommittedBytes() > 0);
        tx.abort();
        assertEquals(1L, store.get("a"));
        assertNull(store.get("b"));
        assertEquals(1, queries.approximateNumEntries());
    }

    @Test
    void shouldRefuseNullKeysAndUseBeforeInit() {
        KeyValueStore<String, Long> unopened = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("s"), Serdes.String(),
            Serdes.Long()).build();
        assertThrows(IllegalStateException.class, () -> unopened.get("a"));
        KeyValueStore<String, Long> store = open(new RecordingContext(), true);
        assertThrows(NullPointerException.class, () -> store.put(null, 1L));
        assertThrows(IllegalArgumentException.class, () -> Stores.persistentKeyValueStore("bad name"));
    }
}
