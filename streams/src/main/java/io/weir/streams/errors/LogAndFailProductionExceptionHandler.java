package io.weir.streams.errors;

import io.weir.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The default: logs the failed send or serialization and fails the stream thread. */
public final class LogAndFailProductionExceptionHandler implements ProductionExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndFailProductionExceptionHandler.class);

    @Override
    public ProductionExceptionHandlerResponse handle(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
                                                     Exception exception) {
        log.error("Task {}: sending a record to topic {} failed; failing ({})",
            context == null ? null : context.taskId(), record.topic(), exception.toString());
        return ProductionExceptionHandlerResponse.FAIL;
    }

    @Override
    public ProductionExceptionHandlerResponse handleSerializationException(ErrorHandlerContext context, ProducerRecord<?, ?> record,
                                                                         Exception exception, SerializationExceptionOrigin origin) {
        log.error("Task {}: serializing the {} of a record for topic {} failed; failing ({})",
            context == null ? null : context.taskId(), origin, record.topic(), exception.toString());
        return ProductionExceptionHandlerResponse.FAIL;
    }
}
