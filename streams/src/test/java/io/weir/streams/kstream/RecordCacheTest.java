package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.Topology;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.Stores;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Record caches through the driver, which flushes them after each record it processes (as Kafka's driver
 * commits after each): the updates of one key made while processing one record reach the changelog and
 * the downstream nodes once, as the latest value; with caching off, or a cache of 0 bytes, every update does.
 */
class RecordCacheTest {
    private static final String CHANGELOG = "cache-counts-changelog";

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "cache");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    /** Each input value is a list of words; the job counts words per input key (no repartition). */
    private static Topology wordsPerKey(Materialized<String, Long, io.weir.streams.processor.StateStore> materialized) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in")
            .flatMapValues(v -> Arrays.asList(v.split(" ")))
            .groupByKey()
            .count(materialized)
            .toStream()
            .to("out", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build();
    }

    private static List<KeyValue<String, Long>> run(Topology topology, Properties props, List<KeyValue<String, String>> input,
                                                    List<KeyValue<String, Long>> changelogOut) {
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, props, Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeKeyValueList(input);
            changelogOut.addAll(driver.createOutputTopic(CHANGELOG, Serdes.String().deserializer(), Serdes.Long().deserializer())
                .readKeyValuesToList());
            KeyValueStore<String, Long> store = driver.getKeyValueStore("counts");
            assertEquals(3L + 2L, store.get("u1"), "the store holds the latest count");
            return driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.Long().deserializer()).readKeyValuesToList();
        }
    }

    private static final List<KeyValue<String, String>> INPUT = List.of(KeyValue.pair("u1", "a b c"), KeyValue.pair("u2", "x"),
        KeyValue.pair("u1", "d e"));

    @Test
    void shouldForwardAndLogEachKeyOncePerFlushWhenCaching() {
        List<KeyValue<String, Long>> changelog = new ArrayList<>();
        List<KeyValue<String, Long>> out = run(wordsPerKey(Materialized.as("counts")), props(), INPUT, changelog);
        // three updates of u1 in the first record come out as one; the counting read the cached counts
        List<KeyValue<String, Long>> expected = List.of(KeyValue.pair("u1", 3L), KeyValue.pair("u2", 1L), KeyValue.pair("u1", 5L));
        assertEquals(expected, out);
        assertEquals(expected, changelog);
    }

    @Test
    void shouldForwardAndLogEveryUpdateWithCachingDisabled() {
        List<KeyValue<String, Long>> changelog = new ArrayList<>();
        List<KeyValue<String, Long>> out = run(wordsPerKey(Materialized.<String, Long, io.weir.streams.processor.StateStore>as("counts")
            .withCachingDisabled()), props(), INPUT, changelog);
        List<KeyValue<String, Long>> expected = List.of(KeyValue.pair("u1", 1L), KeyValue.pair("u1", 2L), KeyValue.pair("u1", 3L),
            KeyValue.pair("u2", 1L), KeyValue.pair("u1", 4L), KeyValue.pair("u1", 5L));
        assertEquals(expected, out);
        assertEquals(expected, changelog);
    }

    @Test
    void shouldWriteThroughWithACacheOfZeroBytes() {
        List<KeyValue<String, Long>> expected = List.of(KeyValue.pair("u1", 1L), KeyValue.pair("u1", 2L), KeyValue.pair("u1", 3L),
            KeyValue.pair("u2", 1L), KeyValue.pair("u1", 4L), KeyValue.pair("u1", 5L));
        Properties p = props();
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        assertEquals(expected, run(wordsPerKey(Materialized.as("counts")), p, INPUT, new ArrayList<>()));
        Properties deprecated = props();
        deprecated.put(StreamsConfig.CACHE_MAX_BYTES_BUFFERING_CONFIG, "0");
        assertEquals(expected, run(wordsPerKey(Materialized.as("counts")), deprecated, INPUT, new ArrayList<>()),
            "the deprecated cache.max.bytes.buffering is read when statestore.cache.max.bytes is absent");
    }

    @Test
    void shouldRefuseANegativeCacheSize() {
        Properties p = props();
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "-1");
        assertThrows(io.weir.common.config.ConfigException.class,
            () -> new TopologyTestDriver(wordsPerKey(Materialized.as("counts")), p).close());
    }

    @Test
    void shouldForwardTheTableSourceOncePerKeyAndFlush() {
        // a table fed by a stream that writes one key three times while processing one record
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in")
            .flatMapValues(v -> Arrays.asList(v.split(" ")))
            .toTable(Materialized.as("latest"))
            .toStream()
            .to("out");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer()).pipeInput("k", "a b c");
            assertEquals(List.of(KeyValue.pair("k", "c")),
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer()).readKeyValuesToList());
        }
    }

    /** A Processor API store with caching: writes and deletes, then reads through get and a range in the same record. */
    @Test
    void shouldReadCachedWritesAndDeletesThroughGetAndRanges() {
        Topology topology = new Topology();
        topology.addSource("src", Serdes.String().deserializer(), Serdes.String().deserializer(), "in");
        topology.addProcessor("proc", () -> new ContextualProcessor<String, String, String, String>() {
            private KeyValueStore<String, String> store;

            @Override
            public void init(ProcessorContext<String, String> context) {
                super.init(context);
                store = context.getStateStore("kv");
            }

            @Override
            public void process(Record<String, String> record) {
                for (String op : record.value().split(" ")) {
                    String[] kv = op.split("=", -1);
                    if (kv[1].isEmpty()) {
                        store.delete(kv[0]);
                    } else {
                        store.put(kv[0], kv[1]);
                    }
                }
                if (record.value().contains("boom")) {
                    throw new IllegalStateException("boom");
                }
                List<String> seen = new ArrayList<>();
                try (KeyValueIterator<String, String> it = store.range("b", "d")) {
                    it.forEachRemaining(e -> seen.add(e.key + "=" + e.value));
                }
                List<String> all = new ArrayList<>();
                try (KeyValueIterator<String, String> it = store.all()) {
                    it.forEachRemaining(e -> all.add(e.key + "=" + e.value));
                }
                context().forward(record.withValue(String.join(",", seen) + "|" + String.join(",", all) + "|" + store.get("c")));
            }
        }, "src");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("kv"), Serdes.String(), Serdes.String())
            .withCachingEnabled(), "proc");
        topology.addSink("sink", "out", Serdes.String().serializer(), Serdes.String().serializer(), "proc");
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, String> out = driver.createOutputTopic("out", Serdes.String().deserializer(),
                Serdes.String().deserializer());
            in.pipeInput("k", "a=1 c=1 e=1");   // flushed into the store after this record
            in.pipeInput("k", "b=2 c=2 a= e=3 c=3");   // cached: c twice, a deleted, b new, e replaced
            assertEquals(List.of("c=1|a=1,c=1,e=1|1", "b=2,c=3|b=2,c=3,e=3|3"), out.readValuesToList());
            // a store without a flush listener writes its changelog once per key at the flush, least recently used first
            assertEquals(List.of(KeyValue.pair("a", "1"), KeyValue.pair("e", "1"), KeyValue.pair("c", "1"),
                    KeyValue.pair("b", "2"), KeyValue.pair("a", null), KeyValue.pair("e", "3"), KeyValue.pair("c", "3")),
                driver.createOutputTopic("cache-kv-changelog", Serdes.String().deserializer(), Serdes.String().deserializer())
                    .readKeyValuesToList());

            // a failed record is an aborted transaction: its cached writes are dropped with it
            assertThrows(RuntimeException.class, () -> in.pipeInput("k", "c=9 boom=1"));
            KeyValueStore<String, String> store = driver.getKeyValueStore("kv");
            assertEquals("3", store.get("c"));
            assertNull(store.get("boom"));
        }
    }

    /** A windowed count over the words of each input value, each word stamped {@code offsetMs} later than the last. */
    private static Topology windowedWords(long offsetMs, Materialized<String, Long, io.weir.streams.processor.StateStore> m) {
        StreamsBuilder builder = new StreamsBuilder();
        spread(builder, offsetMs)
            .groupByKey()
            .windowedBy(TimeWindows.ofSizeWithNoGrace(java.time.Duration.ofSeconds(10)))
            .count(m)
            .toStream()
            .map((w, n) -> KeyValue.pair(w.key() + "@" + w.window().start(), n))
            .to("out", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build();
    }

    /** A session count over the words of each input value, each word stamped {@code offsetMs} later than the last. */
    private static Topology sessionWords(long offsetMs, Materialized<String, Long, io.weir.streams.processor.StateStore> m) {
        StreamsBuilder builder = new StreamsBuilder();
        spread(builder, offsetMs)
            .groupByKey()
            .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(java.time.Duration.ofSeconds(10)))
            .count(m)
            .toStream()
            .map((w, n) -> KeyValue.pair(w.key() + "@" + w.window().start() + "-" + w.window().end(), n))
            .to("out", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build();
    }

    /** The words of each input value as records of the same key, each stamped {@code offsetMs} later than the last. */
    private static KStream<String, String> spread(StreamsBuilder builder, long offsetMs) {
        return builder.<String, String>stream("in")
            .processValues(() -> new io.weir.streams.processor.api.FixedKeyProcessor<String, String, String>() {
                private io.weir.streams.processor.api.FixedKeyProcessorContext<String, String> context;

                @Override
                public void init(io.weir.streams.processor.api.FixedKeyProcessorContext<String, String> context) {
                    this.context = context;
                }

                @Override
                public void process(io.weir.streams.processor.api.FixedKeyRecord<String, String> record) {
                    long ts = record.timestamp();
                    for (String word : record.value().split(" ")) {
                        context.forward(record.withValue(word).withTimestamp(ts));
                        ts += offsetMs;
                    }
                }
            });
    }

    private static List<KeyValue<String, Long>> pipe(Topology topology, String value, List<KeyValue<String, Long>> changelog) {
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, props(), Instant.ofEpochMilli(0))) {
            driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer()).pipeInput("k", value, 1_000L);
            changelog.addAll(driver.createOutputTopic(CHANGELOG, Serdes.ByteArray().deserializer(), Serdes.Long().deserializer())
                .readKeyValuesToList().stream().map(kv -> KeyValue.pair("", kv.value)).toList());
            return driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.Long().deserializer()).readKeyValuesToList();
        }
    }

    @Test
    void shouldForwardAndLogEachWindowOncePerFlushWhenCaching() {
        List<KeyValue<String, Long>> changelog = new ArrayList<>();
        assertEquals(List.of(KeyValue.pair("k@0", 3L)), pipe(windowedWords(0, Materialized.as("counts")), "a b c", changelog));
        assertEquals(List.of(KeyValue.pair("", 3L)), changelog);
        List<KeyValue<String, Long>> uncachedLog = new ArrayList<>();
        assertEquals(List.of(KeyValue.pair("k@0", 1L), KeyValue.pair("k@0", 2L), KeyValue.pair("k@0", 3L)),
            pipe(windowedWords(0, Materialized.<String, Long, io.weir.streams.processor.StateStore>as("counts").withCachingDisabled()),
                "a b c", uncachedLog));
        assertEquals(3, uncachedLog.size());
    }

    /**
     * A cached window that expired (a later window moved retention past it) before the flush still goes
     * downstream with its final count (a suppression waits for it), but is not written to the store.
     */
    @Test
    void shouldForwardACachedWindowThatExpiredBeforeTheFlushWithoutWritingIt() {
        List<KeyValue<String, Long>> changelog = new ArrayList<>();
        assertEquals(List.of(KeyValue.pair("k@0", 1L), KeyValue.pair("k@100000", 1L)),
            pipe(windowedWords(100_000, Materialized.as("counts")), "a b", changelog));
        assertEquals(List.of(KeyValue.pair("", 1L)), changelog, "only the live window reaches the changelog");
    }

    /** A session merged away before the flush never goes downstream nor to the changelog; the merged one does, once. */
    @Test
    void shouldForwardAndLogEachSessionOncePerFlushWhenCaching() {
        List<KeyValue<String, Long>> changelog = new ArrayList<>();
        assertEquals(List.of(KeyValue.pair("k@1000-1002", 3L)), pipe(sessionWords(1, Materialized.as("counts")), "a b c", changelog));
        assertEquals(List.of(KeyValue.pair("", 3L)), changelog);
        List<KeyValue<String, Long>> uncached = pipe(sessionWords(1,
            Materialized.<String, Long, io.weir.streams.processor.StateStore>as("counts").withCachingDisabled()), "a b c", new ArrayList<>());
        assertEquals(List.of(KeyValue.pair("k@1000-1000", 1L), KeyValue.pair("k@1000-1000", null), KeyValue.pair("k@1000-1001", 2L),
            KeyValue.pair("k@1000-1001", null), KeyValue.pair("k@1000-1002", 3L)), uncached);
    }
}
