package io.weir.broker.zk;

import io.weir.broker.metadata.PartitionState;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.weir.broker.zk.ZkTestCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three brokers with two log directories each, a topic with replication factor 3 and min.insync.replicas 2:
 * one directory of a partition leader fails under a running kafka-clients producer (acks=all, idempotent) — a
 * real fault, the directory renamed away, so the leader's next roll fails. The controller learns the broker's
 * offline replicas, moves the leaderships that directory held to other brokers and drops the replicas from the
 * ISRs; the producer fails over with nothing acknowledged lost, and the broker keeps serving its other
 * directory.
 */
class LogDirFailureClusterTest {
    private static final String TOPIC = "failover";
    private static final int PARTITIONS = 6;
    private static final int RECORDS = 1_200;

    private LogDirsTestCluster jbod;
    private ZkTestCluster cluster;
    private List<EmbeddedBroker> brokers;

    @BeforeEach
    void start() throws Exception {
        jbod = LogDirsTestCluster.start("logdir-failure", 3, Map.of("controlled.shutdown.enable", "false"));
        cluster = jbod.cluster();
        brokers = jbod.brokers();
        waitUntil(() -> cluster.controller() != null, "a controller");
    }

    @AfterEach
    void stop() throws Exception {
        if (jbod != null) {
            jbod.close();
        }
    }

    private String bootstrap() {
        return jbod.bootstrap();
    }

    private PartitionState state(int p) {
        return cluster.controller().broker().metadataStore().partitionState(new TopicPartition(TOPIC, p)).orElse(null);
    }

    @Test
    void shouldMoveTheLeadershipsOfAFailedDirectoryToOtherBrokersWithNothingAcknowledgedLost() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)
                .configs(Map.of("segment.bytes", "2048", "min.insync.replicas", "2")))).all().get();
        }
        waitUntil(() -> {
            for (int p = 0; p < PARTITIONS; p++) {
                PartitionState s = state(p);
                if (s == null || s.leader() < 0 || s.isr().size() != 3) {
                    return false;
                }
            }
            return true;
        }, "every partition led with a full ISR");
        int victim = state(0).leader();
        EmbeddedBroker victimBroker = brokers.get(victim);
        // a new topic's ISR is every replica before the followers made their logs: wait for the victim's, so that
        // every partition it holds in the directory about to fail is counted below
        waitUntil(() -> {
            for (int p = 0; p < PARTITIONS; p++) {
                if (victimBroker.broker().replicaManager().logManager().logDirOf(new TopicPartition(TOPIC, p)) == null) {
                    return false;
                }
            }
            return true;
        }, "broker " + victim + " holds a log of every partition");
        Path failedDir = victimBroker.broker().replicaManager().logManager().logDirOf(new TopicPartition(TOPIC, 0));
        Set<Integer> inFailedDir = new HashSet<>();
        Set<Integer> ledInFailedDir = new HashSet<>();
        for (int p = 0; p < PARTITIONS; p++) {
            if (failedDir.equals(victimBroker.broker().replicaManager().logManager().logDirOf(new TopicPartition(TOPIC, p)))) {
                inFailedDir.add(p);
                if (state(p).leader() == victim) {
                    ledInFailedDir.add(p);
                }
            }
        }
        assertTrue(ledInFailedDir.contains(0));

        Set<String> acked = ConcurrentHashMap.newKeySet();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "2");
        props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "50");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        Path moved = failedDir.resolveSibling(failedDir.getFileName() + ".failed");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                if (i == RECORDS / 3) {
                    producer.flush();
                    // the disk fails: the directory is gone, the next roll in it fails with an I/O error
                    Files.move(failedDir, moved, StandardCopyOption.ATOMIC_MOVE);
                }
                String value = "v" + i;
                producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, value), (md, e) -> {
                    if (e == null) {
                        acked.add(value);
                    } else {
                        failure.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
        }
        assertNull(failure.get(), "every send acknowledged");
        assertEquals(RECORDS, acked.size());

        waitUntil(() -> victimBroker.broker().replicaManager().logManager().isOffline(failedDir), failedDir + " offline");
        for (int p : inFailedDir) {
            waitUntil(() -> state(p).leader() >= 0 && state(p).leader() != victim && !state(p).isr().contains(victim),
                "partition " + p + " led elsewhere without broker " + victim + " in its ISR");
        }
        Map<TopicPartition, Set<Integer>> offline = cluster.controller().broker().controller().offlineReplicas();
        for (int p : inFailedDir) {
            assertEquals(Set.of(victim), offline.get(new TopicPartition(TOPIC, p)), "offline replicas of " + p);
        }
        assertTrue(victimBroker.broker().isRunning(), "the broker keeps its other directory");
        Map<TopicPartition, Integer> fetched = victimBroker.broker().replicaManager().fetcherManager().fetchedPartitions();
        for (int p = 0; p < PARTITIONS; p++) {
            TopicPartition tp = new TopicPartition(TOPIC, p);
            boolean follows = state(p).leader() != victim && !inFailedDir.contains(p);
            assertEquals(follows, fetched.containsKey(tp), "broker " + victim + " fetches " + tp + ": " + fetched);
        }
        // kafka-clients sees the failover: the new leaders, and the failed replicas among the offline ones
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
            TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
            for (int p : inFailedDir) {
                assertNotEquals(victim, d.partitions().get(p).leader().id(), "leader of " + p);
            }
        }
        for (EmbeddedBroker b : brokers) {
            MetadataResponse r = (MetadataResponse) ZkTestCluster.call(b.port(), ApiKeys.METADATA, (short) 9,
                new MetadataRequest().setTopics(List.of(new MetadataRequest.MetadataRequestTopic().setName(TOPIC))));
            for (MetadataResponse.MetadataResponsePartition p : r.topics().get(0).partitions()) {
                boolean failed = inFailedDir.contains(p.partitionIndex());
                assertEquals(failed ? List.of(victim) : List.of(), p.offlineReplicas(),
                    "offline replicas of " + p.partitionIndex() + " on broker " + ZkTestCluster.id(b));
            }
        }

        // every acknowledged record is there
        Set<String> read = new HashSet<>();
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                new StringDeserializer())) {
            List<org.apache.kafka.common.TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                tps.add(new org.apache.kafka.common.TopicPartition(TOPIC, p));
            }
            consumer.assign(tps);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!read.containsAll(acked) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    read.add(r.value());
                }
            }
        }
        Set<String> missing = new HashSet<>(acked);
        missing.removeAll(read);
        assertTrue(missing.isEmpty(), "acknowledged but lost: " + missing);
        assertFalse(Files.exists(failedDir));
    }
}
