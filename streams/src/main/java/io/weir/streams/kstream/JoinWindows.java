package io.weir.streams.kstream;

import java.time.Duration;

/**
 * How close in time two records of a stream-stream join must be: a left record at t joins right records
 * in {@code [t - before, t + after]} (symmetric by default). Records stay joinable until stream time
 * passes their window's end plus the grace period; later records are dropped, and left/outer joins emit
 * a record that found no partner only then (so they never emit a premature null result). Immutable.
 */
public final class JoinWindows {
    /** How far before a left record a right record may be, in ms. */
    public final long beforeMs;
    /** How far after a left record a right record may be, in ms. */
    public final long afterMs;
    private final long graceMs;

    private JoinWindows(long beforeMs, long afterMs, long graceMs) {
        if (beforeMs + afterMs < 0) {
            throw new IllegalArgumentException("the join window must not be empty: before " + beforeMs + " ms, after " + afterMs + " ms");
        }
        if (graceMs < 0) {
            throw new IllegalArgumentException("grace period must be >= 0 ms, got " + graceMs);
        }
        this.beforeMs = beforeMs;
        this.afterMs = afterMs;
        this.graceMs = graceMs;
    }

    public static JoinWindows ofTimeDifferenceWithNoGrace(Duration timeDifference) {
        return new JoinWindows(timeDifference.toMillis(), timeDifference.toMillis(), 0);
    }

    public static JoinWindows ofTimeDifferenceAndGrace(Duration timeDifference, Duration grace) {
        return new JoinWindows(timeDifference.toMillis(), timeDifference.toMillis(), grace.toMillis());
    }

    /** The same windows with a new {@code before}. */
    public JoinWindows before(Duration timeDifference) {
        return new JoinWindows(timeDifference.toMillis(), afterMs, graceMs);
    }

    /** The same windows with a new {@code after}. */
    public JoinWindows after(Duration timeDifference) {
        return new JoinWindows(beforeMs, timeDifference.toMillis(), graceMs);
    }

    public long gracePeriodMs() {
        return graceMs;
    }

    @Override
    public String toString() {
        return "JoinWindows{beforeMs=" + beforeMs + ", afterMs=" + afterMs + ", graceMs=" + graceMs + "}";
    }
}
