package io.weir.producer.internals;

import io.weir.common.TopicPartition;
import io.weir.common.record.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Owns the idempotent producer's identity (producer id, epoch) and its per-partition sequences.
 *
 * <p>Rules that keep each partition's records exactly once and in order:
 * <ul>
 *   <li>A batch gets its base sequence when first drained (a batch that expires unsent leaves no
 *       gap); {@code nextSequence} advances by its record count.</li>
 *   <li>The batches of a partition in flight are kept in sequence order. A batch coming back for a
 *       retry keeps its sequence and is re-sent only when it is the next one the broker can accept:
 *       right after the last batch in flight, or after the last acknowledged one when nothing is in
 *       flight. So retries go oldest first and never overtake.</li>
 *   <li>A sequenced batch that ends without being acknowledged (expired, fatal error) may leave a
 *       gap the broker would reject forever: the producer then waits for its in-flight requests,
 *       gets a new producer id (InitProducerId) and starts every partition again at sequence 0 —
 *       Kafka's epoch bump for idempotent producers, done by a new id because Weir's broker hands
 *       out a new id per InitProducerId without a transactional id.</li>
 * </ul>
 *
 * <p>Not thread-safe: used only by the sender thread. {@link #producerId()} is volatile for metrics.
 */
public final class IdempotenceManager {
    private static final Logger log = LoggerFactory.getLogger(IdempotenceManager.class);

    private static final class PartitionState {
        int nextSequence;
        int lastAckedSequence = -1;
        final ArrayDeque<ProducerBatch> inFlight = new ArrayDeque<>();
    }

    private final boolean transactional;
    private volatile long producerId = RecordBatch.NO_PRODUCER_ID;
    private short epoch = RecordBatch.NO_PRODUCER_EPOCH;
    private boolean resetNeeded;
    private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
    private int inFlightBatches;

    /** An idempotent producer without transactions. */
    public IdempotenceManager() {
        this(false);
    }

    /** @param transactional whether batches are stamped as transactional (a producer with a transactional.id) */
    public IdempotenceManager(boolean transactional) {
        this.transactional = transactional;
    }

    public long producerId() {
        return producerId;
    }

    public short epoch() {
        return epoch;
    }

    /** True when the producer needs an id: at start, or after a reset was requested and nothing is in flight. */
    public boolean needsProducerId() {
        return producerId == RecordBatch.NO_PRODUCER_ID || (resetNeeded && inFlightBatches == 0);
    }

    public boolean hasProducerId() {
        return producerId != RecordBatch.NO_PRODUCER_ID && !resetNeeded;
    }

    /** Installs a new identity; every partition starts again at sequence 0. */
    public void setProducerId(long pid, short newEpoch) {
        if (producerId != RecordBatch.NO_PRODUCER_ID) {
            log.info("Producer id reset from {} (epoch {}) to {} (epoch {})", producerId, epoch, pid, newEpoch);
        }
        producerId = pid;
        epoch = newEpoch;
        resetNeeded = false;
        partitions.clear();
        inFlightBatches = 0;
    }

    /** Asks for a new producer id once the in-flight requests are settled. */
    public void requestReset(String why) {
        if (!resetNeeded) {
            log.warn("Resetting the producer id after: {}", why);
        }
        resetNeeded = true;
    }

    private PartitionState state(TopicPartition tp) {
        return partitions.computeIfAbsent(tp, k -> new PartitionState());
    }

    private boolean isCurrent(ProducerBatch b) {
        return b.hasSequence() && b.producerId == producerId && b.producerEpoch == epoch;
    }

    /** Whether the head batch of a partition may be drained now (see the class rules). */
    public boolean canDrain(ProducerBatch b) {
        if (!hasProducerId()) {
            return false;
        }
        PartitionState s = state(b.tp);
        if (!isCurrent(b)) {
            // a batch that already has a sequence of an old identity waits for its old in-flight siblings
            return !b.hasSequence() || s.inFlight.isEmpty();
        }
        if (s.inFlight.isEmpty()) {
            if (b.baseSequence == s.lastAckedSequence + 1) {
                return true;
            }
            requestReset(b.tp + ": retried batch at sequence " + b.baseSequence + " but the last acknowledged is "
                + s.lastAckedSequence);
            return false;
        }
        return b.baseSequence == s.inFlight.peekLast().lastSequence() + 1;
    }

    /** Stamps a drained batch with its sequence (first drain, or first drain under a new id) and tracks it. */
    public void onDrain(ProducerBatch b) {
        PartitionState s = state(b.tp);
        if (!isCurrent(b)) {
            b.stamp(producerId, epoch, s.nextSequence, transactional);
            s.nextSequence += b.recordCount();
        }
        s.inFlight.addLast(b);
        inFlightBatches++;
    }

    private void removeInFlight(ProducerBatch b) {
        PartitionState s = partitions.get(b.tp);
        if (s != null && s.inFlight.remove(b)) {
            inFlightBatches--;
        }
    }

    public void onAcknowledged(ProducerBatch b) {
        removeInFlight(b);
        if (isCurrent(b)) {
            PartitionState s = state(b.tp);
            s.lastAckedSequence = Math.max(s.lastAckedSequence, b.lastSequence());
        }
    }

    /**
     * Takes the batches of {@code acked}'s partition and identity that were sent before it and are
     * still unresolved (their request failed or timed out but the failure is not processed yet). The
     * broker appends a producer's batches only in sequence, so its acceptance of {@code acked}
     * proves every earlier sequence was written: these must be completed as written, before
     * {@code acked}, never sent again (a resend under a new producer id would duplicate them).
     */
    public java.util.List<ProducerBatch> takeOlderInFlight(ProducerBatch acked) {
        java.util.List<ProducerBatch> older = new java.util.ArrayList<>();
        PartitionState s = partitions.get(acked.tp);
        if (s == null || !isCurrent(acked)) {
            return older;
        }
        for (java.util.Iterator<ProducerBatch> it = s.inFlight.iterator(); it.hasNext(); ) {
            ProducerBatch b = it.next();
            if (b != acked && isCurrent(b) && b.baseSequence < acked.baseSequence) {
                it.remove();
                inFlightBatches--;
                older.add(b);
            }
        }
        return older;
    }

    /** Whether {@code b} carries the current identity (so its sequences mean something now). */
    public boolean isCurrentIdentity(ProducerBatch b) {
        return isCurrent(b);
    }

    /** The batch goes back to the queue with its sequence. */
    public void onRetry(ProducerBatch b) {
        removeInFlight(b);
    }

    /** The batch ends unacknowledged: its sequence may be a gap, so the producer id must be reset. */
    public void onFailed(ProducerBatch b, String why) {
        removeInFlight(b);
        if (isCurrent(b)) {
            requestReset(b.tp + " batch at sequence " + b.baseSequence + " failed: " + why);
        }
    }

    /** A batch taken off the queue without being sent (expired) whose sequence was assigned in an earlier attempt. */
    public void onExpiredQueued(ProducerBatch b) {
        if (isCurrent(b)) {
            requestReset(b.tp + " batch at sequence " + b.baseSequence + " expired before it was acknowledged");
        }
    }

    /**
     * Whether OUT_OF_ORDER_SEQUENCE_NUMBER for {@code b} is only the echo of an earlier batch that
     * has not been written yet (retry it), rather than a real gap at the broker.
     */
    public boolean isOutOfOrderRetriable(ProducerBatch b) {
        if (!isCurrent(b) || resetNeeded) {
            return true;
        }
        return b.baseSequence != state(b.tp).lastAckedSequence + 1;
    }

    public int inFlightBatches() {
        return inFlightBatches;
    }
}
