package io.weir.producer.internals;

import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.Header;
import io.weir.producer.Callback;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.Node;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Per-partition queues of {@link ProducerBatch}es between {@code send()} and the {@link Sender}.
 *
 * <p>A record goes into the last batch of its partition's deque if it fits under
 * {@code batch.size}, else into a new batch built in a buffer taken from the {@link BufferPool}
 * (blocking, and allocating when no pooled buffer is free, outside the deque lock); the buffer goes
 * back to the pool when the batch is done. A deque's head is ready when it is full,
 * has lingered {@code linger.ms}, is being flushed, the producer is closing, or memory is short.
 *
 * <p>Locking: each deque is guarded by its own monitor, held only for the append or poll itself —
 * no allocation of pool memory, no clock read, no blocking under it. The sender thread alone drains,
 * re-enqueues and expires. Thread-safe.
 */
public final class RecordAccumulator {
    private final int batchSize;
    private final CompressionType compression;
    private final int compressionLevel;
    private final long lingerMs;
    private final long retryBackoffMs;
    private final long deliveryTimeoutMs;
    private final BufferPool pool;
    private final ConcurrentMap<TopicPartition, Deque<ProducerBatch>> batches = new ConcurrentHashMap<>();
    private final Set<ProducerBatch> incomplete = ConcurrentHashMap.newKeySet();
    private final AtomicInteger flushesInProgress = new AtomicInteger();
    private final AtomicInteger appendsInProgress = new AtomicInteger();
    /**
     * A lower bound of the creation time of every deque's head ({@link Long#MAX_VALUE}: none queued), so
     * the sender's {@link #expire} and {@link #nextExpiryMs} need not look at every deque on every loop.
     * Lowered (atomically) whenever a batch enters a deque; set to the exact minimum by each scan in
     * {@link #expire}, which happens only once the bound's deadline has come. Taking batches out only leaves
     * it low (a deque's batches are in creation order, so the next head is no older): at worst one scan
     * that expires nothing.
     */
    private final AtomicLong earliestHeadCreatedMs = new AtomicLong(Long.MAX_VALUE);
    private volatile boolean closed;

    /** What {@link #append} did. */
    public record AppendResult(FutureRecordMetadata future, boolean batchIsFull, boolean newBatchCreated) {
    }

    /** Nodes with sendable data, when to look again, and topics whose leader is unknown. */
    public record ReadyCheckResult(Set<Integer> readyNodes, long nextReadyCheckDelayMs, Set<String> unknownLeaderTopics) {
    }

    public RecordAccumulator(int batchSize, CompressionType compression, int compressionLevel, long lingerMs,
                             long retryBackoffMs, long deliveryTimeoutMs, BufferPool pool) {
        this.batchSize = Math.max(1, batchSize);
        this.compression = compression;
        this.compressionLevel = compressionLevel;
        this.lingerMs = lingerMs;
        this.retryBackoffMs = retryBackoffMs;
        this.deliveryTimeoutMs = deliveryTimeoutMs;
        this.pool = pool;
    }

    /**
     * Told, after the deque lock is released, what an append did: the producer wakes its sender on either flag,
     * and its sticky partitioner moves on when the batch it filled can take no more.
     */
    @FunctionalInterface
    public interface AppendListener {
        /**
         * {@code appendedBytes}: what the record added to its batch (uncompressed). {@code batchBecameFull}: this
         * append filled its partition's open batch, which is now sendable by size (also when older batches of the
         * partition wait before it: a sticky partitioner must move on either way). {@code newBatchCreated}: the
         * record opened a new batch (the one before it, if any, is now sendable).
         */
        void appended(TopicPartition tp, int appendedBytes, boolean batchBecameFull, boolean newBatchCreated);
    }

    /**
     * Appends a record to its partition's open batch or a new one; may block up to
     * {@code maxBlockMs} for memory. {@code nowMs} is read once by the caller, outside any lock.
     */
    public AppendResult append(TopicPartition tp, long timestamp, byte[] key, byte[] value, Header[] headers,
                               Callback callback, long maxBlockMs, long nowMs) throws InterruptedException {
        boolean[] created = new boolean[1];
        FutureRecordMetadata f = append(tp, timestamp, key, value, headers, callback, maxBlockMs, nowMs,
            (p, bytes, becameFull, newBatch) -> created[0] = newBatch);
        boolean full;
        Deque<ProducerBatch> dq = deque(tp);
        synchronized (dq) {
            ProducerBatch last = dq.peekLast();
            full = dq.size() > 1 || last != null && last.isFull();
        }
        return new AppendResult(f, full, created[0]);
    }

