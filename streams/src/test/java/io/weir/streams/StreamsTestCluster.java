package io.weir.streams;

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

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The streams integration tests' shared setup: one in-JVM broker (small internal topics, no initial rebalance
 * delay, short sessions allowed), a temporary root for the jobs' state directories, and the helpers every such
 * test needs (topics, job properties, word-count input, reading a read_committed output, bounded waits that fail
 * with what they last saw).
 */
final class StreamsTestCluster implements AutoCloseable {
    /** How long any wait of these tests may take before it fails with its diagnostic. */
    static final Duration WAIT = Duration.ofSeconds(120);

    private final EmbeddedBroker broker;
    private final Path root;

    private StreamsTestCluster(EmbeddedBroker broker, Path root) {
        this.broker = broker;
        this.root = root;
    }

    /** Starts the broker; {@code name} prefixes the temporary state root. */
    static StreamsTestCluster start(String name) {
        return start(name, Map.of());
    }

    /** {@link #start(String)} with {@code brokerConfig} added to (or overriding) the broker's test settings. */
    static StreamsTestCluster start(String name, Map<String, String> brokerConfig) {
        Map<String, String> config = new HashMap<>(Map.of("transaction.state.log.num.partitions", "3",
            "offsets.topic.num.partitions", "3", "group.initial.rebalance.delay.ms", "0",
            "group.min.session.timeout.ms", "1000"));
        config.putAll(brokerConfig);
        EmbeddedBroker broker = new EmbeddedBroker(config).start();
        return new StreamsTestCluster(broker, TempDirs.create(name));
    }

    EmbeddedBroker broker() {
        return broker;
    }

    String bootstrapServers() {
        return broker.bootstrapServers();
    }

    /** Where the tests put their jobs' state directories (deleted at close). */
    Path root() {
        return root;
    }

    void createTopics(int partitions, String... names) throws Exception {
        List<NewTopic> topics = new ArrayList<>();
        for (String n : names) {
            topics.add(new NewTopic(n, partitions, (short) 1));
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
    }

    /** A job's base properties: its application id and state directory, short sessions. */
    Properties props(String appId, Path stateDir) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put("consumer.session.timeout.ms", "3000");
        p.put("consumer.heartbeat.interval.ms", "500");
        return p;
    }

    /**
     * {@link WordCountJob}'s properties with record caches off: every count update is forwarded and is one changelog
     * record (the tests that check every running count, and the standby, warm-up and snapshot tests, need that).
     */
    Properties wordCountProps(String app, String input, String output, Path stateDir) {
        Properties p = props(app, stateDir);
        p.put("wordcount.input", input);
        p.put("wordcount.output", output);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        return p;
    }

    /** {@link #wordCountProps(String, String, String, Path)} with {@code application.server} on {@code port}. */
    Properties wordCountProps(String app, String input, String output, Path stateDir, int port) {
        Properties p = wordCountProps(app, input, output, stateDir);
        p.put(StreamsConfig.APPLICATION_SERVER_CONFIG, "localhost:" + port);
        return p;
    }

    /** Lines of two words each ({@code w0}..{@code w39}), added to {@code expected} counts. */
    void produceLines(String topic, int from, int to, Map<String, Long> expected) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("linger.ms", 5);
        try (WeirProducer<String, String> producer = new WeirProducer<>(p, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            for (int i = from; i < to; i++) {
                String a = "w" + (i % 40);
                String b = "w" + ((i * 7 + 3) % 40);
                producer.send(new ProducerRecord<>(topic, "line-" + i, a + " " + b));
                expected.merge(a, 1L, Long::sum);
                expected.merge(b, 1L, Long::sum);
            }
            producer.flush();
        }
    }

    /** The last value per key in the read_committed topic. */
    Map<String, Long> readLatest(String topic, int partitions) {
        Map<String, Long> out = new TreeMap<>();
        readAll(topic, partitions).forEach((k, values) -> out.put(k, values.get(values.size() - 1)));
        return out;
    }

