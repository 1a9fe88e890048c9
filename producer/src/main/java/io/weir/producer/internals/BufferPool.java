package io.weir.producer.internals;

import io.weir.common.Time;
import io.weir.protocol.client.TimeoutException;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The producer's record memory ({@code buffer.memory}): a pool of {@code batch.size} buffers that
 * batches are built in and give back when they complete, so a steady producer allocates no batch
 * buffers at all. A batch that needs more than {@code batch.size} (one oversized record) gets a
 * dedicated buffer of its own size, which is never pooled: its bytes go back to the free budget and
 * the buffer to the garbage collector.
 *
 * <p>Accounting: {@code totalBytes = bytes handed out + pooled free buffers + unpooled free bytes}. A
 * request for a pooled-size buffer takes a free one if there is one, else carves one out of the
 * unpooled bytes; any other size takes unpooled bytes, dropping free buffers to the garbage collector
 * when the unpooled bytes alone do not cover it. A caller that finds too little waits, first come
 * first served, up to {@code max.block.ms}, then gets a {@link TimeoutException} that names the setting.
 *
 * <p>Locking: the lock guards the counts, the free list and the waiters only. A new buffer is
 * allocated after the lock is released (its bytes are reserved first, and given back if the
 * allocation fails). Only a waiting caller reads the clock under it, to know its deadline. Thread-safe.
 */
public final class BufferPool {
    private final long totalBytes;
    private final int poolableSize;
    private final Time time;
    /**
     * Not a fair lock: first come first served is the {@link #waiters} queue's job (a newcomer takes memory
     * only when nobody waits), so the lock itself need not hand over in order — a fair one parks the
     * appending thread whenever the sender is giving a buffer back, once per batch.
     */
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Condition> waiters = new ArrayDeque<>();
    /** Free buffers of {@link #poolableSize}, cleared, ready to be written. */
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    /** Free bytes not held as pooled buffers. */
    private long unpooledAvailableBytes;
    /** Buffers created since start (pooled-size and dedicated): a steady producer stops adding to it. */
    private final AtomicLong buffersAllocated = new AtomicLong();
    private boolean closed;

    /**
     * @param totalBytes   {@code buffer.memory}
     * @param poolableSize {@code batch.size}: buffers of exactly this size are kept for reuse
     */
    public BufferPool(long totalBytes, int poolableSize, Time time) {
        if (poolableSize <= 0) {
            throw new IllegalArgumentException("poolableSize must be positive: " + poolableSize);
        }
        this.totalBytes = totalBytes;
        this.poolableSize = poolableSize;
        this.unpooledAvailableBytes = totalBytes;
        this.time = time;
    }

    /**
     * Returns a cleared buffer of exactly {@code size} bytes' capacity, waiting up to
     * {@code maxWaitMs} for the memory. A {@code batch.size} request reuses a pooled buffer when one
     * is free; a new buffer is allocated only after the lock is released.
     *
     * @throws TimeoutException if the bytes did not become free in time
     * @throws IllegalArgumentException if {@code size} exceeds the whole pool
     */
    public ByteBuffer allocate(int size, long maxWaitMs) throws InterruptedException {
        if (size > totalBytes) {
            throw new IllegalArgumentException("Attempt to allocate " + size + " bytes, but there is a hard limit of "
                + totalBytes + " bytes on memory allocations (buffer.memory)");
        }
        ByteBuffer pooled;
        lock.lock();
        try {
            pooled = reserve(size, maxWaitMs);
        } finally {
            lock.unlock();
        }
        if (pooled != null) {
            return pooled;
        }
        ByteBuffer fresh;
        try {
            fresh = ByteBuffer.allocate(size);
        } catch (Throwable t) {
            deallocate(null, size);
            throw t;
        }
        buffersAllocated.incrementAndGet();
        return fresh;
    }

