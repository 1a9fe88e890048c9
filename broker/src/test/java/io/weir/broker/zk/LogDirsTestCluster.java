package io.weir.broker.zk;

import io.weir.broker.testing.EmbeddedBroker;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The JBOD cluster tests' setup: brokers 0 to n - 1 on a {@link ZkTestCluster}, each with two log directories,
 * {@link #dir dir(id, "a")} then {@link #dir dir(id, "b")}, inside the broker's temp dir. Started with every
 * broker seeing all n registered; {@link #close} stops the brokers and ZooKeeper and deletes the directories.
 */
final class LogDirsTestCluster implements AutoCloseable {
    private final ZkTestCluster cluster;
    private final List<EmbeddedBroker> brokers = new ArrayList<>();

    private LogDirsTestCluster(ZkTestCluster cluster) {
        this.cluster = cluster;
    }

    /**
     * Starts {@code n} brokers under the chroot {@code /weir-<name>}; {@code extra} adds broker properties (what
     * {@link ZkTestCluster#broker} sets wins).
     */
    static LogDirsTestCluster start(String name, int n, Map<String, String> extra) throws Exception {
        LogDirsTestCluster c = new LogDirsTestCluster(new ZkTestCluster("/weir-" + name));
        try {
            for (int id = 0; id < n; id++) {
                c.brokers.add(c.cluster.brokerWithLogDirs(id, extra, "a", "b").start());
            }
            ZkTestCluster.awaitMembership(c.brokers);
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    ZkTestCluster cluster() {
        return cluster;
    }

    /** The brokers, by id. */
    List<EmbeddedBroker> brokers() {
        return brokers;
    }

    /** Log directory {@code name} ("a" or "b") of broker {@code broker}. */
    Path dir(int broker, String name) {
        return brokers.get(broker).logDir(name);
    }

    /** Every broker's address, for a client's {@code bootstrap.servers}. */
    String bootstrap() {
        StringBuilder sb = new StringBuilder();
        for (EmbeddedBroker b : brokers) {
            sb.append(sb.length() == 0 ? "" : ",").append(b.bootstrapServers());
        }
        return sb.toString();
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
