package io.weir.log.testing;

import io.weir.log.Time;

import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when told to ({@link #sleep} advances it without blocking). Thread-safe. */
public final class MockTime implements Time {
    private final AtomicLong nowMs;
    private final AtomicLong nowNs;

    public MockTime() {
        this(1_700_000_000_000L);
    }

    public MockTime(long startMs) {
        this.nowMs = new AtomicLong(startMs);
        this.nowNs = new AtomicLong(startMs * 1_000_000L);
    }

    @Override
    public long milliseconds() {
        return nowMs.get();
    }

    @Override
    public long nanoseconds() {
        return nowNs.get();
    }

    @Override
    public void sleep(long ms) {
        advance(ms);
    }

    public void advance(long ms) {
        nowMs.addAndGet(ms);
        nowNs.addAndGet(ms * 1_000_000L);
    }
}
