package io.weir.common.testing;

import io.weir.common.Time;
import io.weir.common.utils.TimerService;

import java.util.PriorityQueue;

/**
 * A {@link TimerService} for tests: nothing fires until the test calls {@link #poll()}, which runs
 * (on the calling thread, in deadline order) every task whose deadline the clock has reached.
 */
public final class MockTimerService implements TimerService {
    private static final class Task implements Comparable<Task> {
        final long deadlineMs;
        final long seq;
        final Runnable task;
        boolean cancelled;

        Task(long deadlineMs, long seq, Runnable task) {
            this.deadlineMs = deadlineMs;
            this.seq = seq;
            this.task = task;
        }

        @Override
        public int compareTo(Task o) {
            int c = Long.compare(deadlineMs, o.deadlineMs);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final Time time;
    private final PriorityQueue<Task> tasks = new PriorityQueue<>();
    private long seq;

    public MockTimerService(Time time) {
        this.time = time;
    }

    @Override
    public synchronized Handle schedule(long deadlineMs, Runnable task) {
        Task t = new Task(deadlineMs, seq++, task);
        tasks.add(t);
        return () -> {
            synchronized (MockTimerService.this) {
                t.cancelled = true;
                tasks.remove(t);
            }
        };
    }

    /** Runs every task that is due by the clock now; returns how many ran. */
    public int poll() {
        int ran = 0;
        while (true) {
            Task t;
            synchronized (this) {
                t = tasks.peek();
                if (t == null || t.deadlineMs > time.milliseconds()) {
                    return ran;
                }
                tasks.poll();
            }
            if (!t.cancelled) {
                t.task.run();
                ran++;
            }
        }
    }

    /** Tasks scheduled and not yet run or cancelled. */
    public synchronized int size() {
        return tasks.size();
    }

    @Override
    public void close() {
    }
}
