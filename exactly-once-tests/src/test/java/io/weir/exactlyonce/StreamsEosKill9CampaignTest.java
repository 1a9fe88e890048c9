package io.weir.exactlyonce;

import io.weir.broker.testing.BrokerProcess;
import io.weir.streams.StreamsJobRunner;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Streams exactly-once under crashes, as processes: {@link EosAggregationJob} (per key: echo, sum, min, max and
 * count, each in its own RocksDB store) runs as 3 instances, forked JVMs through {@link StreamsJobRunner}, with one
 * application id and a state directory each that outlives the instance's restarts. While a producer feeds the
 * input at a bounded rate, the campaign SIGKILLs a random instance ({@code destroyForcibly}) at a random moment and
 * restarts it on its state directory, and stops another cleanly (SIGTERM: the runner closes the job) and restarts
 * it, interleaved, with seeded randomness.
 *
 * <p>After the input stops and the group's committed offsets reach the input's end, an independent verifier
 * (Apache kafka-clients, read_committed) reads every output to its end: each key's sequence of echo, sum, min, max
 * and count values must be exactly what the input implies (one output record per input record, in order: the
 * counts go 1, 2, ..., n, so nothing was lost and nothing counted twice; the other values are the running
 * aggregates of the key's input values).
 *
 * <p>After each restart the campaign reads the restarted instance's restore lines (the runtime logs one per store:
 * {@code restored N records of at most M}): after a SIGKILL every store restarts from its own files
 * ({@code LOCAL_STORE}, never wiped, never empty) and replays at most one transaction's changelog tail, which
 * {@code statestore.uncommitted.max.bytes} bounds; after a clean stop (which leaves the group: the default
 * {@code streams.leave.group.on.close}, so the tasks run elsewhere meanwhile) stores restart from their own files
 * or empty, never wiped.
 *
 * <p>The instances are static group members ({@code group.instance.id}): an instance restarted after a SIGKILL gets
 * its own tasks back without a rebalance, so it finds them in its state directory. (Without static membership the range assignor
 * may give a restarted instance other tasks, whose stores are stale or empty there: the sticky streams assignor
 * with standbys is not built yet.)
 *
 * <p>The default build runs {@code weir.faults.streams.keys}=2,000 keys with 1 SIGKILL and 1 clean stop;
 * {@code -Pfaults} 20,000 keys with 3 of each, and the same campaign again with dynamic members
 * ({@code weir.faults.streams.dynamic}): there tasks move between instances at every stop and restart (a returning
 * instance whose copy of a task lags by more than {@code acceptable.recovery.lag} warms it up first, and a probing
 * rebalance moves it), and only the outputs' exactness and "never wiped" are checked.
 */
@Timeout(900)
class StreamsEosKill9CampaignTest {
    private static final int KEYS = Integer.getInteger("weir.faults.streams.keys", 2_000);
    private static final int KILLS = Integer.getInteger("weir.faults.streams.kills", 1);
    private static final boolean DYNAMIC = Boolean.getBoolean("weir.faults.streams.dynamic");
    /** The campaign's seed (printed with the results); {@code -Dweir.faults.seed=...} replays another. */
    private static final long SEED = Long.getLong("weir.faults.seed", 0x5EED_E05L);
    private static final int INSTANCES = 3;
    private static final int PARTITIONS = 6;
    /** Input records per second; the feed runs until every event is done and each key has had 3 values at least. */
    private static final int RATE = Math.max(500, KEYS / 20);
    private static final int MIN_RECORDS = 3 * KEYS;
    /**
     * A task commits at once when its stores' uncommitted writes pass this many bytes. Each input record puts one
     * entry (at least 14 bytes in a RocksDB write batch: tag, column family, lengths, a key of 2 bytes or more, an
     * 8-byte value) into each of the task's 5 stores, so a transaction holds at most 4096 / 70 + 1 = 59 writes per
     * store (the campaigns saw up to 51).
     */
    private static final int UNCOMMITTED_MAX_BYTES = 4096;
    /** The most a store may replay after a SIGKILL: one transaction's tail (59 writes at most), with room. */
    private static final long TAIL_BOUND = 100;
    private static final String APP = "eos-agg";
    private static final String INPUT = "eos-input";
    private static final String OUTPUT = "eos-output";
    private static final Pattern RESTORE = Pattern.compile(
        "state store '(\\w+)' \\(changelog (\\S+), from (\\w+) at offset (\\d+)\\): restored (\\d+) records of at most (\\d+)");

