package io.weir.broker.zk;

import io.weir.broker.testing.EmbeddedBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.weir.broker.zk.ZkTestCluster.registration;
import static io.weir.broker.zk.ZkTestCluster.store;
import static io.weir.broker.zk.ZkTestCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A controller fenced as dead while it was alive ({@link ZkController#fenceBroker} on another broker deleted its
 * registration, {@code /controller} and its election node) notices that its term was taken, steps down, and
 * joins the election again as a candidate.
 */
class ControllerResignationTest {
    private static final String CHROOT = "/weir-resign";

    private ZkTestCluster cluster;

    @BeforeEach
    void startZooKeeper() throws Exception {
        cluster = new ZkTestCluster(CHROOT);
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    /** The brokers whose controller believes it is active. */
    private static List<Integer> activeControllers(List<EmbeddedBroker> brokers) {
        return brokers.stream().filter(b -> b.broker() != null && b.broker().controller().isActive())
            .map(ZkTestCluster::id).toList();
    }

    @Test
    void shouldStepDownAndRejoinTheElectionWhenFencedWhileAlive() throws Exception {
        Map<String, String> props = Map.of("auto.leader.rebalance.enable", "false");
        List<EmbeddedBroker> brokers = cluster.startUnderController(cluster.broker(0, props), cluster.broker(1, props),
            cluster.broker(2, props));
        EmbeddedBroker b0 = brokers.get(0);
        EmbeddedBroker b1 = brokers.get(1);
        EmbeddedBroker b2 = brokers.get(2);
        int oldEpoch = b0.broker().controller().controllerEpoch();
        long registration = registration(b1, 0).epoch();

        // broker 1 takes the (live) controller for dead, as a listener refusing connections for 2 s would make it
        assertTrue(b1.broker().controller().fenceNow(0, registration, "a test's suspicion"));

        waitUntil(() -> {
            List<Integer> active = activeControllers(brokers);
            return active.size() == 1 && active.get(0) != 0;
        }, "broker 1 or 2 took office and broker 0 stepped down");
        EmbeddedBroker next = cluster.controller();
        assertTrue(next.broker().controller().controllerEpoch() > oldEpoch, "a new controller epoch");
        assertFalse(b0.broker().controller().isActive());
        assertEquals(-1, b0.broker().controller().controllerEpoch(), "broker 0 holds no term");
        waitUntil(() -> registration(next, 0) != null && registration(next, 0).epoch() != registration,
            "broker 0 registered again");
        waitUntil(() -> store(b0).image().controllerId() == ZkTestCluster.id(next), "broker 0 sees the new controller");

        // broker 0 is a candidate again: with the others gone, it is elected
        int nextEpoch = next.broker().controller().controllerEpoch();
        for (EmbeddedBroker b : List.of(b1, b2)) {
            b.broker().shutdown();
        }
        waitUntil(() -> b0.broker().controller().isActive(), "broker 0 is elected again");
        assertTrue(b0.broker().controller().controllerEpoch() > nextEpoch, "a newer term");
    }
}
