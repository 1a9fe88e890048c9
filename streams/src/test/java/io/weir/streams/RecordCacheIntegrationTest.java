package io.weir.streams;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.common.TopicPartition;
import io.weir.common.testing.Wait;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Grouped;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Produced;
import io.weir.streams.serialization.Serdes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Record caches in the runtime under exactly-once, against a real in-JVM broker: a count over few keys, fed
 * many records and committing rarely, writes one changelog record and one output record per key per commit
 * with caching on, and one per input record with caching off; both end with exact counts in the store's
 * changelog and the read_committed output (the flush before each commit joins the transaction).
 */
@Timeout(300)
class RecordCacheIntegrationTest {
    private static final int KEYS = 10;
    private static final int RECORDS = 2000;
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static StreamsTestCluster cluster;

    @BeforeAll
    static void start() {
        cluster = StreamsTestCluster.start("weir-cache-it");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * What a run left: the read_committed changelog and output, and how many transaction markers the changelog
     * holds (one per transaction that wrote to it: each of the job's commits that had a change to log, plus aborts).
     */
    private record Run(List<ConsumerRecord<String, Long>> changelog, List<ConsumerRecord<String, Long>> output,
                       long changelogMarkers) {
    }

    /** Runs the count job over {@link #RECORDS} records until all are processed, closes it, reads what it wrote. */
    private static Run runCount(boolean caching) throws Exception {
        int n = NAMES.incrementAndGet();
        String app = "cache" + n;
        String input = "cache-in-" + n;
        String output = "cache-out-" + n;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(input, 1, (short) 1), new NewTopic(output, 1, (short) 1)))
                .all().get(60, TimeUnit.SECONDS);
        }
        Map<String, Object> pc = new HashMap<>();
        pc.put("bootstrap.servers", cluster.bootstrapServers());
        pc.put("linger.ms", 5);
        try (WeirProducer<String, String> producer = new WeirProducer<>(pc, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(input, "k" + (i % KEYS), "v" + i));
            }
            producer.flush();
        }
        AtomicInteger processed = new AtomicInteger();
        Materialized<String, Long, io.weir.streams.processor.StateStore> store =
            Materialized.<String, Long, io.weir.streams.processor.StateStore>as("counts").withKeySerde(Serdes.String());
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
            .peek((k, v) -> processed.incrementAndGet())
            .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
            .count(caching ? store.withCachingEnabled() : store.withCachingDisabled())
            .toStream()
            .to(output, Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(StreamsConfig.STATE_DIR_CONFIG, cluster.root().resolve(app).toString());
        // commits come from the thread's first loop, rebalances and the clean close only
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "3600000");
        p.put("consumer.session.timeout.ms", "3000");
        p.put("consumer.heartbeat.interval.ms", "500");
        try (WeirStreams streams = new WeirStreams(builder.build(), p)) {
            streams.start();
            Wait.until(() -> {
                assertTrue(streams.state() != WeirStreams.State.ERROR, "the job failed");
                return processed.get() >= RECORDS;
            }, Duration.ofSeconds(120), () -> "the job to process " + RECORDS + " records, it processed " + processed.get()
                + " (" + streams.state() + ")");
            streams.close(Duration.ofSeconds(60));   // a clean close flushes the caches and commits
        }
        String changelog = app + "-counts-changelog";
        // the close's commit returns once PrepareCommit is logged; its markers follow: read once they are written
        awaitNoOpenTransaction(changelog);
        awaitNoOpenTransaction(output);
        try (WeirConsumer<String, Long> all = consumer(false)) {
            TopicPartition tp = new TopicPartition(changelog, 0);
            long offsets = all.endOffsets(List.of(tp)).get(tp) - all.beginningOffsets(List.of(tp)).get(tp);
            // a fresh changelog is not compacted yet: every offset no data record holds is a marker
            return new Run(readAll(changelog, true), readAll(output, true), offsets - readAll(changelog, false).size());
        }
    }

    private static WeirConsumer<String, Long> consumer(boolean readCommitted) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", cluster.bootstrapServers());
        c.put("isolation.level", readCommitted ? "read_committed" : "read_uncommitted");
        c.put("enable.auto.commit", false);
        return new WeirConsumer<>(c, new Deserializers.StringDeserializer(), new Deserializers.LongDeserializer());
    }

    /** Waits until partition 0 of {@code topic} has no open transaction: its last stable offset is its end. */
    private static void awaitNoOpenTransaction(String topic) throws InterruptedException {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (WeirConsumer<String, Long> committed = consumer(true); WeirConsumer<String, Long> all = consumer(false)) {
            long[] seen = new long[2];
            Wait.until(() -> {
                seen[0] = committed.endOffsets(List.of(tp)).get(tp);
                seen[1] = all.endOffsets(List.of(tp)).get(tp);
                return seen[0] == seen[1];
            }, Duration.ofSeconds(120), () -> topic + ": the last stable offset " + seen[0] + " stays below the end "
                + seen[1]);
        }
    }

    /** Every record of partition 0 of {@code topic}, read_committed or not. */
    private static List<ConsumerRecord<String, Long>> readAll(String topic, boolean readCommitted) {
        try (WeirConsumer<String, Long> consumer = consumer(readCommitted)) {
            List<TopicPartition> tps = List.of(new TopicPartition(topic, 0));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long end = consumer.endOffsets(tps).get(tps.get(0));
            List<ConsumerRecord<String, Long>> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (consumer.position(tps.get(0)) < end) {
                assertTrue(System.nanoTime() - deadline < 0, "reading " + topic + " stopped at "
                    + consumer.position(tps.get(0)) + " of " + end);
                consumer.poll(Duration.ofMillis(100)).forEach(out::add);
            }
            return out;
        }
    }

    private static Map<String, Long> latest(List<ConsumerRecord<String, Long>> records) {
        Map<String, Long> out = new TreeMap<>();
        records.forEach(r -> out.put(r.key(), r.value()));
        return out;
    }

    @Test
    void shouldLogAndForwardEachKeyOncePerCommitWithCachingAndEveryUpdateWithout() throws Exception {
        Map<String, Long> exact = new TreeMap<>();
        for (int k = 0; k < KEYS; k++) {
            exact.put("k" + k, (long) (RECORDS / KEYS));
        }
        Run cached = runCount(true);
        Run uncached = runCount(false);

        assertEquals(exact, latest(cached.changelog()), "changelog with caching");
        assertEquals(exact, latest(cached.output()), "output with caching");
        assertEquals(exact, latest(uncached.changelog()), "changelog without caching");
        assertEquals(exact, latest(uncached.output()), "output without caching");

        assertEquals(RECORDS, uncached.changelog().size(), "without caching every update is logged");
        assertEquals(RECORDS, uncached.output().size(), "without caching every update goes downstream");
        // few commits (the first loop, rebalances, the close; more when a loaded machine adds rebalances), each
        // writing each key at most once: the bound follows the commits the changelog shows, not a guess at them
        assertTrue(cached.changelogMarkers() > 0, "the changelog was written in transactions");
        assertTrue(cached.changelog().size() <= cached.changelogMarkers() * KEYS, "changelog records with caching: "
            + cached.changelog().size() + " in " + cached.changelogMarkers() + " transactions");
        assertTrue(cached.changelog().size() < RECORDS, "caching logged fewer updates than records: "
            + cached.changelog().size());
        assertEquals(cached.changelog().size(), cached.output().size(), "one output record per changelog record");
    }
}
