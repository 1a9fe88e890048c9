package io.weir.streams.errors;

import io.weir.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Logs where processing failed and drops the record; the task counts it in {@code dropped-records-total}. With
 * {@code errors.dead.letter.queue.topic.name} set, the failed input record goes to that topic first, in the
 * task's transaction.
 */
public final class LogAndContinueProcessingExceptionHandler implements ProcessingExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndContinueProcessingExceptionHandler.class);
    private String deadLetterTopic;

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetterTopic = DeadLetterQueueRecords.configuredTopic(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        log.warn("Task {}: processor {} failed on the record at topic {}, partition {}, offset {}; skipping it ({})",
            context.taskId(), context.processorNodeId(), context.topic(), context.partition(), context.offset(),
            exception.toString());
        return Response.resume(DeadLetterQueueRecords.maybeBuild(deadLetterTopic, context, exception));
    }

    @Override
    public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        return handleError(context, record, exception).result().legacy();
    }
}
