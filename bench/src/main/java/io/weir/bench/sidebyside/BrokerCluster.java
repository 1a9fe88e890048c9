package io.weir.bench.sidebyside;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Several brokers of one system on 127.0.0.1 as one {@link Target}: Weir brokers on a standalone
 * ZooKeeper the bench starts, or Apache Kafka KRaft nodes that are each broker and controller (a
 * three-voter quorum, so no extra controller process: Weir's ZooKeeper is its extra process). Ready
 * when Metadata (DescribeCluster) lists every broker. CPU and RSS are sums over every process of the
 * cluster, Weir's ZooKeeper included. Not thread-safe.
 */
final class BrokerCluster implements Target {
    private final String name;
    /** Weir's ZooKeeper; null for Kafka. */
    private final BrokerProcess zookeeper;
    private final Map<Integer, BrokerProcess> brokers;

    private BrokerCluster(String name, BrokerProcess zookeeper, Map<Integer, BrokerProcess> brokers) {
        this.name = name;
        this.zookeeper = zookeeper;
        this.brokers = brokers;
    }

    /** {@code size} Weir brokers (broker.id 1..size, ports firstPort..) on a ZooKeeper at {@code zkPort}. */
    static BrokerCluster weir(Path weirHome, Path workDir, int firstPort, int zkPort, int size, String heapOpts,
                              String zkHeapOpts) {
        BrokerProcess zk = new BrokerProcess.ZooKeeper(weirHome, workDir.resolve("zookeeper"), zkPort, zkHeapOpts);
        String connect = "127.0.0.1:" + zkPort + "/weir-bench";
        Map<Integer, BrokerProcess> brokers = new LinkedHashMap<>();
        for (int i = 0; i < size; i++) {
            int id = i + 1;
            brokers.put(id, new BrokerProcess.Weir(weirHome, workDir.resolve("broker-" + id), firstPort + i, heapOpts, id,
                connect));
        }
        return new BrokerCluster("Weir", zk, brokers);
    }

    /**
     * {@code size} Kafka nodes (node.id 1..size), node i on ports {@code firstPort + 2i} (clients) and
     * {@code firstControllerPort + 2i} (controller quorum), all of them voters.
     */
    static BrokerCluster kafka(String classpath, Path workDir, int firstPort, int firstControllerPort, int size,
                               String heapOpts) {
        List<String> voters = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            voters.add((i + 1) + "@127.0.0.1:" + (firstControllerPort + 2 * i));
        }
        String clusterId = org.apache.kafka.common.Uuid.randomUuid().toString();
        Map<Integer, BrokerProcess> brokers = new LinkedHashMap<>();
        for (int i = 0; i < size; i++) {
            int id = i + 1;
            brokers.put(id, new BrokerProcess.Kafka(classpath, workDir.resolve("node-" + id), firstPort + 2 * i,
                firstControllerPort + 2 * i, heapOpts, id, String.join(",", voters), clusterId));
        }
        return new BrokerCluster("Kafka", null, brokers);
    }

    @Override
    public String name() {
        return name;
    }

    int size() {
        return brokers.size();
    }

    @Override
    public String bootstrapServers() {
        return brokers.values().stream().map(BrokerProcess::bootstrapServers).collect(Collectors.joining(","));
    }

    @Override
    public void start(long timeoutMs) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        if (zookeeper != null) {
            zookeeper.start(timeoutMs);
        }
        // all at once: a KRaft node waits for a quorum of its peers before it serves anything
        for (BrokerProcess b : brokers.values()) {
            b.launch();
        }
        awaitBrokers(brokers.size(), deadline);
    }

    /** Waits until Metadata lists {@code count} brokers; fails if a process exits or time runs out. */
    void awaitBrokers(int count, long deadline) throws IOException, InterruptedException {
        String last = "no answer";
        while (System.currentTimeMillis() < deadline) {
            for (BrokerProcess b : brokers.values()) {
                if (b.process != null && !b.process.isAlive()) {
                    throw new IOException(name + " broker exited with " + b.process.exitValue() + "; see "
                        + b.workDir().resolve("broker.out"));
                }
            }
            try (Admin admin = admin()) {
                Collection<Node> nodes = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                if (nodes.size() >= count) {
                    return;
                }
                last = "Metadata lists " + nodes;
            } catch (Exception e) {
                last = e.toString();
            }
            Thread.sleep(500);
        }
        throw new IOException(name + " cluster: Metadata did not list " + count + " brokers in time: " + last);
    }

    Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        return Admin.create(props);
    }

    @Override
    public void createTopic(String topic, int partitions, short replicationFactor, Map<String, String> configs)
        throws Exception {
        BrokerProcess.createTopic(admin(), topic, partitions, replicationFactor, configs);
    }

    /** The broker id leading each partition of {@code topic} now (-1 for none). */
    Map<Integer, Integer> leaders(String topic) throws Exception {
        try (Admin admin = admin()) {
            Map<Integer, Integer> out = new LinkedHashMap<>();
            for (TopicPartitionInfo p : admin.describeTopics(List.of(topic)).allTopicNames().get(20, TimeUnit.SECONDS)
                .get(topic).partitions()) {
                out.put(p.partition(), p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id());
            }
            return out;
        }
    }

    /**
     * Who leads the cluster's metadata: for Weir the controller Metadata names; for Kafka the leader of the
     * KRaft quorum (DescribeQuorum: its brokers name a random broker as "controller" in Metadata). -1 if unknown.
     */
    int controllerId() {
        try (Admin admin = admin()) {
            if (zookeeper == null) {
                return admin.describeMetadataQuorum().quorumInfo().get(10, TimeUnit.SECONDS).leaderId();
            }
            Node c = admin.describeCluster().controller().get(10, TimeUnit.SECONDS);
            return c == null ? -1 : c.id();
        } catch (Exception e) {
            return -1;
        }
    }

    BrokerProcess broker(int id) {
        BrokerProcess b = brokers.get(id);
        if (b == null) {
            throw new IllegalArgumentException(name + " has no broker " + id + " (has " + brokers.keySet() + ")");
        }
        return b;
    }

    /** Starts a killed broker again on its log dir and waits until Metadata lists every broker. */
    void restart(int id, long timeoutMs) throws IOException, InterruptedException {
        broker(id).launch();
        awaitBrokers(brokers.size(), System.currentTimeMillis() + timeoutMs);
    }

    private List<BrokerProcess> processes() {
        List<BrokerProcess> all = new ArrayList<>(brokers.values());
        if (zookeeper != null) {
            all.add(zookeeper);
        }
        return all;
    }

    @Override
    public double cpuSeconds() {
        double sum = 0;
        for (BrokerProcess p : processes()) {
            double s = p.cpuSeconds();
            if (s < 0) {
                return -1;
            }
            sum += s;
        }
        return sum;
    }

    @Override
    public long rssBytes() {
        return sum(BrokerProcess::rssBytes);
    }

    @Override
    public long peakRssBytes() {
        return sum(BrokerProcess::peakRssBytes);
    }

    private long sum(java.util.function.ToLongFunction<BrokerProcess> f) {
        long sum = 0;
        for (BrokerProcess p : processes()) {
            long v = f.applyAsLong(p);
            if (v < 0) {
                return -1;
            }
            sum += v;
        }
        return sum;
    }

    @Override
    public String describe() {
        StringBuilder sb = new StringBuilder();
        brokers.forEach((id, b) -> sb.append(sb.length() == 0 ? "" : ", ").append("broker ").append(id).append(" pid ")
            .append(b.pid()).append(" on ").append(b.bootstrapServers()));
        if (zookeeper != null) {
            sb.append(", ZooKeeper pid ").append(zookeeper.pid()).append(" on ").append(zookeeper.bootstrapServers());
        }
        return sb.toString();
    }

    @Override
    public void close() {
        for (BrokerProcess b : brokers.values()) {
            if (b.process != null && b.process.isAlive()) {
                b.process.destroy(); // SIGTERM to all first: they shut down side by side
            }
        }
        for (BrokerProcess b : brokers.values()) {
            b.close();
        }
        if (zookeeper != null) {
            zookeeper.close();
        }
    }
}
