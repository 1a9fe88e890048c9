package io.weir.broker.group;

import io.weir.broker.BrokerConfig;
import io.weir.broker.coordinator.CoordinatorThreads;
import io.weir.broker.coordinator.CoordinatorTopic;
import io.weir.broker.coordinator.ReplicaManagerPartitionWriter;
import io.weir.broker.coordinator.runtime.CoordinatorException;
import io.weir.broker.coordinator.runtime.CoordinatorLoader;
import io.weir.broker.coordinator.runtime.CoordinatorRuntime;
import io.weir.broker.coordinator.runtime.PartitionWriter;
import io.weir.broker.group.GroupCoordinatorShard.Described;
import io.weir.broker.group.GroupCoordinatorShard.FetchResult;
import io.weir.broker.group.GroupCoordinatorShard.JoinRequest;
import io.weir.broker.group.GroupCoordinatorShard.JoinResult;
import io.weir.broker.group.GroupCoordinatorShard.LeaveResult;
import io.weir.broker.group.GroupCoordinatorShard.MemberIdentity;
import io.weir.broker.group.GroupCoordinatorShard.OffsetDeleteResult;
import io.weir.broker.group.GroupCoordinatorShard.Overview;
import io.weir.broker.group.GroupCoordinatorShard.SyncResult;
import io.weir.broker.group.GroupRecords.GroupRecord;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.server.LeadershipListener;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicService;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.utils.SystemTimerService;
import io.weir.common.utils.TimerService;
import io.weir.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.function.Predicate;

/**
 * The broker's group coordinator (Kafka's classic group protocol and committed offsets): routes each
 * request by group id to the {@link GroupCoordinatorShard} of the {@code __consumer_offsets} partition
 * that owns the group, on a {@link CoordinatorRuntime}. It also owns the topic: creates it (compacted)
 * on first need and loads its partitions at start.
 *
 * <p>Every method answers with a future, completed from a shard's thread; none blocks. Errors of the
 * runtime (not the coordinator, still loading, a failed append) come back as the group APIs' error
 * codes, never as exceptional futures.
 *
 * <p>Thread-safe.
 */
