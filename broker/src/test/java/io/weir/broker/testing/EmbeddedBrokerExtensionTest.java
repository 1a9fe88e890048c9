package io.weir.broker.testing;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Runs small test classes that use {@link EmbeddedBrokerExtension} through the JUnit launcher and checks the
 * broker's lifetime around them: up in their {@code @BeforeAll}, still up in their {@code @AfterAll} (where
 * clients close), and gone (its temp dir deleted) when the class ends, also when a {@code @BeforeAll} failed.
 * The sample classes are nested, so surefire does not run them on their own.
 */
class EmbeddedBrokerExtensionTest {
    private static TestExecutionSummary run(Class<?> testClass) {
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(testClass))
                .build(), listener);
        return listener.getSummary();
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void shouldKeepTheBrokerUpFromBeforeAllToAfterAllAndDeleteItAfterTheClass() {
        TestExecutionSummary summary = run(SharedBroker.class);

        assertEquals(2, summary.getTestsSucceededCount(), () -> summary.getFailures().toString());
        assertEquals(0, summary.getTotalFailureCount(), () -> summary.getFailures().toString());
        assertTrue(SharedBroker.upInBeforeAll, "the broker is up in the class's @BeforeAll");
        assertEquals(1, SharedBroker.ports.size(), "both tests saw the one broker: " + SharedBroker.ports);
        assertTrue(SharedBroker.upInAfterAll, "the broker is still up in the class's @AfterAll");
        assertNotNull(SharedBroker.logDir);
        assertFalse(Files.exists(SharedBroker.logDir), "its temp dir is deleted after the class");
    }

    @Test
    void shouldCloseTheBrokerWhenTheClassBeforeAllFails() {
        TestExecutionSummary summary = run(FailingBeforeAll.class);

        assertEquals(1, summary.getContainersFailedCount(), () -> summary.getFailures().toString());
        assertEquals(0, summary.getTestsStartedCount());
        assertNotNull(FailingBeforeAll.logDir, "the broker was started before the failing @BeforeAll");
        assertFalse(Files.exists(FailingBeforeAll.logDir), "its temp dir is deleted after the failed class");
    }

    static final class SharedBroker {
        @RegisterExtension
        static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(Map.of("num.partitions", "2"));

        static boolean upInBeforeAll;
        static boolean upInAfterAll;
        static Path logDir;
        static final Set<Integer> ports = new HashSet<>();

        @BeforeAll
        static void start() {
            logDir = BROKER.logDir();
            upInBeforeAll = Files.isDirectory(logDir) && accepts(BROKER.port());
        }

        @Test
        void first() {
            ports.add(BROKER.port());
            assertEquals(2, BROKER.broker().config().getInt("num.partitions"), "the overrides reach the broker");
        }

        @Test
        void second() {
            ports.add(BROKER.port());
            assertTrue(BROKER.bootstrapServers().endsWith(":" + BROKER.port()));
        }

        @AfterAll
        static void stop() {
            upInAfterAll = accepts(BROKER.port());
        }
    }

    static final class FailingBeforeAll {
        @RegisterExtension
        static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

        static Path logDir;

        @BeforeAll
        static void start() {
            logDir = BROKER.logDir();
            throw new IllegalStateException("set-up fails after the broker started");
        }

        @Test
        void neverRuns() {
        }
    }
}
