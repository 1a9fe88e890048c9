package io.weir.streams;

import io.weir.admin.Admin;
import io.weir.admin.AlterConfigOp;
import io.weir.admin.ConfigResource;
import io.weir.admin.NewTopic;
import io.weir.common.testing.Wait;
import io.weir.consumer.ConsumerRecord;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.errors.DeadLetterQueueRecords;
import io.weir.streams.errors.ErrorHandlerContext;
import io.weir.streams.errors.LogAndContinueProcessingExceptionHandler;
import io.weir.streams.errors.LogAndFailProductionExceptionHandler;
import io.weir.streams.errors.ProductionExceptionHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KIP-1034 dead-letter queues and KIP-1065 RETRY in {@link WeirStreams} against a real in-JVM broker (topics are
 * not created on the fly: a missing output topic stays missing until the test creates it). Under exactly-once a
 * dead-letter record is written by the thread's transactional producer in the task's transaction: it becomes
 * visible to read_committed with the output, followed by the transaction's marker, and a FAIL answer still fails
 * the thread, leaving nothing committed in the dead-letter topic. A send that fails with a retriable error (thrown
 * by {@code send}: the output topic not in metadata within {@code max.block.ms}; or reported by the producer's
 * callback: the broker refusing with NOT_ENOUGH_REPLICAS until the delivery timeout) is retried by the default
 * handler until it succeeds: every record reaches the output (once, under exactly-once), and the thread never fails.
 */
@Timeout(300)
class DeadLetterQueueIntegrationTest {
    private static final int SMALL = ThrowingMapJob.SMALL;
    private static StreamsTestCluster cluster;

