package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.kstream.internals.TimeWindow;
import io.weir.streams.serialization.Serde;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.WindowStore;
import io.weir.streams.state.WindowStoreIterator;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
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

/** Tumbling and hopping windows with grace, through the driver. */
class WindowedAggregationTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "win");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    private static String window(Windowed<String> w) {
        return w.key() + "@" + w.window().start() + "-" + w.window().end();
    }

    /** Counts per key and window; emits "key@start-end" -> count. */
    private static TopologyTestDriver countDriver(TimeWindows windows) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").groupByKey().windowedBy(windows).count(Materialized.as("counts"))
            .toStream().map((w, n) -> KeyValue.pair(window(w), n)).to("out", Produced.with(Serdes.String(), Serdes.Long()));
        return new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0));
    }

    @Test
    void shouldCountInTumblingWindowsAndApplyLateRecordsOnlyWithinGrace() {
        try (TopologyTestDriver driver = countDriver(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(5)))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> out = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.Long().deserializer());
            in.pipeInput("a", "x", 1_000L);
            in.pipeInput("a", "x", 9_999L);
            in.pipeInput("a", "x", 10_000L);
            in.pipeInput("b", "x", 12_000L);
            assertEquals(List.of(KeyValue.pair("a@0-10000", 1L), KeyValue.pair("a@0-10000", 2L), KeyValue.pair("a@10000-20000", 1L),
                KeyValue.pair("b@10000-20000", 1L)), out.readKeyValuesToList());
            // stream time 12 s: window [0, 10 s) closes at 10 s + 5 s grace, so a late record is still applied
            in.pipeInput("a", "x", 3_000L);
            assertEquals(List.of(KeyValue.pair("a@0-10000", 3L)), out.readKeyValuesToList());
            // stream time 15 s closes it: later records for it are dropped
            in.pipeInput("b", "x", 15_000L);
            out.readKeyValuesToList();
            in.pipeInput("a", "x", 4_000L);
            assertEquals(List.of(), out.readKeyValuesToList());

            WindowStore<String, Long> store = driver.getWindowStore("counts");
            assertEquals(3L, store.fetch("a", 0));
            assertEquals(1L, store.fetch("a", 10_000));
            assertNull(store.fetch("a", 20_000));
            List<KeyValue<Long, Long>> aWindows = new ArrayList<>();
            try (WindowStoreIterator<Long> it = store.fetch("a", 0, 10_000)) {
                it.forEachRemaining(aWindows::add);
            }
            assertEquals(List.of(KeyValue.pair(0L, 3L), KeyValue.pair(10_000L, 1L)), aWindows);
            List<String> all = new ArrayList<>();
            try (KeyValueIterator<Windowed<String>, Long> it = store.fetchAll(10_000, 10_000)) {
                it.forEachRemaining(kv -> all.add(window(kv.key) + "=" + kv.value));
            }
            assertEquals(List.of("a@10000-20000=1", "b@10000-20000=2"), all);
        }
    }

    @Test
    void shouldPutEachRecordInEveryHoppingWindowItFallsIn() {
        TimeWindows hopping = TimeWindows.ofSizeWithNoGrace(Duration.ofSeconds(10)).advanceBy(Duration.ofSeconds(5));
        assertEquals(List.of(0L, 5_000L), List.copyOf(hopping.windowsFor(7_000).keySet()));
        assertEquals(List.of(5_000L, 10_000L), List.copyOf(hopping.windowsFor(10_000).keySet()));
        try (TopologyTestDriver driver = countDriver(hopping)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> out = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.Long().deserializer());
            in.pipeInput("a", "x", 7_000L);
            in.pipeInput("a", "x", 12_000L);
            assertEquals(List.of(KeyValue.pair("a@0-10000", 1L), KeyValue.pair("a@5000-15000", 1L),
                KeyValue.pair("a@5000-15000", 2L), KeyValue.pair("a@10000-20000", 1L)), out.readKeyValuesToList());
            // no grace: stream time 12 s closed [0, 10 s), but [5 s, 15 s) is open
            in.pipeInput("a", "x", 6_000L);
            assertEquals(List.of(KeyValue.pair("a@5000-15000", 3L)), out.readKeyValuesToList());
        }
    }

    @Test
    void shouldCountInSlidingWindowsOneResultPerDistinctSetOfRecords() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").groupByKey()
            .windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(Duration.ofSeconds(10))).count(Materialized.as("sliding"))
            .toStream().map((w, n) -> KeyValue.pair(window(w), n)).to("out", Produced.with(Serdes.String(), Serdes.Long()));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> out = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.Long().deserializer());
            in.pipeInput("a", "x", 20_000L);
            assertEquals(List.of(KeyValue.pair("a@10000-20000", 1L)), out.readKeyValuesToList());
            in.pipeInput("a", "x", 25_000L);
            // 25 s is outside [10 s, 20 s]; the new record's left window [15 s, 25 s] holds both records, and the
            // first record's right window [20.001 s, 30.001 s] now exists, holding the new record alone
            assertEquals(List.of(KeyValue.pair("a@15000-25000", 2L), KeyValue.pair("a@20001-30001", 1L)), out.readKeyValuesToList());
            assertEquals(2L, driver.<String, Long>getWindowStore("sliding").fetch("a", 15_000));
        }
    }

    @Test
    void shouldExpireWindowsPastRetention() {
        try (TopologyTestDriver driver = countDriver(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(5)))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("a", "x", 1_000L);
            in.pipeInput("a", "x", 11_000L);
            WindowStore<String, Long> store = driver.getWindowStore("counts");
            assertEquals(1L, store.fetch("a", 0), "retention is size + grace: the previous window is still kept");
            in.pipeInput("a", "x", 21_000L);
            assertNull(store.fetch("a", 0));
            assertEquals(1L, store.fetch("a", 10_000));
            // the expired window was deleted through the changelog too
            TestOutputTopic<byte[], Long> log = driver.createOutputTopic("win-counts-changelog",
                Serdes.ByteArray().deserializer(), Serdes.Long().deserializer());
            List<KeyValue<byte[], Long>> records = log.readKeyValuesToList();
            assertEquals(4, records.size());
            assertNull(records.get(3).value);
        }
    }

    @Test
    void shouldAggregateAndReduceWithMaterializedRetentionAndWriteWindowedKeys() {
        StreamsBuilder builder = new StreamsBuilder();
        KGroupedStream<String, String> grouped = builder.stream("in", Consumed.with(Serdes.String(), Serdes.String())).groupByKey();
        Serde<Windowed<String>> windowedSerde = WindowedSerdes.timeWindowedSerdeFrom(Serdes.String(), 10_000);
        grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofSeconds(10)))
            .aggregate(() -> "", (k, v, agg) -> agg + v, Materialized.<String, String, io.weir.streams.processor.StateStore>as("concat")
                .withRetention(Duration.ofHours(1)))
            .toStream().to("concat-out");
        grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofSeconds(10)))
            .reduce((a, b) -> a.compareTo(b) >= 0 ? a : b)
            .toStream().to("max-out", Produced.with(windowedSerde, Serdes.String()));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("a", "q", 1_000L);
            in.pipeInput("a", "z", 2_000L);
            in.pipeInput("a", "m", 3_000L);
            in.pipeInput("a", "k", 50_000L);
            TestOutputTopic<Windowed<String>, String> concat = driver.createOutputTopic("concat-out",
                windowedSerde.deserializer(), Serdes.String().deserializer());
            List<KeyValue<Windowed<String>, String>> rows = concat.readKeyValuesToList();
            assertEquals(new Windowed<>("a", new TimeWindow(0, 10_000)), rows.get(2).key);
            assertEquals("qzm", rows.get(2).value);
            TestOutputTopic<Windowed<String>, String> max = driver.createOutputTopic("max-out",
                windowedSerde.deserializer(), Serdes.String().deserializer());
            assertEquals(List.of("q", "z", "z", "k"), max.readValuesToList());
            // an hour of retention keeps the old window for queries
            assertEquals("qzm", driver.<String, String>getWindowStore("concat").fetch("a", 0));
        }
        assertThrows(IllegalArgumentException.class, () -> new StreamsBuilder().<String, String>stream("in").groupByKey()
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(5)))
            .count(Materialized.<String, Long, io.weir.streams.processor.StateStore>as("short").withRetention(Duration.ofSeconds(14))));
    }
}
