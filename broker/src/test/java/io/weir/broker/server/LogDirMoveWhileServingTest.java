package io.weir.broker.server;

import io.weir.broker.Broker;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.log.Log;
import io.weir.log.LogManager;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeReplicaLogDirsResult.ReplicaLogDirInfo;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionReplica;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.weir.broker.testing.ThreeBrokerCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AlterReplicaLogDirs on a broker with two {@code log.dirs}: the replica keeps serving produce and fetch
 * while {@link LogDirMover} copies it into the other directory, DescribeLogDirs shows the copy as a future
 * replica with its lag, the copy is swapped in once caught up, and a restart mid-move resumes it. The copy
 * is made observable by pausing the mover ({@link LogDirMover#setPausedForTest}) and stepping it by hand.
 */
class LogDirMoveWhileServingTest {
    private static final String TOPIC = "moving";
    private static final io.weir.common.TopicPartition TP = new io.weir.common.TopicPartition(TOPIC, 0);
    private static final TopicPartitionReplica REPLICA = new TopicPartitionReplica(TOPIC, 0, 0);

    private final EmbeddedBroker embedded = EmbeddedBroker.withLogDirs(Map.of(), "a", "b");
    private final Path dirA = embedded.logDir("a").toAbsolutePath().normalize();
    private final Path dirB = embedded.logDir("b").toAbsolutePath().normalize();
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

    private KafkaProducer<String, String> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "1");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private void createTopic() throws Exception {
        try (Admin admin = admin()) {
            // small segments: the copy spans several segments and several steps
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("segment.bytes", "4096"))))
                .all().get();
        }
        assertEquals(dirA, broker.replicaManager().logManager().logDirOf(TP));
    }

    /** Sends {@code count} records and waits for each; returns the values in the order acknowledged. */
    private static List<String> produceAcked(KafkaProducer<String, String> producer, String prefix, int count)
            throws Exception {
        List<String> acked = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String v = prefix + i;
            producer.send(new ProducerRecord<>(TOPIC, 0, null, v)).get();
            acked.add(v);
        }
        return acked;
    }

    /** A consumer of the partition from its start, without a group. */
    private KafkaConsumer<String, String> consumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
        c.assign(List.of(new TopicPartition(TOPIC, 0)));
        return c;
    }

    /** Every value of the partition from its start, in offset order. */
    private List<String> readAll(int expected) {
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = consumer()) {
            for (int round = 0; round < 300 && out.size() < expected; round++) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    out.add(r.value());
                }
            }
            // nothing beyond what was expected
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                out.add(r.value());
            }
        }
        return out;
    }

    private static ReplicaInfo replicaIn(Map<String, LogDirDescription> dirs, Path dir) {
        LogDirDescription d = dirs.get(dir.toString());
        assertNotNull(d, dir + " in " + dirs.keySet());
        return d.replicaInfos().get(new TopicPartition(TOPIC, 0));
    }

    private static List<Path> named(Path dir, String suffix) throws Exception {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(TOPIC + "-0.")
                && p.getFileName().toString().endsWith(suffix)).toList();
        }
    }

    @Test
    void shouldKeepServingWhileTheReplicaIsCopiedAndSwapItInOnceCaughtUp() throws Exception {
        broker = start();
        createTopic();
        LogDirMover mover = broker.replicaManager().logDirMover();
        mover.setPausedForTest(true);
        List<String> acked = Collections.synchronizedList(new ArrayList<>());
        try (KafkaProducer<String, String> producer = producer(); Admin admin = admin()) {
            acked.addAll(produceAcked(producer, "before-", 300));

            admin.alterReplicaLogDirs(Map.of(REPLICA, dirB.toString())).all().get();
            Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0);
            ReplicaInfo current = replicaIn(dirs, dirA);
            ReplicaInfo future = replicaIn(dirs, dirB);
            assertFalse(current.isFuture());
            assertTrue(future.isFuture(), "the copy is listed as the future replica: " + future);
            assertEquals(300, future.offsetLag(), "nothing copied yet");
            ReplicaLogDirInfo info = admin.describeReplicaLogDirs(List.of(REPLICA)).all().get().get(REPLICA);
            assertEquals(dirA.toString(), info.getCurrentReplicaLogDir());
            assertEquals(dirB.toString(), info.getFutureReplicaLogDir());
            assertEquals(1, named(dirB, LogManager.FUTURE_DIR_SUFFIX).size());

            // part of the copy, then the replica takes writes while its copy is half-way
            assertTrue(mover.copyStep(TP, 4096) > 0);
            assertTrue(mover.copyStep(TP, 4096) > 0);
            long copied = mover.futureLog(TP).logEndOffset();
            assertTrue(copied > 0 && copied < 300, "copied " + copied);
            acked.addAll(produceAcked(producer, "during-", 100));
            future = replicaIn(admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0), dirB);
            assertTrue(future.isFuture());
            assertEquals(400 - copied, future.offsetLag());
            assertTrue(future.size() > 0);

            // the mover runs while a producer keeps sending and a consumer keeps fetching: every acknowledged
            // record lands once, in order, and the consumer reads across the swap
            List<Exception> failures = Collections.synchronizedList(new ArrayList<>());
            List<String> fetched = new ArrayList<>();
            KafkaConsumer<String, String> consumer = consumer();
            mover.setPausedForTest(false);
            int sentAfterMove = 0;
            for (int i = 0; sentAfterMove < 200; i++) {
                if (i % 20 == 0) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(1))) {
                        fetched.add(r.value());
                    }
                }
                String v = "continuous-" + i;
                producer.send(new ProducerRecord<>(TOPIC, 0, null, v), (md, e) -> {
                    if (e != null) {
                        failures.add(e);
                    } else {
                        acked.add(v);
                    }
                });
                if (i % 20 == 19) {
                    producer.flush();
                }
                if (mover.movesInProgress() == 0) {
                    sentAfterMove++;
                }
                assertTrue(i < 1_000_000, "the move never finished");
            }
            producer.flush();
            assertEquals(List.of(), failures);
            for (int round = 0; round < 300 && fetched.size() < acked.size(); round++) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    fetched.add(r.value());
                }
            }
            consumer.close();
            assertEquals(acked, fetched, "the consumer that fetched during the move read each record once, in order");

            info = admin.describeReplicaLogDirs(List.of(REPLICA)).all().get().get(REPLICA);
            assertEquals(dirB.toString(), info.getCurrentReplicaLogDir());
            assertNull(info.getFutureReplicaLogDir());
        }
        assertEquals(dirB, broker.replicaManager().logManager().logDirOf(TP));
        assertTrue(Files.isDirectory(dirB.resolve(TOPIC + "-0")));
        assertFalse(Files.exists(dirA.resolve(TOPIC + "-0")));
        assertEquals(List.of(), named(dirB, LogManager.FUTURE_DIR_SUFFIX));
        Log moved = broker.replicaManager().partition(TP).log();
        assertEquals(dirB.resolve(TOPIC + "-0"), moved.dir());
        assertEquals(acked.size(), moved.logEndOffset());
        assertEquals(0, moved.latestLeaderEpoch());
        assertEquals(1, moved.activeProducers().size(), "the producer's state came along");
        assertEquals(acked, readAll(acked.size()));

        broker.shutdown();
        broker = start();
        assertEquals(dirB, broker.replicaManager().logManager().logDirOf(TP));
        assertEquals(acked, readAll(acked.size()));
        assertEquals(List.of(), named(dirA, LogManager.DELETE_DIR_SUFFIX), "the original is gone after the restart");
    }

    @Test
    void shouldResumeAMoveCutShortByARestart() throws Exception {
        broker = start();
        createTopic();
        List<String> acked;
        broker.replicaManager().logDirMover().setPausedForTest(true);
        try (KafkaProducer<String, String> producer = producer(); Admin admin = admin()) {
            acked = new ArrayList<>(produceAcked(producer, "r-", 200));
            admin.alterReplicaLogDirs(Map.of(REPLICA, dirB.toString())).all().get();
        }
        LogDirMover mover = broker.replicaManager().logDirMover();
        assertTrue(mover.copyStep(TP, 4096) > 0);
        long copied = mover.futureLog(TP).logEndOffset();
        assertTrue(copied > 0 && copied < 200, "copied " + copied);
        broker.shutdown();
        broker = null;
        assertEquals(1, named(dirB, LogManager.FUTURE_DIR_SUFFIX).size(), "the copy stays for the next start");
        assertTrue(Files.isDirectory(dirA.resolve(TOPIC + "-0")));

        broker = start(); // not paused: the move goes on from the copy's end
        waitUntil(() -> broker.replicaManager().logDirMover().movesInProgress() == 0, "the resumed move is done");
        assertEquals(dirB, broker.replicaManager().logManager().logDirOf(TP));
        assertEquals(List.of(), named(dirB, LogManager.FUTURE_DIR_SUFFIX));
        assertFalse(Files.exists(dirA.resolve(TOPIC + "-0")));
        assertEquals(acked, readAll(acked.size()));
        try (KafkaProducer<String, String> producer = producer()) {
            acked.addAll(produceAcked(producer, "after-", 10));
        }
        assertEquals(acked, readAll(acked.size()));
    }

    @Test
    void shouldApplyTheDynamicLogDirThrottle() throws Exception {
        broker = start();
        LogDirMover mover = broker.replicaManager().logDirMover();
        assertEquals(Long.MAX_VALUE, mover.throttleBytesPerSecond());
        ConfigResource me = new ConfigResource(ConfigResource.Type.BROKER, "0");
        String key = "replica.alter.log.dirs.io.max.bytes.per.second";
        try (Admin admin = admin()) {
            admin.incrementalAlterConfigs(Map.of(me, List.of(new AlterConfigOp(new ConfigEntry(key, "4096"),
                AlterConfigOp.OpType.SET)))).all().get();
            assertEquals(4096, mover.throttleBytesPerSecond());
            admin.incrementalAlterConfigs(Map.of(me, List.of(new AlterConfigOp(new ConfigEntry(key, ""),
                AlterConfigOp.OpType.DELETE)))).all().get();
            assertEquals(Long.MAX_VALUE, mover.throttleBytesPerSecond());
        }
    }

    /**
     * DescribeLogDirs during a swap, held where the log manager already serves the copy from the new directory
     * while the move still lists it (the window a slow checkpoint fsync opens): the answer is the replica before
     * or after the swap, never both in the new directory and none in the old (what made
     * {@code kafka-reassign-partitions.sh --verify} say the partition could be found in no directory).
     */
    @Test
    void shouldNeverDescribeAReplicaHalfSwapped() throws Exception {
        broker = start();
        createTopic();
        LogDirMover mover = broker.replicaManager().logDirMover();
        mover.setPausedForTest(true);
        CountDownLatch inSwap = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        mover.setInSwapForTest(() -> {
            inSwap.countDown();
            try {
                release.await(2, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread swapper = new Thread(() -> {
            for (int pass = 0; pass < 1000 && mover.movesInProgress() > 0; pass++) {
                mover.doWork(System.currentTimeMillis());
            }
        }, "swapper");
        try (KafkaProducer<String, String> producer = producer(); Admin admin = admin()) {
            produceAcked(producer, "h-", 50);
            admin.alterReplicaLogDirs(Map.of(REPLICA, dirB.toString())).all().get();
            swapper.start();
            assertTrue(inSwap.await(1, TimeUnit.MINUTES), "the swap began");
            assertEquals(dirB, broker.replicaManager().logManager().logDirOf(TP), "the log manager serves the copy");
            assertEquals(1, mover.movesInProgress(), "the move is not over");

            KafkaFuture<Map<Integer, Map<String, LogDirDescription>>> described =
                admin.describeLogDirs(List.of(0)).allDescriptions();
            try {
                // an answer now would be half-swapped: it waits for the swap (or shows it is not half-swapped)
                described.get(2, TimeUnit.SECONDS);
            } catch (TimeoutException expected) {
                // waiting for the swap
            }
            release.countDown();
            Map<String, LogDirDescription> dirs = described.get(1, TimeUnit.MINUTES).get(0);
            ReplicaInfo inA = replicaIn(dirs, dirA);
            ReplicaInfo inB = replicaIn(dirs, dirB);
            assertTrue(inA == null ? inB != null && !inB.isFuture() : !inA.isFuture() && inB != null && inB.isFuture(),
                "before the swap (current in " + dirA + ", future in " + dirB + ") or after it (current in " + dirB
                    + "): " + dirs);
        } finally {
            release.countDown();
            swapper.join(60_000);
        }
        assertEquals(0, mover.movesInProgress());
        assertEquals(dirB, broker.replicaManager().logManager().logDirOf(TP));
    }

    @Test
    void shouldCancelTheMoveWhenTheReplicaIsMovedBackOrDeleted() throws Exception {
        broker = start();
        createTopic();
        LogDirMover mover = broker.replicaManager().logDirMover();
        mover.setPausedForTest(true);
        try (KafkaProducer<String, String> producer = producer(); Admin admin = admin()) {
            produceAcked(producer, "c-", 50);
            admin.alterReplicaLogDirs(Map.of(REPLICA, dirB.toString())).all().get();
            assertEquals(1, mover.movesInProgress());
            admin.alterReplicaLogDirs(Map.of(REPLICA, dirA.toString())).all().get(); // back where it is: cancelled
            assertEquals(0, mover.movesInProgress());
            assertEquals(List.of(), named(dirB, LogManager.FUTURE_DIR_SUFFIX));
            assertNull(admin.describeReplicaLogDirs(List.of(REPLICA)).all().get().get(REPLICA).getFutureReplicaLogDir());

            admin.alterReplicaLogDirs(Map.of(REPLICA, dirB.toString())).all().get();
            assertEquals(1, named(dirB, LogManager.FUTURE_DIR_SUFFIX).size());
            admin.deleteTopics(List.of(TOPIC)).all().get();
            waitUntil(() -> broker.replicaManager().partition(TP) == null, "the topic is gone");
            assertEquals(0, mover.movesInProgress());
            assertEquals(List.of(), named(dirB, LogManager.FUTURE_DIR_SUFFIX), "the copy went with the replica");
        }
    }

    @Test
    void shouldDeleteTheTopicsLogWhenItsCopyCannotBeDeleted() throws Exception {
        broker = start();
        createTopic();
        LogDirMover mover = broker.replicaManager().logDirMover();
        mover.setPausedForTest(true);
        try (KafkaProducer<String, String> producer = producer(); Admin admin = admin()) {
            produceAcked(producer, "v-", 20);
            admin.alterReplicaLogDirs(Map.of(REPLICA, dirB.toString())).all().get();
            Path copy = mover.futureLog(TP).dir();
            // something in the copy that its deletion cannot remove: deleting the copy fails with an I/O error
            Files.createDirectories(copy.resolve("stuck").resolve("inside"));
            admin.deleteTopics(List.of(TOPIC)).all().get();
            waitUntil(() -> broker.replicaManager().logManager().getLog(TP) == null, "the topic's log deleted");
            assertFalse(Files.exists(dirA.resolve(TOPIC + "-0")), "the log is deleted although its copy was not");
            assertNull(mover.futureLog(TP));
            assertTrue(broker.replicaManager().logManager().isOffline(dirB), "the copy's directory failed");
            assertFalse(broker.replicaManager().logManager().isOffline(dirA));
        }
    }
}
