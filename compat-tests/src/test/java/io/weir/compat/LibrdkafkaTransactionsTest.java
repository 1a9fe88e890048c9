package io.weir.compat;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * librdkafka's transactional producer (2.15, through {@code @confluentinc/kafka-javascript}) as the
 * read-process-write copier of Kafka's transactions system test against a Weir broker. librdkafka speaks
 * transactions V1 (AddPartitionsToTxn, AddOffsetsToTxn + TxnOffsetCommit), so the broker verifies each of its
 * transactional batches. {@code librdkafka/copier.js} copies and watches; this test seeds the input and checks
 * the read_committed output with Apache kafka-clients. Skipped, like {@link LibrdkafkaCompatibilityTest},
 * where the harness is not installed.
 */
class LibrdkafkaTransactionsTest {
    /** Kafka's system test copies 100,000; 20,000 keeps the default build short. */
    private static final int RECORDS = 20_000;
    private static final int PARTITIONS = 4;
    private Path dir;
    private EmbeddedBroker broker;

    @BeforeEach
    void start() {
        dir = Path.of(System.getProperty("weir.compat.librdkafkaDir", "librdkafka"));
        assumeTrue(Files.isDirectory(dir.resolve("node_modules/@confluentinc/kafka-javascript/build/Release")),
            "librdkafka harness not installed: run `CKJS_LINKING=dynamic npm ci` in " + dir.toAbsolutePath()
                + " (.ci/run does; see its log /tmp/weir-ci-npm.log)");
        assumeTrue(ForkedProcess.onPath("node"), "node is not on the PATH");
        broker = new EmbeddedBroker(Map.of(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS, "0",
            "transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3")).start();
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void librdkafkasCopierShouldCopyEveryRecordExactlyOnceThroughRandomAborts() throws Exception {
        String in = "lrk-copier-in";
        String out = "lrk-copier-out";
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (Admin admin = Admin.create(ap)) {
            admin.createTopics(List.of(new NewTopic(in, PARTITIONS, (short) 1), new NewTopic(out, PARTITIONS, (short) 1)))
                .all().get();
        }
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        pp.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (KafkaProducer<String, String> seed = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                seed.send(new ProducerRecord<>(in, i % PARTITIONS, null, Integer.toString(i)));
            }
        }

        ForkedProcess.Result r = ForkedProcess.run(dir, null, 240,
            List.of("node", "copier.js", broker.bootstrapServers(), in, out, String.valueOf(RECORDS), "20261128"));
        String summary = r.lastStdoutLine();
        String context = "summary: " + summary + "\nstderr:\n" + r.stderr();
        assertEquals(0, r.exitCode(), context);
        assertTrue(summary.contains("\"ok\":true"), context);
        assertTrue(summary.contains("\"watcherAbortedSeen\":[]"), "the concurrent read_committed consumer saw "
            + "aborted records: " + context);
        Set<Integer> aborted = new HashSet<>();
        Matcher list = Pattern.compile("\"aborted\":\\[([0-9,]*)]").matcher(summary);
        assertTrue(list.find(), context);
        for (String t : list.group(1).split(",")) {
            if (!t.isEmpty()) {
                aborted.add(Integer.parseInt(t));
            }
        }
        assertTrue(aborted.size() >= 3, "aborted only " + aborted + ": " + context);
        Matcher group = Pattern.compile("\"group\":\"([^\"]+)\"").matcher(summary);
        assertTrue(group.find(), context);

        List<String> output = readAll(out, true);
        Map<String, Integer> copies = new HashMap<>();
        for (String v : output) {
            int txn = Integer.parseInt(v.substring(0, v.indexOf(':')));
            assertFalse(aborted.contains(txn), "the read_committed output holds a record of aborted transaction " + txn);
            copies.merge(v.substring(v.indexOf(':') + 1), 1, Integer::sum);
        }
        assertEquals(RECORDS, copies.size(), "every input record is in the output");
        copies.forEach((v, n) -> assertEquals(1, n, "input record " + v + " copied " + n + " times"));
        assertEquals(RECORDS, output.size());
        assertTrue(readAll(out, false).size() > RECORDS, "the aborted copies are in the log, hidden");
        try (Admin admin = Admin.create(ap)) {
            // until the last commit's markers are written the fetch answers UNSTABLE_OFFSET_COMMIT for a partition,
            // which the admin client does not retry (it leaves the partition out): list again until all are there
            Map<TopicPartition, OffsetAndMetadata> offsets = Map.of();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (offsets.size() < PARTITIONS && System.nanoTime() < deadline) {
                offsets = admin.listConsumerGroupOffsets(group.group(1),
                    new ListConsumerGroupOffsetsOptions().requireStable(true)).partitionsToOffsetAndMetadata().get();
                if (offsets.size() < PARTITIONS) {
                    Thread.sleep(50);
                }
            }
            for (int p = 0; p < PARTITIONS; p++) {
                assertEquals(RECORDS / PARTITIONS, offsets.get(new TopicPartition(in, p)).offset(),
                    "the group's committed offset of partition " + p);
            }
        }
    }

    /** Every value a consumer of that isolation level reads from the beginning to the end (LSO = HW first). */
    private List<String> readAll(String topic, boolean readCommitted) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) {
            tps.add(new TopicPartition(topic, i));
        }
        try (KafkaConsumer<String, String> c = consumer(readCommitted); KafkaConsumer<String, String> u = consumer(false)) {
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + 60_000;
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            while (!end.equals(u.endOffsets(tps))) {
                assertTrue(System.currentTimeMillis() < deadline, "the LSO of " + topic + " stays at " + end);
                end = c.endOffsets(tps);
            }
            Map<TopicPartition, Long> last = end;
            List<String> values = new ArrayList<>();
            while (tps.stream().anyMatch(tp -> c.position(tp) < last.get(tp))) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach the end of " + topic + ": " + last);
                for (ConsumerRecord<String, String> rec : c.poll(Duration.ofMillis(100))) {
                    values.add(rec.value());
                }
            }
            return values;
        }
    }

    private KafkaConsumer<String, String> consumer(boolean readCommitted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }
}
