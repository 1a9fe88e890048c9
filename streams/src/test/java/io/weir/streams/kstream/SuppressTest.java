package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.errors.TopologyException;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** suppress(untilWindowCloses): one final result per window, when stream time passes end + grace. */
class SuppressTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "sup");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    @Test
    void shouldEmitOneFinalCountPerWindowOnceItCloses() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in", Consumed.with(Serdes.String(), Serdes.String())).groupByKey()
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(5)))
            .count()
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()).withName("final"))
            .toStream()
            .map((w, n) -> KeyValue.pair(w.key() + "@" + w.window().start(), n))
            .to("out", Produced.with(Serdes.String(), Serdes.Long()));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> out = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.Long().deserializer());
            in.pipeInput("a", "x", 1_000L);
            in.pipeInput("a", "x", 2_000L);
            in.pipeInput("b", "x", 3_000L);
            in.pipeInput("a", "x", 12_000L);
            assertTrue(out.isEmpty(), "window [0, 10 s) is open until 15 s");
            in.pipeInput("a", "x", 4_000L);
            assertTrue(out.isEmpty());
            in.pipeInput("c", "x", 15_000L);
            assertEquals(List.of(KeyValue.pair("a@0", 3L), KeyValue.pair("b@0", 1L)), out.readKeyValuesToList());
            in.pipeInput("c", "x", 40_000L);
            assertEquals(List.of(KeyValue.pair("a@10000", 1L), KeyValue.pair("c@10000", 1L)), out.readKeyValuesToList());
            // the buffer is a changelogged store
            assertTrue(driver.producedTopicNames().contains("sup-final-store-changelog"), driver.producedTopicNames().toString());
        }
    }

    @Test
    void shouldRefuseToSuppressATableThatIsNotWindowed() {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, Long> counts = builder.<String, String>stream("in").groupByKey().count();
        assertThrows(TopologyException.class, () -> counts.suppress((Suppressed) Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded())));
    }
}
