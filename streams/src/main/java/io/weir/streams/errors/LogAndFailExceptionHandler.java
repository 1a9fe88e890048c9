package io.weir.streams.errors;

import io.weir.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs the bad record's position and stops processing (the default). */
public final class LogAndFailExceptionHandler implements DeserializationExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndFailExceptionHandler.class);

    @Override
    public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        log.error("Task {}: cannot deserialize the record at topic {}, partition {}, offset {}; stopping", context.taskId(),
            context.topic(), context.partition(), context.offset(), exception);
        return DeserializationHandlerResponse.FAIL;
    }
}
