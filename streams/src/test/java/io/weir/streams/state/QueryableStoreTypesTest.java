package io.weir.streams.state;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.errors.InvalidStateStoreException;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.TimeWindows;
import io.weir.streams.kstream.Windowed;
import io.weir.streams.processor.StateStore;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The interactive-query views read committed state only, over key-value and window stores. */
class QueryableStoreTypesTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "iq-views");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    @Test
    void keyValueViewSeesCommittedWritesOnly() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").groupByKey().count(Materialized.as("counts"));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("a", "x");
            in.pipeInput("a", "x");
            in.pipeInput("b", "x");
            StateStore store = driver.getStateStore("counts");
            ReadOnlyKeyValueStore<String, Long> view = QueryableStoreTypes.<String, Long>keyValueStore()
                .create(() -> List.of(store), "counts");
            assertEquals(2L, view.get("a"));
            assertEquals(2, view.approximateNumEntries());
            // a write of a transaction in flight is invisible to queries
            KeyValueStore<String, Long> typed = driver.getKeyValueStore("counts");
            typed.put("c", 9L);
            assertEquals(9L, typed.get("c"));
            assertNull(view.get("c"));
            List<KeyValue<String, Long>> all = new ArrayList<>();
            try (KeyValueIterator<String, Long> it = view.all()) {
                it.forEachRemaining(all::add);
            }
            assertEquals(List.of(KeyValue.pair("a", 2L), KeyValue.pair("b", 1L)), all);
            assertThrows(InvalidStateStoreException.class,
                () -> QueryableStoreTypes.windowStore().create(() -> List.of(store), "counts").fetch("a", 0));
        }
    }

    @Test
    void windowViewSeesCommittedWindowsOnly() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofMinutes(1)))
            .count(Materialized.as("wcounts"));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("a", "x", 1_000L);
            in.pipeInput("a", "x", 2_000L);
            in.pipeInput("a", "x", 12_000L);
            in.pipeInput("b", "x", 13_000L);
            ReadOnlyWindowStore<String, Long> view = QueryableStoreTypes.<String, Long>windowStore()
                .create(() -> List.of(driver.getStateStore("wcounts")), "wcounts");
            assertEquals(2L, view.fetch("a", 0));
            List<KeyValue<Long, Long>> aWindows = new ArrayList<>();
            try (WindowStoreIterator<Long> it = view.fetch("a", 0, 20_000)) {
                it.forEachRemaining(aWindows::add);
            }
            assertEquals(List.of(KeyValue.pair(0L, 2L), KeyValue.pair(10_000L, 1L)), aWindows);
            driver.<String, Long>getWindowStore("wcounts").put("b", 7L, 0);   // uncommitted
            assertNull(view.fetch("b", 0));
            List<String> all = new ArrayList<>();
            try (KeyValueIterator<Windowed<String>, Long> it = view.fetchAll(10_000, 10_000)) {
                it.forEachRemaining(kv -> all.add(kv.key.key() + "=" + kv.value));
            }
            assertEquals(List.of("a=1", "b=1"), all);
        }
    }
}