    /** Every value per key in the read_committed topic (String keys, Long values), in offset order per key. */
    Map<String, List<Long>> readAll(String topic, int partitions) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", broker.bootstrapServers());
        c.put("isolation.level", "read_committed");
        c.put("enable.auto.commit", false);
        try (WeirConsumer<String, Long> consumer = new WeirConsumer<>(c, new Deserializers.StringDeserializer(),
            new Deserializers.LongDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            Map<String, List<Long>> out = new TreeMap<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    fail("reading " + topic + " did not reach its end offsets " + end + " within " + WAIT);
                }
                for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(100))) {
                    out.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
                }
            }
            return out;
        }
    }

    /** A consumer of String keys and values, {@code isolation} (read_committed or read_uncommitted), no commits. */
    WeirConsumer<String, String> stringConsumer(String isolation) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", broker.bootstrapServers());
        c.put("isolation.level", isolation);
        c.put("enable.auto.commit", false);
        return new WeirConsumer<>(c, new Deserializers.StringDeserializer(), new Deserializers.StringDeserializer());
    }

    /** The end offset of partition 0 of {@code topic} as a consumer of {@code isolation} sees it. */
    long endOffset(String topic, String isolation) {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (WeirConsumer<String, String> consumer = stringConsumer(isolation)) {
            return consumer.endOffsets(List.of(tp)).get(tp);
        }
    }

    /** Every record of partition 0 of {@code topic} (String keys and values) up to the end offset {@code isolation} sees. */
    List<ConsumerRecord<String, String>> readStrings(String topic, String isolation) {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (WeirConsumer<String, String> consumer = stringConsumer(isolation)) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (consumer.position(tp) < end) {
                if (System.nanoTime() - deadline > 0) {
                    fail("reading " + topic + " to its end " + end + " within " + WAIT + ": " + out);
                }
                consumer.poll(Duration.ofMillis(100)).forEach(out::add);
            }
            return out;
        }
    }

    /**
     * Waits until partition 0 of the read_committed {@code topic} holds {@code count} records, checks it holds no
     * more, and returns them by key.
     */
    Map<String, String> awaitCommittedStrings(String topic, int count) throws InterruptedException {
        List<ConsumerRecord<String, String>>[] last = new List[1];
        await(() -> (last[0] = readStrings(topic, "read_committed")).size() >= count,
            () -> count + " committed records in " + topic + ", read " + last[0]);
        assertEquals(count, last[0].size(), "records of " + topic + ": " + last[0]);
        Map<String, String> out = new TreeMap<>();
        last[0].forEach(r -> out.put(r.key(), r.value()));
        return out;
    }

    /** Waits until the output's latest values are {@code expected}. */
    void awaitCounts(String output, int partitions, Map<String, Long> expected) throws InterruptedException {
        awaitCounts(output, partitions, expected, "the counts in " + output);
    }

    /** Waits until the output's latest values are {@code expected}; {@code what} names the wait in its failure. */
    void awaitCounts(String output, int partitions, Map<String, Long> expected, String what) throws InterruptedException {
        Map<String, Long>[] last = new Map[1];
        await(() -> expected.equals(last[0] = readLatest(output, partitions)),
            () -> what + ": expected " + expected + ", last read " + last[0]);
    }

    /**
     * Waits until every expected word's running count in the read_committed {@code output} reached its expected
     * count, then checks each word's counts are exactly 1, 2, ..., n (a repeat = counted twice, a gap = lost);
     * once {@code deadlineNs} ({@link System#nanoTime}) has passed it fails with {@code why}. Returns the output.
     */
    Map<String, List<Long>> awaitExactCounts(String output, int partitions, Map<String, Long> expected, long deadlineNs,
                                             Supplier<String> why) throws InterruptedException {
        while (true) {
            Map<String, List<Long>> out = readAll(output, partitions);
            if (reached(out, expected)) {
                assertExactRunningCounts(out, expected);
                return out;
            }
            if (System.nanoTime() - deadlineNs > 0) {
                long behind = expected.entrySet().stream().filter(e -> !out.containsKey(e.getKey())
                    || out.get(e.getKey()).get(out.get(e.getKey()).size() - 1) < e.getValue()).count();
                fail(why.get() + "; " + behind + " of " + expected.size() + " words still behind their counts");
            }
            Thread.sleep(200);
        }
    }

    /** Whether every expected word's last count in {@code out} reached (or passed) its expected count. */
    static boolean reached(Map<String, List<Long>> out, Map<String, Long> expected) {
        return expected.entrySet().stream().allMatch(e -> out.containsKey(e.getKey())
            && out.get(e.getKey()).get(out.get(e.getKey()).size() - 1) >= e.getValue());
    }

    /** Every expected word, and only those, with running counts exactly 1, 2, ..., its expected count. */
    static void assertExactRunningCounts(Map<String, List<Long>> out, Map<String, Long> expected) {
        assertEquals(expected.keySet(), out.keySet(), "words in the output");
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            List<Long> exact = new ArrayList<>();
            for (long i = 1; i <= e.getValue(); i++) {
                exact.add(i);
            }
            assertEquals(exact, out.get(e.getKey()), "running counts of " + e.getKey()
                + " (a repeat = counted twice, a gap = lost)");
        }
    }

    /** Waits until the job is RUNNING; fails at once if it stopped. */
    static void awaitRunning(WeirStreams streams) throws InterruptedException {
        await(() -> {
            if (streams.state() == WeirStreams.State.ERROR || streams.state() == WeirStreams.State.NOT_RUNNING) {
                fail("the job stopped: " + streams.state());
            }
            return streams.state() == WeirStreams.State.RUNNING;
        }, () -> "the job is not RUNNING but " + streams.state());
    }

    /**
     * Waits until every instance is RUNNING and each one's view of the group gives the instance with
     * {@code application.server} port {@code port} exactly {@code share} partitions of {@code topic}.
     */
    static void awaitShare(List<WeirStreams> instances, int port, String topic, int share, String who)
        throws InterruptedException {
        await(() -> {
            for (WeirStreams s : instances) {
                if (s.state() == WeirStreams.State.ERROR || s.state() == WeirStreams.State.NOT_RUNNING) {
                    fail(who + ": an instance stopped: " + s.state());
                }
            }
            return instances.stream().allMatch(s -> s.state() == WeirStreams.State.RUNNING
                && partitionsOf(s, port, topic) == share);
        }, () -> who + " does not hold " + share + " partitions of " + topic + " within " + WAIT + "; the instances see "
            + instances.stream().map(s -> s.state() + " " + s.metadataForAllStreamsClients()).toList());
    }

    private static long partitionsOf(WeirStreams s, int port, String topic) {
        return s.metadataForAllStreamsClients().stream().filter(m -> m.port() == port)
            .flatMap(m -> m.topicPartitions().stream()).filter(tp -> tp.topic().equals(topic)).count();
    }

    /** Polls {@code done} until it holds; after {@link #WAIT} fails with {@code diagnostic}. */
    static void await(BooleanSupplier done, Supplier<String> diagnostic) throws InterruptedException {
        await(done, WAIT, diagnostic);
    }

    /** {@link #await(BooleanSupplier, Supplier)} for a wait known to need more than {@link #WAIT}: {@code bound}. */
    static void await(BooleanSupplier done, Duration bound, Supplier<String> diagnostic) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail(diagnostic.get());
            }
            Thread.sleep(100);
        }
    }

    @Override
    public void close() {
        broker.close();
        TempDirs.delete(root);
    }
}
