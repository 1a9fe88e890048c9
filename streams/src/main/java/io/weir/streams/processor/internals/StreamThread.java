package io.weir.streams.processor.internals;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.record.Header;
import io.weir.consumer.ConsumerRebalanceListener;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.ConsumerRecords;
import io.weir.consumer.Deserializers;
import io.weir.consumer.OffsetAndMetadata;
import io.weir.consumer.WeirConsumer;
import io.weir.consumer.errors.WakeupException;
import io.weir.producer.ProducerFatalException;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.StreamsConfig;
import io.weir.streams.errors.ErrorHandlerContext;
import io.weir.streams.errors.ProductionExceptionHandler;
import io.weir.streams.errors.StreamsException;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.TaskId;
import io.weir.streams.state.StoreBuilder;
import io.weir.streams.state.internals.RestoreProgress;
import io.weir.streams.state.internals.RocksDbBytesStore;
import io.weir.streams.state.internals.StoreCorruptedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One stream thread of a running job: a consumer in the job's group (group id = application id,
 * read_committed under exactly-once, no auto commit) subscribed to the topology's source topics, the
 * tasks of the partitions it is assigned (task id = {@code <subtopology>_<partition>}), one producer
 * that every task's output, repartition and changelog records go through, and a restore consumer.
 *
 * <p>Exactly-once commit (DESIGN.md, "Exactly-once"): the thread's transactional producer opens a
 * transaction at the first record after a commit; every {@code commit.interval.ms} (or as soon as a task's
 * uncommitted store writes exceed {@code statestore.uncommitted.max.bytes}, or a processor asks) it flushes
 * the tasks' record caches (their updates go out as output and changelog records of this same transaction),
 * flushes the producer, adds the tasks' input offsets with {@code sendOffsetsToTransaction} and commits. Only after the broker
 * commit succeeded does each store apply its writes with its changelog end offset and the input offsets in
 * one atomic write. An abortable failure aborts the transaction, discards every store's uncommitted writes
 * and restarts the tasks from the group's committed offsets; a fenced producer closes every task, gets a new
 * producer and rejoins the group. Under at-least-once the producer is plain, and the consumer commits
 * synchronously after the stores.
 *
 * <p>Restore: a new task opens its stores; each logged store replays its changelog from its committed
 * changelog offset (only the tail, after any stop, clean or not) or from the beginning (a new store), with a
 * read_committed restore consumer, in chunks of at most one poll between polls of the main consumer, while
 * the task's input partitions are paused: restoring never lets the member miss {@code max.poll.interval.ms}.
 * A corrupt store ({@link StoreCorruptedException}) is wiped (logged with why) and restored in full.
 *
 * <p>Assignment: the {@link StreamsPartitionAssignor} (tasks, sticky, balanced over instances and threads,
 * standby replicas). A standby task opens its stores (its processors never run) and follows their changelogs
 * with the restore consumer (read_committed), committing each chunk it applies with the changelog position;
 * when it is promoted, the active task restores only the tail after that position. While the assignment
 * holds warm-up replicas back, the thread asks for a probing rebalance every {@code probing.rebalance.interval.ms}.
 *
 * <p>Rebalances are cooperative (KIP-429) unless {@code upgrade.from} names a version before 2.4: the thread keeps
 * processing its tasks while the group rebalances (it only skips commits until the new generation's assignment
 * arrives), and the rebalance listener commits and closes only the tasks revoked from it. Those reach their new owner
 * in a follow-up rebalance that the revoking member starts once its commit is done, so under exactly-once the new
 * owner reads the revoked task's input from that commit.
 */
public final class StreamThread extends Thread {
    private static final Logger log = LoggerFactory.getLogger(StreamThread.class);

    /** A thread's life. */
    public enum State { CREATED, STARTING, PARTITIONS_ASSIGNED, RUNNING, PENDING_SHUTDOWN, DEAD }

    /** What the thread needs from its job. */
    public record Settings(String applicationId, InternalTopologyBuilder builder, Map<String, Object> configs,
                           Map<String, Object> consumerConfigs, Map<String, Object> producerConfigs,
                           boolean exactlyOnce, long commitIntervalMs, long maxUncommittedBytes, Path appStateDir,
                           String transactionalIdPrefix, Time time, String processId, String applicationServer,
                           int numStandbyReplicas, Map<String, StateStore> globalStores) {
        /** Settings for a topology without global stores. */
        public Settings(String applicationId, InternalTopologyBuilder builder, Map<String, Object> configs,
                        Map<String, Object> consumerConfigs, Map<String, Object> producerConfigs,
                        boolean exactlyOnce, long commitIntervalMs, long maxUncommittedBytes, Path appStateDir,
                        String transactionalIdPrefix, Time time, String processId, String applicationServer,
                        int numStandbyReplicas) {
            this(applicationId, builder, configs, consumerConfigs, producerConfigs, exactlyOnce, commitIntervalMs,
                maxUncommittedBytes, appStateDir, transactionalIdPrefix, time, processId, applicationServer,
                numStandbyReplicas, Map.of());
        }
    }

    /** Callbacks to the owning {@code WeirStreams}. */
    public interface Observer {
        void onStateChange(StreamThread thread, State oldState, State newState);

        /** A store's restore started (called again by reference as it progresses: the object is live). */
        void onRestoreStarted(RestoreProgress progress);

        /** The thread ended: {@code failure} is null after a clean shutdown. */
        void onExit(StreamThread thread, Throwable failure);

        /** The group's assignment says an instance asked the whole application to shut down. */
        default void onShutdownApplicationRequested(StreamThread thread) {
        }
    }

    private final int index;
    private final Settings settings;
    private final Observer observer;
    private final Map<String, Integer> subtopologyByTopic;
    private final Set<String> sourceTopics;
    private final Collector collector = new Collector();
    private final Map<TaskId, StreamTask> tasks = new TreeMap<>();
    private final Map<TopicPartition, StreamTask> taskByPartition = new HashMap<>();
    private final Map<TaskId, Set<TopicPartition>> partitionsByTask = new HashMap<>();
    /** Changelog partitions being restored, and the tasks waiting for them. */
    private final Map<TopicPartition, Restoring> restoring = new LinkedHashMap<>();
    private final Set<TaskId> restoringTasks = new HashSet<>();
    private final StreamsPartitionAssignor assignor;
    /** Standby tasks: stores only, kept up to date from their changelogs; and the changelogs they follow. */
    private final Map<TaskId, StreamTask> standbys = new TreeMap<>();
    private final Map<TopicPartition, StandbyStore> standbyChangelogs = new LinkedHashMap<>();
    /** Summed committed changelog offsets of the tasks this thread held (reported to the assignor). */
    private final Map<TaskId, Long> knownOffsetSums = new ConcurrentHashMap<>();
    /** What the stores of task directories this thread has not held committed, read from disk once per directory. */
    private final Map<TaskId, Long> storedOffsetSums = new ConcurrentHashMap<>();
    /** How often each active task was created and closed (clean or dirty) on this thread: the task lifecycle. */
    private final Map<TaskId, Long> activeOpens = new ConcurrentHashMap<>();
    private final Map<TaskId, Long> activeCloses = new ConcurrentHashMap<>();
    private final AtomicLong standbyRecords = new AtomicLong();
    private final Map<TopicPartition, Long> standbyPositions = new ConcurrentHashMap<>();
    /** The stores of the restored active tasks by name, published for interactive queries. */
    private volatile Map<String, List<StateStore>> queryable = Map.of();
    private volatile State state = State.CREATED;
    private volatile boolean running = true;
    private WeirProducer<byte[], byte[]> producer;
    private WeirConsumer<byte[], byte[]> consumer;
    private WeirConsumer<byte[], byte[]> restoreConsumer;
    private boolean transactionOpen;
    private long transactionStartMs;
    /** Partitions paused because a rebalance kept the transaction open too long (see transactionTooOldToExtend). */
    private final Set<TopicPartition> pausedForRebalance = new HashSet<>();
    private long lastCommitMs;
    private final RepartitionPurger purger;
    private final java.util.concurrent.atomic.LongAdder droppedRecords = new java.util.concurrent.atomic.LongAdder();
    private final long probingIntervalMs;
    private final long transactionTimeoutMs;
    private long lastAssignedMs;
    /** The record cache of this thread's tasks: its share of {@code statestore.cache.max.bytes}. */
    private final ThreadCache cache;
    /** Store snapshots ({@code state.snapshot.dir}); null when the job takes none. */
    private final StoreSnapshots snapshots;
    /** The logged stores of each sub-topology (what a snapshot can bootstrap). */
    private final Map<Integer, Set<String>> loggedStoresBySubtopology = new HashMap<>();

