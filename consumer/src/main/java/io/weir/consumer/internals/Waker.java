package io.weir.consumer.internals;

/**
 * Wakes the polling thread when something it may wait for happened: a fetch response queued, an
 * offset lookup or group request finished, or {@code wakeup()} was called. Signals are counted, so
 * one that arrives between checking and waiting is not lost. Thread-safe.
 */
public final class Waker {
    private long signals;

    public synchronized void signal() {
        signals++;
        notifyAll();
    }

    /** The signal count, read before checking for work. */
    public synchronized long count() {
        return signals;
    }

    /** Waits up to {@code timeoutMs} unless a signal came after {@code seen} was read. */
    public synchronized void await(long seen, long timeoutMs) {
        if (timeoutMs <= 0 || signals != seen) {
            return;
        }
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        try {
            while (signals == seen) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                wait(Math.max(1, left / 1_000_000L));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
