package io.weir.broker.purgatory;

import io.weir.common.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where {@link DelayedOperation}s wait: each is watched under one or more keys (e.g. the partitions a
 * fetch reads) and held by a {@link Timer} until its deadline. Whoever changes what a key stands for
 * (an append, a high-watermark move) calls {@link #checkAndComplete(Object)}, which re-checks only the
 * operations watching that key. Completed operations linger in the watch lists of their other keys
 * until those keys are checked or the reaper purges them.
 *
 * <p>Time moves in {@link #advanceClock(long)}, a duty-cycle step: in production one reaper thread
 * calls it in a loop; tests build the purgatory without a reaper, move a mock clock and call
 * {@code advanceClock(0)}.
 *
 * <p>Thread-safe.
 *
 * @param <K> the watch key type
 * @param <T> the operation type
 */
public final class DelayedOperationPurgatory<K, T extends DelayedOperation> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DelayedOperationPurgatory.class);
    private static final long REAPER_POLL_MS = 200;

    private final String name;
    private final Timer timer;
    private final int purgeIntervalOps;
    private final ConcurrentHashMap<K, ConcurrentLinkedQueue<T>> watchers = new ConcurrentHashMap<>();
    /** Operations ever watched since the last purge: the lists hold at most this many. */
    private final AtomicInteger watchedSincePurge = new AtomicInteger();
    private final Thread reaper;
    private volatile boolean running = true;

    /**
     * @param purgeIntervalOps purge completed operations from the watch lists once this many more
     *                         operations were watched than are still waiting
     * @param withReaper       start a thread that drives {@link #advanceClock}; false in tests
     */
    public DelayedOperationPurgatory(String name, Timer timer, int purgeIntervalOps, boolean withReaper) {
        this.name = name;
        this.timer = timer;
        this.purgeIntervalOps = purgeIntervalOps;
        if (withReaper) {
            reaper = new Thread(this::reap, "weir-" + name + "-reaper");
            reaper.setDaemon(true);
            reaper.start();
        } else {
            reaper = null;
        }
    }

    /** A purgatory on {@code time} with a {@link WheelTimer} and a reaper thread (production). */
    public static <K, T extends DelayedOperation> DelayedOperationPurgatory<K, T> create(String name, Time time) {
        return new DelayedOperationPurgatory<>(name, new WheelTimer(time), 1000, true);
    }

    /**
     * Completes {@code op} now if it can; otherwise watches it under {@code keys} and starts its
     * deadline. Returns true if it completed here.
     */
    public boolean tryCompleteElseWatch(T op, Collection<? extends K> keys) {
        boolean done = op.safeTryCompleteOrElse(() -> {
            for (K key : keys) {
                if (op.isCompleted()) {
                    return;
                }
                watchers.compute(key, (k, list) -> {
                    ConcurrentLinkedQueue<T> l = list == null ? new ConcurrentLinkedQueue<>() : list;
                    l.add(op);
                    return l;
                });
            }
            watchedSincePurge.incrementAndGet();
        });
        if (done) {
            return true;
        }
        if (!op.isCompleted()) {
            timer.add(op);
            if (op.isCompleted()) {
                // completed between the check and the timer add: drop the timer entry now
                op.cancel();
            }
        }
        return false;
    }

    /** Re-checks the operations watching {@code key}; returns how many completed. */
    public int checkAndComplete(K key) {
        ConcurrentLinkedQueue<T> list = watchers.get(key);
        if (list == null) {
            return 0;
        }
        int completed = 0;
        for (Iterator<T> it = list.iterator(); it.hasNext(); ) {
            T op = it.next();
            if (op.isCompleted()) {
                it.remove();
            } else if (op.safeTryComplete()) {
                it.remove();
                completed++;
            }
        }
        if (list.isEmpty()) {
            // atomic with watch(): an op added to this list meanwhile keeps it
            watchers.computeIfPresent(key, (k, l) -> l == list && l.isEmpty() ? null : l);
        }
        return completed;
    }

    /** Operations waiting for their deadline (not yet completed). */
    public int delayed() {
        return timer.size();
    }

    /** Entries in the watch lists, completed ones not yet purged included (tests and metrics). */
    public int watched() {
        int n = 0;
        for (ConcurrentLinkedQueue<T> l : watchers.values()) {
            n += l.size();
        }
        return n;
    }

    /**
     * One duty-cycle step: expires the operations whose deadline passed (waiting up to
     * {@code timeoutMs} for the next one) and purges completed operations from the watch lists when
     * enough have piled up. Returns how many operations expired.
     */
    public int advanceClock(long timeoutMs) {
        int expired = timer.advanceClock(timeoutMs);
        if (watchedSincePurge.get() - timer.size() > purgeIntervalOps) {
            watchedSincePurge.set(timer.size());
            purgeCompleted();
        }
        return expired;
    }

    private void purgeCompleted() {
        int purged = 0;
        for (Map.Entry<K, ConcurrentLinkedQueue<T>> e : watchers.entrySet()) {
            ConcurrentLinkedQueue<T> list = e.getValue();
            for (Iterator<T> it = list.iterator(); it.hasNext(); ) {
                if (it.next().isCompleted()) {
                    it.remove();
                    purged++;
                }
            }
            if (list.isEmpty()) {
                watchers.computeIfPresent(e.getKey(), (k, l) -> l == list && l.isEmpty() ? null : l);
            }
        }
        log.debug("purgatory {} purged {} completed operations", name, purged);
    }

    private void reap() {
        while (running) {
            try {
                advanceClock(REAPER_POLL_MS);
            } catch (RuntimeException e) {
                log.error("purgatory {} reaper step failed", name, e);
            }
        }
    }

    /** Stops the reaper; operations still waiting are neither completed nor answered. */
    @Override
    public void close() {
        running = false;
        timer.close();
        if (reaper != null) {
            reaper.interrupt();
            try {
                reaper.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
