package io.weir.streams.errors;

import io.weir.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * The default: logs where processing failed and fails the stream thread. With
 * {@code errors.dead.letter.queue.topic.name} set, the failed input record goes to that topic first (under
 * exactly-once it aborts with the failed thread's transaction; under at-least-once it stays).
 */
public final class LogAndFailProcessingExceptionHandler implements ProcessingExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndFailProcessingExceptionHandler.class);
    private String deadLetterTopic;

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetterTopic = DeadLetterQueueRecords.configuredTopic(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        log.error("Task {}: processor {} failed on the record at topic {}, partition {}, offset {}; failing ({})",
            context.taskId(), context.processorNodeId(), context.topic(), context.partition(), context.offset(),
            exception.toString());
        return Response.fail(DeadLetterQueueRecords.maybeBuild(deadLetterTopic, context, exception));
    }

    @Override
    public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        return handleError(context, record, exception).result().legacy();
    }
}
