package io.weir.streams.errors;

import io.weir.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Logs the bad record's position and stops processing (the default). With
 * {@code errors.dead.letter.queue.topic.name} set, the record's raw bytes go to that topic first (under
 * exactly-once they abort with the failed thread's transaction).
 */
public final class LogAndFailExceptionHandler implements DeserializationExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(LogAndFailExceptionHandler.class);
    private String deadLetterTopic;

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetterTopic = DeadLetterQueueRecords.configuredTopic(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        log.error("Task {}: cannot deserialize the record at topic {}, partition {}, offset {}; stopping", context.taskId(),
            context.topic(), context.partition(), context.offset(), exception);
        return Response.fail(DeadLetterQueueRecords.maybeBuild(deadLetterTopic, context, exception));
    }

    @Override
    public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        return handleError(context, record, exception).result().legacy();
    }
}
