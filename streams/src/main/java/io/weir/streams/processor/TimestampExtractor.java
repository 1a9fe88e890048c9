package io.weir.streams.processor;

/**
 * Gives each input record its event time, which drives stream time, punctuation and windows. Set per
 * source ({@code Consumed.withTimestampExtractor}) or for the job ({@code default.timestamp.extractor});
 * the default, {@link FailOnInvalidTimestamp}, keeps the record's own timestamp. A negative result
 * makes the task skip the record.
 */
@FunctionalInterface
public interface TimestampExtractor {
    /**
     * The record's timestamp in ms; {@code partitionTime} is the largest timestamp seen so far on its
     * partition (-1 if none), for extractors that must fall back on something.
     */
    long extract(String topic, Object key, Object value, long recordTimestamp, long partitionTime);
}
