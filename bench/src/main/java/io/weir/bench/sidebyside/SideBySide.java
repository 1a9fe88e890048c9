package io.weir.bench.sidebyside;

import io.weir.bench.ClientKind;
import io.weir.bench.ConsumerPerformance;
import io.weir.bench.EndToEndLatency;
import io.weir.bench.ProducerPerformance;
import io.weir.bench.Summaries;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/weir-bench.sh [scenario ...]}: starts a fresh Weir broker and a fresh Apache Kafka
 * broker (or, for scenarios with {@code cluster.size=N}, N Weir brokers on one ZooKeeper and N Kafka
 * KRaft nodes: see {@link BrokerCluster}; one size at a time), runs every case of every scenario
 * against each in turn, alternating which goes first (A B, B A, A B, ...) for {@code --rounds}
 * rounds so drift on a shared machine falls on both, and writes
 * {@code bench/results/<scenario>-<timestamp>.md} with PNG charts beside it.
 *
 * <p>Each run gets a new topic. The load tools run as separate JVMs (as users run them), one at a
 * time; brokers stay up for the whole invocation (or while scenarios of their cluster size run) and are stopped (and their log dirs deleted) at the
 * end, also on Ctrl-C.
 */
@Command(name = "weir-bench", sortOptions = false, mixinStandardHelpOptions = true,
    description = "Runs scenarios side by side against Weir and Apache Kafka and writes tables and charts.")
