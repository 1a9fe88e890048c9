package io.weir.examples;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsConfig;
import io.weir.streams.TopologyDescription;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link WordCount} through the topology test driver: every line's words, counted, each new count out. */
class WordCountTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "wordcount");
        return p;
    }

    @Test
    void shouldEmitARunningCountPerWordInLowerCase() {
        try (TopologyTestDriver driver = new TopologyTestDriver(new WordCount().topology(props()), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> lines = driver.createInputTopic(WordCount.DEFAULT_INPUT,
                Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> counts = driver.createOutputTopic(WordCount.DEFAULT_OUTPUT,
                Serdes.String().deserializer(), Serdes.Long().deserializer());

            lines.pipeInput("Hello Weir, hello!");
            lines.pipeInput("l2", "  weir   STREAMS ");
            lines.pipeInput("l3", "...");
            assertEquals(List.of(KeyValue.pair("hello", 1L), KeyValue.pair("weir", 1L), KeyValue.pair("hello", 2L),
                KeyValue.pair("weir", 2L), KeyValue.pair("streams", 1L)), counts.readKeyValuesToList());

            KeyValueStore<String, Long> store = driver.getKeyValueStore(WordCount.STORE);
            assertEquals(2L, store.get("hello"));
            assertEquals(1L, store.get("streams"));
            assertNull(store.get(""), "blank words are not counted");
        }
    }

    @Test
    void shouldReadItsTopicsFromTheConfigAndRepartitionByWord() {
        Properties p = props();
        p.put(WordCount.INPUT_TOPIC_CONFIG, "in");
        p.put(WordCount.OUTPUT_TOPIC_CONFIG, "out");
        TopologyDescription d = new WordCount().topology(p).describe();
        assertEquals(List.of("out", "wordcount-words-by-word-repartition").stream().sorted().toList(),
            d.sinkTopics().stream().sorted().toList(), d.toString());
        try (TopologyTestDriver driver = new TopologyTestDriver(new WordCount().topology(p), p, Instant.ofEpochMilli(0))) {
            driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer()).pipeInput("a b a");
            assertEquals(List.of(KeyValue.pair("a", 1L), KeyValue.pair("b", 1L), KeyValue.pair("a", 2L)),
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.Long().deserializer()).readKeyValuesToList());
            assertTrue(driver.producedTopicNames().contains("wordcount-" + WordCount.STORE + "-changelog"),
                driver.producedTopicNames().toString());
        }
    }
}
