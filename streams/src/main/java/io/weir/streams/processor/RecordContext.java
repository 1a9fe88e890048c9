package io.weir.streams.processor;

import io.weir.common.record.Header;

import java.util.List;

/**
 * Where the record being processed came from: its input topic, partition and offset, plus its
 * timestamp and headers. Topic is null and partition/offset are -1 when the record was produced by a
 * punctuation rather than read from a topic.
 */
public interface RecordContext {
    String topic();

    int partition();

    long offset();

    long timestamp();

    List<Header> headers();
}
