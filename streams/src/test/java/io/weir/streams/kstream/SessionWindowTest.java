package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.kstream.internals.SessionWindow;
import io.weir.streams.serialization.Serde;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.SessionStore;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Session windows: sessions grow, merge, emit deletes for merged-away sessions, and close after grace. */
class SessionWindowTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "sess");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    @Test
    void shouldGrowMergeAndCloseSessions() {
        StreamsBuilder builder = new StreamsBuilder();
        Serde<Windowed<String>> sessionSerde = WindowedSerdes.sessionWindowedSerdeFrom(Serdes.String());
        builder.stream("in", Consumed.with(Serdes.String(), Serdes.String())).groupByKey()
            .windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(30)))
            .count(Materialized.as("sessions"))
            .toStream().to("out");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<Windowed<String>, Long> out = driver.createOutputTopic("out", sessionSerde.deserializer(),
                Serdes.Long().deserializer());
            in.pipeInput("a", "x", 0L);
            in.pipeInput("a", "x", 3_000L);
            in.pipeInput("a", "x", 20_000L);
            assertEquals(Arrays.asList(
                KeyValue.pair(session("a", 0, 0), 1L),
                KeyValue.pair(session("a", 0, 0), null),
                KeyValue.pair(session("a", 0, 3_000), 2L),
                KeyValue.pair(session("a", 20_000, 20_000), 1L)), out.readKeyValuesToList());
            in.pipeInput("a", "x", 10_000L);
            in.pipeInput("a", "x", 15_000L);
            assertEquals(Arrays.asList(
                KeyValue.pair(session("a", 10_000, 10_000), 1L),
                KeyValue.pair(session("a", 10_000, 10_000), null),
                KeyValue.pair(session("a", 20_000, 20_000), null),
                KeyValue.pair(session("a", 10_000, 20_000), 3L)), out.readKeyValuesToList());

            SessionStore<String, Long> store = driver.getSessionStore("sessions");
            List<String> sessions = new ArrayList<>();
            try (KeyValueIterator<Windowed<String>, Long> it = store.fetch("a")) {
                it.forEachRemaining(kv -> sessions.add(kv.key.window().start() + "-" + kv.key.window().end() + "=" + kv.value));
            }
            assertEquals(List.of("0-3000=2", "10000-20000=3"), sessions);
            assertNull(store.fetchSession("a", 20_000, 20_000));

            // stream time 60 s: with 30 s grace, sessions ending before 30 s are closed
            in.pipeInput("b", "x", 60_000L);
            out.readKeyValuesToList();
            in.pipeInput("a", "x", 21_000L);
            assertEquals(List.of(), out.readKeyValuesToList(), "a record for a closed session is dropped");
        }
    }

    private static Windowed<String> session(String key, long start, long end) {
        return new Windowed<>(key, new SessionWindow(start, end));
    }

    @Test
    void shouldReduceAndAggregateSessionsWithAMerger() {
        StreamsBuilder builder = new StreamsBuilder();
        KGroupedStream<String, String> grouped = builder.stream("in", Consumed.with(Serdes.String(), Serdes.String())).groupByKey();
        // grace keeps the first session retained (retention = gap + grace) so the late record can merge it
        grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(10)))
            .reduce((a, b) -> a + b)
            .toStream().filter((k, v) -> v != null).mapValues(v -> v).selectKey((k, v) -> k.key()).to("concat");
        grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(10)))
            .aggregate(() -> 0L, (k, v, agg) -> agg + v.length(), (k, a, b) -> a + b,
                Materialized.<String, Long, io.weir.streams.processor.StateStore>as("lengths").withValueSerde(Serdes.Long()))
            .toStream().filter((k, v) -> v != null).selectKey((k, v) -> k.key()).to("lengths", Produced.with(Serdes.String(), Serdes.Long()));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("a", "x", 0L);
            in.pipeInput("a", "yy", 8_000L);
            in.pipeInput("a", "zzz", 4_000L);
            assertEquals(List.of("x", "yy", "xyyzzz"),
                driver.createOutputTopic("concat", Serdes.String().deserializer(), Serdes.String().deserializer()).readValuesToList());
            assertEquals(List.of(1L, 2L, 6L),
                driver.createOutputTopic("lengths", Serdes.String().deserializer(), Serdes.Long().deserializer()).readValuesToList());
        }
    }
}
