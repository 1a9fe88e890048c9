package io.weir.broker.zk;

import io.weir.broker.Broker;
import io.weir.broker.server.Partition;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionReplica;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static io.weir.broker.zk.ZkTestCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AlterReplicaLogDirs on a replicated partition: the leader's and then the follower's replica move to
 * their broker's second log directory, and the partition keeps both replicas in sync and takes acks=all
 * writes.
 */
class LogDirMoveReplicationTest {
    private static final String TOPIC = "moving";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

    private LogDirsTestCluster jbod;
    private List<EmbeddedBroker> brokers;

    @BeforeEach
    void start() throws Exception {
        jbod = LogDirsTestCluster.start("logdir-move", 2, Map.of());
        brokers = jbod.brokers();
    }

    @AfterEach
    void stop() throws Exception {
        if (jbod != null) {
            jbod.close();
        }
    }

    private Path dir(int broker, String name) {
        return jbod.dir(broker, name);
    }

    private String bootstrap() {
        return jbod.bootstrap();
    }

    private void produce(KafkaProducer<String, String> producer, String prefix, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            producer.send(new ProducerRecord<>(TOPIC, 0, null, prefix + i)).get(60, TimeUnit.SECONDS);
        }
    }

    private Partition partition(int broker) {
        return brokers.get(broker).broker().replicaManager().partition(TP);
    }

    @Test
    void shouldKeepReplicatingAfterTheLeaderAndTheFollowerMoveDirectories() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(0, 1)))
                .configs(Map.of("min.insync.replicas", "2")))).all().get(60, TimeUnit.SECONDS);
        }
        for (int id = 0; id < 2; id++) {
            int broker = id;
            waitUntil(() -> partition(broker) != null && partition(broker).hasAppliedState(), "replica " + id + " has its state");
        }
        waitUntil(() -> partition(0).isLeader() && partition(0).isr().size() == 2, "broker 0 leads with both in the ISR");
        assertTrue(Files.isDirectory(dir(0, "a").resolve(TP.dirName())));
        assertTrue(Files.isDirectory(dir(1, "a").resolve(TP.dirName())));

        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
             Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
            produce(producer, "before-", 5);
            int epoch = partition(0).leaderEpoch();

            admin.alterReplicaLogDirs(Map.of(new TopicPartitionReplica(TOPIC, 0, 0),
                dir(0, "b").toAbsolutePath().toString())).all().get(60, TimeUnit.SECONDS);
            // the request answers once the copy exists; the replica moves in the background
            waitUntil(() -> brokers.get(0).broker().replicaManager().logDirMover().movesInProgress() == 0,
                "broker 0's move is done");
            assertTrue(Files.isDirectory(dir(0, "b").resolve(TP.dirName())));
            assertFalse(Files.exists(dir(0, "a").resolve(TP.dirName())));
            assertTrue(partition(0).isLeader(), "broker 0 leads again over the moved log");
            assertEquals(epoch, partition(0).leaderEpoch());
            produce(producer, "between-", 5);

            admin.alterReplicaLogDirs(Map.of(new TopicPartitionReplica(TOPIC, 0, 1),
                dir(1, "b").toAbsolutePath().toString())).all().get(60, TimeUnit.SECONDS);
            // the request answers once the copy exists; the replica moves in the background
            waitUntil(() -> brokers.get(1).broker().replicaManager().logDirMover().movesInProgress() == 0,
                "broker 1's move is done");
            assertTrue(Files.isDirectory(dir(1, "b").resolve(TP.dirName())));
            assertFalse(Files.exists(dir(1, "a").resolve(TP.dirName())));
            produce(producer, "after-", 5); // acks=all with min.insync.replicas=2: the moved follower acknowledges
        }
        waitUntil(() -> partition(1).log().logEndOffset() == 15, "the follower has every record");
        assertEquals(15, partition(0).log().logEndOffset());
        waitUntil(() -> partition(0).isr().size() == 2, "both replicas in the ISR");
        Broker leader = brokers.get(0).broker();
        assertEquals(dir(0, "b"), leader.replicaManager().logManager().logDirOf(TP));
    }
}
