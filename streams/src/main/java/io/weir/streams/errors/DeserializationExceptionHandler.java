package io.weir.streams.errors;

import io.weir.consumer.ConsumerRecord;
import io.weir.producer.ProducerRecord;

import java.util.List;
import java.util.Map;

/**
 * Decides what a task does with an input record whose key or value cannot be deserialized: stop
 * (the default, {@link LogAndFailExceptionHandler}) or skip it ({@link LogAndContinueExceptionHandler}).
 * Configured by class with {@code deserialization.exception.handler} (Kafka's older key
 * {@code default.deserialization.exception.handler} is read too).
 *
 * <p>Dead-letter queue (KIP-1034): {@link #handleError} answers a {@link Response} that may carry records for a
 * dead-letter topic; the task sends them through its collector (under exactly-once in its transaction) before it
 * skips the record or fails. The built-in handlers add the record's raw bytes, with headers naming where it came
 * from and why it failed ({@link DeadLetterQueueRecords}), when {@code errors.dead.letter.queue.topic.name} is set.
 */
public interface DeserializationExceptionHandler {

    /** The answer of {@link #handle}; {@link Response} replaces it. */
    enum DeserializationHandlerResponse { CONTINUE, FAIL }

    /** What the task does with the record. */
    enum Result {
        /** Skip the record (counted) and go on. */
        RESUME,
        /** Fail the stream thread. */
        FAIL;

        /** The pre-KIP-1034 answer for this result: what the built-in handlers' {@code handle} returns. */
        DeserializationHandlerResponse legacy() {
            return this == RESUME ? DeserializationHandlerResponse.CONTINUE : DeserializationHandlerResponse.FAIL;
        }
    }

    /** Called once with the job's configuration. */
    default void configure(Map<String, ?> configs) {
    }

    /**
     * Decides on a record that cannot be deserialized; by default asks {@link #handle} and sends nothing to a
     * dead-letter topic. The context carries the record's raw bytes ({@code sourceRawKey}, {@code sourceRawValue}).
     */
    default Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        return handle(context, record, exception) == DeserializationHandlerResponse.CONTINUE ? Response.resume() : Response.fail();
    }

    /** The pre-KIP-1034 form, called by the default {@link #handleError}; a handler implements one of the two. */
    default DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
                                                  Exception exception) {
        throw new UnsupportedOperationException(getClass().getName() + " implements neither handleError nor handle");
    }

    /** A {@link Result} with the dead-letter records to send first (none by default). Immutable. */
    final class Response extends HandlerResponse<Result> {
        private Response(Result result, List<ProducerRecord<byte[], byte[]>> deadLetterQueueRecords) {
            super(result, deadLetterQueueRecords);
        }

        /** Skip the record and go on. */
        public static Response resume() {
            return new Response(Result.RESUME, List.of());
        }

        /** Send {@code deadLetterQueueRecords} (may be null or empty), skip the record and go on. */
        public static Response resume(List<ProducerRecord<byte[], byte[]>> deadLetterQueueRecords) {
            return new Response(Result.RESUME, deadLetterQueueRecords);
        }

        /** Fail the stream thread. */
        public static Response fail() {
            return new Response(Result.FAIL, List.of());
        }

        /** Send {@code deadLetterQueueRecords} (may be null or empty), then fail the stream thread. */
        public static Response fail(List<ProducerRecord<byte[], byte[]>> deadLetterQueueRecords) {
            return new Response(Result.FAIL, deadLetterQueueRecords);
        }
    }
}
