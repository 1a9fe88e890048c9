package io.weir.consumer;

import io.weir.common.record.Header;

import java.io.Closeable;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Turns the bytes of a record key or value into an object. Implementations must be thread-safe if
 * one instance is shared by several consumers; the built-in ones are stateless.
 *
 * @param <T> the type produced
 */
public interface Deserializer<T> extends Closeable {
    /** Called once after construction with the consumer's configs. */
    default void configure(Map<String, ?> configs, boolean isKey) {
    }

    /** Deserializes {@code data} (null for a null key or value) of a record of {@code topic}. */
    T deserialize(String topic, byte[] data);

    /** Like {@link #deserialize(String, byte[])}, with the record's headers. */
    default T deserialize(String topic, Header[] headers, byte[] data) {
        return deserialize(topic, data);
    }

    /**
     * Deserializes the bytes between the buffer's position and limit (null for a null field). The
     * buffer is a read-only view of the fetched batch; the default copies it once.
     */
    default T deserialize(String topic, Header[] headers, ByteBuffer data) {
        if (data == null) {
            return deserialize(topic, headers, (byte[]) null);
        }
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        return deserialize(topic, headers, bytes);
    }

    @Override
    default void close() {
    }
}
