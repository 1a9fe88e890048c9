package io.weir.broker.transaction;

import io.weir.broker.BrokerConfig;
import io.weir.broker.coordinator.CoordinatorThreads;
import io.weir.broker.coordinator.CoordinatorTopic;
import io.weir.broker.coordinator.ReplicaManagerPartitionWriter;
import io.weir.broker.coordinator.runtime.CoordinatorException;
import io.weir.broker.coordinator.runtime.CoordinatorLoader;
import io.weir.broker.coordinator.runtime.CoordinatorRuntime;
import io.weir.broker.coordinator.runtime.PartitionWriter;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicService;
import io.weir.broker.transaction.TransactionCoordinatorShard.EndResult;
import io.weir.broker.transaction.TransactionCoordinatorShard.InitResult;
import io.weir.broker.transaction.TransactionCoordinatorShard.MarkerJob;
import io.weir.broker.transaction.TransactionRecords.TransactionRecord;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.utils.SystemTimerService;
import io.weir.common.utils.TimerService;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Node;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The broker's transaction coordinator: routes each transactional id to the
 * {@link TransactionCoordinatorShard} of the {@code __transaction_state} partition that owns it (Kafka's
 * hash, so an id lands where it would on Kafka), on a {@link CoordinatorRuntime}; owns the topic (creates
 * it compacted on first need, loads its partitions at start); and runs the marker pipeline: a prepared
 * transaction's markers go out through the {@link TransactionMarkerWriter}, partitions that could not
 * take them are retried, and once all are written the shard completes the transaction.
 *
 * <p>Every method answers with a future and never blocks; errors of the runtime come back as the
 * transaction APIs' error codes.
 *
 * <p>Thread-safe.
 */
public final class TransactionCoordinatorService {
    public static final String TOPIC = "__transaction_state";
    /**
     * Fault injection for process tests only, never for a deployment: a JVM system property (not a broker
     * config, so no properties file or {@code --override} sets it by accident) that delays every prepared
     * transaction's markers by this many milliseconds, so a test can SIGKILL the broker while a transaction
     * is durable in PrepareCommit but has no markers. Read once, when the coordinator is built; unset means 0.
     */
    public static final String FAULT_MARKERS_DELAY_PROPERTY = "weir.fault.transaction.markers.delay.ms";
    private static final Logger log = LoggerFactory.getLogger(TransactionCoordinatorService.class);
    private static final int THREADS = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
    private static final long MARKER_RETRY_MS = 100;
    /** A partition leader's implicit add waits this often, this long, for the previous transaction to complete. */
    private static final int CONCURRENT_RETRIES = 10;
    private static final long CONCURRENT_RETRY_MS = 5;
    static final Set<Errors> RETRIABLE_MARKER_ERRORS = EnumSet.of(Errors.NOT_LEADER_OR_FOLLOWER,
        Errors.COORDINATOR_LOAD_IN_PROGRESS, Errors.NOT_COORDINATOR, Errors.NOT_ENOUGH_REPLICAS,
        Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND, Errors.REQUEST_TIMED_OUT, Errors.KAFKA_STORAGE_ERROR,
        Errors.COORDINATOR_NOT_AVAILABLE, Errors.UNKNOWN_SERVER_ERROR, Errors.NETWORK_EXCEPTION);

    private final BrokerConfig config;
    private final TransactionCoordinatorShard.Settings settings;
    private final CoordinatorRuntime<TransactionCoordinatorShard, TransactionRecord> runtime;
    private final TransactionMarkerWriter markerWriter;
    private final TransactionCoordinatorClient remoteCoordinators;
    private final ScheduledExecutorService retries;
    private final ExecutorService ownedPool;
    private final TimerService timers;
    private final CoordinatorTopic<TransactionCoordinatorShard, TransactionRecord> topic;
    private final ReplicaManager replicaManager;
    private volatile boolean shuttingDown;
    private volatile boolean markersDropped;
    /** See {@link #FAULT_MARKERS_DELAY_PROPERTY}; 0 outside fault tests. */
    private final long markersDelayMs;

    /**
     * @param producerIds  allocates producer ids (thread-safe)
     * @param markerWriter writes markers to partition leaders
     */
    public TransactionCoordinatorService(BrokerConfig config, ReplicaManager replicaManager, TopicService topics,
                                         MetadataStore store, Time time, LongSupplier producerIds,
                                         TransactionMarkerWriter markerWriter) {
        this(config, replicaManager, topics, store, time, producerIds, markerWriter, null);
    }

