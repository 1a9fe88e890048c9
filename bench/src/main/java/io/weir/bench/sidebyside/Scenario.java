package io.weir.bench.sidebyside;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * A named workload from {@code bench/scenarios/NAME.properties}.
 *
 * <pre>
 * type=producer            producer: produce (then consume the same data when consume=true); e2e: fixed-rate latency;
 *                          streams: a stream job, Weir streams on Weir vs Kafka Streams on Kafka (keys: {@link StreamsCase})
 * record.size=100          value bytes
 * num.records=2000000      records per producer per run
 * partitions=6
 * producers=1              concurrent producer processes (records/s is their sum, latencies their worst)
 * throughput=-1            records/s per producer; -1 = unthrottled
 * consume=true             then read the topic back with the consumer tool
 * producer.KEY=VALUE       producer client properties (acks, batch.size, linger.ms, compression.type, ...)
 * consumer.KEY=VALUE       consumer client properties
 * trace.slow.ms=0          e2e: print each poll/ack older than this to the tool's output (--keep-work-dir keeps it)
 * transaction.duration.ms=0  &gt; 0: the producers commit a transaction every this many ms (each its own
 *                          transactional.id); 0 or absent: no transactions. {@code sweep.transaction.duration.ms=0,100}
 *                          runs a transactional case and its non-transactional twin, and the report gives their ratio
 * sweep.KEY=v1,v2,...      run one case per value (several sweep keys: every combination)
 * cluster.size=1           brokers per system: 1 = one Weir broker vs one Kafka node; 3 = three Weir brokers on one
 *                          ZooKeeper vs a three-node Kafka KRaft cluster (not sweepable: it picks what is started)
 * replication.factor=1     replication factor of the case's topic
 * topic.KEY=VALUE          topic configs of the case's topic (e.g. topic.min.insync.replicas=2)
 * failover.kill.after.ms   present: a failover case. One producer sends at a steady {@code throughput} records/s,
 *                          round-robin over the partitions; once every partition has acknowledged a record, the
 *                          bench waits this long, then SIGKILLs the broker leading partition 0 and keeps producing for
 *                          failover.observe.ms (default 60000); num.records is not used. The killed broker is
 *                          restarted afterwards (same log dir) and the next run waits until Metadata lists it again.
 * </pre>
 */
public record Scenario(String name, String description, Map<String, String> settings) {
    /** The scenario key that makes a case transactional (see the class comment). */
    public static final String TRANSACTION_DURATION_MS = "transaction.duration.ms";
    /** The scenario key that sizes the clusters (see the class comment). */
    public static final String CLUSTER_SIZE = "cluster.size";
    /** The scenario key that makes a case a failover case (see the class comment). */
    public static final String FAILOVER_KILL_AFTER_MS = "failover.kill.after.ms";

    /** Brokers per system this scenario runs against (1 unless {@code cluster.size} says otherwise). */
    public int clusterSize() {
        int size = Integer.parseInt(settings.getOrDefault(CLUSTER_SIZE, "1"));
        if (size < 1) {
            throw new IllegalArgumentException(CLUSTER_SIZE + " must be at least 1: " + size);
        }
        return size;
    }

