package io.weir.streams.errors;

import io.weir.producer.ProducerRecord;

import java.util.List;
import java.util.Map;

/**
 * Decides what a task does when a record it writes (to a sink topic, a repartition topic or the dead-letter
 * topic) cannot be sent, or cannot be serialized by its sink: stop the stream thread (the default,
 * {@link LogAndFailProductionExceptionHandler}), drop the record and go on
 * ({@link LogAndContinueProductionExceptionHandler}; the task counts every dropped record), or, for a retriable
 * error (a timeout, a leader change, a topic not in metadata yet), retry (KIP-1065). Configured by class with
 * {@code default.production.exception.handler}, as in Kafka Streams.
 *
 * <p>RETRY: the tasks restart from their last commit (under exactly-once the open transaction aborts; under
 * at-least-once the uncommitted store writes are dropped and the input is read again from the committed
 * offsets), so the record is produced again, in order, without being lost or failing the thread. RETRY is
 * valid only for a retriable error ({@link io.weir.protocol.ApiException#isRetriable()}); for any other error
 * (and for a serialization error) it counts as FAIL. Both built-in handlers answer RETRY to a retriable error.
 *
 * <p>Dead-letter queue (KIP-1034): {@link #handleError} and {@link #handleSerializationError} answer a
 * {@link Response} that may carry records for a dead-letter topic; the task sends them through its collector
 * (under exactly-once in its transaction) before it resumes or fails. The built-in handlers add the failed
 * input record when {@code errors.dead.letter.queue.topic.name} is set. A failed dead-letter record is never
 * sent to the dead-letter topic again.
 *
 * <p>Under exactly-once, a send the broker refuses leaves the producer's transaction abortable, so RESUME
 * cannot make it commit: the transaction aborts and the tasks restart from the last commit (nothing is lost).
 * A record refused before it leaves the client (larger than {@code max.request.size}, its topic not in
 * metadata within {@code max.block.ms}) leaves the transaction good: on RESUME it is dropped from the open
 * transaction, which then commits without it.
 */
public interface ProductionExceptionHandler {

    /** The answer of {@link #handle} and {@link #handleSerializationException}; {@link Response} replaces it. */
    enum ProductionExceptionHandlerResponse { CONTINUE, FAIL, RETRY }

    /** What the task does after a production error. */
    enum Result {
        /** Drop the record (counted) and go on. */
        RESUME,
        /** Fail the stream thread. */
        FAIL,
        /** Restart the tasks from their last commit, so the record is produced again; FAIL for a non-retriable error. */
        RETRY;

        static Result of(ProductionExceptionHandlerResponse response) {
            return switch (response) {
                case CONTINUE -> RESUME;
                case FAIL -> FAIL;
                case RETRY -> RETRY;
            };
        }

        /** The pre-KIP-1034 answer for this result: what the built-in handlers' {@code handle} returns. */
        ProductionExceptionHandlerResponse legacy() {
            return switch (this) {
                case RESUME -> ProductionExceptionHandlerResponse.CONTINUE;
                case FAIL -> ProductionExceptionHandlerResponse.FAIL;
                case RETRY -> ProductionExceptionHandlerResponse.RETRY;
            };
        }
    }

    /** Where a serialization error came from. */
    enum SerializationExceptionOrigin { KEY, VALUE }

    /** Called once with the job's configuration. */
    default void configure(Map<String, ?> configs) {
    }

    /**
     * A serialized record could not be sent; by default asks {@link #handle}. {@code context} names the task and
     * the input record (position, timestamp, headers, raw bytes) when known.
     */
    default Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        return Response.of(Result.of(handle(context, record, exception)));
    }

    /** The pre-KIP-1034 form, called by the default {@link #handleError}; a handler implements one of the two. */
    default ProductionExceptionHandlerResponse handle(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
                                                      Exception exception) {
        throw new UnsupportedOperationException(getClass().getName() + " implements neither handleError nor handle");
    }

    /** A sink's serializer failed on the record's key or value; by default asks {@link #handleSerializationException}. */
    default Response handleSerializationError(ErrorHandlerContext context, ProducerRecord<?, ?> record, Exception exception,
                                              SerializationExceptionOrigin origin) {
        return Response.of(Result.of(handleSerializationException(context, record, exception, origin)));
    }

    /** The pre-KIP-1034 form, called by the default {@link #handleSerializationError}; FAIL unless overridden. */
    default ProductionExceptionHandlerResponse handleSerializationException(ErrorHandlerContext context,
                                                                          ProducerRecord<?, ?> record, Exception exception,
                                                                          SerializationExceptionOrigin origin) {
        return ProductionExceptionHandlerResponse.FAIL;
    }

    /** A {@link Result} with the dead-letter records to send first (none by default). Immutable. */
    final class Response extends HandlerResponse<Result> {
        private static final Response RESUME = new Response(Result.RESUME, List.of());
        private static final Response FAIL = new Response(Result.FAIL, List.of());
        private static final Response RETRY = new Response(Result.RETRY, List.of());

        private Response(Result result, List<ProducerRecord<byte[], byte[]>> deadLetterQueueRecords) {
            super(result, deadLetterQueueRecords);
        }

        static Response of(Result result) {
            return switch (result) {
                case RESUME -> RESUME;
                case FAIL -> FAIL;
                case RETRY -> RETRY;
            };
        }

        /** Drop the record and go on. */
        public static Response resume() {
            return RESUME;
        }

        /** Send {@code deadLetterQueueRecords} (may be null or empty), drop the record and go on. */
        public static Response resume(List<ProducerRecord<byte[], byte[]>> deadLetterQueueRecords) {
            return new Response(Result.RESUME, deadLetterQueueRecords);
        }

        /** Fail the stream thread. */
        public static Response fail() {
            return FAIL;
        }

        /** Send {@code deadLetterQueueRecords} (may be null or empty), then fail the stream thread. */
        public static Response fail(List<ProducerRecord<byte[], byte[]>> deadLetterQueueRecords) {
            return new Response(Result.FAIL, deadLetterQueueRecords);
        }

        /** Restart the tasks from their last commit so the record is produced again (retriable errors only). */
        public static Response retry() {
            return RETRY;
        }
    }
}
