package io.weir.broker.network;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The budget for request bytes held by the broker: bytes of frames being read and of complete
 * frames queued or being handled ({@code queued.max.request.bytes}). It only counts: buffers are
 * ordinary heap buffers that the garbage collector reclaims, so a component that keeps a slice of a
 * request after releasing it can never see its bytes reused.
 *
 * <p>Network threads reserve bytes as they arrive from the socket (never from a frame's declared
 * size alone), so a connection that declares 100 MB and sends 10 bytes costs 10 bytes. When the
 * pool is empty a network thread stops reading from the connections that need more memory; a
 * {@link #release} wakes the listeners registered with {@link #onMemoryFreed} so they read again.
 *
 * <p>Thread-safe and lock-free.
 */
public final class RequestMemoryPool {
    private final long capacityBytes;
    private final AtomicLong availableBytes;
    private final AtomicBoolean starved = new AtomicBoolean();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** A pool of {@code capacityBytes} ({@code Long.MAX_VALUE}: unbounded). */
    public RequestMemoryPool(long capacityBytes) {
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacityBytes must be positive: " + capacityBytes);
        }
        this.capacityBytes = capacityBytes;
        this.availableBytes = new AtomicLong(capacityBytes);
    }

    /**
     * Reserves as many of {@code wantedBytes} as are available, possibly none; returns how many were
     * reserved. A caller that got fewer than it needed is told through {@link #onMemoryFreed} when
     * memory comes back.
     */
    public int reserveUpTo(int wantedBytes) {
        return reserveUpTo(wantedBytes, 0);
    }

    /**
     * As {@link #reserveUpTo(int)}, but leaves at least {@code keepBytes} available: reserves at most
     * {@code availableBytes() - keepBytes}, possibly none. For memory that is optional (requests read ahead),
     * so it never takes what a connection's next request needs.
     */
    public int reserveUpTo(int wantedBytes, long keepBytes) {
        if (wantedBytes <= 0) {
            return 0;
        }
        while (true) {
            long available = availableBytes.get();
            int granted = (int) Math.max(0, Math.min(available - keepBytes, wantedBytes));
            if (granted == 0) {
                starved.set(true);
                return 0;
            }
            if (availableBytes.compareAndSet(available, available - granted)) {
                if (granted < wantedBytes) {
                    starved.set(true);
                }
                return granted;
            }
        }
    }

    /** Gives back bytes reserved earlier; wakes the waiting network threads if any ran short. */
    public void release(long bytes) {
        if (bytes <= 0) {
            return;
        }
        long after = availableBytes.addAndGet(bytes);
        assert after <= capacityBytes : "released more than was reserved: " + after + " > " + capacityBytes;
        if (starved.compareAndSet(true, false)) {
            for (Runnable r : listeners) {
                r.run();
            }
        }
    }

    /**
     * Whether more than {@code keepBytes} are available. If not, the next {@link #release} runs the
     * {@link #onMemoryFreed} listeners, as after a reservation that fell short.
     */
    public boolean availableAbove(long keepBytes) {
        if (availableBytes.get() > keepBytes) {
            return true;
        }
        starved.set(true);
        return availableBytes.get() > keepBytes; // a release between the two reads may have missed the flag
    }

    /** Registers a callback run (on the releasing thread) when memory frees after a shortage. */
    public void onMemoryFreed(Runnable listener) {
        listeners.add(listener);
    }

    public void removeListener(Runnable listener) {
        listeners.remove(listener);
    }

    public long availableBytes() {
        return availableBytes.get();
    }

    public long capacityBytes() {
        return capacityBytes;
    }

    /** Bytes currently reserved by frames being read, queued or handled. */
    public long usedBytes() {
        return capacityBytes - availableBytes.get();
    }
}
