package io.weir.broker.zk;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.testing.TempDirs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JBOD cluster tests' setup: brokers 0 to n - 1 on a {@link ZkTestCluster}, each with two log directories,
 * {@link #dir dir(id, "a")} then {@link #dir dir(id, "b")}, under one temp directory. Started with every broker
 * seeing all n registered; {@link #close} stops the brokers and ZooKeeper and deletes the directories.
 */
final class LogDirsTestCluster implements AutoCloseable {
    private final Path root;
    private final ZkTestCluster cluster;
    private final List<EmbeddedBroker> brokers = new ArrayList<>();

    private LogDirsTestCluster(String name) throws Exception {
        this.root = TempDirs.create(name);
        try {
            this.cluster = new ZkTestCluster("/weir-" + name);
        } catch (Exception | Error e) {
            TempDirs.delete(root);
            throw e;
        }
    }

    /**
     * Starts {@code n} brokers under the chroot {@code /weir-<name>}; {@code extra} adds broker properties (the
     * log directories and what {@link ZkTestCluster#broker} sets win).
     */
    static LogDirsTestCluster start(String name, int n, Map<String, String> extra) throws Exception {
        LogDirsTestCluster c = new LogDirsTestCluster(name);
        try {
            for (int id = 0; id < n; id++) {
                Map<String, String> props = new HashMap<>(extra);
                props.put(BrokerConfig.LOG_DIRS, c.dir(id, "a") + "," + c.dir(id, "b"));
                c.brokers.add(c.cluster.broker(id, props).start());
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
        return root.resolve("broker-" + broker).resolve(name);
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
        try {
            cluster.close();
        } finally {
            TempDirs.delete(root);
        }
    }
}
