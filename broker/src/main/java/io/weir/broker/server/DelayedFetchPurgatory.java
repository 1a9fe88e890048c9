package io.weir.broker.server;

import io.weir.log.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Fetches waiting for {@code fetch.min.bytes} ("long polling"): each waits on its partitions until an
 * append to one of them lets it complete, or until its {@code fetch.max.wait.ms} deadline, whichever
 * comes first. Completion runs exactly once.
 *
 * <p>Thread-safe. {@link #onAppend} runs on the appending handler thread, so a waiting consumer gets
 * new data without a timer hop.
 */
public final class DelayedFetchPurgatory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DelayedFetchPurgatory.class);

    /** A parked operation. */
    public interface Operation {
        /** Tries to finish (reads again); true if it answered the client. Called under the op's lock. */
        boolean tryComplete();

        /** Answers with whatever is there now (the deadline passed). */
        void forceComplete();
    }

    private static final class Parked {
        final Operation op;
        final Collection<TopicPartition> partitions;
        final AtomicBoolean done = new AtomicBoolean();

        Parked(Operation op, Collection<TopicPartition> partitions) {
            this.op = op;
            this.partitions = partitions;
        }
    }

    private final ConcurrentHashMap<TopicPartition, Set<Parked>> watchers = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;

    public DelayedFetchPurgatory() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "weir-fetch-purgatory");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
    }

    /** Parks {@code op} on its partitions for at most {@code maxWaitMs}. */
    public void park(Operation op, Collection<TopicPartition> partitions, long maxWaitMs) {
        Parked p = new Parked(op, partitions);
        for (TopicPartition tp : partitions) {
            watchers.computeIfAbsent(tp, k -> ConcurrentHashMap.newKeySet()).add(p);
        }
        timer.schedule(() -> expire(p), maxWaitMs, TimeUnit.MILLISECONDS);
        // an append may have landed between the caller's read and the registration above
        attempt(p);
    }

    /** Wakes the fetches waiting on {@code tp}. */
    public void onAppend(TopicPartition tp) {
        Set<Parked> set = watchers.get(tp);
        if (set == null || set.isEmpty()) {
            return;
        }
        for (Parked p : set) {
            attempt(p);
        }
    }

    private void attempt(Parked p) {
        if (p.done.get()) {
            return;
        }
        synchronized (p) {
            if (p.done.get()) {
                return;
            }
            try {
                if (p.op.tryComplete()) {
                    finish(p);
                }
            } catch (RuntimeException e) {
                log.error("delayed fetch failed", e);
                finish(p);
            }
        }
    }

    private void expire(Parked p) {
        synchronized (p) {
            if (p.done.get()) {
                return;
            }
            finish(p);
            try {
                p.op.forceComplete();
            } catch (RuntimeException e) {
                log.error("delayed fetch failed on expiry", e);
            }
        }
    }

    private void finish(Parked p) {
        p.done.set(true);
        for (TopicPartition tp : p.partitions) {
            Set<Parked> set = watchers.get(tp);
            if (set != null) {
                set.remove(p);
            }
        }
    }

    /** Operations currently parked (for tests and metrics). */
    public int parkedCount() {
        int n = 0;
        for (Set<Parked> s : watchers.values()) {
            n += s.size();
        }
        return n;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
