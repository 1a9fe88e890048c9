package io.weir.streams.errors;

import io.weir.producer.ProducerRecord;

import java.util.Map;

/**
 * Decides what a task does when a record it writes (to a sink topic, a repartition topic or the dead-letter
 * topic) cannot be sent, or cannot be serialized by its sink: stop the stream thread (the default,
 * {@link LogAndFailProductionExceptionHandler}) or drop the record and go on
 * ({@link LogAndContinueProductionExceptionHandler}); the task counts every dropped record. Configured by class
 * with {@code default.production.exception.handler}, as in Kafka Streams.
 *
 * <p>Under exactly-once, a send the broker refuses leaves the producer's transaction abortable, so CONTINUE
 * cannot make it commit: the transaction aborts and the tasks restart from the last commit (nothing is lost).
 * A record refused before it leaves the client (larger than {@code max.request.size}) is dropped from the
 * open transaction on CONTINUE, which then commits without it. Retriable send errors (timeouts, leader
 * changes) never reach the handler: they abort the transaction and the tasks retry from the last commit.
 */
public interface ProductionExceptionHandler {

    enum ProductionExceptionHandlerResponse { CONTINUE, FAIL }

    /** Where a serialization error came from. */
    enum SerializationExceptionOrigin { KEY, VALUE }

    /** Called once with the job's configuration. */
    default void configure(Map<String, ?> configs) {
    }

    /** A serialized record could not be sent. {@code context} names the task and input record when known. */
    ProductionExceptionHandlerResponse handle(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
                                              Exception exception);

    /** A sink's serializer failed on the record's key or value; FAIL unless overridden. */
    default ProductionExceptionHandlerResponse handleSerializationException(ErrorHandlerContext context,
                                                                          ProducerRecord<?, ?> record, Exception exception,
                                                                          SerializationExceptionOrigin origin) {
        return ProductionExceptionHandlerResponse.FAIL;
    }
}
