package io.weir.streams;

import io.weir.admin.Admin;
import io.weir.admin.AlterConfigOp;
import io.weir.admin.ConfigResource;
import io.weir.admin.NewTopic;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import io.weir.common.testing.Wait;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
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
import java.nio.file.Path;
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
    private static final int SMALL = 10;
    private static EmbeddedBroker broker;
    private static Path root;

    @BeforeAll
    static void start() throws Exception {
        broker = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3",
            "group.initial.rebalance.delay.ms", "0", "group.min.session.timeout.ms", "1000",
            "auto.create.topics.enable", "false")).start();
        root = TempDirs.create("weir-dlq-it");
        // the transaction coordinator's topic exists before any job starts: the retry test's short max.block.ms
        // then bounds only its sends, not its producer's first coordinator lookup
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", broker.bootstrapServers());
        c.put("transactional.id", "dlq-it-warm-up");
        try (WeirProducer<String, String> producer = new WeirProducer<>(c, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            producer.initTransactions();
        }
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
        TempDirs.delete(root);
    }

    private static void createTopics(String... names) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            List<NewTopic> topics = new ArrayList<>();
            for (String name : names) {
                topics.add(new NewTopic(name, 1, (short) 1));
            }
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
    }

    /** Creates a topic of one partition whose appends with acks=all the single broker refuses (NOT_ENOUGH_REPLICAS). */
    private static void createUnderReplicatedTopic(String name) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, 1, (short) 1).configs(Map.of("min.insync.replicas", "2"))))
                .all().get(60, TimeUnit.SECONDS);
        }
    }

    private static void setMinInsyncReplicas(String topic, int value) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic),
                List.of(new AlterConfigOp("min.insync.replicas", Integer.toString(value), AlterConfigOp.OpType.SET))))
                .all().get(60, TimeUnit.SECONDS);
        }
    }

    /** SMALL records k0..k9 = v0..v9, with one record "bad" = "bad" after the sixth. */
    private static void sendInput(String topic) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", broker.bootstrapServers());
        try (WeirProducer<String, String> producer = new WeirProducer<>(c, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            for (int i = 0; i < SMALL; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i));
                if (i == SMALL / 2) {
                    producer.send(new ProducerRecord<>(topic, 0, "bad", "bad"));
                }
            }
            producer.flush();
        }
    }

    private static WeirConsumer<String, String> consumer(String isolation) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", broker.bootstrapServers());
        c.put("isolation.level", isolation);
        c.put("enable.auto.commit", false);
        return new WeirConsumer<>(c, new Deserializers.StringDeserializer(), new Deserializers.StringDeserializer());
    }

    /** The end offset of partition 0 of {@code topic} as a consumer of {@code isolation} sees it. */
    private static long endOffset(String topic, String isolation) {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (WeirConsumer<String, String> consumer = consumer(isolation)) {
            return consumer.endOffsets(List.of(tp)).get(tp);
        }
    }

    /** Every record of partition 0 of {@code topic} up to its end offset, as a consumer of {@code isolation} reads it. */
    private static List<ConsumerRecord<String, String>> readAll(String topic, String isolation) {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (WeirConsumer<String, String> consumer = consumer(isolation)) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (consumer.position(tp) < end) {
                assertTrue(System.nanoTime() - deadline < 0, "reading " + topic + " to its end " + end + " in 120 s: " + out);
                consumer.poll(Duration.ofMillis(100)).forEach(out::add);
            }
            return out;
        }
    }

    /** Waits until the read_committed output holds {@code count} records, then returns them by key. */
    private static Map<String, String> awaitOutput(String topic, int count) throws InterruptedException {
        Map<String, String> out = new TreeMap<>();
        List<ConsumerRecord<String, String>>[] last = new List[1];
        Wait.until(() -> (last[0] = readAll(topic, "read_committed")).size() >= count, Duration.ofSeconds(120),
            () -> count + " committed records in " + topic + ", read " + last[0]);
        last[0].forEach(r -> out.put(r.key(), r.value()));
        assertEquals(count, last[0].size(), "records of " + topic + ": " + last[0]);
        return out;
    }

    private static Map<String, String> expectedOutput() {
        Map<String, String> expected = new TreeMap<>();
        for (int i = 0; i < SMALL; i++) {
            expected.put("k" + i, "v" + i);
        }
        return expected;
    }

    /** in-n -> mapValues (throws on "bad") -> out-n. */
    private static WeirStreams job(int n, Map<String, String> extra, List<Throwable> handled) {
        return ThrowingMapJob.build("dlq-" + n, n, broker.bootstrapServers(), root.resolve("state-" + n), extra, handled);
    }

    @Test
    void shouldCommitTheDeadLetterRecordOfAProcessingErrorInTheTransactionOfTheOutput() throws Exception {
        createTopics("in-1", "out-1", "dead-1");
        sendInput("in-1");
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<>());
        try (WeirStreams streams = job(1, Map.of(
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class.getName(),
            StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dead-1"), handled)) {
            streams.start();
            assertEquals(expectedOutput(), awaitOutput("out-1", SMALL));
            awaitOutput("dead-1", 1);
            ConsumerRecord<String, String> d = readAll("dead-1", "read_committed").get(0);
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
            assertEquals(2L, endOffset("dead-1", "read_uncommitted"), "the dead-letter record and its commit marker");
            assertEquals(1L, readAll("dead-1", "read_uncommitted").size());
            assertEquals(WeirStreams.State.RUNNING, streams.state(), "handled: " + handled);
            assertTrue(handled.isEmpty(), "no thread failed: " + handled);
        }
    }

    @Test
    void shouldStillFailTheThreadOnAFailAnswerAndCommitNoDeadLetterRecord() throws Exception {
        createTopics("in-2", "out-2", "dead-2");
        sendInput("in-2");
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
        Wait.until(() -> endOffset("dead-2", "read_committed") == endOffset("dead-2", "read_uncommitted"),
            Duration.ofSeconds(120), () -> "the failed thread's transaction to end");
        assertEquals(List.of(), readAll("dead-2", "read_committed"));
        assertTrue(readAll("out-2", "read_committed").size() <= SMALL / 2 + 1,
            "at most the output committed before the bad record: " + readAll("out-2", "read_committed"));
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
        createTopics("in-" + n);   // out-n is created only once the job has retried
        sendInput("in-" + n);
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
            createTopics("out-" + n);
            assertEquals(expectedOutput(), awaitOutput("out-" + n, SMALL));
            assertEquals(WeirStreams.State.RUNNING, streams.state(), "handled: " + handled);
            assertTrue(handled.isEmpty(), "no thread failed: " + handled);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {StreamsConfig.EXACTLY_ONCE, StreamsConfig.AT_LEAST_ONCE})
    void shouldRetryASendTheBrokerKeepsRefusingWithARetriableErrorUntilItIsAccepted(String guarantee) throws Exception {
        int n = guarantee.equals(StreamsConfig.EXACTLY_ONCE) ? 5 : 6;
        createTopics("in-" + n);
        createUnderReplicatedTopic("out-" + n);   // the producer's callback reports NOT_ENOUGH_REPLICAS at its delivery timeout
        sendInput("in-" + n);
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
                assertEquals(expectedOutput(), awaitOutput("out-" + n, SMALL));
            } else {
                // at-least-once: a batch accepted just as the config changed may be produced again by the retry
                Map<String, String> out = new TreeMap<>();
                Wait.until(() -> {
                    out.clear();
                    readAll("out-" + n, "read_committed").forEach(r -> out.put(r.key(), r.value()));
                    return out.size() == SMALL;
                }, Duration.ofSeconds(120), () -> "every key in out-" + n + ", read " + out);
                assertEquals(expectedOutput(), out);
            }
            assertEquals(WeirStreams.State.RUNNING, streams.state(), "handled: " + handled);
            assertTrue(handled.isEmpty(), "no thread failed: " + handled);
        }
    }
}
