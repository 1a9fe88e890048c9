package io.weir.common.testing;

import io.weir.common.Time;

import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A clock for tests that moves only when the test moves it ({@link #advance}) or when code under
 * test sleeps ({@link #sleep} advances it at once instead of blocking). Thread-safe.
 *
 * <p>Wall-clock milliseconds and monotonic nanoseconds start from separate bases, as on a real
 * machine, so code that mixes the two clocks fails in tests. Both move together. An optional
 * auto-tick moves the clock by a fixed step on every read, for code that loops until time passes.
 * {@link Listener}s run on the thread that moved the clock, after it moved, so a thread waiting for
 * a deadline on this clock can be woken when a test moves it.
 */
public final class MockTime implements Time {
    /** Told after the clock moved; runs on the thread that moved it and must not block. */
    @FunctionalInterface
    public interface Listener {
        void onTimeUpdated();
    }

    /** Where the wall clock starts unless told otherwise (2023-11-14T22:13:20Z). */
    public static final long DEFAULT_START_MS = 1_700_000_000_000L;
    /** Where the monotonic clock starts unless told otherwise; unrelated to the wall clock. */
    public static final long DEFAULT_START_NS = 42_000_000_000L;

    private final long autoTickMs;
    private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();
    private long nowMs;
    private long nowNs;

    public MockTime() {
        this(0, DEFAULT_START_MS, DEFAULT_START_NS);
    }

    public MockTime(long startMs) {
        this(0, startMs, DEFAULT_START_NS);
    }

    /**
     * @param autoTickMs how far every read of the clock moves it first (0: never by itself)
     * @param startMs    the first wall-clock reading
     * @param startNs    the first monotonic reading
     */
    public MockTime(long autoTickMs, long startMs, long startNs) {
        if (autoTickMs < 0) {
            throw new IllegalArgumentException("autoTickMs < 0: " + autoTickMs);
        }
        this.autoTickMs = autoTickMs;
        this.nowMs = startMs;
        this.nowNs = startNs;
    }

    @Override
    public long milliseconds() {
        autoTick();
        synchronized (this) {
            return nowMs;
        }
    }

    @Override
    public long nanoseconds() {
        autoTick();
        synchronized (this) {
            return nowNs;
        }
    }

    /** Moves the clock by {@code ms} at once (and tells the listeners); never blocks. */
    @Override
    public void sleep(long ms) {
        advance(ms);
    }

    /** Moves both clocks forward by {@code ms} and then tells the listeners. */
    public void advance(long ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("time never goes back: " + ms);
        }
        synchronized (this) {
            nowMs += ms;
            nowNs += ms * 1_000_000L;
        }
        for (Listener l : listeners) {
            l.onTimeUpdated();
        }
    }

    /** Moves the clock to {@code ms} on the wall clock (the monotonic clock moves as far). */
    public void setCurrentTimeMs(long ms) {
        long delta;
        synchronized (this) {
            delta = ms - nowMs;
        }
        advance(delta);
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    public void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    private void autoTick() {
        if (autoTickMs > 0) {
            advance(autoTickMs);
        }
    }
}