    @TempDir
    Path dir;
    private boolean staticMembers;

    /**
     * @param staticMembers true: the instances are static members and every restart after a SIGKILL must replay at
     *                      most one transaction's tail; false ({@code -Pfaults} only): dynamic members, so tasks move between
     *                      instances at each stop and restart (a store may come back stale, or new), and only the
     *                      outputs' exactness and "never wiped" are checked
     */
    @ParameterizedTest(name = "static members={0}")
    @ValueSource(booleans = {true, false})
    void shouldAggregateEveryKeyExactlyOnceAcrossSigkillsAndCleanStops(boolean staticMembers) throws Exception {
        assumeTrue(staticMembers || DYNAMIC, "dynamic members run with -Pfaults");
        this.staticMembers = staticMembers;
        long started = System.nanoTime();
        Random random = new Random(SEED + KEYS + (staticMembers ? 0 : 1));
        try (BrokerProcess broker = new BrokerProcess(dir.resolve("broker"))) {
            Files.createDirectories(dir.resolve("broker"));
            broker.start("transaction.state.log.num.partitions=1", "offsets.topic.num.partitions=1",
                "group.initial.rebalance.delay.ms=0");
            createTopics(broker);
            List<Instance> instances = new ArrayList<>();
            for (int i = 0; i < INSTANCES; i++) {
                instances.add(new Instance(i, broker.bootstrapServers(), dir.resolve("instance-" + i)));
            }
            Map<String, List<Long>> inputs = new HashMap<>();
            AtomicBoolean eventsDone = new AtomicBoolean();
            AtomicLong sent = new AtomicLong();
            AtomicReference<Throwable> feedFailure = new AtomicReference<>();
            long feedSeed = random.nextLong();
            Thread feed = new Thread(() -> {
                try {
                    feed(broker, inputs, eventsDone, sent, new Random(feedSeed));
                } catch (Throwable t) {
                    feedFailure.set(t);
                }
            }, "eos-feed");
            List<String> events = new ArrayList<>();
            try {
                runCampaign(broker, instances, feed, feedFailure, eventsDone, sent, inputs, events, random, started);
            } finally {
                for (Instance in : instances) {
                    in.close();
                }
            }
        }
    }

