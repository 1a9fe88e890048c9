package io.weir.bench.sidebyside;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

import java.io.IOException;
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
 * killed after 30 s; its log dir is deleted afterwards.
 */
public abstract class BrokerProcess implements AutoCloseable {
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

    public void start(long timeoutMs) throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        ProcessBuilder builder = command();
        builder.redirectErrorStream(true);
        builder.redirectOutput(workDir.resolve("broker.out").toFile());
        process = builder.start();
        long deadline = System.currentTimeMillis() + timeoutMs;
        Exception last = null;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + "; see " + workDir.resolve("broker.out"));
            }
            try (Admin admin = admin()) {
                admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(500);
            }
        }
        close();
        throw new IOException(name + " did not answer on " + bootstrapServers() + " within " + timeoutMs + " ms: " + last);
    }

    public Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        return Admin.create(props);
    }

    public void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
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

        public Weir(Path weirHome, Path workDir, int port, String heapOpts) {
            super("Weir", workDir, port);
            this.weirHome = weirHome;
            this.heapOpts = heapOpts;
        }

        @Override
        protected ProcessBuilder command() {
            ProcessBuilder builder = new ProcessBuilder(
                weirHome.resolve("bin/weir-server-start.sh").toString(),
                weirHome.resolve("config/server.properties").toString(),
                "--override", "listeners=PLAINTEXT://127.0.0.1:" + port,
                "--override", "log.dirs=" + workDir.resolve("logs"),
                "--override", "num.network.threads=3",
                "--override", "num.io.threads=8",
                "--override", "log.segment.bytes=1073741824",
                "--override", "auto.create.topics.enable=false");
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
     * Apache Kafka from the Maven Central jars, KRaft single node (broker and controller in one
     * process), formatted with {@code StorageTool format --standalone} before its first start.
     */
    public static final class Kafka extends BrokerProcess {
        private final String classpath;
        private final int controllerPort;
        private final String heapOpts;

        public Kafka(String classpath, Path workDir, int port, int controllerPort, String heapOpts) {
            super("Kafka", workDir, port);
            this.classpath = classpath;
            this.controllerPort = controllerPort;
            this.heapOpts = heapOpts;
        }

        @Override
        protected ProcessBuilder command() throws IOException {
            Path config = workDir.resolve("server.properties");
            String props = String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.bootstrap.servers=127.0.0.1:" + controllerPort,
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
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "");
            Files.writeString(config, props);
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
            String clusterId = org.apache.kafka.common.Uuid.randomUuid().toString();
            Process format = new ProcessBuilder(java, "-cp", classpath,
                "-Dlog4j2.configurationFile=" + log4j.toUri(),
                "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", config.toString(), "--standalone")
                .redirectErrorStream(true)
                .redirectOutput(workDir.resolve("format.out").toFile())
                .start();
            try {
                if (!format.waitFor(120, TimeUnit.SECONDS) || format.exitValue() != 0) {
                    format.destroyForcibly();
                    throw new IOException("Kafka StorageTool format failed; see " + workDir.resolve("format.out"));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
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
