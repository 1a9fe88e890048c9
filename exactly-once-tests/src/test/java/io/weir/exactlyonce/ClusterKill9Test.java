package io.weir.exactlyonce;

import io.weir.broker.testing.BrokerProcess;
import io.weir.broker.zk.EmbeddedZooKeeper;
import io.weir.producer.WeirProducer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.weir.exactlyonce.Clusters.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * No acknowledged record lost when a partition leader dies: three broker processes on one ZooKeeper, a
 * topic with replication factor 3 and {@code min.insync.replicas=2}, and an idempotent {@code acks=all}
 * producer (Apache kafka-clients, Weir's own, or librdkafka 2.15 through compat-tests' node harness
 * {@code librdkafka/cluster-produce.js}, skipped where that harness is not installed) writing while the leader of a partition is killed with
 * SIGKILL and restarted, {@code weir.faults.rounds} times (2 by default, more with {@code -Pfaults}).
 * Afterwards every acknowledged record is read back at the offset it was acknowledged with, no record
 * appears twice in a partition, and each partition holds the producer's records in the order they were
 * sent. A client may acknowledge a record without its offset (-1: Kafka's DUPLICATE_SEQUENCE_NUMBER, or
 * Weir's producer completing a batch whose request was lost but which a later acknowledgement proves
 * written); such a record must still be in its partition, exactly once.
 */
class ClusterKill9Test {
    private static final int BROKERS = 3;
    private static final int PARTITIONS = 3;
    private static final int KILLS = Integer.getInteger("weir.faults.rounds", 2);
    private static final int RECORDS = 4_000 * (KILLS + 1);
    private static final String TOPIC = "replicated";
    /** Records per second librdkafka's producer sends (the Java producers send as fast as 500 in flight allow). */
    private static final int LIBRDKAFKA_RATE = Integer.getInteger("weir.faults.librdkafka.rate", 500);

    @TempDir
    Path dir;

    /** What the producer learned of one record: acknowledged at an offset, or failed. */
    record Ack(int partition, long offset, String value) {
    }

    /** The producer side, so the same campaign runs kafka-clients and Weir's producer. */
    interface Sender extends AutoCloseable {
        void send(int partition, String value, java.util.function.BiConsumer<Long, Exception> done);

        void flush();

