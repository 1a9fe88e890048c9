package io.weir.broker.zk;

import io.weir.broker.Broker;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.server.Partition;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.message.LeaderAndIsrRequest;
import io.weir.protocol.message.LeaderAndIsrResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.StopReplicaRequest;
import io.weir.protocol.message.StopReplicaResponse;
import io.weir.protocol.message.UpdateMetadataRequest;
import io.weir.protocol.message.UpdateMetadataResponse;
import org.apache.curator.framework.CuratorFramework;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.weir.broker.zk.ZkTestCluster.id;
import static io.weir.broker.zk.ZkTestCluster.store;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The controller's requests to the brokers on three in-JVM brokers sharing one ZooKeeper: a broker refuses
 * LeaderAndIsr / UpdateMetadata / StopReplica of an older controller epoch or meant for an earlier broker
 * epoch and keeps its state; with the ZooKeeper watch path switched off ({@link Broker#setApplyZkPartitionStates})
 * a leader change and a controller failover still reach the brokers, by RPC alone.
 */
class ControllerRequestsTest {
    private static final String CHROOT = "/weir-control";
    private static final Map<String, String> CONFIG = Map.of("controlled.shutdown.enable", "false",
        "auto.leader.rebalance.enable", "false");

    private ZkTestCluster cluster;
    private CuratorFramework zk;
    private List<EmbeddedBroker> brokers;

    @BeforeEach
    void start() throws Exception {
        cluster = new ZkTestCluster(CHROOT);
        zk = cluster.zk();
        brokers = cluster.brokers();
        for (int id = 0; id < 3; id++) {
            cluster.broker(id, CONFIG).start();
        }
        ZkTestCluster.waitUntil(() -> controller() != null, "a controller is elected");
        int epoch = controller().broker().controller().controllerEpoch();
        for (EmbeddedBroker b : brokers) {
            ZkTestCluster.waitUntil(() -> store(b).liveBrokers().size() == 3, "every broker sees all 3");
            // only the controller's requests move a broker's controller epoch
            ZkTestCluster.waitUntil(() -> b.broker().controllerRequests().controllerEpoch() == epoch,
                "broker " + id(b) + " accepted the controller's requests");
        }
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    private EmbeddedBroker controller() {
        return cluster.controller();
    }

    private EmbeddedBroker broker(int id) {
        return brokers.stream().filter(b -> b.broker() != null && id(b) == id).findFirst().orElseThrow();
    }

    private List<Integer> nonControllerIds() {
        int c = id(controller());
        return brokers.stream().map(ZkTestCluster::id).filter(i -> i != c).sorted().toList();
    }

    /** Creates the topic with {@code assignment} and waits until its replicas apply a state. */
    private UUID create(String topic, List<Integer> replicas) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", controller().bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, Map.of(0, replicas)))).all().get();
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        for (int r : replicas) {
            ZkTestCluster.waitUntil(() -> {
                Partition p = broker(r).broker().replicaManager().partition(tp);
                return p != null && p.hasAppliedState();
            }, "broker " + r + " applies the state of " + tp);
        }
        return store(controller()).image().topics().get(topic).topicId();
    }

    private static long brokerEpoch(EmbeddedBroker b) {
        for (BrokerRegistration r : store(b).image().brokers()) {
            if (r.id() == id(b)) {
                return r.epoch();
            }
        }
        throw new AssertionError("broker " + id(b) + " is not registered");
    }

    private static LeaderAndIsrRequest leaderAndIsr(int controllerEpoch, long brokerEpoch, String topic, UUID topicId,
                                                    int leader, int leaderEpoch, int partitionEpoch, List<Integer> replicas) {
        return new LeaderAndIsrRequest().setControllerId(leader).setControllerEpoch(controllerEpoch)
            .setBrokerEpoch(brokerEpoch).setType((byte) 1).setTopicStates(List.of(
                new LeaderAndIsrRequest.LeaderAndIsrTopicState().setTopicName(topic).setTopicId(topicId)
                    .setPartitionStates(List.of(new LeaderAndIsrRequest.LeaderAndIsrPartitionState()
                        .setPartitionIndex(0).setControllerEpoch(controllerEpoch).setLeader(leader)
                        .setLeaderEpoch(leaderEpoch).setIsr(replicas).setPartitionEpoch(partitionEpoch)
                        .setReplicas(replicas).setAddingReplicas(List.of()).setRemovingReplicas(List.of())))))
            .setLiveLeaders(List.of());
    }

    private static StopReplicaRequest stopReplica(int controllerEpoch, long brokerEpoch, String topic, int leaderEpoch) {
        return new StopReplicaRequest().setControllerId(0).setControllerEpoch(controllerEpoch).setBrokerEpoch(brokerEpoch)
            .setTopicStates(List.of(new StopReplicaRequest.StopReplicaTopicState().setTopicName(topic)
                .setPartitionStates(List.of(new StopReplicaRequest.StopReplicaPartitionState().setPartitionIndex(0)
                    .setLeaderEpoch(leaderEpoch).setDeletePartition(true)))));
    }

    /** What a replica's state is, to compare before and after a refused request. */
    private record Snapshot(boolean hosted, boolean leader, int leaderId, int leaderEpoch, int partitionEpoch,
                            List<Integer> isr) {
        static Snapshot of(Partition p) {
            return p == null ? new Snapshot(false, false, -1, -1, -1, List.of())
                : new Snapshot(true, p.isLeader(), p.leaderId(), p.leaderEpoch(), p.partitionEpoch(), p.isr());
        }
    }

    @Test
    void shouldRefuseRequestsOfAStaleControllerEpochOrBrokerEpochAndKeepTheState() throws Exception {
        List<Integer> others = nonControllerIds();
        List<Integer> replicas = List.of(others.get(0), others.get(1));
        UUID topicId = create("fenced", replicas);
        TopicPartition tp = new TopicPartition("fenced", 0);
        EmbeddedBroker target = broker(others.get(1)); // a follower
        // a leader epoch above 0, so an older one exists for StopReplica to be fenced with
        ZkController c = controller().broker().controller();
        PartitionState written = store(controller()).readPartitionState(tp).orElseThrow();
        c.updatePartitionState(tp, written, written.leader(), written.leaderEpoch() + 1, written.isr());
        ZkTestCluster.waitUntil(() -> target.broker().replicaManager().partition(tp).leaderEpoch() == 1,
            "the follower applies leader epoch 1");
        int epoch = c.controllerEpoch();
        long brokerEpoch = brokerEpoch(target);
        Partition p = target.broker().replicaManager().partition(tp);
        Snapshot before = Snapshot.of(p);
        assertFalse(before.leader());
        short lisrV = ApiKeys.LEADER_AND_ISR.highestVersion();
        short umV = ApiKeys.UPDATE_METADATA.highestVersion();
        short srV = ApiKeys.STOP_REPLICA.highestVersion();
        // a newer leader epoch naming the target as leader: it would lead if the request were accepted
        LeaderAndIsrRequest staleController = leaderAndIsr(epoch - 1, brokerEpoch, "fenced", topicId, id(target),
            before.leaderEpoch() + 5, before.partitionEpoch() + 5, replicas);
        LeaderAndIsrResponse r1 = (LeaderAndIsrResponse) ZkTestCluster.call(target.port(), ApiKeys.LEADER_AND_ISR, lisrV,
            staleController);
        assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(), r1.errorCode());
        assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(), r1.topics().get(0).partitionErrors().get(0).errorCode());
        UpdateMetadataResponse r2 = (UpdateMetadataResponse) ZkTestCluster.call(target.port(), ApiKeys.UPDATE_METADATA,
            umV, new UpdateMetadataRequest().setControllerId(0).setControllerEpoch(epoch - 1).setBrokerEpoch(brokerEpoch)
                .setTopicStates(List.of()).setLiveBrokers(List.of()));
        assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(), r2.errorCode());
        StopReplicaResponse r3 = (StopReplicaResponse) ZkTestCluster.call(target.port(), ApiKeys.STOP_REPLICA, srV,
            stopReplica(epoch - 1, brokerEpoch, "fenced", -1));
        assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(), r3.errorCode());
        assertEquals(before, Snapshot.of(target.broker().replicaManager().partition(tp)));
        assertEquals(epoch, target.broker().controllerRequests().controllerEpoch());

        // the current controller epoch, but meant for an earlier registration of the target
        LeaderAndIsrRequest staleBroker = leaderAndIsr(epoch, brokerEpoch - 1, "fenced", topicId, id(target),
            before.leaderEpoch() + 5, before.partitionEpoch() + 5, replicas);
        LeaderAndIsrResponse r4 = (LeaderAndIsrResponse) ZkTestCluster.call(target.port(), ApiKeys.LEADER_AND_ISR, lisrV,
            staleBroker);
        assertEquals(Errors.STALE_BROKER_EPOCH.code(), r4.errorCode());
        assertEquals(Errors.STALE_BROKER_EPOCH.code(), r4.topics().get(0).partitionErrors().get(0).errorCode());
        UpdateMetadataResponse r5 = (UpdateMetadataResponse) ZkTestCluster.call(target.port(), ApiKeys.UPDATE_METADATA,
            umV, new UpdateMetadataRequest().setControllerId(0).setControllerEpoch(epoch).setBrokerEpoch(brokerEpoch - 1)
                .setTopicStates(List.of()).setLiveBrokers(List.of()));
        assertEquals(Errors.STALE_BROKER_EPOCH.code(), r5.errorCode());
        StopReplicaResponse r6 = (StopReplicaResponse) ZkTestCluster.call(target.port(), ApiKeys.STOP_REPLICA, srV,
            stopReplica(epoch, brokerEpoch - 1, "fenced", -1));
        assertEquals(Errors.STALE_BROKER_EPOCH.code(), r6.errorCode());
        assertEquals(before, Snapshot.of(target.broker().replicaManager().partition(tp)));

        // the current epochs, but an older leader epoch for the partition
        LeaderAndIsrRequest olderLeaderEpoch = leaderAndIsr(epoch, brokerEpoch, "fenced", topicId, id(target),
            before.leaderEpoch() - 1, before.partitionEpoch() + 5, replicas);
        LeaderAndIsrResponse r7 = (LeaderAndIsrResponse) ZkTestCluster.call(target.port(), ApiKeys.LEADER_AND_ISR, lisrV,
            olderLeaderEpoch);
        assertEquals(Errors.NONE.code(), r7.errorCode());
        assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(), r7.topics().get(0).partitionErrors().get(0).errorCode());
        StopReplicaResponse r8 = (StopReplicaResponse) ZkTestCluster.call(target.port(), ApiKeys.STOP_REPLICA, srV,
            stopReplica(epoch, brokerEpoch, "fenced", before.leaderEpoch() - 1));
        assertEquals(Errors.NONE.code(), r8.errorCode());
        assertEquals(Errors.FENCED_LEADER_EPOCH.code(), r8.partitionErrors().get(0).errorCode());
        assertEquals(before, Snapshot.of(target.broker().replicaManager().partition(tp)));
    }

    @Test
    void shouldAnswerMetadataWithWhatAnUpdateMetadataCarried() throws Exception {
        List<Integer> others = nonControllerIds();
        int leader = others.get(0);
        List<Integer> replicas = List.of(leader, id(controller()));
        UUID topicId = create("told", replicas);
        TopicPartition tp = new TopicPartition("told", 0);
        EmbeddedBroker target = broker(others.get(1)); // not a replica: the request changes its image alone
        ZkTestCluster.waitUntil(() -> store(target).partitionState(tp).isPresent(), "the target sees " + tp);
        PartitionState known = store(target).partitionState(tp).orElseThrow();
        int epoch = controller().broker().controller().controllerEpoch();

        // an ISR of the leader alone at a partition epoch ZooKeeper never had: only the request can be its source
        UpdateMetadataRequest request = new UpdateMetadataRequest().setControllerId(id(controller()))
            .setControllerEpoch(epoch).setBrokerEpoch(brokerEpoch(target))
            .setTopicStates(List.of(new UpdateMetadataRequest.UpdateMetadataTopicState().setTopicName("told")
                .setTopicId(topicId).setPartitionStates(List.of(new UpdateMetadataRequest.UpdateMetadataPartitionState()
                    .setPartitionIndex(0).setControllerEpoch(epoch).setLeader(leader).setLeaderEpoch(known.leaderEpoch())
                    .setIsr(List.of(leader)).setZkVersion(known.zkVersion() + 5).setReplicas(replicas)
                    .setOfflineReplicas(List.of())))))
            .setLiveBrokers(liveBrokers(target));
        UpdateMetadataResponse r = (UpdateMetadataResponse) ZkTestCluster.call(target.port(), ApiKeys.UPDATE_METADATA,
            ApiKeys.UPDATE_METADATA.highestVersion(), request);
        assertEquals(Errors.NONE.code(), r.errorCode());

        MetadataResponse m = (MetadataResponse) ZkTestCluster.call(target.port(), ApiKeys.METADATA, (short) 12,
            new MetadataRequest().setTopics(List.of(new MetadataRequest.MetadataRequestTopic().setName("told"))));
        MetadataResponse.MetadataResponsePartition p = m.topics().get(0).partitions().get(0);
        assertEquals(leader, p.leaderId());
        assertEquals(List.of(leader), p.isrNodes(), "the Metadata answer follows the request at once");
        assertEquals(replicas, p.replicaNodes());
        assertEquals(3, m.brokers().size());
    }

    /** The live brokers as the target's image has them, in UpdateMetadata's form. */
    private static List<UpdateMetadataRequest.UpdateMetadataBroker> liveBrokers(EmbeddedBroker target) {
        return store(target).liveBrokers().stream().map(b -> new UpdateMetadataRequest.UpdateMetadataBroker()
            .setId(b.id()).setRack(b.rack()).setEndpoints(List.of(new UpdateMetadataRequest.UpdateMetadataEndpoint()
                .setHost(b.host()).setPort(b.port()).setListener("PLAINTEXT").setSecurityProtocol((short) 0))))
            .toList();
    }

    @Test
    void shouldStopAndDeleteAReplicaTheControllerSendsStopReplicaFor() throws Exception {
        List<Integer> others = nonControllerIds();
        create("stopped", List.of(others.get(0), others.get(1)));
        TopicPartition tp = new TopicPartition("stopped", 0);
        EmbeddedBroker follower = broker(others.get(1));
        assertNotNull(follower.broker().replicaManager().partition(tp));
        assertTrue(follower.broker().replicaManager().logManager().getLog(tp) != null);
        controller().broker().controller().sendStopReplicas(id(follower), java.util.Set.of(tp), true);
        ZkTestCluster.waitUntil(() -> follower.broker().replicaManager().partition(tp) == null
            && follower.broker().replicaManager().logManager().getLog(tp) == null,
            "broker " + id(follower) + " stops and deletes its replica of " + tp);
        assertNotNull(broker(others.get(0)).broker().replicaManager().partition(tp)); // the other replica stays
    }

    @Test
    void shouldMoveLeadershipByLeaderAndIsrWhenTheZooKeeperPathIsOff() throws Exception {
        List<Integer> others = nonControllerIds();
        List<Integer> replicas = List.of(others.get(0), others.get(1), id(controller()));
        create("moved", replicas);
        TopicPartition tp = new TopicPartition("moved", 0);
        for (EmbeddedBroker b : brokers) {
            b.broker().setApplyZkPartitionStates(false);
        }
        EmbeddedBroker oldLeader = broker(others.get(0));
        EmbeddedBroker next = broker(others.get(1));
        assertTrue(oldLeader.broker().replicaManager().partition(tp).isLeader());
        oldLeader.close(); // the controller fails the partition over to the next ISR member
        ZkTestCluster.waitUntil(() -> {
            PartitionState s = store(controller()).readPartitionState(tp).orElseThrow();
            return s.leader() == id(next);
        }, "the controller elects broker " + id(next));
        ZkTestCluster.waitUntil(() -> next.broker().replicaManager().partition(tp).isLeader(),
            "broker " + id(next) + " leads " + tp + ", told by LeaderAndIsr");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
            "bootstrap.servers", next.bootstrapServers(), "acks", "1", "delivery.timeout.ms", "60000",
            "request.timeout.ms", "30000"), new StringSerializer(), new StringSerializer())) {
            RecordMetadata m = producer.send(new ProducerRecord<>("moved", 0, "k", "v")).get(60, TimeUnit.SECONDS);
            assertEquals(0, m.partition());
        }
    }

    @Test
    void shouldSendTheFullStateToEveryBrokerWhenANewControllerTakesOver() throws Exception {
        List<Integer> others = nonControllerIds();
        List<Integer> replicas = List.of(others.get(0), others.get(1));
        create("full", replicas);
        TopicPartition tp = new TopicPartition("full", 0);
        for (EmbeddedBroker b : brokers) {
            b.broker().setApplyZkPartitionStates(false);
        }
        // a state the brokers have not been told (as if a request were lost): a newer leader epoch
        String path = CHROOT + ZkPaths.partitionState("full", 0);
        Stat stat = new Stat();
        PartitionState s = ZkMetadataStore.parseState(zk.getData().storingStatIn(stat).forPath(path), stat.getVersion());
        zk.setData().withVersion(stat.getVersion()).forPath(path,
            ZkMetadataStore.stateJson(s.leader(), s.leaderEpoch() + 1, s.isr(), s.controllerEpoch()));
        int newLeaderEpoch = s.leaderEpoch() + 1;
        for (int r : replicas) {
            assertEquals(s.leaderEpoch(), broker(r).broker().replicaManager().partition(tp).leaderEpoch());
        }
        EmbeddedBroker old = controller();
        int oldEpoch = old.broker().controller().controllerEpoch();
        old.close();
        ZkTestCluster.waitUntil(() -> controller() != null && controller() != old, "another controller takes over");
        int newEpoch = controller().broker().controller().controllerEpoch();
        assertTrue(newEpoch > oldEpoch);
        for (int r : replicas) {
            EmbeddedBroker b = broker(r);
            ZkTestCluster.waitUntil(() -> b.broker().controllerRequests().controllerEpoch() == newEpoch,
                "broker " + r + " hears from the new controller");
            ZkTestCluster.waitUntil(() -> b.broker().replicaManager().partition(tp).leaderEpoch() == newLeaderEpoch,
                "broker " + r + " applies the full state's leader epoch " + newLeaderEpoch);
        }
        assertNotNull(broker(s.leader()).broker().replicaManager().partition(tp));
        assertTrue(broker(s.leader()).broker().replicaManager().partition(tp).isLeader());
    }
}
