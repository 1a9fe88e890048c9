package io.weir.streams.serialization;

import io.weir.consumer.Deserializer;
import io.weir.consumer.Deserializers;
import io.weir.producer.Serializer;
import io.weir.producer.Serializers;

import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * The built-in serdes, byte-compatible with Kafka's: the same bytes for the same values, so a Weir
 * job and a Kafka Streams job can share topics. Each has a named class with a public no-argument
 * constructor so it can be given by class in {@code default.key.serde} / {@code default.value.serde}.
 * Beyond Kafka's set, {@link #json} reads and writes UTF-8 JSON (records and JSON's own types).
 */
public final class Serdes {
    private Serdes() {
    }

    /** A serde made of the given halves. */
    public static <T> Serde<T> serdeFrom(Serializer<T> serializer, Deserializer<T> deserializer) {
        if (serializer == null || deserializer == null) {
            throw new IllegalArgumentException("serializer and deserializer must both be non-null");
        }
        return new WrapperSerde<>(serializer, deserializer);
    }

    /** UTF-8 text. */
    public static Serde<String> String() {
        return new StringSerde();
    }

    /** 8 bytes, big-endian. */
    public static Serde<Long> Long() {
        return new LongSerde();
    }

    /** 4 bytes, big-endian. */
    public static Serde<Integer> Integer() {
        return new IntegerSerde();
    }

    /** The IEEE 754 bits as 8 bytes, big-endian. */
    public static Serde<Double> Double() {
        return new DoubleSerde();
    }

    /** The bytes as they are. */
    public static Serde<byte[]> ByteArray() {
        return new ByteArraySerde();
    }

    /** Always null: for keys or values a job ignores. */
    public static Serde<Void> Void() {
        return new VoidSerde();
    }

    /** The UUID's 36-character text in UTF-8. */
    /**
     * Values as UTF-8 JSON (see {@link JsonSerde}): {@code type} is a record, or one of JSON's own types
     * ({@code Map.class}, {@code List.class}, {@code Object.class} for any of them, {@code String.class}, ...).
     * Malformed input throws a {@link io.weir.streams.errors.SerializationException} naming the topic.
     */
    public static <T> Serde<T> json(Class<T> type) {
        return new JsonSerde<>(type);
    }

    public static Serde<UUID> UUID() {
        return new UUIDSerde();
    }

    /** A serde from two halves; the base of the named built-ins. */
    public static class WrapperSerde<T> implements Serde<T> {
        private final Serializer<T> serializer;
        private final Deserializer<T> deserializer;

        public WrapperSerde(Serializer<T> serializer, Deserializer<T> deserializer) {
            this.serializer = serializer;
            this.deserializer = deserializer;
        }

        @Override
        public Serializer<T> serializer() {
            return serializer;
        }

        @Override
        public Deserializer<T> deserializer() {
            return deserializer;
        }
    }

    public static final class StringSerde extends WrapperSerde<String> {
        public StringSerde() {
            super(new Serializers.StringSerializer(), new Deserializers.StringDeserializer());
        }
    }

    public static final class LongSerde extends WrapperSerde<Long> {
        public LongSerde() {
            super(new Serializers.LongSerializer(), new Deserializers.LongDeserializer());
        }
    }

    public static final class IntegerSerde extends WrapperSerde<Integer> {
        public IntegerSerde() {
            super(new Serializers.IntegerSerializer(), new Deserializers.IntegerDeserializer());
        }
    }

    public static final class DoubleSerde extends WrapperSerde<Double> {
        public DoubleSerde() {
            super(new DoubleSerializer(), new DoubleDeserializer());
        }
    }

    public static final class ByteArraySerde extends WrapperSerde<byte[]> {
        public ByteArraySerde() {
            super(new Serializers.ByteArraySerializer(), new Deserializers.ByteArrayDeserializer());
        }
    }

    public static final class VoidSerde extends WrapperSerde<Void> {
        public VoidSerde() {
            super(new VoidSerializer(), new Deserializers.VoidDeserializer());
        }
    }

    public static final class UUIDSerde extends WrapperSerde<UUID> {
        public UUIDSerde() {
            super(new Serializers.UUIDSerializer(), new Deserializers.UUIDDeserializer());
        }
    }

    /** A double as its IEEE 754 bits, 8 bytes big-endian (Kafka's DoubleSerializer format). */
    public static final class DoubleSerializer implements Serializer<Double> {
        @Override
        public byte[] serialize(String topic, Double data) {
            return data == null ? null : ByteBuffer.allocate(8).putDouble(data).array();
        }
    }

    /** Reads what {@link DoubleSerializer} writes; any length but 8 is an error. */
    public static final class DoubleDeserializer implements Deserializer<Double> {
        @Override
        public Double deserialize(String topic, byte[] data) {
            if (data == null) {
                return null;
            }
            if (data.length != 8) {
                throw new IllegalArgumentException("Size of data received by DoubleDeserializer is not 8 but " + data.length);
            }
            return ByteBuffer.wrap(data).getDouble();
        }
    }

    /** Void has no value but null, so this always writes null. */
    public static final class VoidSerializer implements Serializer<Void> {
        @Override
        public byte[] serialize(String topic, Void data) {
            return null;
        }
    }
}