    /**
     * {@link #append(TopicPartition, long, byte[], byte[], Header[], Callback, long, long)} for the send path:
     * returns the record's future and tells {@code listener} (outside the lock) what the append did, so a
     * send allocates no result object.
     *
     * <p>Kept small for the JIT: an append into the open batch is this method alone; opening a new batch
     * (pool memory, possibly blocking) is {@link #appendToNewBatch}, which the hot path rarely calls.
     */
    public FutureRecordMetadata append(TopicPartition tp, long timestamp, byte[] key, byte[] value, Header[] headers,
                                       Callback callback, long maxBlockMs, long nowMs, AppendListener listener)
        throws InterruptedException {
        int estimate = ProducerBatch.estimateRecordSize(key, value, headers);
        Deque<ProducerBatch> dq = deque(tp);
        FutureRecordMetadata f = null;
        boolean becameFull = false;
        int appendedBytes = 0;
        synchronized (dq) {
            // closed is checked under the lock that adds the record: once close() returned, a record either
            // is in a deque (the closing sender sees it) or its send threw
            checkOpen();
            ProducerBatch last = dq.peekLast();
            if (last != null) {
                boolean wasFull = last.isFull();
                f = last.tryAppend(timestamp, key, value, headers, callback, estimate);
                if (f != null) {
                    becameFull = !wasFull && last.isFull();
                    appendedBytes = last.lastRecordBytes();
                }
            }
        }
        if (f == null) {
            return appendToNewBatch(tp, dq, timestamp, key, value, headers, callback, estimate, maxBlockMs, nowMs,
                listener);
        }
        listener.appended(tp, appendedBytes, becameFull, false);
        return f;
    }

    /** The cold part of an append: the open batch is full (or there is none), so a new one is built. */
    private FutureRecordMetadata appendToNewBatch(TopicPartition tp, Deque<ProducerBatch> dq, long timestamp,
                                                  byte[] key, byte[] value, Header[] headers, Callback callback,
                                                  int estimate, long maxBlockMs, long nowMs, AppendListener listener)
        throws InterruptedException {
        // counted while this append holds no deque lock yet may still add a batch (a closing sender waits)
        appendsInProgress.incrementAndGet();
        try {
            // batch.size, from the pool's reusable buffers; an oversized record gets a dedicated buffer
            int size = Math.max(batchSize, estimate + io.weir.common.record.RecordBatch.HEADER_SIZE);
            ByteBuffer buffer = pool.allocate(size, maxBlockMs);
            boolean handedOver = false;
            boolean created = false;
            boolean becameFull = false;
            int appendedBytes;
            FutureRecordMetadata f;
            try {
                synchronized (dq) {
                    checkOpen();
                    // another thread may have opened a batch while we waited for memory
                    ProducerBatch last = dq.peekLast();
                    boolean wasFull = last == null || last.isFull();
                    f = last == null ? null : last.tryAppend(timestamp, key, value, headers, callback, estimate);
                    if (f != null) {
                        becameFull = !wasFull && last.isFull();
                        appendedBytes = last.lastRecordBytes();
                    } else {
                        // no allocation of record memory here: the builder writes into the pool's buffer
                        ProducerBatch b = new ProducerBatch(tp, compression, compressionLevel, batchSize, buffer, size,
                            nowMs);
                        f = b.tryAppend(timestamp, key, value, headers, callback, estimate);
                        appendedBytes = b.lastRecordBytes();
                        dq.addLast(b);
                        queued(b);
                        incomplete.add(b);
                        handedOver = true;
                        created = true;
                    }
                }
            } finally {
                if (!handedOver) {
                    pool.deallocate(buffer, size);
                }
            }
            listener.appended(tp, appendedBytes, becameFull, created);
            return f;
        } finally {
            appendsInProgress.decrementAndGet();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("Cannot send after the producer is closed.");
        }
    }

