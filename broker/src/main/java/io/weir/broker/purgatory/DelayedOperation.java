package io.weir.broker.purgatory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A request answer that waits for a condition (enough fetchable bytes, replicas caught up) or its
 * deadline, whichever comes first, parked in a {@link DelayedOperationPurgatory}.
 *
 * <p>The life of an operation: the purgatory calls {@link #tryComplete()} when it is parked and each
 * time one of its watch keys changes; {@code tryComplete} only checks the condition and, when it holds,
 * calls {@link #forceComplete()}. {@code forceComplete} wins exactly once, whoever calls it (a waking
 * thread or the timer at the deadline), and runs {@link #onComplete()}, which builds and sends the
 * answer; at the deadline {@link #onExpiration()} runs after it. If {@code onComplete} (or
 * {@code tryComplete}) throws, {@link #onCompletionFailure} answers the request with the mapped error,
 * so a failed operation never leaves its client waiting.
 *
 * <p>Thread-safe: {@code tryComplete} and the expiry run under the operation's lock (so two wake-ups,
 * or a wake-up and the deadline, never overlap); {@code forceComplete} may be called from any thread,
 * with or without that lock. The timer's lock is never held while the operation's lock is taken.
 */
public abstract class DelayedOperation extends TimerTask {
    private static final Logger log = LoggerFactory.getLogger(DelayedOperation.class);

    private final AtomicBoolean completed = new AtomicBoolean();
    private final ReentrantLock lock = new ReentrantLock();

    protected DelayedOperation(long delayMs) {
        super(delayMs);
    }

    /**
     * Checks the condition; if it holds, completes with {@link #forceComplete()} and returns its result.
     * Must be cheap (it runs on every wake-up) and must not send anything itself.
     */
    public abstract boolean tryComplete();

    /** Builds and sends the answer. Runs exactly once, on the thread that won {@link #forceComplete()}. */
    protected abstract void onComplete();

    /** Called after {@link #onComplete()} when the deadline (not the condition) completed the operation. */
    protected abstract void onExpiration();

    /**
     * Answers the request with the error {@code failure} maps to, after {@link #onComplete()} or
     * {@link #tryComplete()} threw. Must not throw; if it does, the failure is logged.
     */
    protected abstract void onCompletionFailure(Throwable failure);

    /**
     * Completes the operation if nobody has: cancels its timer and runs {@link #onComplete()}.
     * Returns true for the one caller that completed it.
     */
    public final boolean forceComplete() {
        if (!completed.compareAndSet(false, true)) {
            return false;
        }
        cancel();
        try {
            onComplete();
        } catch (Throwable t) {
            fail(t);
        }
        return true;
    }

    public final boolean isCompleted() {
        return completed.get();
    }

    /** The deadline passed. Under the lock, so an expiry never overlaps a {@link #tryComplete()} in progress. */
    @Override
    public final void run() {
        lock.lock();
        try {
            if (forceComplete()) {
                onExpiration();
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@link #tryComplete()} under the operation's lock; a throwing check completes the operation with its error. */
    final boolean safeTryComplete() {
        lock.lock();
        try {
            return tryComplete();
        } catch (Throwable t) {
            if (completed.compareAndSet(false, true)) {
                cancel();
                fail(t);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code watch} between two checks under the lock, so a wake-up racing with registration is not lost. */
    final boolean safeTryCompleteOrElse(Runnable watch) {
        lock.lock();
        try {
            if (safeTryComplete()) {
                return true;
            }
            watch.run();
            return safeTryComplete();
        } finally {
            lock.unlock();
        }
    }

    private void fail(Throwable t) {
        log.error("delayed operation {} failed; answering with an error", this, t);
        try {
            onCompletionFailure(t);
        } catch (Throwable again) {
            log.error("delayed operation {} could not answer its failure", this, again);
        }
    }
}
