package io.weir.streams;

import io.weir.common.testing.Wait;
import io.weir.streams.errors.LogAndContinueProcessingExceptionHandler;
import io.weir.streams.errors.LogAndContinueProductionExceptionHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The production and processing exception handlers in {@link WeirStreams} against a real in-JVM broker, under
 * exactly-once: a record the producer refuses (larger than the streams producer's {@code max.request.size}) or
 * a record a processor throws on is dropped and counted when the handler continues (the rest commits exactly),
 * and fails the thread by default.
 */
@Timeout(300)
class ExceptionHandlersIntegrationTest {
    private static StreamsTestCluster cluster;

    @BeforeAll
    static void start() {
        cluster = StreamsTestCluster.start("weir-handlers-it");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** in-n -> mapValues (throws on "bad") -> out-n, the streams producer refusing records over 4000 bytes. */
    private static WeirStreams job(int n, Map<String, String> extra, List<Throwable> handled) {
        Map<String, String> config = new HashMap<>(extra);
        config.putIfAbsent("producer.max.request.size", "4000");
        return ThrowingMapJob.build(cluster, "handlers-" + n, n, config, handled);
    }

    @Test
    void shouldDropAndCountTheRecordsBothHandlersContinuePastAndCommitTheRestExactly() throws Exception {
        cluster.createTopics(1, "in-1", "out-1");
        ThrowingMapJob.sendInput(cluster, "in-1", true);
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<>());
        try (WeirStreams streams = job(1, Map.of(
            StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProductionExceptionHandler.class.getName(),
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class.getName()),
            handled)) {
            streams.start();
            assertEquals(ThrowingMapJob.expectedOutput(), cluster.awaitCommittedStrings("out-1", ThrowingMapJob.SMALL));
            Wait.until(() -> streams.metrics().get("dropped-records-total") == 2L, Duration.ofSeconds(60),
                () -> "dropped-records-total to be 2 (the big record, the bad one): " + streams.metrics().get("dropped-records-total"));
            assertEquals(WeirStreams.State.RUNNING, streams.state(), "handled: " + handled);
            assertTrue(handled.isEmpty(), "no thread failed: " + handled);
        }
    }

    @Test
    void shouldFailTheThreadOnARefusedSendByDefault() throws Exception {
        cluster.createTopics(1, "in-2", "out-2");
        ThrowingMapJob.sendInput(cluster, "in-2", true);
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<>());
        // the processing handler continues past "bad", so the refused big record is what fails
        try (WeirStreams streams = job(2, Map.of(
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class.getName()),
            handled)) {
            streams.start();
            Wait.until(() -> streams.state() == WeirStreams.State.ERROR, Duration.ofSeconds(120),
                () -> "the job to fail on the refused record, it is " + streams.state() + ", handled " + handled);
            assertEquals(1, handled.size(), "handled: " + handled);
            assertTrue(handled.get(0).getMessage().contains("production exception handler chose to fail"), handled.get(0).toString());
        }
    }

    @Test
    void shouldFailTheThreadOnAProcessorExceptionByDefault() throws Exception {
        cluster.createTopics(1, "in-3", "out-3");
        ThrowingMapJob.sendInput(cluster, "in-3", true);
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<>());
        try (WeirStreams streams = job(3, Map.of(
            StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProductionExceptionHandler.class.getName()),
            handled)) {
            streams.start();
            Wait.until(() -> streams.state() == WeirStreams.State.ERROR, Duration.ofSeconds(120),
                () -> "the job to fail on the bad record, it is " + streams.state() + ", handled " + handled);
            assertEquals(1, handled.size(), "handled: " + handled);
            assertTrue(handled.get(0).getMessage().contains("processing exception handler chose to fail")
                && handled.get(0).getMessage().contains("offset " + (ThrowingMapJob.SMALL / 2 + 2)), handled.get(0).toString());
        }
    }
}
