package io.weir.producer;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;

/** The built-in serializers, byte-compatible with Apache Kafka's. */
public final class Serializers {
    private Serializers() {
    }

    /** UTF-8 by default; {@code key.serializer.encoding} / {@code value.serializer.encoding} / {@code serializer.encoding} override it. */
    public static final class StringSerializer implements Serializer<String> {
        private Charset charset = StandardCharsets.UTF_8;

        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
            Object enc = configs.get(isKey ? "key.serializer.encoding" : "value.serializer.encoding");
            if (enc == null) {
                enc = configs.get("serializer.encoding");
            }
            if (enc != null) {
                charset = Charset.forName(enc.toString());
            }
        }

        @Override
        public byte[] serialize(String topic, String data) {
            return data == null ? null : data.getBytes(charset);
        }
    }

    public static final class ByteArraySerializer implements Serializer<byte[]> {
        @Override
        public byte[] serialize(String topic, byte[] data) {
            return data;
        }
    }

    /** 4 bytes, big-endian. */
    public static final class IntegerSerializer implements Serializer<Integer> {
        @Override
        public byte[] serialize(String topic, Integer data) {
            if (data == null) {
                return null;
            }
            int v = data;
            return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
        }
    }

    /** 8 bytes, big-endian. */
    public static final class LongSerializer implements Serializer<Long> {
        @Override
        public byte[] serialize(String topic, Long data) {
            if (data == null) {
                return null;
            }
            long v = data;
            byte[] b = new byte[8];
            for (int i = 7; i >= 0; i--) {
                b[i] = (byte) v;
                v >>>= 8;
            }
            return b;
        }
    }

    /** The UUID's canonical 36-character string in UTF-8 (Kafka's UUIDSerializer format). */
    public static final class UUIDSerializer implements Serializer<UUID> {
        @Override
        public byte[] serialize(String topic, UUID data) {
            return data == null ? null : data.toString().getBytes(StandardCharsets.UTF_8);
        }
    }
}
