package io.weir.streams.kstream;

import io.weir.consumer.Deserializer;
import io.weir.producer.Serializer;
import io.weir.streams.kstream.internals.SessionWindow;
import io.weir.streams.kstream.internals.TimeWindow;
import io.weir.streams.serialization.Serde;
import io.weir.streams.serialization.Serdes;

import java.nio.ByteBuffer;

/**
 * Serdes for {@link Windowed} keys. Time windows: the inner key's bytes followed by the window start as
 * 8 bytes big-endian (Kafka's time-windowed key format; the deserializer adds the window size to get
 * the end). Sessions: the inner key's bytes, the end, then the start.
 */
public final class WindowedSerdes {
    private WindowedSerdes() {
    }

    /** Session keys: the inner key's bytes, then the session end and start, 8 bytes each (Kafka's format). */
    public static <T> Serde<Windowed<T>> sessionWindowedSerdeFrom(Serde<T> inner) {
        Serializer<T> innerSerializer = inner.serializer();
        Deserializer<T> innerDeserializer = inner.deserializer();
        Serializer<Windowed<T>> serializer = (topic, data) -> {
            if (data == null) {
                return null;
            }
            byte[] key = innerSerializer.serialize(topic, data.key());
            return ByteBuffer.allocate(key.length + 16).put(key).putLong(data.window().end()).putLong(data.window().start()).array();
        };
        Deserializer<Windowed<T>> deserializer = (topic, data) -> {
            if (data == null) {
                return null;
            }
            if (data.length < 16) {
                throw new IllegalArgumentException("a session-windowed key needs at least 16 bytes, got " + data.length);
            }
            byte[] key = new byte[data.length - 16];
            ByteBuffer buf = ByteBuffer.wrap(data);
            buf.get(key);
            long end = buf.getLong();
            long start = buf.getLong();
            return new Windowed<>(innerDeserializer.deserialize(topic, key), new SessionWindow(start, end));
        };
        return Serdes.serdeFrom(serializer, deserializer);
    }

    public static <T> Serde<Windowed<T>> timeWindowedSerdeFrom(Serde<T> inner, long windowSizeMs) {
        if (windowSizeMs <= 0) {
            throw new IllegalArgumentException("window size must be > 0 ms, got " + windowSizeMs);
        }
        Serializer<T> innerSerializer = inner.serializer();
        Deserializer<T> innerDeserializer = inner.deserializer();
        Serializer<Windowed<T>> serializer = (topic, data) -> {
            if (data == null) {
                return null;
            }
            byte[] key = innerSerializer.serialize(topic, data.key());
            return ByteBuffer.allocate(key.length + 8).put(key).putLong(data.window().start()).array();
        };
        Deserializer<Windowed<T>> deserializer = (topic, data) -> {
            if (data == null) {
                return null;
            }
            if (data.length < 8) {
                throw new IllegalArgumentException("a time-windowed key needs at least 8 bytes, got " + data.length);
            }
            byte[] key = new byte[data.length - 8];
            ByteBuffer buf = ByteBuffer.wrap(data);
            buf.get(key);
            long start = buf.getLong();
            return new Windowed<>(innerDeserializer.deserialize(topic, key), new TimeWindow(start, start + windowSizeMs));
        };
        return Serdes.serdeFrom(serializer, deserializer);
    }
}
