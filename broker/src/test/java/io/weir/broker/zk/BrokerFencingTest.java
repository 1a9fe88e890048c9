package io.weir.broker.zk;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.FaultProxy;
import io.weir.common.TopicPartition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.weir.broker.zk.ZkTestCluster.partition;
import static io.weir.broker.zk.ZkTestCluster.registration;
import static io.weir.broker.zk.ZkTestCluster.state;
import static io.weir.broker.zk.ZkTestCluster.store;
import static io.weir.broker.zk.ZkTestCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The controller's fast detection of dead brokers ({@link BrokerLivenessProbe}, {@link ZkController#fenceBroker}):
 * a broker whose process is gone — its listener closed, its ZooKeeper session still alive, as after a
 * {@code kill -9} — loses its leaderships and ISR places before its session expires; and a broker fenced while it
 * is in fact alive registers again under a new broker epoch and rejoins the ISR by catching up.
 */
class BrokerFencingTest {
    private static final String CHROOT = "/weir-fencing";
    private static final Map<String, String> NO_REBALANCE = Map.of("auto.leader.rebalance.enable", "false");

    private ZkTestCluster cluster;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void startZooKeeper() throws Exception {
        cluster = new ZkTestCluster(CHROOT);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        cluster.close();
    }

    /** Broker 0 (started first: the controller), 1, and broker 2 built by {@code third}. */
    private List<EmbeddedBroker> startThree(EmbeddedBroker third) throws InterruptedException {
        return cluster.startUnderController(cluster.broker(0, NO_REBALANCE), cluster.broker(1, NO_REBALANCE), third);
    }

    /** Broker 2's properties, and {@code extra}: its stop is a crash, no leadership moves before it stops. */
    private static Map<String, String> thirdBrokerProps(Map<String, String> extra) {
        Map<String, String> props = new HashMap<>(extra);
        props.putAll(NO_REBALANCE);
        props.put("controlled.shutdown.enable", "false");
        return props;
    }

