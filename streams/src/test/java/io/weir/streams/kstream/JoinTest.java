package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.TopologyDescription;
import io.weir.streams.errors.TopologyException;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stream-table and table-table joins through the driver. */
class JoinTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "join");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    private static TestInputTopic<String, String> in(TopologyTestDriver driver, String topic) {
        return driver.createInputTopic(topic, Serdes.String().serializer(), Serdes.String().serializer());
    }

    private static TestOutputTopic<String, String> out(TopologyTestDriver driver) {
        return driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer());
    }

    @Test
    void shouldEnrichStreamRecordsWithTheTableValueAtArrival() {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, String> users = builder.table("users", Materialized.as("users"));
        KStream<String, String> clicks = builder.stream("clicks");
        clicks.join(users, (click, user) -> click + " by " + user).to("out");
        clicks.leftJoin(users, (click, user) -> click + " by " + user).to("out-left");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            in(driver, "clicks").pipeInput("u1", "c0");
            in(driver, "users").pipeInput("u1", "alice");
            in(driver, "clicks").pipeInput("u1", "c1");
            in(driver, "users").pipeInput("u1", "alicia");
            in(driver, "clicks").pipeInput("u1", "c2");
            in(driver, "users").pipeInput("u1", null);
            in(driver, "clicks").pipeInput("u1", "c3");
            assertEquals(List.of("c1 by alice", "c2 by alicia"), out(driver).readValuesToList());
            assertEquals(List.of("c0 by null", "c1 by alice", "c2 by alicia", "c3 by null"),
                driver.createOutputTopic("out-left", Serdes.String().deserializer(), Serdes.String().deserializer()).readValuesToList());
        }
    }

    @Test
    void shouldRepartitionARekeyedStreamBeforeTheJoinAndKeepOneSubtopologyForTheJoin() {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, String> users = builder.table("users", Materialized.as("users"));
        builder.<String, String>stream("clicks").selectKey((k, v) -> v.split(":")[0])
            .join(users, (click, user) -> user + "/" + click, Joined.as("enrich")).to("out");
        TopologyDescription d = builder.build(props()).describe();
        assertTrue(d.sinkTopics().contains("join-enrich-left-repartition"), d.toString());
        assertEquals(2, d.subtopologies().size(), d.toString());
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            in(driver, "users").pipeInput("u1", "alice");
            in(driver, "clicks").pipeInput("x", "u1:home");
            assertEquals(List.of(KeyValue.pair("u1", "alice/u1:home")), out(driver).readKeyValuesToList());
        }
    }

    @Test
    void shouldRefuseToJoinATableThatHasNoStore() {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, String> filtered = builder.<String, String>table("users").filter((k, v) -> true);
        KStream<String, String> clicks = builder.stream("clicks");
        TopologyException e = assertThrows(TopologyException.class, () -> clicks.join(filtered, (a, b) -> a));
        assertTrue(e.getMessage().contains("Materialized"), e.getMessage());
    }

    private static List<KeyValue<String, String>> tableJoin(String kind) {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, String> left = builder.table("left");
        KTable<String, String> right = builder.table("right");
        ValueJoiner<String, String, String> joiner = (l, r) -> l + "+" + r;
        KTable<String, String> joined = switch (kind) {
            case "inner" -> left.join(right, joiner, Named.as("j"), Materialized.as("joined"));
            case "left" -> left.leftJoin(right, joiner);
            default -> left.outerJoin(right, joiner);
        };
        joined.toStream().to("out");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            in(driver, "left").pipeInput("k", "a");
            in(driver, "right").pipeInput("k", "x");
            in(driver, "left").pipeInput("k", "b");
            in(driver, "right").pipeInput("k", null);
            in(driver, "left").pipeInput("k", null);
            in(driver, "right").pipeInput("k", "y");
            if (kind.equals("inner")) {
                assertEquals(null, driver.<String, String>getKeyValueStore("joined").get("k"));
            }
            return out(driver).readKeyValuesToList();
        }
    }

    @Test
    void shouldJoinTwoTablesInnerLeftAndOuter() {
        assertEquals(Arrays.asList(KeyValue.pair("k", "a+x"), KeyValue.pair("k", "b+x"), KeyValue.pair("k", (String) null)),
            tableJoin("inner"));
        assertEquals(Arrays.asList(KeyValue.pair("k", "a+null"), KeyValue.pair("k", "a+x"), KeyValue.pair("k", "b+x"),
            KeyValue.pair("k", "b+null"), KeyValue.pair("k", (String) null)), tableJoin("left"));
        assertEquals(Arrays.asList(KeyValue.pair("k", "a+null"), KeyValue.pair("k", "a+x"), KeyValue.pair("k", "b+x"),
            KeyValue.pair("k", "b+null"), KeyValue.pair("k", (String) null), KeyValue.pair("k", "null+y")), tableJoin("outer"));
    }
}
