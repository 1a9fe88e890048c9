package io.weir.streams;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.admin.TopicDescription;
import io.weir.admin.errors.TopicExistsException;
import io.weir.common.Time;
import io.weir.common.config.ConfigException;
import io.weir.streams.errors.StreamsException;
import io.weir.streams.errors.TopologyException;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.internals.GlobalStreamThread;
import io.weir.streams.processor.internals.InternalTopologyBuilder;
import io.weir.common.TopicPartition;
import io.weir.producer.Serializer;
import io.weir.producer.internals.Murmur2;
import io.weir.streams.errors.InvalidStateStoreException;
import io.weir.streams.processor.internals.StreamThread;
import io.weir.streams.processor.internals.StreamsPartitionAssignor;
import io.weir.streams.state.HostInfo;
import io.weir.streams.state.internals.RestoreProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs a {@link Topology} against a Weir (or any Kafka-protocol) cluster: {@code num.stream.threads}
 * stream threads, each a member of the consumer group {@code application.id} with its own tasks, stores
 * and producer. Under {@code processing.guarantee=exactly_once} (the default and Weir's only exactly-once
 * mode) every commit is one transaction holding the output, the changelog records and the input offsets,
 * and the RocksDB stores apply their writes only after it committed, so a restart (clean or after
 * {@code kill -9}) replays only the changelog tail after each store's last commit and never wipes a store
 * (DESIGN.md, "Exactly-once").
 *
 * <p>At {@link #start()} the job's internal topics are created: repartition topics and compacted
 * changelogs {@code <application.id>-<store>-changelog}, with as many partitions as the job's widest
 * source topic (its source topics must exist). The job's process id lives in
 * {@code <state.dir>/<application.id>/weir-streams.process.id} so that a restart on the same state
 * directory uses the same transactional ids and fences (aborts) what the previous run left open at once.
 *
 * <p>Configs: {@code application.id}, {@code bootstrap.servers}, {@code num.stream.threads} (1),
 * {@code commit.interval.ms} (100 under exactly-once, 30000 otherwise), {@code processing.guarantee}
 * ({@code exactly_once} / {@code at_least_once}), {@code state.dir} ({@code java.io.tmpdir/weir-streams}),
 * {@code statestore.uncommitted.max.bytes} (64 MiB: a task whose uncommitted store writes exceed it commits
 * early), {@code num.standby.replicas} (0: standby copies of each stateful task on other instances, kept up to date
 * from the changelogs), {@code acceptable.recovery.lag} / {@code max.warmup.replicas} /
 * {@code probing.rebalance.interval.ms} (warm-up replicas before a stateful task moves, see
 * {@code StreamsPartitionAssignor}), {@code application.server} ({@code host:port} this instance answers interactive queries
 * on, shared with the group for {@link #queryMetadataForKey}); {@code consumer.}, {@code producer.} and
 * {@code admin.} prefixed keys go to those clients.
 *
 * <p>Interactive queries: {@link #store} gives read-only views over the committed state of this instance's active
 * tasks; {@link #queryMetadataForKey}, {@link #metadataForAllStreamsClients} and {@link #streamsMetadataForStore}
 * say which instance holds what, from the group's last assignment (see {@code StreamsPartitionAssignor}).
 *
 * <p>Thread-safe.
 */
public final class WeirStreams implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WeirStreams.class);
    private static final String PROCESS_ID_FILE = "weir-streams.process.id";
    /** Default {@code statestore.uncommitted.max.bytes}. */
    public static final long DEFAULT_UNCOMMITTED_MAX_BYTES = 64L << 20;

    /** The job's life, as Kafka Streams names it. */
    public enum State {
        CREATED, REBALANCING, RUNNING, PENDING_SHUTDOWN, NOT_RUNNING, PENDING_ERROR, ERROR;

        public boolean isRunningOrRebalancing() {
            return this == REBALANCING || this == RUNNING;
        }
    }

    /** Told of every state change. */
    @FunctionalInterface
    public interface StateListener {
        void onChange(State newState, State oldState);
    }

    /** What to do when a stream thread (or the global stream thread) dies of an exception. */
    public enum StreamThreadExceptionResponse { REPLACE_THREAD, SHUTDOWN_CLIENT, SHUTDOWN_APPLICATION }

    /** Decides what happens after a stream thread failed. */
    @FunctionalInterface
    public interface StreamsUncaughtExceptionHandler {
        StreamThreadExceptionResponse handle(Throwable exception);
    }

    private final Topology topology;
    private final InternalTopologyBuilder builder;
    private final Map<String, Object> configs;
    private final String applicationId;
    private final boolean exactlyOnce;
    private final long commitIntervalMs;
    private final long maxUncommittedBytes;
    private final int numThreads;
    private final int numStandbyReplicas;
    private final boolean staticMembership;
    private final String applicationServer;
    private final Path appStateDir;
    private final Time time;
    private final Object lock = new Object();
    private final List<StreamThread> threads = new ArrayList<>();
    /** Fills the global stores; null when the topology has none (or before start()). */
    private GlobalStreamThread globalThread;
    private Map<String, StateStore> globalStores = Map.of();
    private final List<RestoreProgress> restores = new CopyOnWriteArrayList<>();
    private State state = State.CREATED;
    private StateListener stateListener;
    private StreamsUncaughtExceptionHandler exceptionHandler;
    private Thread shutdownThread;

    public WeirStreams(Topology topology, Properties props) {
        this(topology, StreamsConfig.toMap(props), Time.SYSTEM);
    }

    public WeirStreams(Topology topology, Map<String, Object> configs) {
        this(topology, configs, Time.SYSTEM);
    }

    WeirStreams(Topology topology, Map<String, Object> configs, Time time) {
        this.topology = topology;
        this.builder = topology.internalTopologyBuilder();
        this.configs = new HashMap<>(configs);
        this.time = time;
        this.applicationId = StreamsConfig.applicationId(this.configs);
        if (builder.applicationId() != null && !builder.applicationId().equals(applicationId)) {
            throw new ConfigException(StreamsConfig.APPLICATION_ID_CONFIG, applicationId,
                "differs from the application id the topology was built with (" + builder.applicationId() + ")");
        }
        builder.setApplicationId(applicationId);
        if (this.configs.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG) == null) {
            throw new ConfigException(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, null, "is required");
        }
        String guarantee = String.valueOf(this.configs.getOrDefault(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE));
        switch (guarantee) {
            case StreamsConfig.EXACTLY_ONCE, "exactly_once_v2" -> exactlyOnce = true;
            case StreamsConfig.AT_LEAST_ONCE -> exactlyOnce = false;
            default -> throw new ConfigException(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee,
                "must be " + StreamsConfig.EXACTLY_ONCE + " or " + StreamsConfig.AT_LEAST_ONCE);
        }
        this.commitIntervalMs = longConfig(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, exactlyOnce ? 100 : 30_000, 0);
        this.maxUncommittedBytes = longConfig(StreamsConfig.STATESTORE_UNCOMMITTED_MAX_BYTES_CONFIG, DEFAULT_UNCOMMITTED_MAX_BYTES, 0);
        this.numThreads = (int) longConfig(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1, 1);
        StreamsConfig.cacheMaxBytes(this.configs);   // refused here, not when the threads start
        StreamsConfig.repartitionPurgeIntervalMs(this.configs);
        StreamsConfig.productionExceptionHandler(this.configs);
        StreamsConfig.processingExceptionHandler(this.configs);
        longConfig(StreamsConfig.STATE_SNAPSHOT_INTERVAL_MS_CONFIG, StreamsConfig.DEFAULT_STATE_SNAPSHOT_INTERVAL_MS, 0);
        Object dir = this.configs.get(StreamsConfig.STATE_DIR_CONFIG);
        Path root = dir != null ? Path.of(dir.toString()) : Path.of(System.getProperty("java.io.tmpdir"), "weir-streams");
        this.appStateDir = root.resolve(applicationId);
        this.staticMembership = StreamsConfig.booleanConfig(this.configs, StreamsConfig.STATIC_MEMBERSHIP_ENABLE_CONFIG, true);
        StreamsConfig.booleanConfig(this.configs, StreamsConfig.LEAVE_GROUP_ON_CLOSE_CONFIG, true);   // refused here
        io.weir.streams.processor.internals.StreamThread.assignorOptions(this.configs);   // so is a bad upgrade.from
        this.numStandbyReplicas = (int) longConfig(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, 0, 0);
        Object server = this.configs.get(StreamsConfig.APPLICATION_SERVER_CONFIG);
        this.applicationServer = server == null || server.toString().isBlank() ? null : server.toString().trim();
        if (applicationServer != null) {
            try {
                HostInfo.buildFromEndpoint(applicationServer);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(StreamsConfig.APPLICATION_SERVER_CONFIG, server, "must be host:port");
            }
        }
    }

    private long longConfig(String key, long defaultValue, long min) {
        Object v = configs.get(key);
        if (v == null) {
            return defaultValue;
        }
        long value;
        try {
            value = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key, v, "is not a number");
        }
        if (value < min) {
            throw new ConfigException(key, v, "must be at least " + min);
        }
        return value;
    }

    /** Told of every state change (set before {@link #start()}). */
    public void setStateListener(StateListener listener) {
        synchronized (lock) {
            if (state != State.CREATED) {
                throw new IllegalStateException("the state listener can be set only before start(), state is " + state);
            }
            this.stateListener = listener;
        }
    }

    /**
     * Decides what a stream thread's failure does: replace the thread (its tasks restart from their last
     * commit), shut this client down (the default), or shut the whole application down: this instance shuts
     * down, and a short-lived member joins the group with the request in its subscription, so the streams
     * assignor hands every member an assignment carrying the shutdown error and every instance goes to
     * {@code PENDING_ERROR} then {@code ERROR} (see {@link StreamThread#signalShutdownApplication}).
     * The global stream thread's failure (a global record the deserialization handler will not skip, a deleted
     * global topic) reaches the handler too; that thread cannot be replaced, so REPLACE_THREAD then shuts the
     * client down ({@code PENDING_ERROR}, then {@code ERROR}).
     */
    public void setUncaughtExceptionHandler(StreamsUncaughtExceptionHandler handler) {
        synchronized (lock) {
            if (state != State.CREATED) {
                throw new IllegalStateException("the exception handler can be set only before start(), state is " + state);
            }
            this.exceptionHandler = handler;
        }
    }

    public State state() {
        synchronized (lock) {
            return state;
        }
    }

    /** Creates the internal topics, then starts the stream threads; returns at once. */
    public void start() {
        synchronized (lock) {
            if (state != State.CREATED) {
                throw new IllegalStateException("start() can be called once, state is " + state);
            }
            setState(State.REBALANCING);
        }
        try {
            createInternalTopics();
            String processId = processId();
            if (builder.hasGlobalStores()) {
                // global stores are complete before any stream task can read them
                Map<String, Object> consumer = clientConfigs("consumer.");
                consumer.put("client.id", applicationId + "-" + processId + "-GlobalStreamThread-consumer");
                GlobalStreamThread g = new GlobalStreamThread(applicationId, builder, configs, consumer, appStateDir,
                    commitIntervalMs, time, failure -> onGlobalThreadFailure(failure, processId));
                synchronized (lock) {
                    globalThread = g;
                }
                globalStores = g.restore();
                g.start();
            }
            synchronized (lock) {
                if (!state.isRunningOrRebalancing()) {
                    return;   // the global thread failed already and the client is closing
                }
                for (int i = 0; i < numThreads; i++) {
                    StreamThread t = newThread(i, processId);
                    threads.add(t);
                }
                threads.forEach(Thread::start);
            }
        } catch (RuntimeException e) {
            GlobalStreamThread global;
            synchronized (lock) {
                global = globalThread;
            }
            if (global != null) {
                global.shutdown();
            }
            synchronized (lock) {
                setState(State.PENDING_ERROR);
                setState(State.ERROR);
            }
            throw e;
        }
    }

    private StreamThread newThread(int index, String processId) {
        return new StreamThread(index, threadSettings(index, processId), new Observer(processId));
    }

    private StreamThread.Settings threadSettings(int index, String processId) {
        Map<String, Object> consumer = clientConfigs("consumer.");
        consumer.put("group.id", applicationId);
        consumer.put("enable.auto.commit", false);
        consumer.putIfAbsent("auto.offset.reset", "earliest");
        consumer.put("isolation.level", exactlyOnce ? "read_committed" : "read_uncommitted");
        consumer.put("client.id", applicationId + "-" + processId + "-StreamThread-" + index + "-consumer");
        String instanceId = groupInstanceId(consumer, index, processId);
        if (instanceId == null) {
            consumer.remove("group.instance.id");
        } else {
            consumer.put("group.instance.id", instanceId);
        }
        Map<String, Object> producer = clientConfigs("producer.");
        producer.put("client.id", applicationId + "-" + processId + "-StreamThread-" + index + "-producer");
        producer.putIfAbsent("linger.ms", 5);
        StreamThread.Settings settings = new StreamThread.Settings(applicationId, builder, configs, consumer, producer,
            exactlyOnce, commitIntervalMs, maxUncommittedBytes, appStateDir, applicationId + "-" + processId, time, processId,
            applicationServer, numStandbyReplicas, globalStores);
        return settings;
    }

    /**
     * The static member id of thread {@code index}'s consumer, or null for a dynamic member: the user's
     * {@code group.instance.id} (each thread needs its own, so the index is appended, as Kafka Streams does), else
     * with {@link StreamsConfig#STATIC_MEMBERSHIP_ENABLE_CONFIG} one made of the persisted process id, so a
     * restart on the same state directory comes back as the same members (and fences nothing it should not:
     * two live instances never share a state directory).
     */
    private String groupInstanceId(Map<String, Object> consumer, int index, String processId) {
        Object user = consumer.get("group.instance.id");
        if (user == null) {
            user = configs.get("group.instance.id");
        }
        if (user != null && !user.toString().isBlank()) {
            return user.toString().trim() + "-" + index;
        }
        return staticMembership ? applicationId + "-" + processId + "-" + index : null;
    }

    private Map<String, Object> clientConfigs(String prefix) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", configs.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
        configs.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                c.put(k.substring(prefix.length()), v);
            }
        });
        return c;
    }

    /** The process id kept in the state directory (created on the first run). */
    private String processId() {
        Path file = appStateDir.resolve(PROCESS_ID_FILE);
        try {
            Files.createDirectories(appStateDir);
            if (Files.exists(file)) {
                String id = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (!id.isEmpty()) {
                    return id;
                }
            }
            String id = UUID.randomUUID().toString();
            Path tmp = appStateDir.resolve(PROCESS_ID_FILE + ".tmp");
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap((id + "\n").getBytes(StandardCharsets.UTF_8)));
                ch.force(true);
            }
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            try (java.nio.channels.FileChannel dirChannel = java.nio.channels.FileChannel.open(appStateDir)) {
                dirChannel.force(true);
            } catch (IOException ignored) {
                // some file systems cannot sync a directory; the id is rewritten if it is lost
            }
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the process id file " + file, e);
        }
    }

    /** Creates the repartition and changelog topics that do not exist yet. */
    private void createInternalTopics() {
        List<InternalTopologyBuilder.InternalTopic> internal = builder.internalTopics();
        if (internal.isEmpty()) {
            return;
        }
        Set<String> internalNames = new HashSet<>();
        internal.forEach(t -> internalNames.add(t.name()));
        Set<String> external = new HashSet<>(builder.sourceTopics());
        external.removeAll(internalNames);
        Map<String, Object> adminConfigs = clientConfigs("admin.");
        try (Admin admin = Admin.create(adminConfigs)) {
            int partitions = 1;
            if (!external.isEmpty()) {
                Map<String, TopicDescription> described = admin.describeTopics(external).all().get(60, TimeUnit.SECONDS);
                for (TopicDescription d : described.values()) {
                    partitions = Math.max(partitions, d.partitions().size());
                }
            }
            List<NewTopic> toCreate = new ArrayList<>();
            for (InternalTopologyBuilder.InternalTopic t : internal) {
                toCreate.add(new NewTopic(t.name(), java.util.Optional.of(partitions), java.util.Optional.empty(), t.configs()));
            }
            Map<String, java.util.concurrent.CompletableFuture<io.weir.admin.CreatedTopic>> results =
                admin.createTopics(toCreate).values();
            for (Map.Entry<String, java.util.concurrent.CompletableFuture<io.weir.admin.CreatedTopic>> e : results.entrySet()) {
                try {
                    e.getValue().get(60, TimeUnit.SECONDS);
                    log.info("Created internal topic {} with {} partitions", e.getKey(), partitions);
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) {
                        throw new StreamsException("cannot create the internal topic " + e.getKey(), ex.getCause());
                    }
                }
            }
        } catch (ExecutionException e) {
            throw new StreamsException("cannot describe the source topics " + external + " (they must exist before start())",
                e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StreamsException("interrupted while creating the internal topics", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new StreamsException("timed out creating the internal topics", e);
        }
    }

    /**
     * Stops every stream thread (each commits its tasks and closes its stores and clients) and waits up to
     * {@code timeout}; returns whether all threads ended in time.
     */
    public boolean close(Duration timeout) {
        List<StreamThread> toJoin;
        synchronized (lock) {
            if (state == State.CREATED || state == State.NOT_RUNNING || state == State.ERROR) {
                if (state == State.CREATED) {
                    setState(State.PENDING_SHUTDOWN);
                    setState(State.NOT_RUNNING);
                }
                if (globalThread != null) {
                    globalThread.shutdown();   // the stream threads died (ERROR): the global thread may still run
                }
                return true;
            }
            if (state != State.PENDING_ERROR) {
                setState(State.PENDING_SHUTDOWN);
            }
            toJoin = List.copyOf(threads);
        }
        toJoin.forEach(StreamThread::shutdown);
        long timeoutNanos = timeout.compareTo(Duration.ofDays(365)) > 0 ? Duration.ofDays(365).toNanos() : timeout.toNanos();
        long deadline = System.nanoTime() + timeoutNanos;
        boolean all = true;
        for (StreamThread t : toJoin) {
            if (t == Thread.currentThread()) {
                continue;
            }
            long left = Math.max(0, deadline - System.nanoTime());
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            all &= !t.isAlive();
        }
        GlobalStreamThread global;
        synchronized (lock) {
            global = globalThread;
        }
        if (all && global != null) {
            global.shutdown();   // after the stream threads: they read the global stores until they stop
        }
        synchronized (lock) {
            if (all) {
                setState(state == State.PENDING_ERROR ? State.ERROR : State.NOT_RUNNING);
            }
        }
        return all;
    }

    /** {@link #close(Duration)} without a time limit. */
    @Override
    public void close() {
        close(Duration.ofDays(365));
    }

    /** Global-topic records read at {@link #start()} to bring the global stores up to date (0 without global stores). */
    long globalRecordsRestored() {
        synchronized (lock) {
            return globalThread == null ? 0 : globalThread.restoredRecords();
        }
    }

    /** The global partitions' offsets the global stores committed up to (empty without global stores). */
    Map<TopicPartition, Long> globalCommittedOffsets() {
        synchronized (lock) {
            return globalThread == null ? Map.of() : globalThread.committedOffsets();
        }
    }

    /** Every store restore this instance started (live objects: records restored / total, per store). */
    public List<RestoreProgress> restoreProgress() {
        return List.copyOf(restores);
    }

    /** Records restored from changelogs since {@link #start()}, over every store and task. */
    public long restoredRecords() {
        long n = 0;
        for (RestoreProgress p : restores) {
            n += p.recordsRestored();
        }
        return n;
    }

    /**
     * Metrics by name: {@code restore-records-total}, and per store {@code restore-records-total.<store>} (records
     * restored), {@code restore-records-to-restore.<store>} (changelog offsets to replay, an upper bound of the
     * records), {@code restore-remaining-records.<store>} and {@code restore-from-snapshot.<store>} (restores that
     * started from a snapshot); {@code snapshots-published-total} (store snapshots this instance wrote);
     * {@code standby-records-total} (changelog records applied to standby stores) and, per changelog partition a
     * standby follows, {@code standby-changelog-position.<topic>-<partition>} (the committed position);
     * {@code dropped-records-total} (records the exception handlers chose to skip, and invalid timestamps skipped);
     * per active task, {@code active-task-created-total.<task>} and {@code active-task-closed-total.<task>} (how often
     * this instance's threads created and closed it: a cooperative rebalance closes only the tasks that move).
     */
    public Map<String, Long> metrics() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("restore-records-total", restoredRecords());
        for (RestoreProgress p : restores) {
            m.merge("restore-records-total." + p.storeName(), p.recordsRestored(), Long::sum);
            m.merge("restore-records-to-restore." + p.storeName(), p.totalToRestore(), Long::sum);
            m.merge("restore-remaining-records." + p.storeName(), p.remaining(), Long::sum);
            m.merge("restore-from-snapshot." + p.storeName(), p.origin() == RestoreProgress.Origin.SNAPSHOT ? 1L : 0L, Long::sum);
        }
        long snapshotsPublished = 0;
        for (StreamThread t : threads()) {
            snapshotsPublished += t.snapshotsPublished();
        }
        m.put("snapshots-published-total", snapshotsPublished);
        long standbyRecords = 0;
        for (StreamThread t : threads()) {
            standbyRecords += t.standbyRecordsRestored();
            t.standbyPositions().forEach((tp, pos) -> m.put("standby-changelog-position." + tp.topic() + "-" + tp.partition(), pos));
        }
        m.put("standby-records-total", standbyRecords);
        long dropped = 0;
        for (StreamThread t : threads()) {
            dropped += t.droppedRecords();
        }
        m.put("dropped-records-total", dropped);
        for (StreamThread t : threads()) {
            t.activeTaskCreations().forEach((id, n) -> m.merge("active-task-created-total." + id, n, Long::sum));
            t.activeTaskClosures().forEach((id, n) -> m.merge("active-task-closed-total." + id, n, Long::sum));
        }
        synchronized (lock) {
            m.put("alive-stream-threads", threads.stream().filter(Thread::isAlive).count());
        }
        return m;
    }

    // ---- interactive queries

    /**
     * A read-only view of the store {@code name} over the COMMITTED state of every active task of this instance
     * that holds it (a key lives on one instance: find it with {@link #queryMetadataForKey}). Every read of the
     * view throws {@link InvalidStateStoreException} while the job is not RUNNING (rebalancing, restoring, closed):
     * retry then. Reads are safe from any thread.
     */
    public <T> T store(StoreQueryParameters<T> parameters) {
        String name = parameters.storeName();
        if (!builder.stores().containsKey(name)) {
            throw new InvalidStateStoreException("the topology has no store named " + name);
        }
        synchronized (lock) {
            if (state == State.CREATED) {
                throw new InvalidStateStoreException("the job is not started: call start() before querying " + name);
            }
            if (!state.isRunningOrRebalancing()) {
                throw new InvalidStateStoreException("the job is " + state + ": the store " + name + " cannot be queried");
            }
        }
        if (builder.isGlobalStore(name)) {
            return parameters.queryableStoreType().create(() -> List.of(globalStore(name)), name);
        }
        return parameters.queryableStoreType().create(() -> localStores(name), name);
    }

    /**
     * The global store of the name: every instance holds the whole of it, so it is queried locally and read-only,
     * while the job is RUNNING or REBALANCING (the global thread keeps applying its topic through rebalances).
     */
    private io.weir.streams.processor.StateStore globalStore(String name) {
        GlobalStreamThread g;
        synchronized (lock) {
            if (!state.isRunningOrRebalancing()) {
                throw new InvalidStateStoreException("the job is " + state + ": the global store " + name + " cannot be queried");
            }
            g = globalThread;
        }
        io.weir.streams.processor.StateStore store = g == null ? null : g.queryableStore(name);
        if (store == null) {
            throw new InvalidStateStoreException("the global store " + name + " is not open yet; retry");
        }
        return store;
    }

    /** The stores of the name of every restored active task, or InvalidStateStoreException when not RUNNING. */
    private List<io.weir.streams.processor.StateStore> localStores(String name) {
        List<StreamThread> current;
        synchronized (lock) {
            if (state != State.RUNNING) {
                throw new InvalidStateStoreException("the job is " + state + " (rebalancing or restoring, or stopped):"
                    + " the store " + name + " cannot be queried now; retry");
            }
            current = List.copyOf(threads);
        }
        List<io.weir.streams.processor.StateStore> out = new ArrayList<>();
        for (StreamThread t : current) {
            out.addAll(t.queryableStores().getOrDefault(name, List.of()));
        }
        return out;
    }

    /** The newest assignment any of this instance's threads received (the group's hosts). */
    private StreamsPartitionAssignor.AssignmentInfo lastAssignment() {
        StreamsPartitionAssignor.AssignmentInfo best = StreamsPartitionAssignor.AssignmentInfo.NONE;
        for (StreamThread t : threads()) {
            StreamsPartitionAssignor.AssignmentInfo a = t.assignor().lastAssignment();
            if (a.generation() > best.generation()) {
                best = a;
            }
        }
        return best;
    }

    /**
     * Which instance holds {@code key} of the store actively (by its {@code application.server}), which hold it
     * as standby, and its partition: the key's partition is murmur2 of its serialized bytes, as the default
     * partitioner places records. {@link KeyQueryMetadata#NOT_AVAILABLE} before the first assignment.
     */
    public <K> KeyQueryMetadata queryMetadataForKey(String storeName, K key, Serializer<K> keySerializer) {
        List<String> topics = sourceTopicsOfStore(storeName);
        StreamsPartitionAssignor.AssignmentInfo a = lastAssignment();
        int partitions = 0;
        for (String t : topics) {
            partitions = Math.max(partitions, a.partitionCounts().getOrDefault(t, 0));
        }
        if (partitions == 0) {
            return KeyQueryMetadata.NOT_AVAILABLE;
        }
        String topic = topics.stream().filter(t -> a.partitionCounts().containsKey(t)).findFirst().orElseThrow();
        int partition = Murmur2.partitionForKey(keySerializer.serialize(topic, key), partitions);
        TopicPartition tp = new TopicPartition(topic, partition);
        HostInfo active = HostInfo.UNAVAILABLE;
        for (Map.Entry<String, Set<TopicPartition>> e : a.activeHosts().entrySet()) {
            if (e.getValue().contains(tp)) {
                active = HostInfo.buildFromEndpoint(e.getKey());
            }
        }
        Set<HostInfo> standbys = new HashSet<>();
        for (Map.Entry<String, Set<TopicPartition>> e : a.standbyHosts().entrySet()) {
            if (e.getValue().contains(tp)) {
                standbys.add(HostInfo.buildFromEndpoint(e.getKey()));
            }
        }
        return new KeyQueryMetadata(active, standbys, partition);
    }

    /** Every instance of the job (with an {@code application.server}) as the last assignment describes it. */
    public Collection<StreamsMetadata> metadataForAllStreamsClients() {
        StreamsPartitionAssignor.AssignmentInfo a = lastAssignment();
        Map<Integer, Set<String>> storesBySub = StreamThread.storesBySubtopology(builder);
        Map<String, Integer> subByTopic = StreamThread.subtopologyByTopic(builder);
        Set<String> hosts = new java.util.TreeSet<>(a.activeHosts().keySet());
        hosts.addAll(a.standbyHosts().keySet());
        List<StreamsMetadata> out = new ArrayList<>();
        for (String h : hosts) {
            Set<TopicPartition> active = a.activeHosts().getOrDefault(h, Set.of());
            Set<TopicPartition> standby = a.standbyHosts().getOrDefault(h, Set.of());
            out.add(new StreamsMetadata(HostInfo.buildFromEndpoint(h), storesOf(active, subByTopic, storesBySub), active,
                storesOf(standby, subByTopic, storesBySub), standby));
        }
        return out;
    }

    /** The instances that hold the store (actively or as standby). */
    public Collection<StreamsMetadata> streamsMetadataForStore(String storeName) {
        List<StreamsMetadata> out = new ArrayList<>();
        for (StreamsMetadata m : metadataForAllStreamsClients()) {
            if (m.stateStoreNames().contains(storeName) || m.standbyStateStoreNames().contains(storeName)) {
                out.add(m);
            }
        }
        return out;
    }

    private static Set<String> storesOf(Set<TopicPartition> partitions, Map<String, Integer> subByTopic,
                                        Map<Integer, Set<String>> storesBySub) {
        Set<String> out = new java.util.TreeSet<>();
        for (TopicPartition tp : partitions) {
            Integer sub = subByTopic.get(tp.topic());
            if (sub != null) {
                out.addAll(storesBySub.getOrDefault(sub, Set.of()));
            }
        }
        return out;
    }

    /** The source topics of the sub-topology that holds the store. */
    private List<String> sourceTopicsOfStore(String storeName) {
        for (Map.Entry<Integer, Set<String>> e : StreamThread.storesBySubtopology(builder).entrySet()) {
            if (e.getValue().contains(storeName)) {
                List<String> topics = new ArrayList<>();
                StreamThread.subtopologyByTopic(builder).forEach((t, sub) -> {
                    if (sub.equals(e.getKey())) {
                        topics.add(t);
                    }
                });
                java.util.Collections.sort(topics);
                return topics;
            }
        }
        throw new IllegalArgumentException("the topology has no store named " + storeName);
    }

    /** The topology this instance runs. */
    public Topology topology() {
        return topology;
    }

    private void setState(State newState) {
        State old = state;
        if (old == newState) {
            return;
        }
        state = newState;
        log.info("State transition from {} to {}", old, newState);
        StateListener l = stateListener;
        if (l != null) {
            try {
                l.onChange(newState, old);
            } catch (RuntimeException e) {
                log.warn("The state listener failed", e);
            }
        }
    }

    private void updateStateFromThreads() {
        if (!state.isRunningOrRebalancing()) {
            return;
        }
        boolean allRunning = !threads.isEmpty();
        for (StreamThread t : threads) {
            allRunning &= t.state() == StreamThread.State.RUNNING;
        }
        setState(allRunning ? State.RUNNING : State.REBALANCING);
    }

    private final class Observer implements StreamThread.Observer {
        private final String processId;

        Observer(String processId) {
            this.processId = processId;
        }

        @Override
        public void onStateChange(StreamThread thread, StreamThread.State oldState, StreamThread.State newState) {
            synchronized (lock) {
                updateStateFromThreads();
            }
        }

        @Override
        public void onShutdownApplicationRequested(StreamThread thread) {
            synchronized (lock) {
                if (!state.isRunningOrRebalancing()) {
                    return;
                }
                setState(State.PENDING_ERROR);
                shutdownThread = new Thread(() -> close(Duration.ofSeconds(30)), applicationId + "-shutdown");
                shutdownThread.setDaemon(true);
                shutdownThread.start();
            }
        }

        @Override
        public void onRestoreStarted(RestoreProgress progress) {
            restores.add(progress);
        }

        @Override
        public void onExit(StreamThread thread, Throwable failure) {
            if (failure != null) {
                handleThreadFailure(thread, failure, processId);
            }
        }
    }

    /**
     * The global stream thread died: the handler is told, as for a stream thread, but the global thread cannot
     * be replaced (its stores would have to be restored while the stream tasks read them), so REPLACE_THREAD
     * shuts the client down too; the client goes to {@code PENDING_ERROR} then {@code ERROR}.
     */
    private void onGlobalThreadFailure(Throwable failure, String processId) {
        handleThreadFailure(null, failure, processId);
    }

    /**
     * Asks the uncaught-exception handler what a thread's failure does and does it; {@code thread} is null
     * for the global thread. Runs on the failed thread, so the client closes on a thread of its own.
     */
    private void handleThreadFailure(StreamThread thread, Throwable failure, String processId) {
        String name = thread != null ? thread.getName() : applicationId + "-GlobalStreamThread";
        StreamsUncaughtExceptionHandler handler;
        synchronized (lock) {
            if (!state.isRunningOrRebalancing()) {
                return;
            }
            handler = exceptionHandler;
        }
        StreamThreadExceptionResponse response = StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        if (handler != null) {
            try {
                response = handler.handle(failure);
            } catch (RuntimeException e) {
                log.error("The uncaught exception handler failed; shutting the client down", e);
            }
        }
        if (response == StreamThreadExceptionResponse.REPLACE_THREAD && thread == null) {
            log.error("The global stream thread failed and cannot be replaced; shutting the client down", failure);
            response = StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        if (response == StreamThreadExceptionResponse.SHUTDOWN_APPLICATION) {
            log.error("Thread {} failed and the handler asked to shut the whole application {} down", name, applicationId);
            StreamThread.Settings settings = threadSettings(thread != null ? thread.index() : 0, processId);
            Thread signal = new Thread(() -> StreamThread.signalShutdownApplication(settings, Duration.ofSeconds(60)),
                applicationId + "-shutdown-application");
            signal.setDaemon(true);
            signal.start();
            response = StreamThreadExceptionResponse.SHUTDOWN_CLIENT;   // this instance shuts down at once
        }
        synchronized (lock) {
            if (response == StreamThreadExceptionResponse.REPLACE_THREAD && state.isRunningOrRebalancing()) {
                StreamThread replacement = newThread(thread.index(), processId);
                threads.set(threads.indexOf(thread), replacement);
                log.info("Replacing the failed stream thread {} with {}", thread.getName(), replacement.getName());
                replacement.start();
                return;
            }
            setState(State.PENDING_ERROR);
            shutdownThread = new Thread(() -> close(Duration.ofSeconds(30)), applicationId + "-shutdown");
            shutdownThread.setDaemon(true);
            shutdownThread.start();
        }
    }

    /** Package view for tests: the live threads. */
    Collection<StreamThread> threads() {
        synchronized (lock) {
            return List.copyOf(threads);
        }
    }
}
