package io.weir.consumer.internals;

import io.weir.common.TopicPartition;
import io.weir.consumer.ConsumerRebalanceListener;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What the consumer reads and where it is: the subscription (topics, a pattern, or a manual
 * assignment), the assigned partitions, and per partition the position (offset of the next record to
 * hand out), a pending offset reset, the paused flag and the last seen watermarks.
 *
 * <p>Not thread-safe: only the thread that calls the consumer touches it (the consumer enforces
 * single-threaded use); background threads never read it.
 */
public final class SubscriptionState {
    public enum Type { NONE, AUTO_TOPICS, AUTO_PATTERN, USER_ASSIGNED }

    /** How a partition without a valid position gets one. */
    public enum ResetStrategy { EARLIEST, LATEST, NONE }

    /** One assigned partition. */
    public static final class PartitionState {
        Long position; // null: unknown (committed offset or reset needed)
        Integer positionEpoch;
        ResetStrategy reset; // non-null: ListOffsets pending
        boolean paused;
        long highWatermark = -1;
        long lastStableOffset = -1;
        long logStartOffset = -1;

        public Long position() {
            return position;
        }
    }

    private final ResetStrategy defaultReset;
    private Type type = Type.NONE;
    private Set<String> subscription = Set.of();
    private Pattern pattern;
    private ConsumerRebalanceListener listener = ConsumerRebalanceListener.NO_OP;
    private final LinkedHashMap<TopicPartition, PartitionState> assignment = new LinkedHashMap<>();

    public SubscriptionState(ResetStrategy defaultReset) {
        this.defaultReset = defaultReset;
    }

    public ResetStrategy defaultReset() {
        return defaultReset;
    }

    private void setType(Type t) {
        if (type != Type.NONE && type != t) {
            throw new IllegalStateException("Subscription to topics, partitions and pattern are mutually exclusive");
        }
        type = t;
    }

    public Type type() {
        return type;
    }

    /** Whether the group assigns partitions (topic or pattern subscription). */
    public boolean hasAutoAssignment() {
        return type == Type.AUTO_TOPICS || type == Type.AUTO_PATTERN;
    }

    /** Subscribes to topics; returns whether the set changed. */
    public boolean subscribe(Set<String> topics, ConsumerRebalanceListener listener) {
        setType(Type.AUTO_TOPICS);
        this.listener = listener;
        boolean changed = !topics.equals(subscription);
        subscription = Set.copyOf(topics);
        return changed;
    }

    public void subscribe(Pattern pattern, ConsumerRebalanceListener listener) {
        setType(Type.AUTO_PATTERN);
        this.listener = listener;
        this.pattern = pattern;
    }

    /** For a pattern subscription: sets the matching topics; returns whether they changed. */
    public boolean changeSubscription(Set<String> topics) {
        boolean changed = !topics.equals(subscription);
        subscription = Set.copyOf(topics);
        return changed;
    }

    public Pattern pattern() {
        return pattern;
    }

    public Set<String> subscription() {
        return hasAutoAssignment() ? new TreeSet<>(subscription) : Set.of();
    }

    public ConsumerRebalanceListener listener() {
        return listener;
    }

    /** Manual assignment: keeps the state of partitions that stay. Returns whether it changed. */
    public boolean assignFromUser(Collection<TopicPartition> partitions) {
        setType(Type.USER_ASSIGNED);
        return setAssignment(partitions);
    }

    /** A group assignment: keeps the state of partitions that stay. */
    public boolean assignFromSubscribed(Collection<TopicPartition> partitions) {
        if (!hasAutoAssignment()) {
            throw new IllegalStateException("not subscribed");
        }
        return setAssignment(partitions);
    }

    private boolean setAssignment(Collection<TopicPartition> partitions) {
        Set<TopicPartition> next = new LinkedHashSet<>(partitions);
        if (next.equals(assignment.keySet())) {
            return false;
        }
        assignment.keySet().retainAll(next);
        for (TopicPartition tp : next) {
            assignment.computeIfAbsent(tp, k -> new PartitionState());
        }
        return true;
    }

    public void unsubscribe() {
        type = Type.NONE;
        subscription = Set.of();
        pattern = null;
        listener = ConsumerRebalanceListener.NO_OP;
        assignment.clear();
    }

