package io.weir.broker.zk;

import io.weir.broker.metadata.PartitionState;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.message.ElectLeadersRequest;
import io.weir.protocol.message.ElectLeadersResponse;
import org.apache.curator.framework.CuratorFramework;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.apache.kafka.common.errors.EligibleLeadersNotAvailableException;
import org.apache.kafka.common.errors.PreferredLeaderNotAvailableException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.weir.broker.zk.ZkTestCluster.id;
import static io.weir.broker.zk.ZkTestCluster.state;
import static io.weir.broker.zk.ZkTestCluster.store;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The controller's leader elections on three in-JVM brokers sharing one ZooKeeper ({@link ZkTestCluster}):
 * failover when a broker (or the controller's broker) stops, offline partitions and unclean election,
 * preferred-leader election (ElectLeaders, forwarded from a broker that is not the controller, and the
 * automatic rebalance), and controlled shutdown.
 *
 * <p>No broker replicates yet in these tests' view of the ISR beyond what the controller writes: where a
 * returning broker must be back in the ISR, the test writes that change through the controller as a
 * leader's ISR expansion (AlterPartition) would.
 */
class ZkLeaderElectionTest {
    private static final String CHROOT = "/weir-elections";
    /** Stops are crashes as far as leadership goes, unless a test asks for a controlled shutdown. */
    private static final Map<String, String> NO_CONTROLLED_SHUTDOWN = Map.of("controlled.shutdown.enable", "false",
        "auto.leader.rebalance.enable", "false");

    private ZkTestCluster cluster;
    private CuratorFramework zk;
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
        return cluster.controller();
    }

    private EmbeddedBroker nonController(int skip) {
        EmbeddedBroker c = controller();
        return brokers.stream().filter(b -> b != c && b.broker() != null && id(b) != skip).findFirst().orElseThrow();
    }

    private static Admin admin(EmbeddedBroker b) {
        return Admin.create(Map.of("bootstrap.servers", b.bootstrapServers()));
    }

    /** Creates the topic and waits until every running broker sees a state for each partition. */
    private void create(NewTopic topic, int partitions) throws Exception {
        try (Admin admin = admin(controller())) {
            admin.createTopics(List.of(topic)).all().get();
        }
        for (EmbeddedBroker b : brokers) {
            if (b.broker() != null) {
                ZkTestCluster.waitUntil(() -> states(b, topic.name(), partitions).size() == partitions,
                    "broker " + id(b) + " sees the states of " + topic.name());
            }
        }
    }

    private static Map<TopicPartition, PartitionState> states(EmbeddedBroker b, String topic, int partitions) {
        Map<TopicPartition, PartitionState> out = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            TopicPartition tp = new TopicPartition(topic, p);
            PartitionState s = state(b, tp);
            if (s != null) {
                out.put(tp, s);
            }
        }
        return out;
    }

    private static List<Integer> without(List<Integer> list, int member) {
        List<Integer> out = new ArrayList<>(list);
        out.remove(Integer.valueOf(member));
        return out;
    }

    /** The leader's ISR expansion as AlterPartition will write it: {@code broker} back in the ISR, through the controller. */
    private void addToIsr(TopicPartition tp, int broker) throws InterruptedException {
        ZkTestCluster.waitUntil(() -> {
            EmbeddedBroker c = controller();
            if (c == null) {
                return false;
            }
            PartitionState s = store(c).readPartitionState(tp).orElseThrow();
            if (s.isr().contains(broker)) {
                return true;
            }
            List<Integer> isr = new ArrayList<>(s.isr());
            isr.add(broker);
            try {
                c.broker().controller().updatePartitionState(tp, s, s.leader(), s.leaderEpoch(), isr);
            } catch (RuntimeException e) {
                // a concurrent change: read again
            }
            return false;
        }, broker + " is back in the ISR of " + tp);
    }

    @ParameterizedTest(name = "the stopped broker is the controller: {0}")
    @ValueSource(booleans = {false, true})
    void shouldFailOverTheStoppedBrokersPartitionsToInSyncReplicasWithTheLeaderEpochBumped(boolean stopController)
        throws Exception {
        cluster.startBrokers(3, NO_CONTROLLED_SHUTDOWN);
        create(new NewTopic("failover", 6, (short) 3), 6);
        EmbeddedBroker oldController = controller();
        Map<TopicPartition, PartitionState> before = states(oldController, "failover", 6);
        for (Map.Entry<TopicPartition, PartitionState> e : before.entrySet()) {
            // a new partition's ISR is every live replica, led by the first
            List<Integer> replicas = store(oldController).replicas(e.getKey());
            assertEquals(replicas, e.getValue().isr(), e.getKey().toString());
            assertEquals(replicas.get(0), e.getValue().leader());
            assertEquals(0, e.getValue().leaderEpoch());
        }
        EmbeddedBroker victim = stopController ? oldController : nonController(-1);
        int victimId = id(victim);
        assertTrue(before.values().stream().anyMatch(s -> s.leader() == victimId), "the victim leads some partition");
        victim.broker().shutdown();

        ZkTestCluster.waitUntil(() -> controller() != null && controller() != victim, "a live controller");
        EmbeddedBroker survivor = controller();
        ZkTestCluster.waitUntil(() -> states(survivor, "failover", 6).values().stream()
            .allMatch(s -> s.leader() != victimId && !s.isr().contains(victimId)), "the victim's partitions fail over");
        Map<TopicPartition, PartitionState> after = states(survivor, "failover", 6);
        for (Map.Entry<TopicPartition, PartitionState> e : before.entrySet()) {
            PartitionState was = e.getValue();
            PartitionState now = after.get(e.getKey());
            List<Integer> replicas = store(survivor).replicas(e.getKey());
            assertEquals(without(was.isr(), victimId), now.isr(), e.getKey().toString());
            assertEquals(was.leaderEpoch() + 1, now.leaderEpoch(), e.getKey() + ": one leader-epoch bump");
            int expectedLeader = was.leader() == victimId ? without(replicas, victimId).get(0) : was.leader();
            assertEquals(expectedLeader, now.leader(), e.getKey() + ": the first live ISR replica leads");
        }
        EmbeddedBroker other = brokers.stream().filter(b -> b != victim && b != survivor).findFirst().orElseThrow();
        ZkTestCluster.waitUntil(() -> states(other, "failover", 6).equals(after), "the other survivor sees it");
        try (Admin admin = admin(other)) {
            // a broker's Metadata answer follows the controller's state shortly after it is written (a leader
            // names its partition's ISR once it has applied it): wait until every partition shows the failover
            ZkTestCluster.waitUntil(() -> describe(admin, "failover").partitions().stream().allMatch(p -> {
                PartitionState s = after.get(new TopicPartition("failover", p.partition()));
                return p.leader() != null && p.leader().id() == s.leader()
                    && s.isr().equals(p.isr().stream().map(n -> n.id()).toList());
            }), "Metadata shows the new leaders and ISRs");
        }
    }

    @Test
    void shouldKeepAPartitionWithoutLiveIsrMemberOfflineUntilOneReturnsUnlessTheTopicAllowsUncleanElection()
        throws Exception {
        cluster.startBrokers(3, NO_CONTROLLED_SHUTDOWN);
        EmbeddedBroker x = nonController(-1);
        EmbeddedBroker y = nonController(id(x));
        int xId = id(x);
        int yId = id(y);
        create(new NewTopic("clean", Map.of(0, List.of(xId, yId))), 1);
        create(new NewTopic("dirty", Map.of(0, List.of(xId, yId))).configs(Map.of("unclean.leader.election.enable", "true")), 1);
        create(new NewTopic("manual", Map.of(0, List.of(xId, yId))), 1);
        TopicPartition clean = new TopicPartition("clean", 0);
        TopicPartition dirty = new TopicPartition("dirty", 0);
        TopicPartition manual = new TopicPartition("manual", 0);
        EmbeddedBroker c = controller();

        y.broker().shutdown(); // a follower goes: the ISR is x alone
        ZkTestCluster.waitUntil(() -> state(c, clean).isr().equals(List.of(xId)) && state(c, dirty).isr().equals(List.of(xId)),
            "y leaves the ISRs");
        x.broker().shutdown(); // the last ISR member goes: offline, the ISR kept
        ZkTestCluster.waitUntil(() -> state(c, clean).leader() == -1 && state(c, dirty).leader() == -1, "both go offline");
        PartitionState offline = state(c, clean);
        assertEquals(List.of(xId), offline.isr());
        assertEquals(List.of(xId), state(c, dirty).isr());
        org.apache.kafka.common.TopicPartition manualTp = new org.apache.kafka.common.TopicPartition("manual", 0);
        try (Admin admin = admin(c)) {
            TopicDescription d = admin.describeTopics(List.of("clean")).allTopicNames().get().get("clean");
            var p = d.partitions().get(0);
            assertTrue(p.leader() == null || p.leader().isEmpty(), "no leader: " + p);
            // no replica is live: even an unclean election finds no leader
            assertInstanceOf(EligibleLeadersNotAvailableException.class, admin.electLeaders(ElectionType.UNCLEAN,
                Set.of(manualTp)).partitions().get().get(manualTp).orElseThrow());
        }

        y.start(); // out of sync: only the topic that allows it elects it
        ZkTestCluster.waitUntil(() -> state(c, dirty).leader() == yId, "y leads the topic allowing unclean election");
        assertEquals(List.of(yId), state(c, dirty).isr());
        assertEquals(offline, state(c, clean), "the clean topic stays offline, unchanged");
        assertEquals(-1, state(c, manual).leader());
        try (Admin admin = admin(c)) {
            // an operator's unclean election elects y where the topic does not allow it by itself
            assertEquals(Optional.empty(), admin.electLeaders(ElectionType.UNCLEAN, Set.of(manualTp)).partitions().get()
                .get(manualTp));
            assertEquals(yId, state(c, manual).leader());
            assertEquals(List.of(yId), state(c, manual).isr());
            org.apache.kafka.common.TopicPartition dirtyTp = new org.apache.kafka.common.TopicPartition("dirty", 0);
            assertInstanceOf(ElectionNotNeededException.class, admin.electLeaders(ElectionType.UNCLEAN,
                Set.of(dirtyTp)).partitions().get().get(dirtyTp).orElseThrow());
        }

        x.start(); // the ISR member returns and leads again
        ZkTestCluster.waitUntil(() -> state(c, clean).leader() == xId, "x leads its partition again");
        // elected with ISR [x]; y, live again, may already have caught up and joined it (replication runs)
        assertTrue(state(c, clean).isr().contains(xId), () -> "ISR " + state(c, clean).isr());
        assertEquals(offline.leaderEpoch() + 1, state(c, clean).leaderEpoch());
        assertEquals(yId, state(c, dirty).leader(), "a returning broker takes no leadership from a live leader");
    }

    /**
     * Issue 12: a broker SIGKILLed and restarted inside its ZooKeeper session timeout closes its old
     * session and registers again at once, so the controller may never read it gone, only its new broker
     * epoch. It must still be failed over as a broker that left (its log may be behind what the ISR
     * counted): out of every ISR, its leaderships moved with a leader-epoch bump, a partition no other ISR
     * member can take elected back to it. The test replaces the registration in one ZooKeeper
     * transaction, so no read can see it missing.
     */
    @Test
    void shouldFailOverABrokerThatRegisteredAgainWithoutTheControllerSeeingItGone() throws Exception {
        cluster.startBrokers(3, NO_CONTROLLED_SHUTDOWN);
        EmbeddedBroker c = controller();
        EmbeddedBroker x = nonController(-1);
        EmbeddedBroker o = nonController(id(x));
        int cId = id(c);
        int xId = id(x);
        int oId = id(o);
        create(new NewTopic("bounce", Map.of(0, List.of(xId, cId, oId), 1, List.of(cId, xId, oId), 2, List.of(xId))), 3);
        TopicPartition led = new TopicPartition("bounce", 0);
        TopicPartition followed = new TopicPartition("bounce", 1);
        TopicPartition alone = new TopicPartition("bounce", 2);
        assertEquals(xId, state(c, led).leader());
        assertEquals(List.of(cId, xId, oId), state(c, followed).isr());
        long epochBefore = store(c).liveBrokers().stream().filter(b -> b.id() == xId).findFirst().orElseThrow().epoch();

        String path = CHROOT + ZkPaths.broker(xId);
        byte[] registration = zk.getData().forPath(path);
        zk.transaction().forOperations(zk.transactionOp().delete().forPath(path),
            zk.transactionOp().create().withMode(org.apache.zookeeper.CreateMode.EPHEMERAL).forPath(path, registration));
        ZkTestCluster.waitUntil(() -> store(c).liveBrokers().stream().anyMatch(b -> b.id() == xId && b.epoch() != epochBefore),
            "the controller reads x's new registration");

        ZkTestCluster.waitUntil(() -> state(c, led).leaderEpoch() == 1 && state(c, followed).leaderEpoch() == 1
            && state(c, alone).leaderEpoch() == 2, "x's partitions are failed over and started again");
        assertEquals(cId, state(c, led).leader(), "x's leadership moves to the next ISR member");
        assertEquals(cId, state(c, followed).leader());
        assertEquals(xId, state(c, alone).leader(), "x, the only ISR member, leads again (no unclean election)");
        assertEquals(List.of(xId), state(c, alone).isr());
    }

    @Test
    void shouldElectUncleanlyByTheBrokersDefaultUnlessTheTopicForbidsIt() throws Exception {
        Map<String, String> props = new HashMap<>(NO_CONTROLLED_SHUTDOWN);
        props.put("unclean.leader.election.enable", "true");
        cluster.startBrokers(3, props);
        EmbeddedBroker x = nonController(-1);
        EmbeddedBroker y = nonController(id(x));
        int xId = id(x);
        int yId = id(y);
        create(new NewTopic("loose", Map.of(0, List.of(xId, yId))), 1);
        create(new NewTopic("strict", Map.of(0, List.of(xId, yId))).configs(Map.of("unclean.leader.election.enable", "false")), 1);
        TopicPartition loose = new TopicPartition("loose", 0);
        TopicPartition strict = new TopicPartition("strict", 0);
        EmbeddedBroker c = controller();
        y.broker().shutdown();
        ZkTestCluster.waitUntil(() -> state(c, loose).isr().equals(List.of(xId)) && state(c, strict).isr().equals(List.of(xId)),
            "y leaves the ISRs");
        x.broker().shutdown();
        ZkTestCluster.waitUntil(() -> state(c, loose).leader() == -1 && state(c, strict).leader() == -1, "both go offline");
        PartitionState offline = state(c, strict);
        y.start();
        ZkTestCluster.waitUntil(() -> state(c, loose).leader() == yId, "the broker's default elects y");
        assertEquals(offline, state(c, strict), "the topic's own setting forbids it");
    }

    @Test
    void shouldGiveLeadershipBackToTheReturningPreferredReplicaOnlyThroughAPreferredElection() throws Exception {
        cluster.startBrokers(3, NO_CONTROLLED_SHUTDOWN);
        create(new NewTopic("pref", 3, (short) 3), 3);
        EmbeddedBroker c = controller();
        EmbeddedBroker victim = nonController(-1);
        int victimId = id(victim);
        List<TopicPartition> preferredOfVictim = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            TopicPartition tp = new TopicPartition("pref", p);
            if (store(c).replicas(tp).get(0) == victimId) {
                preferredOfVictim.add(tp);
            }
        }
        assertEquals(1, preferredOfVictim.size(), "replicas rotate: each broker is preferred once");
        TopicPartition tp = preferredOfVictim.get(0);
        victim.broker().shutdown();
        ZkTestCluster.waitUntil(() -> state(c, tp).leader() != victimId, "failover");

        // the leaders' own ISR expansion is held off, so the returning broker joins the ISR only when the test says
        for (EmbeddedBroker b : cluster.brokers()) {
            if (b != victim && b.broker() != null) {
                b.broker().setAlterPartitionSender((t, leaderEpoch, partitionEpoch, newIsr) ->
                    java.util.concurrent.CompletableFuture.failedFuture(new io.weir.protocol.ApiException(
                        Errors.OPERATION_NOT_ATTEMPTED, "the test holds the leaders' ISR changes")));
            }
        }
        victim.start();
        ZkTestCluster.waitUntil(() -> store(c).liveBrokers().size() == 3, "the victim is back");
        try (Admin admin = admin(victim)) {
            // not in the ISR yet: the preferred replica cannot lead
            Map<org.apache.kafka.common.TopicPartition, Optional<Throwable>> r = admin.electLeaders(ElectionType.PREFERRED,
                Set.of(new org.apache.kafka.common.TopicPartition("pref", tp.partition()))).partitions().get();
            assertInstanceOf(PreferredLeaderNotAvailableException.class, r.values().iterator().next().orElseThrow());

            addToIsr(tp, victimId);
            PartitionState back = store(c).readPartitionState(tp).orElseThrow();
            assertNotEquals(victimId, back.leader(), "a returning broker does not take leadership back by itself");

            r = admin.electLeaders(ElectionType.PREFERRED,
                Set.of(new org.apache.kafka.common.TopicPartition("pref", tp.partition()))).partitions().get();
            assertEquals(Optional.empty(), r.values().iterator().next(), "elected");
            PartitionState elected = state(c, tp);
            assertEquals(victimId, elected.leader());
            assertEquals(back.leaderEpoch() + 1, elected.leaderEpoch());
            assertEquals(back.isr(), elected.isr());

            r = admin.electLeaders(ElectionType.PREFERRED,
                Set.of(new org.apache.kafka.common.TopicPartition("pref", tp.partition()))).partitions().get();
            assertInstanceOf(ElectionNotNeededException.class, r.values().iterator().next().orElseThrow());
            // all partitions: those needing no election are left out
            assertTrue(admin.electLeaders(ElectionType.PREFERRED, null).partitions().get().isEmpty());
        }
    }

    @Test
    void shouldForwardAnElectionFromABrokerThatIsNotTheControllerAndAnswerWithTheControllersResult() throws Exception {
        cluster.startBrokers(3, NO_CONTROLLED_SHUTDOWN);
        create(new NewTopic("fwd", 3, (short) 3), 3);
        EmbeddedBroker c = controller();
        EmbeddedBroker victim = nonController(-1);
        EmbeddedBroker asked = nonController(id(victim));
        int victimId = id(victim);
        TopicPartition tp = null;
        for (int p = 0; p < 3; p++) {
            if (store(c).replicas(new TopicPartition("fwd", p)).get(0) == victimId) {
                tp = new TopicPartition("fwd", p);
            }
        }
        TopicPartition target = tp;
        victim.broker().shutdown();
        ZkTestCluster.waitUntil(() -> state(c, target).leader() != victimId, "failover");
        victim.start();
        addToIsr(target, victimId);

        ElectLeadersResponse r = (ElectLeadersResponse) ZkTestCluster.call(asked.port(), ApiKeys.ELECT_LEADERS, (short) 2,
            new ElectLeadersRequest().setElectionType((byte) 0).setTimeoutMs(30_000).setTopicPartitions(List.of(
                new ElectLeadersRequest.TopicPartitions().setTopic("fwd").setPartitions(List.of(target.partition(), 7)))));
        assertEquals(Errors.NONE.code(), r.errorCode());
        List<ElectLeadersResponse.PartitionResult> results = r.replicaElectionResults().get(0).partitionResult();
        assertEquals(Errors.NONE.code(), results.get(0).errorCode(), String.valueOf(results.get(0).errorMessage()));
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), results.get(1).errorCode());
        assertEquals(victimId, store(c).readPartitionState(target).orElseThrow().leader());
        assertTrue(zk.getChildren().forPath(CHROOT + ZkPaths.LEADER_ELECTIONS).isEmpty(), "the request znode is gone");

        // unclean on partitions with a live leader: not needed; for all partitions, nothing listed
        ElectLeadersResponse unclean = (ElectLeadersResponse) ZkTestCluster.call(asked.port(), ApiKeys.ELECT_LEADERS,
            (short) 2, new ElectLeadersRequest().setElectionType((byte) 1).setTimeoutMs(30_000).setTopicPartitions(null));
        assertEquals(Errors.NONE.code(), unclean.errorCode());
        assertTrue(unclean.replicaElectionResults().isEmpty(), unclean.toString());
    }

    @Test
    void shouldRebalanceLeadershipToPreferredReplicasAutomatically() throws Exception {
        cluster.startBrokers(3, Map.of("controlled.shutdown.enable", "false", "leader.imbalance.check.interval.seconds", "1"));
        create(new NewTopic("auto", 3, (short) 3), 3);
        EmbeddedBroker c = controller();
        EmbeddedBroker victim = nonController(-1);
        int victimId = id(victim);
        List<TopicPartition> preferred = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            TopicPartition tp = new TopicPartition("auto", p);
            if (store(c).replicas(tp).get(0) == victimId) {
                preferred.add(tp);
            }
        }
        victim.broker().shutdown();
        ZkTestCluster.waitUntil(() -> preferred.stream().allMatch(tp -> state(c, tp).leader() != victimId), "failover");
        victim.start();
        for (TopicPartition tp : preferred) {
            addToIsr(tp, victimId);
        }
        ZkTestCluster.waitUntil(() -> preferred.stream().allMatch(tp -> state(c, tp).leader() == victimId),
            "the imbalance check gives the preferred replica its leadership back");
    }

    @ParameterizedTest(name = "the stopping broker is the controller: {0}")
    @ValueSource(booleans = {false, true})
    void shouldMoveTheLeadershipsOfABrokerInControlledShutdownBeforeItStops(boolean stopController) throws Exception {
        cluster.startBrokers(3, Map.of("auto.leader.rebalance.enable", "false"));
        create(new NewTopic("cs", 6, (short) 3), 6);
        EmbeddedBroker victim = stopController ? controller() : nonController(-1);
        int victimId = id(victim);
        Map<TopicPartition, PartitionState> before = states(controller(), "cs", 6);
        assertTrue(before.values().stream().anyMatch(s -> s.leader() == victimId));

        victim.broker().shutdown();
        ZkTestCluster.waitUntil(() -> controller() != null, "a live controller");
        EmbeddedBroker c = controller();

        Stat registrations = zk.checkExists().forPath(CHROOT + ZkPaths.BROKER_IDS);
        for (Map.Entry<TopicPartition, PartitionState> e : before.entrySet()) {
            TopicPartition tp = e.getKey();
            PartitionState now = store(c).readPartitionState(tp).orElseThrow();
            assertNotEquals(victimId, now.leader(), tp.toString());
            assertEquals(without(e.getValue().isr(), victimId), now.isr(), tp.toString());
            assertEquals(e.getValue().leaderEpoch() + 1, now.leaderEpoch(), tp + ": one leader-epoch bump");
            Stat st = zk.checkExists().forPath(CHROOT + ZkPaths.partitionState(tp.topic(), tp.partition()));
            // written while the broker was still registered: its registration went after (a later zxid)
            assertTrue(st.getMzxid() < registrations.getPzxid(), tp + " moved before the broker stopped");
        }
        Stat requests = zk.checkExists().forPath(CHROOT + ZkPaths.CONTROLLED_SHUTDOWN);
        assertTrue(requests.getCversion() > 0, "the broker asked for a controlled shutdown");
    }

    @Test
    void shouldStopALoneBrokerWithoutAControlledShutdown() throws Exception {
        cluster.startBrokers(1, Map.of());
        create(new NewTopic("alone", 2, (short) 1), 2);
        brokers.get(0).broker().shutdown();
        Stat requests = zk.checkExists().forPath(CHROOT + ZkPaths.CONTROLLED_SHUTDOWN);
        assertEquals(0, requests.getCversion(), "no controlled-shutdown request was written");
    }

    private static TopicDescription describe(Admin admin, String topic) {
        try {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(30, java.util.concurrent.TimeUnit.SECONDS).get(topic);
        } catch (Exception e) {
            throw new AssertionError("describeTopics " + topic, e);
        }
    }
}
