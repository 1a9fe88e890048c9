package io.weir.broker.zk;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.LeaderElector;
import io.weir.broker.server.PartitionReassigner;
import io.weir.broker.server.TopicController;
import io.weir.common.TopicPartition;
import io.weir.common.utils.Json;
import io.weir.protocol.Errors;
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
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

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
 * <p>Leader elections follow Kafka's ZooKeeper-mode controller ({@link LeaderElection} holds the rules).
 * Whenever the live brokers change — and when a controller takes office, as brokers may have died while
 * there was none — every partition whose leader is gone gets the first live ISR member of its
 * assignment (or none, its ISR kept, unless {@code unclean.leader.election.enable}), and dead followers
 * leave the ISRs. A broker leaves either when its ZooKeeper session expires or, sooner, when this controller's
 * {@link BrokerLivenessProbe} finds its listener refusing connections and {@link #fenceBroker fences} it by
 * deleting its registration: one failover path for both. The other brokers probe the controller's broker
 * the same way; a dead controller's ephemeral znodes are deleted by the first to find it dead, so the next
 * broker in the election takes office without waiting for the session either. A controller fenced that way
 * while it was in fact alive notices its term taken ({@code /controller} gone or another session's, or a newer
 * controller epoch: watches on both) and steps down, joining the election again as a candidate ({@link #resign}).
 * Preferred-replica and unclean elections run on request ({@link #electLeaders}: on a broker that is not the controller, the request is a sequential znode under
 * {@link ZkPaths#LEADER_ELECTIONS} that the controller answers in place) and, with
 * {@code auto.leader.rebalance.enable}, every {@code leader.imbalance.check.interval.seconds} for the
 * brokers that lead more than {@code leader.imbalance.per.broker.percentage} of their preferred
 * partitions elsewhere. A broker stopping with {@code controlled.shutdown.enable} creates its ephemeral
 * {@link ZkPaths#controlledShutdown} znode ({@link #controlledShutdown}): the controller moves its
 * leaderships to other live ISR members and drops it from the ISRs it follows, and never elects it again
 * while the znode lives. Every partition-state write names the znode version it was computed from and
 * bumps the leader epoch; the writes of one pass go in a few chunked transactions under the epoch fence,
 * and a pass that meets a concurrent change re-reads and computes again.
 *
 * <p>Every write that changes partition states is also pushed to the brokers by RPC through the
 * {@link ControllerChannelManager} (Kafka's ZooKeeper mode): LeaderAndIsr to the partitions' live replicas and
 * UpdateMetadata to every live broker, each carrying this term's controller epoch and the receiver's broker
 * epoch; an ISR change a leader asked for (AlterPartition) only UpdateMetadata, as its leader has the answer.
 * A new term first re-reads the whole cluster from ZooKeeper (its image was built from the previous
 * controller's requests too), then sends the full state; a broker that registers (again) gets it as well.
 * Brokers refuse a controller epoch older than the newest they know — from a request, from
 * {@code /controller_epoch} as their watches read it, or their own term — so a deposed controller's requests
 * still in flight change nothing, the new controller's view of the live brokers least of all (which it decides
 * from: a registration such a request dropped would never be seen again). ZooKeeper's watches stay as the
 * slower path, and both end in one method that ignores older states. {@link #sendStopReplicas} stops replicas a
 * reassignment removed.
 *
 * <p>Partition reassignments (KIP-455, {@link #alterPartitionReassignments}; forwarded by other brokers
 * through {@link ZkPaths#PARTITION_REASSIGNMENTS}) live in the topic znode, as Kafka's ZooKeeper mode kept
 * them: while one runs the partition's replicas are the target replicas followed by the original ones not
 * in the target, with {@code adding_replicas} / {@code removing_replicas} recorded, and its state is written
 * again (a new partition epoch) in the same transaction so every replica applies the new replica set and
 * the new ones start fetching. Each {@link #reconcile} pass completes the reassignments whose target
 * replicas are all in the ISR: replicas = target, ISR without the removed replicas, a leader from the
 * target if the old one leaves, a new leader epoch — one conditional transaction per topic. The removed
 * replicas' brokers then stop them and delete their logs (their metadata listener). A cancel reverts to the
 * original replicas at once. All of it is in ZooKeeper, so a new controller carries on where the old stopped.
 *
 * <p>Thread-safe: controller writes are serialized on this object; a non-controller's waits hold no lock.
 */
public final class ZkController implements TopicController, LeaderElector, PartitionReassigner, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ZkController.class);

    /** How many times one election pass is computed again after it met a concurrent change. */
    private static final int MAX_PASS_ATTEMPTS = 3;
    /** How soon a term whose znodes could not be read is checked again. */
    private static final long TERM_RECHECK_MS = 1_000;

    /**
     * The broker configs of the controller's elections: the cluster default of
     * {@code unclean.leader.election.enable} (a topic's own setting wins) and the automatic
     * preferred-leader rebalance.
     */
    public record ElectionSettings(boolean uncleanLeaderElection, boolean autoLeaderRebalance,
                                   long imbalanceCheckIntervalMs, int imbalancePercentage) {
        public static ElectionSettings defaults() {
            return new ElectionSettings(false, true, 300_000L, 10);
        }

        public static ElectionSettings of(BrokerConfig config) {
            return new ElectionSettings(config.getBoolean(BrokerConfig.UNCLEAN_LEADER_ELECTION_ENABLE),
                config.getBoolean(BrokerConfig.AUTO_LEADER_REBALANCE_ENABLE),
                config.getLong(BrokerConfig.LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS) * 1000L,
                config.getInt(BrokerConfig.LEADER_IMBALANCE_PER_BROKER_PERCENTAGE));
        }
    }

    /** The partition states one pass writes, and what it answers per partition (elections asked for). */
    private record Plan(Map<TopicPartition, LeaderElection.Decision> writes, Map<TopicPartition, Result> answers) {
        static final Plan NONE = new Plan(Map.of(), Map.of());
    }

    private final ZkMetadataStore store;
    private final CuratorFramework client;
    private final int brokerId;
    private final ElectionSettings settings;
    /** This broker's place in the election; replaced by a new one when a deposed term resigns ({@link #resign}). */
    private volatile LeaderLatch latch;
    private final LeaderLatchListener latchListener;
    private volatile ControllerContext context;
    /** The brokers in a controlled shutdown, as the controller last read them (guarded by this). */
    private Set<Integer> shuttingDown = Set.of();
    /**
     * The replicas brokers took offline with a failed log directory ({@link ZkOfflineReplicas}), by partition, as
     * the controller last read them (guarded by this): dead for their partition alone.
     */
    private volatile Map<TopicPartition, Set<Integer>> offlineReplicas = Map.of();
    private final ZkOfflineReplicas offlineReplicasZk;
    /** Runs {@link #reconcile} (the requests other brokers wrote, the elections) and the rebalance check. */
    private final ScheduledExecutorService worker;
    private final AtomicBoolean reconcileQueued = new AtomicBoolean();
    private final CuratorWatcher markerWatcher = e -> scheduleReconcile();
    private final long requestWaitMs;
    /** Where partition-state changes are pushed to the brokers; null: only through ZooKeeper's watches. */
    private volatile ControllerChannelManager channel;
    /** The registrations (id to broker epoch) the current term has sent the full state to (guarded by this). */
    private Map<Integer, Long> informedBrokers = Map.of();
    /** Watches the other brokers' listeners while this broker is the controller; null: session expiry only. */
    private volatile BrokerLivenessProbe livenessProbe;

    public ZkController(ZkMetadataStore store, int brokerId) {
        this(store, brokerId, ElectionSettings.defaults());
    }

    public ZkController(ZkMetadataStore store, int brokerId, ElectionSettings settings) {
        this.store = store;
        this.client = store.client();
        this.brokerId = brokerId;
        this.settings = settings;
        this.requestWaitMs = store.sessionTimeoutMs();
        this.offlineReplicasZk = new ZkOfflineReplicas(store.client());
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "weir-controller-" + brokerId);
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        this.worker = executor;
        store.setObserver(() -> {
            watchLiveness(store.image());
            scheduleReconcile();
        });
        this.latchListener = new LeaderLatchListener() {
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
                ControllerChannelManager ch = channel;
                if (ch != null) {
                    ch.endTerm();
                }
                watchLiveness(store.image()); // the new controller's broker alone
            }
        };
        this.latch = newLatch();
    }

    private LeaderLatch newLatch() {
        LeaderLatch l = new LeaderLatch(client, ZkPaths.CONTROLLER_ELECTION, Integer.toString(brokerId));
        l.addListener(latchListener);
        return l;
    }

    /**
     * Joins the election and waits (at most the connection timeout) until some controller is known —
     * with an embedded ZooKeeper, until this broker, the only one, is the controller — so a single
     * broker is the controller when its startup returns.
     */
    public void start() {
        try {
            store.ensurePath("/weir");
            store.ensurePath(ZkPaths.LEADER_ELECTIONS);
            store.ensurePath(ZkPaths.PARTITION_REASSIGNMENTS);
            store.ensurePath(ZkPaths.CONTROLLED_SHUTDOWN);
            try {
                // left by an earlier run of this broker that died mid-shutdown (its session not yet expired):
                // this run is not shutting down, and may be elected
                client.delete().forPath(ZkPaths.controlledShutdown(brokerId));
                log.info("removed the controlled-shutdown request of an earlier run of broker {}", brokerId);
            } catch (KeeperException.NoNodeException e) {
                // none
            }
            if (settings.autoLeaderRebalance()) {
                long every = settings.imbalanceCheckIntervalMs();
                worker.scheduleWithFixedDelay(this::checkLeaderImbalance, every, every, TimeUnit.MILLISECONDS);
            }
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
                ControllerContext term = new ControllerContext(brokerId, epoch, version);
                // before this term acts: the image is the controller's view of the cluster, and an UpdateMetadata
                // the deposed controller sent before it knew (still in flight) must not change it from now on
                store.beginControllerTerm(epoch);
                context = term;
                log.info("broker {} is the controller, epoch {}", brokerId, epoch);
                checkTerm(term); // arms the watches that notice this term being taken away
                try {
                    // off Curator's thread; before the reconcile below
                    worker.execute(() -> {
                        reloadForTerm(term);
                        sendFullState(term);
                    });
                } catch (RejectedExecutionException e) {
                    // closing
                }
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

    /**
     * Whether {@code term} is still this broker's: {@code /controller} is this session's and
     * {@code /controller_epoch} is still at the term's version. Another broker may have fenced this one as
     * dead (its listener refused connections while the process lived: {@link #fenceDeadController} deleted
     * {@code /controller} and this broker's election node) and a new controller bumped the epoch; the epoch
     * fence already keeps this term from writing, but Curator's latch still believes it leads. Watches on
     * both znodes call this again on any change; a term found taken away resigns ({@link #resign}).
     */
    private void checkTerm(ControllerContext term) {
        if (context != term) {
            return;
        }
        CuratorWatcher again = e -> scheduleTermCheck(term);
        String lost;
        try {
            Stat controller = client.checkExists().usingWatcher(again).forPath(ZkPaths.CONTROLLER);
            Stat epoch = new Stat();
            client.getData().storingStatIn(epoch).usingWatcher(again).forPath(ZkPaths.CONTROLLER_EPOCH);
            long session = client.getZookeeperClient().getZooKeeper().getSessionId();
            if (controller == null) {
                lost = ZkPaths.CONTROLLER + " was deleted";
            } else if (controller.getEphemeralOwner() != session) {
                lost = ZkPaths.CONTROLLER + " belongs to another session";
            } else if (epoch.getVersion() != term.epochZkVersion()) {
                lost = ZkPaths.CONTROLLER_EPOCH + " moved past this term";
            } else {
                return; // still ours; the watches are armed
            }
        } catch (KeeperException.NoNodeException e) {
            lost = ZkPaths.CONTROLLER_EPOCH + " is gone";
        } catch (Exception e) {
            // not readable now (a lost connection), so the watches may not be armed: look again in a second
            log.debug("controller {}: cannot check its term", brokerId, e);
            try {
                worker.schedule(() -> checkTerm(term), TERM_RECHECK_MS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                // closing
            }
            return;
        }
        resign(term, lost);
    }

    private void scheduleTermCheck(ControllerContext term) {
        try {
            worker.execute(() -> checkTerm(term));
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    /**
     * Ends {@code term}, taken away while this broker lived (see {@link #checkTerm}): it stops acting as the
     * controller (its term, the channel's, the liveness probe's controller role) and joins the election again
     * as a candidate with a new latch node, at the end of the queue, as Kafka's controller resigns when it
     * finds {@code /controller} changed. Runs on the worker.
     */
    private void resign(ControllerContext term, String why) {
        synchronized (this) {
            if (context != term) {
                return;
            }
            context = null;
        }
        log.warn("broker {} is no longer the controller (epoch {}): {}; it steps down and joins the election again",
            brokerId, term.controllerEpoch(), why);
        ControllerChannelManager ch = channel;
        if (ch != null) {
            ch.endTerm();
        }
        watchLiveness(store.image());
        if (worker.isShutdown()) {
            return; // closing: close() leaves the election
        }
        LeaderLatch old = latch;
        LeaderLatch next = newLatch();
        latch = next;
        try {
            old.close(LeaderLatch.CloseMode.SILENT); // deletes its election node if the fencer left it
        } catch (IOException | IllegalStateException e) {
            log.debug("closing the old election latch failed", e);
        }
        try {
            next.start();
        } catch (Exception e) {
            log.error("broker {} cannot join the controller election again", brokerId, e);
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
                    store.topicCreationOps(topic, replicas, term.controllerEpoch(), eligible(store.image()), ops);
                } catch (Exception e) {
                    throw ZkMetadataStore.zkFailure("prepare the creation of topic " + topic.name(), e);
                }
                fencedCommit(store, term, ops);
                store.changed(topic.name(), true);
                sendPartitionStates(partitionsOf(topic.name(), 0, replicas.size()));
                return;
            }
        }
        // not the controller: write the topic for it; the conditional create decides a race
        List<CuratorOp> ops = new ArrayList<>();
        try {
            store.topicCreationOps(topic, replicas, -1, Set.of(), ops);
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
                ZkMetadataStore.Image before = store.image();
                fencedCommit(store, term, ops);
                store.changed(topic.name(), true);
                sendTopicDeletion(term, before, topic.name());
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
                        .forPath(ZkPaths.topic(topic.name()), ZkMetadataStore.topicJson(topic.topicId(), replicas,
                            store.image().reassignmentsOf(topic.name()))));
                    store.partitionCreationOps(topic.name(), replicas, topic.partitionCount(), term.controllerEpoch(),
                        eligible(store.image()), ops);
                } catch (Exception e) {
                    throw ZkMetadataStore.zkFailure("prepare new partitions of topic " + topic.name(), e);
                }
                fencedCommit(store, term, ops);
                store.changed(topic.name(), false);
                sendPartitionStates(partitionsOf(topic.name(), topic.partitionCount(), newCount));
                return;
            }
        }
        // not the controller: a conditional update of the assignment, which the controller completes
        try {
            client.setData().withVersion(version == null ? -1 : version)
                .forPath(ZkPaths.topic(topic.name()), ZkMetadataStore.topicJson(topic.topicId(), replicas,
                    store.image().reassignmentsOf(topic.name())));
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
                    log.warn("cannot complete the requests of other brokers or the leader elections yet; retrying", e);
                    retryReconcileLater();
                }
            });
        } catch (RejectedExecutionException e) {
            reconcileQueued.set(false); // closing
        }
    }

    private void retryReconcileLater() {
        try {
            worker.schedule(this::scheduleReconcile, 1, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    /**
     * Completes what other brokers wrote for the controller and runs the elections the cluster's state
     * calls for: partitions of the assignments that have no state yet get their znodes and first state
     * ({@link LeaderElection#initial}); partitions whose leader or ISR members are gone are failed over;
     * brokers in a controlled shutdown lose their leaderships and ISR places; elections other brokers
     * asked for are run and answered; topics marked under {@link ZkPaths#DELETE_TOPICS} are deleted
     * and the marker removed. Each under the epoch fence.
     */
    synchronized void reconcile() {
        if (!isActive()) {
            return;
        }
        try {
            Set<Integer> shutting = new TreeSet<>();
            for (String child : client.getChildren().usingWatcher(markerWatcher).forPath(ZkPaths.CONTROLLED_SHUTDOWN)) {
                try {
                    shutting.add(Integer.parseInt(child));
                } catch (NumberFormatException e) {
                    log.warn("ignoring {}/{}: not a broker id", ZkPaths.CONTROLLED_SHUTDOWN, child);
                }
            }
            shuttingDown = Set.copyOf(shutting);
        } catch (Exception ex) {
            throw ZkMetadataStore.zkFailure("read " + ZkPaths.CONTROLLED_SHUTDOWN, ex);
        }
        Map<TopicPartition, Set<Integer>> offline = offlineReplicasZk.read(store.image().brokers(), markerWatcher);
        if (!offline.equals(offlineReplicas)) {
            log.info("controller {}: replicas offline with a failed log directory: {}", brokerId, offline);
        }
        offlineReplicas = offline;
        Map<Integer, Long> bounced = bouncedBrokers();
        if (!bounced.isEmpty()) {
            log.info("controller {}: brokers {} registered again (a restart or a new session) since this term"
                + " informed them: failing them over before they start again", brokerId, bounced.keySet());
            commitPlan("bounced broker", image -> bouncedBrokersPlan(image, bounced.keySet()));
        }
        informNewBrokers(bounced);
        createMissingPartitionStates();
        commitPlan("failover", this::liveBrokersPlan);
        if (!shuttingDown.isEmpty()) {
            commitPlan("controlled shutdown", this::shutdownPlan);
        }
        serveElectionRequests();
        serveReassignmentRequests();
        completeReassignments();
        deleteMarkedTopics();
    }

    private void createMissingPartitionStates() {
        ControllerContext term = requireActive();
        ZkMetadataStore.Image image = store.image();
        Set<Integer> eligible = eligible(image);
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
                        LeaderElection.Decision first = LeaderElection.initial(replicas, eligible);
                        ops.add(client.transactionOp().create().forPath(ZkPaths.partitionState(name, p),
                            ZkMetadataStore.stateJson(first.leader(), 0, first.isr(), term.controllerEpoch())));
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
            if (!ops.isEmpty()) {
                sendPartitionStates(partitionsOf(name, 0, assignment.size()));
            }
        }
    }

    private void deleteMarkedTopics() {
        ControllerContext term = requireActive();
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
            ZkMetadataStore.Image before = store.image();
            fencedCommit(store, term, ops);
            log.info("controller {} deleted topic {}, which another broker asked for", brokerId, name);
            store.changed(name, true);
            sendTopicDeletion(term, before, name);
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
        store.changed(tp); // only this partition's state znode changed
        if (leader == expected.leader() && leaderEpoch == expected.leaderEpoch()) {
            sendUpdateMetadata(term, store.image(), Set.of(tp)); // an ISR change: its leader has the answer
        } else {
            sendPartitionStates(Set.of(tp));
        }
        return new PartitionState(leader, leaderEpoch, isr, term.controllerEpoch(), expected.zkVersion() + 1);
    }

    // ---------------------------------------------------------------- requests to the brokers

    /**
     * Pushes partition-state changes to the brokers by RPC through {@code ch} (Kafka's ZooKeeper-mode
     * LeaderAndIsr / UpdateMetadata / StopReplica), besides ZooKeeper's watches; null stops it. Set before
     * {@link #start()}.
     */
    public void setChannel(ControllerChannelManager ch) {
        this.channel = ch;
    }

    /**
     * Watches the other brokers' listeners with {@code probe} while this broker is the controller (and the
     * controller's broker while it is not), so a broker whose process died is fenced ({@link #fenceBroker})
     * without waiting for its ZooKeeper session to expire; null (the default) leaves dead brokers to session
     * expiry. Set before {@link #start()}.
     */
    public void setLivenessProbe(BrokerLivenessProbe probe) {
        this.livenessProbe = probe;
        watchLiveness(store.image());
    }

    /** The liveness probe, or null (tests). */
    BrokerLivenessProbe livenessProbe() {
        return livenessProbe;
    }

    /**
     * Hands the liveness probe what to watch: on the controller every registered broker; on any other broker
     * the controller's broker alone (a dead controller is fenced by the first broker to find it dead).
     */
    private void watchLiveness(ZkMetadataStore.Image image) {
        BrokerLivenessProbe probe = livenessProbe;
        if (probe == null) {
            return;
        }
        if (context != null) {
            probe.watch(image.brokers());
            return;
        }
        int controllerId = image.controllerId();
        List<BrokerRegistration> watched = new ArrayList<>(1);
        for (BrokerRegistration b : image.brokers()) {
            if (b.id() == controllerId && controllerId != brokerId) {
                watched.add(b);
            }
        }
        probe.watch(watched);
    }

    /**
     * Fences broker {@code id}, found dead under registration {@code brokerEpoch} (its listener refuses
     * connections: {@link BrokerLivenessProbe}), as the expiry of its ZooKeeper session would: its
     * registration znode is deleted — only if it is still that registration (same creating zxid) and under
     * this term's epoch fence — and from there the usual failover runs (the brokers' watches see it gone,
     * {@link #reconcile} moves its leaderships to live ISR members, drops it from the ISRs, and every broker
     * gets the new states with it among the offline replicas). Nothing else is needed to make it safe: a
     * broker fenced by mistake that is in fact alive registers again on its own (its registrar watches its
     * znode) under a new broker epoch, so requests of its earlier registration are refused
     * (STALE_BROKER_EPOCH both ways) and the controller treats it as a bounced broker — failed over first,
     * then sent the full state as a new broker, rejoining the ISRs by catching up. Runs on the controller's
     * worker. On a broker that is not the controller it acts only when {@code id} is the controller's broker
     * ({@link #fenceDeadController}).
     */
    public void fenceBroker(int id, long brokerEpoch, String reason) {
        try {
            worker.execute(() -> fenceNow(id, brokerEpoch, reason));
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    /**
     * Deletes the registration {@code (id, brokerEpoch)} under the epoch fence; on a broker that is not the
     * controller, when {@code id} is the controller's broker, {@link #fenceDeadController}. Returns whether
     * it deleted anything.
     */
    synchronized boolean fenceNow(int id, long brokerEpoch, String reason) {
        ControllerContext term = context;
        if (id == brokerId) {
            return false;
        }
        if (term == null || !latch.hasLeadership()) {
            return term == null && id == store.image().controllerId() && fenceDeadController(id, brokerEpoch, reason);
        }
        String path = ZkPaths.broker(id);
        try {
            Stat stat = client.checkExists().forPath(path);
            if (stat == null || stat.getCzxid() != brokerEpoch) {
                log.info("controller {}: not fencing broker {} (epoch {}): its registration is {}", brokerId, id,
                    brokerEpoch, stat == null ? "already gone" : "a newer one (epoch " + stat.getCzxid() + ")");
                return false;
            }
            fencedCommit(store, term, deadSessionOps(id, stat));
        } catch (ControllerMovedException e) {
            log.info("controller {}: not fencing broker {}: {}", brokerId, id, e.getMessage());
            scheduleTermCheck(term); // this term was taken away: step down
            return false;
        } catch (Exception e) {
            log.warn("controller {}: cannot fence broker {} (epoch {}); its ZooKeeper session's expiry will", brokerId,
                id, brokerEpoch, e);
            return false;
        }
        log.warn("controller {} fenced broker {} (epoch {}) without waiting for its ZooKeeper session to expire: {}."
            + " Its registration (and controller-election node) are deleted; its partitions fail over now", brokerId,
            id, brokerEpoch, reason);
        store.refreshSoon(Set.of());
        return true;
    }

    /**
     * The controller's broker {@code id} is dead (its listener refuses connections): deletes, in one ZooKeeper
     * transaction, every ephemeral znode its session holds that matters — its registration (only if still
     * {@code brokerEpoch}), {@code /controller} and its controller-election latch node — as the expiry of that
     * session would. The next broker in the election then takes office at once, bumping the controller epoch
     * (so the dead one's term, should it in fact be alive, can write nothing), and fails the dead broker over
     * like any other. No controller epoch guards this write, as there is no live controller to hold one; the
     * version checks make it delete only what the dead session owns, and of several brokers finding it dead
     * the first one's transaction wins and the others' fail harmlessly.
     */
    private boolean fenceDeadController(int id, long brokerEpoch, String reason) {
        try {
            String path = ZkPaths.broker(id);
            Stat registration = client.checkExists().forPath(path);
            if (registration == null || registration.getCzxid() != brokerEpoch) {
                return false;
            }
            client.transaction().forOperations(deadSessionOps(id, registration));
        } catch (Exception e) {
            log.info("broker {}: not fencing the controller's broker {} (epoch {}): {}", brokerId, id, brokerEpoch,
                e.toString());
            return false;
        }
        log.warn("broker {} fenced the controller's broker {} (epoch {}) without waiting for its ZooKeeper session to"
            + " expire: {}. Its registration, /controller and its election node are deleted; the next broker in the"
            + " election takes over", brokerId, id, brokerEpoch, reason);
        store.refreshSoon(Set.of());
        return true;
    }

    /**
     * The deletions of what a dead broker's session holds, as its expiry would delete them: its registration
     * {@code registration} (at that version), and whichever of {@code /controller}, its controller-election
     * latch node and its controlled-shutdown request that same session owns. The latch node matters even
     * for a broker that is not the controller: left there, it could be next in line when the controller goes,
     * and the election would wait for this session to expire after all.
     */
    private List<CuratorOp> deadSessionOps(int id, Stat registration) throws Exception {
        long session = registration.getEphemeralOwner();
        List<CuratorOp> ops = new ArrayList<>();
        ops.add(client.transactionOp().delete().withVersion(registration.getVersion()).forPath(ZkPaths.broker(id)));
        List<String> owned = new ArrayList<>(List.of(ZkPaths.CONTROLLER, ZkPaths.controlledShutdown(id)));
        for (String child : client.getChildren().forPath(ZkPaths.CONTROLLER_ELECTION)) {
            owned.add(ZkPaths.CONTROLLER_ELECTION + "/" + child);
        }
        for (String path : owned) {
            Stat stat = client.checkExists().forPath(path);
            if (stat != null && stat.getEphemeralOwner() == session) {
                ops.add(client.transactionOp().delete().withVersion(stat.getVersion()).forPath(path));
            }
        }
        return ops;
    }

    private static Set<TopicPartition> partitionsOf(String topic, int from, int to) {
        Set<TopicPartition> out = new HashSet<>();
        for (int p = from; p < to; p++) {
            out.add(new TopicPartition(topic, p));
        }
        return out;
    }

    /**
     * A new term re-reads the whole cluster from ZooKeeper before it decides or sends anything (as Kafka's
     * controller does on failover): until this broker took office its image was built from the previous
     * controller's UpdateMetadata too, which may predate what ZooKeeper holds now — a broker that registered
     * again after the previous controller last wrote to it, with a new broker epoch. Runs on the worker.
     */
    private void reloadForTerm(ControllerContext term) {
        if (context != term) {
            return;
        }
        try {
            store.reload();
        } catch (RuntimeException e) {
            log.warn("controller {}: cannot re-read the cluster from ZooKeeper at the start of its term; reading it"
                + " in the background", brokerId, e);
            store.refreshSoon(store.image().topics().keySet());
        }
    }

    /**
     * A new term: every live broker gets LeaderAndIsr for all of its replicas and UpdateMetadata with every
     * partition (Kafka's controller failover), as brokers may have missed changes while there was none.
     */
    private synchronized void sendFullState(ControllerContext term) {
        ControllerChannelManager ch = channel;
        if (ch == null || context != term) {
            return; // the term ended meanwhile
        }
        ch.beginTerm(term.controllerEpoch());
        ZkMetadataStore.Image image = store.image();
        ch.setLiveBrokers(image.brokers());
        watchLiveness(image);
        Map<Integer, Long> informed = new HashMap<>();
        for (BrokerRegistration b : image.brokers()) {
            informed.put(b.id(), b.epoch());
            sendLeaderAndIsr(term, image, b, image.states().keySet(), true);
        }
        informedBrokers = informed;
        sendUpdateMetadata(term, image, image.states().keySet());
        log.info("controller {} (epoch {}) sent the full partition state to brokers {}", brokerId,
            term.controllerEpoch(), informed.keySet());
    }

    /**
     * A broker that registered (again) since the full state went out gets LeaderAndIsr for all of its
     * replicas, and every broker an UpdateMetadata with all partitions (Kafka's {@code onBrokerStartup}).
     * One that registered again under an epoch {@code failedOver} does not name (it bounced after the
     * bounced-broker pass read the image) keeps its earlier epoch here, so the next pass fails it over first.
     */
    private void informNewBrokers(Map<Integer, Long> failedOver) {
        ControllerChannelManager ch = channel;
        ControllerContext term = context;
        if (ch == null || term == null) {
            return;
        }
        ZkMetadataStore.Image image = store.image();
        ch.setLiveBrokers(image.brokers());
        watchLiveness(image);
        Map<Integer, Long> informed = new HashMap<>();
        List<BrokerRegistration> fresh = new ArrayList<>();
        boolean bouncedSince = false;
        for (BrokerRegistration b : image.brokers()) {
            Long before = informedBrokers.get(b.id());
            if (before != null && before != b.epoch() && !Long.valueOf(b.epoch()).equals(failedOver.get(b.id()))) {
                informed.put(b.id(), before);
                bouncedSince = true;
                continue;
            }
            informed.put(b.id(), b.epoch());
            if (before == null || before != b.epoch()) {
                fresh.add(b);
            }
        }
        boolean gone = !informed.keySet().containsAll(informedBrokers.keySet());
        informedBrokers = informed;
        if (bouncedSince) {
            scheduleReconcile();
        }
        for (BrokerRegistration b : fresh) {
            sendLeaderAndIsr(term, image, b, image.states().keySet(), true);
        }
        if (!fresh.isEmpty() || gone) {
            sendUpdateMetadata(term, image, image.states().keySet());
        }
    }

    /**
     * Sends the current state of {@code changed} as this controller wrote it: LeaderAndIsr to their live
     * replicas, and UpdateMetadata (with the live brokers) to every live broker — also when {@code changed}
     * is empty (the live brokers alone). Reassignment uses it for the states it writes; a deletion goes out
     * through {@link #sendTopicDeletion}.
     */
    public synchronized void sendPartitionStates(Set<TopicPartition> changed) {
        ControllerChannelManager ch = channel;
        ControllerContext term = context;
        if (ch == null || term == null) {
            return;
        }
        ZkMetadataStore.Image image = store.image();
        ch.setLiveBrokers(image.brokers());
        for (BrokerRegistration b : image.brokers()) {
            Set<TopicPartition> hosted = new HashSet<>();
            for (TopicPartition tp : changed) {
                if (replicasOf(image, tp).contains(b.id())) {
                    hosted.add(tp);
                }
            }
            if (!hosted.isEmpty()) {
                sendLeaderAndIsr(term, image, b, hosted, false);
            }
        }
        sendUpdateMetadata(term, image, changed);
    }

    /**
     * Tells broker {@code brokerId} to stop its replicas of {@code partitions}, deleting their logs with
     * {@code delete} (StopReplica, no leader-epoch check); for replicas a reassignment removed.
     */
    public synchronized void sendStopReplicas(int brokerId, Set<TopicPartition> partitions, boolean delete) {
        ControllerChannelManager ch = channel;
        ControllerContext term = context;
        if (ch == null || term == null || partitions.isEmpty()) {
            return;
        }
        ZkMetadataStore.Image image = store.image();
        BrokerRegistration target = null;
        for (BrokerRegistration b : image.brokers()) {
            if (b.id() == brokerId) {
                target = b;
            }
        }
        if (target == null) {
            return;
        }
        Map<String, List<io.weir.protocol.message.StopReplicaRequest.StopReplicaPartitionState>> byTopic = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(
                new io.weir.protocol.message.StopReplicaRequest.StopReplicaPartitionState()
                    .setPartitionIndex(tp.partition()).setLeaderEpoch(ControllerRequestApplier.NO_EPOCH)
                    .setDeletePartition(delete));
        }
        List<io.weir.protocol.message.StopReplicaRequest.StopReplicaTopicState> topics = new ArrayList<>();
        byTopic.forEach((t, ps) -> topics.add(new io.weir.protocol.message.StopReplicaRequest.StopReplicaTopicState()
            .setTopicName(t).setPartitionStates(ps)));
        ch.send(term.controllerEpoch(), brokerId, new io.weir.protocol.message.StopReplicaRequest()
            .setControllerId(this.brokerId).setControllerEpoch(term.controllerEpoch()).setBrokerEpoch(target.epoch())
            .setTopicStates(topics));
    }

    private void sendLeaderAndIsr(ControllerContext term, ZkMetadataStore.Image image, BrokerRegistration target,
                                  Collection<TopicPartition> partitions, boolean full) {
        Map<String, List<io.weir.protocol.message.LeaderAndIsrRequest.LeaderAndIsrPartitionState>> byTopic = new TreeMap<>();
        Set<Integer> leaders = new HashSet<>();
        for (TopicPartition tp : partitions) {
            PartitionState s = image.states().get(tp);
            List<Integer> replicas = replicasOf(image, tp);
            if (s == null || !replicas.contains(target.id()) || !image.topics().containsKey(tp.topic())) {
                continue;
            }
            leaders.add(s.leader());
            byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(
                new io.weir.protocol.message.LeaderAndIsrRequest.LeaderAndIsrPartitionState()
                    .setPartitionIndex(tp.partition()).setControllerEpoch(s.controllerEpoch()).setLeader(s.leader())
                    .setLeaderEpoch(s.leaderEpoch()).setIsr(s.isr()).setPartitionEpoch(s.zkVersion())
                    .setReplicas(replicas).setAddingReplicas(List.of()).setRemovingReplicas(List.of()));
        }
        if (byTopic.isEmpty() && !full) {
            return;
        }
        List<io.weir.protocol.message.LeaderAndIsrRequest.LeaderAndIsrTopicState> topics = new ArrayList<>();
        byTopic.forEach((t, ps) -> topics.add(new io.weir.protocol.message.LeaderAndIsrRequest.LeaderAndIsrTopicState()
            .setTopicName(t).setTopicId(image.topics().get(t).topicId()).setPartitionStates(ps)));
        List<io.weir.protocol.message.LeaderAndIsrRequest.LeaderAndIsrLiveLeader> live = new ArrayList<>();
        for (BrokerRegistration b : image.brokers()) {
            if (leaders.contains(b.id())) {
                live.add(new io.weir.protocol.message.LeaderAndIsrRequest.LeaderAndIsrLiveLeader().setBrokerId(b.id())
                    .setHostName(b.host()).setPort(b.port()));
            }
        }
        channel.send(term.controllerEpoch(), target.id(), new io.weir.protocol.message.LeaderAndIsrRequest()
            .setControllerId(brokerId).setControllerEpoch(term.controllerEpoch()).setBrokerEpoch(target.epoch())
            .setType((byte) (full ? 2 : 1)).setTopicStates(topics).setLiveLeaders(live));
    }

    /**
     * UpdateMetadata for a topic just deleted: each of its partitions (as {@code before}, the image before the
     * deletion, had them) led by {@link ZkMetadataStore#LEADER_DURING_DELETE} (Kafka's marker), so the brokers
     * drop it from their images without reading ZooKeeper; with the live brokers, to every live broker.
     */
    private synchronized void sendTopicDeletion(ControllerContext term, ZkMetadataStore.Image before, String topic) {
        ControllerChannelManager ch = channel;
        TopicMetadata t = before.topics().get(topic);
        if (ch == null || context != term || t == null) {
            return;
        }
        List<io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataPartitionState> states = new ArrayList<>();
        for (int p = 0; p < t.partitionCount(); p++) {
            PartitionState s = before.states().get(new TopicPartition(topic, p));
            states.add(new io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataPartitionState()
                .setPartitionIndex(p).setControllerEpoch(term.controllerEpoch())
                .setLeader(ZkMetadataStore.LEADER_DURING_DELETE).setLeaderEpoch(s == null ? 0 : s.leaderEpoch())
                .setIsr(List.of()).setZkVersion(s == null ? 0 : s.zkVersion())
                .setReplicas(replicasOf(before, new TopicPartition(topic, p))).setOfflineReplicas(List.of()));
        }
        ZkMetadataStore.Image image = store.image();
        ch.setLiveBrokers(image.brokers());
        sendUpdateMetadataToAll(ch, term, image, List.of(new io.weir.protocol.message.UpdateMetadataRequest
            .UpdateMetadataTopicState().setTopicName(topic).setTopicId(t.topicId()).setPartitionStates(states)),
            liveBrokerStates(image));
    }

    /** UpdateMetadata with the states of {@code partitions} and every live broker, to every live broker. */
    private void sendUpdateMetadata(ControllerContext term, ZkMetadataStore.Image image, Collection<TopicPartition> partitions) {
        ControllerChannelManager ch = channel;
        if (ch == null) {
            return;
        }
        Set<Integer> liveIds = new HashSet<>();
        for (BrokerRegistration b : image.brokers()) {
            liveIds.add(b.id());
        }
        List<io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataBroker> brokers = liveBrokerStates(image);
        Map<String, List<io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataPartitionState>> byTopic = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            PartitionState s = image.states().get(tp);
            if (s == null || !image.topics().containsKey(tp.topic())) {
                continue;
            }
            List<Integer> replicas = replicasOf(image, tp);
            List<Integer> offline = new ArrayList<>();
            Set<Integer> dirFailed = offlineReplicas.getOrDefault(tp, Set.of());
            for (int r : replicas) {
                if (!liveIds.contains(r) || dirFailed.contains(r)) {
                    offline.add(r);
                }
            }
            byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(
                new io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataPartitionState()
                    .setPartitionIndex(tp.partition()).setControllerEpoch(s.controllerEpoch()).setLeader(s.leader())
                    .setLeaderEpoch(s.leaderEpoch()).setIsr(s.isr()).setZkVersion(s.zkVersion()).setReplicas(replicas)
                    .setOfflineReplicas(offline));
        }
        List<io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataTopicState> topics = new ArrayList<>();
        byTopic.forEach((t, ps) -> topics.add(new io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataTopicState()
            .setTopicName(t).setTopicId(image.topics().get(t).topicId()).setPartitionStates(ps)));
        sendUpdateMetadataToAll(ch, term, image, topics, brokers);
    }

    private void sendUpdateMetadataToAll(ControllerChannelManager ch, ControllerContext term, ZkMetadataStore.Image image,
                                         List<io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataTopicState> topics,
                                         List<io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataBroker> brokers) {
        for (BrokerRegistration b : image.brokers()) {
            ch.send(term.controllerEpoch(), b.id(), new io.weir.protocol.message.UpdateMetadataRequest()
                .setControllerId(brokerId).setControllerEpoch(term.controllerEpoch()).setBrokerEpoch(b.epoch())
                .setTopicStates(topics).setLiveBrokers(brokers));
        }
    }

    /** Every live broker with its endpoints and rack, as UpdateMetadata lists them. */
    private static List<io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataBroker> liveBrokerStates(
            ZkMetadataStore.Image image) {
        List<io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataBroker> brokers = new ArrayList<>();
        for (BrokerRegistration b : image.brokers()) {
            List<io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataEndpoint> endpoints = new ArrayList<>();
            for (String e : b.endpoints().isEmpty() ? List.of("PLAINTEXT://") : b.endpoints()) {
                int sep = e.indexOf("://");
                endpoints.add(new io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataEndpoint()
                    .setHost(b.host()).setPort(b.port()).setListener(sep < 0 ? "PLAINTEXT" : e.substring(0, sep))
                    .setSecurityProtocol((short) 0));
            }
            brokers.add(new io.weir.protocol.message.UpdateMetadataRequest.UpdateMetadataBroker().setId(b.id())
                .setEndpoints(endpoints).setRack(b.rack()));
        }
        return brokers;
    }

    // ---------------------------------------------------------------- leader elections

    /** The brokers with a registration in the image, this one included (it is alive while it runs). */
    private Set<Integer> registered(ZkMetadataStore.Image image) {
        Set<Integer> ids = new HashSet<>();
        for (BrokerRegistration b : image.brokers()) {
            ids.add(b.id());
        }
        ids.add(brokerId);
        return ids;
    }

    /** The registered brokers that may be elected: those not in a controlled shutdown. */
    private Set<Integer> eligible(ZkMetadataStore.Image image) {
        Set<Integer> ids = registered(image);
        ids.removeAll(shuttingDownBrokers());
        return ids;
    }


    private static List<Integer> replicasOf(ZkMetadataStore.Image image, TopicPartition tp) {
        Map<Integer, List<Integer>> a = image.assignments().get(tp.topic());
        List<Integer> r = a == null ? null : a.get(tp.partition());
        return r == null ? List.of() : r;
    }

    /** The topic's {@code unclean.leader.election.enable}, else the broker's. */
    private boolean uncleanEnabled(ZkMetadataStore.Image image, String topic) {
        TopicMetadata t = image.topics().get(topic);
        String v = t == null ? null : t.configs().get(BrokerConfig.UNCLEAN_LEADER_ELECTION_ENABLE);
        return v == null ? settings.uncleanLeaderElection() : Boolean.parseBoolean(v.trim());
    }

    /** The partitions of the image in a stable order (topic, then partition). */
    private static List<TopicPartition> sortedPartitions(Collection<TopicPartition> tps) {
        List<TopicPartition> out = new ArrayList<>(tps);
        out.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        return out;
    }

    /**
     * Computes a pass from the current image and writes its decisions: each partition's state znode at the
     * version the image read, with the leader epoch bumped, in chunked transactions under the epoch fence.
     * A write that meets a concurrent change (a version that moved on) fails its chunk; the topics are
     * read again and the pass computed again, at most {@link #MAX_PASS_ATTEMPTS} times. Holds this lock.
     */
    private Plan commitPlan(String what, Function<ZkMetadataStore.Image, Plan> planner) {
        for (int attempt = 1; ; attempt++) {
            ControllerContext term = requireActive();
            ZkMetadataStore.Image image = store.image();
            Plan plan = planner.apply(image);
            if (plan.writes().isEmpty()) {
                return plan;
            }
            List<CuratorOp> ops = new ArrayList<>(plan.writes().size());
            Set<String> topics = new HashSet<>();
            try {
                for (Map.Entry<TopicPartition, LeaderElection.Decision> e : plan.writes().entrySet()) {
                    TopicPartition tp = e.getKey();
                    PartitionState s = image.states().get(tp);
                    LeaderElection.Decision d = e.getValue();
                    ops.add(client.transactionOp().setData().withVersion(s.zkVersion())
                        .forPath(ZkPaths.partitionState(tp.topic(), tp.partition()),
                            ZkMetadataStore.stateJson(d.leader(), s.leaderEpoch() + 1, d.isr(), term.controllerEpoch())));
                    topics.add(tp.topic());
                }
            } catch (Exception e) {
                throw ZkMetadataStore.zkFailure("prepare the " + what + " elections", e);
            }
            try {
                fencedCommit(store, term, ops);
            } catch (ControllerMovedException e) {
                throw e;
            } catch (RuntimeException e) {
                store.changed(topics); // another write moved some state on: read it
                if (attempt >= MAX_PASS_ATTEMPTS) {
                    throw e;
                }
                log.debug("the {} elections met a concurrent change; computing them again", what, e);
                continue;
            }
            store.changed(topics);
            logChanges(what, image, plan.writes());
            sendPartitionStates(plan.writes().keySet());
            return plan;
        }
    }

    /** The first few changes of a pass at INFO (a broker's failure may move thousands), every one at DEBUG. */
    private void logChanges(String what, ZkMetadataStore.Image image, Map<TopicPartition, LeaderElection.Decision> writes) {
        int shown = 0;
        for (TopicPartition tp : sortedPartitions(writes.keySet())) {
            PartitionState s = image.states().get(tp);
            LeaderElection.Decision d = writes.get(tp);
            boolean info = shown++ < 10;
            if (info ? log.isInfoEnabled() : log.isDebugEnabled()) {
                String line = "controller {} ({}): {} leader {} -> {}, ISR {} -> {}, leader epoch {}";
                Object[] args = {brokerId, what, tp, s.leader(), d.leader(), s.isr(), d.isr(), s.leaderEpoch() + 1};
                if (info) {
                    log.info(line, args);
                } else {
                    log.debug(line, args);
                }
            }
        }
        if (writes.size() > 10) {
            log.info("controller {} ({}): {} partition states written in all", brokerId, what, writes.size());
        }
    }

    /**
     * The replicas brokers took offline with a failed log directory, by partition, as this controller last read
     * them ({@link ZkOfflineReplicas}).
     */
    public synchronized Map<TopicPartition, Set<Integer>> offlineReplicas() {
        return offlineReplicas;
    }

    /**
     * The brokers in a controlled shutdown, as this controller last read them: they must not be elected,
     * nor (Kafka's rule for AlterPartition) added back to an ISR.
     */
    public synchronized Set<Integer> shuttingDownBrokers() {
        return shuttingDown;
    }

    /**
     * Failover: partitions whose leader or ISR members are no longer registered, or hold the partition offline
     * (a failed log directory: such a replica counts as dead for that partition alone).
     */
    private Plan liveBrokersPlan(ZkMetadataStore.Image image) {
        Set<Integer> registered = registered(image);
        Set<Integer> eligible = eligible(image);
        Map<TopicPartition, LeaderElection.Decision> writes = new HashMap<>();
        for (Map.Entry<TopicPartition, PartitionState> e : image.states().entrySet()) {
            List<Integer> replicas = replicasOf(image, e.getKey());
            if (replicas.isEmpty()) {
                continue;
            }
            Set<Integer> offline = offlineReplicas.get(e.getKey());
            LeaderElection.Decision d = LeaderElection.onLiveBrokersChanged(e.getValue(), replicas,
                ZkOfflineReplicas.without(registered, offline), ZkOfflineReplicas.without(eligible, offline),
                uncleanEnabled(image, e.getKey().topic()));
            if (d != null) {
                writes.put(e.getKey(), d);
            }
        }
        return new Plan(writes, Map.of());
    }

    /**
     * The brokers registered now under another broker epoch than the one this term last informed: they
     * restarted (or lost their session) and registered again, maybe before the controller read them gone
     * (a restart inside the session timeout closes its old session and registers at once). Their logs may
     * be behind what the ISR counted them for, so each is failed over like a broker that left (Kafka's
     * "bounced brokers": onBrokerFailure, then onBrokerStartup). Holds this.
     */
    private Map<Integer, Long> bouncedBrokers() {
        Map<Integer, Long> bounced = new java.util.TreeMap<>();
        for (BrokerRegistration b : store.image().brokers()) {
            Long before = informedBrokers.get(b.id());
            if (before != null && before != b.epoch()) {
                bounced.put(b.id(), b.epoch());
            }
        }
        return bounced;
    }

    /**
     * Failover of {@code bounced} brokers as if they had left: they lose their ISR places and their
     * leaderships move to another live ISR member, with a leader-epoch bump (so the leaders forget what
     * they knew of the earlier incarnations' logs). A partition no other ISR member can take is left
     * without a leader, its ISR kept, and the failover pass that follows elects the returned broker again
     * (never an unclean election here: the broker is back). They rejoin an ISR by catching up.
     */
    private Plan bouncedBrokersPlan(ZkMetadataStore.Image image, Set<Integer> bounced) {
        Set<Integer> registered = registered(image);
        registered.removeAll(bounced);
        Set<Integer> eligible = eligible(image);
        eligible.removeAll(bounced);
        Map<TopicPartition, LeaderElection.Decision> writes = new HashMap<>();
        for (Map.Entry<TopicPartition, PartitionState> e : image.states().entrySet()) {
            List<Integer> replicas = replicasOf(image, e.getKey());
            if (replicas.isEmpty()) {
                continue;
            }
            LeaderElection.Decision d = LeaderElection.onLiveBrokersChanged(e.getValue(), replicas, registered, eligible,
                false);
            if (d != null) {
                writes.put(e.getKey(), d);
            }
        }
        return new Plan(writes, Map.of());
    }

    /** Controlled shutdown: the leaderships and ISR places of the brokers shutting down. */
    private Plan shutdownPlan(ZkMetadataStore.Image image) {
        Set<Integer> registered = registered(image);
        Set<Integer> eligible = eligible(image);
        Map<TopicPartition, LeaderElection.Decision> writes = new HashMap<>();
        for (int broker : shuttingDownBrokers()) {
            if (!registered.contains(broker)) {
                continue; // gone: failover's
            }
            for (Map.Entry<TopicPartition, PartitionState> e : image.states().entrySet()) {
                PartitionState s = e.getValue();
                LeaderElection.Decision before = writes.get(e.getKey());
                if (before != null) {
                    s = new PartitionState(before.leader(), s.leaderEpoch(), before.isr(), s.controllerEpoch(), s.zkVersion());
                }
                LeaderElection.Decision d = LeaderElection.shutdown(s, replicasOf(image, e.getKey()), broker, eligible);
                if (d != null) {
                    writes.put(e.getKey(), d);
                }
            }
        }
        return new Plan(writes, Map.of());
    }

    /**
     * An election asked for: for each partition (all of them when {@code requested} is null) the
     * answer and, when it elects, the new leader. With {@code requested} null the answers leave out the
     * partitions that needed no election, as Kafka's.
     */
    private Plan electionPlan(ZkMetadataStore.Image image, Type type, Set<TopicPartition> requested) {
        Set<Integer> registered = registered(image);
        Set<Integer> eligible = eligible(image);
        Map<TopicPartition, LeaderElection.Decision> writes = new HashMap<>();
        Map<TopicPartition, Result> answers = new LinkedHashMap<>();
        Collection<TopicPartition> targets = requested == null ? sortedPartitions(image.states().keySet()) : requested;
        for (TopicPartition tp : targets) {
            PartitionState s = image.states().get(tp);
            List<Integer> replicas = replicasOf(image, tp);
            if (s == null || replicas.isEmpty()) {
                answers.put(tp, new Result(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist."));
                continue;
            }
            LeaderElection.Decision d;
            if (type == Type.PREFERRED) {
                if (s.leader() == LeaderElection.preferred(replicas)) {
                    answers.put(tp, notNeeded());
                    continue;
                }
                d = LeaderElection.preferredLeader(s, replicas, eligible);
                if (d == null) {
                    answers.put(tp, new Result(Errors.PREFERRED_LEADER_NOT_AVAILABLE, "Failed to elect leader for partition "
                        + tp + " under strategy PreferredReplicaPartitionLeaderElectionStrategy"));
                    continue;
                }
            } else {
                if (LeaderElection.hasLiveLeader(s, registered)) {
                    answers.put(tp, notNeeded());
                    continue;
                }
                d = LeaderElection.unclean(s, replicas, eligible);
                if (d == null) {
                    answers.put(tp, new Result(Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE, "Failed to elect leader for partition "
                        + tp + " under strategy UncleanLeaderElectionStrategy"));
                    continue;
                }
            }
            writes.put(tp, d);
            answers.put(tp, Result.ELECTED);
        }
        if (requested == null) {
            answers.values().removeIf(r -> r.error() == Errors.ELECTION_NOT_NEEDED);
        }
        return new Plan(writes, answers);
    }

    private static Result notNeeded() {
        return new Result(Errors.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition.");
    }

    /**
     * The automatic rebalance (Kafka's rule): for each eligible broker, the share of the partitions it is
     * the preferred replica of that another broker leads; above {@code leader.imbalance.per.broker.percentage}
     * those partitions whose preferred replica is in the ISR get it back as leader.
     */
    private Plan rebalancePlan(ZkMetadataStore.Image image) {
        Set<Integer> eligible = eligible(image);
        Map<Integer, Integer> preferredCount = new HashMap<>();
        Map<Integer, List<TopicPartition>> ledElsewhere = new HashMap<>();
        for (Map.Entry<TopicPartition, PartitionState> e : image.states().entrySet()) {
            int preferred = LeaderElection.preferred(replicasOf(image, e.getKey()));
            if (preferred == LeaderElection.NO_LEADER) {
                continue;
            }
            preferredCount.merge(preferred, 1, Integer::sum);
            if (e.getValue().leader() != preferred) {
                ledElsewhere.computeIfAbsent(preferred, k -> new ArrayList<>()).add(e.getKey());
            }
        }
        Map<TopicPartition, LeaderElection.Decision> writes = new HashMap<>();
        for (Map.Entry<Integer, List<TopicPartition>> e : ledElsewhere.entrySet()) {
            double ratio = (double) e.getValue().size() / preferredCount.get(e.getKey());
            if (!eligible.contains(e.getKey()) || ratio <= settings.imbalancePercentage() / 100.0) {
                continue;
            }
            for (TopicPartition tp : e.getValue()) {
                LeaderElection.Decision d = LeaderElection.preferredLeader(image.states().get(tp), replicasOf(image, tp), eligible);
                if (d != null) {
                    writes.put(tp, d);
                }
            }
        }
        return new Plan(writes, Map.of());
    }

    private void checkLeaderImbalance() {
        try {
            synchronized (this) {
                if (isActive()) {
                    commitPlan("preferred-leader rebalance", this::rebalancePlan);
                }
            }
        } catch (NotControllerException e) {
            log.debug("no longer the controller: {}", e.getMessage());
        } catch (RuntimeException e) {
            if (!worker.isShutdown()) {
                log.warn("the preferred-leader rebalance failed; it runs again at the next check", e);
            }
        }
    }

    /**
     * Elects leaders (ElectLeaders). On the controller the election runs at once. Any other broker writes
     * the request as a sequential znode under {@link ZkPaths#LEADER_ELECTIONS}, which the controller
     * answers in place; it waits at most {@code timeoutMs} for the answer (then
     * {@link NotCompletedException}; the controller may still run the election) and deletes the znode.
     */
    @Override
    public Map<TopicPartition, Result> electLeaders(Type type, Set<TopicPartition> partitions, long timeoutMs) {
        synchronized (this) {
            if (isActive()) {
                return commitPlan(type + " election", image -> electionPlan(image, type, partitions)).answers();
            }
        }
        return forwardToController(ZkPaths.LEADER_ELECTIONS, electionRequestJson(type, partitions), "leader election",
            timeoutMs);
    }

    /**
     * Writes a request for the controller as a sequential znode under {@code dir}, waits at most
     * {@code timeoutMs} for the controller to answer in place ("results"), then deletes the znode. Throws
     * {@link NotCompletedException} when no answer came in time (the controller may still act on it).
     */
    private Map<TopicPartition, Result> forwardToController(String dir, byte[] request, String what, long timeoutMs) {
        String path;
        try {
            path = client.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(dir + "/request-", request);
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("write a " + what + " for the controller", e);
        }
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMs));
            while (true) {
                CountDownLatch changed = new CountDownLatch(1);
                byte[] data = store.getDataOrNull(path, null, e -> changed.countDown());
                if (data == null) {
                    throw new NotCompletedException("the " + what + " request " + path + " disappeared");
                }
                Map<String, Object> json = Json.parseObject(data);
                if (json.get("results") instanceof List<?> results) {
                    return parseResults(results);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || !changed.await(left, TimeUnit.NANOSECONDS) && System.nanoTime() >= deadline) {
                    throw new NotCompletedException("the controller has not answered the " + what + " in "
                        + timeoutMs + " ms");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NotCompletedException("interrupted while waiting for the controller's " + what);
        } finally {
            try {
                client.delete().forPath(path);
            } catch (Exception e) {
                log.debug("cannot delete the {} request {}", what, path, e);
            }
        }
    }

    private static byte[] electionRequestJson(Type type, Set<TopicPartition> partitions) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1);
        json.put("election_type", (int) type.wire());
        if (partitions == null) {
            json.put("partitions", null);
        } else {
            List<Object> list = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("topic", tp.topic());
                p.put("partition", tp.partition());
                list.add(p);
            }
            json.put("partitions", list);
        }
        return Json.writeBytes(json);
    }

    private static Map<TopicPartition, Result> parseResults(List<?> results) {
        Map<TopicPartition, Result> out = new LinkedHashMap<>();
        for (Object o : results) {
            Map<?, ?> r = (Map<?, ?>) o;
            Object message = r.get("message");
            out.put(new TopicPartition(String.valueOf(r.get("topic")), ((Number) r.get("partition")).intValue()),
                new Result(Errors.forCode(((Number) r.get("error_code")).shortValue()),
                    message == null ? null : message.toString()));
        }
        return out;
    }

    /** Runs the elections other brokers wrote under {@link ZkPaths#LEADER_ELECTIONS} and writes the answers in place. */
    private void serveElectionRequests() {
        serveRequests(ZkPaths.LEADER_ELECTIONS, "leader election", json -> {
            Type type = Type.of((byte) Json.intField(json, "election_type", 0));
            Set<TopicPartition> partitions = null;
            if (json.get("partitions") instanceof List<?> list) {
                partitions = new java.util.LinkedHashSet<>();
                for (Object o : list) {
                    Map<?, ?> p = (Map<?, ?>) o;
                    partitions.add(new TopicPartition(String.valueOf(p.get("topic")), ((Number) p.get("partition")).intValue()));
                }
            }
            Set<TopicPartition> asked = partitions;
            return commitPlan(type + " election", image -> electionPlan(image, type, asked)).answers();
        });
    }

    /**
     * Answers the requests other brokers wrote under {@code dir} (sequential znodes, in order): each
     * unanswered one gets "results" from {@code serve}, written in place with a conditional update; its
     * broker reads and deletes it.
     */
    private void serveRequests(String dir, String what, Function<Map<String, Object>, Map<TopicPartition, Result>> serve) {
        List<String> children;
        try {
            children = new ArrayList<>(client.getChildren().usingWatcher(markerWatcher).forPath(dir));
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("read " + dir, e);
        }
        children.sort(null);
        for (String child : children) {
            String path = dir + "/" + child;
            Stat stat = new Stat();
            byte[] data = store.getDataOrNull(path, stat, null);
            if (data == null) {
                continue;
            }
            Map<String, Object> json = Json.parseObject(data);
            if (json.containsKey("results")) {
                continue; // answered; its broker deletes it
            }
            Map<TopicPartition, Result> answers;
            try {
                answers = serve.apply(json);
            } catch (ClassCastException | IllegalArgumentException | NullPointerException e) {
                log.warn("ignoring the malformed {} request {}", what, path, e);
                answers = Map.of();
            }
            List<Object> results = new ArrayList<>();
            answers.forEach((tp, r) -> {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("topic", tp.topic());
                o.put("partition", tp.partition());
                o.put("error_code", (int) r.error().code());
                o.put("message", r.message());
                results.add(o);
            });
            json.put("results", results);
            try {
                client.setData().withVersion(stat.getVersion()).forPath(path, Json.writeBytes(json));
            } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
                log.debug("the {} request {} was withdrawn", what, path);
            } catch (Exception e) {
                throw ZkMetadataStore.zkFailure("answer the " + what + " request " + path, e);
            }
        }
    }

    // ---------------------------------------------------------------- partition reassignments

    /**
     * One topic's change of a reassignment step: its whole new assignment and reassignments in progress,
     * the partition states to write (each {@code zkVersion} the version it was computed from), and the
     * answers per partition.
     */
    private record TopicChange(Map<Integer, List<Integer>> assignment, Map<Integer, PartitionReassignment> reassignments,
                               Map<Integer, PartitionState> states, Map<TopicPartition, Result> answers) {
    }

    /**
     * Starts, replaces or cancels reassignments (AlterPartitionReassignments). On the controller they are
     * written at once, one transaction per topic; any other broker writes the request under
     * {@link ZkPaths#PARTITION_REASSIGNMENTS} for the controller and waits at most {@code timeoutMs}.
     */
    @Override
    public Map<TopicPartition, Result> alterPartitionReassignments(Map<TopicPartition, List<Integer>> targets,
                                                                  boolean allowReplicationFactorChange, long timeoutMs) {
        synchronized (this) {
            if (isActive()) {
                return reassign(targets, allowReplicationFactorChange);
            }
        }
        return forwardToController(ZkPaths.PARTITION_REASSIGNMENTS,
            reassignmentRequestJson(targets, allowReplicationFactorChange), "partition reassignment", timeoutMs);
    }

    @Override
    public Map<TopicPartition, Ongoing> listPartitionReassignments(Set<TopicPartition> partitions) {
        ZkMetadataStore.Image image = store.image();
        Map<TopicPartition, Ongoing> out = new LinkedHashMap<>();
        Collection<TopicPartition> which = partitions == null ? sortedPartitions(image.reassignments().keySet()) : partitions;
        for (TopicPartition tp : which) {
            PartitionReassignment r = image.reassignments().get(tp);
            if (r != null) {
                out.put(tp, new Ongoing(replicasOf(image, tp), r.adding(), r.removing()));
            }
        }
        return out;
    }

    private static byte[] reassignmentRequestJson(Map<TopicPartition, List<Integer>> targets, boolean allowRfChange) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1);
        json.put("allow_replication_factor_change", allowRfChange);
        List<Object> list = new ArrayList<>();
        targets.forEach((tp, replicas) -> {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("topic", tp.topic());
            p.put("partition", tp.partition());
            p.put("replicas", replicas);
            list.add(p);
        });
        json.put("partitions", list);
        return Json.writeBytes(json);
    }

    /** Runs the reassignments other brokers wrote under {@link ZkPaths#PARTITION_REASSIGNMENTS}. */
    private void serveReassignmentRequests() {
        serveRequests(ZkPaths.PARTITION_REASSIGNMENTS, "partition reassignment", json -> {
            Map<TopicPartition, List<Integer>> targets = new LinkedHashMap<>();
            for (Object o : (List<?>) json.get("partitions")) {
                Map<?, ?> p = (Map<?, ?>) o;
                Object replicas = p.get("replicas");
                targets.put(new TopicPartition(String.valueOf(p.get("topic")), ((Number) p.get("partition")).intValue()),
                    replicas == null ? null : Json.intList(replicas));
            }
            return reassign(targets, !Boolean.FALSE.equals(json.get("allow_replication_factor_change")));
        });
    }

    /** Validates and writes reassignments, per topic. Holds this lock. */
    private Map<TopicPartition, Result> reassign(Map<TopicPartition, List<Integer>> targets, boolean allowRfChange) {
        ZkMetadataStore.Image image = store.image();
        Set<Integer> registered = registered(image);
        Map<TopicPartition, Result> answers = new LinkedHashMap<>();
        Map<String, Map<Integer, List<Integer>>> byTopic = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, List<Integer>> e : targets.entrySet()) {
            TopicPartition tp = e.getKey();
            List<Integer> target = e.getValue();
            List<Integer> replicas = replicasOf(image, tp);
            if (replicas.isEmpty() || !image.states().containsKey(tp)) {
                answers.put(tp, new Result(Errors.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find partition " + tp + "."));
                continue;
            }
            if (target != null) {
                Result invalid = invalidTarget(image, tp, target, registered, allowRfChange);
                if (invalid != null) {
                    answers.put(tp, invalid);
                    continue;
                }
            }
            answers.put(tp, Result.ELECTED);
            byTopic.computeIfAbsent(tp.topic(), k -> new LinkedHashMap<>()).put(tp.partition(), target);
        }
        for (Map.Entry<String, Map<Integer, List<Integer>>> e : byTopic.entrySet()) {
            answers.putAll(commitTopicChange(e.getKey(), "reassignment",
                image2 -> startPlan(image2, e.getKey(), e.getValue())));
        }
        return answers;
    }

    private static Result invalidTarget(ZkMetadataStore.Image image, TopicPartition tp, List<Integer> target,
                                        Set<Integer> registered, boolean allowRfChange) {
        if (target.isEmpty()) {
            return new Result(Errors.INVALID_REPLICA_ASSIGNMENT, "The replica list for " + tp + " is empty.");
        }
        if (new HashSet<>(target).size() != target.size()) {
            return new Result(Errors.INVALID_REPLICA_ASSIGNMENT, "The replica list for " + tp + " " + target
                + " contains duplicate brokers.");
        }
        for (int r : target) {
            if (!registered.contains(r)) {
                return new Result(Errors.INVALID_REPLICA_ASSIGNMENT, "The replica list for " + tp + " " + target
                    + " names broker " + r + ", which is not registered.");
            }
        }
        if (!allowRfChange) {
            PartitionReassignment ongoing = image.reassignments().get(tp);
            List<Integer> replicas = replicasOf(image, tp);
            List<Integer> original = ongoing == null ? replicas : ongoing.original(replicas);
            if (original.size() != target.size()) {
                return new Result(Errors.INVALID_REPLICATION_FACTOR, "The replication factor of " + tp + " would change"
                    + " from " + original.size() + " to " + target.size() + " and allowReplicationFactorChange is false.");
            }
        }
        return null;
    }

    /**
     * The first step of reassignments of one topic (a null target cancels): a partition whose target
     * replicas are all in the ISR — or whose reassignment is cancelled — completes at once
     * ({@link #completion}); any other gets the union of target and original replicas with the adding and
     * removing ones recorded, and its state written again unchanged (a new partition epoch), so every
     * replica applies the new replica set and the new replicas start fetching.
     */
    private TopicChange startPlan(ZkMetadataStore.Image image, String topic, Map<Integer, List<Integer>> requested) {
        Map<Integer, List<Integer>> assignment = new TreeMap<>(image.assignments().getOrDefault(topic, Map.of()));
        Map<Integer, PartitionReassignment> ongoing = image.reassignmentsOf(topic);
        Map<Integer, PartitionState> writes = new TreeMap<>();
        Map<TopicPartition, Result> answers = new LinkedHashMap<>();
        Set<Integer> eligible = eligible(image);
        int controllerEpoch = controllerEpoch();
        for (Map.Entry<Integer, List<Integer>> e : requested.entrySet()) {
            int p = e.getKey();
            TopicPartition tp = new TopicPartition(topic, p);
            PartitionState s = image.states().get(tp);
            List<Integer> replicas = assignment.get(p);
            if (s == null || replicas == null) {
                answers.put(tp, new Result(Errors.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find partition " + tp + "."));
                continue;
            }
            PartitionReassignment current = ongoing.get(p);
            List<Integer> original = current == null ? replicas : current.original(replicas);
            List<Integer> target = e.getValue();
            boolean cancel = target == null;
            if (cancel) {
                if (current == null) {
                    answers.put(tp, new Result(Errors.NO_REASSIGNMENT_IN_PROGRESS,
                        "No reassignment is in progress for " + tp + "."));
                    continue;
                }
                target = original;
            }
            answers.put(tp, Result.ELECTED);
            if (current == null && target.equals(replicas)) {
                continue; // already there
            }
            if (cancel || s.isr().containsAll(target)) {
                PartitionState done = completion(s, target, eligible, controllerEpoch);
                if (done == null) {
                    answers.put(tp, new Result(Errors.INVALID_REPLICA_ASSIGNMENT, "Cannot revert " + tp + " to "
                        + target + ": none of them is in the ISR " + s.isr() + "."));
                    continue;
                }
                assignment.put(p, List.copyOf(target));
                ongoing.remove(p);
                writes.put(p, done);
            } else {
                assignment.put(p, List.copyOf(PartitionReassignment.union(target, original)));
                ongoing.put(p, PartitionReassignment.of(original, target));
                writes.put(p, new PartitionState(s.leader(), s.leaderEpoch(), s.isr(), controllerEpoch, s.zkVersion()));
            }
        }
        return new TopicChange(assignment, ongoing, writes, answers);
    }

    /**
     * A partition's state when its replicas become {@code target}: the ISR without the removed replicas;
     * the leader kept if it stays in that ISR and may lead, else the first target replica in it that may
     * (none: no leader until one returns); a new leader epoch. Null when no target replica is in the ISR.
     */
    private static PartitionState completion(PartitionState s, List<Integer> target, Set<Integer> eligible,
                                             int controllerEpoch) {
        List<Integer> isr = new ArrayList<>();
        for (int r : s.isr()) {
            if (target.contains(r)) {
                isr.add(r);
            }
        }
        if (isr.isEmpty()) {
            return null;
        }
        int leader = LeaderElection.NO_LEADER;
        if (isr.contains(s.leader()) && eligible.contains(s.leader())) {
            leader = s.leader();
        } else {
            for (int r : target) {
                if (isr.contains(r) && eligible.contains(r)) {
                    leader = r;
                    break;
                }
            }
        }
        return new PartitionState(leader, s.leaderEpoch() + 1, List.copyOf(isr), controllerEpoch, s.zkVersion());
    }

    /** The reassignments of one topic whose target replicas are all in the ISR (and one of them may lead). */
    private TopicChange completionPlan(ZkMetadataStore.Image image, String topic) {
        Map<Integer, List<Integer>> assignment = new TreeMap<>(image.assignments().getOrDefault(topic, Map.of()));
        Map<Integer, PartitionReassignment> ongoing = image.reassignmentsOf(topic);
        Map<Integer, PartitionState> writes = new TreeMap<>();
        Set<Integer> eligible = eligible(image);
        for (Map.Entry<Integer, PartitionReassignment> e : new TreeMap<>(ongoing).entrySet()) {
            int p = e.getKey();
            PartitionState s = image.states().get(new TopicPartition(topic, p));
            List<Integer> replicas = assignment.get(p);
            if (s == null || replicas == null) {
                continue;
            }
            List<Integer> target = e.getValue().target(replicas);
            if (!s.isr().containsAll(target)) {
                continue;
            }
            PartitionState done = completion(s, target, eligible, controllerEpoch());
            if (done == null || done.leader() == LeaderElection.NO_LEADER) {
                continue; // wait until a target replica may lead
            }
            assignment.put(p, List.copyOf(target));
            ongoing.remove(p);
            writes.put(p, done);
        }
        return new TopicChange(assignment, ongoing, writes, Map.of());
    }

    /** Completes the reassignments whose target replicas have all joined the ISR. */
    private void completeReassignments() {
        Set<String> topics = new TreeSet<>();
        for (TopicPartition tp : store.image().reassignments().keySet()) {
            topics.add(tp.topic());
        }
        for (String topic : topics) {
            commitTopicChange(topic, "reassignment completion", image -> completionPlan(image, topic));
        }
    }

    /**
     * Writes one topic's reassignment step: its znode (assignment and reassignments in progress) at the
     * version the image read, and the partition states at theirs, in one transaction under the epoch
     * fence; computed again from a fresh read when it met a concurrent change. Holds this lock.
     */
    private Map<TopicPartition, Result> commitTopicChange(String topic, String what,
                                                          Function<ZkMetadataStore.Image, TopicChange> planner) {
        for (int attempt = 1; ; attempt++) {
            ControllerContext term = requireActive();
            ZkMetadataStore.Image image = store.image();
            TopicChange change = planner.apply(image);
            TopicMetadata t = image.topics().get(topic);
            Integer version = image.topicZkVersions().get(topic);
            if (change.states().isEmpty() || t == null || version == null) {
                return change.answers();
            }
            List<CuratorOp> ops = new ArrayList<>();
            try {
                ops.add(client.transactionOp().setData().withVersion(version).forPath(ZkPaths.topic(topic),
                    ZkMetadataStore.topicJson(t.topicId(), change.assignment(), change.reassignments())));
                for (Map.Entry<Integer, PartitionState> e : change.states().entrySet()) {
                    PartitionState s = e.getValue();
                    ops.add(client.transactionOp().setData().withVersion(s.zkVersion())
                        .forPath(ZkPaths.partitionState(topic, e.getKey()),
                            ZkMetadataStore.stateJson(s.leader(), s.leaderEpoch(), s.isr(), term.controllerEpoch())));
                }
            } catch (Exception e) {
                throw ZkMetadataStore.zkFailure("prepare the " + what + " of topic " + topic, e);
            }
            try {
                fencedCommit(store, term, ops);
            } catch (ControllerMovedException e) {
                throw e;
            } catch (RuntimeException e) {
                store.changed(topic, false);
                if (attempt >= MAX_PASS_ATTEMPTS) {
                    throw e;
                }
                log.debug("the {} of topic {} met a concurrent change; computing it again", what, topic, e);
                continue;
            }
            store.changed(topic, false);
            Set<TopicPartition> changedPartitions = new HashSet<>();
            Map<Integer, Set<TopicPartition>> removedReplicas = new HashMap<>();
            for (Integer p : change.states().keySet()) {
                TopicPartition tp = new TopicPartition(topic, p);
                changedPartitions.add(tp);
                List<Integer> now = change.assignment().get(p);
                for (int old : replicasOf(image, tp)) {
                    if (now != null && !now.contains(old)) {
                        removedReplicas.computeIfAbsent(old, b -> new HashSet<>()).add(tp);
                    }
                }
            }
            // the new states by RPC (the watch path is the slower fallback); replicas the committed assignment
            // no longer names are stopped and deleted (their brokers' metadata listener would do it too)
            sendPartitionStates(changedPartitions);
            removedReplicas.forEach((b, tps) -> sendStopReplicas(b, tps, true));
            for (Map.Entry<Integer, PartitionState> e : change.states().entrySet()) {
                TopicPartition tp = new TopicPartition(topic, e.getKey());
                PartitionReassignment r = change.reassignments().get(e.getKey());
                log.info("controller {} ({}): {} replicas {} -> {}{}, leader {} ISR {} leader epoch {}", brokerId, what, tp,
                    replicasOf(image, tp), change.assignment().get(e.getKey()),
                    r == null ? "" : " (adding " + r.adding() + ", removing " + r.removing() + ")",
                    e.getValue().leader(), e.getValue().isr(), e.getValue().leaderEpoch());
            }
            return change.answers();
        }
    }

    /**
     * Controlled shutdown (Kafka's, through ZooKeeper instead of the ControlledShutdown RPC): creates this
     * broker's ephemeral {@link ZkPaths#controlledShutdown} znode, which the controller — this broker or
     * another — answers by moving this broker's leaderships to other live ISR members and dropping it
     * from the ISRs it follows; waits until this broker's image shows it leads no partition that another
     * live ISR member could lead. Each of {@code maxRetries} attempts writes the znode again and waits at
     * most {@code attemptMs}. Returns at once, true, when no other broker is registered. Returns whether
     * the leaderships moved; the znode goes with the session when the broker stops.
     */
    public boolean controlledShutdown(int maxRetries, long attemptMs) {
        if (!registered(store.image()).stream().anyMatch(id -> id != brokerId)) {
            return true; // alone: nothing can take over
        }
        String path = ZkPaths.controlledShutdown(brokerId);
        for (int attempt = 1; attempt <= maxRetries; attempt++) {
            try {
                try {
                    client.delete().forPath(path); // a new child: the (possibly new) controller looks again
                } catch (KeeperException.NoNodeException e) {
                    // first attempt
                }
                client.create().withMode(CreateMode.EPHEMERAL).forPath(path);
            } catch (Exception e) {
                log.warn("controlled shutdown of broker {}: cannot write {} (attempt {} of {})", brokerId, path,
                    attempt, maxRetries, e);
            }
            if (store.awaitImage(this::ledPartitionsCannotMove, attemptMs)) {
                log.info("controlled shutdown of broker {}: its leaderships moved to other brokers", brokerId);
                return true;
            }
            log.warn("controlled shutdown of broker {}: attempt {} of {} ended with partitions it still leads that"
                + " another in-sync replica could lead", brokerId, attempt, maxRetries);
        }
        log.warn("controlled shutdown of broker {} did not complete; stopping anyway", brokerId);
        return false;
    }

    /** Whether every partition this broker leads has no other registered ISR member to take it over. */
    private boolean ledPartitionsCannotMove(ZkMetadataStore.Image image) {
        Set<Integer> registered = registered(image);
        for (Map.Entry<TopicPartition, PartitionState> e : image.states().entrySet()) {
            PartitionState s = e.getValue();
            if (s.leader() != brokerId || replicasOf(image, e.getKey()).size() <= 1) {
                continue;
            }
            for (int r : s.isr()) {
                if (r != brokerId && registered.contains(r)) {
                    return false;
                }
            }
        }
        return true;
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
