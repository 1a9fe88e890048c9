package io.weir.broker.testing;

import io.weir.broker.Broker;
import org.apache.curator.test.TestingServer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three in-JVM brokers (ids 0, 1, 2) on one real ZooKeeper under a chroot, for the tests of the tools that
 * act on a cluster (leader election, reassignment; Weir's in tools, Kafka's in compat-tests): started with a
 * controller elected and every broker seeing all three, and all closed by {@link #close}.
 */
public final class ThreeBrokerCluster implements AutoCloseable {
    private final TestingServer zookeeper;
    private final List<EmbeddedBroker> brokers = new ArrayList<>();

    private ThreeBrokerCluster(TestingServer zookeeper) {
        this.zookeeper = zookeeper;
    }

    /**
     * Starts the cluster under {@code chroot}, without controlled shutdown; {@code extra} adds broker
     * properties (the id, the ZooKeeper address and controlled shutdown win).
     */
    public static ThreeBrokerCluster start(String chroot, Map<String, String> extra) throws Exception {
        return start(chroot, extra, List.of(Map.of(), Map.of(), Map.of()));
    }

    /**
     * {@link #start(String, Map)} with {@code perBroker.get(id)} added to broker {@code id}'s properties
     * (its {@code broker.rack}, say) after {@code extra}.
     */
    public static ThreeBrokerCluster start(String chroot, Map<String, String> extra, List<Map<String, String>> perBroker)
        throws Exception {
        ThreeBrokerCluster cluster = new ThreeBrokerCluster(new TestingServer(true));
        try {
            for (int id = 0; id < 3; id++) {
                Map<String, String> props = new HashMap<>(extra);
                props.putAll(perBroker.get(id));
                props.put("broker.id", Integer.toString(id));
                props.put("zookeeper.connect", cluster.zookeeper.getConnectString() + chroot);
                props.put("controlled.shutdown.enable", "false");
                cluster.brokers.add(new EmbeddedBroker(props).start());
            }
            waitUntil(() -> cluster.controller() != null
                && cluster.brokers.stream().allMatch(b -> b.broker().metadataStore().liveBrokers().size() == 3),
                "three brokers and a controller");
            return cluster;
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
    }

    /** The brokers, by id. */
    public List<EmbeddedBroker> brokers() {
        return brokers;
    }

    /** The broker whose controller is active, or null while there is none. */
    public Broker controller() {
        for (EmbeddedBroker b : brokers) {
            if (b.broker() != null && b.broker().controller() != null && b.broker().controller().isActive()) {
                return b.broker();
            }
        }
        return null;
    }

    /** Polls {@code condition} until it holds; fails after a minute (a hung test, not a timing assertion). */
    public static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() throws Exception {
        for (EmbeddedBroker b : brokers) {
            b.close();
        }
        zookeeper.close();
    }
}
