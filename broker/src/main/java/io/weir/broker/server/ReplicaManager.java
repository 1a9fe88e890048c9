package io.weir.broker.server;

import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.common.TopicPartition;
import io.weir.common.errors.OffsetOutOfRangeException;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordError;
import io.weir.common.record.RecordTooLargeException;
import io.weir.log.AbortedTxn;
import io.weir.log.AppendOrigin;
import io.weir.log.BatchRecompressor;
import io.weir.log.BatchValidator;
import io.weir.log.EpochEndOffset;
import io.weir.log.FetchDataInfo;
import io.weir.log.Log;
import io.weir.log.LogAppendInfo;
import io.weir.log.LogManager;
import io.weir.log.LogOffsetMetadata;
import io.weir.log.ProducerAppendCheck;
import io.weir.common.Time;
import io.weir.log.internals.CheckpointFile;
import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The partitions this broker hosts, their roles, and the append and read paths through them. Produce
 * and fetch handlers call it from many threads; each partition's log serializes its own appends.
 *
 * <p><b>Roles.</b> {@link #applyPartitionState} applies the controller's state of a partition (from
 * the metadata image, in order): the named leader makes a new leader epoch at its log end and waits
 * for its followers' fetches; every other replica becomes a follower and its
 * {@link ReplicaFetcherManager} fetches from the leader. A state older than the one applied is
 * ignored. A partition assigned to this broker alone that has no state yet leads at epoch 0 with
 * itself as the ISR: the single-broker behaviour, where the high watermark is the log end after each
 * append.
 *
 * <p><b>High watermark.</b> On the leader it is the smallest log end of the ISR, moved by followers'
 * fetches ({@link #readForFollower}); each move is reported to the high-watermark listener (which
 * completes parked acks=all produces and wakes consumer fetches) and completes the futures of
 * {@link #awaitHighWatermark}. Every partition's high watermark is checkpointed to
 * {@value #HIGH_WATERMARK_CHECKPOINT} ({@link #checkpointHighWatermarks}) in the log directory holding its
 * log (each of {@code log.dirs} has its own file), and read back at start.
 *
 * <p><b>ISR.</b> {@link #doIsrCheck} proposes to drop followers that have not caught up within
 * {@code replica.lag.time.max.ms}; a follower fetch that reaches the high watermark proposes to add
 * it. Both go to the controller through the {@link AlterPartitionSender}, one pending change per
 * partition.
 *
 * <p>Thread-safe. Listeners are called without any of this class's locks held, except that a state change
 * (hosting, applying a controller state, stopping a replica) calls them under its state-change lock.
 */
public final class ReplicaManager {
    private static final Logger log = LoggerFactory.getLogger(ReplicaManager.class);
    /** The high-watermark checkpoint file in the log dir (Kafka's name and text format). */
    public static final String HIGH_WATERMARK_CHECKPOINT = "replication-offset-checkpoint";

    /** The sender used until one is set: every ISR change fails with NOT_CONTROLLER. */
    public static final AlterPartitionSender NO_CONTROLLER = (tp, leaderEpoch, partitionEpoch, newIsr) ->
        CompletableFuture.failedFuture(new ApiException(Errors.NOT_CONTROLLER,
            "no channel to the controller: ISR changes cannot be sent"));

    /** The pause before proposing an ISR change again after one failed (not for a stale epoch). */
    static final long ISR_CHANGE_RETRY_MS = 1_000;

    private final int brokerId;
    private final LogManager logManager;
    private final TopicConfigs topicConfigs;
    private final Time time;
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    /**
     * Partitions whose log was in a failed directory ({@link #handleLogDirFailure}): not served, answered
     * KAFKA_STORAGE_ERROR, and never hosted again (no new empty log elsewhere) until the broker restarts.
     */
    private final java.util.Set<TopicPartition> offlinePartitions = ConcurrentHashMap.newKeySet();
    /**
     * Serializes partition-state changes (hosting, applying a controller state, stopping a replica): the
     * ZooKeeper watch path and the controller's LeaderAndIsr requests both apply states, and the staleness
     * check and the change must be one step (Kafka's {@code replicaStateChangeLock}). A leaf lock: nothing
     * held under it takes another broker lock (listeners only hand work to other threads).
     */
    private final Object stateChangeLock = new Object();
    private volatile Consumer<TopicPartition> appendListener = tp -> { };
    private volatile Consumer<TopicPartition> highWatermarkListener = tp -> { };
    private final List<LeadershipListener> leadershipListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile AlterPartitionSender alterPartitionSender = NO_CONTROLLER;
    private volatile ReplicaFetcherManager fetcherManager;
    private final ReplicationThrottle replicationThrottle;
    private final ReplicationThrottle leaderReplicationThrottle;
    /** A live broker's registered epoch, by id (-1: not known); a follower fetch naming an older one is refused. */
    private volatile java.util.function.IntToLongFunction brokerEpochs = id -> -1;
    /** Each log directory's high-watermark checkpoint, by directory (the log manager's paths). */
    private final Map<Path, CheckpointFile> highWatermarkCheckpoints = new LinkedHashMap<>();
    /** The checkpointed high watermarks read at start: each partition's initial one. */
    private final Map<TopicPartition, Long> checkpointedHighWatermarks;
    private final Map<TopicPartition, List<HighWatermarkWaiter>> highWatermarkWaiters = new ConcurrentHashMap<>();
    /** Moves replicas between log directories while they serve (AlterReplicaLogDirs). */
    private final LogDirMover logDirMover;
    /** Runs ISR-change completions off the sender's thread (a network I/O thread must not block). */
    private final ExecutorService stateExecutor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "weir-replica-state");
        t.setDaemon(true);
        return t;
    });

    /** A future waiting for a partition's high watermark to reach {@code offset} while this broker leads it. */
    private record HighWatermarkWaiter(long offset, CompletableFuture<Long> future) {
    }

    public ReplicaManager(int brokerId, LogManager logManager, TopicConfigs topicConfigs) {
        this(brokerId, logManager, topicConfigs, Time.SYSTEM);
    }

    public ReplicaManager(int brokerId, LogManager logManager, TopicConfigs topicConfigs, Time time) {
        this.brokerId = brokerId;
        this.logManager = logManager;
        this.topicConfigs = topicConfigs;
        this.time = time;
        this.replicationThrottle = new ReplicationThrottle(brokerId);
        this.leaderReplicationThrottle = new ReplicationThrottle(brokerId);
        Map<TopicPartition, Long> read = new HashMap<>();
        for (Path dir : logManager.logDirs()) {
            CheckpointFile file = new CheckpointFile(dir.resolve(HIGH_WATERMARK_CHECKPOINT));
            highWatermarkCheckpoints.put(dir, file);
            try {
                for (Map.Entry<TopicPartition, Long> e : file.read().entrySet()) {
                    // an entry counts in the directory holding the log; elsewhere it is left from an old placement
                    Path holder = logManager.logDirOf(e.getKey());
                    if (holder == null ? !read.containsKey(e.getKey()) : holder.equals(dir)) {
                        read.put(e.getKey(), e.getValue());
                    }
                }
            } catch (IOException e) {
                log.warn("ignoring an unreadable high-watermark checkpoint (high watermarks of {} start at the log"
                    + " start): {}", dir, e.getMessage());
            }
        }
        this.checkpointedHighWatermarks = new ConcurrentHashMap<>(read);
        this.logDirMover = new LogDirMover(logManager, partitions::get, time, tp -> checkpointHighWatermarks());
        for (Map.Entry<TopicPartition, Path> e : logManager.futureLogDirsFound().entrySet()) {
            logDirMover.resume(e.getKey(), e.getValue());
        }
    }

    public int brokerId() {
        return brokerId;
    }

    public void setAppendListener(Consumer<TopicPartition> listener) {
        this.appendListener = listener;
    }

    /**
     * Sets who is told when a partition's high watermark moves, or when it stops being led here (then
     * parked produces and fetches on it must answer): the broker checks both purgatories.
     */
    public void setHighWatermarkListener(Consumer<TopicPartition> listener) {
        this.highWatermarkListener = listener;
    }

    /** How ISR changes reach the controller (the default fails each with NOT_CONTROLLER). */
    public void setAlterPartitionSender(AlterPartitionSender sender) {
        this.alterPartitionSender = sender == null ? NO_CONTROLLER : sender;
    }

    public AlterPartitionSender alterPartitionSender() {
        return alterPartitionSender;
    }

    /** The follower-side replication throttle the replica fetchers apply. */
    public ReplicationThrottle replicationThrottle() {
        return replicationThrottle;
    }

    /**
     * The leader-side replication throttle ({@code leader.replication.throttled.rate} and the topics'
     * {@code leader.replication.throttled.replicas}): applied to the fetches of followers outside the ISR.
     */
    public ReplicationThrottle leaderReplicationThrottle() {
        return leaderReplicationThrottle;
    }

    /**
     * Sets where live brokers' registered epochs are read (id to epoch, -1 when not known): a follower's fetch
     * naming an older broker epoch than its registration is refused (Kafka's stale broker epoch fence).
     */
    public void setBrokerEpochs(java.util.function.IntToLongFunction epochs) {
        this.brokerEpochs = epochs == null ? id -> -1 : epochs;
    }

    /** The fetchers of this broker's follower partitions (null: none, e.g. in unit tests). */
    public void setFetcherManager(ReplicaFetcherManager manager) {
        this.fetcherManager = manager;
    }

    public ReplicaFetcherManager fetcherManager() {
        return fetcherManager;
    }

    /**
     * Registers a listener told when this broker starts or stops leading a partition: at the leader and
     * follower transitions of {@link #applyPartitionState}, when a partition assigned to this broker
     * alone is hosted before it has a state (led at epoch 0), and when a partition is deleted (resigned,
     * epoch -1).
     */
    public void addLeadershipListener(LeadershipListener listener) {
        leadershipListeners.add(listener);
    }

    /**
     * Tells the append listener that {@code tp} grew: what {@link #appendAsLeader} does itself unless
     * asked to leave it to the caller (a produce handler wakes parked fetches only after its own
     * response is on its way, so the producer's acknowledgement never waits for a consumer's read).
     */
    public void appended(TopicPartition tp) {
        appendListener.accept(tp);
    }

    /**
     * The hosted partition, or null: the one place a requested (topic, index) is resolved, so a
     * negative index or an empty name from a request is simply not hosted (UNKNOWN_TOPIC_OR_PARTITION).
     */
    public Partition partition(TopicPartition tp) {
        return tp.isValid() ? partitions.get(tp) : null;
    }

    /** Hosts every partition of the topic (opening or creating their logs), each led alone (no replication). */
    public void hostTopic(TopicMetadata topic) {
        hostPartitions(topic, 0, topic.partitionCount());
    }

    /** Hosts partitions [from, to) of the topic, each led by this broker alone at epoch 0 (no replication). */
    public void hostPartitions(TopicMetadata topic, int from, int to) {
        for (int p = from; p < to; p++) {
            hostPartition(topic, p, List.of(), null);
        }
    }

    /**
     * Hosts partition {@code p} of the topic (opening or creating its log) if it is not hosted yet, then
     * applies {@code state} when there is one. Without a state, a partition assigned to this broker alone
     * (or with no assignment) leads alone at epoch 0; one with other replicas waits for its state.
     */
    public void hostPartition(TopicMetadata topic, int p, List<Integer> replicas, PartitionState state) {
        synchronized (stateChangeLock) {
            hostPartitionLocked(topic, p, replicas, state);
        }
    }

    private void hostPartitionLocked(TopicMetadata topic, int p, List<Integer> replicas, PartitionState state) {
        TopicPartition tp = new TopicPartition(topic.name(), p);
        if (offlinePartitions.contains(tp)) {
            return; // its log is in a failed directory: not served here until a restart
        }
        int minIsr = topicConfigs.minInsyncReplicas(topic.configs());
        TopicConfigs.Compression compression = topicConfigs.compression(topic.configs());
        Partition partition = partitions.get(tp);
        if (partition == null) {
            Log l = logManager.getOrCreateLog(tp, topicConfigs.logConfig(topic.configs()));
            long checkpointed = checkpointedHighWatermarks.getOrDefault(tp, 0L);
            partition = partitions.computeIfAbsent(tp, t -> new Partition(t, topic.topicId(), l, brokerId, minIsr,
                checkpointed));
            partition.setCompression(compression);
            if (state == null && (replicas.isEmpty() || replicas.equals(List.of(brokerId)))) {
                partition.leadAlone();
                leadershipListeners.forEach(listener -> listener.onBecomeLeader(tp, 0));
            }
        }
        if (state != null) {
            applyPartitionState(tp, replicas, state);
        }
    }

    /**
     * Applies the controller's state of a hosted partition (from the metadata image, in order): this broker
     * becomes leader (a new leader epoch at the log end, follower states reset, {@code onBecomeLeader}) or
     * follower ({@code onResign} if it led, then fetching from the leader), or, at the same leader epoch,
     * takes the new ISR. A state older than the one applied is ignored.
     */
    public void applyPartitionState(TopicPartition tp, List<Integer> replicas, PartitionState state) {
        synchronized (stateChangeLock) {
            applyPartitionStateLocked(tp, replicas, state);
        }
    }

    private void applyPartitionStateLocked(TopicPartition tp, List<Integer> replicas, PartitionState state) {
        Partition partition = partitions.get(tp);
        if (partition == null || state == null) {
            return;
        }
        if (partition.isStale(state)) {
            if (state.leaderEpoch() != partition.leaderEpoch() || state.zkVersion() != partition.partitionEpoch()) {
                log.info("{}: ignoring a stale partition state {} (applied: leader epoch {}, partition epoch {},"
                    + " controller epoch {})", tp, state, partition.leaderEpoch(), partition.partitionEpoch(),
                    partition.controllerEpoch());
            }
            updateFetcher(partition);
            return;
        }
        boolean wasLeader = partition.isLeader();
        Partition.Transition t = partition.applyState(replicas, state, time.milliseconds());
        switch (t) {
            case BECAME_LEADER -> {
                ReplicaFetcherManager fm = fetcherManager;
                if (fm != null) {
                    fm.removePartition(tp);
                }
                log.info("{}: leader at epoch {} from offset {}, ISR {}", tp, state.leaderEpoch(),
                    partition.leaderEpochStartOffset(), state.isr());
                partition.maybeIncrementHighWatermark();
                highWatermarkMoved(tp, partition);
                leadershipListeners.forEach(listener -> listener.onBecomeLeader(tp, state.leaderEpoch()));
            }
            case BECAME_FOLLOWER -> {
                log.info("{}: follower of broker {} at epoch {}", tp, state.leader(), state.leaderEpoch());
                failHighWatermarkWaiters(tp, partition);
                if (wasLeader) {
                    leadershipListeners.forEach(listener -> listener.onResign(tp, state.leaderEpoch()));
                }
                highWatermarkListener.accept(tp); // parked produces and fetches answer NOT_LEADER_OR_FOLLOWER
                updateFetcher(partition);
            }
            case ISR_UPDATED -> {
                if (partition.isLeader()) {
                    partition.maybeIncrementHighWatermark();
                    highWatermarkMoved(tp, partition);
                    highWatermarkListener.accept(tp); // a shrink may leave acks=all produces short of min ISR
                } else {
                    updateFetcher(partition);
                }
            }
            case NONE -> {
            }
        }
    }

    /** Makes the fetcher follow the partition's current leader (or stop when it leads or has no leader). */
    private void updateFetcher(Partition partition) {
        ReplicaFetcherManager fm = fetcherManager;
        if (fm == null) {
            return;
        }
        if (partition.role() == Partition.Role.FOLLOWER && partition.leaderId() >= 0) {
            fm.follow(partition);
        } else {
            fm.removePartition(partition.topicPartition());
        }
    }

    /** Re-checks every follower partition's fetcher (a leader's broker registered, or moved to another port). */
    public void refreshFetchers() {
        for (Partition p : partitions.values()) {
            if (p.role() == Partition.Role.FOLLOWER) {
                updateFetcher(p);
            }
        }
    }

    /** Stops hosting the topic and deletes its logs. */
    public void deleteTopic(TopicMetadata topic) {
        for (int p = 0; p < topic.partitionCount(); p++) {
            removeReplica(new TopicPartition(topic.name(), p));
        }
    }

    /**
     * Starts moving a hosted replica's log to {@code targetDir}, another of the log manager's directories
     * (AlterReplicaLogDirs), and returns whether the partition is hosted. The replica keeps serving: a
     * future log is created there at once and {@link LogDirMover} copies into it in the background and
     * swaps it in when it has caught up. Naming the directory the log is in cancels a move under way.
     *
     * @throws java.io.UncheckedIOException if the future log cannot be created
     */
    public boolean moveReplicaLog(TopicPartition tp, Path targetDir) {
        // under the state change lock: a stopReplica either removed the partition first (no move), or comes after
        // the move is created and cancels it before deleting the log (no copy outlives a deleted log)
        synchronized (stateChangeLock) {
            if (partitions.get(tp) == null) {
                return false;
            }
            return logDirMover.move(tp, targetDir);
        }
    }

    /** The background mover of replicas between log directories. */
    public LogDirMover logDirMover() {
        return logDirMover;
    }

    /**
     * Stops hosting one replica (the controller's StopReplica): its fetcher stops, a leader resigns, parked
     * requests answer NOT_LEADER_OR_FOLLOWER; with {@code deleteLog} its log is deleted too. Returns whether
     * the partition was hosted.
     */
    public boolean stopReplica(TopicPartition tp, boolean deleteLog) {
        Partition removed;
        synchronized (stateChangeLock) {
            ReplicaFetcherManager fm = fetcherManager;
            if (fm != null) {
                fm.removePartition(tp);
            }
            removed = partitions.remove(tp);
            if (removed != null) {
                boolean led = removed.isLeader();
                removed.resign();
                failHighWatermarkWaiters(tp, removed);
                if (led) {
                    leadershipListeners.forEach(listener -> listener.onResign(tp, -1));
                }
            }
        }
        if (removed != null) {
            highWatermarkListener.accept(tp);
        }
        if (deleteLog) {
            checkpointedHighWatermarks.remove(tp);
            try {
                logDirMover.cancel(tp); // the copy goes first: a crash between leaves no copy without its log
            } finally {
                logManager.deleteLog(tp); // whatever became of the copy, the replica's log goes
            }
        }
        return removed != null;
    }

    /**
     * Stops hosting a replica that is no longer assigned to this broker (a reassignment moved it away, or
     * its topic was deleted) and deletes its log — Kafka's StopReplica with deletion; see
     * {@link #stopReplica}. Returns whether the replica was hosted.
     */
    public boolean removeReplica(TopicPartition tp) {
        return stopReplica(tp, true);
    }

    /** Applies changed topic configs to the live logs. */
    public void updateTopicConfig(TopicMetadata topic) {
        int minIsr = topicConfigs.minInsyncReplicas(topic.configs());
        TopicConfigs.Compression compression = topicConfigs.compression(topic.configs());
        for (int p = 0; p < topic.partitionCount(); p++) {
            Partition partition = partitions.get(new TopicPartition(topic.name(), p));
            if (partition != null) {
                partition.log().updateConfig(topicConfigs.logConfig(topic.configs()));
                partition.setMinInsyncReplicas(minIsr);
                partition.setCompression(compression);
            }
        }
    }

    /**
     * The outcome of appending one partition's records; {@code recordErrors} names the records that
     * made an INVALID_RECORD batch fail (Produce v8+), else it is empty.
     */
    public record AppendResult(Errors error, String errorMessage, long baseOffset, long logAppendTimeMs,
                               long logStartOffset, List<RecordError> recordErrors) {
        public AppendResult(Errors error, String errorMessage, long baseOffset, long logAppendTimeMs, long logStartOffset) {
            this(error, errorMessage, baseOffset, logAppendTimeMs, logStartOffset, List.of());
        }

        static AppendResult error(Errors e, String message) {
            return new AppendResult(e, message, -1, -1, -1);
        }
    }

    /** {@link #appendAsLeader(TopicPartition, Records, short, AppendOrigin)} for a producer's request. */
    public AppendResult appendAsLeader(TopicPartition tp, Records records, short acks) {
        return appendAsLeader(tp, records, acks, AppendOrigin.CLIENT);
    }

    /**
     * Appends records for one partition as leader: a produce request's ({@link AppendOrigin#CLIENT},
     * held to a producer's rules) or a coordinator's ({@link AppendOrigin#COORDINATOR}, which may
     * write control batches). Nothing is appended when any batch is invalid (CORRUPT_MESSAGE,
     * INVALID_RECORD with the records at fault, MESSAGE_TOO_LARGE); an idempotent duplicate is
     * answered with its original offset. A topic whose {@code compression.type} names a codec gets its
     * batches recompressed to it first (Kafka's rule); {@code producer} stores the bytes as they came.
     */
    public AppendResult appendAsLeader(TopicPartition tp, Records records, short acks, AppendOrigin origin) {
        return appendAsLeader(tp, records, acks, origin, true);
    }

    /**
     * {@link #appendAsLeader(TopicPartition, Records, short, AppendOrigin)}; with {@code notify} false
     * the append listener is not told, and the caller must call {@link #appended} once it has answered
     * (when the result has no error).
     */
    public AppendResult appendAsLeader(TopicPartition tp, Records records, short acks, AppendOrigin origin,
                                       boolean notify) {
        Partition partition = partition(tp);
        if (partition == null) {
            return AppendResult.error(notHostedError(tp), notHostedMessage(tp));
        }
        if (records == null || records.sizeInBytes() == 0) {
            return AppendResult.error(Errors.CORRUPT_MESSAGE, "Produce request for " + tp + " holds no record batches");
        }
        AppendResult result = partition.underRoleReadLock(() -> appendLocked(partition, records, acks, origin));
        if (result.error() != Errors.NONE || result.logAppendTimeMs() == DUPLICATE_MARK) {
            return result.logAppendTimeMs() == DUPLICATE_MARK
                ? new AppendResult(Errors.NONE, null, result.baseOffset(), -1, result.logStartOffset()) : result;
        }
        if (partition.maybeIncrementHighWatermark()) {
            completeHighWatermarkWaiters(tp, partition);
        }
        if (notify) {
            appendListener.accept(tp);
        }
        return result;
    }

    /** Marks an idempotent duplicate's result inside {@link #appendLocked} (never a real append time). */
    private static final long DUPLICATE_MARK = Long.MIN_VALUE;

    /** The append itself, under the partition's role read lock: only a leader appends, at its epoch. */
    private AppendResult appendLocked(Partition partition, Records records, short acks, AppendOrigin origin) {
        TopicPartition tp = partition.topicPartition();
        if (!partition.isLeader()) {
            return AppendResult.error(Errors.NOT_LEADER_OR_FOLLOWER, "Broker " + brokerId + " is not the leader of "
                + tp + (partition.leaderId() >= 0 ? " (broker " + partition.leaderId() + " is)" : ""));
        }
        if (acks == -1 && partition.inSyncReplicaCount() < partition.minInsyncReplicas()) {
            return AppendResult.error(Errors.NOT_ENOUGH_REPLICAS, "The ISR of " + tp + " has "
                + partition.inSyncReplicaCount() + " replicas, fewer than min.insync.replicas "
                + partition.minInsyncReplicas());
        }
        LogAppendInfo info;
        try {
            // the request frame belongs to this request alone: offsets are assigned in it, in place
            info = partition.log().appendAsLeader(inTopicCodec(partition, records, origin), partition.leaderEpoch(),
                origin);
        } catch (CorruptRecordException e) {
            log.info("rejected corrupt produce to {}: {}", tp, e.getMessage());
            return AppendResult.error(Errors.CORRUPT_MESSAGE, e.getMessage());
        } catch (RecordTooLargeException e) {
            return AppendResult.error(Errors.MESSAGE_TOO_LARGE, e.getMessage());
        } catch (InvalidRecordException e) {
            log.debug("rejected invalid produce to {}: {}", tp, e.getMessage());
            return new AppendResult(Errors.INVALID_RECORD, e.getMessage(), -1, -1, -1, e.recordErrors());
        } catch (UncheckedIOException e) {
            reportIoError(partition, "an append", e);
            return AppendResult.error(Errors.KAFKA_STORAGE_ERROR, "The log directory of " + tp + " on broker " + brokerId
                + " failed: " + e.getMessage());
        }
        ProducerAppendCheck check = info.producerCheck();
        switch (check.result()) {
            case OK:
                break;
            case DUPLICATE:
                return new AppendResult(Errors.NONE, null, check.firstOffset(), DUPLICATE_MARK,
                    partition.log().logStartOffset());
            case OUT_OF_ORDER_SEQUENCE:
                return AppendResult.error(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, check.message());
            case INVALID_PRODUCER_EPOCH:
                return AppendResult.error(Errors.INVALID_PRODUCER_EPOCH, check.message());
            case INVALID_TXN_STATE:
                return AppendResult.error(Errors.INVALID_TXN_STATE, check.message());
            case TRANSACTION_COORDINATOR_FENCED:
                return AppendResult.error(Errors.TRANSACTION_COORDINATOR_FENCED, check.message());
            default:
                return AppendResult.error(Errors.UNKNOWN_SERVER_ERROR, String.valueOf(check));
        }
        return new AppendResult(Errors.NONE, null, info.firstOffset(), info.logAppendTimeMs(),
            partition.log().logStartOffset());
    }

    /**
     * The request's records, recompressed when the topic stores a codec other than the producer's.
     * The producer's batches are validated first with the rules the log applies (so a bad batch fails
     * with the same error and record errors as without recompression, and only well-formed data is
     * decompressed); the log validates the rewritten batches again on append.
     */
    private static MemoryRecords inTopicCodec(Partition partition, Records records, AppendOrigin origin) {
        MemoryRecords in = MemoryRecords.readableRecords(records.buffer());
        TopicConfigs.Compression compression = partition.compression();
        if (compression.keepsProducerCodec()) {
            return in;
        }
        io.weir.log.LogConfig cfg = partition.log().config();
        BatchValidator.validate(in, new BatchValidator.Rules(origin, cfg.compact, cfg.maxMessageBytes),
            partition.topicPartition());
        return BatchRecompressor.recompress(in, compression.codec(), compression.level(),
            (int) BatchValidator.maxDecompressedBytes(in.sizeInBytes(), cfg.maxMessageBytes));
    }

    /**
     * What a fetch read from one partition. {@code fetchOffsetMetadata} is where the fetch offset sits
     * in the log (its position unknown when the read did not locate it); a delayed fetch measures the
     * bytes that arrive after it from there, without reading again. {@code divergingEpoch} (null: none) is
     * set instead of records when a follower's log diverges from the leader's: the largest epoch the leader
     * has at or below the follower's last fetched one, and where it ends (KIP-595).
     */
    public record ReadResult(Errors error, long highWatermark, long lastStableOffset, long logStartOffset,
                             Records records, List<AbortedTxn> abortedTransactions,
                             LogOffsetMetadata fetchOffsetMetadata, EpochEndOffset divergingEpoch) {
        public ReadResult(Errors error, long highWatermark, long lastStableOffset, long logStartOffset, Records records,
                          List<AbortedTxn> abortedTransactions, LogOffsetMetadata fetchOffsetMetadata) {
            this(error, highWatermark, lastStableOffset, logStartOffset, records, abortedTransactions,
                fetchOffsetMetadata, null);
        }

        public int sizeInBytes() {
            return records == null ? 0 : records.sizeInBytes();
        }
    }

    /**
     * Reads from a partition for a consumer: bounded by the high watermark, or by the last stable
     * offset under read_committed (then also returning the aborted transactions in range). Only the
     * leader serves consumers (NOT_LEADER_OR_FOLLOWER elsewhere).
     */
    public ReadResult read(TopicPartition tp, long fetchOffset, int maxBytes, boolean minOneBatch,
                           boolean readCommitted) {
        Partition partition = partition(tp);
        if (partition == null) {
            return errorRead(notHostedError(tp), fetchOffset);
        }
        if (!partition.isLeader()) {
            return errorRead(Errors.NOT_LEADER_OR_FOLLOWER, fetchOffset);
        }
        LogOffsetMetadata hwMetadata = partition.highWatermarkMetadata();
        long hw = hwMetadata.messageOffset();
        long lso = partition.lastStableOffset();
        Log l = partition.log();
        long upper = readCommitted ? lso : hw;
        try {
            // the high watermark carries its byte position; the LSO (an offset only, for now) is looked up
            FetchDataInfo info = readCommitted && lso < hw ? l.read(fetchOffset, maxBytes, lso, minOneBatch)
                : l.read(fetchOffset, maxBytes, hwMetadata, minOneBatch);
            List<AbortedTxn> aborted = null;
            if (readCommitted && info.records().sizeInBytes() > 0) {
                aborted = l.collectAbortedTransactions(fetchOffset, upper);
            }
            Records records = info.records().sizeInBytes() == 0 ? Records.empty()
                : new FileRegionRecords(info.records());
            return new ReadResult(Errors.NONE, hw, lso, l.logStartOffset(), records, aborted,
                info.fetchOffsetMetadata());
        } catch (OffsetOutOfRangeException e) {
            if (fetchOffset > hw && fetchOffset <= l.logEndOffset()) {
                // beyond what consumers may see yet but inside the log: nothing to return now
                return new ReadResult(Errors.NONE, hw, lso, l.logStartOffset(), Records.empty(), null,
                    new LogOffsetMetadata(fetchOffset));
            }
            return new ReadResult(Errors.OFFSET_OUT_OF_RANGE, hw, lso, l.logStartOffset(), null, null,
                new LogOffsetMetadata(fetchOffset));
        } catch (io.weir.common.record.CorruptRecordException e) {
            // a quarantined (damaged) stretch: a clear error for this partition, not a stalled consumer
            return new ReadResult(Errors.CORRUPT_MESSAGE, hw, lso, l.logStartOffset(), null, null,
                new LogOffsetMetadata(fetchOffset));
        } catch (UncheckedIOException e) {
            reportIoError(partition, "a read", e);
            return errorRead(Errors.KAFKA_STORAGE_ERROR, fetchOffset);
        }
    }

    private static ReadResult errorRead(Errors error, long fetchOffset) {
        return new ReadResult(error, -1, -1, -1, null, null, new LogOffsetMetadata(fetchOffset));
    }

    /**
     * Checks a request's {@code currentLeaderEpoch} (-1: not given) against this leader's, Kafka's way:
     * older is FENCED_LEADER_EPOCH (the client is behind), newer UNKNOWN_LEADER_EPOCH (this broker is);
     * a partition not led here is NOT_LEADER_OR_FOLLOWER, one not hosted UNKNOWN_TOPIC_OR_PARTITION.
     */
    public Errors validateLeader(TopicPartition tp, int currentLeaderEpoch) {
        Partition partition = partition(tp);
        if (partition == null) {
            return notHostedError(tp);
        }
        return validateLeader(partition, currentLeaderEpoch);
    }

    private static Errors validateLeader(Partition partition, int currentLeaderEpoch) {
        int epoch = partition.leaderEpoch();
        if (currentLeaderEpoch >= 0 && currentLeaderEpoch < epoch) {
            return Errors.FENCED_LEADER_EPOCH;
        }
        if (currentLeaderEpoch >= 0 && currentLeaderEpoch > epoch) {
            return Errors.UNKNOWN_LEADER_EPOCH;
        }
        return partition.isLeader() ? Errors.NONE : Errors.NOT_LEADER_OR_FOLLOWER;
    }

    /**
     * What a follower's fetch says about one partition: the follower, its broker epoch (Fetch v15+, -1 not
     * given), its idea of the leader epoch (-1 not given), the epoch of the last batch it fetched (Fetch
     * v12+, -1 none: no divergence check) and its log start offset.
     */
    public record FollowerFetch(int replicaId, long replicaEpoch, int currentLeaderEpoch, int lastFetchedEpoch,
                                long logStartOffset) {
    }

    /**
     * {@link #readForFollower(TopicPartition, FollowerFetch, long, int, boolean, boolean)} without a broker
     * epoch or a last fetched epoch (a fetch before v12).
     */
    public ReadResult readForFollower(TopicPartition tp, int replicaId, long fetchOffset, int maxBytes,
                                      boolean minOneBatch, int currentLeaderEpoch, long followerLogStartOffset,
                                      boolean updateFetchState) {
        return readForFollower(tp, new FollowerFetch(replicaId, -1, currentLeaderEpoch, -1, followerLogStartOffset),
            fetchOffset, maxBytes, minOneBatch, updateFetchState);
    }

    /**
     * Reads from a partition for a follower: up to the log end (uncommitted records included), after
     * checking that this broker leads at the fetch's {@code currentLeaderEpoch} and that the follower is an
     * assigned replica (else UNKNOWN_LEADER_EPOCH when the request names an epoch, NOT_LEADER_OR_FOLLOWER
     * when not — Kafka's answers), and that its broker epoch, when given, is not older than its registration
     * known here (else NOT_LEADER_OR_FOLLOWER: a fetch of a previous incarnation of that broker).
     *
     * <p>With a last fetched epoch (Fetch v12+, KIP-595) the leader first checks it against its epoch cache:
     * if it does not have that epoch, or has it ending below the fetch offset, the follower's log diverges
     * and the answer is no records but the {@code divergingEpoch} (the largest epoch at or below it and its
     * end offset), where the follower truncates before it fetches again; the fetch offset is then not
     * recorded. An epoch the leader cannot place (below its earliest) or a fetch offset below the log start
     * is OFFSET_OUT_OF_RANGE.
     *
     * <p>A follower outside the ISR whose partition is throttled on this leader
     * ({@code leader.replication.throttled.*}) gets no records while the leader's bucket is empty.
     *
     * <p>With {@code updateFetchState} the fetch offset is recorded as the follower's log end, which may move
     * the high watermark (the listener is told here, so call it on a thread that holds no delayed operation's
     * lock) and propose an ISR expansion.
     */
    public ReadResult readForFollower(TopicPartition tp, FollowerFetch fetch, long fetchOffset, int maxBytes,
                                      boolean minOneBatch, boolean updateFetchState) {
        Partition partition = partition(tp);
        if (partition == null) {
            return errorRead(notHostedError(tp), fetchOffset);
        }
        int replicaId = fetch.replicaId();
        Errors invalid = validateLeader(partition, fetch.currentLeaderEpoch());
        if (invalid == Errors.NONE && !partition.isAssignedFollower(replicaId)) {
            log.debug("{}: refusing a fetch from broker {}, not an assigned replica ({})", tp, replicaId,
                partition.replicas());
            invalid = fetch.currentLeaderEpoch() >= 0 ? Errors.UNKNOWN_LEADER_EPOCH : Errors.NOT_LEADER_OR_FOLLOWER;
        }
        if (invalid == Errors.NONE && fetch.replicaEpoch() >= 0) {
            long registered = brokerEpochs.applyAsLong(replicaId);
            if (registered > fetch.replicaEpoch()) {
                log.debug("{}: refusing a fetch from broker {} at broker epoch {}: it is registered at {}", tp,
                    replicaId, fetch.replicaEpoch(), registered);
                invalid = Errors.NOT_LEADER_OR_FOLLOWER;
            }
        }
        if (invalid != Errors.NONE) {
            return errorRead(invalid, fetchOffset);
        }
        Log l = partition.log();
        if (fetch.lastFetchedEpoch() >= 0) {
            EpochEndOffset known = l.endOffsetForEpoch(fetch.lastFetchedEpoch());
            if (known.leaderEpoch() < 0 || known.endOffset() < 0 || fetchOffset < l.logStartOffset()) {
                return new ReadResult(Errors.OFFSET_OUT_OF_RANGE, partition.highWatermark(),
                    partition.lastStableOffset(), l.logStartOffset(), null, null, new LogOffsetMetadata(fetchOffset));
            }
            if (known.leaderEpoch() < fetch.lastFetchedEpoch() || known.endOffset() < fetchOffset) {
                return new ReadResult(Errors.NONE, partition.highWatermark(), partition.lastStableOffset(),
                    l.logStartOffset(), Records.empty(), null, new LogOffsetMetadata(fetchOffset), known);
            }
        }
        long nowMs = time.milliseconds();
        LogOffsetMetadata end = l.logEndOffsetMetadata();
        boolean heldBack = shouldLeaderThrottle(partition, replicaId, nowMs);
        FetchDataInfo info;
        try {
            info = l.read(fetchOffset, heldBack ? 0 : maxBytes, end, minOneBatch && !heldBack);
        } catch (OffsetOutOfRangeException e) {
            return new ReadResult(Errors.OFFSET_OUT_OF_RANGE, partition.highWatermark(), partition.lastStableOffset(),
                l.logStartOffset(), null, null, new LogOffsetMetadata(fetchOffset));
        } catch (io.weir.common.record.CorruptRecordException e) {
            return new ReadResult(Errors.CORRUPT_MESSAGE, partition.highWatermark(), partition.lastStableOffset(),
                l.logStartOffset(), null, null, new LogOffsetMetadata(fetchOffset));
        } catch (UncheckedIOException e) {
            reportIoError(partition, "a follower's read", e);
            return errorRead(Errors.KAFKA_STORAGE_ERROR, fetchOffset);
        }
        if (updateFetchState) {
            LogOffsetMetadata at = info.fetchOffsetMetadata().messageOffset() == fetchOffset ? info.fetchOffsetMetadata()
                : new LogOffsetMetadata(fetchOffset);
            Partition.FollowerUpdate u = partition.updateFollowerFetchState(replicaId, at, fetch.logStartOffset(), nowMs,
                end.messageOffset(), fetch.replicaEpoch());
            if (u.highWatermarkMoved()) {
                highWatermarkMoved(tp, partition);
            }
            if (u.expansion() != null) {
                log.info("{}: follower {} caught up at offset {}: asking the controller for ISR {}", tp, replicaId,
                    fetchOffset, u.expansion().newIsr());
                sendIsrChange(partition, u.expansion());
            }
        }
        Records records = heldBack || info.records().sizeInBytes() == 0 ? Records.empty()
            : new FileRegionRecords(info.records());
        return new ReadResult(Errors.NONE, partition.highWatermark(), partition.lastStableOffset(), l.logStartOffset(),
            records, null, info.fetchOffsetMetadata());
    }

    /**
     * Whether fetches of {@code partition} by follower {@code replicaId} count against the leader-side
     * throttle: the partition is throttled on this broker and the follower is not in the ISR (Kafka's rule:
     * an in-sync follower is never held back).
     */
    private boolean isLeaderThrottled(Partition partition, int replicaId) {
        return leaderReplicationThrottle.isThrottled(partition.topicPartition()) && !partition.isr().contains(replicaId);
    }

    /**
     * Whether the leader-side throttle holds back {@code partition}'s records from follower {@code replicaId}
     * now: it counts against the throttle and the bucket is empty. A delayed fetch does not wait for such
     * bytes.
     */
    public boolean shouldLeaderThrottle(Partition partition, int replicaId) {
        return shouldLeaderThrottle(partition, replicaId, time.milliseconds());
    }

    private boolean shouldLeaderThrottle(Partition partition, int replicaId, long nowMs) {
        return isLeaderThrottled(partition, replicaId) && leaderReplicationThrottle.delayMs(nowMs) > 0;
    }

    /**
     * Takes the {@code bytes} sent to follower {@code replicaId} for {@code tp} out of the leader-side
     * throttle's bucket, when they count against it (called once per answered fetch).
     */
    public void recordLeaderThrottled(TopicPartition tp, int replicaId, long bytes) {
        Partition partition = partition(tp);
        if (partition != null && bytes > 0 && isLeaderThrottled(partition, replicaId)) {
            leaderReplicationThrottle.record(bytes, time.milliseconds());
        }
    }

    // ------------------------------------------------------------------------------------ high watermark

    /** Completes the waiters the high watermark now satisfies, and tells the listener. */
    private void highWatermarkMoved(TopicPartition tp, Partition partition) {
        completeHighWatermarkWaiters(tp, partition);
        highWatermarkListener.accept(tp);
    }

    /**
     * A future completed with the high watermark once it reaches {@code offset} while this broker leads
     * {@code tp} — what a coordinator waits for before treating its records as committed — or failed with
     * an {@link ApiException} of NOT_LEADER_OR_FOLLOWER when it stops leading (or hosting) the partition
     * first. Completes at once when the high watermark is already there; completions run on the thread that
     * moved the high watermark, so callbacks must be short.
     */
    public CompletableFuture<Long> awaitHighWatermark(TopicPartition tp, long offset) {
        Partition partition = partition(tp);
        if (partition == null || !partition.isLeader()) {
            return CompletableFuture.failedFuture(new ApiException(Errors.NOT_LEADER_OR_FOLLOWER,
                "Broker " + brokerId + " does not lead " + tp));
        }
        long hw = partition.highWatermark();
        if (hw >= offset) {
            return CompletableFuture.completedFuture(hw);
        }
        CompletableFuture<Long> f = new CompletableFuture<>();
        List<HighWatermarkWaiter> list = highWatermarkWaiters.computeIfAbsent(tp, k -> new ArrayList<>());
        synchronized (list) {
            list.add(new HighWatermarkWaiter(offset, f));
        }
        // the high watermark may have moved, or leadership gone, while the waiter was being added
        if (partition(tp) != partition || !partition.isLeader()) {
            failHighWatermarkWaiters(tp, partition);
        } else {
            completeHighWatermarkWaiters(tp, partition);
        }
        return f;
    }

    private void completeHighWatermarkWaiters(TopicPartition tp, Partition partition) {
        List<HighWatermarkWaiter> list = highWatermarkWaiters.get(tp);
        if (list == null) {
            return;
        }
        long hw = partition.highWatermark();
        List<HighWatermarkWaiter> done = new ArrayList<>();
        synchronized (list) {
            list.removeIf(w -> {
                if (w.offset() <= hw) {
                    done.add(w);
                    return true;
                }
                return false;
            });
        }
        for (HighWatermarkWaiter w : done) {
            w.future().complete(hw);
        }
    }

    private void failHighWatermarkWaiters(TopicPartition tp, Partition partition) {
        List<HighWatermarkWaiter> list = highWatermarkWaiters.get(tp);
        if (list == null) {
            return;
        }
        List<HighWatermarkWaiter> failed;
        synchronized (list) {
            failed = new ArrayList<>(list);
            list.clear();
        }
        for (HighWatermarkWaiter w : failed) {
            w.future().completeExceptionally(new ApiException(Errors.NOT_LEADER_OR_FOLLOWER,
                "Broker " + brokerId + " no longer leads " + tp));
        }
    }

    /**
     * Writes every hosted partition's high watermark to {@value #HIGH_WATERMARK_CHECKPOINT} (temp file,
     * fsync, rename): a duty every {@code replica.high.watermark.checkpoint.interval.ms} and at a clean
     * stop. Returns the entries written.
     */
    public int checkpointHighWatermarks() {
        Map<Path, Map<TopicPartition, Long>> byDir = new HashMap<>();
        Path first = logManager.logDir();
        for (Partition p : partitions.values()) {
            Path dir = logManager.logDirOf(p.topicPartition());
            byDir.computeIfAbsent(dir == null ? first : dir, k -> new HashMap<>()).put(p.topicPartition(),
                p.highWatermark());
        }
        int n = 0;
        for (Map.Entry<Path, CheckpointFile> e : highWatermarkCheckpoints.entrySet()) {
            if (logManager.isOffline(e.getKey())) {
                continue;
            }
            Map<TopicPartition, Long> out = byDir.getOrDefault(e.getKey(), Map.of());
            try {
                e.getValue().write(out);
            } catch (UncheckedIOException ex) {
                logManager.reportFailure(e.getKey(), "cannot write the high-watermark checkpoint of " + e.getKey(), ex);
                continue;
            }
            n += out.size();
        }
        return n;
    }

    // ------------------------------------------------------------------------------------ ISR

    /**
     * Proposes an ISR shrink for each led partition with followers that have not caught up within
     * {@code lagTimeMaxMs} (a duty every half of it). Returns how many were proposed.
     */
    public int doIsrCheck(long nowMs, long lagTimeMaxMs) {
        int n = 0;
        for (Partition p : partitions.values()) {
            Partition.IsrChange shrink = p.maybeShrinkIsr(nowMs, lagTimeMaxMs);
            if (shrink != null) {
                log.info("{}: shrinking the ISR from {} to {}: the others have not caught up in {} ms",
                    p.topicPartition(), p.isr(), shrink.newIsr(), lagTimeMaxMs);
                sendIsrChange(p, shrink);
                n++;
            }
        }
        return n;
    }

    private void sendIsrChange(Partition partition, Partition.IsrChange change) {
        CompletableFuture<PartitionState> f;
        try {
            // KIP-903: each follower named with the broker epoch of its last fetch here
            Map<Integer, Long> fetchedEpochs = new HashMap<>();
            for (int id : change.newIsr()) {
                long epoch = partition.followerBrokerEpoch(id);
                if (epoch >= 0) {
                    fetchedEpochs.put(id, epoch);
                }
            }
            f = alterPartitionSender.submit(change.topicPartition(), change.leaderEpoch(), change.partitionEpoch(),
                change.newIsr(), fetchedEpochs);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        try {
            f.whenCompleteAsync((state, err) -> onIsrChangeAnswered(partition, change, state, err), stateExecutor);
        } catch (RejectedExecutionException e) {
            partition.onIsrChangeFailed(change, false, Long.MAX_VALUE); // shutting down
        }
    }

    private void onIsrChangeAnswered(Partition partition, Partition.IsrChange change, PartitionState state,
                                     Throwable err) {
        TopicPartition tp = change.topicPartition();
        if (err == null && state != null) {
            log.info("{}: the controller committed ISR {} at partition epoch {}", tp, state.isr(), state.zkVersion());
            if (partition.onIsrChangeCommitted(change, state)) {
                highWatermarkMoved(tp, partition);
            } else {
                highWatermarkListener.accept(tp); // a committed shrink may leave waiting produces short of min ISR
            }
            return;
        }
        Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        Errors e = Errors.forException(cause);
        boolean stale = e == Errors.FENCED_LEADER_EPOCH || e == Errors.INVALID_UPDATE_VERSION;
        if (e == Errors.NOT_CONTROLLER) {
            log.debug("{}: ISR {} not sent: {}", tp, change.newIsr(), cause.getMessage());
        } else {
            log.info("{}: the controller did not take ISR {}: {}{}", tp, change.newIsr(), e,
                stale ? " (waiting for newer metadata)" : " (retrying in " + ISR_CHANGE_RETRY_MS + " ms)");
        }
        partition.onIsrChangeFailed(change, stale, time.milliseconds() + ISR_CHANGE_RETRY_MS);
    }

    /** Stops the fetchers and the ISR-change thread, then checkpoints the high watermarks (a clean stop). */
    public void shutdown() {
        logDirMover.close();
        ReplicaFetcherManager fm = fetcherManager;
        if (fm != null) {
            fm.shutdown();
        }
        stateExecutor.shutdownNow();
        checkpointHighWatermarks();
    }

    // ------------------------------------------------------------------------------------ follower side

    /**
     * Appends a follower's fetched batches as the leader wrote them (offsets and epochs unchanged), if this
     * replica still follows at {@code leaderEpoch}; then its high watermark follows the leader's (capped at
     * its log end) and its log start the leader's. Returns the new log end, or -1 if the role changed.
     */
    long appendAsFollower(Partition partition, int leaderEpoch, MemoryRecords records, long leaderHighWatermark,
                          long leaderLogStartOffset) {
        long end = partition.underRoleReadLock(() -> {
            if (partition.role() != Partition.Role.FOLLOWER || partition.leaderEpoch() != leaderEpoch) {
                return -1L;
            }
            Log l = partition.log();
            try {
                if (records.sizeInBytes() > 0) {
                    l.appendAsFollower(records);
                }
                if (leaderLogStartOffset > l.logStartOffset() && leaderLogStartOffset <= l.logEndOffset()) {
                    l.deleteRecordsBefore(leaderLogStartOffset);
                }
            } catch (UncheckedIOException e) {
                throw reportIoError(partition, "a follower's append", e);
            }
            return l.logEndOffset();
        });
        if (end >= 0) {
            partition.updateFollowerHighWatermark(leaderHighWatermark);
        }
        return end;
    }

    /**
     * Truncates a follower's log to {@code offset} (its log end when beyond it, dropping epochs that start
     * there) if it still follows at {@code leaderEpoch}; false otherwise.
     */
    boolean truncateFollower(Partition partition, int leaderEpoch, long offset) {
        return partition.underRoleReadLock(() -> {
            if (partition.role() != Partition.Role.FOLLOWER || partition.leaderEpoch() != leaderEpoch) {
                return false;
            }
            long end = partition.log().logEndOffset();
            if (offset < end) {
                log.info("{}: truncating the follower's log from {} to {}", partition.topicPartition(), end, offset);
            }
            // even with no data to cut, an epoch this replica opened at its log end as leader (writing nothing)
            // goes (Kafka's rule): the leader never had it, and a follower naming it would diverge forever
            try {
                partition.log().truncateTo(Math.min(offset, end));
                logDirMover.truncated(partition.topicPartition(), Math.min(offset, end));
            } catch (UncheckedIOException e) {
                throw reportIoError(partition, "a follower's truncation", e);
            }
            partition.capHighWatermarkAtLogEnd();
            return true;
        });
    }

    /** Restarts a follower's log empty at {@code offset} (it fell behind the leader's log start). */
    boolean truncateFollowerFullyAndStartAt(Partition partition, int leaderEpoch, long offset) {
        return partition.underRoleReadLock(() -> {
            if (partition.role() != Partition.Role.FOLLOWER || partition.leaderEpoch() != leaderEpoch) {
                return false;
            }
            log.info("{}: the follower's log end {} is below the leader's log start {}: restarting the log there",
                partition.topicPartition(), partition.log().logEndOffset(), offset);
            try {
                partition.log().truncateFullyAndStartAt(offset);
                logDirMover.truncatedFully(partition.topicPartition(), offset);
            } catch (UncheckedIOException e) {
                throw reportIoError(partition, "a follower's truncation", e);
            }
            partition.resetHighWatermark(offset);
            return true;
        });
    }

    /** The outcome of DeleteRecords on one partition: an error, or the log start offset after it. */
    public record DeleteRecordsResult(Errors error, String message, long lowWatermark) {
    }

    /**
     * Moves a partition's log start offset up to {@code offset} (-1: the high watermark) and deletes the
     * segments wholly below it (Kafka's DeleteRecords). The offset may not pass the high watermark, and a
     * compacted-only topic refuses (its cleaner owns what stays). The new start is checkpointed at once,
     * so it survives an unclean stop.
     */
    public DeleteRecordsResult deleteRecords(TopicPartition tp, long offset) {
        Partition partition = partitions.get(tp);
        if (partition == null) {
            return new DeleteRecordsResult(notHostedError(tp), notHostedMessage(tp), -1);
        }
        if (!partition.isLeader()) {
            return new DeleteRecordsResult(Errors.NOT_LEADER_OR_FOLLOWER, "Broker " + brokerId + " is not the leader of "
                + tp, -1);
        }
        Log l = partition.log();
        if (!l.config().delete) {
            return new DeleteRecordsResult(Errors.POLICY_VIOLATION, "Records of partition " + tp
                + " can not be deleted while partition is in compacted mode", -1);
        }
        long hw = partition.highWatermark();
        long target = offset == -1 ? hw : offset;
        if (target < 0 || target > hw) {
            return new DeleteRecordsResult(Errors.OFFSET_OUT_OF_RANGE, "Cannot increment the log start offset of " + tp
                + " to " + offset + ": it is outside [0, high watermark " + hw + "]", -1);
        }
        long before = l.logStartOffset();
        // under the role lock: a replica moved to another log directory swaps its log under the write side
        long start = partition.underRoleReadLock(() -> partition.log().deleteRecordsBefore(target));
        if (start != before) {
            logManager.doCheckpoint();
            log.info("{}: log start offset moved from {} to {} by DeleteRecords", tp, before, start);
        }
        return new DeleteRecordsResult(Errors.NONE, null, start);
    }

    // ------------------------------------------------------------------------------------ failed log dirs

    /** Whether {@code tp}'s log was in a failed directory (KAFKA_STORAGE_ERROR here until a restart). */
    public boolean isOffline(TopicPartition tp) {
        return offlinePartitions.contains(tp);
    }

    /** The partitions taken offline with their failed directories (a snapshot). */
    public java.util.Set<TopicPartition> offlinePartitions() {
        return java.util.Set.copyOf(offlinePartitions);
    }

    /** What a request for a partition that is not served here is told. */
    public Errors notHostedError(TopicPartition tp) {
        return offlinePartitions.contains(tp) ? Errors.KAFKA_STORAGE_ERROR : Errors.UNKNOWN_TOPIC_OR_PARTITION;
    }

    private String notHostedMessage(TopicPartition tp) {
        return offlinePartitions.contains(tp) ? "The log directory of " + tp + " on broker " + brokerId + " failed"
            : "This server does not host " + tp;
    }

    /** Reports the I/O error of {@code what} on the partition's log to the log manager; returns what to throw. */
    private io.weir.common.errors.StorageException reportIoError(Partition partition, String what,
                                                                 UncheckedIOException e) {
        Path dir = partition.log().dir().getParent();
        logManager.reportFailure(dir, "an I/O error in " + what + " of " + partition.topicPartition(), e);
        return new io.weir.common.errors.StorageException("the log directory " + dir + " of "
            + partition.topicPartition() + " failed", e);
    }

    /**
     * Takes the partitions of a failed log directory offline (Kafka's {@code handleLogDirFailure}): each stops
     * being served (its fetcher stops; a leader resigns, its parked requests answer), is remembered as offline
     * (KAFKA_STORAGE_ERROR to Produce, Fetch, ListOffsets, OffsetForLeaderEpoch; never hosted again until a
     * restart), and then the log manager closes their logs; a move of a replica into or out of the directory is
     * abandoned ({@link LogDirMover#logDirFailed}). Returns the partitions taken offline.
     */
    public java.util.Set<TopicPartition> handleLogDirFailure(Path logDir) {
        java.util.Set<TopicPartition> out = new java.util.TreeSet<>(
            java.util.Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        synchronized (stateChangeLock) {
            ReplicaFetcherManager fm = fetcherManager;
            for (Partition p : List.copyOf(partitions.values())) {
                if (!p.log().dir().getParent().equals(logDir)) {
                    continue;
                }
                TopicPartition tp = p.topicPartition();
                offlinePartitions.add(tp);
                out.add(tp);
                if (fm != null) {
                    fm.removePartition(tp);
                }
                partitions.remove(tp, p);
                boolean led = p.isLeader();
                p.resign();
                failHighWatermarkWaiters(tp, p);
                if (led) {
                    leadershipListeners.forEach(listener -> listener.onResign(tp, -1));
                }
            }
            for (TopicPartition tp : logManager.takeOffline(logDir)) {
                offlinePartitions.add(tp); // a log no partition was hosted over yet
                out.add(tp);
            }
        }
        // moves into or out of the directory end; a replica whose copy was in it keeps serving here
        logDirMover.logDirFailed(logDir);
        for (TopicPartition tp : out) {
            highWatermarkListener.accept(tp);
        }
        log.error("broker {}: the log directory {} failed; its {} partitions are offline here: {}", brokerId, logDir,
            out.size(), out);
        return out;
    }

    /** Every hosted partition (a snapshot). */
    public java.util.Collection<Partition> partitions() {
        return List.copyOf(partitions.values());
    }

    public LogManager logManager() {
        return logManager;
    }

    public Time time() {
        return time;
    }
}
