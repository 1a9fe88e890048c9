package io.weir.streams.kstream;

import io.weir.streams.kstream.internals.TimeWindow;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fixed-size windows aligned to the epoch: tumbling (advance = size; each record in one window) or
 * hopping (advance &lt; size; each record in size/advance windows). A record whose window ended more
 * than the grace period before stream time is dropped for that window. Immutable.
 */
public final class TimeWindows extends Windows<TimeWindow> {
    /** Window size in ms. */
    public final long sizeMs;
    /** How far each window starts after the previous one, in ms. */
    public final long advanceMs;
    private final long graceMs;

    private TimeWindows(long sizeMs, long advanceMs, long graceMs) {
        if (sizeMs <= 0) {
            throw new IllegalArgumentException("window size must be > 0 ms, got " + sizeMs);
        }
        if (advanceMs <= 0 || advanceMs > sizeMs) {
            throw new IllegalArgumentException("window advance must be > 0 and <= the size " + sizeMs + " ms, got " + advanceMs);
        }
        if (graceMs < 0) {
            throw new IllegalArgumentException("grace period must be >= 0 ms, got " + graceMs);
        }
        this.sizeMs = sizeMs;
        this.advanceMs = advanceMs;
        this.graceMs = graceMs;
    }

    /** Tumbling windows of the size that drop every out-of-order record of a closed window. */
    public static TimeWindows ofSizeWithNoGrace(Duration size) {
        return new TimeWindows(size.toMillis(), size.toMillis(), 0);
    }

    /** Tumbling windows of the size that accept records up to {@code grace} after a window's end. */
    public static TimeWindows ofSizeAndGrace(Duration size, Duration grace) {
        return new TimeWindows(size.toMillis(), size.toMillis(), grace.toMillis());
    }

    /** Hopping windows: the same size and grace, starting every {@code advance}. */
    public TimeWindows advanceBy(Duration advance) {
        return new TimeWindows(sizeMs, advance.toMillis(), graceMs);
    }

    /**
     * The start of the earliest window holding the timestamp; the others start every {@code advanceMs} up to the
     * timestamp. What {@link #windowsFor} iterates, for callers that would rather not build its map per record.
     */
    public long firstWindowStartMs(long timestampMs) {
        long start = Math.max(0, timestampMs - sizeMs + advanceMs);
        start = start - start % advanceMs;
        if (start + sizeMs <= timestampMs) {
            start += advanceMs;
        }
        return start;
    }

    @Override
    public Map<Long, TimeWindow> windowsFor(long timestampMs) {
        Map<Long, TimeWindow> windows = new LinkedHashMap<>();
        for (long s = firstWindowStartMs(timestampMs); s <= timestampMs; s += advanceMs) {
            windows.put(s, new TimeWindow(s, s + sizeMs));
        }
        return windows;
    }

    @Override
    public long size() {
        return sizeMs;
    }

    @Override
    public long gracePeriodMs() {
        return graceMs;
    }

    @Override
    public String toString() {
        return "TimeWindows{sizeMs=" + sizeMs + ", advanceMs=" + advanceMs + ", graceMs=" + graceMs + "}";
    }
}