        @Override
        void close();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"kafka-clients", "weir", "librdkafka"})
    void shouldKeepEveryAcknowledgedRecordWhenLeadersAreKilled(String client) throws Exception {
        if (client.equals("librdkafka")) {
            assumeTrue(java.nio.file.Files.isDirectory(
                    librdkafkaDir().resolve("node_modules/@confluentinc/kafka-javascript/build/Release")),
                "librdkafka harness not installed: run `CKJS_LINKING=dynamic npm ci` in "
                    + librdkafkaDir().toAbsolutePath() + " (.ci/run does; see its log /tmp/weir-ci-npm.log)");
            assumeTrue(nodeOnPath(), "node is not on the PATH");
        }
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir.resolve("zk"))) {
            List<BrokerProcess> brokers = new ArrayList<>();
            List<String[]> overrides = new ArrayList<>();
            try {
                for (int i = 0; i < BROKERS; i++) {
                    brokers.add(new BrokerProcess(dir.resolve("broker-" + i)));
                    overrides.add(new String[] {"broker.id=" + i, "zookeeper.connect=" + zk.connectString() + "/kill9",
                        "zookeeper.session.timeout.ms=6000", "offsets.topic.num.partitions=1",
                        "transaction.state.log.num.partitions=1", "group.initial.rebalance.delay.ms=0"});
                }
                for (int i = 0; i < BROKERS; i++) {
                    brokers.get(i).start(overrides.get(i));
                }
                Clusters.awaitRegistered(brokers);
                String bootstrap = String.join(",", brokers.stream().map(BrokerProcess::bootstrapServers).toList());
                Properties ap = new Properties();
                ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                try (Admin admin = Admin.create(ap)) {
                    admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) BROKERS)
                        .configs(Map.of("min.insync.replicas", "2")))).all().get(60, TimeUnit.SECONDS);
                    waitUntil(() -> fullIsr(admin), "every partition's ISR has all three replicas");
                    campaign(client, bootstrap, admin, brokers, overrides);
                }
            } finally {
                for (BrokerProcess b : brokers) {
                    b.close();
                }
            }
        }
    }

    private void campaign(String client, String bootstrap, Admin admin, List<BrokerProcess> brokers,
                          List<String[]> overrides) throws Exception {
        Map<String, Ack> acked = new ConcurrentHashMap<>();
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<Throwable> producerFailure = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Process> node = new AtomicReference<>();
        Thread producer = new Thread(() -> {
            try {
                if (client.equals("librdkafka")) {
                    produceWithLibrdkafka(bootstrap, acked, failed, node);
                } else {
                    produce(client, bootstrap, acked, failed, stop);
                }
            } catch (Throwable t) {
                producerFailure.set(t);
            }
        }, "kill9-producer");
        producer.start();
        Random random = new Random(0x5EED);
        try {
            for (int kill = 0; kill < KILLS; kill++) {
                int target = acked.size() + RECORDS / (KILLS + 2);
                waitUntil(() -> acked.size() >= target || !producer.isAlive(), "the producer gets acknowledgements");
                int partition = random.nextInt(PARTITIONS);
                // a broker's metadata may still be settling the previous restart: wait for it to name a leader
                AtomicInteger named = new AtomicInteger(-1);
                waitUntil(() -> {
                    named.set(leaderOrNone(admin, partition));
                    return named.get() >= 0;
                }, "partition " + partition + " has a leader before kill " + kill);
                int leader = named.get();
                brokers.get(leader).kill();
                int afterKill = acked.size();
                // the partitions it led move to another replica: acknowledgements go on without it
                waitUntil(() -> acked.size() >= afterKill + 300 || !producer.isAlive(),
                    "acknowledgements continue after broker " + leader + " was killed");
                brokers.get(leader).start(overrides.get(leader));
                waitUntil(() -> fullIsr(admin), "broker " + leader + " is back in every ISR");
            }
            producer.join(180_000);
            assertNull(producerFailure.get(), () -> "the producer failed: " + producerFailure.get());
            assertTrue(!producer.isAlive(), "the producer finished");
        } finally {
            stop.set(true);
            if (node.get() != null) {
                node.get().destroyForcibly(); // a campaign that failed early does not leave node producing
            }
            producer.join(60_000);
        }
        verify(bootstrap, acked);
        assertTrue(acked.size() > RECORDS / 2, "most records acknowledged: " + acked.size() + " of " + RECORDS
            + " (" + failed.get() + " failed)");
    }

    private static void produce(String client, String bootstrap, Map<String, Ack> acked, AtomicInteger failed,
                                AtomicBoolean stop) throws InterruptedException {
        Semaphore inFlight = new Semaphore(500);
        try (Sender sender = sender(client, bootstrap)) {
            for (int i = 0; i < RECORDS && !stop.get(); i++) {
                inFlight.acquire();
                int partition = i % PARTITIONS;
                String value = client + "-" + i;
                sender.send(partition, value, (offset, e) -> {
                    if (e == null) {
                        acked.put(value, new Ack(partition, offset, value));
                    } else {
                        failed.incrementAndGet();
                    }
                    inFlight.release();
                });
                if (i % 50 == 0) {
                    Thread.sleep(5); // a steady stream across the kills, not one burst before them
                }
            }
            sender.flush();
        }
    }

    /**
     * Runs {@code cluster-produce.js} (librdkafka's idempotent {@code acks=all} producer, paced by the script)
     * and records its delivery reports as they come: {@code ACK <partition> <offset> <value>} or
     * {@code FAIL <value> <error>}, then {@code SUMMARY {json}}. Fails when the script fails (a fatal producer
     * error, records not delivered) or is killed for running too long.
     */
    private static void produceWithLibrdkafka(String bootstrap, Map<String, Ack> acked, AtomicInteger failed,
                                              AtomicReference<Process> node) throws Exception {
        Process p = new ProcessBuilder("node", "cluster-produce.js", bootstrap, TOPIC, String.valueOf(RECORDS),
            String.valueOf(PARTITIONS), String.valueOf(LIBRDKAFKA_RATE)).directory(librdkafkaDir().toFile()).start();
        node.set(p);
        StringBuilder stderr = new StringBuilder();
        Thread drain = new Thread(() -> {
            try (java.io.BufferedReader r = p.errorReader()) {
                for (String l = r.readLine(); l != null; l = r.readLine()) {
                    synchronized (stderr) {
                        if (stderr.length() < 20_000) {
                            stderr.append(l).append('\n');
                        }
                    }
                }
            } catch (java.io.IOException e) {
                // the process is gone; what it wrote so far is in stderr
            }
        }, "kill9-librdkafka-stderr");
        drain.setDaemon(true);
        drain.start();
        String summary = null;
        try (java.io.BufferedReader r = p.inputReader()) {
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                String[] f = l.split(" ", 4);
                if (f[0].equals("ACK") && f.length == 4) {
                    acked.put(f[3], new Ack(Integer.parseInt(f[1]), Long.parseLong(f[2]), f[3]));
                } else if (f[0].equals("FAIL")) {
                    failed.incrementAndGet();
                } else if (f[0].equals("SUMMARY")) {
                    summary = l;
                }
            }
        } finally {
            if (!p.waitFor(240, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            drain.join(10_000);
        }
        String context;
        synchronized (stderr) {
            context = summary + "\nstderr:\n" + stderr;
        }
        assertEquals(0, p.exitValue(), "cluster-produce.js failed: " + context);
    }

    /** The librdkafka harness directory (compat-tests/librdkafka), as the pom passes it. */
    private static Path librdkafkaDir() {
        return Path.of(System.getProperty("weir.compat.librdkafkaDir", "../compat-tests/librdkafka"));
    }

    private static boolean nodeOnPath() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && java.nio.file.Files.isExecutable(Path.of(d, "node"))) {
                return true;
            }
        }
        return false;
    }

    private static void verify(String bootstrap, Map<String, Ack> acked) {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        Map<Integer, Map<Long, String>> stored = new HashMap<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                tps.add(new TopicPartition(TOPIC, p));
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = c.endOffsets(tps, Duration.ofSeconds(30));
            long deadline = System.currentTimeMillis() + 120_000;
            while (tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp)) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    stored.computeIfAbsent(r.partition(), p -> new HashMap<>()).put(r.offset(), r.value());
                }
            }
        }
        Map<Integer, Set<String>> values = new HashMap<>();
        for (Map.Entry<Integer, Map<Long, String>> e : stored.entrySet()) {
            Set<String> seen = new HashSet<>();
            int previous = -1;
            for (long offset : new java.util.TreeSet<>(e.getValue().keySet())) {
                String v = e.getValue().get(offset);
                assertTrue(seen.add(v), "partition " + e.getKey() + " holds " + v + " twice");
                int index = Integer.parseInt(v.substring(v.lastIndexOf('-') + 1));
                assertTrue(index > previous, "partition " + e.getKey() + " holds " + v + " at " + offset
                    + ", after record " + previous + " that was sent later");
                previous = index;
            }
            values.put(e.getKey(), seen);
        }
        for (Ack a : acked.values()) {
            if (a.offset() < 0) {
                assertTrue(values.getOrDefault(a.partition(), Set.of()).contains(a.value()),
                    () -> "acknowledged " + a + " (offset not known) is not in the log");
                continue;
            }
            String at = stored.getOrDefault(a.partition(), Map.of()).get(a.offset());
            assertNotNull(at, () -> "acknowledged " + a + " is not in the log");
            assertEquals(a.value(), at, () -> "acknowledged " + a + " was overwritten");
        }
    }

    private static Sender sender(String client, String bootstrap) {
        if (client.equals("weir")) {
            Map<String, Object> p = new HashMap<>();
            p.put("bootstrap.servers", bootstrap);
            p.put("acks", "all");
            p.put("enable.idempotence", "true");
            p.put("linger.ms", "5");
            p.put("request.timeout.ms", "10000");
            p.put("delivery.timeout.ms", "120000");
            WeirProducer<String, String> producer = new WeirProducer<>(p, new io.weir.producer.Serializers.StringSerializer(),
                new io.weir.producer.Serializers.StringSerializer());
            return new Sender() {
                @Override
                public void send(int partition, String value, java.util.function.BiConsumer<Long, Exception> done) {
                    producer.send(new io.weir.producer.ProducerRecord<>(TOPIC, partition, null, null, value),
                        (md, e) -> done.accept(e == null ? md.offset() : -1L, e));
                }

                @Override
                public void flush() {
                    producer.flush();
                }

                @Override
                public void close() {
                    producer.close();
                }
            };
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        return new Sender() {
            @Override
            public void send(int partition, String value, java.util.function.BiConsumer<Long, Exception> done) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(TOPIC, partition, null, value),
                    (md, e) -> done.accept(e == null ? md.offset() : -1L, e));
            }

            @Override
            public void flush() {
                producer.flush();
            }

            @Override
            public void close() {
                producer.close(Duration.ofSeconds(30));
            }
        };
    }

    private static TopicDescription describe(Admin admin) throws Exception {
        return admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS).get(TOPIC);
    }

    private static int leaderOf(Admin admin, int partition) throws Exception {
        Node leader = describe(admin).partitions().get(partition).leader();
        return leader == null ? -1 : leader.id();
    }

    /** The partition's leader, or -1 when it has none or the metadata cannot be read now. */
    private static int leaderOrNone(Admin admin, int partition) {
        try {
            return leaderOf(admin, partition);
        } catch (Exception e) {
            return -1;
        }
    }

    private static boolean fullIsr(Admin admin) {
        try {
            for (TopicPartitionInfo p : describe(admin).partitions()) {
                if (p.leader() == null || p.isr().size() < BROKERS) {
                    return false;
                }
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
