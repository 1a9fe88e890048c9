package io.weir.common;

/**
 * The clock every Weir component reads. Only {@code main} uses {@link #SYSTEM}; tests inject a
 * mock clock that moves only when the test moves it. Implementations must be thread-safe.
 */
public interface Time {
    Time SYSTEM = new Time() {
        @Override
        public long milliseconds() {
            return System.currentTimeMillis();
        }

        @Override
        public long nanoseconds() {
            return System.nanoTime();
        }

        @Override
        public void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    };

    /** Wall-clock milliseconds since the epoch. */
    long milliseconds();

    /** Monotonic nanoseconds, for measuring intervals. */
    long nanoseconds();

    void sleep(long ms);
}
