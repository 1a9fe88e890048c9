package io.weir.broker;

import io.weir.common.TopicPartition;
import io.weir.common.testing.Batches;
import io.weir.common.testing.TempDirs;
import io.weir.log.Log;
import io.weir.log.LogConfig;
import io.weir.log.LogManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Starting and stopping a broker: a failed start releases everything, a stop never hangs or skips stages. */
class BrokerLifecycleTest {
    private final Path logDir = TempDirs.create("broker-lifecycle");

    @AfterEach
    void cleanUp() {
        TempDirs.delete(logDir);
    }

    private BrokerConfig config() {
        Map<String, String> props = new HashMap<>();
        props.put(BrokerConfig.LISTENERS, "PLAINTEXT://127.0.0.1:0");
        props.put(BrokerConfig.LOG_DIRS, logDir.toString());
        props.put(BrokerConfig.NUM_NETWORK_THREADS, "2");
        props.put(BrokerConfig.NUM_IO_THREADS, "2");
        return new BrokerConfig(props);
    }

    private static Set<Thread> weirThreads() {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.isAlive() && t.getName().startsWith("weir-")).collect(Collectors.toSet());
    }

    @Test
    void shouldReleaseThreadsPortAndLogDirWhenStartupFailsAfterTheNetworkStarted() throws Exception {
        Set<Thread> before = weirThreads();
        Broker broker = new Broker(config());
        int[] port = new int[1];
        broker.startupHook = stage -> {
            if (stage.equals("network started")) {
                port[0] = broker.boundPort();
                throw new IllegalStateException("injected startup failure");
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, broker::startup);
        assertEquals("injected startup failure", e.getMessage());
        assertTrue(port[0] > 0);
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port[0]).close(), "listener closed");

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Set<Thread> leaked;
        do {
            leaked = weirThreads();
            leaked.removeAll(before);
            if (!leaked.isEmpty()) {
                leaked.iterator().next().join(200);
            }
        } while (!leaked.isEmpty() && System.nanoTime() < deadline);
        assertTrue(leaked.isEmpty(), "threads left running after a failed start: " + leaked);

        // the directory lock was released: another broker can take the same log dir
        Broker next = new Broker(config());
        next.startup();
        next.shutdown();
        assertTrue(Files.exists(logDir.resolve(LogManager.CLEAN_SHUTDOWN_FILE)));
    }

    @Test
    void shouldLetARunningDutyFinishAndStopCleanly() throws Exception {
        Broker broker = new Broker(config());
        broker.startup();
        TopicPartition tp = new TopicPartition("duty", 0);
        Log log = broker.replicaManager().logManager().getOrCreateLog(tp, LogConfig.defaults());
        CountDownLatch dutyRunning = new CountDownLatch(1);
        AtomicLong appended = new AtomicLong();
        // a duty that writes and fsyncs for a while, as a flush of a busy log does; an interrupt here
        // would close the segment's channel and make the final flush fail
        broker.scheduleDuty("test writer", 1, () -> {
            dutyRunning.countDown();
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_500);
            while (System.nanoTime() < end) {
                log.appendAsLeader(Batches.records(System.currentTimeMillis(), "v"), 0);
                appended.incrementAndGet();
                log.activeSegment().flush();
            }
            return 1;
        });
        assertTrue(dutyRunning.await(30, TimeUnit.SECONDS));
        Thread stopper = new Thread(broker::shutdown, "test-stopper");
        stopper.start();
        stopper.join(TimeUnit.SECONDS.toMillis(60));
        assertTrue(!stopper.isAlive(), "shutdown returned");
        CountDownLatch awaited = new CountDownLatch(1);
        Thread waiter = new Thread(() -> {
            try {
                broker.awaitShutdown();
                awaited.countDown();
            } catch (InterruptedException ignored) {
                // test ends
            }
        });
        waiter.setDaemon(true);
        waiter.start();
        assertTrue(awaited.await(60, TimeUnit.SECONDS), "awaitShutdown returned");
        assertTrue(Files.exists(logDir.resolve(LogManager.CLEAN_SHUTDOWN_FILE)), "clean-shutdown marker written");

        // lock released, nothing lost: every record the duty appended is there after a clean restart
        try (LogManager reopened = LogManager.open(logDir, LogConfig.defaults(), Map.of(), io.weir.common.Time.SYSTEM)) {
            assertTrue(reopened.hadCleanShutdown());
            assertEquals(appended.get(), reopened.getLog(tp).logEndOffset());
        }
    }
}