    private void runCampaign(BrokerProcess broker, List<Instance> instances, Thread feed,
                             AtomicReference<Throwable> feedFailure, AtomicBoolean eventsDone, AtomicLong sent,
                             Map<String, List<Long>> inputs, List<String> events, Random random, long started)
        throws Exception {
        try {
            for (Instance in : instances) {
                in.start();
            }
            for (Instance in : instances) {
                in.awaitRunning();
            }
            feed.start();
            awaitProgress(broker, 1);
            awaitStableGroup(broker, instances, events);
            int previous = -1;
            for (int e = 0; e < 2 * KILLS; e++) {
                assertNull(feedFailure.get(), () -> "the feed failed: " + feedFailure.get());
                int target = random.nextInt(INSTANCES - 1);
                if (target >= previous && previous >= 0) {
                    target++;   // another instance than the last event's
                }
                previous = target;
                Instance in = instances.get(target);
                Thread.sleep(300 + random.nextInt(1500));   // a random moment, most likely mid-transaction
                boolean kill = e % 2 == 0;
                if (kill) {
                    in.kill();
                } else {
                    in.stop();
                }
                in.start();
                in.awaitRunning();
                awaitStableGroup(broker, instances, events);
                if (staticMembers) {
                    // the coordinator reads Stable once the leader's SyncGroup is in; the instance opens its tasks
                    // (under cooperative rebalancing possibly in a second, follow-up round) a moment later
                    awaitRestoreLines(in);
                    awaitStableGroup(broker, instances, events);
                }
                List<Restore> restores = in.restores();
                events.add((kill ? "SIGKILL" : "clean stop") + " of instance " + target + " after " + sent.get()
                    + " records: restored " + restores.stream().mapToLong(Restore::records).sum()
                    + " records over " + restores.size() + " stores, at most "
                    + restores.stream().mapToLong(Restore::records).max().orElse(0) + " per store");
                if (staticMembers) {
                    checkRestores(in, restores, kill);
                } else {
                    assertTrue(restores.stream().noneMatch(r -> r.origin().equals("WIPED_CORRUPT")), restores::toString);
                }
            }
        } finally {
            eventsDone.set(true);
            feed.join(120_000);
        }
        assertNull(feedFailure.get(), () -> "the feed failed: " + feedFailure.get());
        assertFalse(feed.isAlive(), "the feed did not finish");
        long total = sent.get();
        awaitProgress(broker, total);
        Map<String, Map<String, List<Long>>> outputs = readOutputs(broker);
        verify(inputs, outputs);
        long probing = 0;
        for (Instance in : instances) {
            probing += in.probingRebalances();
        }
        System.out.printf("streams EOS campaign (seed %d, static members %b): %d keys, %d records, %d instances,"
            + " %d SIGKILLs + %d clean stops, %d probing rebalances, %d s%n  %s%n", SEED, staticMembers, KEYS, total,
            INSTANCES, KILLS, KILLS, probing, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started),
            String.join("\n  ", events));
        for (Instance in : instances) {
            assertFalse(in.everWiped(), "instance " + in.index + " wiped a store");
        }
    }

    /**
     * After a SIGKILL (no LeaveGroup: the restart replaces its static members and gets the same tasks): every store
     * from its own files, a tail of one transaction at most. After a clean stop the instance left the group (the
     * default {@code streams.leave.group.on.close}), so its tasks ran on the other instances meanwhile and may or may
     * not come back: a store restarts from its own files (replaying what the others committed while it was away,
     * not bounded by one transaction) or, for a task new to it, from an empty store; never wiped.
     */
    private static void checkRestores(Instance in, List<Restore> restores, boolean afterKill) {
        String log = in.output();
        assertFalse(restores.isEmpty(), "instance " + in.index + " restored no store: it got no tasks back\n" + log);
        assertFalse(log.contains("Wiped corrupt state store"), "instance " + in.index + " wiped a store\n" + log);
        for (Restore r : restores) {
            if (afterKill) {
                assertEquals("LOCAL_STORE", r.origin(), "instance " + in.index + " did not restart " + r + " from its"
                    + " own files (its tasks moved, or the store was lost)\n" + log);
                assertTrue(r.records() <= TAIL_BOUND, "instance " + in.index + " replayed more than one transaction's"
                    + " tail after a SIGKILL: " + r + "\n" + log);
            } else {
                assertTrue(r.origin().equals("LOCAL_STORE") || r.origin().equals("EMPTY"), "instance " + in.index
                    + " restarted " + r + " neither from its own files nor as a new store after a clean stop\n" + log);
            }
        }
    }

    private static void createTopics(BrokerProcess broker) throws Exception {
        List<NewTopic> topics = new ArrayList<>();
        topics.add(new NewTopic(INPUT, PARTITIONS, (short) 1));
        for (String a : EosAggregationJob.AGGREGATIONS) {
            topics.add(new NewTopic(OUTPUT + "-" + a, PARTITIONS, (short) 1));
        }
        try (Admin admin = admin(broker)) {
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
    }

    private static Admin admin(BrokerProcess broker) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return Admin.create(p);
    }

    /**
     * Sends key k(i mod KEYS) a random value for i = 0, 1, ... at about {@link #RATE} records/s until the events are
     * done and {@link #MIN_RECORDS} went out; every send must succeed (an idempotent producer: no duplicates).
     */
    private static void feed(BrokerProcess broker, Map<String, List<Long>> inputs, AtomicBoolean eventsDone,
                             AtomicLong sent, Random random) throws InterruptedException {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        AtomicReference<Exception> failed = new AtomicReference<>();
        long start = System.nanoTime();
        try (KafkaProducer<String, Long> producer = new KafkaProducer<>(p, new StringSerializer(), new LongSerializer())) {
            for (long i = 0; i < MIN_RECORDS || !eventsDone.get(); i++) {
                String key = "k" + (i % KEYS);
                long value = random.nextInt(2_000_001) - 1_000_000;
                synchronized (inputs) {
                    inputs.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
                }
                producer.send(new ProducerRecord<>(INPUT, key, value), (md, e) -> {
                    if (e != null) {
                        failed.compareAndSet(null, e);
                    }
                });
                sent.set(i + 1);
                if (i % 50 == 49) {
                    long due = start + (i + 1) * 1_000_000_000L / RATE;   // pacing the load, not a timing check
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                }
            }
            producer.flush();
        }
        if (failed.get() != null) {
            throw new AssertionError("an input record was not acknowledged", failed.get());
        }
    }

    /** Waits (bounded) until the instance has opened at least one store; checkRestores names it if it never does. */
    private static void awaitRestoreLines(Instance in) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (in.restores().isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
    }

    /**
     * Waits until the group is stable with every instance holding its share of the tasks, so that an event never
     * lands in the middle of a rebalance (where the assignor could move a restarted instance's tasks). On failure
     * it names the events so far and each instance's last log lines (the instances' logs go with the temporary
     * directory).
     */
    private static void awaitStableGroup(BrokerProcess broker, List<Instance> instances, List<String> events)
        throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        String last = "";
        try (Admin admin = admin(broker)) {
            while (System.currentTimeMillis() < deadline) {
                ConsumerGroupDescription g = admin.describeConsumerGroups(List.of(APP)).describedGroups().get(APP)
                    .get(60, TimeUnit.SECONDS);
                last = g.toString();
                if (g.groupState() == GroupState.STABLE && g.members().size() == INSTANCES && g.members().stream()
                    .allMatch(m -> m.assignment().topicPartitions().size() == PARTITIONS / INSTANCES)) {
                    return;
                }
                Thread.sleep(200);
            }
        }
        StringBuilder logs = new StringBuilder();
        for (Instance in : instances) {
            logs.append("\n--- instance ").append(in.index).append(", last lines:\n").append(in.outputTail(40));
        }
        fail("the group did not settle with " + INSTANCES + " instances of " + PARTITIONS / INSTANCES + " tasks each: "
            + last + "\nevents so far: " + events + logs);
    }

    /** Waits until the group's committed input offsets sum to at least {@code records}; fails after 5 minutes. */
    private static void awaitProgress(BrokerProcess broker, long records) throws Exception {
        long deadline = System.currentTimeMillis() + 300_000;
        long committed = 0;
        try (Admin admin = admin(broker)) {
            while (System.currentTimeMillis() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(APP)
                    .partitionsToOffsetAndMetadata().get(60, TimeUnit.SECONDS);
                committed = 0;
                for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
                    if (e.getKey().topic().equals(INPUT) && e.getValue() != null) {
                        committed += e.getValue().offset();
                    }
                }
                if (committed >= records) {
                    return;
                }
                Thread.sleep(200);
            }
        }
        fail("the job committed " + committed + " of " + records + " input records within 5 minutes");
    }

    /** Every output, read_committed to its end: aggregation → key → values in order. */
    private static Map<String, Map<String, List<Long>>> readOutputs(BrokerProcess broker) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        Map<String, Map<String, List<Long>>> out = new HashMap<>();
        try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new LongDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (String a : EosAggregationJob.AGGREGATIONS) {
                for (int p = 0; p < PARTITIONS; p++) {
                    tps.add(new TopicPartition(OUTPUT + "-" + a, p));
                }
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            long deadline = System.currentTimeMillis() + 300_000;
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertTrue(System.currentTimeMillis() < deadline, "could not read the outputs to their end " + end);
                for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(200))) {
                    String aggregation = r.topic().substring(OUTPUT.length() + 1);
                    out.computeIfAbsent(aggregation, a -> new HashMap<>())
                        .computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
                }
            }
        }
        return out;
    }

    /** Each aggregation's values per key must be exactly the running aggregate of the key's inputs, in order. */
    private static void verify(Map<String, List<Long>> inputs, Map<String, Map<String, List<Long>>> outputs) {
        List<String> problems = new ArrayList<>();
        long checked = 0;
        for (String a : EosAggregationJob.AGGREGATIONS) {
            Map<String, List<Long>> byKey = outputs.getOrDefault(a, Map.of());
            if (!byKey.keySet().equals(inputs.keySet())) {
                problems.add(a + ": " + byKey.size() + " keys in the output, " + inputs.size() + " in the input");
            }
            for (Map.Entry<String, List<Long>> e : inputs.entrySet()) {
                List<Long> expected = running(a, e.getValue());
                List<Long> actual = byKey.getOrDefault(e.getKey(), List.of());
                checked += actual.size();
                if (!expected.equals(actual)) {
                    problems.add(a + " of " + e.getKey() + ": expected " + expected + " (final " + expected.get(expected.size() - 1)
                        + "), got " + actual);
                }
            }
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " wrong aggregates (a repeated count = counted twice, a gap = lost), e.g.\n  "
                + String.join("\n  ", problems.subList(0, Math.min(20, problems.size()))));
        }
        assertTrue(checked >= (long) EosAggregationJob.AGGREGATIONS.size() * MIN_RECORDS, "checked " + checked);
    }

    /** The values an aggregation emits for a key's inputs: one per input, the running aggregate. */
    private static List<Long> running(String aggregation, List<Long> values) {
        List<Long> out = new ArrayList<>(values.size());
        long acc = 0;
        for (int i = 0; i < values.size(); i++) {
            long v = values.get(i);
            acc = switch (aggregation) {
                case "echo" -> v;
                case "sum" -> i == 0 ? v : acc + v;
                case "min" -> i == 0 ? v : Math.min(acc, v);
                case "max" -> i == 0 ? v : Math.max(acc, v);
                case "count" -> i + 1;
                default -> throw new IllegalArgumentException(aggregation);
            };
            out.add(acc);
        }
        return out;
    }

    /** One restore line of the runtime's log. */
    private record Restore(String store, String changelog, String origin, long startOffset, long records, long atMost) {
    }

    /** One job instance: a forked runner JVM, restarted on the same state directory; a log file per incarnation. */
    private final class Instance implements AutoCloseable {
        final int index;
        private final String bootstrap;
        private final Path stateDir;
        private final List<Path> logs = new ArrayList<>();
        private Process process;

        Instance(int index, String bootstrap, Path stateDir) {
            this.index = index;
            this.bootstrap = bootstrap;
            this.stateDir = stateDir;
        }

        void start() throws IOException {
            Path log = dir.resolve("instance-" + index + "-" + logs.size() + ".log");
            logs.add(log);
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx192m", "-Dorg.slf4j.simpleLogger.log.io.weir.streams=info",
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                StreamsJobRunner.class.getName(), "--class", EosAggregationJob.class.getName()));
            Map<String, String> props = new HashMap<>();
            props.put("application.id", APP);
            props.put("bootstrap.servers", bootstrap);
            props.put("state.dir", stateDir.toString());
            props.put("statestore.uncommitted.max.bytes", Integer.toString(UNCOMMITTED_MAX_BYTES));
            // the verifier checks every update of every key: record caches (one update per key per commit) are off
            props.put("statestore.cache.max.bytes", "0");
            props.put("eos.input", INPUT);
            props.put("eos.output.prefix", OUTPUT);
            if (staticMembers) {
                props.put("consumer.group.instance.id", APP + "-" + index);
                props.put("consumer.session.timeout.ms", "30000");   // a restart comes back long before it
            } else {
                props.put("consumer.session.timeout.ms", "6000");    // a SIGKILLed member leaves the group soon
            }
            // a returning instance whose copy of a task's stores lags its current owner's by more than
            // acceptable.recovery.lag (Kafka's default, 10,000 changelog offsets: about 12 s of this feed) gets it as
            // a warm-up replica first, and the task moves at the next probing rebalance; at the default interval
            // (10 minutes) the group would sit unbalanced far beyond the campaign's waits. Static members need it
            // too: an instance back from a clean stop (it left the group) lags by what the others processed while
            // it was away, which a slow restart can push past the default lag
            props.put("probing.rebalance.interval.ms", "5000");
            props.put("consumer.heartbeat.interval.ms", "1000");
            for (Map.Entry<String, String> e : props.entrySet()) {
                cmd.add("--property");
                cmd.add(e.getKey() + "=" + e.getValue());
            }
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        }

        /** Waits (2 minutes at most) until this incarnation's job is RUNNING: its tasks restored and processing. */
        void awaitRunning() throws InterruptedException {
            long deadline = System.currentTimeMillis() + 120_000;
            while (!output().contains("to RUNNING")) {
                assertTrue(process.isAlive(), "instance " + index + " exited\n" + output());
                assertTrue(System.currentTimeMillis() < deadline, "instance " + index + " is not running\n" + output());
                Thread.sleep(100);
            }
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "instance " + index + " did not die");
        }

        /** SIGTERM: the runner's shutdown hook closes the job (the last transaction commits, the stores apply it). */
        void stop() throws InterruptedException {
            process.destroy();
            assertTrue(process.waitFor(120, TimeUnit.SECONDS), "instance " + index + " did not stop\n" + output());
            // a JVM ended by SIGTERM exits with 143 after its shutdown hooks; the log says whether the job closed
            assertTrue(output().contains("State transition from PENDING_SHUTDOWN to NOT_RUNNING"),
                "instance " + index + " did not close cleanly (exit " + process.exitValue() + ")\n" + output());
        }

        /** This incarnation's log. */
        String output() {
            try {
                return Files.readString(logs.get(logs.size() - 1));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The last {@code lines} lines of this incarnation's log. */
        String outputTail(int lines) {
            if (logs.isEmpty()) {
                return "";
            }
            List<String> all = output().lines().toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        }

        /** How many probing rebalances (warm-up replicas placed) this instance's incarnations asked for. */
        long probingRebalances() throws IOException {
            long n = 0;
            for (Path log : logs) {
                n += Files.readString(log).lines().filter(l -> l.contains("probing rebalance")).count();
            }
            return n;
        }

        /** This incarnation's restores, one per store it opened. */
        List<Restore> restores() {
            List<Restore> out = new ArrayList<>();
            Matcher m = RESTORE.matcher(output());
            while (m.find()) {
                out.add(new Restore(m.group(1), m.group(2), m.group(3), Long.parseLong(m.group(4)),
                    Long.parseLong(m.group(5)), Long.parseLong(m.group(6))));
            }
            return out;
        }

        boolean everWiped() throws IOException {
            for (Path log : logs) {
                if (Files.readString(log).contains("Wiped corrupt state store")) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public void close() throws InterruptedException {
            if (process != null && process.isAlive()) {
                process.destroy();
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
    }
}
