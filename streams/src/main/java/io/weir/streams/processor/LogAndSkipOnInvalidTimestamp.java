package io.weir.streams.processor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The record's own timestamp; a record with a negative one is logged and skipped (the task drops it). */
public final class LogAndSkipOnInvalidTimestamp implements TimestampExtractor {
    private static final Logger log = LoggerFactory.getLogger(LogAndSkipOnInvalidTimestamp.class);

    @Override
    public long extract(String topic, Object key, Object value, long recordTimestamp, long partitionTime) {
        if (recordTimestamp < 0) {
            log.warn("Skipping a record of topic {} with the invalid timestamp {}", topic, recordTimestamp);
        }
        return recordTimestamp;
    }
}
