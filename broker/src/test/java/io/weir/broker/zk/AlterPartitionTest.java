package io.weir.broker.zk;

import io.weir.broker.Broker;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.AlterPartitionManager;
import io.weir.broker.server.AlterPartitionSender;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.utils.Json;
import io.weir.protocol.ApiException;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.RequestBuilder;
import io.weir.protocol.message.AlterPartitionRequest;
import io.weir.protocol.message.AlterPartitionResponse;
import org.apache.curator.framework.CuratorFramework;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AlterPartition in a cluster of three in-JVM brokers on one ZooKeeper ({@link ZkTestCluster}): a
 * partition leader's ISR change goes through the controller ({@link AlterPartitionManager} to
 * {@link AlterPartitionControl}), stale or wrong requests are refused with Kafka's error codes and leave
 * the partition state untouched, and the manager follows the controller when it moves. The brokers'
 * own ISR logic (shrink on lag, expand on catch-up) is switched off through {@link Broker#setAlterPartitionSender}
 * so that the only ISR changes are the test's: each test starts from the state the controller wrote
 * (a new partition's ISR is its live replicas) and computes its expectations from it.
 */
class AlterPartitionTest {
    private static final String CHROOT = "/weir-ap";

    /** Replaces the leaders' own ISR proposals: each is refused, so only the test changes ISRs. */
    private static final AlterPartitionSender ISR_LOGIC_OFF = (tp, leaderEpoch, partitionEpoch,
        newIsr) -> CompletableFuture.failedFuture(new ApiException(Errors.OPERATION_NOT_ATTEMPTED,
        "the test switched off the leader's own ISR changes"));

    private ZkTestCluster cluster;
    private CuratorFramework zk; // the whole tree, without the chroot
    private List<EmbeddedBroker> brokers;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        cluster = new ZkTestCluster(CHROOT);
        zk = cluster.zk();
        brokers = cluster.brokers();
        for (int id = 0; id < 3; id++) {
            cluster.broker(id, Map.of()).start();
            brokers.get(id).broker().setAlterPartitionSender(ISR_LOGIC_OFF);
        }
        waitUntil(() -> controllers().size() == 1, "one controller is elected");
        int controller = controllers().get(0).config().brokerId();
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> b.broker().metadataStore().liveBrokers().size() == 3
                && b.broker().metadataStore().controllerId() == controller, "every broker sees the three and the controller");
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        cluster.close();
    }

    // ---------------------------------------------------------------- tests

    @Test
    void shouldChangeTheIsrThroughTheControllerKeepingTheLeaderEpochAndBumpingThePartitionEpoch() throws Exception {
        int controller = controllerId();
        int leader = other(controller);
        int follower = other(controller, leader);
        TopicPartition tp = createTopic("isr", List.of(leader, follower, controller));
        PartitionState before = zkState(tp);
        assertEquals(List.of(leader, follower, controller), before.isr(), "a new partition's ISR is its live replicas");

        PartitionState answered = broker(leader).alterPartitionSender()
            .submit(tp, before.leaderEpoch(), before.zkVersion(), List.of(leader, follower)).get(60, TimeUnit.SECONDS);

        assertEquals(leader, answered.leader());
        assertEquals(before.leaderEpoch(), answered.leaderEpoch(), "an ISR change keeps the leader epoch");
        assertEquals(List.of(leader, follower), answered.isr());
        assertEquals(before.zkVersion() + 1, answered.zkVersion(), "the partition epoch is the state znode's version");
        PartitionState written = zkState(tp);
        assertEquals(List.of(leader, follower), written.isr());
        assertEquals(before.leaderEpoch(), written.leaderEpoch());
        assertEquals(leader, written.leader());
        assertEquals(before.zkVersion() + 1, written.zkVersion());
        assertEquals(broker(controller).controller().controllerEpoch(), written.controllerEpoch());
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> written.equals(b.broker().metadataStore().partitionState(tp).orElse(null)),
                "broker " + b.broker().config().brokerId() + "'s image shows the new ISR");
        }
    }

    @Test
    void shouldReadOnlyTheChangedPartitionsStateAfterAnIsrChange() throws Exception {
        int controller = controllerId();
        int leader = other(controller);
        int follower = other(controller, leader);
        int partitions = 16;
        Map<Integer, List<Integer>> assignment = new java.util.HashMap<>();
        for (int p = 0; p < partitions; p++) {
            assignment.put(p, List.of(leader, follower, controller));
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", brokers.get(0).bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("wide", assignment))).all().get(60, TimeUnit.SECONDS);
        }
        TopicPartition tp = new TopicPartition("wide", 3);
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> b.broker().metadataStore().partitionState(new TopicPartition("wide", partitions - 1))
                .isPresent() && b.broker().metadataStore().partitionState(tp).isPresent(), "every broker sees the topic");
        }
        // the creation's requests answered and their re-reads done: what is counted next is the ISR change's
        waitUntil(() -> broker(controller).controllerChannel().isIdle() && brokers.stream()
            .noneMatch(b -> ((ZkMetadataStore) b.broker().metadataStore()).refreshPending()), "the creation settled");
        PartitionState before = zkState(tp);
        Map<Integer, Long> readsBefore = new java.util.HashMap<>();
        for (EmbeddedBroker b : brokers) {
            readsBefore.put(b.broker().config().brokerId(),
                ((ZkMetadataStore) b.broker().metadataStore()).partitionStateReads());
        }

        broker(leader).alterPartitionSender()
            .submit(tp, before.leaderEpoch(), before.zkVersion(), List.of(leader, follower)).get(60, TimeUnit.SECONDS);
        PartitionState written = zkState(tp);
        assertEquals(List.of(leader, follower), written.isr());
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> written.equals(b.broker().metadataStore().partitionState(tp).orElse(null)),
                "broker " + b.broker().config().brokerId() + "'s image shows the new ISR");
            // UpdateMetadata may bring it first; the state znode's watch still fires and re-reads that one znode
            int id = b.broker().config().brokerId();
            waitUntil(() -> ((ZkMetadataStore) b.broker().metadataStore()).partitionStateReads() > readsBefore.get(id),
                "broker " + id + "'s watch on the changed state znode fired");
        }
        for (EmbeddedBroker b : brokers) {
            int id = b.broker().config().brokerId();
            long reads = ((ZkMetadataStore) b.broker().metadataStore()).partitionStateReads() - readsBefore.get(id);
            assertTrue(reads >= 1 && reads < partitions, "broker " + id + " read " + reads
                + " partition states for one partition's ISR change, not the topic's " + partitions);
        }
        TopicPartition other = new TopicPartition("wide", 4);
        for (EmbeddedBroker b : brokers) {
            assertEquals(zkState(other), b.broker().metadataStore().partitionState(other).orElseThrow());
        }
    }

    @Test
    void shouldRefuseStaleOrWrongChangesWithKafkasErrorsAndLeaveTheStateUnchanged() throws Exception {
        int controller = controllerId();
        int leader = other(controller);
        int follower = other(controller, leader);
        TopicPartition tp = createTopic("stale", List.of(leader, follower, controller));
        UUID topicId = broker(controller).metadataStore().topic("stale").orElseThrow().topicId();
        // history: an ISR change (a shrink of the initial full ISR: partition epoch 0 -> 1), then a leader
        // epoch bump (0 -> 1) by the controller
        PartitionState first = zkState(tp);
        PartitionState expanded = broker(leader).alterPartitionSender()
            .submit(tp, first.leaderEpoch(), first.zkVersion(), List.of(leader, follower)).get(60, TimeUnit.SECONDS);
        broker(controller).controller().updatePartitionState(tp, expanded, leader, expanded.leaderEpoch() + 1,
            expanded.isr());
        PartitionState current = zkState(tp);
        assertEquals(first.leaderEpoch() + 1, current.leaderEpoch());
        assertEquals(first.zkVersion() + 2, current.zkVersion());
        String statePath = CHROOT + ZkPaths.partitionState(tp.topic(), tp.partition());
        byte[] stateBytes = zk.getData().forPath(statePath);

        long leaderEpoch = brokerEpoch(leader);
        for (EmbeddedBroker b : brokers) {
            for (BrokerRegistration r : b.broker().metadataStore().liveBrokers()) {
                assertEquals(brokerEpoch(r.id()), r.epoch(), "the image's broker epoch is the registration's czxid");
            }
        }
        try (NetworkClient client = rawClient()) {
            Node toController = node(controller);
            List<Integer> isr = List.of(leader, follower, controller);
            assertEquals(Errors.INVALID_UPDATE_VERSION, partitionError(client, toController, 3, leader, leaderEpoch,
                topicId, current.leaderEpoch(), expanded.zkVersion() - 1, isr), "an older partition epoch");
            assertEquals(Errors.INVALID_UPDATE_VERSION, partitionError(client, toController, 2, leader, leaderEpoch,
                topicId, current.leaderEpoch(), expanded.zkVersion(), isr), "an older partition epoch (v2)");
            assertEquals(Errors.FENCED_LEADER_EPOCH, partitionError(client, toController, 3, leader, leaderEpoch,
                topicId, current.leaderEpoch() - 1, current.zkVersion(), isr), "an older leader epoch");
            assertEquals(Errors.INVALID_REQUEST, partitionError(client, toController, 3, follower, brokerEpoch(follower),
                topicId, current.leaderEpoch(), current.zkVersion(), isr), "a sender that is not the leader");
            assertEquals(Errors.INVALID_REQUEST, partitionError(client, toController, 3, leader, leaderEpoch,
                topicId, current.leaderEpoch(), current.zkVersion(), List.of(follower, controller)), "an ISR without the leader");
            assertEquals(Errors.INVALID_REQUEST, partitionError(client, toController, 3, leader, leaderEpoch,
                topicId, current.leaderEpoch(), current.zkVersion(), List.of(leader, 7)), "an ISR member outside the replicas");
            assertEquals(Errors.NOT_CONTROLLER, partitionError(client, toController, 3, leader, leaderEpoch,
                topicId, current.leaderEpoch() + 1, current.zkVersion(), isr), "a leader epoch newer than the controller's");
            assertEquals(Errors.UNKNOWN_TOPIC_ID, partitionError(client, toController, 3, leader, leaderEpoch,
                UUID.randomUUID(), current.leaderEpoch(), current.zkVersion(), isr), "an unknown topic id");
            AlterPartitionRequest badMemberEpoch = request(leader, leaderEpoch, topicId, current.leaderEpoch(),
                current.zkVersion(), List.of(leader, controller));
            badMemberEpoch.topics().get(0).partitions().get(0).newIsrWithEpochs().get(1)
                .setBrokerEpoch(brokerEpoch(controller) + 1000);
            assertEquals(Errors.INELIGIBLE_REPLICA, onlyPartitionError(send(client, toController, 3, badMemberEpoch)),
                "an ISR member whose broker epoch is not its registration's");

            AlterPartitionResponse staleSender = send(client, toController, 3, request(leader, leaderEpoch - 1, topicId,
                current.leaderEpoch(), current.zkVersion(), isr));
            assertEquals(Errors.STALE_BROKER_EPOCH, Errors.forCode(staleSender.errorCode()), "a stale sender epoch");
            AlterPartitionResponse notController = send(client, node(follower), 3, request(leader, leaderEpoch, topicId,
                current.leaderEpoch(), current.zkVersion(), isr));
            assertEquals(Errors.NOT_CONTROLLER, Errors.forCode(notController.errorCode()), "sent to a non-controller");

            assertArrayEquals(stateBytes, zk.getData().forPath(statePath), "no refused change touched the state");
            assertEquals(current.zkVersion(), zkState(tp).zkVersion());

            // a replica whose broker is gone cannot join the ISR. Its controlled shutdown makes the controller
            // drop it from the ISR (a new leader and partition epoch), so the epochs are the state's after that
            broker(follower).shutdown();
            waitUntil(() -> broker(controller).metadataStore().liveBrokers().size() == 2,
                "the controller sees the follower gone");
            waitUntil(() -> !zkStateUnchecked(tp).isr().contains(follower), "the controller dropped the follower");
            PartitionState gone = zkState(tp);
            byte[] goneBytes = zk.getData().forPath(statePath);
            assertEquals(Errors.INELIGIBLE_REPLICA, partitionError(client, toController, 3, leader, leaderEpoch,
                topicId, gone.leaderEpoch(), gone.zkVersion(), isr), "an ISR member that is not live");
            assertEquals(Errors.INELIGIBLE_REPLICA, partitionError(client, toController, 2, leader, leaderEpoch,
                topicId, gone.leaderEpoch(), gone.zkVersion(), isr), "an ISR member that is not live (v2)");
            assertArrayEquals(goneBytes, zk.getData().forPath(statePath), "no refused change touched the state");
        }

        // the manager hands the controller's error to the caller
        PartitionState last = zkState(tp);
        byte[] lastBytes = zk.getData().forPath(statePath);
        ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
            () -> broker(leader).alterPartitionSender().submit(tp, last.leaderEpoch(), last.zkVersion() - 1,
                List.of(leader)).get(60, TimeUnit.SECONDS));
        assertEquals(Errors.INVALID_UPDATE_VERSION, assertInstanceOf(ApiException.class, refused.getCause()).error());
        assertArrayEquals(lastBytes, zk.getData().forPath(statePath));
    }

    @Test
    void shouldRefuseToAddABrokerInControlledShutdownToAnIsr() throws Exception {
        int controller = controllerId();
        int leader = other(controller);
        int follower = other(controller, leader);
        TopicPartition tp = createTopic("draining", List.of(leader, follower));
        UUID topicId = broker(controller).metadataStore().topic("draining").orElseThrow().topicId();
        assertEquals(List.of(leader, follower), zkState(tp).isr());

        // the follower asks for a controlled shutdown (its znode, as Broker#shutdown writes it) but stays up:
        // the controller drops it from the ISR
        String request = CHROOT + ZkPaths.controlledShutdown(follower);
        zk.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(request);
        waitUntil(() -> broker(controller).controller().shuttingDownBrokers().contains(follower)
            && !zkStateUnchecked(tp).isr().contains(follower), "the controller drops the draining follower from the ISR");
        PartitionState drained = zkState(tp);
        assertEquals(List.of(leader), drained.isr());
        String statePath = CHROOT + ZkPaths.partitionState(tp.topic(), tp.partition());
        byte[] stateBytes = zk.getData().forPath(statePath);

        try (NetworkClient client = rawClient()) {
            for (int version : new int[] {2, 3}) {
                assertEquals(Errors.INELIGIBLE_REPLICA, partitionError(client, node(controller), version, leader,
                    brokerEpoch(leader), topicId, drained.leaderEpoch(), drained.zkVersion(), List.of(leader, follower)),
                    "a broker in controlled shutdown is not taken back into the ISR (v" + version + ")");
                assertArrayEquals(stateBytes, zk.getData().forPath(statePath), "the refused change touched nothing");
            }

            // the same change once the shutdown request is gone: taken
            zk.delete().forPath(request);
            waitUntil(() -> !broker(controller).controller().shuttingDownBrokers().contains(follower),
                "the controller sees the request gone");
            assertEquals(Errors.NONE, partitionError(client, node(controller), 3, leader, brokerEpoch(leader), topicId,
                drained.leaderEpoch(), drained.zkVersion(), List.of(leader, follower)));
            assertEquals(List.of(leader, follower), zkState(tp).isr());
        }
    }

    @Test
    void shouldRefuseAnExpansionNamingTheBrokerEpochAReplicaFetchedWithBeforeItsBrokerRestarted() throws Exception {
        int controller = controllerId();
        int leader = other(controller);
        int follower = other(controller, leader);
        TopicPartition tp = createTopic("kip903", List.of(leader, follower, controller));
        PartitionState full = zkState(tp);
        PartitionState shrunk = broker(leader).alterPartitionSender()
            .submit(tp, full.leaderEpoch(), full.zkVersion(), List.of(leader, controller)).get(60, TimeUnit.SECONDS);
        String statePath = CHROOT + ZkPaths.partitionState(tp.topic(), tp.partition());
        byte[] stateBytes = zk.getData().forPath(statePath);

        // the leader last saw the follower fetch under an earlier registration of its broker (KIP-903): the
        // metadata image has the follower's current epoch, but the fetch's is what the expansion names
        long current = brokerEpoch(follower);
        ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
            () -> broker(leader).alterPartitionSender().submit(tp, shrunk.leaderEpoch(), shrunk.zkVersion(),
                List.of(leader, controller, follower), Map.of(follower, current - 1)).get(60, TimeUnit.SECONDS));
        assertEquals(Errors.INELIGIBLE_REPLICA, assertInstanceOf(ApiException.class, refused.getCause()).error());
        assertArrayEquals(stateBytes, zk.getData().forPath(statePath), "the refused expansion touched nothing");

        // fetched under its current registration: taken back
        PartitionState expanded = broker(leader).alterPartitionSender().submit(tp, shrunk.leaderEpoch(),
            shrunk.zkVersion(), List.of(leader, controller, follower), Map.of(follower, current)).get(60, TimeUnit.SECONDS);
        assertEquals(List.of(leader, controller, follower), expanded.isr());
        assertEquals(List.of(leader, controller, follower), zkState(tp).isr());
    }

    @Test
    void shouldRetryANotControllerAnswerAtTheControllerTheMetadataNamesNext() throws Exception {
        int controller = controllerId();
        int leader = other(controller);
        int follower = other(controller, leader);
        TopicPartition tp = createTopic("moved", List.of(leader, follower));
        PartitionState before = zkState(tp);
        // the first lookup names a broker that is not the controller (as a lagging image would)
        AtomicInteger lookups = new AtomicInteger();
        MetadataStore real = broker(leader).metadataStore();
        MetadataStore lagging = new ForwardingStore(real) {
            @Override
            public int controllerId() {
                return lookups.getAndIncrement() == 0 ? follower : real.controllerId();
            }
        };
        AlterPartitionManager manager = new AlterPartitionManager(leader, () -> brokerEpochUnchecked(leader), lagging,
            first -> rawClient(), Time.SYSTEM, 30_000, 10, 100);
        closeables.add(manager);
        // not started: both submits are queued, so the second one deterministically finds the first outstanding
        assertEquals(List.of(leader, follower), before.isr(), "a new partition's ISR is its live replicas");
        CompletableFuture<PartitionState> change = manager.submit(tp, before.leaderEpoch(), before.zkVersion(),
            List.of(leader));
        CompletableFuture<PartitionState> second = manager.submit(tp, before.leaderEpoch(), before.zkVersion(),
            List.of(leader, follower));
        ExecutionException notAttempted = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
            () -> second.get(60, TimeUnit.SECONDS));
        assertEquals(Errors.OPERATION_NOT_ATTEMPTED, assertInstanceOf(ApiException.class, notAttempted.getCause()).error());
        manager.start();

        PartitionState answered = change.get(60, TimeUnit.SECONDS);
        assertTrue(lookups.get() >= 2, "the controller was looked up again after the NOT_CONTROLLER answer");
        assertEquals(List.of(leader), answered.isr());
        assertEquals(before.zkVersion() + 1, answered.zkVersion());
        assertEquals(List.of(leader), zkState(tp).isr());

        // a partition answered NOT_CONTROLLER for good (its leader epoch is one the controller never wrote)
        // is retried a bounded number of rounds, then the caller gets the error
        ExecutionException ahead = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
            () -> manager.submit(tp, answered.leaderEpoch() + 1, answered.zkVersion(), List.of(leader, follower))
                .get(60, TimeUnit.SECONDS));
        assertEquals(Errors.NOT_CONTROLLER, assertInstanceOf(ApiException.class, ahead.getCause()).error());
        assertEquals(List.of(leader), zkState(tp).isr());
    }

    @Test
    void shouldSendTheChangeToTheNewControllerAfterTheControllerBrokerStops() throws Exception {
        int controller = controllerId();
        int leader = other(controller);
        int follower = other(controller, leader);
        TopicPartition tp = createTopic("failover", List.of(leader, follower));
        PartitionState before = zkState(tp);
        int oldEpoch = broker(controller).controller().controllerEpoch();
        MetadataStore real = broker(leader).metadataStore();
        List<BrokerRegistration> withOldController = real.liveBrokers();

        broker(controller).shutdown();
        waitUntil(() -> controllers().size() == 1, "another broker becomes the controller");
        // the first lookup still names the stopped controller at its old address (a lagging image): the
        // connection fails and the manager follows the metadata to the new controller
        AtomicInteger lookups = new AtomicInteger();
        MetadataStore lagging = new ForwardingStore(real) {
            @Override
            public int controllerId() {
                return lookups.getAndIncrement() == 0 ? controller : real.controllerId();
            }

            @Override
            public List<BrokerRegistration> liveBrokers() {
                List<BrokerRegistration> all = new ArrayList<>(real.liveBrokers());
                withOldController.stream().filter(b -> b.id() == controller).forEach(all::add);
                return all;
            }
        };
        AlterPartitionManager manager = new AlterPartitionManager(leader, () -> brokerEpochUnchecked(leader), lagging,
            first -> rawClient(), Time.SYSTEM, 30_000, 10, 100);
        closeables.add(manager);
        manager.start();
        assertEquals(List.of(leader, follower), before.isr(), "a new partition's ISR is its live replicas");
        PartitionState answered = manager.submit(tp, before.leaderEpoch(), before.zkVersion(), List.of(leader))
            .get(60, TimeUnit.SECONDS);

        assertTrue(lookups.get() >= 2, "the controller was looked up again after the stopped one failed");
        assertEquals(List.of(leader), answered.isr());
        PartitionState written = zkState(tp);
        assertEquals(List.of(leader), written.isr());
        assertEquals(before.zkVersion() + 1, written.zkVersion());
        assertTrue(written.controllerEpoch() > oldEpoch, "written by the new controller (epoch " + written.controllerEpoch()
            + " after " + oldEpoch + ")");

        // the broker's own manager reaches the new controller too
        PartitionState expanded = broker(leader).alterPartitionSender()
            .submit(tp, written.leaderEpoch(), written.zkVersion(), List.of(leader, follower)).get(60, TimeUnit.SECONDS);
        assertEquals(List.of(leader, follower), expanded.isr());
        assertEquals(List.of(leader, follower), zkState(tp).isr());
    }

    @Test
    void shouldFailPendingChangesWhenClosed() throws Exception {
        int controller = controllerId();
        int leader = other(controller);
        TopicPartition tp = createTopic("closing", List.of(leader, controller));
        PartitionState before = zkState(tp);
        AlterPartitionManager manager = new AlterPartitionManager(leader, () -> brokerEpochUnchecked(leader),
            broker(leader).metadataStore(), first -> rawClient(), Time.SYSTEM, 30_000, 10, 100);
        CompletableFuture<PartitionState> pending = manager.submit(tp, before.leaderEpoch(), before.zkVersion(),
            List.of(leader, controller)); // never started: still queued
        manager.close();
        ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
            () -> pending.get(60, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, failed.getCause());
        assertEquals(before, zkState(tp), "nothing was sent");
    }

    // ---------------------------------------------------------------- helpers

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        ZkTestCluster.waitUntil(condition, what);
    }

    private List<Broker> controllers() {
        return brokers.stream().map(EmbeddedBroker::broker)
            .filter(b -> b != null && b.controller() != null && b.controller().isActive()).toList();
    }

    private int controllerId() {
        return controllers().get(0).config().brokerId();
    }

    private Broker broker(int id) {
        return brokers.get(id).broker();
    }

    /** A broker id other than {@code excluded}. */
    private static int other(int... excluded) {
        for (int id = 0; id < 3; id++) {
            final int candidate = id;
            if (java.util.Arrays.stream(excluded).noneMatch(e -> e == candidate)) {
                return id;
            }
        }
        throw new IllegalStateException();
    }

    /** Creates a one-partition topic with {@code replicas} (the first leads) and waits until every broker sees its state. */
    private TopicPartition createTopic(String name, List<Integer> replicas) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", brokers.get(0).bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, Map.of(0, replicas)))).all().get(60, TimeUnit.SECONDS);
        }
        TopicPartition tp = new TopicPartition(name, 0);
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> b.broker().metadataStore().partitionState(tp).isPresent(),
                "broker " + b.broker().config().brokerId() + " sees " + tp);
        }
        return tp;
    }

    /** The partition's state as ZooKeeper holds it now. */
    private PartitionState zkState(TopicPartition tp) throws Exception {
        Stat stat = new Stat();
        byte[] data = zk.getData().storingStatIn(stat).forPath(CHROOT + ZkPaths.partitionState(tp.topic(), tp.partition()));
        Map<String, Object> o = Json.parseObject(data);
        return new PartitionState(Json.intField(o, "leader", -2), Json.intField(o, "leader_epoch", -2),
            Json.intList(o.get("isr")), Json.intField(o, "controller_epoch", -2), stat.getVersion());
    }

    private PartitionState zkStateUnchecked(TopicPartition tp) {
        try {
            return zkState(tp);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The broker's epoch: the czxid of its registration znode. */
    private long brokerEpoch(int id) throws Exception {
        return zk.checkExists().forPath(CHROOT + "/brokers/ids/" + id).getCzxid();
    }

    private long brokerEpochUnchecked(int id) {
        try {
            return brokerEpoch(id);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private Node node(int id) {
        return new Node(id, "127.0.0.1", brokers.get(id).port());
    }

    /** A client of its own, bootstrapped from a broker that is running (requests name their node). */
    private NetworkClient rawClient() {
        EmbeddedBroker running = brokers.stream().filter(b -> b.broker() != null && b.broker().controller() != null)
            .findFirst().orElseThrow();
        return new NetworkClient(NetworkClient.Settings.defaults(List.of(new Node(-1, "127.0.0.1", running.port())),
            "alter-partition-test"), Time.SYSTEM);
    }

    private static AlterPartitionRequest request(int brokerId, long brokerEpoch, UUID topicId, int leaderEpoch,
                                                 int partitionEpoch, List<Integer> isr) {
        List<AlterPartitionRequest.BrokerState> members = new ArrayList<>();
        for (int id : isr) {
            members.add(new AlterPartitionRequest.BrokerState().setBrokerId(id).setBrokerEpoch(-1));
        }
        return new AlterPartitionRequest().setBrokerId(brokerId).setBrokerEpoch(brokerEpoch).setTopics(List.of(
            new AlterPartitionRequest.TopicData().setTopicId(topicId).setPartitions(List.of(
                new AlterPartitionRequest.PartitionData().setPartitionIndex(0).setLeaderEpoch(leaderEpoch)
                    .setPartitionEpoch(partitionEpoch).setNewIsr(isr).setNewIsrWithEpochs(members)))));
    }

    /** Sends {@code request} at exactly {@code version}. */
    private static AlterPartitionResponse send(NetworkClient client, Node node, int version, AlterPartitionRequest request)
        throws Exception {
        RequestBuilder builder = new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return ApiKeys.ALTER_PARTITION;
            }

            @Override
            public short oldestAllowedVersion() {
                return (short) version;
            }

            @Override
            public short latestAllowedVersion() {
                return (short) version;
            }

            @Override
            public ApiMessage build(short v) {
                return request;
            }
        };
        return (AlterPartitionResponse) client.send(NodeSelector.fixed(node), builder,
            System.currentTimeMillis() + 30_000).get(60, TimeUnit.SECONDS);
    }

    private static Errors partitionError(NetworkClient client, Node node, int version, int brokerId, long brokerEpoch,
                                         UUID topicId, int leaderEpoch, int partitionEpoch, List<Integer> isr)
        throws Exception {
        return onlyPartitionError(send(client, node, version, request(brokerId, brokerEpoch, topicId, leaderEpoch,
            partitionEpoch, isr)));
    }

    private static Errors onlyPartitionError(AlterPartitionResponse r) {
        assertEquals(Errors.NONE, Errors.forCode(r.errorCode()), "top-level error");
        assertEquals(1, r.topics().size());
        assertEquals(1, r.topics().get(0).partitions().size());
        return Errors.forCode(r.topics().get(0).partitions().get(0).errorCode());
    }

    /** A store that answers from another, for a test to change one answer. */
    private static class ForwardingStore implements MetadataStore {
        private final MetadataStore delegate;

        ForwardingStore(MetadataStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public String clusterId() {
            return delegate.clusterId();
        }

        @Override
        public Map<String, TopicMetadata> topics() {
            return delegate.topics();
        }

        @Override
        public boolean createTopic(TopicMetadata topic) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean deleteTopic(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean updateTopic(TopicMetadata topic) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<BrokerRegistration> liveBrokers() {
            return delegate.liveBrokers();
        }

        @Override
        public int controllerId() {
            return delegate.controllerId();
        }

        @Override
        public List<Integer> replicas(TopicPartition tp) {
            return delegate.replicas(tp);
        }

        @Override
        public Optional<PartitionState> partitionState(TopicPartition tp) {
            return delegate.partitionState(tp);
        }

        @Override
        public void close() {
        }
    }
}
