package io.weir.broker.server;

import io.weir.broker.metadata.PartitionState;
import io.weir.common.TopicPartition;
import io.weir.log.Log;
import io.weir.log.LogOffsetMetadata;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * One partition hosted by this broker: its log and the replica state around it — whether this
 * replica leads or follows, the leader epoch, the ISR as the controller last committed it, and (on
 * the leader) every follower's log end, from which the high watermark follows: the smallest log end
 * of the ISR. A partition that has no controller state yet and is assigned to this broker alone
 * leads at epoch 0 with itself as the ISR, so a single broker's high watermark is the log end after
 * each append, as before replication.
 *
 * <p><b>ISR changes</b> (Kafka's AlterPartition, KIP-497): at most one is pending at a time; while
 * it is, the high watermark is computed over the union of the old and the proposed ISR (the
 * "maximal" ISR), so a shrink commits nothing until the controller confirmed it, and an expansion
 * already holds the high watermark back for the replica being added.
 *
 * <p>Thread-safe. Leadership changes hold the write side of {@link #leaderIsrLock}; appends and
 * follower truncation hold the read side (so no append of an old role overlaps a role change). The swap of
 * the log for its copy in another log directory ({@link #replaceLog}) holds the write side too, so callers
 * that append or truncate read {@link #log()} again under the read side. The
 * follower states, the pending ISR change and the high watermark are guarded by {@code this}; the
 * monitor is never held while doing I/O or calling out. Role fields are volatile for lock-free reads.
 */
public final class Partition {
    /** What this replica is for the partition. */
    public enum Role { LEADER, FOLLOWER, NONE }

    /** One follower as the leader sees it. Guarded by the partition's monitor. */
    private static final class FollowerState {
        LogOffsetMetadata logEndOffset = new LogOffsetMetadata(-1);
        long logStartOffset = -1;
        long lastCaughtUpTimeMs;
        long lastFetchLeaderLogEndOffset = -1;
        long lastFetchTimeMs;
        /** The broker epoch the follower's last fetch named (-1: none, a fetch before v15). */
        long brokerEpoch = -1;
    }

    /**
     * An ISR change this leader asked the controller for: the epochs it named and the ISR it proposed.
     * One the controller refused for a stale epoch stays pending (no other change is proposed) until
     * newer metadata arrives.
     */
    public record IsrChange(TopicPartition topicPartition, int leaderEpoch, int partitionEpoch, List<Integer> newIsr) {
    }

    private final TopicPartition topicPartition;
    private final java.util.UUID topicId;
    /** Replaced only by {@link #replaceLog}, under the write side of {@link #leaderIsrLock}. */
    private volatile Log log;
    private final int localBrokerId;
    private final ReentrantReadWriteLock leaderIsrLock = new ReentrantReadWriteLock();
    private volatile int minInsyncReplicas;
    /** The topic's {@code compression.type}: the codec appended batches are stored in. */
    private volatile TopicConfigs.Compression compression = TopicConfigs.Compression.PRODUCER;

    // written under the write lock (and this), read without locks
    private volatile Role role = Role.NONE;
    private volatile int leaderId = -1;
    private volatile int leaderEpoch = -1;
    private volatile int partitionEpoch = -1;
    private volatile int controllerEpoch = -1;
    private volatile boolean stateApplied;
    private volatile List<Integer> replicas = List.of();
    private volatile List<Integer> isr = List.of();
    private volatile List<Integer> maximalIsr = List.of();
    private volatile long leaderEpochStartOffset;

    // guarded by this
    private final Map<Integer, FollowerState> followers = new HashMap<>();
    private IsrChange pendingIsrChange;
    /** After a change failed for another reason than stale epochs, none is proposed before this time. */
    private long isrChangeRetryAtMs;
    /** The high watermark with its segment and byte position, so consumer reads stop there without a scan. */
    private volatile LogOffsetMetadata highWatermark;

    /**
     * A hosted partition with no role yet; {@code initialHighWatermark} is the checkpointed one (capped
     * at the log end), or -1 for none.
     */
    Partition(TopicPartition topicPartition, java.util.UUID topicId, Log log, int localBrokerId,
              int minInsyncReplicas, long initialHighWatermark) {
        this.topicPartition = topicPartition;
        this.topicId = topicId;
        this.log = log;
        this.localBrokerId = localBrokerId;
        this.minInsyncReplicas = minInsyncReplicas;
        long hw = Math.max(Math.min(initialHighWatermark, log.logEndOffset()), log.logStartOffset());
        this.highWatermark = offsetMetadata(hw);
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public java.util.UUID topicId() {
        return topicId;
    }

    public Log log() {
        return log;
    }

    public Role role() {
        return role;
    }

    public boolean isLeader() {
        return role == Role.LEADER;
    }

    /** The leader's broker id as last applied (-1: none known). */
    public int leaderId() {
        return leaderId;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    /** The partition epoch: the version of the state znode last applied. */
    public int partitionEpoch() {
        return partitionEpoch;
    }

    public int controllerEpoch() {
        return controllerEpoch;
    }

    /** Whether a controller-written state was applied (else the partition leads alone, or waits). */
    public boolean hasAppliedState() {
        return stateApplied;
    }

    public List<Integer> replicas() {
        return replicas;
    }

    /** The ISR as the controller last committed it. */
    public List<Integer> isr() {
        return isr;
    }

    /** The committed ISR plus any replica a pending expansion adds: what the high watermark waits for. */
    public List<Integer> maximalIsr() {
        return maximalIsr;
    }

    public int minInsyncReplicas() {
        return minInsyncReplicas;
    }

    void setMinInsyncReplicas(int n) {
        this.minInsyncReplicas = n;
    }

    /** The codec this partition stores batches in (or the producer's). */
    public TopicConfigs.Compression compression() {
        return compression;
    }

    void setCompression(TopicConfigs.Compression compression) {
        this.compression = compression;
    }

    /** Replicas in the committed ISR (what min.insync.replicas is checked against). */
    public int inSyncReplicaCount() {
        return isr.size();
    }

    public long highWatermark() {
        return highWatermark.messageOffset();
    }

    /** The high watermark and where it sits in the log (segment base offset and byte position). */
    public LogOffsetMetadata highWatermarkMetadata() {
        return highWatermark;
    }

    /** The last stable offset: the first offset of an open transaction, else the high watermark. */
    public long lastStableOffset() {
        long hw = highWatermark.messageOffset();
        java.util.OptionalLong unstable = log.firstUnstableOffset();
        return unstable.isPresent() ? Math.min(unstable.getAsLong(), hw) : hw;
    }

    /** Where the current leader epoch began in this log (the leader's log end when it took over). */
    public long leaderEpochStartOffset() {
        return leaderEpochStartOffset;
    }

    /** The offset as log metadata, with its position when it is the log end (else located in the log if it can be). */
    private LogOffsetMetadata offsetMetadata(long offset) {
        LogOffsetMetadata end = log.logEndOffsetMetadata();
        if (offset == end.messageOffset()) {
            return end;
        }
        try {
            LogOffsetMetadata at = log.read(offset, 1, end, false).fetchOffsetMetadata();
            return at.messageOffset() == offset ? at : new LogOffsetMetadata(offset);
        } catch (RuntimeException e) {
            return new LogOffsetMetadata(offset);
        }
    }

    // ------------------------------------------------------------------------------------ roles

    /** Runs {@code action} under the read side of the leadership lock: no role change overlaps it. */
    <T> T underRoleReadLock(Supplier<T> action) {
        leaderIsrLock.readLock().lock();
        try {
            return action.get();
        } finally {
            leaderIsrLock.readLock().unlock();
        }
    }

    /**
     * Runs {@code action} under the write side of the leadership lock: no append, truncation or role change
     * overlaps it (the swap of a moved replica's log).
     */
    <T> T underRoleWriteLock(Supplier<T> action) {
        leaderIsrLock.writeLock().lock();
        try {
            return action.get();
        } finally {
            leaderIsrLock.writeLock().unlock();
        }
    }

    /**
     * Serves this partition from {@code newLog} from now on: the complete copy of the log in another log
     * directory (AlterReplicaLogDirs), holding the same offsets, epochs and producer state. The caller holds
     * the write side of the leadership lock ({@link #underRoleWriteLock}), so no append or truncation spans
     * the swap. Positions kept for the old log's files (the high watermark's, followers' log ends) are
     * located again in the new one.
     */
    void replaceLog(Log newLog) {
        if (!leaderIsrLock.isWriteLockedByCurrentThread()) {
            throw new IllegalStateException("replaceLog runs under the role write lock");
        }
        if (newLog.logEndOffset() != log.logEndOffset()) {
            throw new IllegalStateException(topicPartition + ": the new log ends at " + newLog.logEndOffset()
                + ", the current one at " + log.logEndOffset());
        }
        log = newLog;
        LogOffsetMetadata hw = offsetMetadata(highWatermark.messageOffset()); // reads the log: not under the monitor
        synchronized (this) {
            if (highWatermark.messageOffset() == hw.messageOffset()) {
                highWatermark = hw;
            }
            for (FollowerState f : followers.values()) {
                if (f.logEndOffset.messageOffset() >= 0) {
                    f.logEndOffset = new LogOffsetMetadata(f.logEndOffset.messageOffset());
                }
            }
        }
    }

    /**
     * Leads alone at epoch 0 with itself as the ISR: a partition assigned to this broker only, before (or
     * without) a controller state — the single-broker behaviour.
     */
    void leadAlone() {
        leaderIsrLock.writeLock().lock();
        try {
            log.assignLeaderEpoch(0);
            synchronized (this) {
                role = Role.LEADER;
                leaderId = localBrokerId;
                leaderEpoch = 0;
                replicas = List.of(localBrokerId);
                isr = List.of(localBrokerId);
                maximalIsr = isr;
                leaderEpochStartOffset = log.logEndOffset();
                followers.clear();
                pendingIsrChange = null;
            }
        } finally {
            leaderIsrLock.writeLock().unlock();
        }
        maybeIncrementHighWatermark();
    }

    /**
     * Whether {@code state} is older than the one applied: an older controller epoch, an older leader
     * epoch, or the same leader epoch at an older (or the same) partition epoch.
     */
    boolean isStale(PartitionState state) {
        if (!stateApplied) {
            return false;
        }
        if (state.controllerEpoch() < controllerEpoch || state.leaderEpoch() < leaderEpoch) {
            return true;
        }
        return state.leaderEpoch() == leaderEpoch && state.zkVersion() <= partitionEpoch;
    }

    /** What applying a state changed, for the replica manager to act on. */
    enum Transition { BECAME_LEADER, BECAME_FOLLOWER, ISR_UPDATED, NONE }

    /**
     * Applies a controller state (not stale: the caller checked). The leader named here becomes leader
     * at the state's epoch (a new epoch opens at the log end; follower states reset) or, at the same
     * epoch, only takes the new ISR; another leader makes this replica its follower.
     */
    Transition applyState(List<Integer> assignedReplicas, PartitionState state, long nowMs) {
        boolean wasLeader = role == Role.LEADER;
        boolean sameTerm = role != Role.NONE && state.leaderEpoch() == leaderEpoch && state.leader() == leaderId;
        Transition t;
        leaderIsrLock.writeLock().lock();
        try {
            boolean lead = state.leader() == localBrokerId;
            if (lead && !(sameTerm && wasLeader)) {
                log.assignLeaderEpoch(state.leaderEpoch());
            }
            synchronized (this) {
                replicas = assignedReplicas.isEmpty() ? List.of(localBrokerId) : List.copyOf(assignedReplicas);
                isr = state.isr();
                maximalIsr = isr;
                pendingIsrChange = null;
                isrChangeRetryAtMs = 0;
                leaderId = state.leader();
                leaderEpoch = state.leaderEpoch();
                partitionEpoch = state.zkVersion();
                controllerEpoch = state.controllerEpoch();
                stateApplied = true;
                if (lead) {
                    role = Role.LEADER;
                    if (sameTerm && wasLeader) {
                        t = Transition.ISR_UPDATED;
                    } else {
                        leaderEpochStartOffset = log.logEndOffset();
                        followers.clear();
                        for (int r : replicas) {
                            if (r != localBrokerId) {
                                FollowerState f = new FollowerState();
                                // a follower in the ISR counts as caught up now; others must catch up first
                                f.lastCaughtUpTimeMs = isr.contains(r) ? nowMs : 0;
                                followers.put(r, f);
                            }
                        }
                        t = Transition.BECAME_LEADER;
                    }
                } else {
                    role = Role.FOLLOWER;
                    followers.clear();
                    t = sameTerm && !wasLeader ? Transition.ISR_UPDATED : Transition.BECAME_FOLLOWER;
                }
                for (int r : replicas) {
                    if (r != localBrokerId && role == Role.LEADER && !followers.containsKey(r)) {
                        followers.put(r, new FollowerState()); // added to the assignment at the same epoch
                    }
                }
            }
        } finally {
            leaderIsrLock.writeLock().unlock();
        }
        return t;
    }

    /** Stops leading or following (the partition is being deleted or no longer assigned here). */
    void resign() {
        leaderIsrLock.writeLock().lock();
        try {
            synchronized (this) {
                role = Role.NONE;
                followers.clear();
                pendingIsrChange = null;
            }
        } finally {
            leaderIsrLock.writeLock().unlock();
        }
    }

    // ------------------------------------------------------------------------------------ leader side

    /**
     * Moves the high watermark up to the smallest log end of the maximal ISR (this leader's own
     * included), keeping the log position of that offset; returns whether it moved. A follower of the
     * ISR whose log end is not known yet (just after this replica became leader) holds it back.
     */
    boolean maybeIncrementHighWatermark() {
        if (role != Role.LEADER) {
            return false;
        }
        LogOffsetMetadata min = log.logEndOffsetMetadata();
        synchronized (this) {
            if (role != Role.LEADER) {
                return false;
            }
            for (int id : maximalIsr) {
                if (id == localBrokerId) {
                    continue;
                }
                FollowerState f = followers.get(id);
                if (f == null || f.logEndOffset.messageOffset() < 0) {
                    return false;
                }
                if (f.logEndOffset.messageOffset() < min.messageOffset()) {
                    min = f.logEndOffset;
                }
            }
            LogOffsetMetadata old = highWatermark;
            if (min.messageOffset() > old.messageOffset()
                || (min.messageOffset() == old.messageOffset()
                    && old.relativePositionInSegment() == LogOffsetMetadata.UNKNOWN_POSITION
                    && min.relativePositionInSegment() != LogOffsetMetadata.UNKNOWN_POSITION)) {
                highWatermark = min;
                return min.messageOffset() > old.messageOffset();
            }
            return false;
        }
    }

    /** Whether {@code replicaId} is a follower this leader tracks (an assigned replica other than itself). */
    public boolean isAssignedFollower(int replicaId) {
        return replicaId != localBrokerId && replicas.contains(replicaId);
    }

    /** The outcome of recording a follower's fetch: whether the high watermark moved, and an ISR expansion to send. */
    record FollowerUpdate(boolean highWatermarkMoved, IsrChange expansion) {
    }

    /**
     * Records a follower's fetch (Kafka's updateFollowerFetchState): its fetch offset is its log end, and the
     * broker epoch it named is kept;
     * it was caught up at this fetch if it asked for the leader's log end, or at its previous fetch if it
     * now asks for at least what was the log end then. Then the high watermark may move, and a follower
     * outside the ISR that reached the high watermark and the current epoch's start is proposed for it.
     */
    FollowerUpdate updateFollowerFetchState(int replicaId, LogOffsetMetadata fetchOffset, long followerStartOffset,
                                            long fetchTimeMs, long leaderEndOffset, long brokerEpoch) {
        IsrChange expansion = null;
        synchronized (this) {
            FollowerState f = followers.get(replicaId);
            if (role != Role.LEADER || f == null) {
                return new FollowerUpdate(false, null);
            }
            long offset = fetchOffset.messageOffset();
            if (offset >= leaderEndOffset) {
                f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, fetchTimeMs);
            } else if (offset >= f.lastFetchLeaderLogEndOffset) {
                f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, f.lastFetchTimeMs);
            }
            f.logEndOffset = fetchOffset;
            f.logStartOffset = followerStartOffset;
            f.lastFetchLeaderLogEndOffset = leaderEndOffset;
            f.lastFetchTimeMs = fetchTimeMs;
            f.brokerEpoch = brokerEpoch;
            if (pendingIsrChange == null && fetchTimeMs >= isrChangeRetryAtMs && !maximalIsr.contains(replicaId)
                && offset >= highWatermark.messageOffset() && offset >= leaderEpochStartOffset) {
                List<Integer> proposed = new ArrayList<>(isr);
                proposed.add(replicaId);
                expansion = propose(proposed);
            }
        }
        boolean moved = maybeIncrementHighWatermark();
        return new FollowerUpdate(moved, expansion);
    }

    /** Records {@code proposed} as the pending change and returns it. Holds this. */
    private IsrChange propose(List<Integer> proposed) {
        IsrChange change = new IsrChange(topicPartition, leaderEpoch, partitionEpoch, List.copyOf(proposed));
        pendingIsrChange = change;
        Set<Integer> union = new LinkedHashSet<>(isr);
        union.addAll(proposed);
        maximalIsr = List.copyOf(union);
        return change;
    }

    /**
     * The ISR shrink this leader should ask for now: the followers of the committed ISR that have not
     * caught up within {@code lagTimeMaxMs}; null when none lag, a change is pending, or it does not lead.
     */
    IsrChange maybeShrinkIsr(long nowMs, long lagTimeMaxMs) {
        synchronized (this) {
            if (role != Role.LEADER || pendingIsrChange != null || nowMs < isrChangeRetryAtMs) {
                return null;
            }
            List<Integer> keep = new ArrayList<>(isr.size());
            for (int id : isr) {
                FollowerState f = followers.get(id);
                if (id == localBrokerId || (f != null && nowMs - f.lastCaughtUpTimeMs <= lagTimeMaxMs)) {
                    keep.add(id);
                }
            }
            if (keep.size() == isr.size()) {
                return null;
            }
            return propose(keep);
        }
    }

    /**
     * The controller committed {@code change} as {@code state}: the ISR and partition epoch move on
     * (unless newer metadata got here first). Returns whether the high watermark moved.
     */
    boolean onIsrChangeCommitted(IsrChange change, PartitionState state) {
        leaderIsrLock.writeLock().lock();
        try {
            synchronized (this) {
                if (pendingIsrChange != change || role != Role.LEADER || leaderEpoch != change.leaderEpoch()) {
                    return false;
                }
                pendingIsrChange = null;
                if (state.zkVersion() > partitionEpoch) {
                    isr = state.isr();
                    partitionEpoch = state.zkVersion();
                    controllerEpoch = Math.max(controllerEpoch, state.controllerEpoch());
                }
                maximalIsr = isr;
            }
        } finally {
            leaderIsrLock.writeLock().unlock();
        }
        return maybeIncrementHighWatermark();
    }

    /**
     * The controller refused or failed {@code change}. A stale-epoch refusal keeps it pending until newer
     * metadata arrives (nothing else is proposed meanwhile); any other failure drops it, and the next change
     * is proposed no sooner than {@code retryAtMs}.
     */
    void onIsrChangeFailed(IsrChange change, boolean staleEpoch, long retryAtMs) {
        synchronized (this) {
            if (pendingIsrChange != change) {
                return;
            }
            if (!staleEpoch) {
                pendingIsrChange = null;
                maximalIsr = isr;
                isrChangeRetryAtMs = retryAtMs;
            }
        }
    }

    /** The pending ISR change, or null (tests). */
    public synchronized IsrChange pendingIsrChange() {
        return pendingIsrChange;
    }

    // ------------------------------------------------------------------------------------ follower side

    /**
     * Sets this follower's high watermark from its leader's: the leader's, capped at this log's end,
     * never moving back. Returns whether it moved.
     */
    boolean updateFollowerHighWatermark(long leaderHighWatermark) {
        long target = Math.min(leaderHighWatermark, log.logEndOffset());
        synchronized (this) {
            if (role != Role.FOLLOWER || target <= highWatermark.messageOffset()) {
                return false;
            }
        }
        LogOffsetMetadata at = offsetMetadata(target);
        synchronized (this) {
            if (target <= highWatermark.messageOffset()) {
                return false;
            }
            highWatermark = at;
            return true;
        }
    }

    /** Caps the high watermark at the log end after a truncation. */
    void capHighWatermarkAtLogEnd() {
        LogOffsetMetadata end = log.logEndOffsetMetadata();
        synchronized (this) {
            if (highWatermark.messageOffset() > end.messageOffset()) {
                highWatermark = end;
            }
        }
    }

    /** Sets the high watermark to {@code offset} (a follower's log restarted there). */
    void resetHighWatermark(long offset) {
        LogOffsetMetadata at = offsetMetadata(offset);
        synchronized (this) {
            highWatermark = at;
        }
    }

    /** The broker epoch the follower's last recorded fetch named (tests and diagnostics); -1 none or unknown. */
    public synchronized long followerBrokerEpoch(int replicaId) {
        FollowerState f = followers.get(replicaId);
        return f == null ? -1 : f.brokerEpoch;
    }

    /** The follower's log end as the leader last saw it (tests and diagnostics); -1 unknown. */
    public synchronized long followerLogEndOffset(int replicaId) {
        FollowerState f = followers.get(replicaId);
        return f == null ? -1 : f.logEndOffset.messageOffset();
    }

    @Override
    public String toString() {
        return "Partition(" + topicPartition + ", " + role + ", leader " + leaderId + " epoch " + leaderEpoch
            + ", isr " + isr + ", hw " + highWatermark.messageOffset() + ")";
    }
}
