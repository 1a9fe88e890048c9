package io.weir.streams.errors;

import io.weir.producer.ProducerRecord;
import io.weir.protocol.ApiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * The default: logs the failed send or serialization and fails the stream thread, except that a retriable
 * error (a timeout, a topic not in metadata yet) is retried (KIP-1065: RETRY; the tasks restart from their last
 * commit, as Kafka's {@code DefaultProductionExceptionHandler} does). With
 * {@code errors.dead.letter.queue.topic.name} set, the failed input record goes to that topic before the thread
 * fails (under exactly-once it aborts with the thread's transaction).
 */
public final class LogAndFailProductionExceptionHandler implements ProductionExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndFailProductionExceptionHandler.class);
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
        log.error("Task {}: sending a record to topic {} failed; failing ({})",
            context == null ? null : context.taskId(), record.topic(), exception.toString());
        return Response.fail(DeadLetterQueueRecords.maybeBuild(deadLetterTopic, context, exception));
    }

    @Override
    public Response handleSerializationError(ErrorHandlerContext context, ProducerRecord<?, ?> record, Exception exception,
                                             SerializationExceptionOrigin origin) {
        log.error("Task {}: serializing the {} of a record for topic {} failed; failing ({})",
            context == null ? null : context.taskId(), origin, record.topic(), exception.toString());
        return Response.fail(DeadLetterQueueRecords.maybeBuild(deadLetterTopic, context, exception));
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
