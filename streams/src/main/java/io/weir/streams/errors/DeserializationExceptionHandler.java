package io.weir.streams.errors;

import io.weir.consumer.ConsumerRecord;

import java.util.Map;

/**
 * Decides what a task does with an input record whose key or value cannot be deserialized: stop
 * (the default, {@link LogAndFailExceptionHandler}) or skip it ({@link LogAndContinueExceptionHandler}).
 * Configured by class with {@code deserialization.exception.handler} (Kafka's older key
 * {@code default.deserialization.exception.handler} is read too). With
 * {@code errors.dead.letter.queue.topic.name} set, the record's raw bytes also go to that topic, in the
 * task's transaction, with headers naming where it came from and why it failed.
 */
public interface DeserializationExceptionHandler {

    enum DeserializationHandlerResponse { CONTINUE, FAIL }

    /** Called once with the job's configuration. */
    default void configure(Map<String, ?> configs) {
    }

    DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception);
}
