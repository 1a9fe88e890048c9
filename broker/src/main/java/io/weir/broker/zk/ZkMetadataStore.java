package io.weir.broker.zk;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.LocalMetadataStore;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.common.TopicPartition;
import io.weir.common.utils.FileUtils;
import io.weir.common.utils.Json;
import io.weir.protocol.message.UpdateMetadataRequest;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The cluster's metadata in ZooKeeper, through Apache Curator: the cluster id, topics (replica
 * assignment, configs, partition states), the live brokers and the elected controller, in Kafka's
 * znode layout ({@link ZkPaths}). With {@code zookeeper.connect} unset it first starts an
 * {@link EmbeddedZooKeeper} under the log dir and connects to that, so a standalone broker runs the
 * same code as a cluster member. A chroot in {@code zookeeper.connect} becomes Curator's namespace.
 *
 * <p>Readers see an immutable {@link Image} that is swapped atomically. It is built from the controller's
 * UpdateMetadata requests ({@link #applyUpdateMetadata}: leaders, ISRs, live brokers, deletions, with no
 * ZooKeeper read), kept current by ZooKeeper watches as well (another broker's change, and what a request
 * lacks), and re-read under {@link #lock} after each of this broker's own writes, so a write is visible to
 * this broker as soon as the call that made it returns. Neither path takes a partition back to an older
 * partition epoch, and no UpdateMetadata of a controller epoch older than the image reflects (a deposed
 * controller's, still in flight) changes it. A refresh that fails is tried again, so a change whose watch
 * fired is never left unread. A change of one
 * partition's state znode (an ISR or leader change) re-reads that znode alone, not its whole topic. Every
 * write is acknowledged by ZooKeeper (durable on a quorum) before the call returns.
 *
 * <p>Topic creation, deletion and partition growth are controller writes ({@link ZkController}):
 * {@link #createTopic} and {@link #deleteTopic} refuse, so there is one path for them. Thread-safe.
 */
public final class ZkMetadataStore implements MetadataStore {
    private static final Logger log = LoggerFactory.getLogger(ZkMetadataStore.class);
    /** Largest number of operations put in one ZooKeeper transaction (its request must stay under jute.maxbuffer). */
    static final int MAX_OPS_PER_TRANSACTION = 1000;
    /** How long after a failed refresh (ZooKeeper unreadable) it is tried again. */
    static final long REFRESH_RETRY_MS = 1000;

    /**
     * What this broker knows of the cluster at one instant; {@code reassignments} are the partition
     * reassignments in progress (their replicas in {@code assignments} are the union of original and target).
     * Immutable.
     */
    public record Image(Map<String, TopicMetadata> topics, Map<String, Map<Integer, List<Integer>>> assignments,
                        Map<String, Integer> topicZkVersions, Map<TopicPartition, PartitionState> states,
                        List<BrokerRegistration> brokers, int controllerId,
                        Map<TopicPartition, PartitionReassignment> reassignments) {
        static final Image EMPTY = new Image(Map.of(), Map.of(), Map.of(), Map.of(), List.of(), -1, Map.of());

        public Image(Map<String, TopicMetadata> topics, Map<String, Map<Integer, List<Integer>>> assignments,
                     Map<String, Integer> topicZkVersions, Map<TopicPartition, PartitionState> states,
                     List<BrokerRegistration> brokers, int controllerId) {
            this(topics, assignments, topicZkVersions, states, brokers, controllerId, Map.of());
        }

        /** The reassignments in progress of one topic, by partition. */
        Map<Integer, PartitionReassignment> reassignmentsOf(String topic) {
            Map<Integer, PartitionReassignment> out = new TreeMap<>();
            reassignments.forEach((tp, r) -> {
                if (tp.topic().equals(topic)) {
                    out.put(tp.partition(), r);
                }
            });
            return out;
        }
    }

    private final CuratorFramework client;
    private final EmbeddedZooKeeper embedded;
    private final String hosts;
    private final int sessionTimeoutMs;
    private final int connectionTimeoutMs;
    private final Path logDir;
    private final int brokerId;
    private final String clusterId;
    private final ScheduledExecutorService refresher;
    private final Object lock = new Object();
    private final CuratorWatcher watcher = this::onWatch;
    // guarded by lock: what changed since the image was built
    private final Set<String> dirtyTopics = new HashSet<>();
    /** Partitions whose state znode alone changed: re-read without the rest of their topic. */
    private final Set<TopicPartition> dirtyPartitions = new HashSet<>();
    private boolean topicListDirty = true;
    private boolean brokersDirty = true;
    private boolean controllerDirty = true;
    private boolean refreshQueued;
    /**
     * The newest controller epoch this image reflects (guarded by lock): of an UpdateMetadata applied, of
     * {@code /controller_epoch} as the last read of the controller found it, or of this broker's own term
     * ({@link #beginControllerTerm}). An UpdateMetadata of an older epoch comes from a deposed controller and
     * describes the cluster as it was before what the image already shows, so it is refused.
     */
    private int controllerEpoch;
    private volatile Image image = Image.EMPTY;
    private volatile boolean closed;
    // guarded by lock
    private java.util.function.Consumer<Image> listener;
    private volatile Runnable observer;
    /** Partition state znodes read so far (tests and diagnostics). */
    private final java.util.concurrent.atomic.AtomicLong partitionStateReads = new java.util.concurrent.atomic.AtomicLong();
    /** Re-reads of ZooKeeper into the image so far (tests and diagnostics). */
    private final java.util.concurrent.atomic.AtomicLong refreshes = new java.util.concurrent.atomic.AtomicLong();

    private ZkMetadataStore(CuratorFramework client, EmbeddedZooKeeper embedded, String hosts, int sessionTimeoutMs,
                            int connectionTimeoutMs, Path logDir, int brokerId, String configuredClusterId) {
        this.client = client;
        this.embedded = embedded;
        this.hosts = hosts;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.connectionTimeoutMs = connectionTimeoutMs;
        this.logDir = logDir;
        this.brokerId = brokerId;
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "weir-zk-metadata");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // a pending retry does not hold close up
        this.refresher = executor;
        try {
            this.clusterId = initCluster(configuredClusterId);
            client.getConnectionStateListenable().addListener((c, state) -> {
                if (state == ConnectionState.RECONNECTED) {
                    // the session may be new, and its watches gone: read everything again
                    markAllDirty();
                }
            });
            synchronized (lock) {
                refreshLocked();
            }
        } catch (RuntimeException | Error e) {
            closed = true;
            refresher.shutdownNow();
            throw e;
        }
    }

    /**
     * Connects to {@code zookeeper.connect}, or starts the embedded server when it is unset, and
     * loads the metadata. On a first start against an empty ZooKeeper, topics of an existing
     * {@link LocalMetadataStore} in the log dir are imported once.
     */
    public static ZkMetadataStore open(BrokerConfig config, Path logDir) {
        String connect = config.getString(BrokerConfig.ZOOKEEPER_CONNECT);
        EmbeddedZooKeeper embedded = null;
        if (connect == null || connect.isBlank()) {
            embedded = EmbeddedZooKeeper.start(logDir);
            connect = embedded.connectString();
        }
        int slash = connect.indexOf('/');
        String hosts = slash < 0 ? connect.trim() : connect.substring(0, slash).trim();
        String chroot = slash < 0 ? null : connect.substring(slash).replaceAll("/+$", "");
        int sessionTimeoutMs = config.getInt(BrokerConfig.ZOOKEEPER_SESSION_TIMEOUT_MS);
        int connectionTimeoutMs = config.zookeeperConnectionTimeoutMs();
        CuratorFramework client = CuratorFrameworkFactory.builder()
            .connectString(hosts)
            .namespace(chroot == null || chroot.isEmpty() ? null : chroot.substring(1))
            .sessionTimeoutMs(sessionTimeoutMs)
            .connectionTimeoutMs(connectionTimeoutMs)
            .retryPolicy(new ExponentialBackoffRetry(100, 5, 2000))
            .build();
        try {
            client.start();
            if (!client.blockUntilConnected(connectionTimeoutMs, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("cannot connect to ZooKeeper at " + connect + " within "
                    + BrokerConfig.ZOOKEEPER_CONNECTION_TIMEOUT_MS + "=" + connectionTimeoutMs + " ms");
            }
            return new ZkMetadataStore(client, embedded, hosts, sessionTimeoutMs, connectionTimeoutMs, logDir,
                config.brokerId(), config.getString(BrokerConfig.CLUSTER_ID));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            client.close();
            closeQuietly(embedded);
            throw new IllegalStateException("interrupted while connecting to ZooKeeper", e);
        } catch (RuntimeException | Error e) {
            client.close();
            closeQuietly(embedded);
            throw e;
        }
    }

    private static void closeQuietly(EmbeddedZooKeeper embedded) {
        if (embedded != null) {
            embedded.close();
        }
    }

    public CuratorFramework client() {
        return client;
    }

    /** Whether this store runs its own embedded ZooKeeper (then this broker is the only one). */
    public boolean isEmbedded() {
        return embedded != null;
    }

    /** The ZooKeeper servers (no chroot), for a raw client that only needs to reach a session. */
    String hosts() {
        return hosts;
    }

    int sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    int connectionTimeoutMs() {
        return connectionTimeoutMs;
    }

    Path logDir() {
        return logDir;
    }

    /** The local directory of small per-broker files (cluster id check, ZooKeeper session). */
    Path localDir() {
        return logDir.resolve(LocalMetadataStore.DIR_NAME);
    }

    public Image image() {
        return image;
    }

    /** The newest controller epoch this broker's image reflects (0 before any is known). */
    public int controllerEpoch() {
        synchronized (lock) {
            return controllerEpoch;
        }
    }

    /**
     * This broker took office as controller under {@code epoch}: from now on no UpdateMetadata of an older
     * controller epoch (one the deposed controller sent before it knew, still in flight) may change the image,
     * which is the controller's view of the cluster and must stay ZooKeeper's.
     */
    void beginControllerTerm(int epoch) {
        synchronized (lock) {
            controllerEpoch = Math.max(controllerEpoch, epoch);
        }
    }

    /**
     * Re-reads everything from ZooKeeper now — the topic list and every topic, the live brokers with their
     * broker epochs, the controller — and publishes the image before returning (setting every watch again): a
     * new controller term starts from ZooKeeper's state, as Kafka's controller reads the cluster on failover.
     */
    void reload() {
        synchronized (lock) {
            topicListDirty = true;
            brokersDirty = true;
            controllerDirty = true;
            dirtyTopics.addAll(image.topics().keySet());
            refreshLocked();
        }
    }

    // ---------------------------------------------------------------- cluster id and import

    private String initCluster(String configuredClusterId) {
        try {
            Path local = localDir();
            Path localIdFile = local.resolve("cluster.id");
            String zkId = readClusterId();
            if (zkId == null) {
                boolean hasLocalTopics = Files.isDirectory(local.resolve("topics"));
                if (hasLocalTopics) {
                    zkId = importLocal(configuredClusterId);
                } else {
                    String id = configuredClusterId != null ? configuredClusterId
                        : Files.exists(localIdFile) ? Files.readString(localIdFile, StandardCharsets.UTF_8).trim()
                        : newClusterId();
                    zkId = createClusterId(id);
                }
            }
            if (configuredClusterId != null && !configuredClusterId.equals(zkId)) {
                throw new IllegalStateException("cluster.id " + configuredClusterId + " does not match the id " + zkId
                    + " stored in ZooKeeper at " + ZkPaths.CLUSTER_ID + ": set cluster.id=" + zkId
                    + " (or remove cluster.id from the config), or point zookeeper.connect at cluster "
                    + configuredClusterId);
            }
            Files.createDirectories(local);
            if (Files.exists(localIdFile)) {
                String stored = Files.readString(localIdFile, StandardCharsets.UTF_8).trim();
                if (!stored.equals(zkId)) {
                    throw new IllegalStateException("the log directory " + logDir.toAbsolutePath() + " belongs to"
                        + " cluster " + stored + " (" + localIdFile + "), but ZooKeeper holds cluster " + zkId
                        + ": point zookeeper.connect at cluster " + stored + ", or log.dirs at a directory of " + zkId);
                }
            } else {
                FileUtils.atomicWrite(localIdFile, ByteBuffer.wrap((zkId + "\n").getBytes(StandardCharsets.UTF_8)));
            }
            return zkId;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check the cluster id in " + localDir(), e);
        }
    }

    private String readClusterId() {
        byte[] data = getDataOrNull(ZkPaths.CLUSTER_ID, null, null);
        return data == null ? null : String.valueOf(Json.parseObject(data).get("id"));
    }

    /** Creates /cluster/id; if another broker won the race, its id. */
    private String createClusterId(String id) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", "1");
        json.put("id", id);
        try {
            client.create().creatingParentsIfNeeded().forPath(ZkPaths.CLUSTER_ID, Json.writeBytes(json));
            log.info("initialized cluster {} in ZooKeeper", id);
            return id;
        } catch (KeeperException.NodeExistsException e) {
            return readClusterId();
        } catch (Exception e) {
            throw zkFailure("create " + ZkPaths.CLUSTER_ID, e);
        }
    }

    /**
     * First start of a broker that kept its metadata in files ({@link LocalMetadataStore}) against an
     * empty ZooKeeper: its cluster id, topics and producer-id high mark move to ZooKeeper, once (the
     * cluster id's znode marks it done). Runs before any controller exists, so it is not fenced.
     */
    private String importLocal(String configuredClusterId) {
        LocalMetadataStore old = new LocalMetadataStore(logDir, configuredClusterId);
        // the cluster id is written last: it marks the import done, so an import cut short by a crash
        // runs again at the next start (and skips the topics it already wrote)
        for (TopicMetadata t : old.topics().values()) {
            try {
                if (client.checkExists().forPath(ZkPaths.topic(t.name())) != null) {
                    continue;
                }
            } catch (Exception e) {
                throw zkFailure("import topic " + t.name(), e);
            }
            Map<Integer, List<Integer>> assignment = new TreeMap<>();
            for (int p = 0; p < t.partitionCount(); p++) {
                assignment.put(p, List.of(brokerId));
            }
            List<CuratorOp> ops = new ArrayList<>();
            try {
                topicCreationOps(t, assignment, 0, Set.of(brokerId), ops);
                commitInChunks(null, ops);
            } catch (Exception e) {
                throw zkFailure("import topic " + t.name(), e);
            }
        }
        Path pidFile = localDir().resolve("producer_id_block");
        if (Files.exists(pidFile)) {
            try {
                long persistedEnd = Long.parseLong(Files.readString(pidFile, StandardCharsets.UTF_8).trim());
                if (persistedEnd > 0) {
                    ZkProducerIdBlocks.createInitialBlock(client, brokerId, persistedEnd);
                }
            } catch (IOException | NumberFormatException e) {
                throw new IllegalStateException("cannot import the producer id block from " + pidFile, e);
            }
        }
        old.close();
        String id = createClusterId(old.clusterId());
        // moved aside, so a later empty ZooKeeper (a lost embedded data dir, a new ensemble) never imports
        // this stale copy again — its producer-id high mark above all would hand out ids twice
        Path done = localDir().resolve(IMPORTED_DIR);
        try {
            Files.createDirectories(done);
            Files.move(localDir().resolve("topics"), done.resolve("topics"));
            if (Files.exists(pidFile)) {
                Files.move(pidFile, done.resolve(pidFile.getFileName()));
            }
            FileUtils.fsyncDirectory(done);
            FileUtils.fsyncDirectory(localDir());
        } catch (IOException e) {
            throw new UncheckedIOException("imported the metadata in " + localDir() + " into ZooKeeper but cannot"
                + " move it aside to " + done, e);
        }
        log.info("imported {} topics of cluster {} from {} into ZooKeeper (the files are now in {})",
            old.topics().size(), id, localDir(), done);
        return id;
    }

    /** Where the files of an imported {@link LocalMetadataStore} are kept, under its directory. */
    static final String IMPORTED_DIR = "imported-into-zookeeper";

    private static String newClusterId() {
        UUID u = UUID.randomUUID();
        ByteBuffer b = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    // ---------------------------------------------------------------- reads

    @Override
    public String clusterId() {
        return clusterId;
    }

    @Override
    public Map<String, TopicMetadata> topics() {
        return image.topics();
    }

    @Override
    public List<BrokerRegistration> liveBrokers() {
        return image.brokers();
    }

    @Override
    public int controllerId() {
        return image.controllerId();
    }

    @Override
    public List<Integer> replicas(TopicPartition tp) {
        Map<Integer, List<Integer>> a = image.assignments().get(tp.topic());
        List<Integer> r = a == null ? null : a.get(tp.partition());
        return r == null ? List.of() : r;
    }

    @Override
    public Optional<PartitionState> partitionState(TopicPartition tp) {
        return Optional.ofNullable(image.states().get(tp));
    }

    /** Reads the partition's state from ZooKeeper now (not the image), with its znode version. */
    public Optional<PartitionState> readPartitionState(TopicPartition tp) {
        Stat stat = new Stat();
        byte[] data = getDataOrNull(ZkPaths.partitionState(tp.topic(), tp.partition()), stat, null);
        return data == null ? Optional.empty() : Optional.of(parseState(data, stat.getVersion()));
    }

    // ---------------------------------------------------------------- writes

    /** Topic creation is a controller write: use {@link ZkController#createTopic}. */
    @Override
    public boolean createTopic(TopicMetadata topic) {
        throw new UnsupportedOperationException("topics are created by the controller (ZkController)");
    }

    /** Topic deletion is a controller write: use {@link ZkController#deleteTopic}. */
    @Override
    public boolean deleteTopic(String name) {
        throw new UnsupportedOperationException("topics are deleted by the controller (ZkController)");
    }

    /**
     * Replaces the topic's config overrides ({@code /config/topics/<topic>}). Partition growth is a
     * controller write ({@link ZkController#addPartitions}); a different partition count is refused.
     */
    @Override
    public boolean updateTopic(TopicMetadata topic) {
        TopicMetadata current = topics().get(topic.name());
        if (current == null) {
            return false;
        }
        if (current.partitionCount() != topic.partitionCount()) {
            throw new UnsupportedOperationException("partitions are added by the controller (ZkController)");
        }
        try {
            byte[] data = configJson(topic.configs());
            String path = ZkPaths.topicConfig(topic.name());
            if (client.checkExists().forPath(path) == null) {
                client.create().creatingParentsIfNeeded().forPath(path, data);
            } else {
                client.setData().forPath(path, data);
            }
        } catch (Exception e) {
            throw zkFailure("update the configs of topic " + topic.name(), e);
        }
        changed(topic.name(), false);
        return true;
    }

    /**
     * The operations that create a topic: its config, assignment, partitions and their first states;
     * with a negative {@code controllerEpoch} only the config and the assignment (a broker that is not
     * the controller asks for the topic that way, and the controller completes it).
     */
    void topicCreationOps(TopicMetadata topic, Map<Integer, List<Integer>> assignment, int controllerEpoch,
                          Set<Integer> live, List<CuratorOp> ops) throws Exception {
        ensurePath(ZkPaths.CONFIG_TOPICS);
        ensurePath(ZkPaths.BROKER_TOPICS);
        if (client.checkExists().forPath(ZkPaths.topicConfig(topic.name())) != null) {
            // left by a deletion that did not finish; the new topic's configs replace it
            ops.add(client.transactionOp().setData().forPath(ZkPaths.topicConfig(topic.name()), configJson(topic.configs())));
        } else {
            ops.add(client.transactionOp().create().forPath(ZkPaths.topicConfig(topic.name()), configJson(topic.configs())));
        }
        ops.add(client.transactionOp().create().forPath(ZkPaths.topic(topic.name()), topicJson(topic.topicId(), assignment)));
        if (controllerEpoch < 0) {
            return; // a request for the controller: it creates the partitions and their states
        }
        ops.add(client.transactionOp().create().forPath(ZkPaths.partitions(topic.name())));
        partitionCreationOps(topic.name(), assignment, 0, controllerEpoch, live, ops);
    }

    /**
     * Creates partitions {@code from..} of the assignment with their first state: every live replica in
     * the ISR, the first of them leading ({@link LeaderElection#initial}).
     */
    void partitionCreationOps(String topic, Map<Integer, List<Integer>> assignment, int from, int controllerEpoch,
                              Set<Integer> live, List<CuratorOp> ops) throws Exception {
        for (int p = from; p < assignment.size(); p++) {
            List<Integer> replicas = assignment.get(p);
            ops.add(client.transactionOp().create().forPath(ZkPaths.partition(topic, p)));
            LeaderElection.Decision first = LeaderElection.initial(replicas, live);
            ops.add(client.transactionOp().create().forPath(ZkPaths.partitionState(topic, p),
                stateJson(first.leader(), 0, first.isr(), controllerEpoch)));
        }
    }

    /** The operations that delete a topic, children first. */
    void topicDeletionOps(String topic, List<CuratorOp> ops) throws Exception {
        String parts = ZkPaths.partitions(topic);
        if (client.checkExists().forPath(parts) != null) {
            List<String> children = client.getChildren().forPath(parts);
            for (String p : children) {
                String pp = parts + "/" + p;
                for (String c : client.getChildren().forPath(pp)) {
                    ops.add(client.transactionOp().delete().forPath(pp + "/" + c));
                }
                ops.add(client.transactionOp().delete().forPath(pp));
            }
            ops.add(client.transactionOp().delete().forPath(parts));
        }
        ops.add(client.transactionOp().delete().forPath(ZkPaths.topic(topic)));
        if (client.checkExists().forPath(ZkPaths.topicConfig(topic)) != null) {
            ops.add(client.transactionOp().delete().forPath(ZkPaths.topicConfig(topic)));
        }
    }

    /**
     * Commits {@code ops} in transactions of at most {@link #MAX_OPS_PER_TRANSACTION}, each starting
     * with {@code guard} (the controller-epoch check) when one is given. Creations come first in the
     * list, so a reader may see a topic before all its partition states, never the reverse.
     */
    void commitInChunks(CuratorOp guard, List<CuratorOp> ops) throws Exception {
        int max = MAX_OPS_PER_TRANSACTION - 1;
        for (int i = 0; i < ops.size(); i += max) {
            List<CuratorOp> chunk = new ArrayList<>();
            if (guard != null) {
                chunk.add(guard);
            }
            chunk.addAll(ops.subList(i, Math.min(ops.size(), i + max)));
            client.transaction().forOperations(chunk);
        }
    }

    void ensurePath(String path) throws Exception {
        if (client.checkExists().forPath(path) == null) {
            try {
                client.create().creatingParentsIfNeeded().forPath(path);
            } catch (KeeperException.NodeExistsException ignored) {
                // another broker made it
            }
        }
    }

    /** Re-reads the topics after this broker changed their partition states, in one refresh. */
    void changed(java.util.Collection<String> topics) {
        synchronized (lock) {
            dirtyTopics.addAll(topics);
            refreshLocked();
        }
    }

    /**
     * Re-reads one partition's state after this broker changed it (an ISR or leader change), without the rest
     * of its topic, so the change is visible when the call returns.
     */
    void changed(TopicPartition tp) {
        synchronized (lock) {
            dirtyPartitions.add(tp);
            refreshLocked();
        }
    }

    /** Whether a refresh is queued (a watch or a controller request reported a change not read yet); tests. */
    boolean refreshPending() {
        synchronized (lock) {
            return refreshQueued;
        }
    }

    /** How many partition state znodes this store has read (tests and diagnostics). */
    public long partitionStateReads() {
        return partitionStateReads.get();
    }

    /** How many times this store has re-read ZooKeeper into its image (tests and diagnostics). */
    public long refreshCount() {
        return refreshes.get();
    }

    /** Re-reads the topic after this broker changed it, so the change is visible when the call returns. */
    void changed(String topic, boolean listChanged) {
        synchronized (lock) {
            dirtyTopics.add(topic);
            topicListDirty |= listChanged;
            refreshLocked();
        }
    }

    // ---------------------------------------------------------------- JSON of the znodes

    static byte[] topicJson(UUID topicId, Map<Integer, List<Integer>> assignment) {
        return topicJson(topicId, assignment, Map.of());
    }

    /** The topic znode with the partitions' reassignments in progress (Kafka's adding/removing_replicas). */
    static byte[] topicJson(UUID topicId, Map<Integer, List<Integer>> assignment,
                            Map<Integer, PartitionReassignment> reassignments) {
        Map<String, Object> parts = new LinkedHashMap<>();
        assignment.forEach((p, r) -> parts.put(Integer.toString(p), r));
        Map<String, Object> adding = new LinkedHashMap<>();
        Map<String, Object> removing = new LinkedHashMap<>();
        new TreeMap<>(reassignments).forEach((p, r) -> {
            if (!r.adding().isEmpty()) {
                adding.put(Integer.toString(p), r.adding());
            }
            if (!r.removing().isEmpty()) {
                removing.put(Integer.toString(p), r.removing());
            }
        });
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 3);
        json.put("topic_id", topicId.toString());
        json.put("partitions", parts);
        json.put("adding_replicas", adding);
        json.put("removing_replicas", removing);
        return Json.writeBytes(json);
    }

    static byte[] configJson(Map<String, String> configs) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1);
        json.put("config", new TreeMap<>(configs));
        return Json.writeBytes(json);
    }

    static byte[] stateJson(int leader, int leaderEpoch, List<Integer> isr, int controllerEpoch) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("controller_epoch", controllerEpoch);
        json.put("leader", leader);
        json.put("version", 1);
        json.put("leader_epoch", leaderEpoch);
        json.put("isr", isr);
        return Json.writeBytes(json);
    }

    static PartitionState parseState(byte[] data, int zkVersion) {
        Map<String, Object> o = Json.parseObject(data);
        return new PartitionState(Json.intField(o, "leader", -1), Json.intField(o, "leader_epoch", 0),
            Json.intList(o.get("isr")), Json.intField(o, "controller_epoch", 0), zkVersion);
    }

    // ---------------------------------------------------------------- watches and the image

    private void onWatch(WatchedEvent event) {
        if (event.getType() == Watcher.Event.EventType.None || event.getPath() == null) {
            return;
        }
        String path = event.getPath();
        synchronized (lock) {
            if (path.equals(ZkPaths.BROKER_TOPICS)) {
                topicListDirty = true;
            } else if (path.startsWith(ZkPaths.BROKER_TOPICS + "/")) {
                String[] parts = path.substring(ZkPaths.BROKER_TOPICS.length() + 1).split("/");
                TopicPartition tp = stateZnodePartition(parts);
                if (tp != null) {
                    dirtyPartitions.add(tp); // only its state changed: the topic znode has its own watch
                } else {
                    dirtyTopics.add(parts[0]);
                }
            } else if (path.startsWith(ZkPaths.CONFIG_TOPICS + "/")) {
                dirtyTopics.add(path.substring(ZkPaths.CONFIG_TOPICS.length() + 1));
            } else if (path.startsWith(ZkPaths.BROKER_IDS)) {
                brokersDirty = true;
            } else if (path.equals(ZkPaths.CONTROLLER)) {
                controllerDirty = true;
            } else {
                return;
            }
            scheduleRefreshLocked();
        }
    }

    /** The partition of a {@code <topic>/partitions/<p>/state} path under the topics znode, else null. */
    private static TopicPartition stateZnodePartition(String[] parts) {
        if (parts.length != 4 || !parts[1].equals("partitions") || !parts[3].equals("state")) {
            return null;
        }
        try {
            return new TopicPartition(parts[0], Integer.parseInt(parts[2]));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Schedules a re-read of {@code topics}, the live brokers and the controller on the refresher thread,
     * without waiting (the controller, when it may have missed a change).
     */
    public void refreshSoon(java.util.Collection<String> topics) {
        synchronized (lock) {
            dirtyTopics.addAll(topics);
            topicListDirty = true;
            brokersDirty = true;
            controllerDirty = true;
            scheduleRefreshLocked();
        }
    }

    private void markAllDirty() {
        synchronized (lock) {
            topicListDirty = true;
            brokersDirty = true;
            controllerDirty = true;
            dirtyTopics.addAll(image.topics().keySet());
            scheduleRefreshLocked();
        }
    }

    private void scheduleRefreshLocked() {
        if (refreshQueued || closed) {
            return;
        }
        refreshQueued = true;
        try {
            refresher.execute(() -> {
                synchronized (lock) {
                    refreshQueued = false;
                    if (closed) {
                        return;
                    }
                    try {
                        refreshLocked();
                    } catch (RuntimeException e) {
                        // the watches this refresh was to set again may not be set: nothing would report the
                        // next change (a broker registering again), so read everything again until it works
                        log.warn("cannot refresh metadata from ZooKeeper; retrying in {} ms", REFRESH_RETRY_MS, e);
                        retryRefreshLocked();
                    }
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            refreshQueued = false; // closing
        }
    }

    /** After a refresh that failed: everything is read again in {@link #REFRESH_RETRY_MS}. Holds {@link #lock}. */
    private void retryRefreshLocked() {
        topicListDirty = true;
        brokersDirty = true;
        controllerDirty = true;
        dirtyTopics.addAll(image.topics().keySet());
        if (closed) {
            return;
        }
        try {
            refresher.schedule(() -> {
                synchronized (lock) {
                    scheduleRefreshLocked();
                }
            }, REFRESH_RETRY_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** Re-reads what changed (setting watches again) and publishes a new image. Holds {@link #lock}. */
    private void refreshLocked() {
        Image old = image;
        Map<String, TopicMetadata> topics = old.topics();
        Map<String, Map<Integer, List<Integer>>> assignments = old.assignments();
        Map<String, Integer> versions = old.topicZkVersions();
        Map<TopicPartition, PartitionState> states = old.states();
        Map<TopicPartition, PartitionReassignment> reassignments = old.reassignments();
        List<BrokerRegistration> brokers = old.brokers();
        int controllerId = old.controllerId();
        try {
            if (topicListDirty || !dirtyTopics.isEmpty() || !dirtyPartitions.isEmpty()) {
                topics = new TreeMap<>(topics);
                assignments = new HashMap<>(assignments);
                versions = new HashMap<>(versions);
                states = new HashMap<>(states);
                reassignments = new HashMap<>(reassignments);
                Set<String> names;
                if (topicListDirty) {
                    topicListDirty = false;
                    ensurePath(ZkPaths.BROKER_TOPICS);
                    names = new HashSet<>(client.getChildren().usingWatcher(watcher).forPath(ZkPaths.BROKER_TOPICS));
                    for (String existing : new ArrayList<>(topics.keySet())) {
                        if (!names.contains(existing)) {
                            dirtyTopics.add(existing);
                        }
                    }
                    for (String n : names) {
                        if (!topics.containsKey(n)) {
                            dirtyTopics.add(n);
                        }
                    }
                }
                List<String> toRead = new ArrayList<>(dirtyTopics);
                dirtyTopics.clear();
                for (String name : toRead) {
                    readTopic(name, topics, assignments, versions, states, reassignments);
                }
                List<TopicPartition> partitionsToRead = new ArrayList<>(dirtyPartitions);
                dirtyPartitions.clear();
                Set<String> whole = new HashSet<>(toRead);
                for (TopicPartition tp : partitionsToRead) {
                    if (whole.contains(tp.topic())) {
                        continue; // read with its topic
                    }
                    if (!readPartitionState(tp, topics, states)) {
                        // a partition this image does not know, or a state gone: the topic changed, read it all
                        whole.add(tp.topic());
                        readTopic(tp.topic(), topics, assignments, versions, states, reassignments);
                    }
                }
                topics = Collections.unmodifiableMap(topics);
                assignments = Map.copyOf(assignments);
                versions = Map.copyOf(versions);
                states = Map.copyOf(states);
                reassignments = Map.copyOf(reassignments);
            }
            if (brokersDirty) {
                brokersDirty = false;
                brokers = readBrokers();
            }
            if (controllerDirty) {
                controllerDirty = false;
                controllerId = readControllerId();
                // read after /controller: an epoch at least that controller's, never a newer controller's id
                // with an older epoch
                controllerEpoch = Math.max(controllerEpoch, readControllerEpoch());
            }
        } catch (Exception e) {
            throw zkFailure("read the cluster metadata", e);
        }
        refreshes.incrementAndGet();
        publishLocked(old, new Image(topics, assignments, versions, states, brokers, controllerId, reassignments));
    }

    /** Publishes {@code next} and tells the listener and observer when it differs from {@code old}. Holds {@link #lock}. */
    private void publishLocked(Image old, Image next) {
        image = next;
        lock.notifyAll(); // awaitImage
        if (!next.equals(old)) {
            if (listener != null) {
                try {
                    listener.accept(next);
                } catch (RuntimeException e) {
                    log.error("applying a metadata change failed", e);
                }
            }
            Runnable o = observer;
            if (o != null) {
                o.run();
            }
        }
    }

    /** UpdateMetadata's leader for a partition of a topic being deleted (Kafka's {@code LeaderDuringDelete}). */
    public static final int LEADER_DURING_DELETE = -2;

    /**
     * Builds the next image from a controller's UpdateMetadata (its controller epoch already accepted) and
     * swaps it in at once, reading nothing from ZooKeeper for what the request carries: the live brokers with
     * their endpoints and racks, the controller, and each named partition's leader, leader epoch, ISR,
     * controller epoch and partition epoch (the state znode's version), plus topic deletions (every partition
     * led by {@link #LEADER_DURING_DELETE}). A partition state older than the image's (a lower partition
     * epoch, as a watch may have read a newer one first) is skipped, so the two paths never undo each other.
     *
     * <p>What the request lacks is read from ZooKeeper afterwards, on the refresher thread: a topic this image
     * does not know (or knows under another topic id), or whose replica assignment the request changes (new
     * partitions, a reassignment step), is re-read whole, because UpdateMetadata carries neither the topic's
     * configs nor its reassignment state (adding/removing replicas) nor its znode version; a broker that is
     * new to the image (or moved to another address or rack) enters it at once with epoch -1 and the
     * registrations are re-read for its broker epoch (the registration znode's czxid), which the request
     * lacks too. Returns the topics left to that re-read.
     *
     * <p>A request of an older controller epoch than the image reflects ({@link #controllerEpoch}) changes
     * nothing and returns empty: a deposed controller's request, still in flight when this broker read the new
     * controller from ZooKeeper (or took office itself), describes the cluster from before — a broker that has
     * registered again since would vanish from the image, and nothing would bring it back.
     */
    Optional<Set<String>> applyUpdateMetadata(UpdateMetadataRequest request) {
        synchronized (lock) {
            if (request.controllerEpoch() < controllerEpoch) {
                return Optional.empty();
            }
            controllerEpoch = request.controllerEpoch();
            Image old = image;
            Map<String, TopicMetadata> topics = new TreeMap<>(old.topics());
            Map<String, Map<Integer, List<Integer>>> assignments = new HashMap<>(old.assignments());
            Map<String, Integer> versions = new HashMap<>(old.topicZkVersions());
            Map<TopicPartition, PartitionState> states = new HashMap<>(old.states());
            Map<TopicPartition, PartitionReassignment> reassignments = new HashMap<>(old.reassignments());
            Set<String> reread = new java.util.TreeSet<>();
            for (UpdateMetadataRequest.UpdateMetadataTopicState t : request.topicStates()) {
                String name = t.topicName();
                TopicMetadata known = topics.get(name);
                boolean deleting = !t.partitionStates().isEmpty() && t.partitionStates().stream()
                    .allMatch(ps -> ps.leader() == LEADER_DURING_DELETE);
                if (known == null || !known.topicId().equals(t.topicId())) {
                    if (!deleting) {
                        reread.add(name);
                    }
                    continue;
                }
                if (deleting) {
                    topics.remove(name);
                    assignments.remove(name);
                    versions.remove(name);
                    reassignments.keySet().removeIf(tp -> tp.topic().equals(name));
                    states.keySet().removeIf(tp -> tp.topic().equals(name));
                    continue;
                }
                Map<Integer, List<Integer>> assignment = assignments.getOrDefault(name, Map.of());
                boolean sameAssignment = true;
                for (UpdateMetadataRequest.UpdateMetadataPartitionState ps : t.partitionStates()) {
                    sameAssignment &= ps.leader() != LEADER_DURING_DELETE
                        && ps.replicas().equals(assignment.get(ps.partitionIndex()));
                }
                if (!sameAssignment) {
                    reread.add(name);
                    continue;
                }
                for (UpdateMetadataRequest.UpdateMetadataPartitionState ps : t.partitionStates()) {
                    TopicPartition tp = new TopicPartition(name, ps.partitionIndex());
                    PartitionState current = states.get(tp);
                    if (current != null && ps.zkVersion() <= current.zkVersion()) {
                        continue; // the image has this state or a newer one
                    }
                    states.put(tp, new PartitionState(ps.leader(), ps.leaderEpoch(), ps.isr(), ps.controllerEpoch(),
                        ps.zkVersion()));
                }
            }
            Map<Integer, BrokerRegistration> knownBrokers = new HashMap<>();
            old.brokers().forEach(b -> knownBrokers.put(b.id(), b));
            List<BrokerRegistration> brokers = new ArrayList<>();
            boolean epochsMissing = false;
            for (UpdateMetadataRequest.UpdateMetadataBroker b : request.liveBrokers()) {
                String host = b.endpoints().isEmpty() ? "" : b.endpoints().get(0).host();
                int port = b.endpoints().isEmpty() ? -1 : b.endpoints().get(0).port();
                BrokerRegistration k = knownBrokers.get(b.id());
                if (k != null && k.host().equals(host) && k.port() == port && java.util.Objects.equals(k.rack(), b.rack())) {
                    brokers.add(k); // the same registration, as far as the request tells: keep its epoch
                    continue;
                }
                List<String> endpoints = new ArrayList<>();
                for (UpdateMetadataRequest.UpdateMetadataEndpoint e : b.endpoints()) {
                    endpoints.add(e.listener() + "://" + e.host() + ":" + e.port());
                }
                brokers.add(new BrokerRegistration(b.id(), host, port, b.rack(), endpoints));
                epochsMissing = true;
            }
            brokers.sort(java.util.Comparator.comparingInt(BrokerRegistration::id));
            publishLocked(old, new Image(Collections.unmodifiableMap(topics), Map.copyOf(assignments),
                Map.copyOf(versions), Map.copyOf(states), List.copyOf(brokers), request.controllerId(),
                Map.copyOf(reassignments)));
            if (!reread.isEmpty() || epochsMissing) {
                dirtyTopics.addAll(reread);
                brokersDirty |= epochsMissing;
                scheduleRefreshLocked();
            }
            return Optional.of(reread);
        }
    }

    /**
     * Waits at most {@code timeoutMs} until the image satisfies {@code condition}; returns whether it
     * does. Images change as ZooKeeper's watches report other brokers' writes.
     */
    public boolean awaitImage(java.util.function.Predicate<Image> condition, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (lock) {
            while (!condition.test(image)) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || closed) {
                    return false;
                }
                try {
                    lock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Runs {@code o} after each new image, under the store's lock (it must only hand work to another
     * thread); the controller uses it to notice topics other brokers asked for.
     */
    void setObserver(Runnable o) {
        observer = o;
    }

    /**
     * Calls {@code l} with every new image, in order, while holding the store's lock (so it never
     * sees an image older than one it has seen, and a write's own change is applied before the
     * write returns); null stops the calls, waiting for a running one to finish.
     */
    public void setListener(java.util.function.Consumer<Image> l) {
        synchronized (lock) {
            listener = l;
        }
    }

    private void readTopic(String name, Map<String, TopicMetadata> topics, Map<String, Map<Integer, List<Integer>>> assignments,
                           Map<String, Integer> versions, Map<TopicPartition, PartitionState> states,
                           Map<TopicPartition, PartitionReassignment> reassignments) {
        TopicMetadata previous = topics.remove(name);
        assignments.remove(name);
        versions.remove(name);
        reassignments.keySet().removeIf(tp -> tp.topic().equals(name));
        if (previous != null) {
            for (int p = 0; p < previous.partitionCount(); p++) {
                states.remove(new TopicPartition(name, p));
            }
        }
        Stat stat = new Stat();
        byte[] data = getDataOrNull(ZkPaths.topic(name), stat, watcher);
        if (data == null) {
            return; // deleted
        }
        Map<String, Object> json = Json.parseObject(data);
        Map<Integer, List<Integer>> assignment = new TreeMap<>();
        if (json.get("partitions") instanceof Map<?, ?> parts) {
            for (Map.Entry<?, ?> e : parts.entrySet()) {
                assignment.put(Integer.parseInt(e.getKey().toString()), List.copyOf(Json.intList(e.getValue())));
            }
        }
        Map<Integer, List<Integer>> adding = partitionLists(json.get("adding_replicas"));
        Map<Integer, List<Integer>> removing = partitionLists(json.get("removing_replicas"));
        for (int p : assignment.keySet()) {
            List<Integer> a = adding.getOrDefault(p, List.of());
            List<Integer> r = removing.getOrDefault(p, List.of());
            if (!a.isEmpty() || !r.isEmpty()) {
                reassignments.put(new TopicPartition(name, p), new PartitionReassignment(a, r));
            }
        }
        byte[] configData = getDataOrNull(ZkPaths.topicConfig(name), null, watcher);
        Map<String, String> configs = new HashMap<>();
        if (configData != null && Json.parseObject(configData).get("config") instanceof Map<?, ?> c) {
            c.forEach((k, v) -> configs.put(k.toString(), String.valueOf(v)));
        }
        short rf = (short) (assignment.isEmpty() ? 1 : assignment.values().iterator().next().size());
        TopicMetadata t = new TopicMetadata(name, UUID.fromString(String.valueOf(json.get("topic_id"))),
            assignment.size(), rf, configs);
        for (int p = 0; p < assignment.size(); p++) {
            Stat s = new Stat();
            partitionStateReads.incrementAndGet();
            byte[] st = getDataOrNull(ZkPaths.partitionState(name, p), s, watcher);
            if (st != null) {
                TopicPartition tp = new TopicPartition(name, p);
                states.put(tp, newest(tp, t.topicId(), parseState(st, s.getVersion())));
            }
        }
        topics.put(name, t);
        assignments.put(name, Collections.unmodifiableMap(assignment));
        versions.put(name, stat.getVersion());
    }

    /**
     * Re-reads one partition's state znode (watching it again) into {@code states}; false, reading nothing,
     * when its topic is not in {@code topics} or has fewer partitions, and false when the znode is gone.
     */
    private boolean readPartitionState(TopicPartition tp, Map<String, TopicMetadata> topics,
                                       Map<TopicPartition, PartitionState> states) {
        TopicMetadata t = topics.get(tp.topic());
        if (t == null || tp.partition() < 0 || tp.partition() >= t.partitionCount()) {
            return false;
        }
        Stat s = new Stat();
        partitionStateReads.incrementAndGet();
        byte[] st = getDataOrNull(ZkPaths.partitionState(tp.topic(), tp.partition()), s, watcher);
        if (st == null) {
            return false;
        }
        states.put(tp, newest(tp, t.topicId(), parseState(st, s.getVersion())));
        return true;
    }

    /**
     * The state read from ZooKeeper, unless the published image holds a newer one (a higher partition epoch) of
     * the same topic: an UpdateMetadata may bring a state before a lagging ZooKeeper server has it, and a read
     * must not take the image back.
     */
    private PartitionState newest(TopicPartition tp, UUID topicId, PartitionState read) {
        Image current = image;
        TopicMetadata known = current.topics().get(tp.topic());
        PartitionState held = current.states().get(tp);
        return known != null && known.topicId().equals(topicId) && held != null && held.zkVersion() > read.zkVersion()
            ? held : read;
    }

    private static Map<Integer, List<Integer>> partitionLists(Object o) {
        Map<Integer, List<Integer>> out = new TreeMap<>();
        if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.put(Integer.parseInt(e.getKey().toString()), List.copyOf(Json.intList(e.getValue())));
            }
        }
        return out;
    }

    private List<BrokerRegistration> readBrokers() throws Exception {
        ensurePath(ZkPaths.BROKER_IDS);
        List<BrokerRegistration> out = new ArrayList<>();
        for (String child : client.getChildren().usingWatcher(watcher).forPath(ZkPaths.BROKER_IDS)) {
            Stat stat = new Stat();
            byte[] data = getDataOrNull(ZkPaths.BROKER_IDS + "/" + child, stat, watcher);
            if (data == null) {
                continue;
            }
            Map<String, Object> o = Json.parseObject(data);
            List<String> endpoints = new ArrayList<>();
            if (o.get("endpoints") instanceof List<?> l) {
                l.forEach(e -> endpoints.add(String.valueOf(e)));
            }
            Object rack = o.get("rack");
            out.add(new BrokerRegistration(Integer.parseInt(child), String.valueOf(o.get("host")),
                Json.intField(o, "port", -1), rack == null ? null : rack.toString(), endpoints, stat.getCzxid()));
        }
        out.sort(java.util.Comparator.comparingInt(BrokerRegistration::id));
        return List.copyOf(out);
    }

    /** The epoch in {@code /controller_epoch} (no watch: a new term changes {@code /controller} too), 0 if none. */
    private int readControllerEpoch() {
        byte[] data = getDataOrNull(ZkPaths.CONTROLLER_EPOCH, null, null);
        if (data == null) {
            return 0;
        }
        try {
            return Integer.parseInt(new String(data, StandardCharsets.UTF_8).trim());
        } catch (NumberFormatException e) {
            log.warn("ignoring an unreadable {}", ZkPaths.CONTROLLER_EPOCH);
            return 0;
        }
    }

    private int readControllerId() throws Exception {
        Stat exists = client.checkExists().usingWatcher(watcher).forPath(ZkPaths.CONTROLLER);
        if (exists == null) {
            return -1;
        }
        byte[] data = getDataOrNull(ZkPaths.CONTROLLER, null, watcher);
        return data == null ? -1 : Json.intField(Json.parseObject(data), "brokerid", -1);
    }

    /**
     * The znode's data, or null when it does not exist. With a watcher, a missing znode gets an exists
     * watch; if it was created between the read and that watch (the watch then never fires for it),
     * it is read again.
     */
    byte[] getDataOrNull(String path, Stat stat, CuratorWatcher w) {
        while (true) {
            try {
                var builder = client.getData();
                if (stat != null) {
                    return w == null ? builder.storingStatIn(stat).forPath(path)
                        : builder.storingStatIn(stat).usingWatcher(w).forPath(path);
                }
                return w == null ? builder.forPath(path) : builder.usingWatcher(w).forPath(path);
            } catch (KeeperException.NoNodeException e) {
                if (w == null) {
                    return null;
                }
                try {
                    if (client.checkExists().usingWatcher(w).forPath(path) == null) {
                        return null; // the watch reports when it appears
                    }
                } catch (Exception ignored) {
                    return null; // the next refresh sets it
                }
                // created meanwhile: read it
            } catch (Exception e) {
                throw zkFailure("read " + path, e);
            }
        }
    }

    static RuntimeException zkFailure(String what, Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        if (e instanceof RuntimeException r && !(e instanceof UnsupportedOperationException)) {
            return r;
        }
        return new IllegalStateException("ZooKeeper: cannot " + what + ": " + e, e);
    }

    /** Closes the Curator client (ending the session, so ephemeral znodes go now), then the embedded server. */
    @Override
    public void close() {
        closed = true;
        refresher.shutdown();
        try {
            if (!refresher.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("a metadata refresh still runs after 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            client.close();
        } finally {
            closeQuietly(embedded);
        }
    }
}
