package io.weir.broker.coordinator;

import io.weir.broker.coordinator.runtime.CoordinatorRuntime;
import io.weir.broker.coordinator.runtime.CoordinatorShard;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.LeadershipListener;
import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicConfigs;
import io.weir.broker.server.TopicService;
import io.weir.common.TopicPartition;
import io.weir.log.LogConfig;
import io.weir.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The internal compacted topic a coordinator keeps its state in ({@code __consumer_offsets},
 * {@code __transaction_state}) and its shards on the {@link CoordinatorRuntime}: which partition owns a
 * key (Kafka's hash, so a key lands on the partition number it would on Kafka), creating the topic on
 * first need, which broker coordinates a key, and the error a request gets while its shard is missing
 * or loading. Both coordinators route through here, so "shards follow partition leadership" lives in
 * this one place.
 *
 * <p><b>Leadership.</b> A shard lives where its partition's leader is. This class is the
 * {@link LeadershipListener} of its topic's partitions: becoming leader at an epoch loads the shard at
 * that epoch, resigning unloads it (parked answers fail with NOT_COORDINATOR, timers stop), and the
 * runtime refuses a load that a newer resignation overtook. At {@link #start} it loads what this broker
 * leads already ({@link LocalLeadership}, the same source the events come from), so a change that
 * happened before it listened is not missed. Requests are routed by the cluster's metadata: a key
 * whose partition another broker leads gets NOT_COORDINATOR here, and FindCoordinator names that
 * broker.
 *
 * <p>Thread-safe.
 */
public final class CoordinatorTopic<S extends CoordinatorShard<R>, R> implements LeadershipListener {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorTopic.class);

    /** What a read over every loaded shard gathered, and COORDINATOR_LOAD_IN_PROGRESS if one was still loading. */
    public record Gathered<T>(Errors error, List<T> items) {
    }

    /**
     * How the topic is created when this broker creates it.
     *
     * @param partitions        the partition count
     * @param replicationFactor the wanted replication factor; the topic gets min(this, live brokers)
     * @param minInsyncReplicas the topic's {@code min.insync.replicas}, capped at its replication factor
     * @param segmentBytes      the topic's segment size
     */
    public record Settings(String name, int partitions, short replicationFactor, int minInsyncReplicas,
                           int segmentBytes) {
    }

    /** Whether this broker leads a partition now, by the replica manager's own view (what its events report). */
    @FunctionalInterface
    public interface LocalLeadership {
        /** The leader epoch at which this broker leads {@code tp}, or -1 when it does not lead it. */
        int leaderEpoch(TopicPartition tp);

        /**
         * The replica manager's view: a partition hosted here whose leader, as the cluster's metadata
         * names it, is this broker (or that has no recorded leadership: a lone broker's store), at the
         * hosted partition's leader epoch — what {@link ReplicaManager} reports to its
         * {@link LeadershipListener}s. The metadata check keeps a hosted follower replica from loading a
         * shard at start; a change between the two views is corrected by the events that follow.
         */
        static LocalLeadership of(ReplicaManager replicaManager, MetadataStore store) {
            int me = replicaManager.brokerId();
            return tp -> {
                Partition p = replicaManager.partition(tp);
                if (p == null || !p.isLeader() || store.partitionState(tp).map(s -> s.leader() != me).orElse(false)) {
                    return -1;
                }
                return p.leaderEpoch();
            };
        }
    }

    /**
     * Who coordinates a key: {@code error} NONE and {@code broker} null for this broker, NONE and the
     * broker's registration for another one, else the error (COORDINATOR_NOT_AVAILABLE).
     */
    public record Location(Errors error, BrokerRegistration broker) {
        static final Location LOCAL = new Location(Errors.NONE, null);

        static Location error(Errors e) {
            return new Location(e, null);
        }

        public boolean isLocal() {
            return error == Errors.NONE && broker == null;
        }
    }

    private final Settings settings;
    private final int brokerId;
    private final MetadataStore store;
    private final TopicService topics;
    private final CoordinatorRuntime<S, R> runtime;
    private final LocalLeadership leadership;
    private volatile int partitionCount;
    private volatile boolean stopped;

    /**
     * @param brokerId   this broker
     * @param leadership what this broker leads now (read at {@link #start} and after creating the topic)
     */
    public CoordinatorTopic(Settings settings, int brokerId, MetadataStore store, TopicService topics,
                            CoordinatorRuntime<S, R> runtime, LocalLeadership leadership) {
        this.settings = settings;
        this.brokerId = brokerId;
        this.store = store;
        this.topics = topics;
        this.runtime = runtime;
        this.leadership = leadership;
        this.partitionCount = store.topic(settings.name()).map(TopicMetadata::partitionCount)
            .orElse(settings.partitions());
    }

    public String name() {
        return settings.name();
    }

    public int partitionCount() {
        return partitionCount;
    }

    public boolean exists() {
        return store.topic(settings.name()).isPresent();
    }

    /** Kafka's mapping of a coordinator key (group id, transactional id) to its partition number. */
    public int partitionFor(String key) {
        int h = key.hashCode();
        return (h == Integer.MIN_VALUE ? 0 : Math.abs(h)) % partitionCount;
    }

    public TopicPartition partitionOf(String key) {
        return new TopicPartition(settings.name(), partitionFor(key));
    }

    /** Whether {@code tp} is a partition of this topic that exists. */
    public boolean contains(TopicPartition tp) {
        return settings.name().equals(tp.topic()) && exists() && tp.partition() >= 0 && tp.partition() < partitionCount;
    }

    // ------------------------------------------------------------------------------ leadership

    /**
     * Listens to {@code replicaManager}'s leadership changes, then schedules the load of every partition
     * this broker leads now (requests meanwhile: LOAD_IN_PROGRESS).
     */
    public void start(ReplicaManager replicaManager) {
        replicaManager.addLeadershipListener(this);
        loadLed();
    }

    /** Ignores leadership changes from now on (the runtime is being closed). */
    public void stop() {
        stopped = true;
    }

    /** Schedules the load of every partition this broker leads now; the loads' futures. */
    private List<CompletableFuture<Void>> loadLed() {
        List<CompletableFuture<Void>> loads = new ArrayList<>();
        if (exists()) {
            partitionCount = store.topic(settings.name()).map(TopicMetadata::partitionCount).orElse(partitionCount);
            for (int p = 0; p < partitionCount; p++) {
                TopicPartition tp = new TopicPartition(settings.name(), p);
                int epoch = leadership.leaderEpoch(tp);
                if (epoch >= 0) {
                    loads.add(runtime.scheduleLoad(tp, epoch));
                }
            }
        }
        return loads;
    }

    @Override
    public void onBecomeLeader(TopicPartition tp, int leaderEpoch) {
        if (stopped || !settings.name().equals(tp.topic())) {
            return;
        }
        if (tp.partition() >= partitionCount) {
            partitionCount = store.topic(settings.name()).map(TopicMetadata::partitionCount).orElse(partitionCount);
        }
        log.info("leading {} at epoch {}: loading its coordinator shard", tp, leaderEpoch);
        runtime.scheduleLoad(tp, leaderEpoch).whenComplete((v, t) -> {
            if (t != null) {
                log.info("coordinator shard of {} (epoch {}) not loaded: {}", tp, leaderEpoch, t.toString());
            }
        });
    }

    @Override
    public void onResign(TopicPartition tp, int leaderEpoch) {
        if (stopped || !settings.name().equals(tp.topic())) {
            return;
        }
        log.info("no longer leading {} (epoch {}): unloading its coordinator shard", tp, leaderEpoch);
        runtime.scheduleUnload(tp, leaderEpoch);
    }

    // ------------------------------------------------------------------------------ creation

    /**
     * Creates the topic (compacted, replication factor min(configured, live brokers)) if it does not
     * exist and loads the new partitions this broker leads; completes once they are loaded. Null if
     * the topic cannot be created.
     */
    public synchronized CompletableFuture<Void> ensureCreated() {
        if (exists()) {
            return CompletableFuture.completedFuture(null);
        }
        int live = Math.max(1, store.liveBrokers().size());
        short replicationFactor = (short) Math.max(1, Math.min(settings.replicationFactor(), live));
        int minIsr = Math.max(1, Math.min(settings.minInsyncReplicas(), replicationFactor));
        Map<String, String> configs = Map.of(LogConfig.CLEANUP_POLICY, "compact",
            LogConfig.SEGMENT_BYTES, Integer.toString(settings.segmentBytes()),
            TopicConfigs.MIN_INSYNC_REPLICAS, Integer.toString(minIsr));
        TopicService.Result r = topics.create(settings.name(), settings.partitions(), replicationFactor, Map.of(),
            configs, false);
        if (r.error() != Errors.NONE && r.error() != Errors.TOPIC_ALREADY_EXISTS
            && !(r.error() == Errors.REQUEST_TIMED_OUT && exists())) { // timed out: the controller still completes it
            log.error("cannot create {}: {} {}", settings.name(), r.error(), r.message());
            return null;
        }
        List<CompletableFuture<Void>> loads = loadLed();
        if (r.error() == Errors.NONE) {
            log.info("created {} with {} partitions, replication factor {}, min.insync.replicas {}", settings.name(),
                partitionCount, replicationFactor, minIsr);
        }
        return CompletableFuture.allOf(loads.toArray(new CompletableFuture[0]));
    }

    // ------------------------------------------------------------------------------ routing

    /**
     * FindCoordinator's answer for the key (creating the topic on first use): this broker when it leads
     * the key's partition and has its shard, the leader's registration when another live broker leads
     * it, COORDINATOR_NOT_AVAILABLE when the partition has no live leader or the topic cannot be made.
     */
    public CompletableFuture<Location> findCoordinator(String key) {
        CompletableFuture<Void> ready = ensureCreated();
        if (ready == null) {
            return CompletableFuture.completedFuture(Location.error(Errors.COORDINATOR_NOT_AVAILABLE));
        }
        return ready.handle((v, t) -> locate(partitionOf(key)));
    }

    /**
     * Who coordinates the key now, as {@link #findCoordinator} answers but without creating the topic
     * (COORDINATOR_NOT_AVAILABLE while it does not exist).
     */
    public Location coordinatorOf(String key) {
        return exists() ? locate(partitionOf(key)) : Location.error(Errors.COORDINATOR_NOT_AVAILABLE);
    }

    private Location locate(TopicPartition tp) {
        int leader = recordedLeader(tp);
        if (leader == brokerId || leader == NOT_RECORDED) {
            return runtime.shardState(tp) == null ? Location.error(Errors.COORDINATOR_NOT_AVAILABLE) : Location.LOCAL;
        }
        if (leader >= 0) {
            for (BrokerRegistration b : store.liveBrokers()) {
                if (b.id() == leader) {
                    return new Location(Errors.NONE, b);
                }
            }
        }
        return Location.error(Errors.COORDINATOR_NOT_AVAILABLE);
    }

    private static final int NOT_RECORDED = -2;

    /** The partition's leader in the cluster's metadata, -1 for none, NOT_RECORDED without a recorded state. */
    private int recordedLeader(TopicPartition tp) {
        return store.partitionState(tp).map(PartitionState::leader).orElse(NOT_RECORDED);
    }

    /** Whether the cluster's metadata names another broker (or no broker) as the partition's leader. */
    private boolean ledElsewhere(TopicPartition tp) {
        int leader = recordedLeader(tp);
        return leader != NOT_RECORDED && leader != brokerId;
    }

    /**
     * NONE when the key's shard is active here; NOT_COORDINATOR when this broker has no shard for it or
     * the metadata names another leader of its partition; COORDINATOR_LOAD_IN_PROGRESS while it loads.
     */
    public Errors shardError(String key) {
        if (!exists()) {
            return Errors.NOT_COORDINATOR;
        }
        TopicPartition tp = partitionOf(key);
        if (ledElsewhere(tp)) {
            return Errors.NOT_COORDINATOR;
        }
        CoordinatorRuntime.ShardState state = runtime.shardState(tp);
        if (state == null || state == CoordinatorRuntime.ShardState.CLOSED) {
            return Errors.NOT_COORDINATOR;
        }
        return state == CoordinatorRuntime.ShardState.LOADING ? Errors.COORDINATOR_LOAD_IN_PROGRESS : Errors.NONE;
    }

    /**
     * Runs {@code op} on every active shard of a partition led here and gathers the results (ListGroups,
     * ListTransactions); a shard whose read fails contributes nothing.
     */
    public <T> CompletableFuture<Gathered<T>> readAll(String opName, Function<S, List<T>> op) {
        Errors error = Errors.NONE;
        List<CompletableFuture<List<T>>> parts = new ArrayList<>();
        for (int p = 0; exists() && p < partitionCount; p++) {
            TopicPartition tp = new TopicPartition(settings.name(), p);
            if (ledElsewhere(tp)) {
                continue;
            }
            CoordinatorRuntime.ShardState state = runtime.shardState(tp);
            if (state == CoordinatorRuntime.ShardState.LOADING) {
                error = Errors.COORDINATOR_LOAD_IN_PROGRESS;
            } else if (state == CoordinatorRuntime.ShardState.ACTIVE) {
                parts.add(runtime.scheduleReadOperation(opName, tp, op).exceptionally(t -> List.of()));
            }
        }
        Errors gatheredError = error;
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture[0])).thenApply(v -> {
            List<T> out = new ArrayList<>();
            parts.forEach(f -> out.addAll(f.join()));
            return new Gathered<>(gatheredError, out);
        });
    }
}
