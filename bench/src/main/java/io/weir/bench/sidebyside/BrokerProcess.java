package io.weir.bench.sidebyside;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A broker in a child process on 127.0.0.1 with its own temp log dir. Stopped with SIGTERM, then
 * killed after 30 s; its log dir is deleted afterwards. {@link #kill()} and {@link #launch()} again
 * restart it on the same log dir (a failover run). Not thread-safe.
 */
public abstract class BrokerProcess implements Target {
    protected final String name;
    protected final Path workDir;
    protected final int port;
    protected Process process;

    protected BrokerProcess(String name, Path workDir, int port) {
        this.name = name;
        this.workDir = workDir;
        this.port = port;
    }

    public String name() {
        return name;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    protected abstract ProcessBuilder command() throws IOException;

    @Override
    public void start(long timeoutMs) throws IOException, InterruptedException {
        launch();
        awaitAnswering(timeoutMs);
    }

    /** Starts the process (on the log dir it had, if any) without waiting for it to answer. */
    public void launch() throws IOException {
        Files.createDirectories(workDir);
        ProcessBuilder builder = command();
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(workDir.resolve("broker.out").toFile()));
        process = builder.start();
    }

    /** Waits until the process answers a client (a broker: DescribeCluster); closes it and fails otherwise. */
    public void awaitAnswering(long timeoutMs) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        Exception last = null;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + "; see " + workDir.resolve("broker.out"));
            }
            try {
                probe();
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(500);
            }
        }
        close();
        throw new IOException(name + " did not answer on " + bootstrapServers() + " within " + timeoutMs + " ms: " + last);
    }

    /** Succeeds once the process serves clients. */
    protected void probe() throws Exception {
        try (Admin admin = admin()) {
            admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
        }
    }

    /** SIGKILL (no shutdown of any kind), and waits until the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " (pid " + process.pid() + ") still alive 30 s after SIGKILL");
        }
    }

    public Path workDir() {
        return workDir;
    }

    public Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        return Admin.create(props);
    }

    @Override
    public void createTopic(String topic, int partitions, short replicationFactor, Map<String, String> configs)
        throws Exception {
        createTopic(admin(), topic, partitions, replicationFactor, configs);
    }

    /** Creates the topic through {@code admin} (and closes it), then waits until its replicas are all in sync. */
    static void createTopic(Admin admin, String topic, int partitions, short replicationFactor, Map<String, String> configs)
        throws Exception {
        try (admin) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, replicationFactor).configs(configs)))
                .all().get(60, TimeUnit.SECONDS);
            long deadline = System.currentTimeMillis() + 60_000;
            while (true) {
                String missing;
                try {
                    TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
                    missing = d.partitions().size() < partitions ? "partitions" : null;
                    for (var p : d.partitions()) {
                        if (p.leader() == null || p.leader().isEmpty() || p.isr().size() < replicationFactor) {
                            missing = "partition " + p.partition() + ": leader " + p.leader() + ", ISR " + p.isr();
                        }
                    }
                } catch (java.util.concurrent.ExecutionException e) {
                    missing = e.getCause().toString();
                }
                if (missing == null) {
                    return;
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new IOException("topic " + topic + " not ready after 60 s: " + missing);
                }
                Thread.sleep(200);
            }
        }
    }

    @Override
    public String describe() {
        return "pid " + pid();
    }

    public long pid() {
        return process.pid();
    }

    /** Resident set size of the broker's JVM in bytes, from /proc/PID/status (VmRSS); -1 if unknown. */
    public long rssBytes() {
        return procStatusKb("VmRSS:") * 1024;
    }

    /**
     * CPU time (user + system) the broker's JVM has used so far, in seconds, from /proc/PID/stat
     * (assumes the usual 100 clock ticks per second); -1 if unknown.
     */
    public double cpuSeconds() {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
            // fields after the ")" that ends the command name: state is field 3, utime 14, stime 15
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split("\\s+");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Peak resident set size (VmHWM) in bytes; -1 if unknown. */
    public long peakRssBytes() {
        return procStatusKb("VmHWM:") * 1024;
    }

    private long procStatusKb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        deleteTree(workDir.resolve("logs"));
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: it is a temp dir
        }
    }

    /** Weir through its own start script, so what is measured is what users run. */
    public static final class Weir extends BrokerProcess {
        private final Path weirHome;
        private final String heapOpts;
        private final int brokerId;
        private final String zookeeperConnect;

        /** A standalone broker (embedded ZooKeeper). */
        public Weir(Path weirHome, Path workDir, int port, String heapOpts) {
            this(weirHome, workDir, port, heapOpts, 0, null);
        }

        /** A member of a cluster: its own broker.id, on the ZooKeeper at {@code zookeeperConnect}. */
        public Weir(Path weirHome, Path workDir, int port, String heapOpts, int brokerId, String zookeeperConnect) {
            super("Weir", workDir, port);
            this.weirHome = weirHome;
            this.heapOpts = heapOpts;
            this.brokerId = brokerId;
            this.zookeeperConnect = zookeeperConnect;
        }

        @Override
        protected ProcessBuilder command() {
            List<String> cmd = new java.util.ArrayList<>(List.of(
                weirHome.resolve("bin/weir-server-start.sh").toString(),
                weirHome.resolve("config/server.properties").toString(),
                "--override", "broker.id=" + brokerId,
                "--override", "listeners=PLAINTEXT://127.0.0.1:" + port,
                "--override", "log.dirs=" + workDir.resolve("logs"),
                "--override", "num.network.threads=3",
                "--override", "num.io.threads=8",
                "--override", "log.segment.bytes=1073741824",
                "--override", "auto.create.topics.enable=false"));
            if (zookeeperConnect != null) {
                cmd.addAll(List.of("--override", "zookeeper.connect=" + zookeeperConnect));
            }
            ProcessBuilder builder = new ProcessBuilder(cmd);
            Map<String, String> env = builder.environment();
            env.put("WEIR_HEAP_OPTS", heapOpts);
            // bin/weir-bench.sh moves the caller's WEIR_OPTS (e.g. a JFR recording) here, for the broker only
            String brokerOpts = System.getenv("WEIR_BROKER_OPTS");
            if (brokerOpts != null) {
                env.put("WEIR_OPTS", brokerOpts);
            } else {
                env.remove("WEIR_OPTS");
            }
            return builder;
        }
    }

    /**
     * A standalone ZooKeeper server for a Weir cluster, through {@code bin/weir-zookeeper-start.sh} (ZooKeeper's
     * own QuorumPeerMain) with a generated config: data under this process's dir, no admin server.
     */
    public static final class ZooKeeper extends BrokerProcess {
        private final Path weirHome;
        private final String heapOpts;

        public ZooKeeper(Path weirHome, Path workDir, int port, String heapOpts) {
            super("ZooKeeper", workDir, port);
            this.weirHome = weirHome;
            this.heapOpts = heapOpts;
        }

        @Override
        protected ProcessBuilder command() throws IOException {
            Path config = workDir.resolve("zookeeper.properties");
            Files.writeString(config, String.join("\n",
                "dataDir=" + workDir.resolve("logs"),
                "clientPort=" + port,
                "clientPortAddress=127.0.0.1",
                "maxClientCnxns=0",
                "admin.enableServer=false",
                "tickTime=2000",
                "metricsProvider.className=org.apache.zookeeper.metrics.impl.NullMetricsProvider",
                ""));
            ProcessBuilder builder = new ProcessBuilder(weirHome.resolve("bin/weir-zookeeper-start.sh").toString(),
                config.toString());
            builder.environment().put("WEIR_HEAP_OPTS", heapOpts);
            builder.environment().remove("WEIR_OPTS");
            return builder;
        }

        /** The client port accepts connections (the brokers retry their first connection anyway). */
        @Override
        protected void probe() throws IOException {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            }
        }
    }

    /**
     * Apache Kafka from the Maven Central jars in KRaft mode, broker and controller in one process,
     * formatted with {@code StorageTool format} before its first start: a single node
     * ({@code --standalone}), or a member of a static three-voter quorum ({@code controller.quorum.voters},
     * the same cluster id on every node). A restart on a formatted log dir skips the format.
     */
    public static final class Kafka extends BrokerProcess {
        private final String classpath;
        private final int controllerPort;
        private final String heapOpts;
        private final int nodeId;
        private final String quorumVoters;
        private final String clusterId;

        /** A single node. */
        public Kafka(String classpath, Path workDir, int port, int controllerPort, String heapOpts) {
            this(classpath, workDir, port, controllerPort, heapOpts, 1, null,
                org.apache.kafka.common.Uuid.randomUuid().toString());
        }

        /**
         * A node of a cluster: {@code quorumVoters} is {@code controller.quorum.voters}
         * ({@code id@host:port,...}), {@code clusterId} the same for every node.
         */
        public Kafka(String classpath, Path workDir, int port, int controllerPort, String heapOpts, int nodeId,
                     String quorumVoters, String clusterId) {
            super("Kafka", workDir, port);
            this.classpath = classpath;
            this.controllerPort = controllerPort;
            this.heapOpts = heapOpts;
            this.nodeId = nodeId;
            this.quorumVoters = quorumVoters;
            this.clusterId = clusterId;
        }

        @Override
        protected ProcessBuilder command() throws IOException {
            Path config = workDir.resolve("server.properties");
            List<String> props = new java.util.ArrayList<>(List.of(
                "process.roles=broker,controller",
                "node.id=" + nodeId,
                quorumVoters == null
                    ? "controller.quorum.bootstrap.servers=127.0.0.1:" + controllerPort
                    : "controller.quorum.voters=" + quorumVoters,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + workDir.resolve("logs"),
                "num.partitions=1",
                "num.network.threads=3",
                "num.io.threads=8",
                "log.segment.bytes=1073741824",
                "auto.create.topics.enable=false",
                "group.initial.rebalance.delay.ms=0"));
            if (quorumVoters == null) {
                // one node: internal topics cannot have more replicas than that (a cluster keeps Kafka's defaults, 3 and 2)
                props.addAll(List.of(
                    "offsets.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1"));
            }
            props.add("");
            Files.writeString(config, String.join("\n", props));
            Path log4j = workDir.resolve("log4j2.properties");
            Files.writeString(log4j, String.join("\n",
                "rootLogger.level=WARN",
                "rootLogger.appenderRef.stdout.ref=STDOUT",
                "appender.stdout.type=Console",
                "appender.stdout.name=STDOUT",
                "appender.stdout.layout.type=PatternLayout",
                "appender.stdout.layout.pattern=[%d] %p %m (%c)%n",
                ""));
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            if (!Files.exists(workDir.resolve("logs").resolve("meta.properties"))) {
                List<String> format = new java.util.ArrayList<>(List.of(java, "-cp", classpath,
                    "-Dlog4j2.configurationFile=" + log4j.toUri(),
                    "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", config.toString()));
                if (quorumVoters == null) {
                    format.add("--standalone");
                }
                Process formatting = new ProcessBuilder(format)
                    .redirectErrorStream(true)
                    .redirectOutput(workDir.resolve("format.out").toFile())
                    .start();
                try {
                    if (!formatting.waitFor(120, TimeUnit.SECONDS) || formatting.exitValue() != 0) {
                        formatting.destroyForcibly();
                        throw new IOException("Kafka StorageTool format failed; see " + workDir.resolve("format.out"));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
            }
            List<String> cmd = new java.util.ArrayList<>();
            cmd.add(java);
            cmd.addAll(List.of(heapOpts.trim().split("\\s+")));
            String extra = System.getenv("KAFKA_OPTS");
            if (extra != null && !extra.isBlank()) {
                cmd.addAll(List.of(extra.trim().split("\\s+")));
            }
            cmd.addAll(List.of("-cp", classpath, "-Dlog4j2.configurationFile=" + log4j.toUri(),
                "kafka.Kafka", config.toString()));
            return new ProcessBuilder(cmd);
        }
    }
}
