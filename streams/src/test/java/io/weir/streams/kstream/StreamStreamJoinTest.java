package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.TopologyDescription;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TestRecord;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Windowed stream-stream joins: inner, left and outer, with late records and null results only after windows close. */
class StreamStreamJoinTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "ssj");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    private interface Join {
        KStream<String, String> apply(KStream<String, String> left, KStream<String, String> right, JoinWindows windows);
    }

    private static final JoinWindows WINDOWS = JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(2));

    private static final class Run implements AutoCloseable {
        final TopologyTestDriver driver;
        final TestInputTopic<String, String> left;
        final TestInputTopic<String, String> right;
        final TestOutputTopic<String, String> out;

        Run(Join join) {
            StreamsBuilder builder = new StreamsBuilder();
            join.apply(builder.stream("left"), builder.stream("right"), WINDOWS).to("out");
            driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0));
            left = driver.createInputTopic("left", Serdes.String().serializer(), Serdes.String().serializer());
            right = driver.createInputTopic("right", Serdes.String().serializer(), Serdes.String().serializer());
            out = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer());
        }

        List<String> read() {
            return out.readRecordsToList().stream().map(r -> r.key() + ":" + r.value() + "@" + r.timestamp()).toList();
        }

        @Override
        public void close() {
            driver.close();
        }
    }

    @Test
    void shouldJoinRecordsWithinTheWindowAtTheLaterTimestamp() {
        try (Run run = new Run((l, r, w) -> l.join(r, (a, b) -> a + "+" + b, w))) {
            run.left.pipeInput("a", "L1", 1_000L);
            run.right.pipeInput("a", "R1", 3_000L);
            run.right.pipeInput("b", "Rb", 3_000L);
            assertEquals(List.of("a:L1+R1@3000"), run.read());
            run.right.pipeInput("a", "R2", 10_000L);
            assertEquals(List.of(), run.read(), "10 s is more than 5 s after L1");
            run.left.pipeInput("a", "L2", 9_000L);
            assertEquals(List.of("a:L2+R2@10000"), run.read());
            // stream time 10 s, grace 2 s: a record at 7 s is late and dropped
            run.left.pipeInput("a", "L3", 7_000L);
            assertEquals(List.of(), run.read());
        }
    }

    @Test
    void shouldEmitUnpartneredLeftRecordsOnlyAfterTheirWindowCloses() {
        try (Run run = new Run((l, r, w) -> l.leftJoin(r, (a, b) -> a + "+" + b, w))) {
            run.left.pipeInput("a", "L1", 1_000L);
            run.left.pipeInput("b", "Lb", 1_000L);
            run.right.pipeInput("a", "R1", 4_000L);
            assertEquals(List.of("a:L1+R1@4000"), run.read());
            run.right.pipeInput("c", "Rc", 8_000L);
            assertEquals(List.of(), run.read(), "Lb's window [.., 6 s] + 2 s grace is still open at 8 s");
            run.right.pipeInput("c", "Rc2", 8_001L);
            assertEquals(List.of("b:Lb+null@1000"), run.read(), "right-only records are not emitted by a left join");
        }
    }

    @Test
    void shouldEmitUnpartneredRecordsOfBothSidesInAnOuterJoin() {
        try (Run run = new Run((l, r, w) -> l.outerJoin(r, (a, b) -> a + "+" + b, w))) {
            run.left.pipeInput("a", "L1", 0L);
            run.right.pipeInput("b", "Rb", 1_000L);
            run.left.pipeInput("c", "Lc", 6_999L);
            assertEquals(List.of(), run.read(), "L1 closes after 0 + 5 s + 2 s grace");
            run.left.pipeInput("c", "Lc2", 7_001L);
            // Rb (a right record) closes at 1 s + 5 s + 2 s
            assertEquals(List.of("a:L1+null@0"), run.read());
            run.left.pipeInput("d", "Ld", 20_000L);
            assertEquals(List.of("b:null+Rb@1000", "c:Lc+null@6999", "c:Lc2+null@7001"), run.read());
        }
    }

    @Test
    void shouldRepartitionARekeyedSideAndNameTheStores() {
        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, String> left = builder.<String, String>stream("left").selectKey((k, v) -> v);
        left.join(builder.stream("right"), (a, b) -> a + b, WINDOWS, StreamJoined.<String, String, String>as("pairs").withName("pair"))
            .to("out");
        TopologyDescription d = builder.build(props()).describe();
        assertTrue(d.sinkTopics().contains("ssj-pair-left-repartition"), d.toString());
        assertTrue(d.toString().contains("pairs-this-join-store") && d.toString().contains("pairs-other-join-store"), d.toString());
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            driver.createInputTopic("left", Serdes.String().serializer(), Serdes.String().serializer()).pipeInput("x", "k", 100L);
            driver.createInputTopic("right", Serdes.String().serializer(), Serdes.String().serializer()).pipeInput("k", "!", 200L);
            assertEquals(List.of(new TestRecord<>("k", "k!", Instant.ofEpochMilli(200))),
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer()).readRecordsToList());
        }
    }
}
