package io.weir.streams.errors;

import io.weir.common.record.Header;
import io.weir.producer.ProducerRecord;
import io.weir.streams.StreamsConfig;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds dead-letter records (KIP-1034) for the exception handlers: the failed input record's raw key and
 * value and its headers, plus {@code __streams.errors.*} headers (UTF-8 strings) naming the exception, its
 * message and stack trace, and the input topic, partition and offset. The built-in handlers return such a
 * record in their response when {@code errors.dead.letter.queue.topic.name} is set; a custom handler may use
 * {@link #build} for its own. The task sends what a response carries through its record collector, so under
 * exactly-once a dead-letter record commits (or aborts) in the same transaction as the task's output.
 */
public final class DeadLetterQueueRecords {
    public static final String HEADER_EXCEPTION = "__streams.errors.exception";
    public static final String HEADER_STACKTRACE = "__streams.errors.stacktrace";
    public static final String HEADER_MESSAGE = "__streams.errors.message";
    public static final String HEADER_TOPIC = "__streams.errors.topic";
    public static final String HEADER_PARTITION = "__streams.errors.partition";
    public static final String HEADER_OFFSET = "__streams.errors.offset";

    private DeadLetterQueueRecords() {
    }

    /** The configured dead-letter topic ({@code errors.dead.letter.queue.topic.name}), or null when unset or empty. */
    public static String configuredTopic(Map<String, ?> configs) {
        Object v = configs == null ? null : configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        return v == null || v.toString().isEmpty() ? null : v.toString();
    }

    /**
     * One dead-letter record for {@code topic}, or none when {@code topic} is null (no dead-letter queue configured)
     * or there is no context.
     */
    public static List<ProducerRecord<byte[], byte[]>> maybeBuild(String topic, ErrorHandlerContext context, Exception error) {
        return topic == null || context == null ? List.of() : List.of(build(topic, context, error));
    }

    /**
     * A dead-letter record for {@code topic}: key and value are the input record's raw bytes (null for a record a
     * punctuation forwarded), its timestamp the input record's, its headers the input record's followed by the
     * {@code __streams.errors.*} headers.
     */
    public static ProducerRecord<byte[], byte[]> build(String topic, ErrorHandlerContext context, Exception error) {
        if (topic == null || topic.isEmpty()) {
            throw new IllegalArgumentException("a dead-letter record needs a topic (" + StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG + ")");
        }
        List<Header> headers = new ArrayList<>(context.headers().size() + 6);
        headers.addAll(context.headers());
        StringWriter trace = new StringWriter();
        error.printStackTrace(new PrintWriter(trace));
        headers.add(utf8(HEADER_EXCEPTION, error.getClass().getName()));
        headers.add(utf8(HEADER_MESSAGE, error.getMessage()));
        headers.add(utf8(HEADER_STACKTRACE, trace.toString()));
        headers.add(utf8(HEADER_TOPIC, context.topic()));
        headers.add(utf8(HEADER_PARTITION, String.valueOf(context.partition())));
        headers.add(utf8(HEADER_OFFSET, String.valueOf(context.offset())));
        Long timestamp = context.timestamp() >= 0 ? context.timestamp() : null;
        return new ProducerRecord<>(topic, null, timestamp, context.sourceRawKey(), context.sourceRawValue(), headers);
    }

    private static Header utf8(String key, String value) {
        return new Header(key, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }
}