    /**
     * Under the lock: waits (first come first served) until this caller is first and memory suffices,
     * then takes a free pooled buffer (returned) or reserves {@code size} unpooled bytes (returns null;
     * the caller allocates the buffer once unlocked).
     */
    private ByteBuffer reserve(int size, long maxWaitMs) throws InterruptedException {
        if (closed) {
            throw new IllegalStateException("Producer closed while allocating memory");
        }
        if (waiters.isEmpty() && canTake(size)) {
            return take(size);
        }
        // the clock is read only by a caller that has to wait: its max.block.ms starts now
        long deadlineNs = deadlineNs(time.nanoseconds(), maxWaitMs);
        Condition turn = lock.newCondition();
        waiters.addLast(turn);
        try {
            while (waiters.peekFirst() != turn || !canTake(size)) {
                if (closed) {
                    throw new IllegalStateException("Producer closed while allocating memory");
                }
                // the injected clock decides the deadline (so max.block.ms is testable with a mock clock); a
                // clock read is a vDSO call, nothing that blocks, so it is taken here rather than unlocking
                long remainingNs = deadlineNs - time.nanoseconds();
                if (remainingNs <= 0) {
                    throw new TimeoutException("Failed to allocate " + size + " bytes within the configured max "
                        + "blocking time " + maxWaitMs + " ms: buffer.memory=" + totalBytes + " bytes is full "
                        + "(the producer sends slower than records arrive, or the brokers are unreachable)");
                }
                turn.awaitNanos(remainingNs);
            }
            return take(size);
        } finally {
            waiters.remove(turn);
            signalHead();
        }
    }

    private static long deadlineNs(long startNs, long maxWaitMs) {
        try {
            return Math.addExact(startNs, TimeUnit.MILLISECONDS.toNanos(Math.max(0, maxWaitMs)));
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE; // max.block.ms = forever
        }
    }

    private boolean canTake(int size) {
        return size == poolableSize && !free.isEmpty()
            || unpooledAvailableBytes + (long) free.size() * poolableSize >= size;
    }

    /** Under the lock, after {@link #canTake}: a free pooled buffer, or null with the bytes reserved. */
    private ByteBuffer take(int size) {
        if (size == poolableSize && !free.isEmpty()) {
            return free.pollFirst();
        }
        while (unpooledAvailableBytes < size) {
            free.pollLast(); // dropped to the garbage collector: its bytes become unpooled
            unpooledAvailableBytes += poolableSize;
        }
        unpooledAvailableBytes -= size;
        return null;
    }

    /**
     * Gives back a buffer from {@link #allocate}: one of {@code batch.size} capacity is cleared and
     * kept for reuse; any other (a dedicated oversized buffer) is dropped and its {@code size} bytes
     * become free. {@code buffer} may be null to give back bytes whose buffer must not be reused (it
     * may still be referenced, e.g. by a request not yet written).
     */
    public void deallocate(ByteBuffer buffer, int size) {
        lock.lock();
        try {
            if (buffer != null && size == poolableSize && buffer.capacity() == poolableSize) {
                buffer.clear();
                free.addLast(buffer);
            } else {
                unpooledAvailableBytes += size;
            }
            signalHead();
        } finally {
            lock.unlock();
        }
    }

    /** Gives back {@code size} bytes without a buffer to reuse. */
    public void deallocate(int size) {
        deallocate(null, size);
    }

    /**
     * Wakes every waiter to re-check its deadline: for a clock that moves by steps (a test's mock clock
     * calls this from its listener), since waiting itself is measured by the real clock.
     */
    public void onTimeUpdated() {
        lock.lock();
        try {
            waiters.forEach(Condition::signal);
        } finally {
            lock.unlock();
        }
    }

    private void signalHead() {
        Condition next = waiters.peekFirst();
        if (next != null) {
            next.signal();
        }
    }

    /** True while some thread is waiting for memory: the sender then sends batches without lingering. */
    public boolean hasWaiters() {
        lock.lock();
        try {
            return !waiters.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** Bytes not handed out: free pooled buffers plus unpooled bytes. */
    public long availableBytes() {
        lock.lock();
        try {
            return unpooledAvailableBytes + (long) free.size() * poolableSize;
        } finally {
            lock.unlock();
        }
    }

    /** Free {@code batch.size} buffers waiting for reuse. */
    public int freeBuffers() {
        lock.lock();
        try {
            return free.size();
        } finally {
            lock.unlock();
        }
    }

    /** Buffers created since the pool was made; reused buffers do not count. */
    public long buffersAllocated() {
        return buffersAllocated.get();
    }

    public int poolableSize() {
        return poolableSize;
    }

    public long totalBytes() {
        return totalBytes;
    }

    /** Wakes every waiter with an error; later allocations fail. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            waiters.forEach(Condition::signal);
        } finally {
            lock.unlock();
        }
    }

    Time time() {
        return time;
    }
}
