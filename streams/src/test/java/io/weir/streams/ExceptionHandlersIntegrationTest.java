package io.weir.streams;

import io.weir.admin.Admin;
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
import io.weir.streams.errors.LogAndContinueProcessingExceptionHandler;
import io.weir.streams.errors.LogAndContinueProductionExceptionHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

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
    private static final int SMALL = 10;
    private static EmbeddedBroker broker;
    private static Path root;

    @BeforeAll
    static void start() throws Exception {
        broker = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3",
            "group.initial.rebalance.delay.ms", "0", "group.min.session.timeout.ms", "1000")).start();
        root = TempDirs.create("weir-handlers-it");
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

    /** SMALL small records around one of 20 000 bytes (key "big") or one with value "bad" (key "bad"). */
    private static void sendInput(String topic) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", broker.bootstrapServers());
        try (WeirProducer<String, String> producer = new WeirProducer<>(c, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            for (int i = 0; i < SMALL; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i));
                if (i == SMALL / 2) {
                    producer.send(new ProducerRecord<>(topic, 0, "big", "x".repeat(20_000)));
                    producer.send(new ProducerRecord<>(topic, 0, "bad", "bad"));
                }
            }
            producer.flush();
        }
    }

    private static Map<String, String> awaitOutput(String topic, int count) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", broker.bootstrapServers());
        c.put("isolation.level", "read_committed");
        c.put("enable.auto.commit", false);
        Map<String, String> out = new TreeMap<>();
        try (WeirConsumer<String, String> consumer = new WeirConsumer<>(c, new Deserializers.StringDeserializer(),
            new Deserializers.StringDeserializer())) {
            List<TopicPartition> tps = List.of(new TopicPartition(topic, 0));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            int seen = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (seen < count) {
                if (System.nanoTime() - deadline > 0) {
                    assertEquals(count, seen, "committed output records of " + topic + " in 120 s: " + out);
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    out.put(r.key(), r.value());
                    seen++;
                }
            }
            // nothing beyond: a short extra poll finds no more committed records
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                out.put(r.key(), r.value());
                seen++;
            }
            assertEquals(count, seen, "output records of " + topic + ": " + out);
        }
        return out;
    }

    /** in-n -> mapValues (throws on "bad") -> out-n, the streams producer refusing records over 4000 bytes. */
    private static WeirStreams job(int n, Map<String, String> extra, List<Throwable> handled) {
        Map<String, String> config = new HashMap<>(extra);
        config.putIfAbsent("producer.max.request.size", "4000");
        return ThrowingMapJob.build("handlers-" + n, n, broker.bootstrapServers(), root.resolve("state-" + n), config, handled);
    }

    @Test
    void shouldDropAndCountTheRecordsBothHandlersContinuePastAndCommitTheRestExactly() throws Exception {
        createTopics("in-1", "out-1");
        sendInput("in-1");
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<>());
        try (WeirStreams streams = job(1, Map.of(
            StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProductionExceptionHandler.class.getName(),
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class.getName()),
            handled)) {
            streams.start();
            Map<String, String> expected = new TreeMap<>();
            for (int i = 0; i < SMALL; i++) {
                expected.put("k" + i, "v" + i);
            }
            assertEquals(expected, awaitOutput("out-1", SMALL));
            Wait.until(() -> streams.metrics().get("dropped-records-total") == 2L, Duration.ofSeconds(60),
                () -> "dropped-records-total to be 2 (the big record, the bad one): " + streams.metrics().get("dropped-records-total"));
            assertEquals(WeirStreams.State.RUNNING, streams.state(), "handled: " + handled);
            assertTrue(handled.isEmpty(), "no thread failed: " + handled);
        }
    }

    @Test
    void shouldFailTheThreadOnARefusedSendByDefault() throws Exception {
        createTopics("in-2", "out-2");
        sendInput("in-2");
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
        createTopics("in-3", "out-3");
        sendInput("in-3");
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<>());
        try (WeirStreams streams = job(3, Map.of(
            StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProductionExceptionHandler.class.getName()),
            handled)) {
            streams.start();
            Wait.until(() -> streams.state() == WeirStreams.State.ERROR, Duration.ofSeconds(120),
                () -> "the job to fail on the bad record, it is " + streams.state() + ", handled " + handled);
            assertEquals(1, handled.size(), "handled: " + handled);
            assertTrue(handled.get(0).getMessage().contains("processing exception handler chose to fail")
                && handled.get(0).getMessage().contains("offset " + (SMALL / 2 + 2)), handled.get(0).toString());
        }
    }
}
