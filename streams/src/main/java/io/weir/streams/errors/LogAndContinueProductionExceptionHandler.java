package io.weir.streams.errors;

import io.weir.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the failed send or serialization and drops the record; the task counts it in
 * {@code dropped-records-total}. See {@link ProductionExceptionHandler} for what this means under exactly-once.
 */
public final class LogAndContinueProductionExceptionHandler implements ProductionExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndContinueProductionExceptionHandler.class);

    @Override
    public ProductionExceptionHandlerResponse handle(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
                                                     Exception exception) {
        log.warn("Task {}: dropping a record for topic {}: sending it failed ({})",
            context == null ? null : context.taskId(), record.topic(), exception.toString());
        return ProductionExceptionHandlerResponse.CONTINUE;
    }

    @Override
    public ProductionExceptionHandlerResponse handleSerializationException(ErrorHandlerContext context, ProducerRecord<?, ?> record,
                                                                         Exception exception, SerializationExceptionOrigin origin) {
        log.warn("Task {}: dropping a record for topic {}: its {} cannot be serialized ({})",
            context == null ? null : context.taskId(), record.topic(), origin, exception.toString());
        return ProductionExceptionHandlerResponse.CONTINUE;
    }
}
