package io.weir.streams.kstream;

import java.time.Duration;

/**
 * Sliding windows: windows of {@code timeDifference} (both ends inclusive) that exist where records are:
 * each record has a left window {@code [t - difference, t]} (for early records {@code [0, difference]})
 * and, when later records fall in it, a right window {@code [t + 1, t + 1 + difference]}. A window's
 * aggregate covers exactly the records in it, so every distinct set of records within the difference of
 * each other gets one result. A window is closed once stream time passes its end plus the grace
 * period. Immutable.
 */
public final class SlidingWindows {
    private final long differenceMs;
    private final long graceMs;

    private SlidingWindows(long differenceMs, long graceMs) {
        if (differenceMs <= 0) {
            throw new IllegalArgumentException("time difference must be > 0 ms, got " + differenceMs);
        }
        if (graceMs < 0) {
            throw new IllegalArgumentException("grace period must be >= 0 ms, got " + graceMs);
        }
        this.differenceMs = differenceMs;
        this.graceMs = graceMs;
    }

    public static SlidingWindows ofTimeDifferenceWithNoGrace(Duration timeDifference) {
        return new SlidingWindows(timeDifference.toMillis(), 0);
    }

    public static SlidingWindows ofTimeDifferenceAndGrace(Duration timeDifference, Duration grace) {
        return new SlidingWindows(timeDifference.toMillis(), grace.toMillis());
    }

    public long timeDifferenceMs() {
        return differenceMs;
    }

    public long gracePeriodMs() {
        return graceMs;
    }

    @Override
    public String toString() {
        return "SlidingWindows{differenceMs=" + differenceMs + ", graceMs=" + graceMs + "}";
    }
}