    /**
     * @param remoteCoordinators asks the coordinator on another broker about a transactional batch's
     *                           partitions ({@link #addPartitionsThen}); null: only this broker's ids
     */
    public TransactionCoordinatorService(BrokerConfig config, ReplicaManager replicaManager, TopicService topics,
                                         MetadataStore store, Time time, LongSupplier producerIds,
                                         TransactionMarkerWriter markerWriter,
                                         TransactionCoordinatorClient remoteCoordinators) {
        this.config = config;
        this.remoteCoordinators = remoteCoordinators;
        this.settings = settingsFrom(config);
        this.markerWriter = markerWriter;
        this.timers = new SystemTimerService(time, "weir-txn-timer");
        this.ownedPool = CoordinatorThreads.newPool("weir-txn-coordinator", THREADS);
        this.retries = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "weir-txn-markers");
            t.setDaemon(true);
            return t;
        });
        ReplicaManagerPartitionWriter writer = new ReplicaManagerPartitionWriter(replicaManager);
        this.runtime = newRuntime(time, ownedPool, timers, writer, writer, settings, producerIds, this::sendMarkers,
            tp -> {
                Partition p = replicaManager.partition(tp);
                return p == null ? 0 : p.leaderEpoch();
            });
        this.replicaManager = replicaManager;
        this.topic = new CoordinatorTopic<>(new CoordinatorTopic.Settings(TOPIC,
            config.getInt(BrokerConfig.TRANSACTION_STATE_LOG_NUM_PARTITIONS),
            config.getShort(BrokerConfig.TRANSACTION_STATE_LOG_REPLICATION_FACTOR),
            config.getInt(BrokerConfig.TRANSACTION_STATE_LOG_MIN_ISR),
            config.getInt(BrokerConfig.TRANSACTION_STATE_LOG_SEGMENT_BYTES)),
            replicaManager.brokerId(), store, topics, runtime, CoordinatorTopic.LocalLeadership.of(replicaManager, store));
        this.markersDelayMs = faultMarkersDelayMs(System.getProperty(FAULT_MARKERS_DELAY_PROPERTY));
        if (markersDelayMs > 0) {
            log.warn("FAULT INJECTION (tests only): transaction markers are written {} ms late ({})", markersDelayMs,
                FAULT_MARKERS_DELAY_PROPERTY);
        }
    }

    /** The delay a {@link #FAULT_MARKERS_DELAY_PROPERTY} value asks for: 0 when unset; fails on a bad value. */
    static long faultMarkersDelayMs(String value) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        long ms;
        try {
            ms = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(FAULT_MARKERS_DELAY_PROPERTY + " must be a number of ms, got " + value);
        }
        if (ms < 0) {
            throw new IllegalArgumentException(FAULT_MARKERS_DELAY_PROPERTY + " must be >= 0, got " + value);
        }
        return ms;
    }

    static TransactionCoordinatorShard.Settings settingsFrom(BrokerConfig config) {
        return new TransactionCoordinatorShard.Settings(config.getInt(BrokerConfig.TRANSACTION_MAX_TIMEOUT_MS),
            config.getLong(BrokerConfig.TRANSACTIONAL_ID_EXPIRATION_MS));
    }

    /** The coordinator epoch of a partition (its leader epoch). */
    @FunctionalInterface
    interface CoordinatorEpochs {
        int of(TopicPartition tp);
    }

    /** The runtime of transaction shards (also what shard-level tests build over an in-memory writer). */
    static CoordinatorRuntime<TransactionCoordinatorShard, TransactionRecord> newRuntime(
        Time time, Executor executor, TimerService timers, PartitionWriter writer, CoordinatorLoader loader,
        TransactionCoordinatorShard.Settings settings, LongSupplier producerIds,
        TransactionCoordinatorShard.MarkerSender markers, CoordinatorEpochs epochs) {
        return new CoordinatorRuntime<>("transaction", time, executor, timers, writer, loader,
            TransactionRecords.SERDE, (tp, timer) -> new TransactionCoordinatorShard(tp, timer, time, settings,
                producerIds, markers, epochs.of(tp)));
    }

    /**
     * Loads the partitions of {@code __transaction_state} this broker leads (requests meanwhile:
     * LOAD_IN_PROGRESS), and from then on loads and unloads them as their leadership moves.
     */
    public void startup() {
        topic.start(replicaManager);
    }

    /** Unloads every shard, then stops the timer and threads. */
    public void shutdown() {
        shuttingDown = true;
        topic.stop();
        runtime.close();
        timers.close();
        retries.shutdownNow();
        CoordinatorThreads.shutdown(ownedPool);
    }

    // ------------------------------------------------------------------------------ routing

    int partitionFor(String transactionalId) {
        return topic.partitionFor(transactionalId);
    }

    private TopicPartition partitionOf(String transactionalId) {
        return topic.partitionOf(transactionalId);
    }

    /** NONE when the id's shard is active here, else the error to answer. */
    private Errors validate(String transactionalId) {
        if (transactionalId == null || transactionalId.isEmpty()) {
            return Errors.INVALID_REQUEST;
        }
        return topic.shardError(transactionalId);
    }

    /** The transaction API error a failed runtime future stands for. */
    private static Errors errorOf(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (cause instanceof CoordinatorException.AppendFailed) {
            return switch (((CoordinatorException) cause).error()) {
                case NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR -> Errors.NOT_COORDINATOR;
                default -> Errors.COORDINATOR_NOT_AVAILABLE;
            };
        }
        if (cause instanceof CoordinatorException e) {
            return e.error();
        }
        log.error("transaction coordinator operation failed", cause);
        return Errors.UNKNOWN_SERVER_ERROR;
    }

    // ------------------------------------------------------------------------------ the APIs

    /**
     * Which broker coordinates the id (this one, another, or none available); creates
     * {@code __transaction_state} on first use.
     */
    public CompletableFuture<CoordinatorTopic.Location> locateCoordinator(String transactionalId) {
        if (transactionalId == null || transactionalId.isEmpty()) {
            return CompletableFuture.completedFuture(new CoordinatorTopic.Location(Errors.INVALID_REQUEST, null));
        }
        return topic.findCoordinator(transactionalId);
    }

    /** NONE when this broker coordinates the id; creates {@code __transaction_state} on first use. */
    public CompletableFuture<Errors> findCoordinator(String transactionalId) {
        return locateCoordinator(transactionalId).thenApply(l -> l.isLocal() ? Errors.NONE
            : l.error() != Errors.NONE ? l.error() : Errors.NOT_COORDINATOR);
    }

    /** InitProducerId with a transactional id. */
    public CompletableFuture<InitResult> initProducerId(String transactionalId, int transactionTimeoutMs,
                                                        long expectedProducerId, short expectedEpoch) {
        Errors e = validate(transactionalId);
        if (e == Errors.NONE && (transactionTimeoutMs <= 0
            || transactionTimeoutMs > settings.maxTransactionTimeoutMs())) {
            e = Errors.INVALID_TRANSACTION_TIMEOUT;
        }
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(InitResult.error(e));
        }
        return runtime.scheduleWriteOperation("init-producer-id", partitionOf(transactionalId),
                shard -> shard.initProducerId(transactionalId, transactionTimeoutMs, expectedProducerId, expectedEpoch))
            .exceptionally(t -> InitResult.error(errorOf(t)));
    }

    /**
     * AddPartitionsToTxn (and the implicit add of transactions V2, and verification with
     * {@code verifyOnly}): partitions of topics that do not exist get UNKNOWN_TOPIC_OR_PARTITION and the
     * others OPERATION_NOT_ATTEMPTED (nothing is added when one is bad).
     */
    public CompletableFuture<Map<TopicPartition, Errors>> addPartitions(String transactionalId, long producerId,
                                                                      short producerEpoch,
                                                                      Set<TopicPartition> partitions,
                                                                      boolean verifyOnly, byte transactionVersion,
                                                                      Predicate<TopicPartition> exists) {
        Errors e = validate(transactionalId);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(allWith(partitions, e));
        }
        Set<TopicPartition> missing = new HashSet<>();
        for (TopicPartition tp : partitions) {
            if (!exists.test(tp)) {
                missing.add(tp);
            }
        }
        if (!missing.isEmpty()) {
            Map<TopicPartition, Errors> out = new LinkedHashMap<>();
            for (TopicPartition tp : partitions) {
                out.put(tp, missing.contains(tp) ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.OPERATION_NOT_ATTEMPTED);
            }
            return CompletableFuture.completedFuture(out);
        }
        return runtime.scheduleWriteOperation(verifyOnly ? "verify-partitions" : "add-partitions",
                partitionOf(transactionalId), shard -> shard.addPartitions(transactionalId, producerId, producerEpoch,
                    partitions, verifyOnly, transactionVersion))
            .exceptionally(t -> allWith(partitions, errorOf(t)));
    }

    /**
     * For a partition leader about to append a producer's transactional batch: adds the partitions to the
     * transaction (transactions V2) or verifies they are in it ({@code verifyOnly}, V1), then runs
     * {@code decided} exactly once with the verdict — on the coordinator's queue, so the append it does
     * cannot be overtaken by the transaction's markers (see {@link TransactionCoordinatorShard#addPartitions}).
     * When another broker coordinates the id, it is asked by AddPartitionsToTxn
     * ({@link TransactionCoordinatorClient}) and {@code decided} runs with its answer; the append then
     * follows the coordinator's decision without that ordering (a late batch of a V2 producer is fenced
     * by the epoch its transaction's markers bumped).
     */
    public void addPartitionsThen(String transactionalId, long producerId, short producerEpoch,
                                  Set<TopicPartition> partitions, boolean verifyOnly, byte transactionVersion,
                                  java.util.function.Consumer<Map<TopicPartition, Errors>> decided) {
        addPartitionsThen(transactionalId, producerId, producerEpoch, partitions, verifyOnly, transactionVersion,
            decided, 0);
    }

    private void addPartitionsThen(String transactionalId, long producerId, short producerEpoch,
                                   Set<TopicPartition> partitions, boolean verifyOnly, byte transactionVersion,
                                   java.util.function.Consumer<Map<TopicPartition, Errors>> decided, int attempt) {
        java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.function.Consumer<Map<TopicPartition, Errors>> guarded = r -> {
            if (!once.compareAndSet(false, true)) {
                return;
            }
            // the previous transaction's markers are being written (local appends: milliseconds); waiting here
            // spares the producer its retry backoff (100 ms by default) at the start of its next transaction
            if (attempt < CONCURRENT_RETRIES && !r.isEmpty()
                && r.values().stream().allMatch(e -> e == Errors.CONCURRENT_TRANSACTIONS)
                && later(() -> addPartitionsThen(transactionalId, producerId, producerEpoch, partitions, verifyOnly,
                    transactionVersion, decided, attempt + 1), CONCURRENT_RETRY_MS)) {
                return;
            }
            decided.accept(r);
        };
        Errors e = validate(transactionalId);
        if (e == Errors.NOT_COORDINATOR && remoteCoordinators != null) {
            CoordinatorTopic.Location at = topic.coordinatorOf(transactionalId);
            BrokerRegistration b = at.broker();
            if (b != null) {
                // another broker coordinates the id: ask it, as Kafka's partition leaders do
                remoteCoordinators.addPartitions(new Node(b.id(), b.host(), b.port(), b.rack()), transactionalId,
                    producerId, producerEpoch, partitions, verifyOnly).whenComplete((r, t) ->
                        guarded.accept(t == null ? r : allWith(partitions, Errors.COORDINATOR_NOT_AVAILABLE)));
                return;
            }
        }
        if (e != Errors.NONE) {
            guarded.accept(allWith(partitions, e));
            return;
        }
        runtime.scheduleWriteOperation(verifyOnly ? "verify-partitions" : "add-partitions", partitionOf(transactionalId),
                shard -> shard.addPartitions(transactionalId, producerId, producerEpoch, partitions, verifyOnly,
                    transactionVersion, guarded))
            .whenComplete((v, t) -> {
                if (t != null) {
                    guarded.accept(allWith(partitions, errorOf(t)));
                }
            });
    }

    /** EndTxn; {@code v2} for EndTxn v5+ (transactions V2). */
    public CompletableFuture<EndResult> endTransaction(String transactionalId, long producerId, short producerEpoch,
                                                       boolean commit, boolean v2) {
        Errors e = validate(transactionalId);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(EndResult.error(e));
        }
        return runtime.scheduleWriteOperation(commit ? "commit" : "abort", partitionOf(transactionalId),
                shard -> shard.endTransaction(transactionalId, producerId, producerEpoch, commit, v2))
            .exceptionally(t -> EndResult.error(errorOf(t)));
    }

    /** The id's state (null metadata: not found), with the error when this broker cannot answer for it. */
    public record Described(Errors error, String transactionalId, TransactionMetadata metadata) {
    }

    public CompletableFuture<Described> describe(String transactionalId) {
        Errors e = validate(transactionalId);
        if (e != Errors.NONE) {
            return CompletableFuture.completedFuture(new Described(e, transactionalId, null));
        }
        return runtime.scheduleReadOperation("describe", partitionOf(transactionalId),
                shard -> new Described(Errors.NONE, transactionalId, shard.describe(transactionalId)))
            .exceptionally(t -> new Described(errorOf(t), transactionalId, null));
    }

    /** The ids of every loaded partition matching the filters; COORDINATOR_LOAD_IN_PROGRESS while one loads. */
    public record Listed(Errors error, List<TransactionMetadata> transactions) {
    }

    public CompletableFuture<Listed> list(Set<TransactionState> states, Set<Long> producerIds, long minDurationMs) {
        return topic.readAll("list", s -> s.list(states, producerIds, minDurationMs))
            .thenApply(g -> new Listed(g.error(), g.items()));
    }

    private static Map<TopicPartition, Errors> allWith(Set<TopicPartition> tps, Errors e) {
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        tps.forEach(tp -> out.put(tp, e));
        return out;
    }

    // ------------------------------------------------------------------------------ markers

    /**
     * Tests only: while set, prepared transactions get no markers and stay prepared, as if this
     * coordinator died right after its PrepareCommit/PrepareAbort record was committed. A restart (which
     * loads the partition again) sends them.
     */
    public void dropMarkersForTesting(boolean drop) {
        markersDropped = drop;
    }

    /** Called by a shard (on its queue) once a transaction is prepared: never blocks it. */
    private void sendMarkers(MarkerJob job) {
        if (markersDropped) {
            log.warn("dropping the markers of {} (tests: a coordinator that dies after preparing)", job.transactionalId());
            return;
        }
        later(() -> writeMarkers(job, job.partitions()), markersDelayMs);
    }

    /** Runs {@code task} on the marker thread after {@code delayMs}; false when shutting down (it will not run). */
    private boolean later(Runnable task, long delayMs) {
        if (shuttingDown) {
            return false;
        }
        try {
            retries.schedule(task, delayMs, TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return false; // shutting down: the next load of the partition sends what is still prepared
        }
    }

    private void writeMarkers(MarkerJob job, Set<TopicPartition> remaining) {
        if (shuttingDown) {
            return;
        }
        CoordinatorRuntime.ShardState shard = runtime.shardState(job.coordinatorPartition());
        if (shard == null || shard == CoordinatorRuntime.ShardState.CLOSED) {
            // this broker no longer coordinates the transaction: whoever loads its partition next sends
            // the markers of what is still prepared there
            log.info("stopped writing the markers of {}: {} is no longer coordinated here", job.transactionalId(),
                job.coordinatorPartition());
            return;
        }
        if (remaining.isEmpty()) {
            complete(job);
            return;
        }
        markerWriter.writeMarkers(job.producerId(), job.producerEpoch(), job.coordinatorEpoch(), job.commit(),
            remaining).whenComplete((results, t) -> {
                Set<TopicPartition> again = new HashSet<>();
                if (t != null) {
                    log.warn("markers of {} failed: {}; retrying", job.transactionalId(), t.toString());
                    again.addAll(remaining);
                } else {
                    results.forEach((tp, e) -> {
                        if (RETRIABLE_MARKER_ERRORS.contains(e)) {
                            again.add(tp);
                        } else if (e != Errors.NONE) {
                            // the partition is gone, or its producer state refuses this marker (a newer epoch
                            // or coordinator wrote there): nothing a retry would change
                            log.warn("marker of {} (producer {} epoch {}) for {} not written: {}",
                                job.transactionalId(), job.producerId(), job.producerEpoch(), tp, e);
                        }
                    });
                }
                if (again.isEmpty()) {
                    complete(job);
                } else {
                    later(() -> writeMarkers(job, again), MARKER_RETRY_MS);
                }
            });
    }

    private void complete(MarkerJob job) {
        runtime.scheduleWriteOperation("complete-txn", job.coordinatorPartition(), shard -> shard.completeTransaction(
                job.transactionalId(), job.producerId(), job.producerEpoch(), job.commit()))
            .whenComplete((v, t) -> {
                if (t == null || shuttingDown) {
                    return;
                }
                Errors e = errorOf(t);
                if (e == Errors.COORDINATOR_LOAD_IN_PROGRESS) {
                    // the markers went out while the partition was still loading: complete once it is active
                    later(() -> complete(job), MARKER_RETRY_MS);
                } else {
                    log.warn("cannot complete the transaction of {}: {}", job.transactionalId(), e);
                }
            });
    }
}
