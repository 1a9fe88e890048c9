package io.weir.streams.errors;

import io.weir.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Logs the bad record's position and skips it; the task counts it as dropped. With
 * {@code errors.dead.letter.queue.topic.name} set, the record's raw bytes go to that topic first.
 */
public final class LogAndContinueExceptionHandler implements DeserializationExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndContinueExceptionHandler.class);
    private String deadLetterTopic;

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetterTopic = DeadLetterQueueRecords.configuredTopic(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        log.warn("Task {}: skipping the record at topic {}, partition {}, offset {}: it cannot be deserialized ({})",
            context.taskId(), context.topic(), context.partition(), context.offset(), exception.toString());
        return Response.resume(DeadLetterQueueRecords.maybeBuild(deadLetterTopic, context, exception));
    }

    @Override
    public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        return handleError(context, record, exception).result().legacy();
    }
}