    public Set<TopicPartition> assignedPartitions() {
        return new LinkedHashSet<>(assignment.keySet());
    }

    public boolean isAssigned(TopicPartition tp) {
        return assignment.containsKey(tp);
    }

    public Map<TopicPartition, PartitionState> states() {
        return assignment;
    }

    private PartitionState state(TopicPartition tp) {
        PartitionState s = assignment.get(tp);
        if (s == null) {
            throw new IllegalStateException("No current assignment for partition " + tp);
        }
        return s;
    }

    public void seek(TopicPartition tp, long offset, Integer epoch) {
        PartitionState s = state(tp);
        s.position = offset;
        s.positionEpoch = epoch;
        s.reset = null;
    }

    public void requestReset(TopicPartition tp, ResetStrategy strategy) {
        PartitionState s = state(tp);
        s.position = null;
        s.reset = strategy;
    }

    /** The position, or null if it is not known yet. */
    public Long position(TopicPartition tp) {
        return state(tp).position;
    }

    public boolean hasValidPosition(TopicPartition tp) {
        PartitionState s = assignment.get(tp);
        return s != null && s.position != null && s.reset == null;
    }

    public void pause(TopicPartition tp) {
        state(tp).paused = true;
    }

    public void resume(TopicPartition tp) {
        state(tp).paused = false;
    }

    public boolean isPaused(TopicPartition tp) {
        PartitionState s = assignment.get(tp);
        return s != null && s.paused;
    }

    public Set<TopicPartition> pausedPartitions() {
        Set<TopicPartition> out = new LinkedHashSet<>();
        assignment.forEach((tp, s) -> {
            if (s.paused) {
                out.add(tp);
            }
        });
        return out;
    }

    /** Fetchable: assigned, not paused, with a valid position. */
    public boolean isFetchable(TopicPartition tp) {
        PartitionState s = assignment.get(tp);
        return s != null && !s.paused && s.position != null && s.reset == null;
    }

    /** Partitions that need their committed offset or a reset before they can be fetched. */
    public Set<TopicPartition> missingPositions() {
        Set<TopicPartition> out = new LinkedHashSet<>();
        assignment.forEach((tp, s) -> {
            if (s.position == null && s.reset == null) {
                out.add(tp);
            }
        });
        return out;
    }

    public Map<TopicPartition, ResetStrategy> resetsPending() {
        Map<TopicPartition, ResetStrategy> out = new LinkedHashMap<>();
        assignment.forEach((tp, s) -> {
            if (s.reset != null) {
                out.put(tp, s.reset);
            }
        });
        return out;
    }

    /** Positions of the partitions that have one (what a commit of all consumed records sends). */
    public Map<TopicPartition, Long> allConsumed() {
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        assignment.forEach((tp, s) -> {
            if (s.position != null) {
                out.put(tp, s.position);
            }
        });
        return out;
    }

    /** {@link #allConsumed()} as commit offsets carrying the epoch of the last consumed batch. */
    public Map<TopicPartition, io.weir.consumer.OffsetAndMetadata> allConsumedAsOffsets() {
        Map<TopicPartition, io.weir.consumer.OffsetAndMetadata> out = new LinkedHashMap<>();
        assignment.forEach((tp, s) -> {
            if (s.position != null) {
                out.put(tp, new io.weir.consumer.OffsetAndMetadata(s.position,
                    java.util.Optional.ofNullable(s.positionEpoch), ""));
            }
        });
        return out;
    }

    public Integer positionEpoch(TopicPartition tp) {
        PartitionState s = assignment.get(tp);
        return s == null ? null : s.positionEpoch;
    }

    void updateWatermarks(TopicPartition tp, long hw, long lso, long logStart) {
        PartitionState s = assignment.get(tp);
        if (s != null) {
            s.highWatermark = hw;
            s.lastStableOffset = lso;
            s.logStartOffset = logStart;
        }
    }

    void advance(TopicPartition tp, long position, Integer epoch) {
        PartitionState s = assignment.get(tp);
        if (s != null) {
            s.position = position;
            if (epoch != null) {
                s.positionEpoch = epoch;
            }
        }
    }
}
