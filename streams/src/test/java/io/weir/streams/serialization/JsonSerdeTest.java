package io.weir.streams.serialization;

import io.weir.consumer.ConsumerRecord;
import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.errors.DeserializationExceptionHandler;
import io.weir.streams.errors.ErrorHandlerContext;
import io.weir.streams.errors.SerializationException;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Produced;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JSON serde: JSON's own types, records, and clear failures that the deserialization handlers see. */
class JsonSerdeTest {

    enum Status { OPEN, SHIPPED }

    record Line(String sku, int quantity, BigDecimal price) {
    }

    record Order(String id, long customer, Status status, List<Line> lines, Map<String, Long> counters, Set<String> tags,
                 Double discount, boolean gift) {
    }

    record Amount(long cents) {
        Amount {
            if (cents < 0) {
                throw new IllegalArgumentException("negative amount " + cents);
            }
        }
    }

    /** Not a record: needs a mapping library. */
    static final class Bean {
        String name;
    }

    private static <T> T roundTrip(Serde<T> serde, T value) {
        byte[] bytes = serde.serializer().serialize("t", value);
        return serde.deserializer().deserialize("t", bytes);
    }

    @Test
    void shouldRoundTripJsonTypes() {
        Serde<Object> serde = Serdes.json(Object.class);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("name", "weir \"streams\"\n");
        doc.put("count", 3L);
        doc.put("ratio", 0.25);
        doc.put("ok", true);
        doc.put("none", null);
        doc.put("items", List.of(1L, "two", List.of(), Map.of()));
        assertEquals(doc, roundTrip(serde, doc));
        assertEquals("{\"name\":\"weir \\\"streams\\\"\\n\",\"count\":3,\"ratio\":0.25,\"ok\":true,\"none\":null,"
            + "\"items\":[1,\"two\",[],{}]}", new String(serde.serializer().serialize("t", doc), StandardCharsets.UTF_8));
        assertEquals("text", roundTrip(Serdes.json(String.class), "text"));
        assertEquals(42L, roundTrip(Serdes.json(Long.class), 42L));
        assertNull(serde.serializer().serialize("t", null), "null is a tombstone");
        assertNull(serde.deserializer().deserialize("t", null));
    }

    @Test
    void shouldRoundTripRecords() {
        Serde<Order> serde = Serdes.json(Order.class);
        Order order = new Order("o-1", 7L, Status.SHIPPED,
            List.of(new Line("a", 2, new BigDecimal("9.99")), new Line("b", 1, new BigDecimal("100"))),
            Map.of("views", 12L), Set.of("new"), null, true);
        assertEquals(order, roundTrip(serde, order));
        String json = new String(serde.serializer().serialize("t", order), StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"id\":\"o-1\",\"customer\":7,\"status\":\"SHIPPED\",\"lines\":[{\"sku\":\"a\",\"quantity\":2,"
            + "\"price\":9.99}"), json);
    }

    @Test
    void shouldIgnoreUnknownFieldsAndReadMissingOnesAsNullOrZero() {
        Serde<Line> serde = Serdes.json(Line.class);
        Line line = serde.deserializer().deserialize("t", "{\"sku\":\"a\",\"added\":[1,2],\"price\":1.5}".getBytes(StandardCharsets.UTF_8));
        assertEquals(new Line("a", 0, new BigDecimal("1.5")), line);
    }

    @Test
    void shouldRefuseTypesItCannotMapWhenMade() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Serdes.json(Bean.class));
        assertTrue(e.getMessage().contains(Bean.class.getName()) && e.getMessage().contains("record"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Serdes.json(java.util.Date.class));
    }

    @Test
    void shouldNameTheTopicAndThePlaceOfBadInput() {
        Serde<Order> serde = Serdes.json(Order.class);
        SerializationException malformed = assertThrows(SerializationException.class,
            () -> serde.deserializer().deserialize("orders", "{\"id\": \"o-1\",".getBytes(StandardCharsets.UTF_8)));
        assertTrue(malformed.getMessage().contains("topic orders") && malformed.getMessage().contains("malformed JSON at position"),
            malformed.getMessage());
        SerializationException wrongType = assertThrows(SerializationException.class,
            () -> serde.deserializer().deserialize("orders", "{\"lines\":[{\"quantity\":\"two\"}]}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(wrongType.getMessage().contains("topic orders") && wrongType.getMessage().contains("$.lines[0].quantity"),
            wrongType.getMessage());
        SerializationException refused = assertThrows(SerializationException.class,
            () -> Serdes.json(Amount.class).deserializer().deserialize("pay", "{\"cents\":-5}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(refused.getMessage().contains("negative amount -5"), refused.getMessage());
        assertThrows(SerializationException.class, () -> Serdes.json(Line.class).deserializer()
            .deserialize("t", "{\"quantity\":3000000000}".getBytes(StandardCharsets.UTF_8)), "out of int range");
        assertThrows(SerializationException.class, () -> Serdes.json(Object.class).serializer().serialize("t", Double.NaN));
    }

    /** The handler the job configures sees the SerializationException of a malformed input record and skips it. */
    @Test
    void shouldHandMalformedInputToTheDeserializationHandler() {
        List<Exception> seen = new ArrayList<>();
        DeserializationExceptionHandler recording = new DeserializationExceptionHandler() {
            @Override
            public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
                                                         Exception exception) {
                seen.add(exception);
                return DeserializationHandlerResponse.CONTINUE;
            }
        };
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("orders", Consumed.with(Serdes.String(), Serdes.json(Line.class)))
            .mapValues(line -> line.sku() + "x" + line.quantity())
            .to("out", Produced.with(Serdes.String(), Serdes.String()));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "json");
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, recording);
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props, Instant.ofEpochMilli(0))) {
            TestInputTopic<String, byte[]> in = driver.createInputTopic("orders", Serdes.String().serializer(),
                Serdes.ByteArray().serializer());
            in.pipeInput("k1", "{\"sku\":\"a\",\"quantity\":2}".getBytes(StandardCharsets.UTF_8));
            in.pipeInput("k2", "not json".getBytes(StandardCharsets.UTF_8));
            in.pipeInput("k3", "{\"sku\":\"b\",\"quantity\":1}".getBytes(StandardCharsets.UTF_8));
            assertEquals(List.of(KeyValue.pair("k1", "ax2"), KeyValue.pair("k3", "bx1")),
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer()).readKeyValuesToList());
        }
        assertEquals(1, seen.size());
        assertInstanceOf(SerializationException.class, seen.get(0));
        assertTrue(seen.get(0).getMessage().contains("topic orders"), seen.get(0).getMessage());
    }

    @Test
    void shouldWriteTheBytesItReads() {
        Serde<Object> serde = new JsonSerde<>();
        byte[] bytes = "{\"a\":[1,2.5,\"x\",null,false]}".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(bytes, serde.serializer().serialize("t", serde.deserializer().deserialize("t", bytes)));
    }
}
