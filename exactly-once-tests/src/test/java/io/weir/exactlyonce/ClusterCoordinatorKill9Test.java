package io.weir.exactlyonce;

import io.weir.broker.testing.BrokerProcess;
import io.weir.broker.zk.EmbeddedZooKeeper;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A consumer group keeps its committed offsets when the broker coordinating it dies: three broker
 * processes on one ZooKeeper; a kafka-clients consumer of a group commits after each poll; the broker
 * leading the group's {@code __consumer_offsets} partition (its coordinator) is killed with SIGKILL
 * midway. The new coordinator — the partition's new leader, which loads the group from the replicated
 * log — serves exactly the last successful commit, and consumption goes on from there: every record is
 * consumed, none is skipped, and a record is read again only when the consumer rewound to the last
 * successful commit (after a rebalance).
 */
class ClusterCoordinatorKill9Test {
    private static final int BROKERS = 3;
    private static final int PARTITIONS = 3;
    private static final int RECORDS = 3_000;
    private static final String TOPIC = "input";
    private static final String GROUP = "survivor";

    @TempDir
    Path dir;

    @Test
    void shouldKeepConsumingFromTheLastCommitWhenTheCoordinatorIsKilled() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir.resolve("zk"))) {
            List<BrokerProcess> brokers = new ArrayList<>();
            try {
                for (int i = 0; i < BROKERS; i++) {
                    brokers.add(new BrokerProcess(dir.resolve("broker-" + i)));
                }
                for (int i = 0; i < BROKERS; i++) {
                    brokers.get(i).start("broker.id=" + i, "zookeeper.connect=" + zk.connectString() + "/coord",
                        "zookeeper.session.timeout.ms=6000", "offsets.topic.num.partitions=1",
                        "transaction.state.log.num.partitions=1", "group.initial.rebalance.delay.ms=0");
                }
                Clusters.awaitRegistered(brokers);
                String bootstrap = String.join(",", brokers.stream().map(BrokerProcess::bootstrapServers).toList());
                Properties ap = new Properties();
                ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                try (Admin admin = Admin.create(ap)) {
                    admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) BROKERS)
                        .configs(Map.of("min.insync.replicas", "2")))).all().get(60, TimeUnit.SECONDS);
                    produce(bootstrap);
                    consume(bootstrap, admin, brokers);
                }
            } finally {
                for (BrokerProcess b : brokers) {
                    b.close();
                }
            }
        }
    }

    private static void produce(String bootstrap) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, "r-" + i));
            }
            producer.flush();
        }
    }

    private void consume(String bootstrap, Admin admin, List<BrokerProcess> brokers) throws Exception {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50);
        Map<TopicPartition, Long> next = new HashMap<>(); // one past the highest offset consumed
        Map<TopicPartition, Long> committed = new HashMap<>(); // the last successful commit
        int consumed = 0;
        boolean killed = false;
        long deadline = System.currentTimeMillis() + 180_000;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            while (total(next) < RECORDS) {
                assertTrue(System.currentTimeMillis() < deadline, "timed out consuming: " + next);
                if (!killed && consumed >= RECORDS / 3) {
                    killCoordinator(admin, brokers, committed);
                    killed = true;
                }
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
                for (ConsumerRecord<String, String> r : records) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    long expected = next.getOrDefault(tp, 0L);
                    if (r.offset() != expected) {
                        // only a rewind to the last successful commit (a rebalance resets the position there)
                        long last = committed.getOrDefault(tp, 0L);
                        assertEquals(last, r.offset(), tp + ": after offset " + (expected - 1) + " the consumer read "
                            + r.offset() + ", neither the next record nor the last commit " + last);
                    }
                    assertEquals("r-" + (r.offset() * PARTITIONS + r.partition()), r.value(), "the record at " + r.offset());
                    next.put(tp, r.offset() + 1);
                    commit.put(tp, new OffsetAndMetadata(r.offset() + 1));
                    consumed++;
                }
                if (!commit.isEmpty()) {
                    try {
                        consumer.commitSync(commit, Duration.ofSeconds(60));
                        commit.forEach((tp, o) -> committed.put(tp, o.offset()));
                    } catch (CommitFailedException e) {
                        // the group rebalanced under the commit: the consumer resumes from the last successful one
                    }
                }
            }
            assertTrue(killed, "the coordinator was killed while consuming");
            Map<TopicPartition, OffsetAndMetadata> stored = consumer.committed(committed.keySet(), Duration.ofSeconds(60));
            for (Map.Entry<TopicPartition, Long> e : committed.entrySet()) {
                assertEquals(e.getValue(), stored.get(e.getKey()).offset(), "the final commit of " + e.getKey());
            }
        }
        for (int p = 0; p < PARTITIONS; p++) {
            assertEquals((long) RECORDS / PARTITIONS, committed.get(new TopicPartition(TOPIC, p)), "partition " + p);
        }
    }

    private static long total(Map<TopicPartition, Long> next) {
        return next.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Kills the group's coordinator and waits until the group's offsets are served again (by the new
     * leader of its offsets partition): they must be exactly the last successful commits.
     */
    private static void killCoordinator(Admin admin, List<BrokerProcess> brokers, Map<TopicPartition, Long> committed)
        throws Exception {
        int coordinator = admin.describeConsumerGroups(List.of(GROUP)).all().get(60, TimeUnit.SECONDS)
            .get(GROUP).coordinator().id();
        TopicPartitionInfo offsets = admin.describeTopics(List.of("__consumer_offsets")).allTopicNames()
            .get(60, TimeUnit.SECONDS).get("__consumer_offsets").partitions().get(0);
        assertEquals(coordinator, offsets.leader().id(), "the coordinator leads the group's offsets partition");
        assertEquals(BROKERS, offsets.replicas().size(), "__consumer_offsets is replicated on every broker");
        brokers.get(coordinator).kill();
        Map<TopicPartition, Long> served = new HashMap<>();
        waitUntil(() -> {
            try {
                int now = admin.describeConsumerGroups(List.of(GROUP)).all().get(10, TimeUnit.SECONDS)
                    .get(GROUP).coordinator().id();
                if (now == coordinator) {
                    return false;
                }
                served.clear();
                admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS)
                    .forEach((tp, o) -> served.put(tp, o.offset()));
                return true;
            } catch (Exception e) {
                return false;
            }
        }, "another broker coordinates the group");
        assertEquals(committed, served, "the new coordinator serves the last commits");
    }

    /** Polls until {@code condition} holds; fails after two minutes (a hung test, not a timing assertion). */
    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(100);
        }
    }
}
