package io.weir.broker.testing;

import io.weir.broker.Broker;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One {@link EmbeddedBroker} shared by all tests of a class: it starts before the class's {@code @BeforeAll}
 * methods and is closed (its temp dir deleted) after the class's {@code @AfterAll} methods, so that clients a
 * class opens in {@code @BeforeAll} and closes in {@code @AfterAll} never outlive the broker. Use it from a
 * static field:
 * <pre>{@code
 * @RegisterExtension
 * static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(Map.of("num.partitions", "3"));
 * }</pre>
 * JUnit runs the {@code afterAll} of a class-level extension whether the class's {@code @BeforeAll} methods
 * failed or not, so a failing set-up still stops the broker. It is for the common case only: a class that
 * restarts its broker, wants one per test, or runs several belongs with {@link EmbeddedBroker} itself.
 * Not thread-safe: JUnit calls it from the thread that runs the class.
 */
public final class EmbeddedBrokerExtension implements BeforeAllCallback, AfterAllCallback {
    /**
     * The most a start or a close may take: extension callbacks are outside JUnit's per-method timeout, so a hung
     * broker would otherwise hold the module's test JVM until surefire's fork timeout kills it (and its reports).
     */
    private static final Duration STEP_LIMIT = Duration.ofMinutes(2);
    private final Map<String, String> overrides;
    private EmbeddedBroker broker;
    /** The class whose {@code beforeAll} started the broker; {@code @Nested} classes see the same extension. */
    private Class<?> owner;

    private EmbeddedBrokerExtension(Map<String, String> overrides) {
        this.overrides = Map.copyOf(overrides);
    }

    /** A broker with {@link EmbeddedBroker}'s defaults. */
    public static EmbeddedBrokerExtension withDefaults() {
        return new EmbeddedBrokerExtension(Map.of());
    }

    /** A broker whose {@code overrides} win over {@link EmbeddedBroker}'s defaults. */
    public static EmbeddedBrokerExtension withConfig(Map<String, String> overrides) {
        return new EmbeddedBrokerExtension(overrides);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (broker != null) {
            return; // a @Nested class: the outer class's broker serves it
        }
        EmbeddedBroker b = new EmbeddedBroker(overrides);
        try {
            within("start", b::start);
        } catch (RuntimeException | Error e) {
            try {
                within("close", b::close); // its temp dir, and whatever part of the broker started
            } catch (RuntimeException | Error closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        broker = b;
        owner = context.getRequiredTestClass();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (broker == null || context.getRequiredTestClass() != owner) {
            return;
        }
        try {
            within("close", broker::close);
        } finally {
            broker = null;
            owner = null;
        }
    }

    /** Runs {@code step} on a daemon thread of its own and waits at most {@link #STEP_LIMIT} for it. */
    private static void within(String what, Runnable step) {
        FutureTask<Void> task = new FutureTask<>(step, null);
        Thread t = new Thread(task, "embedded-broker-" + what);
        t.setDaemon(true);
        t.start();
        try {
            task.get(STEP_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the embedded broker's " + what + " did not finish within " + STEP_LIMIT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for the embedded broker's " + what, e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        }
    }

    /** The running embedded broker, for helpers that take an {@link EmbeddedBroker}. */
    public EmbeddedBroker embedded() {
        if (broker == null) {
            throw new IllegalStateException("the broker runs only from the test class's @BeforeAll to its @AfterAll");
        }
        return broker;
    }

    /** The running {@link Broker}, as {@link EmbeddedBroker#broker()}. */
    public Broker broker() {
        return embedded().broker();
    }

    public String bootstrapServers() {
        return embedded().bootstrapServers();
    }

    public int port() {
        return embedded().port();
    }

    /** Its log dir, as {@link EmbeddedBroker#logDir()}. */
    public Path logDir() {
        return embedded().logDir();
    }
}
