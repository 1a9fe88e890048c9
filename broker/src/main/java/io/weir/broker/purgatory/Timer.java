package io.weir.broker.purgatory;

/**
 * Runs {@link TimerTask}s after their delay, measured on an injected clock. Time moves for the timer
 * only in {@link #advanceClock}: production drives it from one thread (the purgatory's reaper); tests
 * move a mock clock and call {@code advanceClock(0)}, so expiry is tested without sleeping.
 *
 * <p>Implementations are thread-safe.
 */
public interface Timer extends AutoCloseable {
    /** Schedules {@code task} to run {@link TimerTask#delayMs()} after now; runs it at once if already due. */
    void add(TimerTask task);

    /**
     * Runs every task whose deadline has passed; if none had, waits up to {@code timeoutMs} (real
     * time) for the next deadline and runs what is then due. A duty-cycle step: returns how many
     * tasks ran. Tasks run on the calling thread.
     */
    int advanceClock(long timeoutMs);

    /** Tasks scheduled and not yet run or cancelled. */
    int size();

    @Override
    void close();
}