    /** A one-partition rf-3 topic whose preferred (first) leader is broker 2; waits until every replica hosts it. */
    private static TopicPartition createLedByBroker2(List<EmbeddedBroker> brokers, String name) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", brokers.get(0).bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, Map.of(0, List.of(2, 0, 1)))
                .configs(Map.of("min.insync.replicas", "2")))).all().get(60, TimeUnit.SECONDS);
        }
        TopicPartition tp = new TopicPartition(name, 0);
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> partition(b, tp) != null && partition(b, tp).hasAppliedState(), "every replica hosts " + tp);
        }
        waitUntil(() -> partition(brokers.get(2), tp).isLeader(), "broker 2 leads " + tp);
        return tp;
    }

    private static void produce(String bootstrap, TopicPartition tp, int from, int count) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
            "acks", "all", "linger.ms", 5, "key.serializer", ByteArraySerializer.class.getName(),
            "value.serializer", ByteArraySerializer.class.getName()))) {
            List<Future<?>> sent = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                sent.add(producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), null,
                    ("value-" + i).getBytes(StandardCharsets.UTF_8))));
            }
            for (Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
    }

    /** Whether the ZooKeeper session {@code id} still lives on the server: attaching to it connects rather than expires. */
    private boolean sessionAlive(long id, byte[] password) throws Exception {
        CompletableFuture<Watcher.Event.KeeperState> outcome = new CompletableFuture<>();
        ZooKeeper attached = new ZooKeeper(cluster.connectString(), 60_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected || e.getState() == Watcher.Event.KeeperState.Expired) {
                outcome.complete(e.getState());
            }
        }, id, password);
        try {
            return outcome.get(60, TimeUnit.SECONDS) == Watcher.Event.KeeperState.SyncConnected;
        } finally {
            attached.close();
        }
    }

    @Test
    void shouldMoveTheLeadershipOfABrokerWhoseProcessDiedBeforeItsZooKeeperSessionExpires() throws Exception {
        FaultProxy zkPath = new FaultProxy(cluster.port(), 1L); // broker 2's way to ZooKeeper, cut when it "dies"
        closeables.add(zkPath);
        // the test's longest wait: expiry cannot be what moves it
        EmbeddedBroker victim = cluster.broker(2, "127.0.0.1:" + zkPath.port(),
            thirdBrokerProps(Map.of("zookeeper.session.timeout.ms", "60000")));
        List<EmbeddedBroker> brokers = startThree(victim);
        EmbeddedBroker controller = brokers.get(0);
        TopicPartition tp = createLedByBroker2(brokers, "fast-failover");
        produce(brokers.get(0).bootstrapServers(), tp, 0, 50);
        BrokerLivenessProbe probe = controller.broker().controller().livenessProbe();
        waitUntil(() -> probe.hasSeenAlive(2), "the controller's probe has reached broker 2");
        ZooKeeper victimZk = store(victim).client().getZookeeperClient().getZooKeeper();
        long session = victimZk.getSessionId();
        byte[] password = victimZk.getSessionPasswd();

        // the crash: no ZooKeeper request of broker 2 reaches the server any more (its session is left to expire),
        // then its sockets close
        zkPath.close();
        victim.broker().shutdown();

        waitUntil(() -> {
            PartitionState s = state(controller, tp);
            return s.leader() != 2 && !s.isr().contains(2) && registration(controller, 2) == null;
        }, "broker 2 is fenced: another broker leads " + tp + " and broker 2 left its ISR");
        for (String child : cluster.zk().getChildren().forPath(CHROOT + ZkPaths.CONTROLLER_ELECTION)) {
            org.apache.zookeeper.data.Stat stat = cluster.zk().checkExists()
                .forPath(CHROOT + ZkPaths.CONTROLLER_ELECTION + "/" + child);
            assertTrue(stat == null || stat.getEphemeralOwner() != session,
                "broker 2's controller-election node went with its registration: it cannot be next in line");
        }
        assertTrue(sessionAlive(session, password), "broker 2's ZooKeeper session had not expired: the controller's"
            + " probe fenced it, not the session timeout");
        PartitionState after = state(controller, tp);
        assertTrue(List.of(0, 1).contains(after.leader()), "a live ISR member leads: " + after);
        produce(brokers.get(0).bootstrapServers() + "," + brokers.get(1).bootstrapServers(), tp, 50, 50);
        waitUntil(() -> partition(brokers.get(after.leader()), tp).highWatermark() == 100,
            "the new leader took acks=all writes");
    }

    @Test
    void shouldHandTheControllershipOnWhenTheControllersProcessDiedBeforeItsZooKeeperSessionExpires() throws Exception {
        FaultProxy zkPath = new FaultProxy(cluster.port(), 2L);
        closeables.add(zkPath);
        EmbeddedBroker victim = cluster.broker(2, "127.0.0.1:" + zkPath.port(),
            thirdBrokerProps(Map.of("zookeeper.session.timeout.ms", "60000")));
        EmbeddedBroker b0 = cluster.broker(0, NO_REBALANCE);
        EmbeddedBroker b1 = cluster.broker(1, NO_REBALANCE);
        cluster.startUnderController(victim, b0, b1); // broker 2 is the controller
        List<EmbeddedBroker> brokers = List.of(b0, b1, victim);
        TopicPartition tp = createLedByBroker2(brokers, "controller-died");
        for (EmbeddedBroker b : List.of(b0, b1)) {
            waitUntil(() -> b.broker().controller().livenessProbe().hasSeenAlive(2),
                "broker " + ZkTestCluster.id(b) + " has reached the controller's broker");
        }
        int epochBefore = victim.broker().controller().controllerEpoch();
        ZooKeeper victimZk = store(victim).client().getZookeeperClient().getZooKeeper();
        long session = victimZk.getSessionId();
        byte[] password = victimZk.getSessionPasswd();

        zkPath.close();
        victim.broker().shutdown();

        waitUntil(() -> cluster.controller() != null && cluster.controller() != victim, "another broker is the controller");
        EmbeddedBroker controller = cluster.controller();
        waitUntil(() -> {
            PartitionState s = state(controller, tp);
            return s.leader() != 2 && !s.isr().contains(2) && registration(controller, 2) == null;
        }, "the new controller failed broker 2 over");
        assertTrue(sessionAlive(session, password), "the dead controller's ZooKeeper session had not expired");
        assertTrue(controller.broker().controller().controllerEpoch() > epochBefore, "a new controller epoch");
        produce(b0.bootstrapServers() + "," + b1.bootstrapServers(), tp, 0, 20);
    }

    @Test
    void shouldLetAFencedBrokerThatIsAliveRegisterAgainUnderANewEpochAndRejoinTheIsr() throws Exception {
        EmbeddedBroker third = cluster.broker(2, thirdBrokerProps(Map.of()));
        List<EmbeddedBroker> brokers = startThree(third);
        EmbeddedBroker controller = brokers.get(0);
        TopicPartition tp = createLedByBroker2(brokers, "suspected");
        produce(controller.bootstrapServers(), tp, 0, 50);
        waitUntil(() -> state(controller, tp).isr().size() == 3, "all three in the ISR");
        long oldEpoch = registration(controller, 2).epoch();
        int leaderEpochBefore = state(controller, tp).leaderEpoch();

        // suspected dead while alive (as a listener refusing connections for a while would make it)
        assertTrue(controller.broker().controller().fenceNow(2, oldEpoch, "a test's suspicion"));
        assertFalse(controller.broker().controller().fenceNow(2, oldEpoch, "again"),
            "a registration is fenced once; the next is a new broker epoch");

        waitUntil(() -> {
            BrokerRegistration r = registration(controller, 2);
            return r != null && r.epoch() != oldEpoch;
        }, "broker 2 registered again");
        long newEpoch = registration(controller, 2).epoch();
        assertTrue(newEpoch > oldEpoch, "a new broker epoch: " + oldEpoch + " -> " + newEpoch);
        waitUntil(() -> state(controller, tp).leaderEpoch() > leaderEpochBefore && state(controller, tp).leader() != 2,
            "its earlier registration was failed over: another broker leads " + tp);
        assertNotEquals(2, state(controller, tp).leader());

        produce(controller.bootstrapServers() + "," + brokers.get(1).bootstrapServers(), tp, 50, 50);
        waitUntil(() -> state(controller, tp).isr().contains(2), "broker 2 caught up and is back in the ISR");
        waitUntil(() -> partition(third, tp).log().logEndOffset() == 100 && !partition(third, tp).isLeader(),
            "broker 2 follows the new leader and has every record");
        assertEquals(newEpoch, registration(third, 2).epoch(), "broker 2 sees its own new registration");
    }
}
