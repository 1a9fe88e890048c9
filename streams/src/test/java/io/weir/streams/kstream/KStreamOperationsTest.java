package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.FixedKeyProcessor;
import io.weir.streams.processor.api.FixedKeyProcessorContext;
import io.weir.streams.processor.api.FixedKeyRecord;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.Stores;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each stream operation through the test driver, with String keys and values by default. */
class KStreamOperationsTest {

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "ops");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    /** Builds with {@code job}, pipes {@code input} (key, value) into "in", and returns what reached "out". */
    private static List<KeyValue<String, String>> run(Consumer<KStream<String, String>> job, List<KeyValue<String, String>> input) {
        StreamsBuilder builder = new StreamsBuilder();
        job.accept(builder.stream("in"));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, String> out = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer());
            in.pipeKeyValueList(input);
            return out.readKeyValuesToList();
        }
    }

    private static final List<KeyValue<String, String>> INPUT = List.of(KeyValue.pair("a", "1"), KeyValue.pair("b", "22"),
        KeyValue.pair("c", "333"));

    @Test
    void shouldFilterAndFilterNot() {
        assertEquals(List.of(KeyValue.pair("b", "22"), KeyValue.pair("c", "333")),
            run(s -> s.filter((k, v) -> v.length() > 1).to("out"), INPUT));
        assertEquals(List.of(KeyValue.pair("a", "1")), run(s -> s.filterNot((k, v) -> v.length() > 1).to("out"), INPUT));
    }

    @Test
    void shouldMapKeysAndValues() {
        assertEquals(List.of(KeyValue.pair("1", "a"), KeyValue.pair("22", "b"), KeyValue.pair("333", "c")),
            run(s -> s.map((k, v) -> KeyValue.pair(v, k)).to("out"), INPUT));
        assertEquals(List.of(KeyValue.pair("a", "1!"), KeyValue.pair("b", "22!"), KeyValue.pair("c", "333!")),
            run(s -> s.mapValues(v -> v + "!").to("out"), INPUT));
        assertEquals(List.of(KeyValue.pair("a", "a1"), KeyValue.pair("b", "b22"), KeyValue.pair("c", "c333")),
            run(s -> s.mapValues((k, v) -> k + v).to("out"), INPUT));
        assertEquals(List.of(KeyValue.pair("1", "1"), KeyValue.pair("2", "22"), KeyValue.pair("3", "333")),
            run(s -> s.selectKey((k, v) -> String.valueOf(v.length())).to("out"), INPUT));
    }

    @Test
    void shouldFlatMap() {
        assertEquals(List.of(KeyValue.pair("b", "2"), KeyValue.pair("b", "2"), KeyValue.pair("c", "3"), KeyValue.pair("c", "3"),
                KeyValue.pair("c", "3")),
            run(s -> s.flatMapValues(v -> v.length() == 1 ? List.<String>of() : List.of(v.split(""))).to("out"), INPUT));
        assertEquals(List.of(KeyValue.pair("a", "1"), KeyValue.pair("a1", "1"), KeyValue.pair("b", "22"), KeyValue.pair("b1", "22")),
            run(s -> s.flatMap((k, v) -> List.of(KeyValue.pair(k, v), KeyValue.pair(k + "1", v))).to("out"),
                INPUT.subList(0, 2)));
    }

    @Test
    void shouldPeekAndForeach() {
        List<String> peeked = new ArrayList<>();
        List<String> each = new ArrayList<>();
        assertEquals(INPUT, run(s -> {
            s.peek((k, v) -> peeked.add(k)).to("out");
            s.foreach((k, v) -> each.add(v));
        }, INPUT));
        assertEquals(List.of("a", "b", "c"), peeked);
        assertEquals(List.of("1", "22", "333"), each);
    }

    @Test
    void shouldSendEachRecordToItsFirstMatchingBranch() {
        StreamsBuilder builder = new StreamsBuilder();
        Map<String, KStream<String, String>> branches = builder.<String, String>stream("in")
            .split(Named.as("len-"))
            .branch((k, v) -> v.length() == 1, Branched.as("one"))
            .branch((k, v) -> v.length() <= 2, Branched.withFunction(s -> s.mapValues(v -> v + "?"), "two"))
            .branch((k, v) -> v.startsWith("9"), Branched.withConsumer(s -> s.to("nines")))
            .defaultBranch();
        assertEquals(java.util.Set.of("len-one", "len-two", "len-0"), branches.keySet());
        branches.get("len-one").to("out-one");
        branches.get("len-two").to("out-two");
        branches.get("len-0").to("out-rest");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeKeyValueList(List.of(KeyValue.pair("a", "1"), KeyValue.pair("b", "22"), KeyValue.pair("c", "333"),
                KeyValue.pair("d", "9"), KeyValue.pair("e", "999")));
            assertEquals(List.of("1", "9"), out(driver, "out-one"));
            assertEquals(List.of("22?"), out(driver, "out-two"));
            assertEquals(List.of("999"), out(driver, "nines"));
            assertEquals(List.of("333"), out(driver, "out-rest"));
        }
    }

    @Test
    void shouldDropRecordsNoBranchTakesWithoutADefault() {
        StreamsBuilder builder = new StreamsBuilder();
        Map<String, KStream<String, String>> branches = builder.<String, String>stream("in").split()
            .branch((k, v) -> v.length() == 1).noDefaultBranch();
        assertEquals(1, branches.size());
        branches.values().iterator().next().to("out");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeKeyValueList(INPUT);
            assertEquals(List.of("1"), out(driver, "out"));
        }
    }

    private static List<String> out(TopologyTestDriver driver, String topic) {
        return driver.createOutputTopic(topic, Serdes.String().deserializer(), Serdes.String().deserializer()).readValuesToList();
    }

    @Test
    void shouldMergeTwoStreams() {
        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, String> left = builder.stream("left");
        KStream<String, String> right = builder.<String, String>stream("right").mapValues(v -> v.toUpperCase());
        left.merge(right).to("out");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> l = driver.createInputTopic("left", Serdes.String().serializer(), Serdes.String().serializer());
            TestInputTopic<String, String> r = driver.createInputTopic("right", Serdes.String().serializer(), Serdes.String().serializer());
            l.pipeInput("k", "x");
            r.pipeInput("k", "y");
            l.pipeInput("k", "z");
            assertEquals(List.of("x", "Y", "z"), out(driver, "out"));
        }
    }

    @Test
    void shouldRouteEachRecordToTheTopicTheExtractorPicks() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").to((k, v, ctx) -> "out-" + k + "-from-" + ctx.topic());
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeKeyValueList(List.of(KeyValue.pair("x", "1"), KeyValue.pair("y", "2"), KeyValue.pair("x", "3")));
            assertEquals(java.util.Set.of("out-x-from-in", "out-y-from-in"), driver.producedTopicNames());
            assertEquals(List.of("1", "3"), out(driver, "out-x-from-in"));
            assertEquals(List.of("2"), out(driver, "out-y-from-in"));
        }
    }

    @Test
    void shouldWriteWithTheProducedSerdes() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").mapValues(v -> (long) v.length()).to("lengths", Produced.with(Serdes.String(), Serdes.Long()));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer()).pipeKeyValueList(INPUT);
            assertEquals(List.of(1L, 2L, 3L),
                driver.createOutputTopic("lengths", Serdes.String().deserializer(), Serdes.Long().deserializer()).readValuesToList());
        }
    }

    @Test
    void shouldRunProcessorsWithStoresThroughProcessAndProcessValues() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("seen"), Serdes.String(), Serdes.Long()));
        builder.<String, String>stream("in")
            .processValues(() -> new FixedKeyProcessor<String, String, String>() {
                private FixedKeyProcessorContext<String, String> context;
                private KeyValueStore<String, Long> seen;

                @Override
                public void init(FixedKeyProcessorContext<String, String> context) {
                    this.context = context;
                    seen = context.getStateStore("seen");
                }

                @Override
                public void process(FixedKeyRecord<String, String> record) {
                    Long n = seen.get(record.key());
                    long next = n == null ? 1 : n + 1;
                    seen.put(record.key(), next);
                    context.forward(record.withValue(record.value() + "#" + next));
                }
            }, "seen")
            .process(() -> new ContextualProcessor<String, String, String, String>() {
                @Override
                public void process(Record<String, String> record) {
                    context().forward(record.withKey(record.value()).withValue(record.key()));
                }
            })
            .to("out");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeKeyValueList(List.of(KeyValue.pair("a", "x"), KeyValue.pair("a", "y"), KeyValue.pair("b", "z")));
            assertEquals(List.of(KeyValue.pair("x#1", "a"), KeyValue.pair("y#2", "a"), KeyValue.pair("z#1", "b")),
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer()).readKeyValuesToList());
            assertEquals(2L, driver.<String, Long>getKeyValueStore("seen").get("a"));
        }
    }

    @Test
    void shouldCarryHeadersAndTimestampsToTheOutput() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").mapValues(v -> v + "!").to("out");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            List<io.weir.common.record.Header> headers = List.of(new io.weir.common.record.Header("trace", new byte[] {7}));
            driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer())
                .pipeInput(new io.weir.streams.test.TestRecord<>("k", "v", headers, Instant.ofEpochMilli(1234)));
            io.weir.streams.test.TestRecord<String, String> out =
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer()).readRecord();
            assertEquals(new io.weir.streams.test.TestRecord<>("k", "v!", headers, Instant.ofEpochMilli(1234)), out);
        }
    }

    @Test
    void shouldNameTheMissingDefaultSerdeWhenANodeHasNone() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").to("out");
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "ops");
        io.weir.common.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
            io.weir.common.config.ConfigException.class, () -> new TopologyTestDriver(builder.build(), p, Instant.ofEpochMilli(0)));
        assertTrue(e.getMessage().contains(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG), e.getMessage());
    }

    @Test
    void shouldTakeEventTimeFromTheExtractorAndSkipRecordsItRejects() {
        StreamsBuilder builder = new StreamsBuilder();
        // "<ms>:<payload>" carries its own event time; anything else is rejected (-1)
        io.weir.streams.processor.TimestampExtractor fromValue = (topic, k, v, ts, partitionTime) -> {
            String s = (String) v;
            int colon = s.indexOf(':');
            return colon < 0 ? -1 : Long.parseLong(s.substring(0, colon));
        };
        builder.stream("in", Consumed.<String, String>with(fromValue)).to("out");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("k", "500:a", 9L);
            in.pipeInput("k", "junk", 9L);
            in.pipeInput("k", "700:b", 9L);
            List<io.weir.streams.test.TestRecord<String, String>> out =
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer()).readRecordsToList();
            assertEquals(List.of(500L, 700L), out.stream().map(io.weir.streams.test.TestRecord::timestamp).toList());
        }
        io.weir.streams.processor.UsePartitionTimeOnInvalidTimestamp partitionTime = new io.weir.streams.processor.UsePartitionTimeOnInvalidTimestamp();
        assertEquals(42L, partitionTime.extract("t", null, null, -1, 42));
        assertEquals(7L, partitionTime.extract("t", null, null, 7, 42));
        org.junit.jupiter.api.Assertions.assertThrows(io.weir.streams.errors.StreamsException.class,
            () -> new io.weir.streams.processor.FailOnInvalidTimestamp().extract("t", null, null, -1, 42));
    }

    @Test
    void shouldRepartitionExplicitly() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").selectKey((k, v) -> v)
            .repartition(Repartitioned.<String, String>as("rekeyed").withNumberOfPartitions(6)).to("out");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer()).pipeKeyValueList(INPUT);
            assertEquals(List.of(KeyValue.pair("1", "1"), KeyValue.pair("22", "22"), KeyValue.pair("333", "333")),
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer()).readKeyValuesToList());
            assertTrue(driver.producedTopicNames().contains("ops-rekeyed-repartition"));
            assertEquals(List.of(new io.weir.streams.processor.internals.InternalTopologyBuilder.InternalTopic("ops-rekeyed-repartition",
                    io.weir.streams.processor.internals.InternalTopologyBuilder.InternalTopic.Kind.REPARTITION, Map.of(), 6)),
                builder.build().internalTopologyBuilder().internalTopics());
        }
    }
}
