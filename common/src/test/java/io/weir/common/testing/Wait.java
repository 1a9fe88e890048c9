package io.weir.common.testing;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Bounded waits for integration tests that watch real threads, sockets or forked processes.
 *
 * <p>Every wait has a deadline and, when it passes, fails with an {@link AssertionError} that says what was
 * awaited and what was seen (the message supplier is asked only then, so it may read a forked process's log).
 * A deadline here is a guard against a hung test, never a timing assertion: pick it generously (a slow, shared
 * machine must still pass) and never assert on how long a wait took. Not thread-safe state; all methods static.
 */
public final class Wait {
    /** How often a condition is re-checked: short enough not to slow tests, long enough not to spin a core. */
    private static final long POLL_MS = 20;

    private Wait() {
    }

    /**
     * Polls {@code condition} until it holds.
     *
     * @param message what was expected and what was seen, built only on failure
     * @throws AssertionError when {@code timeout} passes first
     */
    public static void until(BooleanSupplier condition, Duration timeout, Supplier<String> message)
        throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s: " + message.get());
            }
            Thread.sleep(POLL_MS);
        }
    }

    /** {@link #until(BooleanSupplier, Duration, Supplier)} with a fixed message. */
    public static void until(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        until(condition, timeout, () -> what);
    }

    /**
     * Waits for {@code future}; its failure is rethrown as it came (unwrapped from {@link ExecutionException}
     * when it is unchecked), a timeout fails with {@code message}.
     */
    public static <T> T get(Future<T> future, Duration timeout, Supplier<String> message) throws Exception {
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("timed out after " + timeout.toSeconds() + " s: " + message.get(), e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /** Waits for a thread to end; fails with {@code message} (and the thread's stack) when it is still alive. */
    public static void join(Thread thread, Duration timeout, Supplier<String> message) throws InterruptedException {
        thread.join(timeout.toMillis());
        if (thread.isAlive()) {
            AssertionError e = new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for thread "
                + thread.getName() + " to end: " + message.get());
            Throwable where = new Throwable(thread.getName() + " is here");
            where.setStackTrace(thread.getStackTrace());
            e.addSuppressed(where);
            throw e;
        }
    }
}
