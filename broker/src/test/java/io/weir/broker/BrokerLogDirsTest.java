package io.weir.broker;

import io.weir.broker.server.MetaProperties;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.log.LogManager;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionReplica;
import org.apache.kafka.common.errors.LogDirNotFoundException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A broker with two {@code log.dirs} (JBOD): spreads partitions, restarts with data in both, describes both. */
class BrokerLogDirsTest {
    private static final String TOPIC = "spread";
    private static final int PARTITIONS = 4;

    private final EmbeddedBroker embedded = EmbeddedBroker.withLogDirs(Map.of(), "a", "b");
    private final Path dirA = embedded.logDir("a");
    private final Path dirB = embedded.logDir("b");
    private Broker broker;

    @AfterEach
    void cleanUp() {
        embedded.close();
    }

    private Broker start() {
        return embedded.start().broker();
    }

    private String bootstrap() {
        return "127.0.0.1:" + broker.boundPort();
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()));
    }

    private void produce(String round, int perPartition) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int part = 0; part < PARTITIONS; part++) {
                for (int i = 0; i < perPartition; i++) {
                    producer.send(new ProducerRecord<>(TOPIC, part, null, round + "-p" + part + "-" + i)).get();
                }
            }
        }
    }

    /** Every value of the topic, read from the start of each partition without a group. */
    private Set<String> readAll(int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Set<String> out = new TreeSet<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int part = 0; part < PARTITIONS; part++) {
                tps.add(new TopicPartition(TOPIC, part));
            }
            c.assign(tps);
            for (int round = 0; round < 200 && out.size() < expected; round++) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    out.add(r.value());
                }
            }
        }
        return out;
    }

    private static long partitionDirs(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(TOPIC + "-")).count();
        }
    }

    @Test
    void shouldSpreadPartitionsOverBothDirectoriesAndKeepThemAcrossARestart() throws Exception {
        broker = start();
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
        }
        produce("first", 3);
        assertEquals(2, partitionDirs(dirA), "two partitions in the first directory");
        assertEquals(2, partitionDirs(dirB), "two partitions in the second directory");
        for (Path d : List.of(dirA, dirB)) {
            String meta = Files.readString(d.resolve(MetaProperties.FILE));
            assertTrue(meta.contains("broker.id=0") && meta.contains("cluster.id=") && meta.contains("version=0"), meta);
        }

        broker.shutdown();
        // each directory checkpoints its own partitions (and only those)
        for (Path d : List.of(dirA, dirB)) {
            for (String file : List.of(ReplicaManager.HIGH_WATERMARK_CHECKPOINT, LogManager.RECOVERY_POINT_CHECKPOINT,
                    LogManager.LOG_START_OFFSET_CHECKPOINT)) {
                List<String> lines = Files.readAllLines(d.resolve(file));
                assertEquals("2", lines.get(1), d + "/" + file + ": " + lines);
                for (String entry : lines.subList(2, lines.size())) {
                    String[] cells = entry.split(" ");
                    assertTrue(Files.isDirectory(d.resolve(cells[0] + "-" + cells[1])), d + "/" + file + ": " + entry);
                }
            }
            assertTrue(Files.readAllLines(d.resolve(ReplicaManager.HIGH_WATERMARK_CHECKPOINT)).get(2).endsWith(" 3"));
        }
        broker = start();
        Set<String> values = readAll(PARTITIONS * 3);
        assertEquals(PARTITIONS * 3, values.size(), "every record of both directories after the restart: " + values);
        produce("second", 1); // the partitions of both directories take writes again
        assertEquals(PARTITIONS * 4, readAll(PARTITIONS * 4).size());

        String a = dirA.toAbsolutePath().normalize().toString();
        String b = dirB.toAbsolutePath().normalize().toString();
        try (Admin admin = admin()) {
            Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0);
            assertEquals(Set.of(a, b), dirs.keySet());
            for (String d : List.of(a, b)) {
                LogDirDescription desc = dirs.get(d);
                assertTrue(desc.error() == null, d + ": " + desc.error());
                assertEquals(2, desc.replicaInfos().size(), d + ": " + desc.replicaInfos());
                desc.replicaInfos().forEach((tp, info) -> {
                    assertTrue(info.size() > 0, tp + " has data");
                    assertEquals(0, info.offsetLag());
                    assertTrue(Files.isDirectory(Path.of(d).resolve(tp.topic() + "-" + tp.partition())), tp + " in " + d);
                });
                assertTrue(desc.totalBytes().orElse(-1) > 0 && desc.usableBytes().orElse(-1) >= 0);
            }
        }
    }

    @Test
    void shouldMoveAReplicaToTheOtherDirectoryAndKeepServingIt() throws Exception {
        broker = start();
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
        }
        produce("first", 3);
        String a = dirA.toAbsolutePath().normalize().toString();
        String b = dirB.toAbsolutePath().normalize().toString();
        TopicPartitionReplica replica = new TopicPartitionReplica(TOPIC, 0, 0);
        try (Admin admin = admin()) {
            assertEquals(a, admin.describeReplicaLogDirs(List.of(replica)).all().get().get(replica)
                .getCurrentReplicaLogDir());
            admin.alterReplicaLogDirs(Map.of(replica, a)).all().get(); // already there
            admin.alterReplicaLogDirs(Map.of(replica, b)).all().get();
            // the request answers once the copy exists; the replica moves in the background
            io.weir.broker.testing.ThreeBrokerCluster.waitUntil(
                () -> broker.replicaManager().logDirMover().movesInProgress() == 0, "the move is done");
            assertEquals(b, admin.describeReplicaLogDirs(List.of(replica)).all().get().get(replica)
                .getCurrentReplicaLogDir());
            assertEquals(3, admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0).get(b).replicaInfos().size());
            ExecutionException e = assertThrows(ExecutionException.class,
                () -> admin.alterReplicaLogDirs(Map.of(replica, dirA.resolveSibling("elsewhere").toString())).all().get());
            assertInstanceOf(LogDirNotFoundException.class, e.getCause());
        }
        assertTrue(Files.isDirectory(dirB.resolve(TOPIC + "-0")));
        assertFalse(Files.exists(dirA.resolve(TOPIC + "-0")));
        produce("second", 1); // the moved partition leads again and takes writes
        assertEquals(PARTITIONS * 4, readAll(PARTITIONS * 4).size());

        broker.shutdown();
        broker = start();
        assertEquals(PARTITIONS * 4, readAll(PARTITIONS * 4).size());
        try (Admin admin = admin()) {
            assertEquals(b, admin.describeReplicaLogDirs(List.of(replica)).all().get().get(replica)
                .getCurrentReplicaLogDir());
        }
    }

    @Test
    void shouldRefuseToStartOnADirectoryOfAnotherBroker() throws Exception {
        broker = start();
        broker.shutdown();
        broker = null;
        Path meta = dirB.resolve(MetaProperties.FILE);
        Files.writeString(meta, Files.readString(meta).replace("broker.id=0", "broker.id=7"));
        Broker refused = new Broker(new BrokerConfig(Map.of(BrokerConfig.LISTENERS, "PLAINTEXT://127.0.0.1:0",
            BrokerConfig.LOG_DIRS, dirA + "," + dirB)));
        IllegalStateException e = assertThrows(IllegalStateException.class, refused::startup);
        assertTrue(e.getMessage().contains(dirB.toAbsolutePath().toString()) && e.getMessage().contains("broker 7"),
            e.getMessage());
    }

    @Test
    void shouldRefuseToStartOnADirectoryOfAnotherCluster() throws Exception {
        broker = start();
        broker.shutdown();
        broker = null;
        Path meta = dirB.resolve(MetaProperties.FILE);
        String text = Files.readString(meta);
        Files.writeString(meta, text.replaceAll("cluster.id=.*", "cluster.id=someOtherCluster"));
        Broker refused = new Broker(new BrokerConfig(Map.of(BrokerConfig.LISTENERS, "PLAINTEXT://127.0.0.1:0",
            BrokerConfig.LOG_DIRS, dirA + "," + dirB)));
        IllegalStateException e = assertThrows(IllegalStateException.class, refused::startup);
        assertTrue(e.getMessage().contains(dirB.toAbsolutePath().toString())
            && e.getMessage().contains("someOtherCluster"), e.getMessage());
    }

    @Test
    void shouldRefuseToStartWithAPartitionInBothDirectories() throws Exception {
        broker = start();
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
        }
        broker.shutdown();
        broker = null;
        Files.createDirectories(dirB.resolve(TOPIC + "-0"));
        Broker refused = new Broker(new BrokerConfig(Map.of(BrokerConfig.LISTENERS, "PLAINTEXT://127.0.0.1:0",
            BrokerConfig.LOG_DIRS, dirA + "," + dirB)));
        IllegalStateException e = assertThrows(IllegalStateException.class, refused::startup);
        assertTrue(e.getMessage().contains(TOPIC + "-0") && e.getMessage().contains("two log directories"), e.getMessage());
    }
}