    private Deque<ProducerBatch> deque(TopicPartition tp) {
        Deque<ProducerBatch> d = batches.get(tp);
        return d != null ? d : batches.computeIfAbsent(tp, k -> new ArrayDeque<>());
    }

    /** Batches queued for a partition (for the adaptive partitioner). */
    public int queueSize(TopicPartition tp) {
        Deque<ProducerBatch> d = batches.get(tp);
        if (d == null) {
            return 0;
        }
        synchronized (d) {
            return d.size();
        }
    }

    /** Which leaders have a sendable batch, and how long until the next one may become sendable. */
    public ReadyCheckResult ready(Cluster cluster, long nowMs) {
        Set<Integer> ready = new HashSet<>();
        Set<String> unknown = null; // made only when a leader is missing (rare): one allocation less per loop
        long next = Long.MAX_VALUE;
        boolean exhausted = pool.hasWaiters();
        boolean flushing = flushesInProgress.get() > 0 || closed;
        for (Map.Entry<TopicPartition, Deque<ProducerBatch>> e : batches.entrySet()) {
            Deque<ProducerBatch> dq = e.getValue();
            ProducerBatch head;
            boolean full;
            synchronized (dq) {
                head = dq.peekFirst();
                if (head == null) {
                    continue;
                }
                full = dq.size() > 1 || head.isFull();
            }
            TopicPartition tp = e.getKey();
            Optional<Node> leader = cluster.leaderFor(tp.topic(), tp.partition());
            if (leader.isEmpty()) {
                if (unknown == null) {
                    unknown = new HashSet<>();
                }
                unknown.add(tp.topic());
                continue;
            }
            if (ready.contains(leader.get().id())) {
                continue;
            }
            long waitedMs = nowMs - (head.attempts > 0 ? head.lastAttemptMs : head.createdMs);
            long timeToWaitMs = head.attempts > 0 ? retryBackoffMs : lingerMs;
            // a retry waits out its backoff, unless the partition has a new leader since
            boolean sendable = head.attempts > 0 ? !inRetryBackoff(head, cluster, nowMs)
                : full || waitedMs >= timeToWaitMs || exhausted || flushing;
            if (sendable) {
                ready.add(leader.get().id());
            } else {
                next = Math.min(next, timeToWaitMs - waitedMs);
            }
        }
        return new ReadyCheckResult(ready, next, unknown == null ? Set.of() : unknown);
    }

    /**
     * Takes at most one batch per partition for each ready node, up to {@code maxRequestBytes} per
     * node (a single oversized batch still goes alone). {@code gate} may hold back a partition's
     * head (idempotence ordering); {@code onDrain} runs for each taken batch (sequence stamping), on
     * the sender thread.
     */
    public Map<Integer, List<ProducerBatch>> drain(Cluster cluster, Set<Integer> readyNodes, int maxRequestBytes,
                                                    long nowMs, Predicate<ProducerBatch> gate) {
        Map<Integer, List<ProducerBatch>> out = new HashMap<>();
        Map<Integer, Integer> sizes = new HashMap<>();
        for (Map.Entry<TopicPartition, Deque<ProducerBatch>> e : batches.entrySet()) {
            TopicPartition tp = e.getKey();
            Optional<Node> leader = cluster.leaderFor(tp.topic(), tp.partition());
            if (leader.isEmpty() || !readyNodes.contains(leader.get().id())) {
                continue;
            }
            int node = leader.get().id();
            Deque<ProducerBatch> dq = e.getValue();
            ProducerBatch b;
            synchronized (dq) {
                b = dq.peekFirst();
                if (b == null) {
                    continue;
                }
                if (inRetryBackoff(b, cluster, nowMs)) {
                    continue;
                }
                if (!gate.test(b)) {
                    continue;
                }
                int used = sizes.getOrDefault(node, 0);
                int size = b.sizeInBytes();
                if (used > 0 && used + size > maxRequestBytes) {
                    continue;
                }
                dq.pollFirst();
                sizes.put(node, used + size);
            }
            // appends reach a batch only through its deque, under the lock: once polled it is ours
            // alone, and compressing it happens outside the lock
            b.leaderEpochAtDrain = cluster.leaderEpochFor(tp.topic(), tp.partition());
            b.close();
            out.computeIfAbsent(node, k -> new ArrayList<>()).add(b);
        }
        return out;
    }

