package io.weir.streams.kstream;

import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.Topology;
import io.weir.streams.TopologyDescription;
import io.weir.streams.errors.TopologyException;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.Processor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.Stores;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Global tables: filled from their topic, joined on a computed key, readable from any processor. */
class GlobalTableTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "gt");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    @Test
    void shouldJoinAStreamWithAGlobalTableOnAComputedKey() {
        StreamsBuilder builder = new StreamsBuilder();
        GlobalKTable<String, String> users = builder.globalTable("users", Materialized.as("users"));
        KStream<String, String> clicks = builder.stream("clicks");
        clicks.join(users, (clickId, click) -> click.split(":")[0], (click, user) -> user + " saw " + click.split(":")[1]).to("out");
        clicks.leftJoin(users, (clickId, click) -> click.split(":")[0], (click, user) -> user + "/" + click).to("out-left");
        Topology topology = builder.build(props());
        TopologyDescription d = topology.describe();
        assertEquals(1, d.subtopologies().size(), d.toString());
        assertEquals(2, d.globalStoreNodes().size(), d.toString());
        assertTrue(topology.internalTopologyBuilder().internalTopics().isEmpty(), "a global store's topic is its changelog");
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> userIn = driver.createInputTopic("users", Serdes.String().serializer(), Serdes.String().serializer());
            TestInputTopic<String, String> clickIn = driver.createInputTopic("clicks", Serdes.String().serializer(), Serdes.String().serializer());
            clickIn.pipeInput("c1", "u1:home");
            userIn.pipeInput("u1", "alice");
            clickIn.pipeInput("c2", "u1:cart");
            clickIn.pipeInput("c3", "u2:home");
            assertEquals(List.of("alice saw cart"),
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer()).readValuesToList());
            assertEquals(List.of("null/u1:home", "alice/u1:cart", "null/u2:home"),
                driver.createOutputTopic("out-left", Serdes.String().deserializer(), Serdes.String().deserializer()).readValuesToList());
            assertEquals("alice", driver.<String, String>getKeyValueStore("users").get("u1"));
        }
    }

    @Test
    void shouldLetEveryProcessorReadAGlobalStoreWithoutConnectingIt() {
        Topology t = new Topology();
        t.addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("rates"), Serdes.String(), Serdes.Long()),
            "rates-source", Serdes.String().deserializer(), Serdes.Long().deserializer(), "rates", "rates-updater",
            () -> new Processor<String, Long, Void, Void>() {
                private KeyValueStore<String, Long> store;

                @Override
                public void init(ProcessorContext<Void, Void> context) {
                    store = context.getStateStore("rates");
                }

                @Override
                public void process(Record<String, Long> record) {
                    store.put(record.key(), record.value());
                }
            });
        t.addSource("in", Serdes.String().deserializer(), Serdes.Long().deserializer(), "amounts");
        t.addProcessor("convert", () -> new ContextualProcessor<String, Long, String, Long>() {
            @Override
            public void process(Record<String, Long> record) {
                KeyValueStore<String, Long> rates = context().getStateStore("rates");
                Long rate = rates.get(record.key());
                context().forward(record.withValue(rate == null ? -1 : record.value() * rate));
            }
        }, "in");
        t.addSink("out", "converted", Serdes.String().serializer(), Serdes.Long().serializer(), "convert");
        assertThrows(TopologyException.class, () -> t.connectProcessorAndStateStores("convert", "rates"));
        try (TopologyTestDriver driver = new TopologyTestDriver(t, props(), Instant.ofEpochMilli(0))) {
            driver.createInputTopic("rates", Serdes.String().serializer(), Serdes.Long().serializer()).pipeInput("eur", 3L);
            TestInputTopic<String, Long> amounts = driver.createInputTopic("amounts", Serdes.String().serializer(), Serdes.Long().serializer());
            amounts.pipeInput("eur", 5L);
            amounts.pipeInput("usd", 5L);
            assertEquals(List.of(15L, -1L),
                driver.createOutputTopic("converted", Serdes.String().deserializer(), Serdes.Long().deserializer()).readValuesToList());
        }
    }
}
