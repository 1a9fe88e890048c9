package io.weir.bench.sidebyside;

import io.weir.bench.streams.JobArgs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One streams case ({@code type=streams}) against one broker: a stream job in its own JVM (Weir streams on the
 * Weir broker, Apache Kafka Streams on the Kafka broker; both exactly-once, same heap, same settings), fed and read
 * by Apache kafka-clients in the harness (read_committed). Scenario keys:
 *
 * <pre>
 * streams.job=wordcount     wordcount (lines of 5 words), window (tumbling 10 s window counts per key), or
 *                           table (the latest value per key, for restart-to-processing after SIGKILL)
 * num.records=200000        records loaded before the job starts (wordcount, window): records/s = these over the
 *                           time from the job's RUNNING to the output holding every one of them
 * latency.rate=2000         then records/s sent for latency.seconds while the job runs: end-to-end latency is output
 * latency.seconds=20        arrival (wall clock) minus the output record's timestamp (its input record's send time)
 * vocabulary=10000          wordcount: distinct words; window: keys (window.keys=1000)
 * state.keys=50000          table: keys loaded (the store holds state.keys x value.size bytes; the 1 GB is
 * value.size=1000           state.keys=1000000 with value.size=1000)
 * streams.kafka.transactional.statestores=false   Kafka Streams' enable.transactional.statestores (Kafka only)
 * restart.state=keep        table: the restart keeps the state directory (keep) or gets an empty one (new: a new host)
 * streams.weir.snapshots=false   table: Weir publishes store snapshots (state.snapshot.dir, every
 *                          streams.weir.snapshot.interval.ms=5000) that a new host starts from (Weir only)
 * streams.threads=1, streams.commit.interval.ms=100, streams.heap=-Xmx512m, partitions=2
 * </pre>
 *
 * The table case loads state.keys records, waits until the output shows every key and then one more record (so the
 * load is not the job's last transaction, which a SIGKILL may leave committed on the broker but not yet in Weir's
 * store), kills the job with SIGKILL and
 * starts it again on the same state directory at once with one new record sent: restart-to-processing is the time
 * from that restart to the new record's output (JVM start, group join, restore, processing and commit included);
 * "records restored" is what the restarted job counted itself (Weir's restore metrics, Kafka Streams' restore
 * listener). Both jobs use a {@value #SESSION_TIMEOUT_MS} ms group session. Kafka Streams' restart (a new dynamic
 * member) includes the wait for the killed member's session to expire before the group rebalances; Weir streams'
 * threads are static members by default (group.instance.id from the process id in the state directory), so its
 * restart replaces the killed members at once.
 */
public final class StreamsCase {
    /** Both jobs' group session timeout: the smallest a Kafka 4.4 broker accepts, so a restart waits the least. */
    static final String SESSION_TIMEOUT_MS = "6000";

    private final String bootstrapServers;
    private final Path workDir;
    /** java, heap, -cp, classpath, main class: the job's command before its arguments. */
    private final List<String> jobCommand;
    private final boolean kafkaStreams;
    private final Scenario.Case settings;

    /**
     * @param jobCommand the job's command line up to its arguments (java, options, -cp, classpath, main class)
     * @param kafkaStreams whether the job is Kafka Streams (it then takes --transactional-statestores)
     */
    public StreamsCase(Scenario.Case settings, String bootstrapServers, Path workDir, List<String> jobCommand,
                       boolean kafkaStreams) {
        this.settings = settings;
        this.bootstrapServers = bootstrapServers;
        this.workDir = workDir;
        this.jobCommand = List.copyOf(jobCommand);
        this.kafkaStreams = kafkaStreams;
    }

    private String setting(String key, String defaultValue) {
        return settings.settings().getOrDefault(key, defaultValue);
    }

    private long longSetting(String key, long defaultValue) {
        return Long.parseLong(setting(key, Long.toString(defaultValue)));
    }

