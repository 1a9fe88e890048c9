package io.weir.consumer;

import io.weir.common.record.Header;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;

/**
 * The built-in deserializers, each reading exactly what the matching Kafka serializer writes
 * (strings as UTF-8, integers and longs as big-endian two's complement, UUIDs as their
 * {@code toString()} text). Stateless and thread-safe.
 */
public final class Deserializers {
    private Deserializers() {
    }

    /** UTF-8 text; {@code key.deserializer.encoding} / {@code value.deserializer.encoding} pick another charset. */
    public static final class StringDeserializer implements Deserializer<String> {
        private Charset charset = StandardCharsets.UTF_8;

        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
            Object enc = configs.get(isKey ? "key.deserializer.encoding" : "value.deserializer.encoding");
            if (enc == null) {
                enc = configs.get("deserializer.encoding");
            }
            if (enc != null) {
                charset = Charset.forName(enc.toString());
            }
        }

        @Override
        public String deserialize(String topic, byte[] data) {
            return data == null ? null : new String(data, charset);
        }

        /** The charset the text is decoded with (UTF-8 unless configured). */
        public Charset charset() {
            return charset;
        }

        @Override
        public String deserialize(String topic, Header[] headers, ByteBuffer data) {
            if (data == null) {
                return null;
            }
            if (data.hasArray()) {
                return new String(data.array(), data.arrayOffset() + data.position(), data.remaining(), charset);
            }
            return Deserializer.super.deserialize(topic, headers, data);
        }
    }

    /** The bytes unchanged. */
    public static final class ByteArrayDeserializer implements Deserializer<byte[]> {
        @Override
        public byte[] deserialize(String topic, byte[] data) {
            return data;
        }
    }

    /** A read-only view of the bytes, without copying. */
    public static final class ByteBufferDeserializer implements Deserializer<ByteBuffer> {
        @Override
        public ByteBuffer deserialize(String topic, byte[] data) {
            return data == null ? null : ByteBuffer.wrap(data);
        }

        @Override
        public ByteBuffer deserialize(String topic, Header[] headers, ByteBuffer data) {
            return data == null ? null : data.slice().asReadOnlyBuffer();
        }
    }

    /** A 4-byte big-endian int. */
    public static final class IntegerDeserializer implements Deserializer<Integer> {
        @Override
        public Integer deserialize(String topic, byte[] data) {
            if (data == null) {
                return null;
            }
            if (data.length != 4) {
                throw new IllegalArgumentException("Size of data received by IntegerDeserializer is not 4 but "
                    + data.length);
            }
            return ByteBuffer.wrap(data).getInt();
        }
    }

    /** An 8-byte big-endian long. */
    public static final class LongDeserializer implements Deserializer<Long> {
        @Override
        public Long deserialize(String topic, byte[] data) {
            if (data == null) {
                return null;
            }
            if (data.length != 8) {
                throw new IllegalArgumentException("Size of data received by LongDeserializer is not 8 but "
                    + data.length);
            }
            return ByteBuffer.wrap(data).getLong();
        }
    }

    /** A UUID written as its 36-character text in UTF-8 (Kafka's UUIDSerializer). */
    public static final class UUIDDeserializer implements Deserializer<UUID> {
        @Override
        public UUID deserialize(String topic, byte[] data) {
            if (data == null) {
                return null;
            }
            String s = new String(data, StandardCharsets.UTF_8);
            try {
                return UUID.fromString(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Error parsing data into UUID: " + s, e);
            }
        }
    }

    /** Always null (Kafka's VoidDeserializer); non-null data is an error. */
    public static final class VoidDeserializer implements Deserializer<Void> {
        @Override
        public Void deserialize(String topic, byte[] data) {
            if (data != null) {
                throw new IllegalArgumentException("Data should be null for a VoidDeserializer.");
            }
            return null;
        }
    }

    /**
     * The deserializer named by a config value: a Weir class, a Kafka class name of the same
     * deserializer (so copied configs keep working), or any class implementing {@link Deserializer}.
     */
    static Deserializer<?> forName(String key, String name) {
        String simple = name.substring(name.lastIndexOf('.') + 1);
        if (name.startsWith("org.apache.kafka.common.serialization.") || name.startsWith("io.weir.consumer.Deserializers")) {
            if (simple.contains("$")) {
                simple = simple.substring(simple.lastIndexOf('$') + 1);
            }
            switch (simple) {
                case "StringDeserializer": return new StringDeserializer();
                case "ByteArrayDeserializer": return new ByteArrayDeserializer();
                case "ByteBufferDeserializer": return new ByteBufferDeserializer();
                case "IntegerDeserializer": return new IntegerDeserializer();
                case "LongDeserializer": return new LongDeserializer();
                case "UUIDDeserializer": return new UUIDDeserializer();
                case "VoidDeserializer": return new VoidDeserializer();
                default: break;
            }
        }
        try {
            Class<?> c = Class.forName(name, true, Deserializers.class.getClassLoader());
            if (!Deserializer.class.isAssignableFrom(c)) {
                throw new io.weir.common.config.ConfigException(key, name, "does not implement " + Deserializer.class.getName());
            }
            return (Deserializer<?>) c.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new io.weir.common.config.ConfigException(key, name, "cannot instantiate: " + e);
        }
    }
}