    public StreamThread(int index, Settings settings, Observer observer) {
        super(settings.applicationId() + "-StreamThread-" + index);
        this.index = index;
        this.settings = settings;
        this.observer = observer;
        this.subtopologyByTopic = subtopologyByTopic(settings.builder());
        this.sourceTopics = Set.copyOf(subtopologyByTopic.keySet());
        Map<Integer, List<String>> topicsBySub = new TreeMap<>();
        subtopologyByTopic.forEach((t, sub) -> topicsBySub.computeIfAbsent(sub, k -> new ArrayList<>()).add(t));
        Set<Integer> stateful = new HashSet<>();
        storesBySubtopology(settings.builder()).forEach((sub, stores) -> {
            for (String st : stores) {
                StoreBuilder<?> sb = settings.builder().stores().get(st);
                if (sb != null && sb.loggingEnabled()) {
                    stateful.add(sub);
                    loggedStoresBySubtopology.computeIfAbsent(sub, k -> new java.util.TreeSet<>()).add(st);
                }
            }
        });
        this.snapshots = StoreSnapshots.fromConfigs(settings.configs(), settings.applicationId());
        this.assignor = new StreamsPartitionAssignor(settings.processId(), settings.applicationServer(), topicsBySub,
            stateful, settings.numStandbyReplicas(),
            longConfig(settings.configs(), ACCEPTABLE_RECOVERY_LAG_CONFIG, StreamsPartitionAssignor.DEFAULT_ACCEPTABLE_RECOVERY_LAG),
            (int) longConfig(settings.configs(), MAX_WARMUP_REPLICAS_CONFIG, StreamsPartitionAssignor.DEFAULT_MAX_WARMUP_REPLICAS),
            this::localTaskOffsets, assignorOptions(settings.configs()));
        this.assignor.onRebalanceStart(() -> {
            if (state == State.RUNNING) {
                setState(State.PARTITIONS_ASSIGNED);   // back to RUNNING once the assignment's tasks are in place
            }
        });
        this.transactionTimeoutMs = longConfig(settings.producerConfigs(), "transaction.timeout.ms", DEFAULT_TRANSACTION_TIMEOUT_MS);
        this.probingIntervalMs = longConfig(settings.configs(), PROBING_REBALANCE_INTERVAL_MS_CONFIG, 600_000L);
        long threads = Math.max(1, longConfig(settings.configs(), StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1));
        this.cache = new ThreadCache(StreamsConfig.cacheMaxBytes(settings.configs()) / threads);
        this.purger = new RepartitionPurger(RepartitionPurger.repartitionTopics(settings.builder()),
            RepartitionPurger.intervalMs(settings.configs()), () -> io.weir.admin.Admin.create(adminConfigs(settings.configs())),
            settings.time().milliseconds());
    }

