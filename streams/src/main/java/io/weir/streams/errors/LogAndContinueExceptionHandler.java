package io.weir.streams.errors;

import io.weir.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs the bad record's position and skips it; the task counts it as dropped. */
public final class LogAndContinueExceptionHandler implements DeserializationExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndContinueExceptionHandler.class);

    @Override
    public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        log.warn("Task {}: skipping the record at topic {}, partition {}, offset {}: it cannot be deserialized ({})",
            context.taskId(), context.topic(), context.partition(), context.offset(), exception.toString());
        return DeserializationHandlerResponse.CONTINUE;
    }
}
