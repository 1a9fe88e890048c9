package io.weir.examples;

import io.weir.streams.KeyValue;
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

/**
 * {@link OrderEnrichment} through the topology test driver: orders re-keyed by customer through one
 * repartition topic, left-joined with the customers table as it is when the order arrives, keyed by order
 * id again; an unknown (or deleted) customer is visible as such.
 */
class OrderEnrichmentTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "enrich");
        return p;
    }

    @Test
    void shouldEnrichOrdersWithTheirCustomerAndShowUnknownCustomers() {
        try (TopologyTestDriver driver = new TopologyTestDriver(new OrderEnrichment().topology(props()), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> customers = driver.createInputTopic(OrderEnrichment.DEFAULT_CUSTOMERS,
                Serdes.String().serializer(), Serdes.String().serializer());
            TestInputTopic<String, String> orders = driver.createInputTopic(OrderEnrichment.DEFAULT_ORDERS,
                Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, String> enriched = driver.createOutputTopic(OrderEnrichment.DEFAULT_OUTPUT,
                Serdes.String().deserializer(), Serdes.String().deserializer());

            customers.pipeInput("c1", "Alice, Berlin");
            orders.pipeInput("o1", "c1,2 x book");
            orders.pipeInput("o2", "c9,1 x lamp");
            assertEquals(List.of(KeyValue.pair("o1", "o1,c1,2 x book,Alice, Berlin"),
                KeyValue.pair("o2", "o2,c9,1 x lamp," + OrderEnrichment.UNKNOWN_CUSTOMER)), enriched.readKeyValuesToList());

            customers.pipeInput("c9", "Bob, Oslo");
            assertTrue(enriched.isEmpty(), "a table update re-emits no order");
            orders.pipeInput("o3", "c9,3 x pen");
            customers.pipeInput("c1", "Alice, Hamburg");
            orders.pipeInput("o4", "c1,1 x mug");
            customers.pipeInput("c1", null);                  // the customer is deleted
            orders.pipeInput("o5", "c1,1 x cup");
            orders.pipeInput("o6", "no customer id");         // malformed: dropped
            assertEquals(List.of(KeyValue.pair("o3", "o3,c9,3 x pen,Bob, Oslo"), KeyValue.pair("o4", "o4,c1,1 x mug,Alice, Hamburg"),
                KeyValue.pair("o5", "o5,c1,1 x cup," + OrderEnrichment.UNKNOWN_CUSTOMER)), enriched.readKeyValuesToList());
            assertEquals("Bob, Oslo", driver.<String, String>getKeyValueStore(OrderEnrichment.CUSTOMERS_STORE).get("c9"));
        }
    }

    @Test
    void shouldRepartitionTheOrdersByCustomerOnceThroughTheNamedTopic() {
        Properties p = props();
        p.put(OrderEnrichment.ORDERS_TOPIC_CONFIG, "o");
        p.put(OrderEnrichment.CUSTOMERS_TOPIC_CONFIG, "c");
        p.put(OrderEnrichment.OUTPUT_TOPIC_CONFIG, "e");
        TopologyDescription d = new OrderEnrichment().topology(p).describe();
        assertEquals(List.of("e", "enrich-orders-by-customer-repartition"), d.sinkTopics().stream().sorted().toList(), d.toString());
        assertEquals(2, d.subtopologies().size(), d.toString());
        try (TopologyTestDriver driver = new TopologyTestDriver(new OrderEnrichment().topology(p), p, Instant.ofEpochMilli(0))) {
            driver.createInputTopic("c", Serdes.String().serializer(), Serdes.String().serializer()).pipeInput("c1", "Alice");
            driver.createInputTopic("o", Serdes.String().serializer(), Serdes.String().serializer()).pipeInput("o1", "c1,tea");
            assertEquals(List.of(KeyValue.pair("o1", "o1,c1,tea,Alice")),
                driver.createOutputTopic("e", Serdes.String().deserializer(), Serdes.String().deserializer()).readKeyValuesToList());
        }
    }
}
