package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.TopologyDescription;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** KTable.groupBy with count, reduce and aggregate: rows moving between groups are subtracted and added. */
class TableGroupByTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "tg");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    @Test
    void shouldCountRowsPerGroupAsRowsMoveAndDisappear() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>table("user-regions")
            .groupBy((user, region) -> KeyValue.pair(region, user), Grouped.as("by-region"))
            .count(Materialized.as("users-per-region"))
            .toStream().to("out", Produced.with(Serdes.String(), Serdes.Long()));
        TopologyDescription d = builder.build(props()).describe();
        assertTrue(d.sinkTopics().contains("tg-by-region-repartition"), d.toString());
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("user-regions", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> out = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.Long().deserializer());
            in.pipeInput("alice", "eu");
            in.pipeInput("bob", "eu");
            in.pipeInput("carol", "us");
            assertEquals(List.of(KeyValue.pair("eu", 1L), KeyValue.pair("eu", 2L), KeyValue.pair("us", 1L)), out.readKeyValuesToList());
            in.pipeInput("alice", "us");
            assertEquals(List.of(KeyValue.pair("eu", 1L), KeyValue.pair("us", 2L)), out.readKeyValuesToList());
            in.pipeInput("bob", "eu");
            // same group: subtract and add in one record, the count never dips
            assertEquals(List.of(KeyValue.pair("eu", 1L)), out.readKeyValuesToList());
            in.pipeInput("carol", null);
            assertEquals(List.of(KeyValue.pair("us", 1L)), out.readKeyValuesToList());
            assertEquals(1L, driver.<String, Long>getKeyValueStore("users-per-region").get("eu"));
        }
    }

    @Test
    void shouldReduceAndAggregateWithSubtractors() {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, Long> balances = builder.table("balances", Consumed.with(Serdes.String(), Serdes.Long()));
        balances.groupBy((account, amount) -> KeyValue.pair(account.substring(0, 1), amount), Grouped.with(Serdes.String(), Serdes.Long()))
            .reduce(Long::sum, (agg, v) -> agg - v, Materialized.as("totals"))
            .toStream().to("totals-out", Produced.with(Serdes.String(), Serdes.Long()));
        balances.groupBy((account, amount) -> KeyValue.pair("all", amount), Grouped.with("all", Serdes.String(), Serdes.Long()))
            .aggregate(() -> "", (k, v, agg) -> agg + "+" + v, (k, v, agg) -> agg + "-" + v,
                Materialized.<String, String, io.weir.streams.processor.StateStore>as("log").withValueSerde(Serdes.String()))
            .toStream().to("log-out", Produced.with(Serdes.String(), Serdes.String()));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, Long> in = driver.createInputTopic("balances", Serdes.String().serializer(), Serdes.Long().serializer());
            in.pipeInput("a1", 10L);
            in.pipeInput("a2", 5L);
            in.pipeInput("a1", 7L);
            in.pipeInput("b1", 1L);
            assertEquals(List.of(10L, 15L, 12L, 1L),
                driver.createOutputTopic("totals-out", Serdes.String().deserializer(), Serdes.Long().deserializer()).readValuesToList());
            assertEquals(List.of("+10", "+10+5", "+10+5-10+7", "+10+5-10+7+1"),
                driver.createOutputTopic("log-out", Serdes.String().deserializer(), Serdes.String().deserializer()).readValuesToList());
        }
    }
}
