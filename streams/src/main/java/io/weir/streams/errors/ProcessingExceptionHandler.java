package io.weir.streams.errors;

import io.weir.producer.ProducerRecord;
import io.weir.streams.processor.api.Record;

import java.util.List;
import java.util.Map;

/**
 * Decides what a task does when a processor (a DSL operation's function or a user's {@code Processor})
 * throws while processing a record (KIP-1033): fail the stream thread (the default,
 * {@link LogAndFailProcessingExceptionHandler}) or drop the record and go on with the next one
 * ({@link LogAndContinueProcessingExceptionHandler}); dropped records are counted in
 * {@code dropped-records-total}. What the record's processing wrote before the exception (stores, forwards)
 * stays. Configured by class with {@code processing.exception.handler}. A processor failing on a record a
 * punctuation forwarded is handled too (the context then has no topic, partition -1 and offset -1); a
 * punctuator's own exception, a store failing, the producer being fenced and the errors the production and
 * deserialization handlers decide are not, and fail the thread as before.
 *
 * <p>Dead-letter queue (KIP-1034, Kafka 4.1's shape): {@link #handleError} answers a {@link Response} that may
 * carry records for a dead-letter topic; the task sends them before it resumes or fails, through the same
 * collector as its output (under exactly-once: in the same transaction, so they commit with the output, and
 * abort with it when the thread fails). The built-in handlers add the failed input record (see
 * {@link DeadLetterQueueRecords}) when {@code errors.dead.letter.queue.topic.name} is set. Implement
 * {@link #handleError} (or, as before, {@link #handle}, whose answer carries no dead-letter records).
 */
public interface ProcessingExceptionHandler {

    /** The answer of {@link #handle}; {@link #handleError}'s {@link Response} replaces it. */
    enum ProcessingHandlerResponse { CONTINUE, FAIL }

    /** What the task does after a processing error. */
    enum Result {
        /** Drop the record (counted) and go on with the next one. */
        RESUME,
        /** Fail the stream thread; under exactly-once its open transaction aborts. */
        FAIL;

        /** The pre-KIP-1034 answer for this result: what the built-in handlers' {@code handle} returns. */
        ProcessingHandlerResponse legacy() {
            return this == RESUME ? ProcessingHandlerResponse.CONTINUE : ProcessingHandlerResponse.FAIL;
        }
    }

    /** Called once with the job's configuration. */
    default void configure(Map<String, ?> configs) {
    }

    /**
     * Decides on a processing error; by default asks {@link #handle} and sends nothing to a dead-letter topic.
     *
     * @param context the task, the input record's position, timestamp, headers and raw bytes, and the id of the
     *                node that threw
     * @param record  the record as the failing node got it
     */
    default Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        return handle(context, record, exception) == ProcessingHandlerResponse.CONTINUE ? Response.resume() : Response.fail();
    }

    /**
     * The pre-KIP-1034 form, called by the default {@link #handleError}; a handler implements one of the two.
     */
    default ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        throw new UnsupportedOperationException(getClass().getName() + " implements neither handleError nor handle");
    }

    /** A {@link Result} with the dead-letter records to send first (none by default). Immutable. */
    final class Response extends HandlerResponse<Result> {
        private Response(Result result, List<ProducerRecord<byte[], byte[]>> deadLetterQueueRecords) {
            super(result, deadLetterQueueRecords);
        }

        /** Drop the record and go on. */
        public static Response resume() {
            return new Response(Result.RESUME, List.of());
        }

        /** Send {@code deadLetterQueueRecords} (may be null or empty), drop the record and go on. */
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
