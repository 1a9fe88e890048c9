package io.weir.streams.processor.internals;

import io.weir.common.record.Header;
import io.weir.streams.processor.RecordContext;
import io.weir.streams.processor.api.RecordMetadata;

import java.util.List;

/** The position and stamp of the record being processed (topic null and -1s inside a punctuation). */
public record ProcessorRecordContext(String topic, int partition, long offset, long timestamp, List<Header> headers)
    implements RecordContext, RecordMetadata {

    static ProcessorRecordContext punctuation(long timestamp) {
        return new ProcessorRecordContext(null, -1, -1, timestamp, List.of());
    }

    ProcessorRecordContext withStamp(long newTimestamp, List<Header> newHeaders) {
        return new ProcessorRecordContext(topic, partition, offset, newTimestamp, newHeaders);
    }
}
