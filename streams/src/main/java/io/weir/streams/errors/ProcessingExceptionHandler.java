package io.weir.streams.errors;

import io.weir.streams.processor.api.Record;

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
 */
public interface ProcessingExceptionHandler {

    enum ProcessingHandlerResponse { CONTINUE, FAIL }

    /** Called once with the job's configuration. */
    default void configure(Map<String, ?> configs) {
    }

    /**
     * @param context the task, the input record's topic, partition and offset, and the id of the node that threw
     * @param record  the record as the failing node got it
     */
    ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception);
}
