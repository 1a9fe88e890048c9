package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.Topology;
import io.weir.streams.TopologyDescription;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WordCountTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "wordcount");
        return p;
    }

    private static Topology wordCount(Properties props) {
        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, String> lines = builder.stream("lines", Consumed.with(Serdes.String(), Serdes.String()));
        lines.flatMapValues(line -> Arrays.asList(line.toLowerCase().split("\\W+")))
            .groupBy((key, word) -> word, Grouped.with("by-word", Serdes.String(), Serdes.String()))
            .count(Materialized.as("counts"))
            .toStream()
            .to("word-counts", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build(props);
    }

    @Test
    void shouldCountWordsThroughTheRepartitionTopic() {
        try (TopologyTestDriver driver = new TopologyTestDriver(wordCount(props()), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> lines = driver.createInputTopic("lines", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> counts = driver.createOutputTopic("word-counts",
                Serdes.String().deserializer(), Serdes.Long().deserializer());
            lines.pipeInput("l1", "Hello Weir hello");
            lines.pipeInput("l2", "weir streams");
            assertEquals(List.of(KeyValue.pair("hello", 1L), KeyValue.pair("weir", 1L), KeyValue.pair("hello", 2L),
                KeyValue.pair("weir", 2L), KeyValue.pair("streams", 1L)), counts.readKeyValuesToList());
            lines.pipeInput("l3", "hello");
            assertEquals(Map.of("hello", 3L), counts.readKeyValuesToMap());

            KeyValueStore<String, Long> store = driver.getKeyValueStore("counts");
            assertEquals(3L, store.get("hello"));
            assertNull(store.get("nope"));
            List<String> keys = new ArrayList<>();
            try (KeyValueIterator<String, Long> it = store.all()) {
                it.forEachRemaining(kv -> keys.add(kv.key));
            }
            assertEquals(List.of("hello", "streams", "weir"), keys);
            // the words really went through the repartition topic, keyed by word
            assertTrue(driver.producedTopicNames().contains("wordcount-by-word-repartition"), driver.producedTopicNames().toString());
        }
    }

    /** The example of streams/README.md, as written there. */
    @Test
    void shouldRunTheReadmeExample() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("lines", Consumed.with(Serdes.String(), Serdes.String()))
            .flatMapValues(line -> Arrays.asList(line.toLowerCase().split("\\W+")))
            .groupBy((key, word) -> word, Grouped.with("by-word", Serdes.String(), Serdes.String()))
            .count(Materialized.as("counts"))
            .toStream()
            .to("word-counts", Produced.with(Serdes.String(), Serdes.Long()));

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "wordcount");
        Topology topology = builder.build(props);
        assertTrue(topology.describe().toString().contains("wordcount-by-word-repartition"));

        try (TopologyTestDriver driver = new TopologyTestDriver(topology, props, Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> lines =
                driver.createInputTopic("lines", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> counts =
                driver.createOutputTopic("word-counts", Serdes.String().deserializer(), Serdes.Long().deserializer());

            lines.pipeInput("l1", "Hello Weir hello");
            lines.pipeInput("l2", "weir streams");
            assertEquals(Map.of("hello", 2L, "weir", 2L, "streams", 1L), counts.readKeyValuesToMap());

            KeyValueStore<String, Long> store = driver.getKeyValueStore("counts");
            assertEquals(2L, store.get("hello"));

            driver.advanceWallClockTime(Duration.ofSeconds(30));
        }
    }

    @Test
    void shouldCommitTheStoreWithTheInputOffsetsOfEveryTopicItConsumed() {
        try (TopologyTestDriver driver = new TopologyTestDriver(wordCount(props()), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> lines = driver.createInputTopic("lines", Serdes.String().serializer(), Serdes.String().serializer());
            lines.pipeInput("l1", "a b");
            lines.pipeInput("l2", "c");
            var store = (io.weir.streams.processor.internals.TransactionalStateStore) driver.getStateStore("counts");
            assertEquals(Map.of(new io.weir.common.TopicPartition("lines", 0), 2L,
                new io.weir.common.TopicPartition("wordcount-by-word-repartition", 0), 3L), store.committedOffsets());
        }
    }

    @Test
    void shouldNameTheRepartitionAndChangelogTopicsAfterTheApplicationId() {
        Topology topology = wordCount(props());
        TopologyDescription d = topology.describe();
        assertEquals(2, d.subtopologies().size(), d.toString());
        assertTrue(d.sinkTopics().contains("wordcount-by-word-repartition"), d.toString());
        TopologyDescription.Node source = d.subtopologies().get(1).nodes().get(0);
        assertEquals(TopologyDescription.NodeType.SOURCE, source.type());
        assertEquals(List.of("wordcount-by-word-repartition"), source.topics());
        assertTrue(d.toString().contains("Sink: by-word-repartition-sink (topic: wordcount-by-word-repartition)"), d.toString());
        assertTrue(d.toString().contains("(stores: [counts])"), d.toString());
        assertEquals(Map.of(0, java.util.Set.of("lines"), 1, java.util.Set.of("wordcount-by-word-repartition")),
            topology.internalTopologyBuilder().sourceTopicsBySubtopology());
        var topics = topology.internalTopologyBuilder().internalTopics();
        assertTrue(topics.stream().anyMatch(t -> t.name().equals("wordcount-counts-changelog")
            && "compact".equals(t.configs().get("cleanup.policy"))), topics.toString());
    }

    @Test
    void shouldNameAnUnnamedRepartitionAfterTheStore() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").selectKey((k, v) -> v).groupByKey().count(Materialized.as("by-value"));
        TopologyDescription d = builder.build(props()).describe();
        assertTrue(d.sinkTopics().contains("wordcount-by-value-repartition"), d.toString());
    }

    @Test
    void shouldNotRepartitionWhenTheKeyIsUnchanged() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").filter((k, v) -> true).mapValues(v -> v).groupByKey().count();
        TopologyDescription d = builder.build(props()).describe();
        assertEquals(1, d.subtopologies().size(), d.toString());
        assertTrue(d.sinkTopics().isEmpty(), d.toString());
    }
}
