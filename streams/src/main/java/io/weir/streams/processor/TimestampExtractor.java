package io.weir.streams.processor;

/**
 * Gives each input record its event time, which drives stream time, punctuation and (later) windows.
 * The default keeps the record's own timestamp.
 */
@FunctionalInterface
public interface TimestampExtractor {
    /**
     * The record's timestamp in ms; {@code partitionTime} is the largest timestamp seen so far on its
     * partition (-1 if none), for extractors that must fall back on something.
     */
    long extract(String topic, Object key, Object value, long recordTimestamp, long partitionTime);
}