    @BeforeAll
    static void start() {
        cluster = StreamsTestCluster.start("weir-dlq-it", Map.of("auto.create.topics.enable", "false"));
        // the transaction coordinator's topic exists before any job starts: the retry test's short max.block.ms
        // then bounds only its sends, not its producer's first coordinator lookup
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", cluster.bootstrapServers());
        c.put("transactional.id", "dlq-it-warm-up");
        try (WeirProducer<String, String> producer = new WeirProducer<>(c, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            producer.initTransactions();
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Creates a topic of one partition whose appends with acks=all the single broker refuses (NOT_ENOUGH_REPLICAS). */
    private static void createUnderReplicatedTopic(String name) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, 1, (short) 1).configs(Map.of("min.insync.replicas", "2"))))
                .all().get(60, TimeUnit.SECONDS);
        }
    }

    private static void setMinInsyncReplicas(String topic, int value) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic),
                List.of(new AlterConfigOp("min.insync.replicas", Integer.toString(value), AlterConfigOp.OpType.SET))))
                .all().get(60, TimeUnit.SECONDS);
        }
    }

    /** in-n -> mapValues (throws on "bad") -> out-n. */
    private static WeirStreams job(int n, Map<String, String> extra, List<Throwable> handled) {
        return ThrowingMapJob.build(cluster, "dlq-" + n, n, extra, handled);
    }

    @Test
    void shouldCommitTheDeadLetterRecordOfAProcessingErrorInTheTransactionOfTheOutput() throws Exception {
        cluster.createTopics(1, "in-1", "out-1", "dead-1");
        ThrowingMapJob.sendInput(cluster, "in-1", false);
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<>());
        try (WeirStreams streams = job(1, Map.of(
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class.getName(),
            StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dead-1"), handled)) {
            streams.start();
            assertEquals(ThrowingMapJob.expectedOutput(), cluster.awaitCommittedStrings("out-1", SMALL));
            cluster.awaitCommittedStrings("dead-1", 1);
            ConsumerRecord<String, String> d = cluster.readStrings("dead-1", "read_committed").get(0);
            assertEquals("bad", d.key(), "the failed input record's raw key");
            assertEquals("bad", d.value(), "the failed input record's raw value");
            Map<String, String> headers = new HashMap<>();
            for (var h : d.headers()) {
                headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
            }
            assertEquals(IllegalStateException.class.getName(), headers.get(DeadLetterQueueRecords.HEADER_EXCEPTION));
            assertEquals("cannot process bad", headers.get(DeadLetterQueueRecords.HEADER_MESSAGE));
            assertEquals("in-1", headers.get(DeadLetterQueueRecords.HEADER_TOPIC));
            assertEquals("0", headers.get(DeadLetterQueueRecords.HEADER_PARTITION));
            assertEquals(String.valueOf(SMALL / 2 + 1), headers.get(DeadLetterQueueRecords.HEADER_OFFSET));
            assertTrue(headers.get(DeadLetterQueueRecords.HEADER_STACKTRACE).contains("cannot process bad"));
            // written in a transaction: the record at offset 0 is followed by its transaction's commit marker
            assertEquals(0L, d.offset());
            assertEquals(2L, cluster.endOffset("dead-1", "read_uncommitted"), "the dead-letter record and its commit marker");
            assertEquals(1L, cluster.readStrings("dead-1", "read_uncommitted").size());
            assertEquals(WeirStreams.State.RUNNING, streams.state(), "handled: " + handled);
            assertTrue(handled.isEmpty(), "no thread failed: " + handled);
        }
    }

    @Test
    void shouldStillFailTheThreadOnAFailAnswerAndCommitNoDeadLetterRecord() throws Exception {
        cluster.createTopics(1, "in-2", "out-2", "dead-2");
        ThrowingMapJob.sendInput(cluster, "in-2", false);
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<>());
        // the default processing handler answers FAIL, carrying the dead-letter record
        try (WeirStreams streams = job(2, Map.of(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dead-2"), handled)) {
            streams.start();
            Wait.until(() -> streams.state() == WeirStreams.State.ERROR, Duration.ofSeconds(120),
                () -> "the job to fail on the bad record, it is " + streams.state() + ", handled " + handled);
            assertEquals(1, handled.size(), "handled: " + handled);
            assertTrue(handled.get(0).getMessage().contains("processing exception handler chose to fail"), handled.get(0).toString());
        }
        // the thread aborted its transaction: once the markers are written, nothing of it is committed
        Wait.until(() -> cluster.endOffset("dead-2", "read_committed") == cluster.endOffset("dead-2", "read_uncommitted"),
            Duration.ofSeconds(120), () -> "the failed thread's transaction to end");
        assertEquals(List.of(), cluster.readStrings("dead-2", "read_committed"));
        assertTrue(cluster.readStrings("out-2", "read_committed").size() <= SMALL / 2 + 1,
            "at most the output committed before the bad record: " + cluster.readStrings("out-2", "read_committed"));
    }

    /** The default production handler, counting the RETRY answers it gives. */
    public static final class CountingDefaultHandler implements ProductionExceptionHandler {
        static final AtomicInteger RETRIES = new AtomicInteger();
        private final LogAndFailProductionExceptionHandler delegate = new LogAndFailProductionExceptionHandler();

        @Override
        public void configure(Map<String, ?> configs) {
            delegate.configure(configs);
        }

        @Override
        public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
            Response r = delegate.handleError(context, record, exception);
            if (r.result() == Result.RETRY) {
                RETRIES.incrementAndGet();
            }
            return r;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {StreamsConfig.EXACTLY_ONCE, StreamsConfig.AT_LEAST_ONCE})
    void shouldRetryASendToAMissingTopicUntilItExistsAndProduceEveryRecordOnce(String guarantee) throws Exception {
        int n = guarantee.equals(StreamsConfig.EXACTLY_ONCE) ? 3 : 4;
        cluster.createTopics(1, "in-" + n);   // out-n is created only once the job has retried
        ThrowingMapJob.sendInput(cluster, "in-" + n, false);
        CountingDefaultHandler.RETRIES.set(0);
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<>());
        try (WeirStreams streams = job(n, Map.of(
            StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee,
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class.getName(),
            StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, CountingDefaultHandler.class.getName(),
            "producer.max.block.ms", "2000"), handled)) {
            streams.start();
            Wait.until(() -> CountingDefaultHandler.RETRIES.get() >= 2 || !handled.isEmpty(), Duration.ofSeconds(120),
                () -> "the handler to answer RETRY twice to the missing topic, handled " + handled);
            assertTrue(handled.isEmpty(), "no thread failed while the topic was missing: " + handled);
            cluster.createTopics(1, "out-" + n);
            assertEquals(ThrowingMapJob.expectedOutput(), cluster.awaitCommittedStrings("out-" + n, SMALL));
            assertEquals(WeirStreams.State.RUNNING, streams.state(), "handled: " + handled);
            assertTrue(handled.isEmpty(), "no thread failed: " + handled);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {StreamsConfig.EXACTLY_ONCE, StreamsConfig.AT_LEAST_ONCE})
    void shouldRetryASendTheBrokerKeepsRefusingWithARetriableErrorUntilItIsAccepted(String guarantee) throws Exception {
        int n = guarantee.equals(StreamsConfig.EXACTLY_ONCE) ? 5 : 6;
        cluster.createTopics(1, "in-" + n);
        createUnderReplicatedTopic("out-" + n);   // the producer's callback reports NOT_ENOUGH_REPLICAS at its delivery timeout
        ThrowingMapJob.sendInput(cluster, "in-" + n, false);
        CountingDefaultHandler.RETRIES.set(0);
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<>());
        try (WeirStreams streams = job(n, Map.of(
            StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee,
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class.getName(),
            StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, CountingDefaultHandler.class.getName(),
            "producer.request.timeout.ms", "1000", "producer.delivery.timeout.ms", "2000"), handled)) {
            streams.start();
            Wait.until(() -> CountingDefaultHandler.RETRIES.get() >= 2 || !handled.isEmpty(), Duration.ofSeconds(120),
                () -> "the handler to answer RETRY twice to the refused sends, handled " + handled);
            assertTrue(handled.isEmpty(), "no thread failed while the broker refused the sends: " + handled);
            setMinInsyncReplicas("out-" + n, 1);
            if (guarantee.equals(StreamsConfig.EXACTLY_ONCE)) {
                assertEquals(ThrowingMapJob.expectedOutput(), cluster.awaitCommittedStrings("out-" + n, SMALL));
            } else {
                // at-least-once: a batch accepted just as the config changed may be produced again by the retry
                Map<String, String> out = new TreeMap<>();
                Wait.until(() -> {
                    out.clear();
                    cluster.readStrings("out-" + n, "read_committed").forEach(r -> out.put(r.key(), r.value()));
                    return out.size() == SMALL;
                }, Duration.ofSeconds(120), () -> "every key in out-" + n + ", read " + out);
                assertEquals(ThrowingMapJob.expectedOutput(), out);
            }
            assertEquals(WeirStreams.State.RUNNING, streams.state(), "handled: " + handled);
            assertTrue(handled.isEmpty(), "no thread failed: " + handled);
        }
    }
}
