package io.weir.broker.zk;

import io.weir.broker.Broker;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.server.Partition;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.RequestHeader;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * In-JVM brokers on one real ZooKeeper (curator-test's {@link TestingServer}) under a chroot, for the
 * cluster tests: the server, a client that sees the whole tree (without the chroot), and the brokers
 * it made, all closed by {@link #close}.
 */
final class ZkTestCluster implements AutoCloseable {
    private final String chroot;
    private final TestingServer zookeeper;
    private final CuratorFramework zk;
    private final List<EmbeddedBroker> brokers = new ArrayList<>();

    ZkTestCluster(String chroot) throws Exception {
        this.chroot = chroot;
        this.zookeeper = new TestingServer(true);
        this.zk = CuratorFrameworkFactory.newClient(zookeeper.getConnectString(), new RetryOneTime(100));
        zk.start();
        if (!zk.blockUntilConnected(30, TimeUnit.SECONDS)) {
            close();
            throw new IllegalStateException("cannot connect to the test ZooKeeper");
        }
    }

    /** The server's connect string, without the chroot. */
    String connectString() {
        return zookeeper.getConnectString();
    }

    /** The server's port (on loopback). */
    int port() {
        return zookeeper.getPort();
    }

    /** A client of the whole tree, without the chroot. */
    CuratorFramework zk() {
        return zk;
    }

    /** The brokers made so far (live list: the cluster closes every one). */
    List<EmbeddedBroker> brokers() {
        return brokers;
    }

    /**
     * A broker (not started) with id {@code id} under the chroot, two-partition coordinator topics (unless
     * {@code extra} sets their counts) and no initial rebalance delay; {@code extra} adds properties (the
     * id, the ZooKeeper address and the rebalance delay win).
     */
    EmbeddedBroker broker(int id, Map<String, String> extra) {
        return broker(id, zookeeper.getConnectString(), extra);
    }

    /**
     * A broker (not started) as {@link #broker(int, Map)} makes it, that reaches ZooKeeper at {@code zookeeperAddress}
     * (host:port, a proxy in front of the server, say) under the chroot.
     */
    EmbeddedBroker broker(int id, String zookeeperAddress, Map<String, String> extra) {
        return add(new EmbeddedBroker(props(id, zookeeperAddress, extra)));
    }

    /**
     * A broker (not started) as {@link #broker(int, Map)} makes it, whose {@code log.dirs} are the directories
     * {@code logDirNames} inside its temp dir (see {@link EmbeddedBroker#withLogDirs}).
     */
    EmbeddedBroker brokerWithLogDirs(int id, Map<String, String> extra, String... logDirNames) {
        return add(EmbeddedBroker.withLogDirs(props(id, zookeeper.getConnectString(), extra), logDirNames));
    }

    private Map<String, String> props(int id, String zookeeperAddress, Map<String, String> extra) {
        Map<String, String> props = new HashMap<>(extra);
        props.put("broker.id", Integer.toString(id));
        props.put("zookeeper.connect", zookeeperAddress + chroot);
        props.put("group.initial.rebalance.delay.ms", "0");
        props.putIfAbsent("offsets.topic.num.partitions", "2");
        props.putIfAbsent("transaction.state.log.num.partitions", "2");
        return props;
    }

    private EmbeddedBroker add(EmbeddedBroker b) {
        brokers.add(b);
        return b;
    }

    /**
     * Starts brokers 0 to {@code n - 1} (see {@link #broker}) and waits until exactly one of them is the active
     * controller and every one sees all {@code n} registered.
     */
    List<EmbeddedBroker> startBrokers(int n, Map<String, String> extra) throws InterruptedException {
        List<EmbeddedBroker> out = new ArrayList<>();
        for (int id = 0; id < n; id++) {
            out.add(broker(id, extra).start());
        }
        awaitMembership(out);
        waitUntil(() -> out.stream().filter(b -> b.broker().controller().isActive()).count() == 1,
            "one controller is elected");
        return out;
    }

    /**
     * Starts {@code controller} and waits until it is the active controller, then starts {@code others} (made by
     * {@link #broker}) and waits until every one of them sees them all registered and {@code controller} in office.
     * Returns the brokers, {@code controller} first.
     */
    List<EmbeddedBroker> startUnderController(EmbeddedBroker controller, EmbeddedBroker... others)
        throws InterruptedException {
        controller.start();
        waitUntil(() -> controller() == controller, "broker " + id(controller) + " is the controller");
        List<EmbeddedBroker> out = new ArrayList<>(List.of(controller));
        for (EmbeddedBroker b : others) {
            out.add(b.start());
        }
        awaitMembership(out);
        int controllerId = id(controller);
        for (EmbeddedBroker b : out) {
            waitUntil(() -> store(b).image().controllerId() == controllerId,
                "broker " + id(b) + " sees controller " + controllerId);
        }
        return out;
    }

    /** Waits until every one of {@code brokers} sees them all registered. */
    static void awaitMembership(List<EmbeddedBroker> brokers) throws InterruptedException {
        int n = brokers.size();
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> b.broker().metadataStore().liveBrokers().size() == n, "every broker sees all " + n);
        }
    }

    /** The broker whose controller is active, or null while there is none. */
    EmbeddedBroker controller() {
        for (EmbeddedBroker b : brokers) {
            Broker broker = b.broker();
            if (broker != null && broker.controller() != null && broker.controller().isActive()) {
                return b;
            }
        }
        return null;
    }

    /** A running broker's metadata store (ZooKeeper mode). */
    static ZkMetadataStore store(EmbeddedBroker b) {
        return (ZkMetadataStore) b.broker().metadataStore();
    }

    /** The partition state of {@code tp} in a running broker's metadata image, or null while it has none. */
    static PartitionState state(EmbeddedBroker b, TopicPartition tp) {
        return store(b).image().states().get(tp);
    }

    /** Broker {@code id}'s registration as a running broker's metadata store sees it, or null while it sees none. */
    static BrokerRegistration registration(EmbeddedBroker b, int id) {
        return store(b).liveBrokers().stream().filter(r -> r.id() == id).findFirst().orElse(null);
    }

    /** A running broker's replica of {@code tp}, or null while it hosts none. */
    static Partition partition(EmbeddedBroker b, TopicPartition tp) {
        return b.broker().replicaManager().partition(tp);
    }

    /** A running broker's id. */
    static int id(EmbeddedBroker b) {
        return b.broker().config().brokerId();
    }

    /** Polls {@code condition} until it holds; fails after a minute (a hung test, not a timing assertion). */
    static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Sends one request to the broker at {@code port} and returns its response body. */
    static ApiMessage call(int port, ApiKeys api, short version, ApiMessage body) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(60_000);
            ByteBuffer frame = MessageCodec.serializeRequest(RequestHeader.of(api, version, 1, "zk-test"), body);
            socket.getOutputStream().write(frame.array(), 0, frame.limit());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] resp = new byte[in.readInt()];
            in.readFully(resp);
            return MessageCodec.parseResponse(api, version, ByteBuffer.wrap(resp)).body();
        }
    }

    @Override
    public void close() throws Exception {
        for (EmbeddedBroker b : brokers) {
            b.close();
        }
        zk.close();
        zookeeper.close();
    }
}
