package io.weir.examples;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.StreamsConfig;
import io.weir.streams.StreamsJobRunner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link WordCount} run the way the README runs it, {@code bin/weir-streams-run.sh --class
 * io.weir.examples.WordCount --config wordcount.properties} (that is, {@link StreamsJobRunner} in a JVM of
 * its own), against a real broker under exactly-once: the read_committed output holds, for every word,
 * exactly the running counts 1, 2, ..., n (a repeat would be a record counted twice, a gap a lost one),
 * and SIGTERM stops the job cleanly.
 */
@Timeout(120)
class WordCountEndToEndTest {
    private static final int PARTITIONS = 2;
    private static final String INPUT = "e2e-lines";
    private static final String OUTPUT = "e2e-word-counts";

    private EmbeddedBroker broker;
    private Path root;
    private Process job;

    @BeforeEach
    void start() throws Exception {
        broker = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3",
            "group.initial.rebalance.delay.ms", "0", "group.min.session.timeout.ms", "1000")).start();
        root = TempDirs.create("weir-examples-e2e");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(INPUT, PARTITIONS, (short) 1), new NewTopic(OUTPUT, PARTITIONS, (short) 1)))
                .all().get(60, TimeUnit.SECONDS);
        }
    }

    @AfterEach
    void stop() {
        if (job != null) {
            job.destroyForcibly();
        }
        if (broker != null) {
            broker.close();
        }
        TempDirs.delete(root);
    }

    @Test
    void shouldCountWordsExactlyOnceWhenRunByTheRunnerWithAConfigFile() throws Exception {
        Properties config = new Properties();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG, "wordcount-e2e");
        config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(StreamsConfig.STATE_DIR_CONFIG, root.resolve("state").toString());
        config.put(WordCount.INPUT_TOPIC_CONFIG, INPUT);
        config.put(WordCount.OUTPUT_TOPIC_CONFIG, OUTPUT);
        config.put("consumer.session.timeout.ms", "3000");
        // the test checks every running count: record caches (one update per word per commit) are off
        config.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        config.put("consumer.heartbeat.interval.ms", "500");
        Path configFile = root.resolve("wordcount.properties");
        try (Writer w = Files.newBufferedWriter(configFile)) {
            config.store(w, "the end-to-end test's job");
        }

        Map<String, Long> expected = new TreeMap<>();
        produceLines(0, 300, expected);
        Path log = root.resolve("job.log");
        job = forkRunner(configFile, log);
        try (WeirConsumer<String, Long> output = outputConsumer()) {
            Map<String, List<Long>> seen = new TreeMap<>();
            awaitCounts(output, seen, expected, log);
            produceLines(300, 500, expected);
            awaitCounts(output, seen, expected, log);
            assertEquals(expected.keySet(), seen.keySet(), "words in the output");
            for (Map.Entry<String, Long> e : expected.entrySet()) {
                List<Long> exact = new ArrayList<>();
                for (long i = 1; i <= e.getValue(); i++) {
                    exact.add(i);
                }
                assertEquals(exact, seen.get(e.getKey()), "running counts of " + e.getKey() + " (a repeat = counted twice, a gap = lost)");
            }
        }

        job.destroy();   // SIGTERM: the runner's shutdown hook closes the job
        assertTrue(job.waitFor(60, TimeUnit.SECONDS), "the job did not stop on SIGTERM; see " + log);
        String out = Files.readString(log);
        assertTrue(out.contains("State transition from PENDING_SHUTDOWN to NOT_RUNNING"), out);
    }

    /** What bin/weir-streams-run.sh runs, with this test's classpath (which holds the examples' classes). */
    private static Process forkRunner(Path configFile, Path log) throws IOException {
        List<String> cmd = List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
            "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            StreamsJobRunner.class.getName(), "--class", WordCount.class.getName(), "--config", configFile.toString());
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Lines {@code from..to-1}, two words each from a 30-word vocabulary, counted into {@code expected}. */
    private void produceLines(int from, int to, Map<String, Long> expected) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("linger.ms", 5);
        try (WeirProducer<String, String> producer = new WeirProducer<>(p, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            for (int i = from; i < to; i++) {
                String a = "w" + (i % 30);
                String b = "W" + ((i * 7 + 3) % 30);   // upper case: the job lower-cases
                producer.send(new ProducerRecord<>(INPUT, "line-" + i, a + ", " + b + "!"));
                expected.merge(a, 1L, Long::sum);
                expected.merge(b.toLowerCase(), 1L, Long::sum);
            }
            producer.flush();
        }
    }

    private WeirConsumer<String, Long> outputConsumer() {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", broker.bootstrapServers());
        c.put("isolation.level", "read_committed");
        c.put("enable.auto.commit", false);
        WeirConsumer<String, Long> consumer = new WeirConsumer<>(c, new Deserializers.StringDeserializer(),
            new Deserializers.LongDeserializer());
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) {
            tps.add(new TopicPartition(OUTPUT, i));
        }
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        return consumer;
    }

    /** Reads committed counts into {@code seen} until every word reached its expected count; fails after 90 s with the job's log. */
    private void awaitCounts(WeirConsumer<String, Long> output, Map<String, List<Long>> seen, Map<String, Long> expected,
                             Path log) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!expected.entrySet().stream().allMatch(e -> {
            List<Long> counts = seen.get(e.getKey());
            return counts != null && counts.get(counts.size() - 1) >= e.getValue();
        })) {
            assertTrue(job.isAlive(), () -> "the job ended early: " + readQuietly(log));
            assertTrue(System.nanoTime() - deadline < 0, () -> "the job did not reach the counts " + expected + " in 90 s, saw "
                + seen + "; its log:\n" + readQuietly(log));
            for (ConsumerRecord<String, Long> r : output.poll(Duration.ofMillis(200))) {
                seen.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
            }
        }
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
