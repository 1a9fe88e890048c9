package io.weir.streams.processor;

import io.weir.streams.errors.StreamsException;

/** The record's own timestamp, or the partition's time (largest timestamp so far) if it is negative. */
public final class UsePartitionTimeOnInvalidTimestamp implements TimestampExtractor {
    @Override
    public long extract(String topic, Object key, Object value, long recordTimestamp, long partitionTime) {
        if (recordTimestamp >= 0) {
            return recordTimestamp;
        }
        if (partitionTime < 0) {
            throw new StreamsException("the record of topic " + topic + " has the invalid timestamp " + recordTimestamp
                + " and its partition has no time yet to use instead");
        }
        return partitionTime;
    }
}
