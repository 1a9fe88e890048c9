package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.StateStoreContext;
import io.weir.streams.processor.TaskId;
import io.weir.streams.serialization.Serde;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.ChangelogSink;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.StoreBuilder;
import io.weir.streams.state.Stores;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Stream tasks read a global key-value store's committed state only, and cannot write it. */
class GlobalKeyValueStoreViewTest {

    private static final class Context implements StateStoreContext {
        @Override
        public String applicationId() {
            return "app";
        }

        @Override
        public TaskId taskId() {
            return new TaskId(-1, 0);
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
            return Serdes.String();
        }

        @Override
        public void register(StateStore store) {
        }

        @Override
        public ChangelogSink changelogSink(String storeName) {
            return ChangelogSink.NONE;
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void streamTasksSeeOnlyCommittedWritesAndCannotWrite() {
        StoreBuilder<KeyValueStore<String, String>> builder = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("g"), null, null);
        builder.withLoggingDisabled();
        KeyValueStore<String, String> store = builder.build();
        store.init(new Context());
        StateStore other = new GlobalKeyValueStoreView<>((TransactionalKeyValueStore<String, String>) store);

        Map<String, StateStore> forTasks = GlobalKeyValueStoreView.forStreamTasks(Map.of("g", store, "other", other));
        KeyValueStore<String, String> view = (KeyValueStore<String, String>) forTasks.get("g");
        assertSame(other, forTasks.get("other"), "stores that are not transactional key-value stores pass as they are");

        store.put("u1", "ann");
        assertNull(view.get("u1"), "an uncommitted write of the global thread is not visible to stream tasks");
        ((TransactionalKeyValueStore<String, String>) store).commit(Map.of(new TopicPartition("users", 0), 1L));
        assertEquals("ann", view.get("u1"));
        assertEquals(1, view.approximateNumEntries());
        assertThrows(UnsupportedOperationException.class, () -> view.put("u2", "bob"));
        assertThrows(UnsupportedOperationException.class, () -> view.delete("u1"));
        view.close();
        assertEquals("ann", store.get("u1"), "closing the view leaves the global thread's store open");
        store.close();
    }
}
