package io.weir.streams.processor;

/**
 * Processing time instead of event time: each record gets the wall-clock time when it is read. Note:
 * it reads the system clock, so tests through the driver see real time; prefer event time.
 */
public final class WallclockTimestampExtractor implements TimestampExtractor {
    @Override
    public long extract(String topic, Object key, Object value, long recordTimestamp, long partitionTime) {
        return System.currentTimeMillis();
    }
}
