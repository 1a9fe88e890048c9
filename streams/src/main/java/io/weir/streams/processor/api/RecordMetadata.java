package io.weir.streams.processor.api;

/** The input position of the record being processed. */
public interface RecordMetadata {
    String topic();

    int partition();

    long offset();
}
