package io.weir.streams.processor;

import io.weir.streams.errors.StreamsException;

/** The default extractor: the record's own timestamp; a negative one fails the task. */
public final class FailOnInvalidTimestamp implements TimestampExtractor {
    @Override
    public long extract(String topic, Object key, Object value, long recordTimestamp, long partitionTime) {
        if (recordTimestamp < 0) {
            throw new StreamsException("the record of topic " + topic + " has the invalid timestamp " + recordTimestamp
                + "; set default.timestamp.extractor to skip such records or use the partition time");
        }
        return recordTimestamp;
    }
}
