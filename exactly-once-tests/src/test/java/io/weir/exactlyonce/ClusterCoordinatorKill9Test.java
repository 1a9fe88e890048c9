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
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.TimeoutException;
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

import static io.weir.exactlyonce.Clusters.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A consumer group keeps its committed offsets when the broker coordinating it dies: three broker
 * processes on one ZooKeeper; a kafka-clients consumer of a group commits after each poll; the broker
 * leading the group's {@code __consumer_offsets} partition (its coordinator) is killed with SIGKILL
 * midway. The new coordinator — the partition's new leader, which loads the group from the replicated
 * log — serves exactly the last successful commit, and consumption goes on from there. The broker comes
 * back, and the coordinator is killed again, this time with the consumer polling and committing straight
 * through the failover. Every record is consumed, none is skipped, a record is read again only after a
 * rewind that stays at or after the last successful commit, and the final commit is served.
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
                List<String[]> overrides = new ArrayList<>();
                for (int i = 0; i < BROKERS; i++) {
                    overrides.add(new String[] {"broker.id=" + i, "zookeeper.connect=" + zk.connectString() + "/coord",
                        "zookeeper.session.timeout.ms=6000", "offsets.topic.num.partitions=1",
                        "transaction.state.log.num.partitions=1", "group.initial.rebalance.delay.ms=0"});
                    brokers.get(i).start(overrides.get(i));
                }
                Clusters.awaitRegistered(brokers);
                String bootstrap = String.join(",", brokers.stream().map(BrokerProcess::bootstrapServers).toList());
                Properties ap = new Properties();
                ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                try (Admin admin = Admin.create(ap)) {
                    admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) BROKERS)
                        .configs(Map.of("min.insync.replicas", "2")))).all().get(60, TimeUnit.SECONDS);
                    produce(bootstrap);
                    consume(bootstrap, admin, brokers, overrides);
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

    private void consume(String bootstrap, Admin admin, List<BrokerProcess> brokers, List<String[]> overrides)
        throws Exception {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50);
        Map<TopicPartition, Long> next = new HashMap<>(); // one past the highest offset consumed
        Map<TopicPartition, Long> committed = new HashMap<>(); // the last successful commit
        int consumed = 0;
        int kills = 0;
        long deadline = System.currentTimeMillis() + 180_000;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            while (total(next) < RECORDS) {
                assertTrue(System.currentTimeMillis() < deadline, "timed out consuming: " + next);
                if (kills == 0 && consumed >= RECORDS / 3) {
                    // between commits: the new coordinator must serve exactly the last one; then the broker returns
                    int killed = killCoordinator(admin, brokers, committed);
                    brokers.get(killed).start(overrides.get(killed));
                    Clusters.awaitRegistered(brokers);
                    kills++;
                } else if (kills == 1 && consumed >= 2 * RECORDS / 3) {
                    // the coordinator dies and the consumer goes straight on: polls and commits meet the failover
                    brokers.get(coordinatorOf(admin)).kill();
                    kills++;
                }
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
                for (ConsumerRecord<String, String> r : records) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    long expected = next.getOrDefault(tp, 0L);
                    if (r.offset() != expected) {
                        // only a rewind (a rebalance resets the position to the group's commit), never before the last
                        // successful commit (a commit that failed on the client may still have been written)
                        long last = committed.getOrDefault(tp, 0L);
                        assertTrue(r.offset() >= last && r.offset() < expected, tp + ": after offset " + (expected - 1)
                            + " the consumer read " + r.offset() + " (the last successful commit is " + last + ")");
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
                    } catch (CommitFailedException | RebalanceInProgressException | TimeoutException e) {
                        // the group rebalanced under the commit, or the coordinator moved for longer than the commit
                        // waits: the consumer resumes from the last commit that was written
                    }
                }
            }
            assertEquals(2, kills, "the coordinator was killed twice while consuming");
            Map<TopicPartition, OffsetAndMetadata> end = new HashMap<>();
            next.forEach((tp, o) -> end.put(tp, new OffsetAndMetadata(o)));
            consumer.commitSync(end, Duration.ofSeconds(60)); // the last one again, if it failed in the loop
            next.forEach(committed::put);
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
    private static int killCoordinator(Admin admin, List<BrokerProcess> brokers, Map<TopicPartition, Long> committed)
        throws Exception {
        int coordinator = coordinatorOf(admin);
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
        return coordinator;
    }

    private static int coordinatorOf(Admin admin) throws Exception {
        return admin.describeConsumerGroups(List.of(GROUP)).all().get(60, TimeUnit.SECONDS).get(GROUP).coordinator().id();
    }
}
