package io.weir.streams.errors;

import io.weir.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs where processing failed and drops the record; the task counts it in {@code dropped-records-total}. */
public final class LogAndContinueProcessingExceptionHandler implements ProcessingExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndContinueProcessingExceptionHandler.class);

    @Override
    public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        log.warn("Task {}: processor {} failed on the record at topic {}, partition {}, offset {}; skipping it ({})",
            context.taskId(), context.processorNodeId(), context.topic(), context.partition(), context.offset(),
            exception.toString());
        return ProcessingHandlerResponse.CONTINUE;
    }
}