public final class SideBySide implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "SCENARIO", description = "Scenario names (in bench/scenarios) or files; default: all.")
    List<String> scenarios = new ArrayList<>();

    @Option(names = "--rounds", defaultValue = "3", description = "Rounds (each runs every case on every broker). Default 3.")
    int rounds;

    @Option(names = "--clients", split = ",", defaultValue = "kafka", description = "Clients: kafka, weir. Default kafka.")
    List<String> clients;

    @Option(names = "--brokers", split = ",", defaultValue = "weir,kafka", description = "Brokers: weir, kafka. Default both.")
    List<String> brokers;

    @Option(names = "--warmup-records", defaultValue = "300000", description = "Before a scenario's first round, every "
        + "producer case runs unmeasured with this many records against each broker with each client, so neither "
        + "broker's JIT warm-up lands in whichever client is measured first. 0: none. Default 300000.")
    long warmupRecords;

    @Option(names = "--e2e-warmup-seconds", defaultValue = "5", description = "Before a scenario's first round, every "
        + "end-to-end case runs unmeasured this long at its own rate against each broker with each client (a fresh "
        + "broker's JIT would otherwise land in whichever client is measured first). 0: none. Default 5.")
    long e2eWarmupSeconds;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Overrides a scenario setting in every scenario, e.g. num.records=500000.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--weir-home", required = true)
    Path weirHome;

    @Option(names = "--kafka-classpath-file", description = "File with the Apache Kafka broker's classpath (needed with --brokers kafka).")
    Path kafkaClasspathFile;

    @Option(names = "--kafka-streams-classpath-file",
        description = "File with Apache Kafka Streams' classpath (needed for type=streams scenarios on the kafka broker).")
    Path kafkaStreamsClasspathFile;

    @Option(names = "--streams-heap", defaultValue = "-Xmx512m", description = "Heap options for both stream jobs (type=streams).")
    String streamsHeapOpts;

    @Option(names = "--results-dir", description = "Default: <weir-home>/bench/results.")
    Path resultsDir;

    @Option(names = "--work-dir", description = "Brokers' log dirs and tool outputs. Default: a new temp dir.")
    Path workDir;

    @Option(names = "--heap", defaultValue = "-Xmx1G -Xms1G", description = "Heap options for both brokers.")
    String heapOpts;

    @Option(names = "--weir-heap", description = "Heap options for the Weir brokers only (default: --heap), e.g. "
        + "the start script's default heap against Kafka's 1 GiB.")
    String weirHeapOpts;

    @Option(names = "--client-heap", defaultValue = "-Xmx1G", description = "Heap options for the load tools.")
    String clientHeapOpts;

    @Option(names = "--keep-work-dir", description = "Keep the tools' outputs and the brokers' console logs.")
    boolean keepWorkDir;

    @Option(names = "--command", hidden = true, description = "The command line, for the report.")
    String command = "bin/weir-bench.sh";

    @Option(names = "--weir-port", defaultValue = "19092")
    int weirPort;

    @Option(names = "--kafka-port", defaultValue = "19192")
    int kafkaPort;

    @Option(names = "--kafka-controller-port", defaultValue = "19193")
    int kafkaControllerPort;

    @Option(names = "--zookeeper-port", defaultValue = "19181", description = "Weir's ZooKeeper in cluster scenarios.")
    int zookeeperPort;

    @Option(names = "--zookeeper-heap", defaultValue = "-Xmx256m", description = "Heap options for Weir's ZooKeeper.")
    String zookeeperHeapOpts;

    private final List<String> notes = new ArrayList<>();
    private int runCounter;
    /** The e2e latency distribution of each e2e run ({value ms, percentile} points), for the percentile-curve chart. */
    private final Map<Measurement, List<double[]>> curves = new java.util.HashMap<>();

    public static void main(String[] args) {
        System.exit(new CommandLine(new SideBySide()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (resultsDir == null) {
            resultsDir = weirHome.resolve("bench/results");
        }
        boolean tempWorkDir = workDir == null;
        if (tempWorkDir) {
            workDir = Files.createTempDirectory("weir-bench-");
        }
        Files.createDirectories(resultsDir);
        List<String> usableClients = new ArrayList<>();
        for (String c : clients) {
            ClientKind kind = ClientKind.parse(c);
            try {
                kind.requireAvailable("producer");
                usableClients.add(kind.toString());
            } catch (ClientKind.ClientNotAvailableException e) {
                String note = "Client " + kind + " skipped: " + e.getMessage();
                System.err.println("WARNING: " + note);
                notes.add(note);
            }
        }
        if (usableClients.isEmpty()) {
            System.err.println("ERROR: no usable client");
            return 1;
        }
        List<Scenario> loaded = new ArrayList<>();
        for (Path file : scenarioFiles()) {
            loaded.add(Scenario.load(file, overrides));
        }
        // scenarios of one cluster size together, so each size's brokers start once (stable: same-size order kept)
        loaded.sort(java.util.Comparator.comparingInt(Scenario::clusterSize));

        List<Target> started = new ArrayList<>();
        Thread hook = new Thread(() -> started.forEach(Target::close), "weir-bench-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean succeeded = false;
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        try {
            int runningSize = 0;
            for (Scenario scenario : loaded) {
                if (scenario.clusterSize() != runningSize) {
                    // one size at a time: three brokers of each system plus the load tools are all this machine holds
                    for (Target t : started) {
                        t.close();
                    }
                    started.clear();
                    runningSize = scenario.clusterSize();
                    startTargets(runningSize, started);
                }
                List<String> scenarioNotes = new ArrayList<>(notes);
                if (runningSize > 1) {
                    scenarioNotes.add(clusterNote(runningSize));
                }
                List<Measurement> results = new ArrayList<>();
                warmUp(scenario, started, usableClients);
                for (int round = 0; round < rounds; round++) {
                    for (Scenario.Case c : scenario.cases()) {
                        List<Target> order = new ArrayList<>(started);
                        if (round % 2 == 1) {
                            java.util.Collections.reverse(order);
                        }
                        for (Target broker : order) {
                            if (c.type().equals("streams")) {
                                // the system under test is the stream job: Weir streams on Weir, Kafka Streams on Kafka
                                results.add(runStreamsCase(c, broker, round));
                                continue;
                            }
                            for (String client : usableClients) {
                                results.add(c.failover()
                                    ? runFailover(c, broker, client, round, scenarioNotes)
                                    : runCase(c, broker, client, round));
                            }
                        }
                    }
                }
                Map<String, Long> peakRss = new LinkedHashMap<>();
                for (Target broker : started) {
                    peakRss.put(broker.name(), broker.peakRssBytes());
                }
                Path report = new Report(scenario, results, started.stream().map(Target::name).toList(),
                    commandLine(), scenarioNotes, peakRss, heapNote(), curves).write(resultsDir, stamp);
                System.err.println("Wrote " + report);
            }
            succeeded = true;
        } finally {
            for (Target broker : started) {
                broker.close();
            }
            Runtime.getRuntime().removeShutdownHook(hook);
            if (succeeded && tempWorkDir && !keepWorkDir) {
                BrokerProcess.deleteTree(workDir);
            } else {
                System.err.println("Tool outputs and broker logs: " + workDir);
            }
        }
        return 0;
    }

    /** Starts one target per {@code --brokers} entry: single brokers for size 1, clusters otherwise. */
    private void startTargets(int size, List<Target> started) throws IOException, InterruptedException {
        for (String b : brokers) {
            String kind = b.trim().toLowerCase();
            String dir = size == 1 ? kind : kind + "-cluster";
            Target broker = switch (kind) {
                case "weir" -> size == 1
                    ? new BrokerProcess.Weir(weirHome, workDir.resolve(dir), weirPort, weirHeap())
                    : BrokerCluster.weir(weirHome, workDir.resolve(dir), weirPort, zookeeperPort, size, weirHeap(),
                        zookeeperHeapOpts);
                case "kafka" -> size == 1
                    ? new BrokerProcess.Kafka(kafkaClasspath(), workDir.resolve(dir), kafkaPort, kafkaControllerPort, heapOpts)
                    : BrokerCluster.kafka(kafkaClasspath(), workDir.resolve(dir), kafkaPort, kafkaControllerPort, size,
                        heapOpts);
                default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown broker " + b);
            };
            System.err.printf("Starting %s (%d broker(s)) on %s ...%n", broker.name(), size, broker.bootstrapServers());
            started.add(broker);
            broker.start(300_000);
            System.err.printf("%s is up (%s, RSS %d MB)%n", broker.name(), broker.describe(), broker.rssBytes() >> 20);
        }
    }

    private String weirHeap() {
        return weirHeapOpts == null ? heapOpts : weirHeapOpts;
    }

    /** The brokers' heap options as the report names them. */
    private String heapNote() {
        return weirHeapOpts == null ? heapOpts : "Weir " + weirHeapOpts + ", Kafka " + heapOpts;
    }

    private String clusterNote(int size) {
        return String.format(java.util.Locale.ROOT, "Clusters: %d Weir brokers (broker.id 1..%d, ports %d..) on one standalone "
                + "ZooKeeper the bench starts (bin/weir-zookeeper-start.sh, `%s`, default zookeeper.session.timeout.ms=18000) "
                + "vs %d Apache Kafka KRaft nodes, each broker and controller (a %d-voter static quorum; default "
                + "broker.session.timeout.ms=9000); every broker's heap `%s`. Broker CPU s and RSS MB are sums over the "
                + "cluster's processes, Weir's ZooKeeper included; Kafka's internal topics keep its defaults (rf 3).",
            size, size, weirPort, zookeeperHeapOpts, size, size, heapNote());
    }

    /**
     * A failover case: {@code FailoverProbe} produces at a steady rate; once every partition has
     * answered, wait {@code failover.kill.after.ms}, SIGKILL the broker leading partition 0, let the
     * probe run on, then restart that broker and wait until Metadata lists it again.
     */
    private Measurement runFailover(Scenario.Case c, Target target, String client, int round, List<String> scenarioNotes)
        throws Exception {
        if (!(target instanceof BrokerCluster cluster)) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                "failover case " + c.label() + " needs cluster.size > 1");
        }
        String topic = c.slug() + "-r" + round + "-" + client;
        cluster.createTopic(topic, c.partitions(), c.replicationFactor(), c.topicConfigs());
        System.err.printf("[round %d] %s on %s (client %s) ...%n", round + 1, c.label(), cluster.name(), client);
        Path events = workDir.resolve("run-" + (runCounter + 1) + "-failover-events.txt");
        List<String> args = new ArrayList<>(List.of("--bootstrap-server", cluster.bootstrapServers(), "--topic", topic,
            "--partitions", Integer.toString(c.partitions()), "--throughput", c.throughput(),
            "--record-size", Integer.toString(c.recordSize()), "--client", client,
            "--duration-ms", Long.toString(c.failoverKillAfterMs() + c.failoverObserveMs()),
            "--events-file", events.toString()));
        addProps(args, "--producer-props", c.clientProps("producer"));
        Path out = workDir.resolve("run-" + (++runCounter) + ".out");
        Process probe = startTool(io.weir.bench.FailoverProbe.class, args, out);
        long readyDeadline = System.currentTimeMillis() + 180_000;
        while (Files.readAllLines(out).stream().noneMatch(l -> l.startsWith("READY"))) {
            if (!probe.isAlive() || System.currentTimeMillis() > readyDeadline) {
                probe.destroyForcibly();
                throw new IOException("failover probe did not get READY; see " + out);
            }
            Thread.sleep(100);
        }
        Thread.sleep(c.failoverKillAfterMs());
        Map<Integer, Integer> leaders = cluster.leaders(topic);
        int victim = leaders.get(0);
        if (victim < 0) {
            probe.destroyForcibly();
            throw new IOException("partition 0 of " + topic + " has no leader before the kill");
        }
        java.util.Set<Integer> led = new java.util.TreeSet<>();
        leaders.forEach((p, l) -> {
            if (l == victim) {
                led.add(p);
            }
        });
        int controller = cluster.controllerId();
        BrokerProcess killed = cluster.broker(victim);
        long killMicros = nowMicros();
        killed.kill();
        long goneMicros = nowMicros();
        System.err.printf("    SIGKILL to %s broker %d (leader of partitions %s), gone after %.1f ms%n", cluster.name(),
            victim, led, (goneMicros - killMicros) / 1000.0);
        List<String> probeOut = awaitTool(probe, out);
        List<Failover.Event> parsed = new ArrayList<>();
        for (String line : Files.readAllLines(events)) {
            if (!line.isBlank()) {
                parsed.add(Failover.Event.parse(line));
            }
        }
        Map<String, Double> figures = new LinkedHashMap<>(Failover.figures(parsed, killMicros, goneMicros, led,
            c.partitions()));
        scenarioNotes.add(String.format(java.util.Locale.ROOT, "Round %d, %s, client %s: SIGKILL to broker %d, leader of "
                + "partitions %s%s; probe: %s", round + 1, cluster.name(), client, victim, led,
            cluster.name().equals("Weir") ? " (the controller before the kill: broker " + controller + ")"
                : " (the KRaft quorum leader before the kill: node " + controller + ")",
            probeOut.isEmpty() ? "no output" : probeOut.get(probeOut.size() - 1)));
        System.err.println("    " + figures);
        System.err.printf("    restarting %s broker %d ...%n", cluster.name(), victim);
        cluster.restart(victim, 300_000);
        return new Measurement(c.label(), cluster.name(), client, round, figures);
    }

    private static long nowMicros() {
        return java.time.temporal.ChronoUnit.MICROS.between(java.time.Instant.EPOCH, java.time.Instant.now());
    }

    /**
     * Makes the broker create and load its transaction state topic before a transactional case is measured.
     * Both brokers create {@code __transaction_state} (50 partitions) at the first FindCoordinator for a
     * transactional id; that one-time cost (about 0.2 s of Weir's CPU, more with the JIT compiling the
     * new paths) belongs to a broker's first transaction ever, not to "transactions every N ms", and it
     * landed in whichever transactional run came first. DescribeTransactions of an unknown id finds the
     * coordinator (which creates the topic) and answers TRANSACTIONAL_ID_NOT_FOUND once it is loaded.
     */
    private static void awaitTransactionCoordinator(Target broker) throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        long deadline = System.currentTimeMillis() + 120_000;
        try (Admin admin = Admin.create(props)) {
            while (true) {
                try {
                    admin.describeTransactions(List.of("weir-bench-coordinator-probe")).all().get(30, TimeUnit.SECONDS);
                    return;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TransactionalIdNotFoundException) {
                        return;
                    }
                    if (System.currentTimeMillis() > deadline) {
                        throw new IOException(broker.name() + ": no transaction coordinator after 120 s", e.getCause());
                    }
                    Thread.sleep(200);
                }
            }
        }
    }

    /**
     * Runs each producer case of {@code scenario} once, unmeasured, with {@code --warmup-records} records against
     * every broker with every client (its own topic, consumed back when the case consumes), and each end-to-end case
     * for {@code --e2e-warmup-seconds} at its own rate. The clients' order is
     * the same in every round, so without this the first client measured on a fresh broker pays that broker's JIT
     * compilation of the produce and fetch paths and the others do not.
     */
    private void warmUp(Scenario scenario, List<Target> targets, List<String> clientsToRun) throws Exception {
        for (Scenario.Case c : scenario.cases()) {
            Map<String, String> settings = new LinkedHashMap<>(c.settings());
            if (c.type().equals("e2e") && !c.failover()) {
                long rate = (long) Double.parseDouble(c.throughput());
                if (rate <= 0 || e2eWarmupSeconds <= 0) {
                    continue;
                }
                settings.put("num.records", Long.toString(rate * e2eWarmupSeconds));
                settings.put("warmup.records", Long.toString(rate)); // the tool's own first second
            } else if (c.type().equals("producer") && !c.failover() && warmupRecords > 0) {
                settings.put("num.records", Long.toString(warmupRecords));
            } else {
                continue;
            }
            Scenario.Case warm = new Scenario.Case(c.label(), settings);
            for (Target broker : targets) {
                for (String client : clientsToRun) {
                    try {
                        runCase(warm, broker, client, -1);
                    } catch (IOException | RuntimeException e) {
                        // unmeasured: a warm-up that fails (an e2e run missing a record at its timeout) must not end
                        // the bench; the measured rounds say what is wrong
                        System.err.printf("    warm-up of %s on %s (client %s) failed: %s%n", c.label(), broker.name(),
                            client, e);
                    }
                }
            }
        }
    }

    private Measurement runCase(Scenario.Case c, Target broker, String client, int round) throws Exception {
        String topic = c.slug() + (round < 0 ? "-warmup" : "-r" + round) + "-" + client;
        broker.createTopic(topic, c.partitions(), c.replicationFactor(), c.topicConfigs());
        if (c.transactional()) {
            awaitTransactionCoordinator(broker);
        }
        Map<String, Double> figures = new LinkedHashMap<>();
        double cpuBefore = broker.cpuSeconds();
        System.err.printf("[%s] %s on %s (client %s) ...%n", round < 0 ? "warm-up, not measured" : "round " + (round + 1),
            c.label(), broker.name(), client);
        List<double[]> curve = null;
        if (c.type().equals("e2e")) {
            Path hgrm = workDir.resolve("run-" + (runCounter + 1) + "-e2e.hgrm");
            List<String> args = new ArrayList<>(List.of("--bootstrap-server", broker.bootstrapServers(), "--topic", topic,
                "--num-records", Long.toString(c.numRecords()), "--throughput", c.throughput(),
                "--record-size", Integer.toString(c.recordSize()), "--client", client,
                "--warmup-records", c.settings().getOrDefault("warmup.records", "1000"),
                "--trace-slow-ms", c.settings().getOrDefault("trace.slow.ms", "0")));
            if (c.transactional()) {
                args.addAll(List.of("--transaction-duration-ms", Long.toString(c.transactionDurationMs())));
            }
            addProps(args, "--producer-props", c.clientProps("producer"));
            addProps(args, "--consumer-props", c.clientProps("consumer"));
            args.addAll(List.of("--histogram-file", hgrm.toString()));
            Summaries.e2e(runTool(EndToEndLatency.class, args)).forEach((k, v) -> figures.put("e2e " + k, v));
            if (Files.exists(hgrm)) {
                curve = Summaries.percentileCurve(Files.readAllLines(hgrm));
            }
            figures.remove("e2e records");
        } else {
            List<List<String>> outputs = new ArrayList<>();
            List<Process> running = new ArrayList<>();
            List<Path> outs = new ArrayList<>();
            for (int p = 0; p < c.producers(); p++) {
                List<String> args = new ArrayList<>(List.of("--topic", topic, "--num-records", Long.toString(c.numRecords()),
                    "--record-size", Integer.toString(c.recordSize()), "--throughput", c.throughput(),
                    "--bootstrap-server", broker.bootstrapServers(), "--client", client));
                if (c.transactional()) {
                    args.addAll(List.of("--transactional-id", topic + "-p" + p,
                        "--transaction-duration-ms", Long.toString(c.transactionDurationMs())));
                }
                addProps(args, "--producer-props", c.clientProps("producer"));
                Path out = workDir.resolve("run-" + (++runCounter) + ".out");
                outs.add(out);
                running.add(startTool(ProducerPerformance.class, args, out));
            }
            for (int p = 0; p < running.size(); p++) {
                outputs.add(awaitTool(running.get(p), outs.get(p)));
            }
            Map<String, Double> sum = new LinkedHashMap<>();
            for (List<String> out : outputs) {
                Map<String, Double> figs = new LinkedHashMap<>(Summaries.producer(out));
                figs.putAll(Summaries.producerTransactions(out));
                figs.forEach((k, v) -> sum.merge(k, v, k.equals("records") || k.equals("transactions") || k.endsWith("/s")
                    ? Double::sum : k.equals("avg ms") ? (a, b) -> (a + b) / 2 : Math::max));
            }
            if (sum.containsKey("transactions") && sum.get("transactions") > 0) {
                sum.put("records/transaction", sum.get("records") / sum.get("transactions"));
            }
            sum.remove("records");
            sum.remove("transactions");
            sum.forEach((k, v) -> figures.put("produce " + k, v));
            if (c.consume()) {
                long total = c.numRecords() * c.producers();
                List<String> args = new ArrayList<>(List.of("--bootstrap-server", broker.bootstrapServers(), "--topic", topic,
                    "--messages", Long.toString(total), "--client", client, "--timeout", "20000"));
                addProps(args, "--consumer-props", c.clientProps("consumer"));
                Map<String, Double> consumed = Summaries.consumer(runTool(ConsumerPerformance.class, args));
                for (String k : List.of("MB/s", "records/s", "fetch ms")) {
                    figures.put("consume " + k, consumed.get(k));
                }
            }
        }
        figures.put("broker CPU s", broker.cpuSeconds() - cpuBefore);
        figures.put("broker RSS MB", broker.rssBytes() / (1024.0 * 1024.0));
        System.err.println("    " + figures);
        Measurement m = new Measurement(c.label(), broker.name(), client, round, figures);
        if (curve != null && !curve.isEmpty() && round >= 0) { // a warm-up's curve is not reported
            curves.put(m, curve);
        }
        return m;
    }

    private Measurement runStreamsCase(Scenario.Case c, Target broker, int round) throws Exception {
        boolean kafka = broker.name().equals("Kafka");
        String runName = c.slug() + "-r" + round + "-" + (kafka ? "kstreams" : "weir") + "-" + (++runCounter);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String heap = c.settings().getOrDefault("streams.heap", streamsHeapOpts);
        cmd.addAll(List.of(heap.trim().split("\\s+")));
        if (kafka) {
            if (kafkaStreamsClasspathFile == null) {
                throw new CommandLine.ParameterException(new CommandLine(this),
                    "--kafka-streams-classpath-file is needed for streams scenarios on the kafka broker");
            }
            // this module's classes (the job) + Kafka Streams with its own rocksdbjni; never Weir streams' classpath
            cmd.addAll(List.of("-cp", weirHome.resolve("bench/target/classes") + java.io.File.pathSeparator
                + Files.readString(kafkaStreamsClasspathFile).trim(), io.weir.bench.streams.KafkaStreamsJob.class.getName()));
        } else {
            // the bench's logger config keeps clients at WARN; the job's restore and snapshot lines are INFO
            cmd.add("-Dorg.slf4j.simpleLogger.log.io.weir.streams=info");
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), io.weir.bench.streams.WeirStreamsJob.class.getName()));
        }
        double cpuBefore = broker.cpuSeconds();
        System.err.printf("[round %d] %s on %s (%s) ...%n", round + 1, c.label(), broker.name(), kafka ? "Kafka Streams" : "Weir streams");
        Map<String, Double> figures = new LinkedHashMap<>(new StreamsCase(c, broker.bootstrapServers(), workDir, cmd, kafka)
            .run(runName));
        figures.put("broker CPU s", broker.cpuSeconds() - cpuBefore);
        figures.put("broker RSS MB", broker.rssBytes() / (1024.0 * 1024.0));
        System.err.println("    " + figures);
        return new Measurement(c.label(), broker.name(), "streams", round, figures);
    }

    private static void addProps(List<String> args, String flag, List<String> props) {
        if (!props.isEmpty()) {
            args.add(flag);
            args.addAll(props);
        }
    }

    private List<String> runTool(Class<?> main, List<String> args) throws Exception {
        Path out = workDir.resolve("run-" + (++runCounter) + ".out");
        return awaitTool(startTool(main, args, out), out);
    }

    private Process startTool(Class<?> main, List<String> args, Path out) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(clientHeapOpts.trim().split("\\s+")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(args);
        Files.writeString(out, String.join(" ", cmd) + "\n");
        return new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile())).start();
    }

    private static List<String> awaitTool(Process process, Path out) throws Exception {
        if (!process.waitFor(60, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IOException("tool timed out; see " + out);
        }
        List<String> lines = Files.readAllLines(out);
        if (process.exitValue() != 0) {
            throw new IOException("tool exited with " + process.exitValue() + "; see " + out + ":\n"
                + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
        }
        return lines;
    }

    private List<Path> scenarioFiles() throws IOException {
        Path dir = weirHome.resolve("bench/scenarios");
        List<Path> files = new ArrayList<>();
        if (scenarios.isEmpty()) {
            try (var list = Files.list(dir)) {
                list.filter(p -> p.toString().endsWith(".properties")).sorted().forEach(files::add);
            }
            return files;
        }
        for (String s : scenarios) {
            Path p = Path.of(s);
            if (!Files.isRegularFile(p)) {
                p = dir.resolve(s.endsWith(".properties") ? s : s + ".properties");
            }
            if (!Files.isRegularFile(p)) {
                throw new CommandLine.ParameterException(new CommandLine(this), "no scenario " + s + " (looked in " + dir + ")");
            }
            files.add(p);
        }
        return files;
    }

    private String kafkaClasspath() throws IOException {
        if (kafkaClasspathFile == null) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--kafka-classpath-file is needed for the kafka broker");
        }
        return Files.readString(kafkaClasspathFile).trim();
    }

    private String commandLine() {
        return command;
    }
}
