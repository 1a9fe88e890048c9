package io.weir.streams.processor;

import io.weir.consumer.errors.RecordDeserializationException;
import io.weir.common.TopicPartition;
import io.weir.streams.KeyValue;
import io.weir.streams.StreamsConfig;
import io.weir.streams.Topology;
import io.weir.streams.errors.StreamsException;
import io.weir.streams.errors.TopologyException;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.Processor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.Record;
import io.weir.streams.processor.api.RecordMetadata;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.Stores;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessorApiTest {
    private static final Instant START = Instant.ofEpochMilli(1_000_000L);

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "papi");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class.getName());
        return p;
    }

    /** Sums values per key into a store, forwards the sum, and emits every sum at each punctuation. */
    private static final class Summer extends ContextualProcessor<String, Long, String, Long> {
        private final PunctuationType type;
        private KeyValueStore<String, Long> store;

        Summer(PunctuationType type) {
            this.type = type;
        }

        @Override
        public void init(ProcessorContext<String, Long> context) {
            super.init(context);
            store = context.getStateStore("sums");
            context.schedule(Duration.ofSeconds(10), type, ts -> {
                try (KeyValueIterator<String, Long> it = store.all()) {
                    while (it.hasNext()) {
                        KeyValue<String, Long> kv = it.next();
                        context.forward(new Record<>("punct:" + kv.key, kv.value, ts), "punctuations");
                    }
                }
            });
        }

        @Override
        public void process(Record<String, Long> record) {
            Long old = store.get(record.key());
            long sum = (old == null ? 0 : old) + record.value();
            store.put(record.key(), sum);
            context().forward(record.withValue(sum), "sums-out");
        }
    }

    private static Topology summing(PunctuationType type) {
        Topology t = new Topology();
        t.addSource("in", Serdes.String().deserializer(), Serdes.Long().deserializer(), "numbers");
        t.addProcessor("sum", () -> new Summer(type), "in");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("sums"), Serdes.String(), Serdes.Long()), "sum");
        t.addSink("sums-out", "sums", Serdes.String().serializer(), Serdes.Long().serializer(), "sum");
        t.addSink("punctuations", "punct", Serdes.String().serializer(), Serdes.Long().serializer(), "sum");
        return t;
    }

    @Test
    void shouldForwardToNamedChildrenAndKeepStateInTheStore() {
        try (TopologyTestDriver driver = new TopologyTestDriver(summing(PunctuationType.STREAM_TIME), props(), START)) {
            TestInputTopic<String, Long> in = driver.createInputTopic("numbers", Serdes.String().serializer(), Serdes.Long().serializer());
            TestOutputTopic<String, Long> sums = driver.createOutputTopic("sums", Serdes.String().deserializer(), Serdes.Long().deserializer());
            in.pipeInput("a", 1L, 5L);
            in.pipeInput("a", 2L, 6L);
            in.pipeInput("b", 5L, 7L);
            assertEquals(List.of(KeyValue.pair("a", 1L), KeyValue.pair("a", 3L), KeyValue.pair("b", 5L)), sums.readKeyValuesToList());
            KeyValueStore<String, Long> store = driver.getKeyValueStore("sums");
            assertEquals(3L, store.get("a"));
            assertEquals(2, store.approximateNumEntries());
            // the store's writes went to its changelog topic, named after the application id
            TestOutputTopic<String, Long> changelog = driver.createOutputTopic("papi-sums-changelog",
                Serdes.String().deserializer(), Serdes.Long().deserializer());
            assertEquals(List.of(KeyValue.pair("a", 1L), KeyValue.pair("a", 3L), KeyValue.pair("b", 5L)), changelog.readKeyValuesToList());
        }
    }

    @Test
    void shouldPunctuateOnStreamTimeOnlyWhenRecordsMoveIt() {
        try (TopologyTestDriver driver = new TopologyTestDriver(summing(PunctuationType.STREAM_TIME), props(), START)) {
            TestInputTopic<String, Long> in = driver.createInputTopic("numbers", Serdes.String().serializer(), Serdes.Long().serializer());
            TestOutputTopic<String, Long> punct = driver.createOutputTopic("punct", Serdes.String().deserializer(), Serdes.Long().deserializer());
            in.pipeInput("a", 1L, 1_000L);
            // the first record fires a stream-time schedule
            assertEquals(List.of(new io.weir.streams.test.TestRecord<>("punct:a", 1L, Instant.ofEpochMilli(1_000L))), punct.readRecordsToList());
            in.pipeInput("a", 1L, 9_999L);
            assertTrue(punct.isEmpty());
            driver.advanceWallClockTime(Duration.ofHours(1));
            assertTrue(punct.isEmpty(), "wall-clock time does not move stream time");
            in.pipeInput("b", 1L, 10_000L);
            assertEquals(List.of(KeyValue.pair("punct:a", 2L), KeyValue.pair("punct:b", 1L)), punct.readKeyValuesToList());
            // a record older than stream time does not move it
            in.pipeInput("c", 1L, 15_000L);
            in.pipeInput("c", 1L, 3_000L);
            assertTrue(punct.isEmpty());
            // a jump over several intervals fires once
            in.pipeInput("c", 1L, 55_000L);
            assertEquals(3, punct.readKeyValuesToList().size());
            in.pipeInput("c", 1L, 59_999L);
            assertTrue(punct.isEmpty());
        }
    }

    @Test
    void shouldPunctuateOnWallClockTimeOnlyWhenTheDriverAdvancesIt() {
        try (TopologyTestDriver driver = new TopologyTestDriver(summing(PunctuationType.WALL_CLOCK_TIME), props(), START)) {
            TestInputTopic<String, Long> in = driver.createInputTopic("numbers", Serdes.String().serializer(), Serdes.Long().serializer());
            TestOutputTopic<String, Long> punct = driver.createOutputTopic("punct", Serdes.String().deserializer(), Serdes.Long().deserializer());
            in.pipeInput("a", 4L, 100_000L);
            assertTrue(punct.isEmpty());
            driver.advanceWallClockTime(Duration.ofMillis(9_999));
            assertTrue(punct.isEmpty());
            driver.advanceWallClockTime(Duration.ofMillis(1));
            List<io.weir.streams.test.TestRecord<String, Long>> fired = punct.readRecordsToList();
            assertEquals(1, fired.size());
            assertEquals("punct:a", fired.get(0).key());
            assertEquals(START.toEpochMilli() + 10_000, fired.get(0).timestamp());
            driver.advanceWallClockTime(Duration.ofSeconds(35));
            assertEquals(1, punct.readKeyValuesToList().size(), "one punctuation however far the clock jumps");
        }
    }

    @Test
    void shouldExposeRecordMetadataAndTask() {
        List<String> seen = new ArrayList<>();
        Topology t = new Topology();
        t.addSource("in", "input");
        t.addProcessor("meta", () -> new Processor<String, String, Void, Void>() {
            private ProcessorContext<Void, Void> context;

            @Override
            public void init(ProcessorContext<Void, Void> context) {
                this.context = context;
            }

            @Override
            public void process(Record<String, String> record) {
                RecordMetadata m = context.recordMetadata().orElseThrow();
                seen.add(m.topic() + "/" + m.partition() + "/" + m.offset() + " " + context.taskId() + " "
                    + context.applicationId() + " " + context.currentStreamTimeMs());
            }
        }, "in");
        try (TopologyTestDriver driver = new TopologyTestDriver(t, props(), START)) {
            TestInputTopic<String, String> in = driver.createInputTopic("input", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("k", "v", 42L);
            in.pipeInput("k", "v", 7L);
        }
        assertEquals(List.of("input/0/0 0_0 papi 42", "input/0/1 0_0 papi 42"), seen);
    }

    @Test
    void shouldNameTopicPartitionAndOffsetWhenARecordCannotBeDeserialized() {
        try (TopologyTestDriver driver = new TopologyTestDriver(summing(PunctuationType.STREAM_TIME), props(), START)) {
            TestInputTopic<String, Long> good = driver.createInputTopic("numbers", Serdes.String().serializer(), Serdes.Long().serializer());
            TestInputTopic<String, String> bad = driver.createInputTopic("numbers", Serdes.String().serializer(), Serdes.String().serializer());
            good.pipeInput("a", 1L, 1L);
            good.pipeInput("a", 1L, 2L);
            StreamsException e = assertThrows(StreamsException.class, () -> bad.pipeInput("a", "not a long", 3L));
            assertTrue(e.getMessage().contains("topic numbers, partition 0, offset 2"), e.getMessage());
            RecordDeserializationException cause = assertInstanceOf(RecordDeserializationException.class, e.getCause());
            assertEquals(new TopicPartition("numbers", 0), cause.topicPartition());
            assertEquals(2, cause.offset());
        }
    }

    @Test
    void shouldSkipAnUndeserializableRecordAndSendItToTheDeadLetterTopicWhenConfigured() {
        Properties p = props();
        p.put(StreamsConfig.DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
            io.weir.streams.errors.LogAndContinueExceptionHandler.class.getName());
        p.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dlq");
        try (TopologyTestDriver driver = new TopologyTestDriver(summing(PunctuationType.STREAM_TIME), p, START)) {
            TestInputTopic<String, Long> good = driver.createInputTopic("numbers", Serdes.String().serializer(), Serdes.Long().serializer());
            TestInputTopic<String, String> bad = driver.createInputTopic("numbers", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> sums = driver.createOutputTopic("sums", Serdes.String().deserializer(), Serdes.Long().deserializer());
            good.pipeInput("a", 1L, 1L);
            bad.pipeInput("a", "not a long", 2L);
            good.pipeInput("a", 2L, 3L);
            assertEquals(List.of(1L, 3L), sums.readValuesToList());
            List<io.weir.streams.test.TestRecord<String, String>> dead =
                driver.createOutputTopic("dlq", Serdes.String().deserializer(), Serdes.String().deserializer()).readRecordsToList();
            assertEquals(1, dead.size());
            assertEquals("not a long", dead.get(0).value());
            java.util.Map<String, String> headers = new java.util.HashMap<>();
            dead.get(0).headers().forEach(h -> headers.put(h.key(), new String(h.value(), java.nio.charset.StandardCharsets.UTF_8)));
            assertEquals("numbers", headers.get("__streams.errors.topic"));
            assertEquals("0", headers.get("__streams.errors.partition"));
            assertEquals("1", headers.get("__streams.errors.offset"));
            // the skipped record's offset is committed: it is not read again after a restart
            var store = (io.weir.streams.processor.internals.TransactionalStateStore) driver.getStateStore("sums");
            assertEquals(java.util.Map.of(new TopicPartition("numbers", 0), 3L), store.committedOffsets());
        }
    }

    @Test
    void shouldRefuseAStoreThatIsNotConnected() {
        Topology t = new Topology();
        t.addSource("in", "input");
        t.addProcessor("p", () -> new ContextualProcessor<String, String, String, String>() {
            @Override
            public void init(ProcessorContext<String, String> context) {
                super.init(context);
                context.getStateStore("other");
            }

            @Override
            public void process(Record<String, String> record) {
            }
        }, "in");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("other"), null, null));
        StreamsException e = assertThrows(StreamsException.class, () -> new TopologyTestDriver(t, props(), START));
        assertTrue(e.getMessage().contains("p") && e.getMessage().contains("other"), e.getMessage());
    }

    @Test
    void shouldRejectBadTopologies() {
        Topology t = new Topology();
        t.addSource("in", "input");
        assertThrows(TopologyException.class, () -> t.addSource("in", "other"));
        assertThrows(TopologyException.class, () -> t.addSource("in2", "input"));
        assertThrows(TopologyException.class, () -> t.addSink("out", "x", "missing"));
        t.addSink("out", "x", "in");
        assertThrows(TopologyException.class, () -> t.addSink("out2", "y", "out"));
        assertThrows(TopologyException.class, () -> t.connectProcessorAndStateStores("in", "s"));
    }

    @Test
    void shouldSeeUncommittedWritesInReadsAndDropThemAndTheOutputWhenProcessingFails() {
        List<Long> streamTimes = new ArrayList<>();
        Topology t = new Topology();
        t.addSource("in", "input");
        t.addProcessor("p", () -> new ContextualProcessor<String, String, String, String>() {
            @Override
            public void process(Record<String, String> record) {
                KeyValueStore<String, String> s = context().getStateStore("kv");
                streamTimes.add(context().currentStreamTimeMs());
                s.put(record.key(), record.value());
                assertEquals(record.value(), s.get(record.key()));
                context().forward(record);
                if (record.value().equals("boom")) {
                    throw new IllegalStateException("boom");
                }
            }
        }, "in");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("kv"), Serdes.String(), Serdes.String()), "p");
        t.addSink("out", "output", "p");
        try (TopologyTestDriver driver = new TopologyTestDriver(t, props(), START)) {
            TestInputTopic<String, String> in = driver.createInputTopic("input", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, String> out = driver.createOutputTopic("output", Serdes.String().deserializer(), Serdes.String().deserializer());
            TestOutputTopic<String, String> changelog = driver.createOutputTopic("papi-kv-changelog",
                Serdes.String().deserializer(), Serdes.String().deserializer());
            in.pipeInput("k", "ok", 1L);
            StreamsException e = assertThrows(StreamsException.class, () -> in.pipeInput("k", "boom", 2_000L));
            assertTrue(e.getMessage().contains("offset 1"), e.getMessage());
            in.pipeInput("k2", "after", 3L);
            assertEquals(List.of(1L, 2_000L, 3L), streamTimes, "the aborted record's stream time was rolled back");
            KeyValueStore<String, String> kv = driver.getKeyValueStore("kv");
            assertEquals("ok", kv.get("k"), "the failed record's write was aborted");
            assertNull(kv.get("nope"));
            assertEquals(List.of("ok", "after"), out.readValuesToList(), "the failed record's output was aborted");
            assertEquals(List.of("ok", "after"), changelog.readValuesToList(), "so was its changelog record");
        }
    }
}
