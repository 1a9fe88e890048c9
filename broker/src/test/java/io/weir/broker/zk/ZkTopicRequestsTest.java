package io.weir.broker.zk;

import io.weir.broker.Broker;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.message.CreatePartitionsRequest;
import io.weir.protocol.message.CreatePartitionsResponse;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.CreateTopicsResponse;
import io.weir.protocol.message.DeleteTopicsRequest;
import io.weir.protocol.message.DeleteTopicsResponse;
import org.apache.curator.framework.CuratorFramework;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static io.weir.broker.zk.ZkTestCluster.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Topic admin sent to a broker that is not the controller, in a cluster of in-JVM brokers on one
 * ZooKeeper ({@link ZkTestCluster}): the broker writes the request into ZooKeeper, the controller
 * completes it, and the asking broker answers once its own metadata shows the result — for
 * CreateTopics, auto-creation, the coordinators' internal topics, CreatePartitions and DeleteTopics.
 */
class ZkTopicRequestsTest {
    private static final String CHROOT = "/weir-topics";

    private ZkTestCluster cluster;
    private CuratorFramework zk; // sees the whole tree, without the chroot
    private List<EmbeddedBroker> brokers;

    @BeforeEach
    void startZooKeeper() throws Exception {
        cluster = new ZkTestCluster(CHROOT);
        zk = cluster.zk();
        brokers = cluster.brokers();
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    private EmbeddedBroker controller() {
        return brokers.stream().filter(b -> b.broker().controller().isActive()).findFirst().orElseThrow();
    }

    private List<EmbeddedBroker> nonControllers() {
        return brokers.stream().filter(b -> !b.broker().controller().isActive()).toList();
    }

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        ZkTestCluster.waitUntil(condition, what);
    }

    /** Asserts that every broker's metadata has the topic with {@code partitions} partitions, each with a leader. */
    private void assertEveryBrokerSees(String topic, int partitions) throws InterruptedException {
        int epoch = controller().broker().controller().controllerEpoch();
        for (EmbeddedBroker b : brokers) {
            MetadataStore store = b.broker().metadataStore();
            waitUntil(() -> store.topic(topic).map(TopicMetadata::partitionCount).orElse(0) == partitions
                && java.util.stream.IntStream.range(0, partitions)
                    .allMatch(p -> store.partitionState(new TopicPartition(topic, p)).isPresent()),
                "broker " + b.broker().config().brokerId() + " sees " + topic + " with " + partitions + " partitions");
            for (int p = 0; p < partitions; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                var state = store.partitionState(tp).orElseThrow();
                assertEquals(store.replicas(tp).get(0), state.leader(), tp + "'s leader is its first replica");
                assertEquals(epoch, state.controllerEpoch(), tp + "'s state was written by the controller");
            }
        }
    }

    @Test
    void shouldCreateATopicThroughABrokerThatIsNotTheController() throws Exception {
        cluster.startBrokers(3, Map.of());
        EmbeddedBroker other = nonControllers().get(0);
        CreateTopicsResponse r = createTopic(other.port(), "via-follower", 6);
        assertEquals(Errors.NONE.code(), r.topics().get(0).errorCode(), r.topics().get(0).errorMessage());
        // answered once the asking broker's own metadata shows every partition's leader
        MetadataStore asked = other.broker().metadataStore();
        for (int p = 0; p < 6; p++) {
            assertTrue(asked.partitionState(new TopicPartition("via-follower", p)).isPresent(), "partition " + p);
        }
        assertEveryBrokerSees("via-follower", 6);
        Map<Integer, Integer> perBroker = new HashMap<>();
        for (int p = 0; p < 6; p++) {
            perBroker.merge(asked.replicas(new TopicPartition("via-follower", p)).get(0), 1, Integer::sum);
        }
        assertEquals(Map.of(0, 2, 1, 2, 2, 2), perBroker, "replicas spread over the live brokers");
    }

