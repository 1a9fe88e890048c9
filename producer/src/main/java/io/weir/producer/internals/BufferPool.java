package io.weir.producer.internals;

import io.weir.common.Time;
import io.weir.protocol.client.TimeoutException;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounds the bytes of all records the producer holds ({@code buffer.memory}). A new batch reserves
 * its size here before it is created and gives it back when the batch completes; a sender that
 * finds the pool empty waits, first come first served, up to {@code max.block.ms}, then gets a
 * {@link TimeoutException} that names the setting.
 *
 * <p>The pool counts bytes rather than holding buffers: log-core's {@code RecordBatchBuilder} owns
 * its growable buffer. No allocation or clock read happens under the lock except the waiting
 * itself. Thread-safe.
 */
public final class BufferPool {
    private final long totalBytes;
    private final Time time;
    private final ReentrantLock lock = new ReentrantLock(true);
    private final ArrayDeque<Condition> waiters = new ArrayDeque<>();
    private long availableBytes;
    private boolean closed;

    public BufferPool(long totalBytes, Time time) {
        this.totalBytes = totalBytes;
        this.availableBytes = totalBytes;
        this.time = time;
    }

    /**
     * Reserves {@code size} bytes, waiting up to {@code maxWaitMs}.
     *
     * @throws TimeoutException if the bytes did not become free in time
     * @throws IllegalArgumentException if {@code size} exceeds the whole pool
     */
    public void allocate(int size, long maxWaitMs) throws InterruptedException {
        if (size > totalBytes) {
            throw new IllegalArgumentException("Attempt to allocate " + size + " bytes, but there is a hard limit of "
                + totalBytes + " bytes on memory allocations (buffer.memory)");
        }
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("Producer closed while allocating memory");
            }
            if (waiters.isEmpty() && availableBytes >= size) {
                availableBytes -= size;
                return;
            }
            Condition turn = lock.newCondition();
            waiters.addLast(turn);
            long remainingNs = TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
            try {
                while (availableBytes < size || waiters.peekFirst() != turn) {
                    if (closed) {
                        throw new IllegalStateException("Producer closed while allocating memory");
                    }
                    if (remainingNs <= 0) {
                        throw new TimeoutException("Failed to allocate " + size + " bytes within the configured max "
                            + "blocking time " + maxWaitMs + " ms: buffer.memory=" + totalBytes + " bytes is full "
                            + "(the producer sends slower than records arrive, or the brokers are unreachable)");
                    }
                    remainingNs = turn.awaitNanos(remainingNs);
                }
                availableBytes -= size;
            } finally {
                waiters.remove(turn);
                Condition next = waiters.peekFirst();
                if (next != null) {
                    next.signal();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Gives back bytes reserved by {@link #allocate}. */
    public void deallocate(int size) {
        lock.lock();
        try {
            availableBytes += size;
            Condition next = waiters.peekFirst();
            if (next != null) {
                next.signal();
            }
        } finally {
            lock.unlock();
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

    public long availableBytes() {
        lock.lock();
        try {
            return availableBytes;
        } finally {
            lock.unlock();
        }
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