    /**
     * Whether a batch that failed before still waits out {@code retry.backoff.ms}: it does unless
     * metadata names a newer leader epoch than the one it was last drained with (the leader changed, so
     * there is nothing to wait for — and waiting on the old leader is what made failover slow).
     */
    private boolean inRetryBackoff(ProducerBatch b, Cluster cluster, long nowMs) {
        if (b.attempts == 0 || nowMs - b.lastAttemptMs >= retryBackoffMs) {
            return false;
        }
        int epoch = cluster.leaderEpochFor(b.tp.topic(), b.tp.partition());
        return b.leaderEpochAtDrain < 0 || epoch <= b.leaderEpochAtDrain;
    }

    /**
     * Puts a batch that will be retried back at the front of its deque, in sequence order behind
     * other retries with lower sequences, so the oldest goes first.
     */
    public void reenqueue(ProducerBatch b, long nowMs) {
        b.lastAttemptMs = nowMs;
        Deque<ProducerBatch> dq = deque(b.tp);
        queued(b); // before it is visible in the deque: a scan under way then sees one or the other
        synchronized (dq) {
            if (!b.hasSequence()) {
                dq.addFirst(b);
                return;
            }
            List<ProducerBatch> before = new ArrayList<>();
            while (!dq.isEmpty()) {
                ProducerBatch h = dq.peekFirst();
                if (h.hasSequence() && h.producerId == b.producerId && h.baseSequence < b.baseSequence) {
                    before.add(dq.pollFirst());
                } else {
                    break;
                }
            }
            dq.addFirst(b);
            for (int i = before.size() - 1; i >= 0; i--) {
                dq.addFirst(before.get(i));
            }
        }
    }

    /** Lowers {@link #earliestHeadCreatedMs} to cover {@code b}, which is entering a deque. */
    private void queued(ProducerBatch b) {
        long bound = earliestHeadCreatedMs.get();
        while (b.createdMs < bound && !earliestHeadCreatedMs.compareAndSet(bound, b.createdMs)) {
            bound = earliestHeadCreatedMs.get();
        }
    }

    /**
     * Removes and returns queued batches whose delivery timeout passed (from each deque's head). Looks at
     * the deques only once the earliest head may have expired (sender thread).
     */
    public List<ProducerBatch> expire(long nowMs) {
        long bound = earliestHeadCreatedMs.get();
        if (bound == Long.MAX_VALUE || nowMs - bound < deliveryTimeoutMs) {
            return List.of();
        }
        // reset first: a batch queued during the scan lowers the bound again, or is seen by the scan
        earliestHeadCreatedMs.set(Long.MAX_VALUE);
        long earliest = Long.MAX_VALUE;
        List<ProducerBatch> out = new ArrayList<>();
        for (Deque<ProducerBatch> dq : batches.values()) {
            synchronized (dq) {
                while (!dq.isEmpty() && nowMs - dq.peekFirst().createdMs >= deliveryTimeoutMs) {
                    out.add(dq.pollFirst());
                }
                ProducerBatch head = dq.peekFirst();
                if (head != null) {
                    earliest = Math.min(earliest, head.createdMs);
                }
            }
        }
        earliestHeadCreatedMs.accumulateAndGet(earliest, Math::min);
        return out;
    }

    /**
     * No queued batch's delivery deadline comes before this (Long.MAX_VALUE: nothing queued). Exact after
     * {@link #expire} scanned; batches drained since may leave it earlier than the real next deadline,
     * which costs the sender one early wake-up.
     */
    public long nextExpiryMs() {
        long bound = earliestHeadCreatedMs.get();
        return bound == Long.MAX_VALUE ? Long.MAX_VALUE : bound + deliveryTimeoutMs;
    }

    /** Whether {@code b} is past its delivery timeout. */
    public boolean isExpired(ProducerBatch b, long nowMs) {
        return nowMs - b.createdMs >= deliveryTimeoutMs;
    }

    public long deliveryTimeoutMs() {
        return deliveryTimeoutMs;
    }

