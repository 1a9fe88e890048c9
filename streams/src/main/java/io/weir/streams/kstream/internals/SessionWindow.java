package io.weir.streams.kstream.internals;

import io.weir.streams.kstream.Window;

/** A session {@code [start, end]}: both ends inclusive (a session of one record has start == end). Immutable. */
public final class SessionWindow extends Window {

    public SessionWindow(long startMs, long endMs) {
        super(startMs, endMs);
    }

    @Override
    public boolean overlap(Window other) {
        if (!(other instanceof SessionWindow)) {
            throw new IllegalArgumentException("cannot compare a SessionWindow with " + other.getClass().getName());
        }
        return startMs <= other.end() && other.start() <= endMs;
    }
}
