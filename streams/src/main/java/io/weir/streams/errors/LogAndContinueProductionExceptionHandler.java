package io.weir.streams.errors;

import io.weir.producer.ProducerRecord;
import io.weir.protocol.ApiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Logs the failed send or serialization and drops the record; the task counts it in
 * {@code dropped-records-total}. A retriable error (a timeout, a topic not in metadata yet) is not a reason to
 * lose the record: it answers RETRY (KIP-1065) to those. With {@code errors.dead.letter.queue.topic.name} set,
 * the failed input record goes to that topic first. See {@link ProductionExceptionHandler} for what this means
 * under exactly-once.
 */
public final class LogAndContinueProductionExceptionHandler implements ProductionExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndContinueProductionExceptionHandler.class);
    private String deadLetterTopic;

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetterTopic = DeadLetterQueueRecords.configuredTopic(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        if (exception instanceof ApiException e && e.isRetriable()) {
            log.warn("Task {}: sending a record to topic {} failed with a retriable error; retrying from the last commit ({})",
                context == null ? null : context.taskId(), record.topic(), exception.toString());
            return Response.retry();
        }
        log.warn("Task {}: dropping a record for topic {}: sending it failed ({})",
            context == null ? null : context.taskId(), record.topic(), exception.toString());
        return Response.resume(DeadLetterQueueRecords.maybeBuild(deadLetterTopic, context, exception));
    }

    @Override
    public Response handleSerializationError(ErrorHandlerContext context, ProducerRecord<?, ?> record, Exception exception,
                                             SerializationExceptionOrigin origin) {
        log.warn("Task {}: dropping a record for topic {}: its {} cannot be serialized ({})",
            context == null ? null : context.taskId(), record.topic(), origin, exception.toString());
        return Response.resume(DeadLetterQueueRecords.maybeBuild(deadLetterTopic, context, exception));
    }

    @Override
    public ProductionExceptionHandlerResponse handle(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
                                                     Exception exception) {
        return handleError(context, record, exception).result().legacy();
    }

    @Override
    public ProductionExceptionHandlerResponse handleSerializationException(ErrorHandlerContext context, ProducerRecord<?, ?> record,
                                                                         Exception exception, SerializationExceptionOrigin origin) {
        return handleSerializationError(context, record, exception, origin).result().legacy();
    }
}
