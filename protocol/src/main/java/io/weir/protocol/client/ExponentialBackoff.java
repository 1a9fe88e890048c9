package io.weir.protocol.client;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Backoff that starts at {@code initialMs}, doubles per failed attempt up to {@code maxMs}, and is
 * spread by +/- {@code jitter} (a fraction) so that many clients that failed together do not all
 * come back in the same millisecond. Used for {@code reconnect.backoff.ms}/{@code .max.ms} and
 * {@code retry.backoff.ms}/{@code .max.ms}. Immutable and thread-safe.
 */
public final class ExponentialBackoff {
    /** Kafka's default spread: each wait is within 20% of the nominal value. */
    public static final double DEFAULT_JITTER = 0.2;

    private final long initialMs;
    private final long maxMs;
    private final double jitter;
    private final DoubleSupplier random;

    public ExponentialBackoff(long initialMs, long maxMs, double jitter) {
        this(initialMs, maxMs, jitter, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** @param random returns uniform values in [0, 1); injected so tests can pin the jitter */
    public ExponentialBackoff(long initialMs, long maxMs, double jitter, DoubleSupplier random) {
        if (initialMs < 0) {
            throw new IllegalArgumentException("initialMs must not be negative: " + initialMs);
        }
        if (jitter < 0 || jitter >= 1) {
            throw new IllegalArgumentException("jitter must be in [0, 1): " + jitter);
        }
        this.initialMs = initialMs;
        // a max below the initial value means "no growth", as in Kafka
        this.maxMs = Math.max(initialMs, maxMs);
        this.jitter = jitter;
        this.random = random;
    }

    /**
     * The wait before attempt {@code failures + 1}, given {@code failures} consecutive failures so far
     * (0 gives about {@code initialMs}).
     */
    public long backoffMs(int failures) {
        if (initialMs == 0) {
            return 0;
        }
        // cap the exponent: 2^62 overflows nothing, and maxMs clamps long before that anyway
        int exp = Math.min(Math.max(failures, 0), 62);
        double nominal = Math.min((double) initialMs * Math.pow(2, exp), maxMs);
        double spread = 1 + jitter * (2 * random.getAsDouble() - 1);
        return Math.max(0, Math.round(Math.min(nominal * spread, (double) maxMs * (1 + jitter))));
    }

    public long initialMs() {
        return initialMs;
    }

    public long maxMs() {
        return maxMs;
    }
}
