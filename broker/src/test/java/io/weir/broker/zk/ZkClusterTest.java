package io.weir.broker.zk;

import io.weir.broker.Broker;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.common.utils.Json;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.CreateTopicsResponse;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import org.apache.curator.framework.CuratorFramework;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static io.weir.broker.zk.ZkTestCluster.call;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several brokers in one JVM sharing one real ZooKeeper ({@link ZkTestCluster}), each
 * with its own log dir and port: registration, the controller election and its epoch fence, topics
 * created through the controller, producer-id blocks, and restarts inside the session timeout.
 */
class ZkClusterTest {
    private static final String CHROOT = "/weir-it";

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

    private EmbeddedBroker broker(int id, Map<String, String> extra) {
        return cluster.broker(id, extra);
    }

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        ZkTestCluster.waitUntil(condition, what);
    }

    private static Admin admin(EmbeddedBroker b) {
        return Admin.create(Map.of("bootstrap.servers", b.bootstrapServers()));
    }

    private List<Broker> controllers() {
        return brokers.stream().map(EmbeddedBroker::broker)
            .filter(b -> b != null && b.controller() != null && b.controller().isActive()).toList();
    }

    @Test
    void shouldListEveryRegisteredBrokerAndTheControllerInDescribeCluster() throws Exception {
        for (int id = 0; id < 3; id++) {
            broker(id, id == 1 ? Map.of("broker.rack", "rack-b") : Map.of()).start();
        }
        for (int id = 0; id < 3; id++) {
            // registered under the chroot, not at the root
            assertNotNull(zk.checkExists().forPath(CHROOT + "/brokers/ids/" + id));
            assertNull(zk.checkExists().forPath("/brokers/ids/" + id));
        }
        waitUntil(() -> controllers().size() == 1, "one controller is elected");
        int controller = controllers().get(0).config().brokerId();
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> b.broker().metadataStore().liveBrokers().size() == 3
                && b.broker().metadataStore().controllerId() == controller, "broker sees all three and the controller");
        }
        try (Admin admin = admin(brokers.get(2))) {
            DescribeClusterResult cluster = admin.describeCluster();
            Map<Integer, Node> nodes = cluster.nodes().get().stream().collect(Collectors.toMap(Node::id, n -> n));
            assertEquals(Set.of(0, 1, 2), nodes.keySet());
            for (EmbeddedBroker b : brokers) {
                assertEquals(b.port(), nodes.get(b.broker().config().brokerId()).port());
            }
            assertEquals("rack-b", nodes.get(1).rack());
            assertEquals(controller, cluster.controller().get().id());
            assertEquals(brokers.get(0).broker().metadataStore().clusterId(), cluster.clusterId().get());
        }
        byte[] controllerZnode = zk.getData().forPath(CHROOT + "/controller");
        assertEquals(controller, Json.intField(Json.parseObject(controllerZnode), "brokerid", -1));
    }

    @Test
    void shouldElectAnotherControllerWithAHigherEpochWhenTheControllerStops() throws Exception {
        for (int id = 0; id < 3; id++) {
            broker(id, Map.of()).start();
        }
        waitUntil(() -> controllers().size() == 1, "one controller is elected");
        Broker old = controllers().get(0);
        int oldEpoch = old.controller().controllerEpoch();
        assertEquals(Integer.toString(oldEpoch), new String(zk.getData().forPath(CHROOT + "/controller_epoch"),
            StandardCharsets.UTF_8));
        EmbeddedBroker oldBroker = brokers.stream().filter(b -> b.broker() == old).findFirst().orElseThrow();
        oldBroker.broker().shutdown();

        waitUntil(() -> controllers().stream().anyMatch(b -> b != old && b.controller().isActive()),
            "another broker becomes the controller");
        Broker next = controllers().stream().filter(b -> b != old).findFirst().orElseThrow();
        assertTrue(next.controller().controllerEpoch() > oldEpoch, "the epoch increases");
        EmbeddedBroker survivor = brokers.stream().filter(b -> b.broker() == next).findFirst().orElseThrow();
        waitUntil(() -> next.metadataStore().liveBrokers().size() == 2, "the stopped broker is unregistered");
        try (Admin admin = admin(survivor)) {
            assertEquals(next.config().brokerId(), admin.describeCluster().controller().get().id());
            assertEquals(2, admin.describeCluster().nodes().get().size());
        }
    }

    @Test
    void shouldRefuseTheWritesOfADeposedControllerAndStalePartitionStateUpdates() throws Exception {
        for (int id = 0; id < 2; id++) {
            broker(id, Map.of()).start();
        }
        waitUntil(() -> controllers().size() == 1, "one controller is elected");
        Broker first = controllers().get(0);
        try (Admin admin = admin(brokers.get(0))) {
            admin.createTopics(List.of(new NewTopic("fenced", 1, (short) 1))).all().get();
        }
        TopicPartition tp = new TopicPartition("fenced", 0);
        ControllerContext deposedTerm = first.controller().context().orElseThrow();
        EmbeddedBroker firstBroker = brokers.stream().filter(b -> b.broker() == first).findFirst().orElseThrow();
        firstBroker.broker().shutdown();
        waitUntil(() -> controllers().stream().anyMatch(b -> b != first), "another broker becomes the controller");
        Broker next = controllers().stream().filter(b -> b != first).findFirst().orElseThrow();
        ZkMetadataStore store = (ZkMetadataStore) next.metadataStore();
        String statePath = CHROOT + ZkPaths.partitionState("fenced", 0);
        byte[] before = zk.getData().forPath(statePath);

        // the deposed controller's write, with the epoch version it was elected with, fails as a whole
        ControllerMovedException moved = assertThrows(ControllerMovedException.class, () -> ZkController.fencedCommit(
            store, deposedTerm, List.of(store.client().transactionOp().setData()
                .forPath(ZkPaths.partitionState("fenced", 0), ZkMetadataStore.stateJson(0, 99, List.of(0), 1)))));
        assertTrue(moved.getMessage().contains("epoch " + deposedTerm.controllerEpoch()), moved.getMessage());
        assertArrayEquals(before, zk.getData().forPath(statePath), "the partition state is unchanged");

        // the current controller's conditional update: applies at the version read, refused at an older one
        PartitionState read = store.readPartitionState(tp).orElseThrow();
        PartitionState written = next.controller().updatePartitionState(tp, read, read.leader(), read.leaderEpoch() + 1,
            read.isr());
        assertEquals(read.leaderEpoch() + 1, store.readPartitionState(tp).orElseThrow().leaderEpoch());
        assertEquals(next.controller().controllerEpoch(), store.readPartitionState(tp).orElseThrow().controllerEpoch());
        assertEquals(written.zkVersion(), store.readPartitionState(tp).orElseThrow().zkVersion());
        assertThrows(RuntimeException.class, () -> next.controller().updatePartitionState(tp, read, read.leader(),
            read.leaderEpoch() + 5, read.isr()), "an update naming a stale version");
        assertEquals(read.leaderEpoch() + 1, store.readPartitionState(tp).orElseThrow().leaderEpoch());
    }

    @Test
    void shouldCreateATopicThroughANonControllerAndSpreadServeAndDeleteTopicsInTheCluster() throws Exception {
        for (int id = 0; id < 2; id++) {
            broker(id, Map.of()).start();
        }
        waitUntil(() -> controllers().size() == 1, "one controller is elected");
        int controllerId = controllers().get(0).config().brokerId();
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> b.broker().metadataStore().liveBrokers().size() == 2, "both brokers registered");
        }
        EmbeddedBroker other = brokers.get(controllerId == 0 ? 1 : 0);
        CreateTopicsResponse refused = (CreateTopicsResponse) call(other.port(), ApiKeys.CREATE_TOPICS, (short) 7,
            new CreateTopicsRequest().setTimeoutMs(5_000).setTopics(List.of(new CreateTopicsRequest.CreatableTopic()
                .setName("direct").setNumPartitions(1).setReplicationFactor((short) 1))));
        // a broker that is not the controller writes the topic for it, and the controller completes it
        assertEquals(Errors.NONE.code(), refused.topics().get(0).errorCode());
        assertNotNull(zk.checkExists().forPath(CHROOT + "/brokers/topics/direct/partitions/0/state"));

        try (Admin admin = admin(other)) { // the admin client sends CreateTopics to the controller
            admin.createTopics(List.of(new NewTopic("spread", 4, (short) 1).configs(Map.of("retention.ms", "1234"))))
                .all().get();
            Map<String, Object> topic = Json.parseObject(zk.getData().forPath(CHROOT + "/brokers/topics/spread"));
            @SuppressWarnings("unchecked")
            Map<String, Object> parts = (Map<String, Object>) topic.get("partitions");
            assertEquals(4, parts.size());
            Map<Integer, Integer> perBroker = new HashMap<>();
            for (int p = 0; p < 4; p++) {
                List<Integer> replicas = Json.intList(parts.get(Integer.toString(p)));
                assertEquals(1, replicas.size());
                perBroker.merge(replicas.get(0), 1, Integer::sum);
                Map<String, Object> state = Json.parseObject(zk.getData().forPath(CHROOT + "/brokers/topics/spread/partitions/"
                    + p + "/state"));
                assertEquals(replicas.get(0), Json.intField(state, "leader", -2));
                assertEquals(0, Json.intField(state, "leader_epoch", -2));
                assertEquals(replicas, Json.intList(state.get("isr")));
                assertEquals(controllers().get(0).controller().controllerEpoch(), Json.intField(state, "controller_epoch", -2));
                assertEquals(1, Json.intField(state, "version", -2));
            }
            assertEquals(Map.of(0, 2, 1, 2), perBroker, "replicas spread evenly over the live brokers");
            assertEquals("1234", ((Map<?, ?>) Json.parseObject(zk.getData().forPath(CHROOT + "/config/topics/spread"))
                .get("config")).get("retention.ms"));
            waitUntil(() -> other.broker().metadataStore().topic("spread").isPresent(), "the other broker sees the topic");
            TopicDescription d = admin.describeTopics(List.of("spread")).allTopicNames().get().get("spread");
            for (var p : d.partitions()) {
                assertEquals(Json.intList(parts.get(Integer.toString(p.partition()))).get(0), p.leader().id());
            }

            // every partition is served by its assigned leader, whichever broker that is
            int otherId = other.broker().config().brokerId();
            int otherPartition = perBrokerFirst(parts, otherId);
            waitUntil(() -> other.broker().replicaManager().partition(new TopicPartition("spread", otherPartition)) != null,
                "the other broker hosts its partitions of the new topic");
            try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(Map.of(
                "bootstrap.servers", other.bootstrapServers(), "acks", "all",
                "key.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName(),
                "value.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName()))) {
                for (int p = 0; p < 4; p++) {
                    var md = producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("spread", p, null,
                        ("v" + p).getBytes(StandardCharsets.UTF_8))).get(60, TimeUnit.SECONDS);
                    assertEquals(0, md.offset());
                }
            }
            for (int p = 0; p < 4; p++) {
                int leader = Json.intList(parts.get(Integer.toString(p))).get(0);
                for (EmbeddedBroker eb : brokers) {
                    var hosted = eb.broker().replicaManager().partition(new TopicPartition("spread", p));
                    if (eb.broker().config().brokerId() == leader) {
                        assertEquals(1, hosted.log().logEndOffset(), "partition " + p + "'s record is on its leader");
                    } else {
                        assertNull(hosted, "only the assigned replica hosts partition " + p);
                    }
                }
            }

            admin.deleteTopics(List.of("spread")).all().get();
            assertNull(zk.checkExists().forPath(CHROOT + "/brokers/topics/spread"));
            assertNull(zk.checkExists().forPath(CHROOT + "/config/topics/spread"));
            waitUntil(() -> other.broker().metadataStore().topic("spread").isEmpty(), "the other broker sees the deletion");
            waitUntil(() -> other.broker().replicaManager().partition(new TopicPartition("spread", otherPartition)) == null,
                "the other broker stops hosting the deleted topic");
        }
    }

    /** The first partition whose replicas include {@code brokerId}. */
    private static int perBrokerFirst(Map<String, Object> parts, int brokerId) {
        for (int p = 0; p < parts.size(); p++) {
            if (Json.intList(parts.get(Integer.toString(p))).contains(brokerId)) {
                return p;
            }
        }
        throw new AssertionError("broker " + brokerId + " has no partition");
    }

    @Test
    void shouldReportPartitionsOfAStoppedBrokerAsLeaderlessWithOfflineReplicas() throws Exception {
        for (int id = 0; id < 2; id++) {
            broker(id, Map.of()).start();
        }
        waitUntil(() -> controllers().size() == 1, "one controller is elected");
        int controllerId = controllers().get(0).config().brokerId();
        EmbeddedBroker controller = brokers.get(controllerId);
        EmbeddedBroker other = brokers.get(1 - controllerId);
        waitUntil(() -> controller.broker().metadataStore().liveBrokers().size() == 2, "both brokers registered");
        try (Admin admin = admin(controller)) {
            admin.createTopics(List.of(new NewTopic("halves", 2, (short) 1))).all().get();
        }
        int otherId = other.broker().config().brokerId();
        other.broker().shutdown();
        waitUntil(() -> controller.broker().metadataStore().liveBrokers().size() == 1, "the stopped broker is unregistered");
        try (Admin admin = admin(controller)) {
            TopicDescription d = admin.describeTopics(List.of("halves")).allTopicNames().get().get("halves");
            int checked = 0;
            for (var p : d.partitions()) {
                if (p.replicas().get(0).id() == otherId) {
                    assertTrue(p.leader() == null || p.leader().isEmpty(), "no leader: " + p);
                    checked++;
                } else {
                    assertEquals(controllerId, p.leader().id());
                }
            }
            assertEquals(1, checked, "one partition was on the stopped broker: " + d);
        }
    }

    @Test
    void shouldHandOutProducerIdsUniqueAcrossBrokersAndRestarts() throws Exception {
        EmbeddedBroker a = broker(0, Map.of()).start();
        EmbeddedBroker b = broker(1, Map.of()).start();
        Set<Long> ids = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            assertTrue(ids.add(initProducerId(a.port())));
            assertTrue(ids.add(initProducerId(b.port())));
        }
        a.restart();
        b.restart();
        for (int i = 0; i < 3; i++) {
            assertTrue(ids.add(initProducerId(a.port())), "an id given before the restart: " + ids);
            assertTrue(ids.add(initProducerId(b.port())), "an id given before the restart: " + ids);
        }
        Map<String, Object> block = Json.parseObject(zk.getData().forPath(CHROOT + "/latest_producer_id_block"));
        long end = Long.parseLong(String.valueOf(block.get("block_end")));
        assertEquals(4 * 1000 - 1, end, "four blocks of 1000 were reserved: two brokers, two runs each");
    }

    @Test
    void shouldTakeOverItsOwnStaleRegistrationWhenRestartedInsideTheSessionTimeout() throws Exception {
        // the broker would give up on a stale registration after 6 s + 2 x 2 s, long before the old session
        // (30 s) expires: it starts only if it takes its own old registration over
        EmbeddedBroker b = broker(7, Map.of("zookeeper.session.timeout.ms", "6000",
            "zookeeper.connection.timeout.ms", "2000"));
        // the broker's previous run: registered, recorded its session, then died (no close reached the server)
        ZooKeeper previous = connect(30_000);
        previous.create("/brokers/ids/7", "{}".getBytes(StandardCharsets.UTF_8),
            org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        long staleSession = previous.getSessionId();
        Path dir = b.logDir().resolve("__weir_metadata");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(BrokerRegistrar.SESSION_FILE), Long.toHexString(staleSession) + " "
            + Base64.getEncoder().encodeToString(previous.getSessionPasswd()) + "\n");
        previous.getTestable().injectSessionExpiration(); // the client is gone; the server still holds the session

        b.start();
        Stat stat = zk.checkExists().forPath(CHROOT + "/brokers/ids/7");
        assertNotNull(stat);
        long owner = stat.getEphemeralOwner();
        assertFalse(owner == staleSession, "registered by the new session");
        assertEquals(b.broker().metadataStore() instanceof ZkMetadataStore s
            ? s.client().getZookeeperClient().getZooKeeper().getSessionId() : -1, owner);
        previous.close();
    }

    @Test
    void shouldWaitForAStaleRegistrationOfAnotherSessionToExpire() throws Exception {
        EmbeddedBroker b = broker(8, Map.of());
        ZooKeeper stale = connect(4_000); // raised to the server's shortest session timeout
        stale.create("/brokers/ids/8", "{}".getBytes(StandardCharsets.UTF_8),
            org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        long staleSession = stale.getSessionId();
        stale.getTestable().injectSessionExpiration(); // dies without closing: the server expires it after its timeout

        b.start(); // waits for the expiry instead of exiting
        Stat stat = zk.checkExists().forPath(CHROOT + "/brokers/ids/8");
        assertNotNull(stat);
        assertFalse(stat.getEphemeralOwner() == staleSession);
        stale.close();
    }

    /** A raw client under the chroot, as a previous broker run would have had. */
    private ZooKeeper connect(int sessionTimeoutMs) throws Exception {
        if (zk.checkExists().forPath(CHROOT + "/brokers/ids") == null) {
            zk.create().creatingParentsIfNeeded().forPath(CHROOT + "/brokers/ids");
        }
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper z = new ZooKeeper(cluster.connectString() + CHROOT, sessionTimeoutMs, e -> {
            if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertTrue(connected.await(30, TimeUnit.SECONDS));
        return z;
    }

    private static long initProducerId(int port) throws IOException {
        InitProducerIdResponse r = (InitProducerIdResponse) call(port, ApiKeys.INIT_PRODUCER_ID, (short) 4,
            new InitProducerIdRequest().setTransactionalId(null).setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1));
        assertEquals(Errors.NONE.code(), r.errorCode());
        return r.producerId();
    }
}
