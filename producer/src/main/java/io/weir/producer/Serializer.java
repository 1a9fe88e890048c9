package io.weir.producer;

import java.io.Closeable;
import java.util.Map;

/**
 * Turns keys or values into bytes. A null object serializes to null (a null key or value on the
 * wire, e.g. a tombstone). Built-ins: {@link Serializers}.
 */
public interface Serializer<T> extends Closeable {
    /** Called once with the producer's original configs; {@code isKey} tells key from value use. */
    default void configure(Map<String, ?> configs, boolean isKey) {
    }

    byte[] serialize(String topic, T data);

    @Override
    default void close() {
    }
}