    /** Runs the case under the given unique name (topics, application id, state directory); returns its figures. */
    public Map<String, Double> run(String runName) throws Exception {
        String job = setting("streams.job", "wordcount");
        int partitions = settings.partitions();
        String input = runName + "-in";
        String output = runName + "-out";
        // each topic only once every partition has a leader: a kafka-clients idempotent producer that sent into a
        // just-created Kafka topic got NOT_LEADER_OR_FOLLOWER, then looped on OUT_OF_ORDER_SEQUENCE_NUMBER (the load hung)
        for (String topic : List.of(input, output)) {
            BrokerProcess.createTopic(Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers)),
                topic, partitions, (short) 1, Map.of());
        }
        Path stateDir = workDir.resolve(runName + "-state");
        Files.createDirectories(stateDir);
        try {
            return job.equals("table") ? runRestart(runName, input, output, stateDir)
                : runThroughputAndLatency(job, runName, input, output, stateDir);
        } finally {
            BrokerProcess.deleteTree(stateDir);
            BrokerProcess.deleteTree(workDir.resolve(runName + "-snapshots"));
        }
    }

    // ---- wordcount and window: records/s over a preloaded backlog, then e2e latency at a fixed rate

    private Map<String, Double> runThroughputAndLatency(String job, String runName, String input, String output,
                                                        Path stateDir) throws Exception {
        long numRecords = settings.numRecords();
        long vocabulary = longSetting("vocabulary", job.equals("wordcount") ? 10_000 : 1_000);
        long rate = longSetting("latency.rate", 2_000);
        long seconds = longSetting("latency.seconds", 20);
        Map<String, Double> figures = new LinkedHashMap<>();
        try (KafkaProducer<String, String> producer = producer(); OutputReader reader = new OutputReader(output)) {
            long expected = 0;
            for (long i = 0; i < numRecords; i++) {
                expected += send(producer, job, input, i, vocabulary);
            }
            producer.flush();
            Path log = workDir.resolve(runName + "-job.out");
            long startMs = System.currentTimeMillis();
            Process process = startJob(job, runName, input, output, stateDir, log);
            try {
                reader.awaitTotal(expected, process, log, startMs + TimeUnit.MINUTES.toMillis(30));
                long doneMs = reader.lastArrivalMs;
                long runningMs = runningSince(log, startMs);
                figures.put("records/s", numRecords * 1000.0 / Math.max(1, doneMs - runningMs));
                figures.put("job start to RUNNING ms", (double) (runningMs - startMs));

                // the latency phase: a fixed rate from another thread while this one reads the output at once,
                // outputs stamped after the phase's start
                long phaseStartMs = System.currentTimeMillis();
                reader.latencyFromMs = phaseStartMs;
                long total = rate * seconds;
                long base = numRecords;
                long[] added = new long[1];
                Thread sender = new Thread(() -> {
                    long next = System.nanoTime();
                    long intervalNs = 1_000_000_000L / Math.max(1, rate);
                    for (long i = 0; i < total; i++) {
                        added[0] += send(producer, job, input, base + i, vocabulary);
                        next += intervalNs;
                        long waitNs = next - System.nanoTime();
                        if (waitNs > 0) {
                            java.util.concurrent.locks.LockSupport.parkNanos(waitNs);
                        }
                    }
                    producer.flush();
                }, "streams-bench-sender");
                sender.start();
                while (sender.isAlive()) {
                    reader.pollOnce();
                }
                sender.join();
                expected += added[0];
                reader.awaitTotal(expected, process, log, System.currentTimeMillis() + TimeUnit.MINUTES.toMillis(10));
                List<Long> latencies = reader.latencies;
                Collections.sort(latencies);
                if (!latencies.isEmpty()) {
                    figures.put("e2e p50 ms", (double) percentile(latencies, 0.50));
                    figures.put("e2e p99 ms", (double) percentile(latencies, 0.99));
                    figures.put("e2e max ms", (double) latencies.get(latencies.size() - 1));
                }
                figures.put("output records", (double) reader.outputRecords);
            } finally {
                stop(process);
            }
        }
        return figures;
    }

    /** Sends record {@code i} of the job's input; returns what it adds to the output's total. */
    private static long send(KafkaProducer<String, String> producer, String job, String input, long i, long vocabulary) {
        if (job.equals("wordcount")) {
            StringBuilder line = new StringBuilder();
            for (int w = 0; w < 5; w++) {
                if (w > 0) {
                    line.append(' ');
                }
                line.append('w').append(Math.floorMod((i * 5 + w) * 7919L, vocabulary));
            }
            producer.send(new ProducerRecord<>(input, "line-" + i, line.toString()));
            return 5;
        }
        producer.send(new ProducerRecord<>(input, "k" + (i % vocabulary), "x"));
        return 1;
    }

    // ---- table: restart-to-processing after SIGKILL

    private Map<String, Double> runRestart(String runName, String input, String output, Path stateDir) throws Exception {
        long keys = longSetting("state.keys", 50_000);
        int valueSize = (int) longSetting("value.size", 1_000);
        Map<String, Double> figures = new LinkedHashMap<>();
        Random random = new Random(42);
        try (KafkaProducer<String, String> producer = producer(); OutputReader reader = new OutputReader(output)) {
            char[] value = new char[valueSize];
            for (long i = 0; i < keys; i++) {
                for (int c = 0; c < valueSize; c++) {
                    value[c] = (char) ('a' + random.nextInt(26));   // little for LZ4 to take: the store holds ~ keys x size
                }
                producer.send(new ProducerRecord<>(input, "key-" + i, new String(value)));
            }
            producer.flush();
            Path log = workDir.resolve(runName + "-job.out");
            long startMs = System.currentTimeMillis();
            Process first = startJob("table", runName, input, output, stateDir, log);
            try {
                reader.awaitKeys(keys, first, log, startMs + TimeUnit.MINUTES.toMillis(60));
                long runningMs = runningSince(log, startMs);
                figures.put("load records/s", keys * 1000.0 / Math.max(1, reader.lastArrivalMs - runningMs));
                figures.put("state dir MB", directoryBytes(stateDir) / (1024.0 * 1024.0));
                // one more record through the job before the kill, so the load is not the job's last transaction:
                // a transaction the broker committed may not be in the store yet (Weir writes its stores right
                // after the broker commit), and a kill in that window would replay the whole load by design.
                // Kafka Streams restores its whole changelog after a SIGKILL under exactly-once either way.
                String settled = "settled-" + runName;
                producer.send(new ProducerRecord<>(input, settled, "m"));
                producer.flush();
                reader.awaitKey(settled, first, log, startMs + TimeUnit.MINUTES.toMillis(60));
            } finally {
                first.destroyForcibly();   // SIGKILL
                first.waitFor(60, TimeUnit.SECONDS);
            }
            Path log2 = workDir.resolve(runName + "-job-restarted.out");
            boolean newHost = setting("restart.state", "keep").equals("new");
            Path restartDir = newHost ? workDir.resolve(runName + "-state-new-host") : stateDir;
            Files.createDirectories(restartDir);
            long restartMs = System.currentTimeMillis();
            Process second = startJob("table", runName, input, output, restartDir, log2);
            try {
                String marker = "marker-" + runName;
                producer.send(new ProducerRecord<>(input, marker, "m"));
                producer.flush();
                long seenMs = reader.awaitKey(marker, second, log2, restartMs + TimeUnit.MINUTES.toMillis(60));
                figures.put("restart-to-processing ms", (double) (seenMs - restartMs));
                figures.put("restart to RUNNING ms", (double) (runningSince(log2, restartMs) - restartMs));
                figures.put("records restored", (double) restoredRecords(log2));
            } finally {
                stop(second);
                if (newHost) {
                    BrokerProcess.deleteTree(restartDir);
                }
            }
        }
        return figures;
    }

    // ---- the job process

    private Process startJob(String job, String runName, String input, String output, Path stateDir, Path log)
        throws IOException {
        List<String> cmd = new ArrayList<>(jobCommand);
        cmd.addAll(List.of("--job", job, "--bootstrap-server", bootstrapServers, "--application-id", runName,
            "--input", input, "--output", output, "--state-dir", stateDir.toString(),
            "--threads", setting("streams.threads", "1"),
            "--commit-interval-ms", setting("streams.commit.interval.ms", "100"),
            "--session-timeout-ms", SESSION_TIMEOUT_MS));
        if (kafkaStreams) {
            cmd.addAll(List.of("--transactional-statestores", setting("streams.kafka.transactional.statestores", "false")));
        } else if (Boolean.parseBoolean(setting("streams.weir.snapshots", "false"))) {
            cmd.addAll(List.of("--snapshot-dir", workDir.resolve(runName + "-snapshots").toString(),
                "--snapshot-interval-ms", setting("streams.weir.snapshot.interval.ms", "5000")));
        }
        Files.writeString(log, String.join(" ", cmd) + "\n");
        return new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** The wall-clock ms the job printed when it first reached RUNNING; {@code fallback} if it has not. */
    private static long runningSince(Path log, long fallback) throws IOException {
        try (Stream<String> lines = Files.lines(log)) {
            return lines.filter(l -> l.startsWith(JobArgs.RUNNING_LINE)).findFirst()
                .map(l -> Long.parseLong(l.substring(JobArgs.RUNNING_LINE.length()).trim())).orElse(fallback);
        }
    }

    /** The changelog records the job said it restored before it first reached RUNNING (-1 if it did not say). */
    private static long restoredRecords(Path log) throws IOException {
        try (Stream<String> lines = Files.lines(log)) {
            return lines.filter(l -> l.startsWith(JobArgs.RESTORED_LINE)).findFirst()
                .map(l -> Long.parseLong(l.substring(JobArgs.RESTORED_LINE.length()).trim())).orElse(-1L);
        }
    }

    private static void stop(Process process) throws InterruptedException {
        process.destroy();   // SIGTERM: the job closes cleanly
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private KafkaProducer<String, String> producer() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("linger.ms", "5");
        p.put("batch.size", "65536");
        p.put("acks", "all");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static long percentile(List<Long> sorted, double p) {
        int i = (int) Math.ceil(p * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    private static long directoryBytes(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    /**
     * Reads the job's output topic (read_committed) from the beginning: each key's latest value, their sum, the keys
     * seen, and from {@link #latencyFromMs} on, each output record's latency (arrival minus its timestamp).
     */
    private final class OutputReader implements AutoCloseable {
        final KafkaConsumer<String, Long> consumer;
        final Map<String, Long> latest = new HashMap<>();
        final Set<String> keys = new HashSet<>();
        final List<Long> latencies = new ArrayList<>();
        long sum;
        long outputRecords;
        long lastArrivalMs;
        long latencyFromMs = Long.MAX_VALUE;

        OutputReader(String topic) {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrapServers);
            p.put("isolation.level", "read_committed");
            p.put("enable.auto.commit", "false");
            p.put("fetch.max.wait.ms", "50");
            p.put("max.poll.records", "10000");
            consumer = new KafkaConsumer<>(p, new StringDeserializer(), new LongDeserializer());
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < settings.partitions(); i++) {
                tps.add(new TopicPartition(topic, i));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
        }

        void pollOnce() {
            for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(20))) {
                long now = System.currentTimeMillis();
                outputRecords++;
                lastArrivalMs = now;
                Long old = latest.put(r.key(), r.value());
                sum += r.value() - (old == null ? 0 : old);
                keys.add(r.key());
                if (r.timestamp() >= latencyFromMs) {
                    latencies.add(now - r.timestamp());
                }
            }
        }

        void awaitTotal(long total, Process job, Path log, long deadlineMs) throws IOException {
            while (sum < total) {
                check(job, log, deadlineMs, "the output's counts to reach " + total + " (at " + sum + ")");
                pollOnce();
            }
        }

        void awaitKeys(long n, Process job, Path log, long deadlineMs) throws IOException {
            while (keys.size() < n) {
                check(job, log, deadlineMs, n + " keys in the output (at " + keys.size() + ")");
                pollOnce();
            }
        }

        long awaitKey(String key, Process job, Path log, long deadlineMs) throws IOException {
            while (!keys.contains(key)) {
                check(job, log, deadlineMs, "the key " + key + " in the output");
                pollOnce();
            }
            return lastArrivalMs;
        }

        private void check(Process job, Path log, long deadlineMs, String what) throws IOException {
            if (!job.isAlive()) {
                throw new IOException("the job exited (" + job.exitValue() + ") while waiting for " + what + "; see " + log);
            }
            if (System.currentTimeMillis() > deadlineMs) {
                throw new IOException("timed out waiting for " + what + "; see " + log);
            }
        }

        @Override
        public void close() {
            consumer.close(Duration.ofSeconds(5));
        }
    }
}
