package io.weir.streams.errors;

import io.weir.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The default: logs where processing failed and fails the stream thread. */
public final class LogAndFailProcessingExceptionHandler implements ProcessingExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndFailProcessingExceptionHandler.class);

    @Override
    public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        log.error("Task {}: processor {} failed on the record at topic {}, partition {}, offset {}; failing ({})",
            context.taskId(), context.processorNodeId(), context.topic(), context.partition(), context.offset(),
            exception.toString());
        return ProcessingHandlerResponse.FAIL;
    }
}