    /** {@code bootstrap.servers} plus the {@code admin.}-prefixed keys, for the purger's admin client. */
    private static Map<String, Object> adminConfigs(Map<String, Object> configs) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", configs.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
        configs.forEach((k, v) -> {
            if (k.startsWith("admin.")) {
                c.put(k.substring("admin.".length()), v);
            }
        });
        return c;
    }

    /**
     * Asks every instance of the job to shut down (SHUTDOWN_APPLICATION): a short-lived member joins the group
     * with the shutdown request in its subscription userData; the leader's {@link StreamsPartitionAssignor} then
     * gives every member an empty assignment carrying {@link StreamsPartitionAssignor#ERROR_SHUTDOWN_APPLICATION},
     * and each stream thread that receives it stops and tells its instance to shut down. The signalling needs no
     * live stream thread on this instance (the one that failed may have been its only one). Returns whether the
     * request went through a rebalance within {@code timeout}.
     */
    public static boolean signalShutdownApplication(Settings settings, Duration timeout) {
        Map<String, Integer> byTopic = subtopologyByTopic(settings.builder());
        Map<Integer, List<String>> topicsBySub = new TreeMap<>();
        byTopic.forEach((t, sub) -> topicsBySub.computeIfAbsent(sub, k -> new ArrayList<>()).add(t));
        StreamsPartitionAssignor signaller = new StreamsPartitionAssignor(settings.processId() + "-shutdown",
            settings.applicationServer(), topicsBySub, Set.of(), 0, Map::of);
        signaller.requestShutdownApplication();
        Map<String, Object> configs = new HashMap<>(settings.consumerConfigs());
        configs.put("client.id", settings.applicationId() + "-" + settings.processId() + "-shutdown-signal");
        configs.remove("group.instance.id");   // a stream thread's static id: joining under it would fence that thread
        long deadline = System.nanoTime() + timeout.toNanos();
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(configs, new Deserializers.ByteArrayDeserializer(),
            new Deserializers.ByteArrayDeserializer(), List.of(signaller))) {
            c.subscribe(byTopic.keySet());
            while (signaller.lastAssignment().generation() < 0 && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(100));
            }
        }
        boolean done = signaller.lastAssignment().errorCode() == StreamsPartitionAssignor.ERROR_SHUTDOWN_APPLICATION;
        if (!done) {
            log.error("The shutdown request of application {} did not reach the group within {}", settings.applicationId(),
                timeout);
        }
        return done;
    }

    /** Kafka Streams' keys for warm-up replicas (read from the job's configs). */
    public static final String ACCEPTABLE_RECOVERY_LAG_CONFIG = "acceptable.recovery.lag";
    public static final String MAX_WARMUP_REPLICAS_CONFIG = "max.warmup.replicas";
    public static final String PROBING_REBALANCE_INTERVAL_MS_CONFIG = "probing.rebalance.interval.ms";
    /** The stream threads' producers' {@code transaction.timeout.ms} unless the job sets one (Kafka Streams' too). */
    private static final long DEFAULT_TRANSACTION_TIMEOUT_MS = 10_000;
    /** How soon a thread asks again after an assignment made without some source topic's metadata. */
    private static final long MISSING_TOPICS_REJOIN_MS = 1_000;

    /**
     * The assignor's rebalance protocol and rack awareness from the job's configs: cooperative unless
     * {@code upgrade.from} names a version before 2.4; {@code rack.aware.assignment.tags} and {@code client.tag.*}.
     */
    public static StreamsPartitionAssignor.Options assignorOptions(Map<String, Object> configs) {
        Object upgradeFrom = configs.get(StreamsConfig.UPGRADE_FROM_CONFIG);
        boolean cooperative = upgradeFrom == null || upgradeFrom.toString().isBlank()
            || !beforeCooperative(upgradeFrom.toString().trim());
        List<String> tagKeys = new ArrayList<>();
        Object tags = configs.get(StreamsConfig.RACK_AWARE_ASSIGNMENT_TAGS_CONFIG);
        if (tags != null) {
            for (String k : (tags instanceof Collection<?> c ? c.stream().map(String::valueOf).toList()
                : Arrays.asList(tags.toString().split(",")))) {
                if (!k.trim().isEmpty()) {
                    tagKeys.add(k.trim());
                }
            }
        }
        Map<String, String> clientTags = new TreeMap<>();
        configs.forEach((k, v) -> {
            if (k.startsWith(StreamsConfig.CLIENT_TAG_PREFIX) && v != null) {
                clientTags.put(k.substring(StreamsConfig.CLIENT_TAG_PREFIX.length()), v.toString());
            }
        });
        for (String k : tagKeys) {
            if (!clientTags.containsKey(k)) {
                log.warn("{} names the tag {} but this instance has no {}{}: its standbys cannot be spread by it",
                    StreamsConfig.RACK_AWARE_ASSIGNMENT_TAGS_CONFIG, k, StreamsConfig.CLIENT_TAG_PREFIX, k);
            }
        }
        return new StreamsPartitionAssignor.Options(cooperative, tagKeys, clientTags);
    }

    /** Whether an {@code upgrade.from} version is one before cooperative rebalancing (Kafka 2.4). */
    private static boolean beforeCooperative(String version) {
        String[] parts = version.split("\\.");
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return major < 2 || major == 2 && minor < 4;
        } catch (NumberFormatException e) {
            throw new io.weir.common.config.ConfigException(StreamsConfig.UPGRADE_FROM_CONFIG, version,
                "is not a Kafka version such as 2.3 or 3.9");
        }
    }

    private static long longConfig(Map<String, Object> configs, String key, long defaultValue) {
        Object v = configs.get(key);
        if (v == null) {
            return defaultValue;
        }
        try {
            long value = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
            if (value < 0) {
                throw new io.weir.common.config.ConfigException(key, v, "must not be negative");
            }
            return value;
        } catch (NumberFormatException e) {
            throw new io.weir.common.config.ConfigException(key, v, "is not a number");
        }
    }

    /** The stores each sub-topology's processors use. */
    public static Map<Integer, Set<String>> storesBySubtopology(InternalTopologyBuilder builder) {
        Map<Integer, Set<String>> result = new TreeMap<>();
        for (Map.Entry<Integer, List<String>> e : builder.subtopologies().entrySet()) {
            for (String node : e.getValue()) {
                if (builder.nodes().get(node) instanceof InternalTopologyBuilder.ProcessorDef p) {
                    result.computeIfAbsent(e.getKey(), k -> new java.util.TreeSet<>()).addAll(p.stores());
                }
            }
        }
        return result;
    }

    /** This thread's assignor (its last assignment names the group's hosts). */
    public StreamsPartitionAssignor assignor() {
        return assignor;
    }

    /** The stores of this thread's restored active tasks, by store name (safe from any thread). */
    public Map<String, List<StateStore>> queryableStores() {
        return queryable;
    }

    /** Store snapshots this thread published since it started ({@code state.snapshot.dir}). */
    public long snapshotsPublished() {
        StoreSnapshots s = snapshots;
        return s == null ? 0 : s.publishedCount();
    }

    /** How often each active task was created on this thread (a revoked task that comes back counts again). */
    public Map<TaskId, Long> activeTaskCreations() {
        return Map.copyOf(activeOpens);
    }

    /** How often each active task was closed on this thread: revoked, lost, restarted after an abort, shut down. */
    public Map<TaskId, Long> activeTaskClosures() {
        return Map.copyOf(activeCloses);
    }

    /** Changelog records applied to standby stores since the thread started. */
    public long standbyRecordsRestored() {
        return standbyRecords.get();
    }

    /** The changelog position each standby store has committed up to (safe from any thread). */
    public Map<TopicPartition, Long> standbyPositions() {
        return Map.copyOf(standbyPositions);
    }

    /**
     * The task directories of this instance, with their changelog offset sums (-1 unknown): what this thread knows
     * from the tasks it ran, else (once per directory) what the stores on disk committed. Without the latter, an
     * instance restarted on its state directory would report nothing for its own stores, and the assignor would keep
     * its tasks elsewhere as if it had to warm up from scratch, until a probing rebalance
     * ({@code probing.rebalance.interval.ms}, 10 minutes by default).
     */
    private Map<TaskId, Long> localTaskOffsets() {
        Map<TaskId, Long> out = new HashMap<>();
        try (java.util.stream.Stream<Path> dirs = Files.list(settings.appStateDir())) {
            dirs.filter(Files::isDirectory).forEach(d -> {
                try {
                    TaskId id = TaskId.parse(d.getFileName().toString());
                    Long known = knownOffsetSums.get(id);
                    out.put(id, known != null ? known : storedOffsetSums.computeIfAbsent(id, k -> storedOffsetSum(d)));
                } catch (IllegalArgumentException notATaskDir) {
                    // another file in the state directory
                }
            });
        } catch (IOException e) {
            log.debug("cannot list the state directory {}: {}", settings.appStateDir(), e.toString());
        }
        return out;
    }

    /** The summed committed changelog offsets of the RocksDB stores in a task directory; -1 if none can be read. */
    private long storedOffsetSum(Path taskDir) {
        Path rocks = taskDir.resolve(RocksDbBytesStore.ROCKSDB_DIR);
        if (!Files.isDirectory(rocks)) {
            return -1;
        }
        List<Map<TopicPartition, Long>> committed = new ArrayList<>();
        try (java.util.stream.Stream<Path> stores = Files.list(rocks)) {
            for (Path store : stores.filter(p -> Files.isDirectory(p) && !p.getFileName().toString().endsWith(".corrupted"))
                .toList()) {
                committed.add(RocksDbBytesStore.readCommittedOffsets(store));
            }
        } catch (IOException | RuntimeException e) {
            log.info("Stream thread {}: cannot read the committed offsets in {} ({}); reporting them as unknown",
                getName(), taskDir, e.toString());
            return -1;
        }
        return offsetSum(committed);
    }

    private static long changelogOffsetSum(StreamTask task) {
        List<Map<TopicPartition, Long>> committed = new ArrayList<>();
        for (StateStore st : task.stores().values()) {
            if (st instanceof TransactionalStateStore t) {
                committed.add(t.committedOffsets());
            }
        }
        long sum = offsetSum(committed);
        return sum < 0 ? 0 : sum;
    }

    /**
     * A task's changelog offset sum, what the assignor compares for the warm-up lag: each changelog partition
     * counted once, at the highest offset any of the task's stores committed for it; -1 if the stores name none.
     * Every store of an active task records the end offsets of all the task's changelogs at each commit, a standby
     * store only its own changelog's: summing every store's records would count a changelog once per store on an
     * active copy but once on a standby, so the owner of a task of N stores would look N times as far along as any
     * warm-up copy, which then never caught up and the task never moved.
     */
    static long offsetSum(Collection<Map<TopicPartition, Long>> committedByStore) {
        Map<TopicPartition, Long> byChangelog = new HashMap<>();
        for (Map<TopicPartition, Long> committed : committedByStore) {
            for (Map.Entry<TopicPartition, Long> e : committed.entrySet()) {
                if (e.getKey().topic().endsWith("-changelog")) {
                    byChangelog.merge(e.getKey(), e.getValue(), Math::max);
                }
            }
        }
        if (byChangelog.isEmpty()) {
            return -1;
        }
        long sum = 0;
        for (long offset : byChangelog.values()) {
            sum += offset;
        }
        return sum;
    }

    /** The sub-topology that reads each (resolved) source topic. */
    public static Map<String, Integer> subtopologyByTopic(InternalTopologyBuilder builder) {
        Map<String, Integer> result = new LinkedHashMap<>();
        for (Map.Entry<Integer, List<String>> e : builder.subtopologies().entrySet()) {
            for (String node : e.getValue()) {
                if (builder.nodes().get(node) instanceof InternalTopologyBuilder.SourceDef s) {
                    for (String t : s.topics()) {
                        result.put(builder.resolveTopic(t), e.getKey());
                    }
                }
            }
        }
        return result;
    }

    public int index() {
        return index;
    }

    public State state() {
        return state;
    }

    /** Asks the thread to commit, close its tasks and clients, and end; returns at once. */
    public void shutdown() {
        running = false;
        WeirConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    @Override
    public void run() {
        Throwable failure = null;
        try {
            setState(State.STARTING);
            restoreConsumer = new WeirConsumer<>(restoreConsumerConfigs(), new Deserializers.ByteArrayDeserializer(),
                new Deserializers.ByteArrayDeserializer());
            producer = newProducer();
            consumer = new WeirConsumer<>(settings.consumerConfigs(), new Deserializers.ByteArrayDeserializer(),
                new Deserializers.ByteArrayDeserializer(), List.of(assignor));
            consumer.subscribe(sourceTopics, new Listener());
            lastCommitMs = settings.time().milliseconds();
            while (running) {
                try {
                    runOnce();
                } catch (WakeupException e) {
                    if (running) {
                        throw e;
                    }
                } catch (TaskRetryException e) {
                    abortAndRestart(e);   // KIP-1065: the record is produced again when the tasks redo it
                }
            }
            setState(State.PENDING_SHUTDOWN);
            closeAllTasks(true);
        } catch (Throwable t) {
            failure = t;
            log.error("Stream thread {} failed; closing its tasks without committing", getName(), t);
            setState(State.PENDING_SHUTDOWN);
            try {
                closeAllTasks(false);
            } catch (RuntimeException e) {
                t.addSuppressed(e);
            }
        } finally {
            closeConsumer();
            closeQuietly(restoreConsumer);
            try {
                purger.close();
            } catch (RuntimeException ignored) {
                // closing anyway
            }
            if (producer != null) {
                try {
                    producer.close(Duration.ofSeconds(5));
                } catch (RuntimeException ignored) {
                    // closing anyway
                }
            }
            setState(State.DEAD);
            observer.onExit(this, failure);
        }
    }

    private WeirProducer<byte[], byte[]> newProducer() {
        Map<String, Object> p = new HashMap<>(settings.producerConfigs());
        if (settings.exactlyOnce()) {
            p.put("transactional.id", settings.transactionalIdPrefix() + "-" + index);
            p.putIfAbsent("transaction.timeout.ms", (int) DEFAULT_TRANSACTION_TIMEOUT_MS);
        }
        WeirProducer<byte[], byte[]> created = new WeirProducer<>(p, new Serializers.ByteArraySerializer(),
            new Serializers.ByteArraySerializer());
        if (settings.exactlyOnce()) {
            try {
                created.initTransactions();   // fences this id's earlier producer and aborts its open transaction
            } catch (RuntimeException e) {
                created.close(Duration.ZERO);
                throw e;
            }
        }
        return created;
    }

    private Map<String, Object> restoreConsumerConfigs() {
        Map<String, Object> c = new HashMap<>(settings.consumerConfigs());
        c.remove("group.id");
        c.remove("group.instance.id");
        c.put("enable.auto.commit", false);
        c.put("isolation.level", "read_committed");
        c.put("client.id", getName() + "-restore-consumer");
        // restoring reads whole changelogs: bigger polls than the main consumer's (Kafka Streams' default is 1000),
        // and bigger fetches per partition (a changelog of 1 KB values fills the 1 MiB default with 1,000 records)
        c.putIfAbsent("max.poll.records", 2000);
        c.putIfAbsent("max.partition.fetch.bytes", 8 << 20);
        return c;
    }

    private void runOnce() {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(restoring.isEmpty() ? 100 : 0));
        if (!restoring.isEmpty() || !standbyChangelogs.isEmpty()) {
            restoreChunk();
        }
        Set<TopicPartition> rewound = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            StreamTask task = taskByPartition.get(tp);
            if (task == null || rewound.contains(tp)) {
                continue;
            }
            if (restoringTasks.contains(task.id())) {
                // fetched before the partition was paused: read it again once the task is restored
                consumer.seek(tp, r.offset());
                rewound.add(tp);
                continue;
            }
            if (transactionTooOldToExtend()) {
                // a rebalance holds the commit back while the transaction nears its timeout: read it again after
                // the rebalance (the listener resumes the partition)
                consumer.seek(tp, r.offset());
                consumer.pause(List.of(tp));
                pausedForRebalance.add(tp);
                rewound.add(tp);
                continue;
            }
            ensureTransaction();
            task.process(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value(), Arrays.asList(r.headers()));
            task.maybePunctuateStreamTime();
            if (task.commitRequested() || task.uncommittedBytes() > settings.maxUncommittedBytes()) {
                // at once, not after the batch: statestore.uncommitted.max.bytes bounds a transaction's writes
                if (!commit()) {
                    return;   // the tasks restarted from their last commit: the rest of the batch is read again
                }
            }
        }
        for (StreamTask task : tasks.values()) {
            if (!restoringTasks.contains(task.id())) {
                task.maybePunctuateSystemTime();   // what it sends opens the transaction (collector.send)
            }
        }
        long now = settings.time().milliseconds();
        if (now - lastCommitMs >= settings.commitIntervalMs()) {
            commit();
        }
        if (assignor.lastAssignment() != StreamsPartitionAssignor.AssignmentInfo.NONE
            && !assignor.lastAssignment().partitionCounts().keySet().containsAll(sourceTopics)
            && now - lastAssignedMs >= MISSING_TOPICS_REJOIN_MS) {
            // the leader's metadata did not know every source topic yet (just created: the job's own repartition
            // topics, or its inputs), so their tasks went to nobody; look again once metadata has caught up
            lastAssignedMs = now;
            log.info("Stream thread {}: rebalancing again, the last assignment lacked source topics {}", getName(),
                sourceTopics.stream().filter(t -> !assignor.lastAssignment().partitionCounts().containsKey(t)).toList());
            assignor.requestFollowUpRebalance();
            consumer.enforceRebalance();
        } else if (assignor.lastAssignment().probingRebalanceNeeded() && now - lastAssignedMs >= probingIntervalMs) {
            // warm-up replicas were placed: let the group look again whether they caught up
            lastAssignedMs = now;
            log.info("Stream thread {}: probing rebalance (warm-up replicas may have caught up)", getName());
            assignor.requestFollowUpRebalance();
            consumer.enforceRebalance();
        }
    }

    /**
     * Whether a rebalance that holds the commits back (see {@link StreamsPartitionAssignor#rebalanceInProgress}) has
     * kept the transaction open for half of {@code transaction.timeout.ms}: processing then waits for the rebalance to
     * end, so that a slow rebalance (a member that died without leaving is waited for) never lets the coordinator abort
     * the transaction and fence the producer.
     */
    private boolean transactionTooOldToExtend() {
        return transactionOpen && assignor.rebalanceInProgress()
            && settings.time().milliseconds() - transactionStartMs >= transactionTimeoutMs / 2;
    }

    private void ensureTransaction() {
        if (settings.exactlyOnce() && !transactionOpen) {
            producer.beginTransaction();
            transactionOpen = true;
            transactionStartMs = settings.time().milliseconds();
        }
    }

    /**
     * Commits the running tasks (see the class comment); on an abortable failure or a fenced producer restarts
     * them and returns false (records polled before are then read again).
     */
    private boolean commit() {
        if (assignor.rebalanceInProgress()) {
            // the kept tasks go on processing; their commit waits for the new generation (see the assignor)
            return true;
        }
        lastCommitMs = settings.time().milliseconds();
        for (StreamTask task : tasks.values()) {
            if (!restoringTasks.contains(task.id())) {
                // before the offsets are taken and the transaction commits: what the caches held joins this transaction
                task.flushCaches();
            }
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (StreamTask task : tasks.values()) {
            if (!restoringTasks.contains(task.id())) {
                task.consumedOffsets().forEach((tp, o) -> offsets.put(tp, new OffsetAndMetadata(o)));
            }
        }
        if (settings.exactlyOnce()) {
            if (!transactionOpen) {
                return true;
            }
            try {
                producer.flush();
                collector.throwIfFailed();
                if (!offsets.isEmpty()) {
                    producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                }
                producer.commitTransaction();
                transactionOpen = false;
            } catch (ProducerFatalException e) {
                onFenced(e);
                return false;
            } catch (WakeupException e) {
                throw e;
            } catch (ProductionFailedException e) {
                try {
                    producer.abortTransaction();
                    transactionOpen = false;
                } catch (RuntimeException abortError) {
                    e.addSuppressed(abortError);
                }
                throw e;   // the handler chose to fail: the thread dies, the uncaught-exception handler decides
            } catch (RuntimeException e) {
                abortAndRestart(e);
                return false;
            }
            commitStores();
        } else {
            producer.flush();
            collector.throwIfFailed();
            commitStores();
            if (!offsets.isEmpty()) {
                consumer.commitSync(offsets);
            }
        }
        if (!offsets.isEmpty()) {
            Map<TopicPartition, Long> committed = new HashMap<>();
            offsets.forEach((tp, o) -> committed.put(tp, o.offset()));
            purger.onCommit(committed, settings.time().milliseconds());
        }
        return true;
    }

    /** After the broker commit: each task's stores apply their writes with the changelog ends and input offsets. */
    private void commitStores() {
        Map<TopicPartition, Long> changelogEnds = collector.takeChangelogEnds();
        for (StreamTask task : tasks.values()) {
            if (restoringTasks.contains(task.id())) {
                continue;
            }
            Map<TopicPartition, Long> own = new HashMap<>();
            for (String store : task.stores().keySet()) {
                TopicPartition cl = new TopicPartition(ProcessorStateNames.changelogTopic(settings.applicationId(), store),
                    task.id().partition());
                Long end = changelogEnds.get(cl);
                if (end != null) {
                    own.put(cl, end);
                }
            }
            task.commitStores(own);
            knownOffsetSums.put(task.id(), changelogOffsetSum(task));   // reported at the next join (warm-up lag)
            if (snapshots != null) {
                // right after the store commit: the snapshot is exactly this committed state
                snapshots.maybePublish(task, settings.applicationId(), settings.time().milliseconds());
            }
        }
    }

    private void abortAndRestart(RuntimeException cause) {
        log.warn("Stream thread {}: the transaction failed and is aborted (or a send is retried); the tasks restart from the"
            + " last commit", getName(), cause);
        if (transactionOpen) {
            try {
                producer.abortTransaction();
            } catch (ProducerFatalException e) {
                onFenced(e);
                return;
            }
        }
        transactionOpen = false;
        collector.reset();
        Set<TopicPartition> assigned = new HashSet<>(taskByPartition.keySet());
        assigned.retainAll(consumer.assignment());
        closeAllTasks(false);
        rewindToCommitted(assigned);
        createTasks(assigned);
    }

    private void onFenced(RuntimeException cause) {
        log.warn("Stream thread {}: the producer was fenced; closing every task and rejoining the group", getName(), cause);
        transactionOpen = false;
        collector.reset();
        closeAllTasks(false);
        producer.close(Duration.ZERO);
        producer = null;
        producer = newProducer();
        consumer.unsubscribe();
        consumer.subscribe(sourceTopics, new Listener());
    }

    private void rewindToCommitted(Set<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(partitions);
        List<TopicPartition> fromStart = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata o = committed.get(tp);
            if (o != null) {
                consumer.seek(tp, o.offset());
            } else {
                fromStart.add(tp);
            }
        }
        if (!fromStart.isEmpty()) {
            consumer.seekToBeginning(fromStart);
        }
    }

    // ---- tasks

    private void createTasks(Collection<TopicPartition> partitions) {
        Map<TaskId, Set<TopicPartition>> byTask = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            Integer sub = subtopologyByTopic.get(tp.topic());
            if (sub != null) {
                byTask.computeIfAbsent(new TaskId(sub, tp.partition()), id -> new HashSet<>()).add(tp);
            }
        }
        for (Map.Entry<TaskId, Set<TopicPartition>> e : byTask.entrySet()) {
            TaskId id = e.getKey();
            StreamTask task = tasks.get(id);
            if (task == null) {
                task = openTask(id, false);
                tasks.put(id, task);
                activeOpens.merge(id, 1L, Long::sum);
            }
            partitionsByTask.computeIfAbsent(id, i -> new HashSet<>()).addAll(e.getValue());
            for (TopicPartition tp : e.getValue()) {
                taskByPartition.put(tp, task);
            }
        }
        for (TaskId id : byTask.keySet()) {
            if (restoringTasks.contains(id)) {
                consumer.pause(partitionsByTask.get(id));
            }
        }
        updateRunningState();
    }

    /**
     * Creates a task and opens its stores (wiping a store whose files are corrupt), then starts its restore; its
     * processors are initialized once every store is restored, so that {@code init()} sees the restored state.
     */
    private StreamTask openTask(TaskId id, boolean standby) {
        Path dir = settings.appStateDir().resolve(id.toString());
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the state directory " + dir + " of task " + id, e);
        }
        Set<String> wiped = new HashSet<>();
        Set<String> fromSnapshot = new HashSet<>();
        while (true) {
            // a store without local state (a new host, a lost disk, a wiped corrupt store) starts from a snapshot
            fromSnapshot.addAll(bootstrapFromSnapshots(id, dir));
            StreamTask task = new StreamTask(id, settings.applicationId(), settings.builder().build(Set.of(id.subtopology())),
                settings.configs(), collector, dir, settings.time(), settings.globalStores(), cache);
            task.countDroppedRecordsIn(droppedRecords);
            try {
                task.initializeStores();
                if (standby) {
                    return task;
                }
                startRestore(task, wiped, fromSnapshot);
                if (!restoringTasks.contains(id)) {
                    task.initializeProcessors();   // nothing to restore: processors may start at once
                }
                return task;
            } catch (StreamsException e) {
                StoreCorruptedException corrupt = findCorruption(e);
                closeQuietly(task);
                if (corrupt == null || !wiped.add(corrupt.storeName())) {
                    throw e;
                }
                RocksDbBytesStore.wipeCorrupted(corrupt.directory(), "task " + id + ": " + corrupt.getMessage());
            } catch (StoreCorruptedException corrupt) {
                closeQuietly(task);
                if (!wiped.add(corrupt.storeName())) {
                    throw corrupt;
                }
                RocksDbBytesStore.wipeCorrupted(corrupt.directory(), "task " + id + ": " + corrupt.getMessage());
            }
        }
    }

    private static StoreCorruptedException findCorruption(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof StoreCorruptedException s) {
                return s;
            }
        }
        return null;
    }

    /** Copies in the newest usable snapshot of each logged store of the task that has no local state. */
    private Set<String> bootstrapFromSnapshots(TaskId id, Path taskDir) {
        Set<String> stores = loggedStoresBySubtopology.getOrDefault(id.subtopology(), Set.of());
        if (snapshots == null || stores.isEmpty()) {
            return Set.of();
        }
        Map<String, TopicPartition> changelogs = new TreeMap<>();
        for (String store : stores) {
            changelogs.put(store, new TopicPartition(ProcessorStateNames.changelogTopic(settings.applicationId(), store),
                id.partition()));
        }
        return snapshots.bootstrap(id, taskDir, changelogs, cl -> new long[] {
            restoreConsumer.beginningOffsets(List.of(cl)).getOrDefault(cl, 0L),
            restoreConsumer.endOffsets(List.of(cl)).getOrDefault(cl, 0L)});
    }

    private void startRestore(StreamTask task, Set<String> wiped, Set<String> fromSnapshot) {
        long now = settings.time().milliseconds();
        List<Restoring> started = new ArrayList<>();
        for (Map.Entry<String, StateStore> e : task.stores().entrySet()) {
            StoreBuilder<?> sb = settings.builder().stores().get(e.getKey());
            if (!(e.getValue() instanceof TransactionalStateStore store) || sb == null || !sb.loggingEnabled()) {
                continue;
            }
            TopicPartition cl = new TopicPartition(ProcessorStateNames.changelogTopic(settings.applicationId(), e.getKey()),
                task.id().partition());
            Map<TopicPartition, Long> committed = store.committedOffsets();
            Long from = committed.get(cl);
            RestoreProgress.Origin origin = fromSnapshot.contains(e.getKey()) ? RestoreProgress.Origin.SNAPSHOT
                : wiped.contains(e.getKey()) ? RestoreProgress.Origin.WIPED_CORRUPT
                : committed.isEmpty() ? RestoreProgress.Origin.EMPTY : RestoreProgress.Origin.LOCAL_STORE;
            long begin = restoreConsumer.beginningOffsets(List.of(cl)).getOrDefault(cl, 0L);
            long start = from == null ? begin : Math.max(from, begin);
            long end = restoreConsumer.endOffsets(List.of(cl)).getOrDefault(cl, 0L);
            RestoreProgress progress = new RestoreProgress(e.getKey(), cl, origin, start, end, now);
            observer.onRestoreStarted(progress);
            if (progress.done()) {
                log.info("Task {}: {}", task.id(), progress.describe(now));
            } else {
                log.info("Task {}: restoring {}", task.id(), progress.describe(now));
                store.beginBulkLoad();
                started.add(new Restoring(task, store, progress, cl, start, now));
            }
        }
        if (!started.isEmpty()) {
            for (Restoring r : started) {
                restoring.put(r.changelog, r);
            }
            restoringTasks.add(task.id());
            reassignRestoreConsumer();
        }
    }

    /** Assigns the restore consumer the changelogs being restored and those the standbys follow. */
    private void reassignRestoreConsumer() {
        Set<TopicPartition> all = new HashSet<>(restoring.keySet());
        all.addAll(standbyChangelogs.keySet());
        if (all.isEmpty()) {
            restoreConsumer.unsubscribe();
            return;
        }
        restoreConsumer.assign(all);
        for (Restoring r : restoring.values()) {
            restoreConsumer.seek(r.changelog, r.nextOffset);
        }
        for (StandbyStore sb : standbyChangelogs.values()) {
            restoreConsumer.seek(sb.changelog, sb.nextOffset);
        }
    }

    /** Applies at most one poll of changelog records, commits each restored store with its new position. */
    private void restoreChunk() {
        // standbys alone never hold up processing: their changelogs are read with what each poll has fetched
        ConsumerRecords<byte[], byte[]> records = restoreConsumer.poll(Duration.ofMillis(restoring.isEmpty() ? 0 : 10));
        Map<TopicPartition, Long> applied = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            // one lookup per changelog partition and poll, not per record
            Restoring rs = restoring.get(tp);
            StandbyStore sb = standbyChangelogs.get(tp);
            List<ConsumerRecord<byte[], byte[]>> list = records.records(tp);
            long n = 0;
            if (rs != null) {
                for (ConsumerRecord<byte[], byte[]> r : list) {
                    rs.store.restore(r.key(), r.value());
                }
                n += list.size();
            }
            if (sb != null) {
                for (ConsumerRecord<byte[], byte[]> r : list) {
                    sb.store.restore(r.key(), r.value());
                }
                n += list.size();
            }
            if (n > 0) {
                applied.put(tp, n);
            }
        }
        for (StandbyStore sb : standbyChangelogs.values()) {
            // a standby commits what it read with the changelog position: a promotion restores only what follows
            long position = restoreConsumer.position(sb.changelog);
            long n = applied.getOrDefault(sb.changelog, 0L);
            if (n > 0 || position > sb.nextOffset) {
                sb.store.commit(Map.of(sb.changelog, position));
                sb.nextOffset = position;
                standbyPositions.put(sb.changelog, position);
                standbyRecords.addAndGet(n);
                knownOffsetSums.put(sb.task.id(), changelogOffsetSum(sb.task));
            }
        }
        long now = settings.time().milliseconds();
        boolean finishedAny = false;
        for (Restoring rs : List.copyOf(restoring.values())) {
            long position = restoreConsumer.position(rs.changelog);
            long n = applied.getOrDefault(rs.changelog, 0L);
            if (n > 0 || position > rs.nextOffset) {
                rs.nextOffset = position;
                rs.progress.onRestored(n, position, now);
                rs.uncommitted = true;
            }
            // the restored records wait in the store's batch and commit (a synced write, with the new position) once a
            // commit interval, past statestore.uncommitted.max.bytes, or at the end: not one fsync per poll. A stop in
            // between loses only uncommitted restored records, which the next open replays again.
            if (rs.uncommitted && (rs.progress.done() || now - rs.lastCommitMs >= settings.commitIntervalMs()
                || rs.store.uncommittedBytes() > settings.maxUncommittedBytes())) {
                rs.store.commit(Map.of(rs.changelog, rs.nextOffset));
                rs.uncommitted = false;
                rs.lastCommitMs = now;
            }
            if (rs.progress.done()) {
                rs.store.endBulkLoad();   // flushed: the processing commits that follow are logged ones
                log.info("Task {}: {}", rs.task.id(), rs.progress.describe(now));
                restoring.remove(rs.changelog);
                finishedAny = true;
                if (restoring.values().stream().noneMatch(o -> o.task == rs.task)) {
                    rs.task.initializeProcessors();   // after the restore: init() sees the restored state
                    restoringTasks.remove(rs.task.id());
                    consumer.resume(partitionsByTask.getOrDefault(rs.task.id(), Set.of()));
                }
            }
        }
        if (finishedAny) {
            reassignRestoreConsumer();
            updateRunningState();
        }
    }

    private void closeTasks(Collection<TopicPartition> partitions, boolean clean) {
        Set<TaskId> ids = new HashSet<>();
        for (TopicPartition tp : partitions) {
            StreamTask t = taskByPartition.get(tp);
            if (t != null) {
                ids.add(t.id());
            }
        }
        RuntimeException first = null;
        for (TaskId id : ids) {
            StreamTask task = tasks.remove(id);
            Set<TopicPartition> owned = partitionsByTask.remove(id);
            if (owned != null) {
                owned.forEach(taskByPartition::remove);
            }
            restoringTasks.remove(id);
            restoring.values().removeIf(r -> r.task == task);
            if (snapshots != null) {
                snapshots.forget(id);
            }
            activeCloses.merge(id, 1L, Long::sum);
            try {
                if (!clean) {
                    task.abortStores();
                }
                knownOffsetSums.put(id, changelogOffsetSum(task));
                task.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        reassignRestoreConsumer();
        publishQueryable();
        if (first != null) {
            throw first;
        }
    }

    /** Commits (if clean and possible) and closes every task. */
    private void closeAllTasks(boolean clean) {
        if (clean && !tasks.isEmpty() && assignor.rebalanceInProgress()) {
            // no commit goes through while the group changes generation: the open transaction is aborted instead, and
            // the tasks' next owners read its records again from the last commit
            log.info("Stream thread {}: closing during a rebalance; the uncommitted work is aborted", getName());
            clean = false;
        }
        if (clean && !tasks.isEmpty()) {
            commit();
        }
        if (!clean && transactionOpen && producer != null) {
            try {
                producer.abortTransaction();
            } catch (RuntimeException e) {
                log.debug("Stream thread {}: aborting the open transaction failed: {}", getName(), e.toString());
            }
            transactionOpen = false;
        }
        if (restoreConsumer != null) {
            closeTasks(List.copyOf(taskByPartition.keySet()), clean);
            updateStandbys(Set.of());
        }
        tasks.clear();
    }

    /** Publishes the stores of the restored active tasks for interactive queries. */
    private void publishQueryable() {
        Map<String, List<StateStore>> byName = new TreeMap<>();
        for (StreamTask t : tasks.values()) {
            if (t.processorsInitialized()) {
                t.stores().forEach((name, store) -> byName.computeIfAbsent(name, k -> new ArrayList<>()).add(store));
            }
        }
        Map<String, List<StateStore>> frozen = new TreeMap<>();
        byName.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        queryable = java.util.Collections.unmodifiableMap(frozen);
    }

    // ---- standby tasks

    /**
     * Keeps exactly the wanted standby tasks: closes the others (a standby promoted to active closes here first,
     * releasing its store for the active task) and opens the new ones, each following its stores' changelogs from
     * the stores' committed positions.
     */
    private void updateStandbys(Set<TaskId> wanted) {
        boolean changed = false;
        for (TaskId id : List.copyOf(standbys.keySet())) {
            if (!wanted.contains(id) || tasks.containsKey(id)) {
                StreamTask task = standbys.remove(id);
                standbyChangelogs.values().removeIf(sb -> {
                    if (sb.task == task) {
                        standbyPositions.remove(sb.changelog);
                        return true;
                    }
                    return false;
                });
                try {
                    knownOffsetSums.put(id, changelogOffsetSum(task));
                    task.abortStores();
                    task.close();
                } catch (RuntimeException e) {
                    log.warn("Stream thread {}: closing standby task {} failed", getName(), id, e);
                }
                log.info("Stream thread {}: closed standby task {}", getName(), id);
                changed = true;
            }
        }
        for (TaskId id : wanted) {
            if (standbys.containsKey(id) || tasks.containsKey(id)) {
                continue;
            }
            StreamTask task = openTask(id, true);
            standbys.put(id, task);
            for (Map.Entry<String, StateStore> e : task.stores().entrySet()) {
                StoreBuilder<?> sb = settings.builder().stores().get(e.getKey());
                if (!(e.getValue() instanceof TransactionalStateStore store) || sb == null || !sb.loggingEnabled()) {
                    continue;
                }
                TopicPartition cl = new TopicPartition(ProcessorStateNames.changelogTopic(settings.applicationId(), e.getKey()),
                    id.partition());
                Long from = store.committedOffsets().get(cl);
                long begin = restoreConsumer.beginningOffsets(List.of(cl)).getOrDefault(cl, 0L);
                long start = from == null ? begin : Math.max(from, begin);
                standbyChangelogs.put(cl, new StandbyStore(task, store, cl, start));
                standbyPositions.put(cl, start);
            }
            knownOffsetSums.put(id, changelogOffsetSum(task));
            log.info("Stream thread {}: opened standby task {}", getName(), id);
            changed = true;
        }
        if (changed) {
            reassignRestoreConsumer();
        }
    }

    private void updateRunningState() {
        publishQueryable();
        if (state == State.PENDING_SHUTDOWN || state == State.DEAD) {
            return;
        }
        setState(restoringTasks.isEmpty() ? State.RUNNING : State.PARTITIONS_ASSIGNED);
    }

    private void setState(State newState) {
        State old = state;
        if (old != newState) {
            state = newState;
            observer.onStateChange(this, old, newState);
        }
    }

    /**
     * Closes the group consumer. A static member (group.instance.id) leaves the group too unless
     * {@link StreamsConfig#LEAVE_GROUP_ON_CLOSE_CONFIG} is false: a thread that stops (a clean close, or a
     * failure) should not hold its tasks idle until its session times out; only a killed process skips this,
     * and its restart replaces the member by instance id.
     */
    private void closeConsumer() {
        WeirConsumer<byte[], byte[]> c = consumer;
        if (c == null) {
            return;
        }
        try {
            if (StreamsConfig.booleanConfig(settings.configs(), StreamsConfig.LEAVE_GROUP_ON_CLOSE_CONFIG, true)) {
                c.closeAndLeaveGroup(Duration.ofSeconds(30));
            } else {
                c.close();
            }
        } catch (RuntimeException ignored) {
            // closing anyway
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }

    private static void closeQuietly(StreamTask task) {
        try {
            task.close();
        } catch (RuntimeException ignored) {
            // closing anyway
        }
    }

    private final class Listener implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty() || tasks.isEmpty()) {
                return;
            }
            setState(State.PARTITIONS_ASSIGNED);
            commit();
            closeTasks(partitions, true);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (assignor.lastAssignment().errorCode() == StreamsPartitionAssignor.ERROR_SHUTDOWN_APPLICATION) {
                log.error("Stream thread {}: an instance of {} asked the whole application to shut down", getName(),
                    settings.applicationId());
                running = false;
                observer.onShutdownApplicationRequested(StreamThread.this);
                return;
            }
            lastAssignedMs = settings.time().milliseconds();
            if (!pausedForRebalance.isEmpty()) {
                Set<TopicPartition> still = new HashSet<>(pausedForRebalance);
                still.retainAll(consumer.assignment());
                consumer.resume(still);
                pausedForRebalance.clear();
            }
            Set<TaskId> wanted = assignor.lastAssignment().standbyTasks();
            // first close the standbys that are no longer wanted (or became active here): frees their stores
            Set<TaskId> keep = new HashSet<>(wanted);
            for (TopicPartition tp : partitions) {
                Integer sub = subtopologyByTopic.get(tp.topic());
                if (sub != null) {
                    keep.remove(new TaskId(sub, tp.partition()));
                }
            }
            updateStandbys(standbys.keySet().stream().filter(keep::contains).collect(java.util.stream.Collectors.toSet()));
            createTasks(partitions);
            updateStandbys(wanted);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (transactionOpen) {
                try {
                    producer.abortTransaction();
                } catch (RuntimeException e) {
                    log.debug("aborting after lost partitions failed: {}", e.toString());
                }
                transactionOpen = false;
                collector.reset();
            }
            closeTasks(partitions, false);
        }
    }

    private static final class StandbyStore {
        final StreamTask task;
        final TransactionalStateStore store;
        final TopicPartition changelog;
        long nextOffset;

        StandbyStore(StreamTask task, TransactionalStateStore store, TopicPartition changelog, long nextOffset) {
            this.task = task;
            this.store = store;
            this.changelog = changelog;
            this.nextOffset = nextOffset;
        }
    }

    private static final class Restoring {
        final StreamTask task;
        final TransactionalStateStore store;
        final RestoreProgress progress;
        final TopicPartition changelog;
        /** The next changelog offset to read (what the store's batch holds up to). */
        long nextOffset;
        /** Whether the batch holds restored records not committed yet, and when the last restore commit was. */
        boolean uncommitted;
        long lastCommitMs;

        Restoring(StreamTask task, TransactionalStateStore store, RestoreProgress progress, TopicPartition changelog,
                  long nextOffset, long nowMs) {
            this.task = task;
            this.store = store;
            this.progress = progress;
            this.changelog = changelog;
            this.nextOffset = nextOffset;
            this.lastCommitMs = nowMs;
        }
    }

    /** A send failed and the production exception handler chose FAIL: the thread fails rather than retrying. */
    private static final class ProductionFailedException extends StreamsException {
        ProductionFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Records dropped by this thread's tasks and sends (handlers that chose CONTINUE, skipped timestamps). */
    public long droppedRecords() {
        return droppedRecords.sum();
    }

    /** The thread's collector: every task's records go to the thread's producer (its open transaction). */
    private final class Collector implements RecordCollector {
        private final Map<String, Integer> partitionCounts = new HashMap<>();
        private final Map<TopicPartition, Long> changelogEnds = new HashMap<>();
        /** Made at the first send (the thread's settings are not set when the collector is built); read by callbacks. */
        private volatile ProductionExceptionHandler productionHandler;
        private Exception failure;
        /** The failure was given to the production exception handler, which chose to fail the thread. */
        private boolean handlerFailed;
        /** The failure was retriable and the production exception handler chose RETRY (KIP-1065). */
        private boolean retryRequested;
        /** Dead-letter records the production handler answered with on the producer's thread, sent by the stream thread. */
        private final List<ProducerRecord<byte[], byte[]>> deadLetters = new ArrayList<>();

        @Override
        public void send(String topic, Integer partition, long timestamp, byte[] key, byte[] value, List<Header> headers) {
            send(topic, partition, timestamp, key, value, headers, null);
        }

        @Override
        public void send(String topic, Integer partition, long timestamp, byte[] key, byte[] value, List<Header> headers,
                         ErrorHandlerContext errorContext) {
            ensureTransaction();
            if (productionHandler == null) {
                productionHandler = StreamsConfig.productionExceptionHandler(settings.configs());
            }
            ProductionExceptionHandler productionHandler = this.productionHandler;
            boolean changelog = topic.endsWith("-changelog");
            producer.send(new ProducerRecord<>(topic, partition, timestamp, key, value, headers), (md, e) -> {
                if (e != null && !changelog && ProductionErrors.goesToHandler(e)) {
                    // the production handler decides; under exactly-once the producer's transaction is abortable
                    // anyway, so a RESUME still aborts (and the records are processed again), never commits a loss
                    onSendError(productionHandler, new ProducerRecord<>(topic, partition, timestamp, key, value, headers),
                        errorContext, e);
                    return;
                }
                synchronized (this) {
                    if (e != null) {
                        failure = failure == null ? e : failure;
                    } else if (changelog) {
                        changelogEnds.merge(new TopicPartition(md.topic(), md.partition()), md.offset() + 1, Math::max);
                    }
                }
            });
        }

        /** On the producer's thread: asks the handler; its dead-letter records wait for the stream thread. */
        private void onSendError(ProductionExceptionHandler handler, ProducerRecord<byte[], byte[]> record,
                                 ErrorHandlerContext errorContext, Exception e) {
            ProductionExceptionHandler.Response response;
            try {
                response = handler.handleError(errorContext, record, e);
            } catch (RuntimeException handlerError) {
                log.error("Stream thread {}: the production exception handler failed", getName(), handlerError);
                response = ProductionExceptionHandler.Response.fail();
            }
            ProductionExceptionHandler.Result result = ProductionErrors.effective(response, e);
            synchronized (this) {
                if (response != null) {
                    for (ProducerRecord<byte[], byte[]> dead : response.deadLetterQueueRecords()) {
                        if (!dead.topic().equals(record.topic())) {   // a failing dead-letter topic never feeds itself
                            deadLetters.add(dead);
                        }
                    }
                }
                if (result == ProductionExceptionHandler.Result.RESUME) {
                    droppedRecords.increment();
                    return;
                }
                if (result == ProductionExceptionHandler.Result.RETRY) {
                    retryRequested = true;
                } else {
                    handlerFailed = true;
                }
                failure = failure == null ? e : failure;
            }
        }

        /**
         * On the stream thread, after a flush: sends the dead-letter records the handler answered with. Under
         * exactly-once after a failed send the transaction can only abort, so they are not sent (they would abort).
         */
        private void sendDeadLetters() {
            List<ProducerRecord<byte[], byte[]>> pending;
            synchronized (this) {
                if (deadLetters.isEmpty() || (failure != null && settings.exactlyOnce())) {
                    deadLetters.clear();
                    return;
                }
                pending = List.copyOf(deadLetters);
                deadLetters.clear();
            }
            try {
                for (ProducerRecord<byte[], byte[]> r : pending) {
                    long ts = r.timestamp() != null ? r.timestamp() : settings.time().milliseconds();
                    send(r.topic(), r.partition(), ts, r.key(), r.value(), r.headers());
                }
                producer.flush();
            } catch (RuntimeException e) {
                synchronized (this) {
                    failure = failure == null ? e : failure;
                }
            }
        }

        @Override
        public int partitionCount(String topic) {
            return partitionCounts.computeIfAbsent(topic, t -> producer.partitionsFor(t).size());
        }

        synchronized Map<TopicPartition, Long> takeChangelogEnds() {
            Map<TopicPartition, Long> copy = Map.copyOf(changelogEnds);
            changelogEnds.clear();
            return copy;
        }

        void throwIfFailed() {
            sendDeadLetters();
            throwFailure();
        }

        private synchronized void throwFailure() {
            if (failure != null) {
                Exception e = failure;
                failure = null;
                if (retryRequested && !handlerFailed) {
                    retryRequested = false;
                    throw new TaskRetryException("stream thread " + getName() + ": sending a record failed with a retriable"
                        + " error and the production exception handler chose to retry", e);
                }
                retryRequested = false;
                if (handlerFailed) {
                    handlerFailed = false;
                    throw new ProductionFailedException("stream thread " + getName() + ": sending a record failed and the"
                        + " production exception handler chose to fail", e);
                }
                throw new StreamsException("stream thread " + getName() + ": sending a record failed", e);
            }
        }

        synchronized void reset() {
            failure = null;
            handlerFailed = false;
            retryRequested = false;
            deadLetters.clear();
            changelogEnds.clear();
        }
    }
}
