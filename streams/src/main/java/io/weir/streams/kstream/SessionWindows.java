package io.weir.streams.kstream;

import java.time.Duration;

/**
 * Sessions: a key's records closer than the inactivity gap to each other form one window, which grows
 * and merges as records arrive. A record for a session that ended more than the grace period before
 * stream time is dropped. Immutable.
 */
public final class SessionWindows {
    private final long gapMs;
    private final long graceMs;

    private SessionWindows(long gapMs, long graceMs) {
        if (gapMs <= 0) {
            throw new IllegalArgumentException("inactivity gap must be > 0 ms, got " + gapMs);
        }
        if (graceMs < 0) {
            throw new IllegalArgumentException("grace period must be >= 0 ms, got " + graceMs);
        }
        this.gapMs = gapMs;
        this.graceMs = graceMs;
    }

    public static SessionWindows ofInactivityGapWithNoGrace(Duration inactivityGap) {
        return new SessionWindows(inactivityGap.toMillis(), 0);
    }

    public static SessionWindows ofInactivityGapAndGrace(Duration inactivityGap, Duration grace) {
        return new SessionWindows(inactivityGap.toMillis(), grace.toMillis());
    }

    public long inactivityGap() {
        return gapMs;
    }

    public long gracePeriodMs() {
        return graceMs;
    }

    @Override
    public String toString() {
        return "SessionWindows{gapMs=" + gapMs + ", graceMs=" + graceMs + "}";
    }
}