    /**
     * Marks a batch done for good: its memory goes back to the pool, its buffer for reuse unless a
     * request that carries it is still out (then only the bytes: the buffer is left to the garbage
     * collector). Called once per batch.
     */
    public void deallocate(ProducerBatch b) {
        if (incomplete.remove(b)) {
            pool.deallocate(b.bufferReusable() ? b.buffer : null, b.reservedBytes);
        }
    }

    /** True if any batch is queued (not counting in-flight ones). */
    public boolean hasUndrained() {
        for (Deque<ProducerBatch> dq : batches.values()) {
            synchronized (dq) {
                if (!dq.isEmpty()) {
                    return true;
                }
            }
        }
        return false;
    }

    public boolean hasIncomplete() {
        return !incomplete.isEmpty();
    }

    public void beginFlush() {
        flushesInProgress.incrementAndGet();
    }

    /** Waits until every batch that existed when called is done. */
    public void awaitFlushCompletion() throws InterruptedException {
        try {
            for (ProducerBatch b : new ArrayList<>(incomplete)) {
                b.await();
            }
        } finally {
            flushesInProgress.decrementAndGet();
        }
    }

    /**
     * Waits up to {@code timeoutMs} until every batch that existed when called is done (the caller
     * called {@link #beginFlush()} first); false if the time ran out.
     */
    public boolean awaitFlushCompletion(long timeoutMs, io.weir.common.Time time) throws InterruptedException {
        long deadlineMs = time.milliseconds() + timeoutMs;
        try {
            for (ProducerBatch b : new ArrayList<>(incomplete)) {
                long remainingMs = deadlineMs - time.milliseconds();
                if (remainingMs <= 0 ? !b.isDone() : !b.await(remainingMs)) {
                    return false;
                }
            }
            return true;
        } finally {
            flushesInProgress.decrementAndGet();
        }
    }

    /** Stops appends; queued batches become sendable at once. */
    public void close() {
        closed = true;
    }

    public boolean isClosed() {
        return closed;
    }

    public boolean appendsInProgress() {
        return appendsInProgress.get() > 0;
    }

    /**
     * Removes the queued (awaiting retry) batches of {@code tp} stamped with this identity whose last
     * sequence is at most {@code upToSequence}: the broker has acknowledged a later sequence, so they
     * were written. Returned in sequence order.
     */
    public List<ProducerBatch> takeWrittenQueued(TopicPartition tp, long producerId, short epoch, int upToSequence) {
        List<ProducerBatch> out = new ArrayList<>();
        Deque<ProducerBatch> dq = batches.get(tp);
        if (dq == null) {
            return out;
        }
        synchronized (dq) {
            for (Iterator<ProducerBatch> it = dq.iterator(); it.hasNext(); ) {
                ProducerBatch b = it.next();
                if (b.hasSequence() && b.producerId == producerId && b.producerEpoch == epoch
                    && b.lastSequence() <= upToSequence) {
                    it.remove();
                    out.add(b);
                }
            }
        }
        out.sort(java.util.Comparator.comparingInt(b -> b.baseSequence));
        return out;
    }

    /** Removes the queued batches of the partitions {@code which} selects (a transaction that cannot send them). */
    public List<ProducerBatch> takeQueued(java.util.function.Predicate<TopicPartition> which) {
        List<ProducerBatch> out = new ArrayList<>();
        for (Map.Entry<TopicPartition, Deque<ProducerBatch>> e : batches.entrySet()) {
            Deque<ProducerBatch> dq = e.getValue();
            if (!which.test(e.getKey())) {
                continue;
            }
            synchronized (dq) {
                out.addAll(dq);
                dq.clear();
            }
        }
        return out;
    }

    /** Removes every queued batch (the producer is closing without waiting). */
    public List<ProducerBatch> drainAll() {
        List<ProducerBatch> out = new ArrayList<>();
        for (Deque<ProducerBatch> dq : batches.values()) {
            synchronized (dq) {
                for (Iterator<ProducerBatch> it = dq.iterator(); it.hasNext(); ) {
                    ProducerBatch b = it.next();
                    it.remove();
                    out.add(b);
                }
            }
        }
        return out;
    }

    /** Batches not yet done (queued or in flight). */
    public List<ProducerBatch> incompleteBatches() {
        return new ArrayList<>(incomplete);
    }

    public BufferPool pool() {
        return pool;
    }
}
