package io.weir.broker.purgatory;

/**
 * Work a {@link Timer} runs once its delay has passed, unless cancelled first. A task is added to at
 * most one timer, once.
 *
 * <p>Thread-safe: {@link #cancel()} may race with expiry from any thread; exactly one of them wins.
 */
public abstract class TimerTask implements Runnable {
    private final long delayMs;
    /** The timer holding this task, set on add; the timer's lock guards {@link #entry}. */
    volatile WheelTimer timer;
    WheelTimer.Entry entry;

    protected TimerTask(long delayMs) {
        if (delayMs < 0) {
            throw new IllegalArgumentException("delayMs must be >= 0, was " + delayMs);
        }
        this.delayMs = delayMs;
    }

    /** How long after {@link Timer#add} the task runs. */
    public final long delayMs() {
        return delayMs;
    }

    /** Removes the task from its timer if it has not run yet; a no-op otherwise. O(1). */
    public void cancel() {
        WheelTimer t = timer;
        if (t != null) {
            t.remove(this);
        }
    }
}
