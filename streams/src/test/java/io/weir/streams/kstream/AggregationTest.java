package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** reduce, aggregate, count with null keys/values, and table operations, through the driver. */
class AggregationTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "agg");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.LongSerde.class);
        return p;
    }

    private static TopologyTestDriver driver(StreamsBuilder builder) {
        return new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0));
    }

    private static TestInputTopic<String, Long> input(TopologyTestDriver driver) {
        return driver.createInputTopic("in", Serdes.String().serializer(), Serdes.Long().serializer());
    }

    private static TestOutputTopic<String, Long> output(TopologyTestDriver driver) {
        return driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.Long().deserializer());
    }

    @Test
    void shouldReduceEachKey() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, Long>stream("in").groupByKey().reduce(Long::max, Materialized.as("max")).toStream().to("out");
        try (TopologyTestDriver driver = driver(builder)) {
            input(driver).pipeKeyValueList(List.of(KeyValue.pair("a", 3L), KeyValue.pair("a", 1L), KeyValue.pair("b", 2L),
                KeyValue.pair("a", 7L)));
            assertEquals(List.of(KeyValue.pair("a", 3L), KeyValue.pair("a", 3L), KeyValue.pair("b", 2L), KeyValue.pair("a", 7L)),
                output(driver).readKeyValuesToList());
            KeyValueStore<String, Long> store = driver.getKeyValueStore("max");
            assertEquals(7L, store.get("a"));
        }
    }

    @Test
    void shouldAggregateIntoAnotherType() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, Long>stream("in").groupByKey()
            .aggregate(() -> "", (k, v, agg) -> agg.isEmpty() ? String.valueOf(v) : agg + "," + v,
                Materialized.<String, String, io.weir.streams.processor.StateStore>as("joined")
                    .withValueSerde(Serdes.String()).withStoreType(Materialized.StoreType.IN_MEMORY))
            .toStream().to("out", Produced.with(Serdes.String(), Serdes.String()));
        try (TopologyTestDriver driver = driver(builder)) {
            input(driver).pipeKeyValueList(List.of(KeyValue.pair("a", 1L), KeyValue.pair("b", 2L), KeyValue.pair("a", 3L)));
            assertEquals(List.of("1", "2", "1,3"),
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer()).readValuesToList());
            assertEquals("1,3", driver.<String, String>getKeyValueStore("joined").get("a"));
            assertEquals(false, driver.getStateStore("joined").persistent());
        }
    }

    @Test
    void shouldSkipNullKeysAndValuesWhenCounting() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, Long>stream("in").groupByKey().count(Materialized.as("n")).toStream().to("out");
        try (TopologyTestDriver driver = driver(builder)) {
            TestInputTopic<String, Long> in = input(driver);
            in.pipeInput("a", 1L);
            in.pipeInput(null, 1L);
            in.pipeInput("a", null);
            in.pipeInput("a", 5L);
            assertEquals(List.of(1L, 2L), output(driver).readValuesToList());
        }
    }

    @Test
    void shouldFilterMapAndStreamATable() {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, Long> sums = builder.<String, Long>stream("in").groupByKey().reduce(Long::sum, Materialized.as("sums"));
        sums.filter((k, v) -> v % 2 == 0, Materialized.as("even-sums"))
            .mapValues(v -> v * 10)
            .toStream().to("out");
        try (TopologyTestDriver driver = driver(builder)) {
            TestInputTopic<String, Long> in = input(driver);
            TestOutputTopic<String, Long> out = output(driver);
            in.pipeInput("a", 1L);
            assertEquals(List.of(), out.readKeyValuesToList(), "an odd first sum shows nothing");
            in.pipeInput("a", 1L);
            assertEquals(List.of(KeyValue.pair("a", 20L)), out.readKeyValuesToList());
            in.pipeInput("a", 1L);
            // the row left the filtered table: a delete goes downstream
            assertEquals(List.of(KeyValue.pair("a", (Long) null)), out.readKeyValuesToList());
            assertNull(driver.<String, Long>getKeyValueStore("even-sums").get("a"));
            in.pipeInput("a", 3L);
            assertEquals(List.of(KeyValue.pair("a", 60L)), out.readKeyValuesToList());
            assertEquals(6L, driver.<String, Long>getKeyValueStore("even-sums").get("a"));
        }
    }

    @Test
    void shouldTurnAStreamIntoATable() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, Long>stream("in").toTable(Materialized.as("latest")).filter((k, v) -> v > 1).toStream().to("out");
        try (TopologyTestDriver driver = driver(builder)) {
            TestInputTopic<String, Long> in = input(driver);
            in.pipeInput("a", 5L);
            in.pipeInput("a", 1L);
            in.pipeInput("b", 1L);
            assertEquals(Arrays.asList(5L, null), output(driver).readValuesToList());
            assertEquals(1L, driver.<String, Long>getKeyValueStore("latest").get("a"));
        }
    }

    @Test
    void shouldReadATopicAsATable() {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, Long> table = builder.table("in", Materialized.as("latest"));
        assertEquals("latest", table.queryableStoreName());
        table.toStream().to("out");
        try (TopologyTestDriver driver = driver(builder)) {
            TestInputTopic<String, Long> in = input(driver);
            in.pipeInput("a", 1L);
            in.pipeInput("a", 2L);
            in.pipeInput("a", null);
            in.pipeInput("b", null);
            assertEquals(Arrays.asList(1L, 2L, null), output(driver).readValuesToList());
            assertNull(driver.<String, Long>getKeyValueStore("latest").get("a"));
        }
    }
}
