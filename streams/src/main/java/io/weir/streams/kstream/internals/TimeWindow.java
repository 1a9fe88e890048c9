package io.weir.streams.kstream.internals;

import io.weir.streams.kstream.Window;

/** A fixed-size time window {@code [start, end)}. Immutable. */
public final class TimeWindow extends Window {

    public TimeWindow(long startMs, long endMs) {
        super(startMs, endMs);
        if (startMs == endMs) {
            throw new IllegalArgumentException("a time window cannot be empty: [" + startMs + ", " + endMs + ")");
        }
    }

    @Override
    public boolean overlap(Window other) {
        if (!(other instanceof TimeWindow)) {
            throw new IllegalArgumentException("cannot compare a TimeWindow with " + other.getClass().getName());
        }
        return startMs < other.end() && other.start() < endMs;
    }
}
