package io.weir.broker.zk;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.PartitionState;
import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import io.weir.common.utils.Json;
import io.weir.protocol.Errors;
import io.weir.protocol.message.UpdateMetadataRequest;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broker's metadata image built from the controller's UpdateMetadata: the request's leaders, ISRs, epochs,
 * live brokers and deletions are in the image (and so in the broker's Metadata answers, which read it) when
 * the request returns, with nothing read from ZooKeeper — the requests here describe changes ZooKeeper never
 * saw, so only the request can be their source. A request of an older controller epoch leaves the image as it
 * was; what the request lacks (a topic new to the broker: its configs) is read from ZooKeeper.
 */
class UpdateMetadataImageTest {
    private static final String TOPIC = "orders";

    private Path dir;
    private EmbeddedZooKeeper zooKeeper;
    private CuratorFramework zk;
    private ZkMetadataStore store;
    private ControllerRequestApplier applier;
    private UUID topicId;

    /**
     * The cluster is written to ZooKeeper before the store opens, so the store's first read sees all of it and
     * no watch fires afterwards: every later read is one the store chose to make.
     */
    @BeforeEach
    void open() throws Exception {
        dir = TempDirs.create("update-metadata-image");
        zooKeeper = EmbeddedZooKeeper.start(dir.resolve("zk"));
        zk = CuratorFrameworkFactory.newClient(zooKeeper.connectString(), new RetryOneTime(100));
        zk.start();
        for (int id = 0; id < 3; id++) {
            register(id);
        }
        topicId = createTopic(TOPIC, Map.of("cleanup.policy", "compact"));
        store = ZkMetadataStore.open(new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, dir.toString(),
            BrokerConfig.ZOOKEEPER_CONNECT, zooKeeper.connectString())), dir);
        assertEquals(3, store.liveBrokers().size());
        assertEquals(2, store.topics().get(TOPIC).partitionCount());
        // the replica manager is not used by UpdateMetadata: the image is all it changes
        applier = new ControllerRequestApplier(0, store, null, () -> -1L);
    }

    @AfterEach
    void close() {
        store.close();
        zk.close();
        zooKeeper.close();
        TempDirs.delete(dir);
    }

    private void register(int id) throws Exception {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 5);
        json.put("host", "127.0.0.1");
        json.put("port", 9090 + id);
        json.put("endpoints", List.of("PLAINTEXT://127.0.0.1:" + (9090 + id)));
        json.put("rack", "rack-" + id);
        zk.create().creatingParentsIfNeeded().forPath(ZkPaths.broker(id), Json.writeBytes(json));
    }

    /** A topic of two partitions over brokers 0-2, as the controller writes one. */
    private UUID createTopic(String name, Map<String, String> configs) throws Exception {
        UUID id = UUID.randomUUID();
        Map<Integer, List<Integer>> assignment = Map.of(0, List.of(0, 1, 2), 1, List.of(1, 2, 0));
        zk.create().creatingParentsIfNeeded().forPath(ZkPaths.topicConfig(name), ZkMetadataStore.configJson(configs));
        zk.create().creatingParentsIfNeeded().forPath(ZkPaths.topic(name), ZkMetadataStore.topicJson(id, assignment));
        for (int p = 0; p < 2; p++) {
            zk.create().creatingParentsIfNeeded().forPath(ZkPaths.partitionState(name, p),
                ZkMetadataStore.stateJson(assignment.get(p).get(0), 0, assignment.get(p), 1));
        }
        return id;
    }

    private static UpdateMetadataRequest.UpdateMetadataBroker broker(int id) {
        return new UpdateMetadataRequest.UpdateMetadataBroker().setId(id).setRack("rack-" + id).setEndpoints(List.of(
            new UpdateMetadataRequest.UpdateMetadataEndpoint().setHost("127.0.0.1").setPort(9090 + id)
                .setListener("PLAINTEXT").setSecurityProtocol((short) 0)));
    }

    private static UpdateMetadataRequest.UpdateMetadataPartitionState state(int partition, int leader, int leaderEpoch,
                                                                            List<Integer> isr, int zkVersion,
                                                                            List<Integer> replicas, List<Integer> offline) {
        return new UpdateMetadataRequest.UpdateMetadataPartitionState().setPartitionIndex(partition)
            .setControllerEpoch(3).setLeader(leader).setLeaderEpoch(leaderEpoch).setIsr(isr).setZkVersion(zkVersion)
            .setReplicas(replicas).setOfflineReplicas(offline);
    }

    private static UpdateMetadataRequest request(int controllerEpoch, List<UpdateMetadataRequest.UpdateMetadataTopicState> topics,
                                                 List<UpdateMetadataRequest.UpdateMetadataBroker> brokers) {
        return new UpdateMetadataRequest().setControllerId(1).setControllerEpoch(controllerEpoch).setBrokerEpoch(-1)
            .setTopicStates(topics).setLiveBrokers(brokers);
    }

    private UpdateMetadataRequest.UpdateMetadataTopicState topic(UpdateMetadataRequest.UpdateMetadataPartitionState... states) {
        return new UpdateMetadataRequest.UpdateMetadataTopicState().setTopicName(TOPIC).setTopicId(topicId)
            .setPartitionStates(List.of(states));
    }

    @Test
    void shouldBuildTheImageFromTheRequestWithoutReadingZooKeeper() {
        long refreshes = store.refreshCount();
        long stateReads = store.partitionStateReads();
        Map<Integer, Long> epochs = new LinkedHashMap<>();
        store.liveBrokers().forEach(b -> epochs.put(b.id(), b.epoch()));
        TopicPartition p0 = new TopicPartition(TOPIC, 0);
        TopicPartition p1 = new TopicPartition(TOPIC, 1);
        PartitionState p1Before = store.partitionState(p1).orElseThrow();

        // broker 0 died: broker 1 leads partition 0 with ISR [1, 2]; ZooKeeper never saw any of it
        assertEquals(Errors.NONE.code(), applier.updateMetadata(request(3,
            List.of(topic(state(0, 1, 1, List.of(1, 2), 1, List.of(0, 1, 2), List.of(0)))),
            List.of(broker(1), broker(2)))).errorCode());

        assertEquals(new PartitionState(1, 1, List.of(1, 2), 3, 1), store.partitionState(p0).orElseThrow());
        assertEquals(p1Before, store.partitionState(p1).orElseThrow(), "a partition the request does not name");
        assertEquals(List.of(1, 2), store.liveBrokers().stream().map(BrokerRegistration::id).toList());
        for (BrokerRegistration b : store.liveBrokers()) {
            assertEquals("rack-" + b.id(), b.rack());
            assertEquals(9090 + b.id(), b.port());
            assertEquals(epochs.get(b.id()), b.epoch(), "a broker the image knew keeps its broker epoch");
        }
        assertEquals(1, store.controllerId());
        assertEquals(Map.of("cleanup.policy", "compact"), store.topics().get(TOPIC).configs());
        assertEquals(refreshes, store.refreshCount(), "nothing was read from ZooKeeper");
        assertEquals(stateReads, store.partitionStateReads());
        assertFalse(store.refreshPending(), "and nothing is left to read");

        // a request of an older controller epoch changes nothing, not even the live brokers
        ZkMetadataStore.Image image = store.image();
        assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(), applier.updateMetadata(request(2,
            List.of(topic(state(0, 2, 7, List.of(2), 9, List.of(0, 1, 2), List.of(0)))), List.of(broker(2))))
            .errorCode());
        assertSame(image, store.image());
        assertEquals(3, applier.controllerEpoch());

        // the current controller epoch, but a partition epoch older than the image's: the partition keeps its state
        assertEquals(Errors.NONE.code(), applier.updateMetadata(request(3,
            List.of(topic(state(0, 0, 0, List.of(0, 1, 2), 0, List.of(0, 1, 2), List.of()))),
            List.of(broker(1), broker(2)))).errorCode());
        assertEquals(new PartitionState(1, 1, List.of(1, 2), 3, 1), store.partitionState(p0).orElseThrow());

        // the topic is deleted (every partition led by -2): gone from the image, though ZooKeeper still has it
        assertEquals(Errors.NONE.code(), applier.updateMetadata(request(4, List.of(topic(
            state(0, ZkMetadataStore.LEADER_DURING_DELETE, 1, List.of(), 1, List.of(0, 1, 2), List.of()),
            state(1, ZkMetadataStore.LEADER_DURING_DELETE, 0, List.of(), 0, List.of(1, 2, 0), List.of()))),
            List.of(broker(1), broker(2)))).errorCode());
        assertFalse(store.topics().containsKey(TOPIC));
        assertTrue(store.partitionState(p0).isEmpty());
        assertEquals(List.of(), store.replicas(p1));
        assertEquals(refreshes, store.refreshCount(), "still nothing read from ZooKeeper");
        assertFalse(store.refreshPending());
    }

    @Test
    void shouldReadFromZooKeeperOnlyWhatTheRequestLacks() throws Exception {
        // a topic this broker has not seen: the request has its partitions but not its configs
        UUID other = createTopic("payments", Map.of("retention.ms", "1000"));
        UpdateMetadataRequest.UpdateMetadataTopicState newTopic = new UpdateMetadataRequest.UpdateMetadataTopicState()
            .setTopicName("payments").setTopicId(other).setPartitionStates(List.of(
                state(0, 0, 0, List.of(0, 1, 2), 0, List.of(0, 1, 2), List.of()),
                state(1, 1, 0, List.of(1, 2, 0), 0, List.of(1, 2, 0), List.of())));
        // and an ISR change of a topic it knows, in the same request
        assertEquals(Errors.NONE.code(), applier.updateMetadata(request(3,
            List.of(newTopic, topic(state(1, 1, 0, List.of(1, 2), 1, List.of(1, 2, 0), List.of()))),
            List.of(broker(0), broker(1), broker(2)))).errorCode());
        assertEquals(new PartitionState(1, 0, List.of(1, 2), 3, 1),
            store.partitionState(new TopicPartition(TOPIC, 1)).orElseThrow(), "applied at once");
        assertTrue(store.awaitImage(i -> i.topics().containsKey("payments"), 30_000), "the new topic is read");
        assertEquals(Map.of("retention.ms", "1000"), store.topics().get("payments").configs());
        assertEquals(other, store.topics().get("payments").topicId());
    }

    @Test
    void shouldReadTheBrokerEpochOfABrokerNewToTheImageAndLeaveTheControllersOwnImageToZooKeeper() throws Exception {
        long epoch2 = zk.checkExists().forPath(ZkPaths.broker(2)).getCzxid();
        // a request written before broker 2 was seen (a snapshot of the controller's image) drops it for a moment
        assertEquals(Errors.NONE.code(), applier.updateMetadata(request(3, List.of(), List.of(broker(0), broker(1))))
            .errorCode());
        assertEquals(List.of(0, 1), store.liveBrokers().stream().map(BrokerRegistration::id).toList());
        // the controller's next request has it again: it is live at once, its broker epoch (which the request
        // lacks) is read from its registration
        assertEquals(Errors.NONE.code(), applier.updateMetadata(request(3, List.of(),
            List.of(broker(0), broker(1), broker(2)))).errorCode());
        assertEquals(List.of(0, 1, 2), store.liveBrokers().stream().map(BrokerRegistration::id).toList());
        assertTrue(store.awaitImage(i -> i.brokers().get(2).epoch() == epoch2, 30_000), "broker 2's epoch is read");

        // on the controller's own broker (id 1 here) its requests leave the image as ZooKeeper has it
        ZkMetadataStore.Image image = store.image();
        ControllerRequestApplier onController = new ControllerRequestApplier(1, store, null, () -> -1L);
        assertEquals(Errors.NONE.code(), onController.updateMetadata(request(3,
            List.of(topic(state(0, 2, 5, List.of(2), 4, List.of(0, 1, 2), List.of()))), List.of(broker(1))))
            .errorCode());
        assertSame(image, store.image());
    }

    /** The live brokers' ids in the image. */
    private List<Integer> liveIds() {
        return store.liveBrokers().stream().map(BrokerRegistration::id).toList();
    }

    /**
     * An UpdateMetadata of controller 0 under epoch 3 that names brokers 1 and 2 alone: written after broker 0's
     * registration was deleted (it was fenced while alive) and before controller 0 knew it was deposed.
     */
    private static UpdateMetadataRequest deposedControllersRequest() {
        return new UpdateMetadataRequest().setControllerId(0).setControllerEpoch(3).setBrokerEpoch(-1)
            .setTopicStates(List.of()).setLiveBrokers(List.of(broker(1), broker(2)));
    }

    /**
     * Controller 0 is fenced while alive, broker 1 takes office and broker 0 registers again; an UpdateMetadata
     * controller 0 sent before it knew reaches this broker after it has read the new controller from ZooKeeper.
     * Applied, it would drop broker 0 (and make broker 0 the controller again) with no watch left to fire, and
     * the new controller, whose requests this broker may not have had yet, would not correct it: it is refused.
     */
    @Test
    void shouldRefuseARequestOfADeposedControllerOnceTheNextControllerIsReadFromZooKeeper() throws Exception {
        // broker 1's election, as ZkController writes it: the epoch and /controller
        zk.create().forPath(ZkPaths.CONTROLLER_EPOCH, "4".getBytes(StandardCharsets.UTF_8));
        zk.create().withMode(CreateMode.EPHEMERAL).forPath(ZkPaths.CONTROLLER,
            Json.writeBytes(Map.of("version", 2, "brokerid", 1, "timestamp", "0")));
        assertTrue(store.awaitImage(i -> i.controllerId() == 1, 30_000), "the new controller is read");
        ZkMetadataStore.Image image = store.image();

        assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(), applier.updateMetadata(deposedControllersRequest()).errorCode());
        assertSame(image, store.image());
        assertEquals(List.of(0, 1, 2), liveIds());
        assertEquals(1, store.controllerId());

        // the new controller's requests are applied
        assertEquals(Errors.NONE.code(), applier.updateMetadata(request(4, List.of(),
            List.of(broker(0), broker(1), broker(2)))).errorCode());
        assertEquals(4, applier.controllerEpoch());
    }

    /**
     * The same request reaching the broker that took office: the controller decides from its image (the live
     * brokers it fails over, informs and sends requests to), so once its term began no request of an older
     * epoch may change it — here it would drop broker 0 for good, and the new controller would never see it live.
     */
    @Test
    void shouldKeepTheNewControllersViewFromARequestOfTheControllerItDeposed() throws Exception {
        // controller 0's term was epoch 3; its fence deleted /controller, the epoch stays
        zk.create().forPath(ZkPaths.CONTROLLER_EPOCH, "3".getBytes(StandardCharsets.UTF_8));
        ZkController controller = new ZkController(store, 1);
        ControllerRequestApplier onController = new ControllerRequestApplier(1, store, null, () -> -1L);
        try {
            controller.start();
            ZkTestCluster.waitUntil(controller::isActive, "broker 1 takes office");
            assertEquals(4, controller.controllerEpoch());

            assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(),
                onController.updateMetadata(deposedControllersRequest()).errorCode());
            assertEquals(List.of(0, 1, 2), liveIds());
            assertEquals(List.of(0, 1, 2), controller.liveBrokerIds().stream().sorted().toList());
        } finally {
            controller.close();
        }
    }

    /**
     * The same request reaching broker 1 before it takes office (it is the current controller's then) drops
     * broker 0, registered again, from its image, and no watch fires for broker 0 again: the new term starts
     * by reading the cluster from ZooKeeper, so the new controller sees broker 0 live.
     */
    @Test
    void shouldReadTheClusterFromZooKeeperWhenItTakesOffice() throws Exception {
        zk.create().forPath(ZkPaths.CONTROLLER_EPOCH, "3".getBytes(StandardCharsets.UTF_8));
        ControllerRequestApplier onBroker1 = new ControllerRequestApplier(1, store, null, () -> -1L);
        assertEquals(Errors.NONE.code(), onBroker1.updateMetadata(deposedControllersRequest()).errorCode());
        assertEquals(List.of(1, 2), liveIds());

        ZkController controller = new ZkController(store, 1);
        try {
            controller.start();
            ZkTestCluster.waitUntil(controller::isActive, "broker 1 takes office");
            ZkTestCluster.waitUntil(() -> liveIds().equals(List.of(0, 1, 2)), "the new controller sees broker 0");
            assertEquals(zk.checkExists().forPath(ZkPaths.broker(0)).getCzxid(), store.liveBrokers().get(0).epoch(),
                "with its broker epoch");
        } finally {
            controller.close();
        }
    }

    /**
     * A broker fenced while alive registers again; the controller's watch can report the new registration
     * (epoch 105) and its full state reach the broker before the broker's registrar has recorded that epoch
     * (still 100). The request is for this registration, not a broken invariant: it is applied, as Kafka's
     * brokers do; one for an earlier registration is still refused.
     */
    @Test
    void shouldApplyARequestForThisBrokersNewRegistrationBeforeItsEpochIsRecorded() {
        AtomicLong recorded = new AtomicLong(100);
        ControllerRequestApplier registering = new ControllerRequestApplier(0, store, null, recorded::get);

        assertEquals(Errors.NONE.code(), registering.updateMetadata(new UpdateMetadataRequest().setControllerId(1)
            .setControllerEpoch(3).setBrokerEpoch(105).setTopicStates(List.of())
            .setLiveBrokers(List.of(broker(1), broker(2)))).errorCode());
        assertEquals(List.of(1, 2), liveIds());

        assertEquals(Errors.STALE_BROKER_EPOCH.code(), registering.updateMetadata(new UpdateMetadataRequest()
            .setControllerId(1).setControllerEpoch(3).setBrokerEpoch(99).setTopicStates(List.of())
            .setLiveBrokers(List.of(broker(0), broker(1), broker(2)))).errorCode());
        assertEquals(List.of(1, 2), liveIds());
    }
}
