package io.weir.streams.errors;

import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializer;
import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.kstream.Produced;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The processing (KIP-1033) and production (serialization) exception handlers, through the test driver. */
class ExceptionHandlersTest {

    /** Remembers what it was asked, then answers CONTINUE. */
    public static final class RecordingProcessingHandler implements ProcessingExceptionHandler {
        static final List<ErrorHandlerContext> CONTEXTS = new ArrayList<>();

        @Override
        public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
            CONTEXTS.add(context);
            return ProcessingHandlerResponse.CONTINUE;
        }
    }

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "handlers");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    private static StreamsBuilder failingOnBad() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in")
            .mapValues((k, v) -> {
                if (v.equals("bad")) {
                    throw new IllegalArgumentException("cannot map " + k);
                }
                return v.toUpperCase();
            }, io.weir.streams.kstream.Named.as("upper"))
            .to("out");
        return builder;
    }

    @Test
    void shouldFailOnAProcessorExceptionByDefaultNamingNodeAndOffset() {
        try (TopologyTestDriver driver = new TopologyTestDriver(failingOnBad().build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            in.pipeInput("a", "x");
            StreamsException e = assertThrows(StreamsException.class, () -> in.pipeInput("b", "bad"));
            String all = e.getMessage() + " / " + (e.getCause() == null ? "" : e.getCause().getMessage());
            assertTrue(e.getMessage().contains("upper") && e.getMessage().contains("offset 1"), all);
        }
    }

    @Test
    void shouldDropTheRecordWhenTheProcessingHandlerContinues() {
        RecordingProcessingHandler.CONTEXTS.clear();
        Properties p = props();
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, RecordingProcessingHandler.class.getName());
        try (TopologyTestDriver driver = new TopologyTestDriver(failingOnBad().build(), p, Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, String> out = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer());
            in.pipeInput("a", "x");
            in.pipeInput("b", "bad");
            in.pipeInput("c", "y");
            assertEquals(List.of(KeyValue.pair("a", "X"), KeyValue.pair("c", "Y")), out.readKeyValuesToList());
            assertEquals(1, RecordingProcessingHandler.CONTEXTS.size(), "one failure handled");
            ErrorHandlerContext c = RecordingProcessingHandler.CONTEXTS.get(0);
            assertEquals("in", c.topic());
            assertEquals(0, c.partition());
            assertEquals(1L, c.offset());
            assertEquals("upper", c.processorNodeId());
        }
    }

    /** A value serializer that refuses "bad". */
    public static final class PickySerializer implements Serializer<String> {
        @Override
        public byte[] serialize(String topic, String data) {
            if ("bad".equals(data)) {
                throw new SerializationException("refusing " + data);
            }
            return data.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static StreamsBuilder pickySink() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in")
            .to("out", Produced.with(Serdes.String(), Serdes.serdeFrom(new PickySerializer(), Serdes.String().deserializer())));
        return builder;
    }

    /** Counts serialization failures, then continues. */
    public static final class ContinueOnSerialization implements ProductionExceptionHandler {
        static final List<SerializationExceptionOrigin> ORIGINS = new ArrayList<>();

        @Override
        public ProductionExceptionHandlerResponse handle(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
                                                         Exception exception) {
            return ProductionExceptionHandlerResponse.FAIL;
        }

        @Override
        public ProductionExceptionHandlerResponse handleSerializationException(ErrorHandlerContext context, ProducerRecord<?, ?> record,
                                                                             Exception exception, SerializationExceptionOrigin origin) {
            ORIGINS.add(origin);
            return ProductionExceptionHandlerResponse.CONTINUE;
        }
    }

    @Test
    void shouldFailOnASinkSerializationErrorByDefault() {
        try (TopologyTestDriver driver = new TopologyTestDriver(pickySink().build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            assertThrows(StreamsException.class, () -> in.pipeInput("b", "bad"));
        }
    }

    @Test
    void shouldSkipARecordTheSinkCannotSerializeWhenTheProductionHandlerContinues() {
        ContinueOnSerialization.ORIGINS.clear();
        Properties p = props();
        p.put(StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, ContinueOnSerialization.class.getName());
        try (TopologyTestDriver driver = new TopologyTestDriver(pickySink().build(), p, Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, String> out = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer());
            in.pipeInput("a", "x");
            in.pipeInput("b", "bad");
            in.pipeInput("c", "y");
            assertEquals(List.of(KeyValue.pair("a", "x"), KeyValue.pair("c", "y")), out.readKeyValuesToList());
            assertEquals(List.of(ProductionExceptionHandler.SerializationExceptionOrigin.VALUE), ContinueOnSerialization.ORIGINS);
        }
    }

    /**
     * The built-in handlers still answer the pre-KIP-1034 {@code handle} (a user's handler may delegate to it), with
     * the answer their {@code handleError} gives.
     */
    @Test
    void shouldAnswerTheLegacyHandleAsHandleErrorDecides() {
        ErrorHandlerContext c = new ErrorHandlerContext(null, "in", 0, 7, "upper");
        Exception e = new IllegalStateException("boom");
        io.weir.consumer.ConsumerRecord<byte[], byte[]> in = new io.weir.consumer.ConsumerRecord<>("in", 0, 7, null, null);
        assertEquals(DeserializationExceptionHandler.DeserializationHandlerResponse.CONTINUE,
            new LogAndContinueExceptionHandler().handle(c, in, e));
        assertEquals(DeserializationExceptionHandler.DeserializationHandlerResponse.FAIL,
            new LogAndFailExceptionHandler().handle(c, in, e));

        Record<String, String> r = new Record<>("k", "v", 0L);
        assertEquals(ProcessingExceptionHandler.ProcessingHandlerResponse.CONTINUE,
            new LogAndContinueProcessingExceptionHandler().handle(c, r, e));
        assertEquals(ProcessingExceptionHandler.ProcessingHandlerResponse.FAIL,
            new LogAndFailProcessingExceptionHandler().handle(c, r, e));

        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>("out", 0, null, null);
        Exception retriable = new io.weir.protocol.ApiException(io.weir.protocol.Errors.NOT_LEADER_OR_FOLLOWER, "moved");
        for (ProductionExceptionHandler h : List.of(new LogAndContinueProductionExceptionHandler(),
            new LogAndFailProductionExceptionHandler())) {
            assertEquals(ProductionExceptionHandler.ProductionExceptionHandlerResponse.RETRY, h.handle(c, out, retriable), h.toString());
        }
        assertEquals(ProductionExceptionHandler.ProductionExceptionHandlerResponse.CONTINUE,
            new LogAndContinueProductionExceptionHandler().handle(c, out, e));
        assertEquals(ProductionExceptionHandler.ProductionExceptionHandlerResponse.FAIL,
            new LogAndFailProductionExceptionHandler().handle(c, out, e));
        assertEquals(ProductionExceptionHandler.ProductionExceptionHandlerResponse.CONTINUE,
            new LogAndContinueProductionExceptionHandler().handleSerializationException(c, out, e,
                ProductionExceptionHandler.SerializationExceptionOrigin.KEY));
        assertEquals(ProductionExceptionHandler.ProductionExceptionHandlerResponse.FAIL,
            new LogAndFailProductionExceptionHandler().handleSerializationException(c, out, e,
                ProductionExceptionHandler.SerializationExceptionOrigin.VALUE));
    }
}
