package io.weir.streams.errors;

/**
 * A value could not be turned into bytes or read back from them (as Kafka's {@code SerializationException}):
 * the message names the topic and what was wrong. Thrown by the serdes of {@code Serdes}; a failure while
 * reading an input record reaches the job's deserialization exception handler.
 */
public class SerializationException extends RuntimeException {
    public SerializationException(String message) {
        super(message);
    }

    public SerializationException(String message, Throwable cause) {
        super(message, cause);
    }
}
