package io.weir.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * Holds a sender to a target rate: after {@code n} sends it may not be ahead of
 * {@code start + n / rate}. A negative rate means unthrottled. Not thread-safe: one sender.
 */
final class Throttler {
    private final double nanosPerRecord;
    private final long startNs;

    Throttler(double recordsPerSec, long startNs) {
        this.nanosPerRecord = recordsPerSec > 0 ? 1e9 / recordsPerSec : 0;
        this.startNs = startNs;
    }

    /** Waits, if needed, until {@code sent} records are due. */
    void awaitTurn(long sent) {
        if (nanosPerRecord == 0) {
            return;
        }
        long dueNs = startNs + (long) (sent * nanosPerRecord);
        long waitNs;
        // parkNanos may return early (spurious wake-ups); loop until due
        while ((waitNs = dueNs - System.nanoTime()) > 0) {
            LockSupport.parkNanos(waitNs);
        }
    }
}
