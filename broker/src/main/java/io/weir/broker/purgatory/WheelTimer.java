package io.weir.broker.purgatory;

import io.weir.common.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A hierarchical timing wheel (Varghese and Lauck; the structure Kafka's purgatory uses): adding and
 * cancelling a task are O(1), and advancing the clock costs O(log b) per due bucket, where the number
 * of buckets b is bounded by wheelSize x levels, however many tasks wait. A wheel of {@code wheelSize}
 * buckets of {@code tickMs} each covers {@code tickMs * wheelSize}; a task further out goes to an
 * overflow wheel whose tick is the whole span of the wheel below, created on demand. When an overflow
 * bucket comes due its tasks are re-inserted and fall to finer wheels.
 *
 * <p>Due buckets sit in a priority queue ordered by their expiration on the injected clock (instead of
 * a {@code DelayQueue}, which reads the system clock), so tests drive expiry with a mock clock.
 *
 * <p>Thread-safe: one lock guards the wheels and the bucket queue; tasks run outside it. The clock is
 * read before the lock is taken.
 */
public final class WheelTimer implements Timer {
    private static final Logger log = LoggerFactory.getLogger(WheelTimer.class);

    private final Time time;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition earlierBucket = lock.newCondition();
    private final PriorityQueue<Bucket> due = new PriorityQueue<>(Comparator.comparingLong(b -> b.expirationMs));
    private final Wheel wheel;
    private int size;

    /** A timer with 1 ms ticks and 20 buckets per wheel (Kafka's defaults). */
    public WheelTimer(Time time) {
        this(time, 1, 20);
    }

    public WheelTimer(Time time, long tickMs, int wheelSize) {
        if (tickMs < 1 || wheelSize < 2) {
            throw new IllegalArgumentException("tickMs must be >= 1 and wheelSize >= 2");
        }
        this.time = time;
        this.wheel = new Wheel(tickMs, wheelSize, time.milliseconds());
    }

    @Override
    public void add(TimerTask task) {
        long nowMs = time.milliseconds();
        boolean runNow;
        lock.lock();
        try {
            if (task.timer != null) {
                throw new IllegalStateException("task already added to a timer");
            }
            task.timer = this;
            Entry e = new Entry(task, nowMs + task.delayMs());
            task.entry = e;
            runNow = !wheel.add(e);
            if (runNow) {
                task.entry = null;
            } else {
                size++;
            }
        } finally {
            lock.unlock();
        }
        if (runNow) {
            run(task);
        }
    }

    void remove(TimerTask task) {
        lock.lock();
        try {
            Entry e = task.entry;
            if (e != null && e.bucket != null) {
                e.bucket.remove(e);
                task.entry = null;
                size--;
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int advanceClock(long timeoutMs) {
        int ran = runDue(time.milliseconds());
        if (ran > 0 || timeoutMs <= 0) {
            return ran;
        }
        long nowMs = time.milliseconds();
        lock.lock();
        try {
            Bucket head = due.peek();
            long waitMs = head == null ? timeoutMs : Math.min(timeoutMs, head.expirationMs - nowMs);
            if (waitMs > 0) {
                earlierBucket.await(waitMs, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        } finally {
            lock.unlock();
        }
        return runDue(time.milliseconds());
    }

    private int runDue(long nowMs) {
        List<TimerTask> ready = new ArrayList<>();
        lock.lock();
        try {
            Bucket b;
            while ((b = due.peek()) != null && b.expirationMs <= nowMs) {
                due.poll();
                wheel.advanceClock(b.expirationMs);
                b.flush(e -> {
                    // a task of an overflow bucket may still be ahead: it falls to a finer wheel
                    if (!wheel.add(e)) {
                        e.task.entry = null;
                        size--;
                        ready.add(e.task);
                    }
                });
            }
        } finally {
            lock.unlock();
        }
        for (TimerTask t : ready) {
            run(t);
        }
        return ready.size();
    }

    private static void run(TimerTask task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            log.error("timer task {} failed", task, e);
        }
    }

    @Override
    public int size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            earlierBucket.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A task's place in a bucket: a node of the bucket's doubly linked list. Guarded by the timer lock. */
    static final class Entry {
        final TimerTask task;
        final long expirationMs;
        Bucket bucket;
        Entry prev;
        Entry next;

        Entry(TimerTask task, long expirationMs) {
            this.task = task;
            this.expirationMs = expirationMs;
        }
    }

    /** The tasks of one tick of one wheel; in {@link #due} while it holds a time slot. Guarded by the timer lock. */
    private static final class Bucket {
        private final Entry root = new Entry(null, -1);
        /** The start of the slot this bucket holds, or -1 when it holds none. */
        long expirationMs = -1;

        Bucket() {
            root.prev = root;
            root.next = root;
        }

        void add(Entry e) {
            e.bucket = this;
            e.prev = root.prev;
            e.next = root;
            root.prev.next = e;
            root.prev = e;
        }

        void remove(Entry e) {
            e.prev.next = e.next;
            e.next.prev = e.prev;
            e.prev = null;
            e.next = null;
            e.bucket = null;
        }

        /** Sets the slot; true if it changed (the bucket then needs queueing). */
        boolean setExpiration(long ms) {
            boolean changed = expirationMs != ms;
            expirationMs = ms;
            return changed;
        }

        void flush(java.util.function.Consumer<Entry> sink) {
            Entry e = root.next;
            while (e != root) {
                Entry next = e.next;
                remove(e);
                sink.accept(e);
                e = next;
            }
            expirationMs = -1;
        }
    }

    /** One level of the hierarchy. Guarded by the timer lock. */
    private final class Wheel {
        private final long tickMs;
        private final int wheelSize;
        private final long intervalMs;
        private final Bucket[] buckets;
        private long currentTimeMs;
        private Wheel overflow;

        Wheel(long tickMs, int wheelSize, long startMs) {
            this.tickMs = tickMs;
            this.wheelSize = wheelSize;
            this.intervalMs = tickMs * wheelSize;
            this.buckets = new Bucket[wheelSize];
            for (int i = 0; i < wheelSize; i++) {
                buckets[i] = new Bucket();
            }
            this.currentTimeMs = startMs - (startMs % tickMs);
        }

        /** Places the entry; false if it is already due (within the current tick). */
        boolean add(Entry e) {
            long exp = e.expirationMs;
            if (exp < currentTimeMs + tickMs) {
                return false;
            }
            if (exp < currentTimeMs + intervalMs) {
                long virtualId = exp / tickMs;
                Bucket b = buckets[(int) (virtualId % wheelSize)];
                b.add(e);
                if (b.setExpiration(virtualId * tickMs)) {
                    due.add(b);
                    if (due.peek() == b) {
                        earlierBucket.signalAll();
                    }
                }
                return true;
            }
            if (overflow == null) {
                overflow = new Wheel(intervalMs, wheelSize, currentTimeMs);
            }
            return overflow.add(e);
        }

        void advanceClock(long timeMs) {
            if (timeMs >= currentTimeMs + tickMs) {
                currentTimeMs = timeMs - (timeMs % tickMs);
                if (overflow != null) {
                    overflow.advanceClock(currentTimeMs);
                }
            }
        }
    }
}
