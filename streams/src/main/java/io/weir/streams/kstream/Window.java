package io.weir.streams.kstream;

import java.time.Instant;

/**
 * A time interval {@code [start, end)} in ms that a windowed aggregation keeps one aggregate per key
 * for. Immutable.
 */
public abstract class Window {
    protected final long startMs;
    protected final long endMs;

    protected Window(long startMs, long endMs) {
        if (startMs < 0) {
            throw new IllegalArgumentException("window start must be >= 0, got " + startMs);
        }
        if (endMs < startMs) {
            throw new IllegalArgumentException("window end " + endMs + " is before its start " + startMs);
        }
        this.startMs = startMs;
        this.endMs = endMs;
    }

    public long start() {
        return startMs;
    }

    public long end() {
        return endMs;
    }

    public Instant startTime() {
        return Instant.ofEpochMilli(startMs);
    }

    public Instant endTime() {
        return Instant.ofEpochMilli(endMs);
    }

    /** Whether the two windows share any time. */
    public abstract boolean overlap(Window other);

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && ((Window) o).startMs == startMs && ((Window) o).endMs == endMs;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(startMs) * 31 + Long.hashCode(endMs);
    }

    @Override
    public String toString() {
        return "Window{startMs=" + startMs + ", endMs=" + endMs + "}";
    }
}
