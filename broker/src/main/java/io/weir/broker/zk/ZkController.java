package io.weir.broker.zk;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.TopicController;
import io.weir.common.TopicPartition;
import io.weir.common.utils.Json;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The controller: one broker of the cluster, elected with Curator's {@link LeaderLatch}. On election
 * it bumps {@code /controller_epoch} with a conditional update and creates the ephemeral
 * {@code /controller} znode naming itself, in one transaction; the epoch znode's new version starts
 * its {@link ControllerContext}. Its writes — topic creation, deletion, partition growth, partition
 * state changes — are transactions that check that version first ({@link #fencedCommit}), so a
 * deposed controller's writes fail with {@link ControllerMovedException}.
 *
 * <p>On a broker that is not the controller the topic operations are written into ZooKeeper for the
 * controller, as Kafka's ZooKeeper mode did: a creation is the topic's config and assignment znodes,
 * created in one transaction whose conditional create decides between two brokers creating one name
 * (the loser gets {@code NodeExistsException}: TOPIC_ALREADY_EXISTS); partition growth is a
 * conditional update of the assignment znode; a deletion is the marker {@code /admin/delete_topics/<t>}.
 * The controller notices them (its metadata watches, and a watch on the markers) and completes them
 * under its epoch fence ({@link #reconcile}): the new partitions and their first states, or the
 * topic's znodes and then the marker removed. It is the only writer of partition state. The asking
 * broker waits until its own metadata shows the result — every partition with a state, or the topic
 * gone — at most the request's {@code timeoutMs} (not at all when it is {@code <= 0}, as Kafka answers
 * such a request once it is written; the ZooKeeper session timeout for requests without one, such as
 * auto-creation), and otherwise throws
 * {@link TopicController.NotCompletedException} (REQUEST_TIMED_OUT, as Kafka's CreateTopics answers
 * when the leaders do not appear in time; the controller still completes the request).
 *
 * <p>Thread-safe: controller writes are serialized on this object; a non-controller's waits hold no lock.
 */
public final class ZkController implements TopicController, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ZkController.class);

    private final ZkMetadataStore store;
    private final CuratorFramework client;
    private final int brokerId;
    private final LeaderLatch latch;
    private volatile ControllerContext context;
    /** Runs {@link #reconcile}: the requests other brokers wrote, completed by this controller. */
    private final ExecutorService worker;
    private final AtomicBoolean reconcileQueued = new AtomicBoolean();
    private final CuratorWatcher markerWatcher = e -> scheduleReconcile();
    private final long requestWaitMs;

    public ZkController(ZkMetadataStore store, int brokerId) {
        this.store = store;
        this.client = store.client();
        this.brokerId = brokerId;
        this.requestWaitMs = store.sessionTimeoutMs();
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "weir-controller-" + brokerId);
            t.setDaemon(true);
            return t;
        });
        store.setObserver(this::scheduleReconcile);
        this.latch = new LeaderLatch(client, ZkPaths.CONTROLLER_ELECTION, Integer.toString(brokerId));
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                onElected();
            }

            @Override
            public void notLeader() {
                if (context != null) {
                    log.info("broker {} is no longer the controller (epoch {})", brokerId, context.controllerEpoch());
                }
                context = null;
            }
        });
    }

    /**
     * Joins the election and waits (at most the connection timeout) until some controller is known —
     * with an embedded ZooKeeper, until this broker, the only one, is the controller — so a single
     * broker is the controller when its startup returns.
     */
    public void start() {
        try {
            store.ensurePath("/weir");
            latch.start();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(store.connectionTimeoutMs());
            while (context == null && (store.isEmbedded() || readControllerId() < 0) && System.nanoTime() < deadline) {
                if (latch.await(20, TimeUnit.MILLISECONDS)) {
                    Thread.sleep(1); // elected: taking office (the epoch write) runs on Curator's thread
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("join the controller election", e);
        }
    }

    private int readControllerId() {
        byte[] data = store.getDataOrNull(ZkPaths.CONTROLLER, null, null);
        return data == null ? -1 : Json.intField(Json.parseObject(data), "brokerid", -1);
    }

    /** Whether this broker is the controller now. */
    public boolean isActive() {
        return context != null && latch.hasLeadership();
    }

    /** This broker's controller term, if it is the controller. */
    public Optional<ControllerContext> context() {
        return Optional.ofNullable(context);
    }

    /** This broker's controller epoch, or -1 when it is not the controller. */
    public int controllerEpoch() {
        ControllerContext c = context;
        return c == null ? -1 : c.controllerEpoch();
    }

    private void onElected() {
        // The previous controller's /controller goes with its session (its latch node went with it), so
        // a /controller still there is either ours from an earlier term of this same session (deleted
        // here) or about to expire: retry until the session timeout has surely passed.
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(
            store.sessionTimeoutMs() + 2L * store.connectionTimeoutMs());
        while (latch.hasLeadership() && System.nanoTime() < deadline) {
            try {
                Stat stat = new Stat();
                byte[] data = store.getDataOrNull(ZkPaths.CONTROLLER_EPOCH, stat, null);
                int epoch = data == null ? 1 : Integer.parseInt(new String(data, StandardCharsets.UTF_8).trim()) + 1;
                byte[] epochBytes = Integer.toString(epoch).getBytes(StandardCharsets.UTF_8);
                Map<String, Object> me = new LinkedHashMap<>();
                me.put("version", 2);
                me.put("brokerid", brokerId);
                me.put("timestamp", Long.toString(System.currentTimeMillis()));
                List<CuratorOp> ops = new ArrayList<>();
                ops.add(data == null
                    ? client.transactionOp().create().forPath(ZkPaths.CONTROLLER_EPOCH, epochBytes)
                    : client.transactionOp().setData().withVersion(stat.getVersion())
                        .forPath(ZkPaths.CONTROLLER_EPOCH, epochBytes));
                ops.add(client.transactionOp().create().withMode(CreateMode.EPHEMERAL)
                    .forPath(ZkPaths.CONTROLLER, Json.writeBytes(me)));
                client.transaction().forOperations(ops);
                int version = data == null ? 0 : stat.getVersion() + 1;
                context = new ControllerContext(brokerId, epoch, version);
                log.info("broker {} is the controller, epoch {}", brokerId, epoch);
                scheduleReconcile(); // requests written while there was no controller
                return;
            } catch (KeeperException.NodeExistsException | KeeperException.BadVersionException e) {
                deleteOwnStaleControllerZnode();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            } catch (Exception e) {
                log.error("broker {} won the controller election but cannot take office", brokerId, e);
                return;
            }
        }
        if (latch.hasLeadership()) {
            log.error("broker {} won the controller election but {} stayed held by another session; the"
                + " cluster has no controller until this broker restarts", brokerId, ZkPaths.CONTROLLER);
        }
    }

    private void deleteOwnStaleControllerZnode() {
        try {
            Stat stat = client.checkExists().forPath(ZkPaths.CONTROLLER);
            if (stat != null && stat.getEphemeralOwner() == client.getZookeeperClient().getZooKeeper().getSessionId()) {
                client.delete().withVersion(stat.getVersion()).forPath(ZkPaths.CONTROLLER);
            }
        } catch (Exception e) {
            log.debug("cannot check {}", ZkPaths.CONTROLLER, e);
        }
    }

    /**
     * Commits {@code ops} as this controller term's write: each ZooKeeper transaction first checks
     * the {@code /controller_epoch} version of {@code term}. Throws {@link ControllerMovedException} if
     * another controller was elected since.
     */
    public static void fencedCommit(ZkMetadataStore store, ControllerContext term, List<CuratorOp> ops) {
        CuratorFramework client = store.client();
        try {
            CuratorOp guard = client.transactionOp().check().withVersion(term.epochZkVersion())
                .forPath(ZkPaths.CONTROLLER_EPOCH);
            store.commitInChunks(guard, ops);
        } catch (KeeperException e) {
            List<OpResult> results = e.getResults();
            boolean guardFailed = results != null && !results.isEmpty() && results.get(0) instanceof OpResult.ErrorResult er
                && er.getErr() != 0;
            if (guardFailed || e instanceof KeeperException.BadVersionException && results == null) {
                throw new ControllerMovedException("controller epoch " + term.controllerEpoch() + " of broker "
                    + term.brokerId() + " is no longer current: another controller was elected");
            }
            throw ZkMetadataStore.zkFailure("commit a controller write", e);
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("commit a controller write", e);
        }
    }

    private ControllerContext requireActive() {
        ControllerContext c = context;
        if (c == null || !latch.hasLeadership()) {
            int id = store.controllerId();
            throw new NotControllerException("broker " + brokerId + " is not the controller"
                + (id >= 0 ? " (broker " + id + " is)" : ""));
        }
        return c;
    }

    /** The broker's metadata listener hosts (and drops) the replicas assigned to it. */
    @Override
    public boolean callerHostsPartitions() {
        return false;
    }

    @Override
    public List<Integer> liveBrokerIds() {
        List<Integer> ids = new ArrayList<>();
        for (BrokerRegistration b : store.liveBrokers()) {
            ids.add(b.id());
        }
        if (!ids.contains(brokerId)) {
            ids.add(brokerId); // registering: this broker is alive
        }
        return ids;
    }

    @Override
    public void createTopic(TopicMetadata topic, Map<Integer, List<Integer>> assignment) {
        createTopic(topic, assignment, requestWaitMs);
    }

    @Override
    public void createTopic(TopicMetadata topic, Map<Integer, List<Integer>> assignment, long timeoutMs) {
        Map<Integer, List<Integer>> replicas = assignment.isEmpty()
            ? assign(0, topic.partitionCount(), topic.replicationFactor(), liveBrokerRacks()) : new TreeMap<>(assignment);
        synchronized (this) {
            if (isActive()) {
                ControllerContext term = requireActive();
                List<CuratorOp> ops = new ArrayList<>();
                try {
                    store.topicCreationOps(topic, replicas, term.controllerEpoch(), ops);
                } catch (Exception e) {
                    throw ZkMetadataStore.zkFailure("prepare the creation of topic " + topic.name(), e);
                }
                fencedCommit(store, term, ops);
                store.changed(topic.name(), true);
                return;
            }
        }
        // not the controller: write the topic for it; the conditional create decides a race
        List<CuratorOp> ops = new ArrayList<>();
        try {
            store.topicCreationOps(topic, replicas, -1, ops);
            client.transaction().forOperations(ops);
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("write the creation of topic " + topic.name() + " for the controller", e);
        }
        store.changed(topic.name(), true);
        awaitPartitionStates(topic.name(), topic.topicId(), replicas.size(), timeoutMs);
    }

    /**
     * Waits at most {@code timeoutMs} (not at all when {@code <= 0}) until this broker's image shows the
     * topic with {@code count} partitions, each with a state.
     */
    private void awaitPartitionStates(String name, UUID topicId, int count, long timeoutMs) {
        if (timeoutMs <= 0) {
            return;
        }
        boolean done = store.awaitImage(image -> {
            TopicMetadata t = image.topics().get(name);
            if (t == null || !t.topicId().equals(topicId) || t.partitionCount() < count) {
                return false;
            }
            for (int p = 0; p < count; p++) {
                if (!image.states().containsKey(new TopicPartition(name, p))) {
                    return false;
                }
            }
            return true;
        }, timeoutMs);
        if (!done) {
            throw new NotCompletedException("the controller has not yet elected leaders for the partitions of topic "
                + name + " (" + timeoutMs + " ms); it will");
        }
    }

    @Override
    public void deleteTopic(TopicMetadata topic) {
        deleteTopic(topic, requestWaitMs);
    }

    @Override
    public void deleteTopic(TopicMetadata topic, long timeoutMs) {
        synchronized (this) {
            if (isActive()) {
                ControllerContext term = requireActive();
                List<CuratorOp> ops = new ArrayList<>();
                try {
                    store.topicDeletionOps(topic.name(), ops);
                } catch (Exception e) {
                    throw ZkMetadataStore.zkFailure("prepare the deletion of topic " + topic.name(), e);
                }
                // children before parents, and the topic's own znode last: chunks never leave a topic without its root
                fencedCommit(store, term, ops);
                store.changed(topic.name(), true);
                return;
            }
        }
        try {
            client.create().creatingParentContainersIfNeeded().forPath(ZkPaths.deleteTopic(topic.name()));
        } catch (KeeperException.NodeExistsException e) {
            // already asked for
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("mark topic " + topic.name() + " for deletion", e);
        }
        if (timeoutMs <= 0) {
            return;
        }
        boolean gone = store.awaitImage(image -> {
            TopicMetadata t = image.topics().get(topic.name());
            return t == null || !t.topicId().equals(topic.topicId());
        }, timeoutMs);
        if (!gone) {
            throw new NotCompletedException("the controller has not yet deleted topic " + topic.name()
                + " (" + timeoutMs + " ms); it will");
        }
    }

    @Override
    public void addPartitions(TopicMetadata topic, int newCount) {
        addPartitions(topic, newCount, requestWaitMs);
    }

    @Override
    public void addPartitions(TopicMetadata topic, int newCount, long timeoutMs) {
        Map<Integer, List<Integer>> replicas = new TreeMap<>();
        for (int p = 0; p < topic.partitionCount(); p++) {
            replicas.put(p, store.replicas(new TopicPartition(topic.name(), p)));
        }
        replicas.putAll(assign(topic.partitionCount(), newCount, topic.replicationFactor(), liveBrokerRacks()));
        Integer version = store.image().topicZkVersions().get(topic.name());
        synchronized (this) {
            if (isActive()) {
                ControllerContext term = requireActive();
                List<CuratorOp> ops = new ArrayList<>();
                try {
                    ops.add(client.transactionOp().setData().withVersion(version == null ? -1 : version)
                        .forPath(ZkPaths.topic(topic.name()), ZkMetadataStore.topicJson(topic.topicId(), replicas)));
                    store.partitionCreationOps(topic.name(), replicas, topic.partitionCount(), term.controllerEpoch(), ops);
                } catch (Exception e) {
                    throw ZkMetadataStore.zkFailure("prepare new partitions of topic " + topic.name(), e);
                }
                fencedCommit(store, term, ops);
                store.changed(topic.name(), false);
                return;
            }
        }
        // not the controller: a conditional update of the assignment, which the controller completes
        try {
            client.setData().withVersion(version == null ? -1 : version)
                .forPath(ZkPaths.topic(topic.name()), ZkMetadataStore.topicJson(topic.topicId(), replicas));
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("write new partitions of topic " + topic.name() + " for the controller", e);
        }
        store.changed(topic.name(), false);
        awaitPartitionStates(topic.name(), topic.topicId(), newCount, timeoutMs);
    }

    private void scheduleReconcile() {
        if (context == null || !reconcileQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            worker.execute(() -> {
                reconcileQueued.set(false);
                try {
                    reconcile();
                } catch (NotControllerException e) {
                    log.debug("no longer the controller: {}", e.getMessage());
                } catch (RuntimeException e) {
                    if (worker.isShutdown()) {
                        return; // closing
                    }
                    log.warn("cannot complete the topic requests of other brokers yet; retrying at the next change", e);
                }
            });
        } catch (RejectedExecutionException e) {
            reconcileQueued.set(false); // closing
        }
    }

    /**
     * Completes what other brokers wrote for the controller: partitions of the assignments that have
     * no state yet get their znodes and first state (leader = first replica); topics marked under
     * {@link ZkPaths#DELETE_TOPICS} are deleted and the marker removed. Each under the epoch fence.
     */
    synchronized void reconcile() {
        if (!isActive()) {
            return;
        }
        ControllerContext term = requireActive();
        ZkMetadataStore.Image image = store.image();
        for (Map.Entry<String, Map<Integer, List<Integer>>> e : image.assignments().entrySet()) {
            String name = e.getKey();
            Map<Integer, List<Integer>> assignment = e.getValue();
            boolean missing = false;
            for (int p = 0; p < assignment.size() && !missing; p++) {
                missing = !image.states().containsKey(new TopicPartition(name, p));
            }
            if (!missing) {
                continue;
            }
            List<CuratorOp> ops = new ArrayList<>();
            try {
                if (client.checkExists().forPath(ZkPaths.partitions(name)) == null) {
                    ops.add(client.transactionOp().create().forPath(ZkPaths.partitions(name)));
                }
                for (int p = 0; p < assignment.size(); p++) {
                    List<Integer> replicas = assignment.get(p);
                    if (replicas == null || replicas.isEmpty()) {
                        continue;
                    }
                    if (client.checkExists().forPath(ZkPaths.partition(name, p)) == null) {
                        ops.add(client.transactionOp().create().forPath(ZkPaths.partition(name, p)));
                    }
                    if (client.checkExists().forPath(ZkPaths.partitionState(name, p)) == null) {
                        ops.add(client.transactionOp().create().forPath(ZkPaths.partitionState(name, p),
                            ZkMetadataStore.stateJson(replicas.get(0), 0, store.initialIsr(replicas), term.controllerEpoch())));
                    }
                }
            } catch (Exception ex) {
                throw ZkMetadataStore.zkFailure("prepare the partitions of topic " + name, ex);
            }
            if (!ops.isEmpty()) {
                fencedCommit(store, term, ops);
                log.info("controller {} created the partitions of topic {} that another broker asked for", brokerId, name);
            }
            store.changed(name, false);
        }
        List<String> marked;
        try {
            store.ensurePath(ZkPaths.DELETE_TOPICS);
            marked = client.getChildren().usingWatcher(markerWatcher).forPath(ZkPaths.DELETE_TOPICS);
        } catch (Exception ex) {
            throw ZkMetadataStore.zkFailure("read " + ZkPaths.DELETE_TOPICS, ex);
        }
        for (String name : marked) {
            List<CuratorOp> ops = new ArrayList<>();
            try {
                if (client.checkExists().forPath(ZkPaths.topic(name)) != null) {
                    store.topicDeletionOps(name, ops);
                }
                ops.add(client.transactionOp().delete().forPath(ZkPaths.deleteTopic(name)));
            } catch (Exception ex) {
                throw ZkMetadataStore.zkFailure("prepare the deletion of topic " + name, ex);
            }
            fencedCommit(store, term, ops);
            log.info("controller {} deleted topic {}, which another broker asked for", brokerId, name);
            store.changed(name, true);
        }
    }

    /**
     * Writes a partition's new state if it is still at {@code expected}'s znode version (a conditional
     * update under the epoch fence); the replication work's leader elections and ISR changes use it.
     */
    public synchronized PartitionState updatePartitionState(TopicPartition tp, PartitionState expected, int leader,
                                                            int leaderEpoch, List<Integer> isr) {
        ControllerContext term = requireActive();
        try {
            fencedCommit(store, term, List.of(client.transactionOp().setData().withVersion(expected.zkVersion())
                .forPath(ZkPaths.partitionState(tp.topic(), tp.partition()),
                    ZkMetadataStore.stateJson(leader, leaderEpoch, isr, term.controllerEpoch()))));
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("update the state of " + tp, e);
        }
        store.changed(tp.topic(), false);
        return new PartitionState(leader, leaderEpoch, isr, term.controllerEpoch(), expected.zkVersion() + 1);
    }

    /** The live brokers with their racks (null rack: none), this broker included. */
    private Map<Integer, String> liveBrokerRacks() {
        Map<Integer, String> racks = new TreeMap<>();
        for (BrokerRegistration b : store.liveBrokers()) {
            racks.put(b.id(), b.rack());
        }
        racks.putIfAbsent(brokerId, null);
        return racks;
    }

    /**
     * Replicas for partitions {@code [from, to)}, Kafka's way: the brokers are ordered so consecutive
     * ones alternate racks (rack a's first broker, rack b's first, ..., rack a's second, ...); each
     * partition takes {@code replicationFactor} consecutive brokers of that order from a random start
     * plus its index, so leaders spread evenly and a partition's replicas sit on different racks when
     * there are enough racks.
     */
    static Map<Integer, List<Integer>> assign(int from, int to, int replicationFactor, Map<Integer, String> racks) {
        Map<String, List<Integer>> byRack = new TreeMap<>();
        for (Map.Entry<Integer, String> e : new TreeMap<>(racks).entrySet()) {
            byRack.computeIfAbsent(e.getValue() == null ? "" : e.getValue(), r -> new ArrayList<>()).add(e.getKey());
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; order.size() < racks.size(); i++) {
            for (List<Integer> inRack : byRack.values()) {
                if (i < inRack.size()) {
                    order.add(inRack.get(i));
                }
            }
        }
        int n = order.size();
        int start = ThreadLocalRandom.current().nextInt(n);
        Map<Integer, List<Integer>> out = new TreeMap<>();
        for (int p = from; p < to; p++) {
            List<Integer> r = new ArrayList<>(replicationFactor);
            for (int j = 0; j < replicationFactor; j++) {
                r.add(order.get((start + p + j) % n));
            }
            out.put(p, List.copyOf(r));
        }
        return out;
    }

    /** Leaves the election; the controller's znode goes when the store closes the session. */
    @Override
    public void close() {
        if (context != null) {
            try {
                // hand over at once: the next controller need not wait for this session to close
                client.delete().forPath(ZkPaths.CONTROLLER);
            } catch (Exception e) {
                log.debug("cannot delete {} on close; it goes with the session", ZkPaths.CONTROLLER, e);
            }
        }
        context = null;
        store.setObserver(null);
        worker.shutdownNow();
        try {
            latch.close(LeaderLatch.CloseMode.SILENT);
        } catch (IOException | IllegalStateException e) {
            log.warn("leaving the controller election failed", e);
        }
    }
}