    @Test
    void shouldAutoCreateATopicForAProducerThatOnlyKnowsABrokerThatIsNotTheController() throws Exception {
        cluster.startBrokers(2, Map.of());
        EmbeddedBroker other = nonControllers().get(0);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
            "bootstrap.servers", other.bootstrapServers(), "acks", "all",
            "key.serializer", ByteArraySerializer.class.getName(),
            "value.serializer", ByteArraySerializer.class.getName()))) {
            var md = producer.send(new ProducerRecord<>("auto-created", "v".getBytes(StandardCharsets.UTF_8)))
                .get(60, TimeUnit.SECONDS);
            assertEquals(0, md.offset());
        }
        int partitions = other.broker().config().getInt(io.weir.broker.BrokerConfig.NUM_PARTITIONS);
        assertEveryBrokerSees("auto-created", partitions);
    }

    @Test
    void shouldCreateTheOffsetsTopicWhenAGroupCoordinatedByABrokerThatIsNotTheControllerCommits() throws Exception {
        cluster.startBrokers(2, Map.of());
        EmbeddedBroker other = nonControllers().get(0);
        int otherId = other.broker().config().brokerId();
        // the first FindCoordinator, on the broker that is not the controller, creates __consumer_offsets there
        findCoordinator(other.port(), "first-use");
        assertEveryBrokerSees("__consumer_offsets", 2);
        // a group whose __consumer_offsets partition is on that broker (per-broker coordinators only serve
        // the partitions they host; coordinators that follow partition leadership are separate work)
        String group = null;
        for (int i = 0; group == null; i++) {
            String candidate = "grp-" + i;
            int h = candidate.hashCode();
            int partition = (h == Integer.MIN_VALUE ? 0 : Math.abs(h)) % 2;
            if (other.broker().metadataStore().replicas(new TopicPartition("__consumer_offsets", partition)).get(0) == otherId) {
                group = candidate;
            }
        }
        assertEquals(otherId, findCoordinator(other.port(), group), "the group's coordinator is not the controller");
        // two partitions over two brokers: one of them is led by the broker that does not coordinate the group
        assertEquals(Errors.NONE.code(), createTopic(other.port(), "events", 2).topics().get(0).errorCode());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
            "bootstrap.servers", other.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, group,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
            "key.deserializer", ByteArrayDeserializer.class.getName(),
            "value.deserializer", ByteArrayDeserializer.class.getName()))) {
            var tp0 = new org.apache.kafka.common.TopicPartition("events", 0);
            var tp1 = new org.apache.kafka.common.TopicPartition("events", 1);
            consumer.commitSync(Map.of(tp0, new OffsetAndMetadata(0, "m0"), tp1, new OffsetAndMetadata(0, "m1")),
                Duration.ofSeconds(60));
            var committed = consumer.committed(Set.of(tp0, tp1), Duration.ofSeconds(60));
            assertEquals("m0", committed.get(tp0).metadata());
            assertEquals("m1", committed.get(tp1).metadata());
        }
    }

    private static int findCoordinator(int port, String group) throws IOException {
        var found = (io.weir.protocol.message.FindCoordinatorResponse) call(port, ApiKeys.FIND_COORDINATOR,
            (short) 4, new io.weir.protocol.message.FindCoordinatorRequest().setKeyType((byte) 0)
                .setCoordinatorKeys(List.of(group)));
        assertEquals(Errors.NONE.code(), found.coordinators().get(0).errorCode());
        return found.coordinators().get(0).nodeId();
    }

    @Test
    void shouldAddPartitionsAndDeleteATopicThroughABrokerThatIsNotTheController() throws Exception {
        cluster.startBrokers(2, Map.of());
        EmbeddedBroker other = nonControllers().get(0);
        assertEquals(Errors.NONE.code(), createTopic(other.port(), "grows", 1).topics().get(0).errorCode());

        CreatePartitionsResponse grown = (CreatePartitionsResponse) call(other.port(), ApiKeys.CREATE_PARTITIONS, (short) 3,
            new CreatePartitionsRequest().setTimeoutMs(30_000).setTopics(List.of(
                new CreatePartitionsRequest.CreatePartitionsTopic().setName("grows").setCount(4).setAssignments(null))));
        assertEquals(Errors.NONE.code(), grown.results().get(0).errorCode(), grown.results().get(0).errorMessage());
        assertEveryBrokerSees("grows", 4);

        DeleteTopicsResponse deleted = (DeleteTopicsResponse) call(other.port(), ApiKeys.DELETE_TOPICS, (short) 4,
            new DeleteTopicsRequest().setTimeoutMs(30_000).setTopicNames(List.of("grows")));
        assertEquals(Errors.NONE.code(), deleted.responses().get(0).errorCode());
        assertTrue(other.broker().metadataStore().topic("grows").isEmpty(), "gone from the asking broker's metadata");
        assertNull(zk.checkExists().forPath(CHROOT + "/brokers/topics/grows"));
        assertNull(zk.checkExists().forPath(CHROOT + "/config/topics/grows"));
        assertNull(zk.checkExists().forPath(CHROOT + "/admin/delete_topics/grows"), "the controller removed the marker");
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> b.broker().metadataStore().topic("grows").isEmpty()
                && b.broker().replicaManager().partition(new TopicPartition("grows", 0)) == null,
                "broker " + b.broker().config().brokerId() + " drops the deleted topic");
        }
    }

    @Test
    void shouldAnswerAtOnceWhenTheTimeoutIsZeroAndTimeOutPastAShortOneWhileTheControllerCompletesLater() throws Exception {
        cluster.startBrokers(2, Map.of());
        EmbeddedBroker other = nonControllers().get(0);
        MetadataStore asked = other.broker().metadataStore();
        assertEquals(Errors.NONE.code(), createTopic(other.port(), "stays", 1).topics().get(0).errorCode());
        // holding the controller's monitor keeps it from completing what other brokers write (reconcile)
        synchronized (controller().broker().controller()) {
            CreateTopicsResponse created = createTopic(other.port(), "written", 3, 0);
            assertEquals(Errors.NONE.code(), created.topics().get(0).errorCode(), created.topics().get(0).errorMessage());
            assertEquals(3, created.topics().get(0).numPartitions());
            assertTrue(asked.partitionState(new TopicPartition("written", 0)).isEmpty(), "answered before any leader");

            CreateTopicsResponse late = createTopic(other.port(), "late", 2, 1);
            assertEquals(Errors.REQUEST_TIMED_OUT.code(), late.topics().get(0).errorCode());

            CreatePartitionsResponse grown = (CreatePartitionsResponse) call(other.port(), ApiKeys.CREATE_PARTITIONS,
                (short) 3, new CreatePartitionsRequest().setTimeoutMs(0).setTopics(List.of(
                    new CreatePartitionsRequest.CreatePartitionsTopic().setName("stays").setCount(2).setAssignments(null))));
            assertEquals(Errors.NONE.code(), grown.results().get(0).errorCode(), grown.results().get(0).errorMessage());

            DeleteTopicsResponse deleted = (DeleteTopicsResponse) call(other.port(), ApiKeys.DELETE_TOPICS, (short) 4,
                new DeleteTopicsRequest().setTimeoutMs(0).setTopicNames(List.of("stays")));
            assertEquals(Errors.NONE.code(), deleted.responses().get(0).errorCode());
            assertTrue(asked.topic("stays").isPresent(), "answered before the controller deleted it");
        }
        // the controller completes each request afterwards
        assertEveryBrokerSees("written", 3);
        assertEveryBrokerSees("late", 2);
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> b.broker().metadataStore().topic("stays").isEmpty(),
                "broker " + b.broker().config().brokerId() + " drops the deleted topic");
        }
    }

    @Test
    void shouldLetExactlyOneOfTwoBrokersCreatingTheSameTopicConcurrentlySucceed() throws Exception {
        cluster.startBrokers(3, Map.of());
        List<EmbeddedBroker> others = nonControllers();
        // the conditional create decides: both brokers pass their own checks (neither sees the topic yet)
        Broker first = others.get(0).broker();
        Broker second = others.get(1).broker();
        first.controller().createTopic(new TopicMetadata("raced", UUID.randomUUID(), 2, (short) 1, Map.of()), Map.of());
        RuntimeException lost = assertThrows(RuntimeException.class, () -> second.controller().createTopic(
            new TopicMetadata("raced", UUID.randomUUID(), 2, (short) 1, Map.of()), Map.of()));
        boolean exists = false;
        for (Throwable c = lost; c != null; c = c.getCause()) {
            exists |= c instanceof KeeperException.NodeExistsException;
        }
        assertTrue(exists, "the second create fails on the existing znode: " + lost);

        // and through the wire, every broker at once: exactly one answers NONE, the rest TOPIC_ALREADY_EXISTS
        ExecutorService pool = Executors.newFixedThreadPool(brokers.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Short>> answers = new ArrayList<>();
            for (EmbeddedBroker b : brokers) {
                answers.add(pool.submit(() -> {
                    go.await();
                    return createTopic(b.port(), "raced-on-the-wire", 3).topics().get(0).errorCode();
                }));
            }
            go.countDown();
            int ok = 0;
            for (Future<Short> f : answers) {
                short code = f.get(60, TimeUnit.SECONDS);
                if (code == Errors.NONE.code()) {
                    ok++;
                } else {
                    assertEquals(Errors.TOPIC_ALREADY_EXISTS.code(), code);
                }
            }
            assertEquals(1, ok);
        } finally {
            pool.shutdownNow();
        }
        assertEveryBrokerSees("raced-on-the-wire", 3);
    }

    private static CreateTopicsResponse createTopic(int port, String name, int partitions) throws IOException {
        return createTopic(port, name, partitions, 30_000);
    }

    private static CreateTopicsResponse createTopic(int port, String name, int partitions, int timeoutMs)
        throws IOException {
        return (CreateTopicsResponse) call(port, ApiKeys.CREATE_TOPICS, (short) 7,
            new CreateTopicsRequest().setTimeoutMs(timeoutMs).setTopics(List.of(new CreateTopicsRequest.CreatableTopic()
                .setName(name).setNumPartitions(partitions).setReplicationFactor((short) 1))));
    }
}