    public static Scenario load(Path file, Map<String, String> overrides) throws IOException {
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            props.load(reader);
        }
        Map<String, String> settings = new TreeMap<>();
        for (String key : props.stringPropertyNames()) {
            settings.put(key, props.getProperty(key).trim());
        }
        settings.putAll(overrides);
        String fileName = file.getFileName().toString().replaceFirst("\\.properties$", "");
        String name = settings.getOrDefault("name", fileName);
        return new Scenario(name, settings.getOrDefault("description", ""), settings);
    }

    /** One concrete run of the scenario: the sweep keys replaced by one value each. */
    public record Case(String label, Map<String, String> settings) {
        public String type() {
            return settings.getOrDefault("type", "producer");
        }

        public int recordSize() {
            return Integer.parseInt(settings.getOrDefault("record.size", "100"));
        }

        public long numRecords() {
            return Long.parseLong(settings.getOrDefault("num.records", "1000000"));
        }

        public int partitions() {
            return Integer.parseInt(settings.getOrDefault("partitions", "1"));
        }

        public int producers() {
            return Integer.parseInt(settings.getOrDefault("producers", "1"));
        }

        public String throughput() {
            return settings.getOrDefault("throughput", "-1");
        }

        public boolean consume() {
            return Boolean.parseBoolean(settings.getOrDefault("consume", "true"));
        }

        /** The transaction duration of this case's producers in ms; 0 when the case is not transactional. */
        public long transactionDurationMs() {
            long ms = Long.parseLong(settings.getOrDefault(TRANSACTION_DURATION_MS, "0"));
            if (ms < 0) {
                throw new IllegalArgumentException(TRANSACTION_DURATION_MS + " must be 0 (no transactions) or positive: " + ms);
            }
            return ms;
        }

        public boolean transactional() {
            return transactionDurationMs() > 0;
        }

        public short replicationFactor() {
            return Short.parseShort(settings.getOrDefault("replication.factor", "1"));
        }

        /** The topic configs of this case's topic ({@code topic.KEY=VALUE}). */
        public Map<String, String> topicConfigs() {
            Map<String, String> out = new TreeMap<>();
            settings.forEach((k, v) -> {
                if (k.startsWith("topic.")) {
                    out.put(k.substring("topic.".length()), v);
                }
            });
            return out;
        }

        /** Whether this is a failover case (it has {@code failover.kill.after.ms}). */
        public boolean failover() {
            return settings.containsKey(FAILOVER_KILL_AFTER_MS);
        }

        public long failoverKillAfterMs() {
            return Long.parseLong(settings.get(FAILOVER_KILL_AFTER_MS));
        }

        public long failoverObserveMs() {
            return Long.parseLong(settings.getOrDefault("failover.observe.ms", "60000"));
        }

        public List<String> clientProps(String prefix) {
            List<String> out = new ArrayList<>();
            settings.forEach((k, v) -> {
                if (k.startsWith(prefix + ".")) {
                    out.add(k.substring(prefix.length() + 1) + "=" + v);
                }
            });
            return out;
        }

        public String slug() {
            return label.replaceAll("[^A-Za-z0-9]+", "-").replaceAll("(^-|-$)", "").toLowerCase();
        }
    }

    public List<Case> cases() {
        Map<String, String> base = new TreeMap<>();
        Map<String, String[]> sweeps = new LinkedHashMap<>();
        settings.forEach((k, v) -> {
            if (k.equals("sweep." + CLUSTER_SIZE)) {
                throw new IllegalArgumentException(CLUSTER_SIZE + " cannot be swept: run the sizes as separate scenarios");
            }
            if (k.startsWith("sweep.")) {
                sweeps.put(k.substring("sweep.".length()), v.split("\\s*,\\s*"));
            } else {
                base.put(k, v);
            }
        });
        List<Case> cases = new ArrayList<>();
        expand(new ArrayList<>(sweeps.entrySet()), 0, base, "", cases);
        return cases;
    }

    /**
     * The case that differs from {@code c} only by not being transactional (its
     * {@code transaction.duration.ms} 0 or absent), if the scenario has one: the baseline of a
     * transactional case's cost. Empty for a case that is not transactional itself.
     */
    public Optional<Case> nonTransactionalTwin(Case c) {
        if (!c.transactional()) {
            return Optional.empty();
        }
        Map<String, String> wanted = new TreeMap<>(c.settings());
        wanted.remove(TRANSACTION_DURATION_MS);
        for (Case other : cases()) {
            Map<String, String> theirs = new TreeMap<>(other.settings());
            theirs.remove(TRANSACTION_DURATION_MS);
            if (!other.transactional() && theirs.equals(wanted)) {
                return Optional.of(other);
            }
        }
        return Optional.empty();
    }

    private void expand(List<Map.Entry<String, String[]>> sweeps, int i, Map<String, String> current,
                        String label, List<Case> out) {
        if (i == sweeps.size()) {
            out.add(new Case(label.isEmpty() ? name : name + " " + label.trim(), new TreeMap<>(current)));
            return;
        }
        String key = sweeps.get(i).getKey();
        String shortKey = key.startsWith("producer.") ? key.substring("producer.".length()) : key;
        for (String value : sweeps.get(i).getValue()) {
            Map<String, String> next = new TreeMap<>(current);
            next.put(key, value);
            expand(sweeps, i + 1, next, label + " " + shortKey + "=" + value, out);
        }
    }
}
