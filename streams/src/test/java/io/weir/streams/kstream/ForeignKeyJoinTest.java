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
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Foreign-key table joins: orders keyed by order id join customers by the customer id in the order. */
class ForeignKeyJoinTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "fk");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    private static List<KeyValue<String, String>> run(boolean leftJoin) {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, String> orders = builder.table("orders", Materialized.as("orders"));
        KTable<String, String> customers = builder.table("customers", Materialized.as("customers"));
        ValueJoiner<String, String, String> joiner = (order, customer) -> order.split(":")[1] + " for " + customer;
        (leftJoin ? orders.leftJoin(customers, order -> order.split(":")[0], joiner)
            : orders.join(customers, order -> order.split(":")[0], joiner)).toStream().to("out");
        TopologyDescription d = builder.build(props()).describe();
        assertTrue(d.sinkTopics().stream().anyMatch(t -> t.startsWith("fk-KTABLE-FK-JOIN-") && t.endsWith("-subscription-registration-topic")),
            d.toString());
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> o = driver.createInputTopic("orders", Serdes.String().serializer(), Serdes.String().serializer());
            TestInputTopic<String, String> c = driver.createInputTopic("customers", Serdes.String().serializer(), Serdes.String().serializer());
            o.pipeInput("o1", "c1:book");        // no customer yet
            c.pipeInput("c1", "alice");           // the customer arrives: o1 joins
            o.pipeInput("o2", "c1:pen");
            c.pipeInput("c1", "alicia");          // a customer update reaches every order that points at it
            o.pipeInput("o1", "c2:book");         // o1 moves to a customer that does not exist
            c.pipeInput("c2", "bob");
            c.pipeInput("c1", null);              // customer c1 is deleted
            o.pipeInput("o1", null);              // order o1 is deleted
            return driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer()).readKeyValuesToList();
        }
    }

    @Test
    void shouldJoinRowsByForeignKeyAndFollowUpdatesOnBothSides() {
        // as in Kafka Streams, an inner join answers a row whose foreign row is missing with a delete
        assertEquals(Arrays.asList(
            KeyValue.pair("o1", (String) null),
            KeyValue.pair("o1", "book for alice"),
            KeyValue.pair("o2", "pen for alice"),
            KeyValue.pair("o1", "book for alicia"),
            KeyValue.pair("o2", "pen for alicia"),
            KeyValue.pair("o1", (String) null),
            KeyValue.pair("o1", "book for bob"),
            KeyValue.pair("o2", (String) null),
            KeyValue.pair("o1", (String) null)), run(false));
    }

    @Test
    void shouldKeepRowsWithoutAForeignRowInALeftJoin() {
        assertEquals(Arrays.asList(
            KeyValue.pair("o1", "book for null"),
            KeyValue.pair("o1", "book for alice"),
            KeyValue.pair("o2", "pen for alice"),
            KeyValue.pair("o1", "book for alicia"),
            KeyValue.pair("o2", "pen for alicia"),
            KeyValue.pair("o1", "book for null"),
            KeyValue.pair("o1", "book for bob"),
            KeyValue.pair("o2", "pen for null"),
            KeyValue.pair("o1", (String) null)), run(true));
    }
}
