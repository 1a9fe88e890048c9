package io.weir.streams.serialization;

import io.weir.consumer.Deserializer;
import io.weir.producer.Serializer;

import java.io.Closeable;
import java.util.Map;

/**
 * A serializer and a deserializer for one type, as Kafka Streams' {@code Serde}: a stream job reads and
 * writes the same types in topics and stores, so it names both halves at once. The halves are the
 * producer's {@link Serializer} and the consumer's {@link Deserializer}, so a serde's parts can be
 * handed to a plain Weir producer or consumer too. Built-ins: {@link Serdes}.
 *
 * @param <T> the type (de)serialized
 */
public interface Serde<T> extends Closeable {

    /** Configures both halves; {@code isKey} tells key from value use. */
    default void configure(Map<String, ?> configs, boolean isKey) {
        serializer().configure(configs, isKey);
        deserializer().configure(configs, isKey);
    }

    Serializer<T> serializer();

    Deserializer<T> deserializer();

    @Override
    default void close() {
        serializer().close();
        deserializer().close();
    }
}
