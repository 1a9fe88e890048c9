package io.weir.streams.errors;

import io.weir.common.record.Header;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializer;
import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.kstream.Named;
import io.weir.streams.kstream.Produced;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TestRecord;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KIP-1034 dead-letter queues through the test driver: the built-in handlers send the failed input record, with
 * its headers and the {@code __streams.errors.*} headers, to {@code errors.dead.letter.queue.topic.name}; a custom
 * handler's {@code Response} carries its own records; a FAIL answer still fails, and what it sent is dropped with
 * the failed unit of work (the driver commits as a transaction would).
 */
class DeadLetterQueueTest {
    private static final Instant START = Instant.ofEpochMilli(0);

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "dlq");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    /** in -> mapValues "upper" (throws on "bad") -> out. */
    private static StreamsBuilder failingOnBad() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in")
            .mapValues((k, v) -> {
                if (v.equals("bad")) {
                    throw new IllegalArgumentException("cannot map " + k);
                }
                return v.toUpperCase();
            }, Named.as("upper"))
            .to("out");
        return builder;
    }

    private static Map<String, String> headers(TestRecord<?, ?> r) {
        Map<String, String> h = new HashMap<>();
        r.headers().forEach(x -> h.put(x.key(), x.value() == null ? null : new String(x.value(), StandardCharsets.UTF_8)));
        return h;
    }

    private static TestOutputTopic<byte[], byte[]> dlq(TopologyTestDriver driver) {
        return driver.createOutputTopic("dead", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer());
    }

    @Test
    void shouldSendTheFailedInputRecordWithErrorHeadersToTheDeadLetterTopicAndGoOn() {
        Properties p = props();
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class.getName());
        p.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dead");
        try (TopologyTestDriver driver = new TopologyTestDriver(failingOnBad().build(), p, START)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, String> out = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer());
            in.pipeInput("a", "x");
            in.pipeInput(new TestRecord<>("b", "bad", List.of(new Header("trace", "t-1".getBytes(StandardCharsets.UTF_8))),
                Instant.ofEpochMilli(42)));
            in.pipeInput("c", "y");
            assertEquals(List.of(KeyValue.pair("a", "X"), KeyValue.pair("c", "Y")), out.readKeyValuesToList());

            List<TestRecord<byte[], byte[]>> dead = dlq(driver).readRecordsToList();
            assertEquals(1, dead.size(), "one dead-letter record");
            TestRecord<byte[], byte[]> d = dead.get(0);
            assertArrayEquals("b".getBytes(StandardCharsets.UTF_8), d.key(), "the input record's raw key");
            assertArrayEquals("bad".getBytes(StandardCharsets.UTF_8), d.value(), "the input record's raw value");
            assertEquals(42L, d.timestamp());
            Map<String, String> h = headers(d);
            assertEquals("t-1", h.get("trace"), "the input record's own headers are kept");
            assertEquals(IllegalArgumentException.class.getName(), h.get(DeadLetterQueueRecords.HEADER_EXCEPTION));
            assertEquals("cannot map b", h.get(DeadLetterQueueRecords.HEADER_MESSAGE));
            assertTrue(h.get(DeadLetterQueueRecords.HEADER_STACKTRACE).contains("cannot map b"), h.toString());
            assertEquals("in", h.get(DeadLetterQueueRecords.HEADER_TOPIC));
            assertEquals("0", h.get(DeadLetterQueueRecords.HEADER_PARTITION));
            assertEquals("1", h.get(DeadLetterQueueRecords.HEADER_OFFSET));
        }
    }

    @Test
    void shouldSendNothingToADeadLetterTopicWhenNoneIsConfigured() {
        Properties p = props();
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class.getName());
        try (TopologyTestDriver driver = new TopologyTestDriver(failingOnBad().build(), p, START)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("b", "bad");
            assertTrue(dlq(driver).isEmpty());
        }
    }

    /** Answers RESUME with one record of its own making, to "custom-dead". */
    public static final class CustomRecordHandler implements ProcessingExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
            return Response.resume(List.of(new ProducerRecord<>("custom-dead", null, 7L,
                ("node=" + context.processorNodeId()).getBytes(StandardCharsets.UTF_8), context.sourceRawValue())));
        }
    }

    @Test
    void shouldSendTheRecordsACustomHandlersResponseCarries() {
        Properties p = props();
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, CustomRecordHandler.class.getName());
        try (TopologyTestDriver driver = new TopologyTestDriver(failingOnBad().build(), p, START)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("b", "bad");
            List<TestRecord<String, String>> dead = driver.createOutputTopic("custom-dead", Serdes.String().deserializer(),
                Serdes.String().deserializer()).readRecordsToList();
            assertEquals(1, dead.size());
            assertEquals("node=upper", dead.get(0).key());
            assertEquals("bad", dead.get(0).value());
            assertEquals(7L, dead.get(0).timestamp());
        }
    }

    /** Answers FAIL with a dead-letter record. */
    public static final class FailWithRecordHandler implements ProcessingExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
            return Response.fail(DeadLetterQueueRecords.maybeBuild("dead", context, exception));
        }
    }

    @Test
    void shouldStillFailOnAFailResponseAndDropItsDeadLetterRecordWithTheFailedUnitOfWork() {
        Properties p = props();
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, FailWithRecordHandler.class.getName());
        try (TopologyTestDriver driver = new TopologyTestDriver(failingOnBad().build(), p, START)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            StreamsException e = assertThrows(StreamsException.class, () -> in.pipeInput("b", "bad"));
            assertTrue(e.getMessage().contains("processing exception handler chose to fail"), e.getMessage());
            assertTrue(dlq(driver).isEmpty(), "the dead-letter record went with the aborted unit of work");
        }
    }

    @Test
    void shouldDropTheDeadLetterRecordOfAFailedDeserializationWithTheFailedUnitOfWork() {
        Properties p = props();
        p.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dead");
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in", io.weir.streams.kstream.Consumed.with(Serdes.String(), Serdes.Long())).mapValues(v -> v + 1)
            .to("out", Produced.with(Serdes.String(), Serdes.Long()));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), p, START)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            // the built-in LogAndFailExceptionHandler answers FAIL with the record: the driver drops it with the failure
            assertThrows(StreamsException.class, () -> in.pipeInput("k", "not a long"));
            assertTrue(dlq(driver).isEmpty());
        }
    }

    /** A value serializer that refuses "bad". */
    public static final class PickySerializer implements Serializer<String> {
        @Override
        public byte[] serialize(String topic, String data) {
            if ("bad".equals(data)) {
                throw new SerializationException("refusing " + data);
            }
            return data.getBytes(StandardCharsets.UTF_8);
        }
    }

    @Test
    void shouldSendARecordTheSinkCannotSerializeToTheDeadLetterTopicWhenTheProductionHandlerResumes() {
        Properties p = props();
        p.put(StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProductionExceptionHandler.class.getName());
        p.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dead");
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in")
            .to("out", Produced.with(Serdes.String(), Serdes.serdeFrom(new PickySerializer(), Serdes.String().deserializer())));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), p, START)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("a", "bad");
            in.pipeInput("b", "good");
            assertEquals(List.of("good"), driver.createOutputTopic("out", Serdes.String().deserializer(),
                Serdes.String().deserializer()).readValuesToList());
            List<TestRecord<byte[], byte[]>> dead = dlq(driver).readRecordsToList();
            assertEquals(1, dead.size());
            assertArrayEquals("bad".getBytes(StandardCharsets.UTF_8), dead.get(0).value());
            Map<String, String> h = headers(dead.get(0));
            assertEquals(SerializationException.class.getName(), h.get(DeadLetterQueueRecords.HEADER_EXCEPTION));
            assertEquals("0", h.get(DeadLetterQueueRecords.HEADER_OFFSET));
        }
    }

    @Test
    void shouldTreatRetryOfASerializationErrorAsFail() {
        assertEquals(ProductionExceptionHandler.Result.RETRY, ProductionExceptionHandler.Response.retry().result());
        Properties p = props();
        p.put(StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, RetryEverything.class.getName());
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in")
            .to("out", Produced.with(Serdes.String(), Serdes.serdeFrom(new PickySerializer(), Serdes.String().deserializer())));
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), p, START)) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            StreamsException e = assertThrows(StreamsException.class, () -> in.pipeInput("a", "bad"));
            assertTrue(e.getMessage().contains("could not serialize"), e.getMessage());
        }
    }

    /** Answers RETRY to everything. */
    public static final class RetryEverything implements ProductionExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
            return Response.retry();
        }

        @Override
        public Response handleSerializationError(ErrorHandlerContext context, ProducerRecord<?, ?> record, Exception exception,
                                                 SerializationExceptionOrigin origin) {
            return Response.retry();
        }
    }

    @Test
    void shouldGiveAPunctuationsRecordNoRawBytes() {
        ErrorHandlerContext c = new ErrorHandlerContext(null, null, -1, -1, "n");
        assertNull(c.sourceRawKey());
        assertTrue(DeadLetterQueueRecords.maybeBuild(null, c, new RuntimeException()).isEmpty());
        ProducerRecord<byte[], byte[]> r = DeadLetterQueueRecords.build("dead", c, new RuntimeException("m"));
        assertNull(r.value());
        assertNull(r.timestamp(), "no input timestamp: the producer stamps it");
    }
}