public final class GroupCoordinatorService {
    static final String TOPIC = "__consumer_offsets";
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinatorService.class);
    /** Threads shared by all shards: enough to keep both cores busy, few enough to stay out of the way. */
    private static final int THREADS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

    /** Groups of every loaded partition, and COORDINATOR_LOAD_IN_PROGRESS while one is still loading. */
    record ListResult(Errors error, List<Overview> groups) {
    }

    private final BrokerConfig config;
    private final GroupCoordinatorShard.Settings settings;
    private final CoordinatorRuntime<GroupCoordinatorShard, GroupRecord> runtime;
    private final ExecutorService ownedPool;
    private final TimerService timers;
    private final CoordinatorTopic<GroupCoordinatorShard, GroupRecord> topic;
    private final ReplicaManager replicaManager;

    public GroupCoordinatorService(BrokerConfig config, ReplicaManager replicaManager, TopicService topics,
                                   MetadataStore store, Time time) {
        this(config, replicaManager, topics, store, time, null, new SystemTimerService(time, "weir-group-timer"));
    }

    /** With the threads and timer given (tests: a direct executor and a mock timer). */
    GroupCoordinatorService(BrokerConfig config, ReplicaManager replicaManager, TopicService topics,
                            MetadataStore store, Time time, Executor executor, TimerService timers) {
        this.config = config;
        this.settings = GroupCoordinatorShard.Settings.from(config);
        this.timers = timers;
        if (executor == null) {
            ownedPool = CoordinatorThreads.newPool("weir-group-coordinator", THREADS);
            executor = ownedPool;
        } else {
            ownedPool = null;
        }
        ReplicaManagerPartitionWriter writer = new ReplicaManagerPartitionWriter(replicaManager);
        this.runtime = newRuntime(time, executor, timers, writer, writer, settings,
            // Kafka's check: the partition is in the cluster's metadata (its leader may be another broker)
            tp -> replicaManager.partition(tp) != null
                || tp.partition() >= 0 && store.topic(tp.topic()).map(t -> tp.partition() < t.partitionCount()).orElse(false));
        this.replicaManager = replicaManager;
        this.topic = new CoordinatorTopic<>(new CoordinatorTopic.Settings(TOPIC,
            config.getInt(BrokerConfig.OFFSETS_TOPIC_NUM_PARTITIONS),
            config.getShort(BrokerConfig.OFFSETS_TOPIC_REPLICATION_FACTOR),
            config.getInt(BrokerConfig.MIN_INSYNC_REPLICAS), config.getInt(BrokerConfig.OFFSETS_TOPIC_SEGMENT_BYTES)),
            replicaManager.brokerId(), store, topics, runtime, CoordinatorTopic.LocalLeadership.of(replicaManager, store));
    }

    /** The runtime of group shards (also what shard-level tests build over an in-memory writer). */
    static CoordinatorRuntime<GroupCoordinatorShard, GroupRecord> newRuntime(
        Time time, Executor executor, TimerService timers, PartitionWriter writer, CoordinatorLoader loader,
        GroupCoordinatorShard.Settings settings, Predicate<TopicPartition> partitionExists) {
        return new CoordinatorRuntime<>("group", time, executor, timers, writer, loader, GroupRecords.SERDE,
            (tp, timer) -> new GroupCoordinatorShard(tp, timer, time, settings, partitionExists));
    }

    /**
     * Loads the partitions of {@code __consumer_offsets} this broker leads, in the background (requests
     * meanwhile: LOAD_IN_PROGRESS), and from then on loads and unloads them as their leadership moves.
     */
    public void startup() {
        topic.start(replicaManager);
    }

    /** Unloads every shard (answering what waits with NOT_COORDINATOR), then stops the timer and threads. */
    public void shutdown() {
        topic.stop();
        runtime.close();
        timers.close();
        if (ownedPool != null) {
            CoordinatorThreads.shutdown(ownedPool);
        }
    }

    // ------------------------------------------------------------------------------ routing

    int partitionFor(String groupId) {
        return topic.partitionFor(groupId);
    }

    private TopicPartition partitionOf(String groupId) {
        return topic.partitionOf(groupId);
    }

    private Errors validate(String groupId, boolean allowEmptyId) {
        if (groupId == null || (!allowEmptyId && groupId.isEmpty())) {
            return Errors.INVALID_GROUP_ID;
        }
        return topic.shardError(groupId);
    }

    /** The group error a failed runtime future stands for. */
    private static Errors errorOf(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (cause instanceof CoordinatorException e) {
            return GroupCoordinatorShard.appendError(e);
        }
        log.error("group coordinator operation failed", cause);
        return Errors.UNKNOWN_SERVER_ERROR;
    }

    // ------------------------------------------------------------------------------ the group APIs

    /**
     * Which broker coordinates the group (this one, another, or none available); creates
     * {@code __consumer_offsets} on first use.
     */
    public CompletableFuture<CoordinatorTopic.Location> locateCoordinator(String groupId) {
        return topic.findCoordinator(groupId);
    }

    /** NONE when this broker coordinates the group; creates {@code __consumer_offsets} on first use. */
    CompletableFuture<Errors> findCoordinator(String groupId) {
        return locateCoordinator(groupId).thenApply(l -> l.isLocal() ? Errors.NONE
            : l.error() != Errors.NONE ? l.error() : Errors.NOT_COORDINATOR);
    }

    /**
     * What the replica manager tells of leadership changes of {@code __consumer_offsets} partitions
     * (registered at {@link #startup}; tests fire changes through it directly).
     */
    public LeadershipListener leadershipListener() {
        return topic;
    }

    CompletableFuture<JoinResult> joinGroup(JoinRequest req) {
        Errors e = validate(req.groupId(), false);
        if (e == Errors.NONE && (req.sessionTimeoutMs() < settings.minSessionTimeoutMs()
            || req.sessionTimeoutMs() > settings.maxSessionTimeoutMs())) {
            e = Errors.INVALID_SESSION_TIMEOUT;
        }
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(JoinResult.error(req.memberId(), e));
        }
        CompletableFuture<JoinResult> response = new CompletableFuture<>();
        runtime.scheduleWriteOperation("join-group", partitionOf(req.groupId()),
                shard -> shard.joinGroup(req, response::complete))
            .whenComplete((v, t) -> {
                if (t != null) {
                    response.complete(JoinResult.error(req.memberId(), errorOf(t)));
                }
            });
        return response;
    }

    CompletableFuture<SyncResult> syncGroup(String groupId, int generationId, String memberId, String groupInstanceId,
                                            String protocolType, String protocolName, Map<String, byte[]> assignments) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(SyncResult.error(e));
        }
        CompletableFuture<SyncResult> response = new CompletableFuture<>();
        runtime.scheduleWriteOperation("sync-group", partitionOf(groupId), shard -> shard.syncGroup(groupId,
                generationId, memberId, groupInstanceId, protocolType, protocolName, assignments, response::complete))
            .whenComplete((v, t) -> {
                if (t != null) {
                    response.complete(SyncResult.error(errorOf(t)));
                }
            });
        return response;
    }

    CompletableFuture<Errors> heartbeat(String groupId, String memberId, String groupInstanceId, int generationId) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(e);
        }
        return runtime.scheduleWriteOperation("heartbeat", partitionOf(groupId),
            shard -> shard.heartbeat(groupId, memberId, groupInstanceId, generationId)).exceptionally(
            GroupCoordinatorService::errorOf);
    }

    CompletableFuture<LeaveResult> leaveGroup(String groupId, List<MemberIdentity> leaving) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(new LeaveResult(e, leaving.stream().map(x -> e).toList()));
        }
        return runtime.scheduleWriteOperation("leave-group", partitionOf(groupId),
            shard -> shard.leaveGroup(groupId, leaving)).exceptionally(t -> {
                Errors error = errorOf(t);
                return new LeaveResult(error, leaving.stream().map(x -> error).toList());
            });
    }

    CompletableFuture<Map<TopicPartition, Errors>> commitOffsets(String groupId, String memberId,
                                                                 String groupInstanceId, int generationId,
                                                                 Map<TopicPartition, CommittedOffset> offsets) {
        Errors e = validate(groupId, true);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(allWith(offsets, e));
        }
        return runtime.scheduleWriteOperation("offset-commit", partitionOf(groupId),
            shard -> shard.commitOffsets(groupId, memberId, groupInstanceId, generationId, offsets))
            .exceptionally(t -> allWith(offsets, errorOf(t)));
    }

    /**
     * TxnOffsetCommit: the offsets are appended to the group's partition as a transactional batch of
     * {@code producerId}/{@code producerEpoch} and stay pending until the transaction's marker
     * ({@link #completeTransaction}); a fenced epoch is refused by the partition (INVALID_PRODUCER_EPOCH).
     */
    public CompletableFuture<Map<TopicPartition, Errors>> commitTransactionalOffsets(
        String groupId, long producerId, short producerEpoch, String memberId, String groupInstanceId,
        int generationId, Map<TopicPartition, CommittedOffset> offsets) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(allWith(offsets, e));
        }
        return runtime.scheduleTransactionalWriteOperation("txn-offset-commit", partitionOf(groupId), producerId,
                producerEpoch, shard -> shard.commitTransactionalOffsets(groupId, memberId, groupInstanceId,
                    generationId, offsets))
            .exceptionally(t -> allWith(offsets, errorOf(t)));
    }

    /**
     * Writes the COMMIT or ABORT marker of {@code producerId}'s transaction to a partition of
     * {@code __consumer_offsets} (the transaction coordinator's marker for this partition), making its
     * pending offsets committed or dropping them. Answers the error of the append, NONE once committed.
     */
    public CompletableFuture<Errors> completeTransaction(TopicPartition tp, long producerId, short producerEpoch,
                                                         int coordinatorEpoch, boolean commit) {
        if (!topic.contains(tp)) {
            // no offsets were ever written there (a transaction aborted between AddOffsetsToTxn and TxnOffsetCommit)
            return CompletableFuture.completedFuture(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        }
        return runtime.scheduleTransactionCompletion(commit ? "txn-commit" : "txn-abort", tp, producerId,
            producerEpoch, coordinatorEpoch, commit).handle((v, t) -> {
                if (t == null) {
                    return Errors.NONE;
                }
                Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
                return cause instanceof CoordinatorException ce ? ce.error() : Errors.UNKNOWN_SERVER_ERROR;
            });
    }

    /** The partition of {@code __consumer_offsets} that holds the group (where its offsets are committed). */
    public TopicPartition offsetsPartitionFor(String groupId) {
        return partitionOf(groupId);
    }

    /** Whether {@code topic} is the group coordinator's internal topic. */
    public static boolean isOffsetsTopic(String topic) {
        return TOPIC.equals(topic);
    }

    private static Map<TopicPartition, Errors> allWith(Map<TopicPartition, ?> tps, Errors e) {
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        tps.keySet().forEach(tp -> out.put(tp, e));
        return out;
    }

    /** The group's committed offsets for {@code partitions}, or all of them when null. */
    CompletableFuture<FetchResult> fetchOffsets(String groupId, List<TopicPartition> partitions) {
        return fetchOffsets(groupId, partitions, false);
    }

    /** With {@code requireStable}, partitions with a transactional commit still pending are marked unstable. */
    CompletableFuture<FetchResult> fetchOffsets(String groupId, List<TopicPartition> partitions, boolean requireStable) {
        Errors e = validate(groupId, true);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(new FetchResult(e, Map.of()));
        }
        return runtime.scheduleReadOperation("offset-fetch", partitionOf(groupId),
            shard -> shard.fetchOffsets(groupId, partitions, requireStable))
            .exceptionally(t -> new FetchResult(errorOf(t), Map.of()));
    }

    CompletableFuture<ListResult> listGroups(Set<String> statesLowerCase, Set<String> typesLowerCase) {
        boolean classic = typesLowerCase.isEmpty() || typesLowerCase.contains("classic");
        return topic.readAll("list-groups", shard -> shard.listGroups(statesLowerCase))
            .thenApply(g -> new ListResult(g.error(), classic ? g.items() : List.of()));
    }

    /** The group's state and members; null when the group does not exist. */
    CompletableFuture<Described> describeGroup(String groupId) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(new Described(e, groupId, "", "", "", List.of()));
        }
        return runtime.scheduleReadOperation("describe-group", partitionOf(groupId),
                shard -> shard.describeGroup(groupId))
            .exceptionally(t -> new Described(errorOf(t), groupId, "", "", "", List.of()));
    }

    CompletableFuture<Errors> deleteGroup(String groupId) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(e);
        }
        return runtime.scheduleWriteOperation("delete-group", partitionOf(groupId), shard -> shard.deleteGroup(groupId))
            .exceptionally(GroupCoordinatorService::errorOf);
    }

    CompletableFuture<OffsetDeleteResult> deleteOffsets(String groupId, List<TopicPartition> partitions) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(new OffsetDeleteResult(e, Map.of()));
        }
        return runtime.scheduleWriteOperation("offset-delete", partitionOf(groupId),
                shard -> shard.deleteOffsets(groupId, partitions))
            .exceptionally(t -> new OffsetDeleteResult(errorOf(t), Map.of()));
    }

    // ------------------------------------------------------------------------------ tools and tests

    /** Runs the offset expiry on every loaded partition now; answers how many offsets it removed. */
    CompletableFuture<Integer> expireOffsets() {
        List<CompletableFuture<Integer>> parts = new ArrayList<>();
        for (var tp : runtime.partitions()) {
            parts.add(runtime.scheduleWriteOperation("expire-offsets", tp, GroupCoordinatorShard::expireOffsets)
                .exceptionally(t -> 0));
        }
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture[0]))
            .thenApply(v -> parts.stream().mapToInt(CompletableFuture::join).sum());
    }

    /** The state of a group, or null when it does not exist (or its partition is not loaded). */
    public CompletableFuture<GroupState> groupState(String groupId) {
        return runtime.scheduleReadOperation("group-state", partitionOf(groupId), s -> s.groupState(groupId))
            .exceptionally(t -> null);
    }

    CompletableFuture<Integer> memberCount(String groupId) {
        return runtime.scheduleReadOperation("member-count", partitionOf(groupId), s -> s.memberCount(groupId));
    }
}
