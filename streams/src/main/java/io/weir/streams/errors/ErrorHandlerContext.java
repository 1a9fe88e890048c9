package io.weir.streams.errors;

import io.weir.common.record.Header;
import io.weir.streams.processor.TaskId;

import java.util.List;

/**
 * Where a failed record was, for the exception handlers: its task, the input record's topic, partition,
 * offset, timestamp and headers, the node that failed, and the input record's raw key and value bytes
 * (KIP-1034: what a dead-letter record carries). For a record a punctuation forwarded there is no input
 * record: topic null, partition and offset -1, raw key and value null. The byte arrays are the task's own:
 * read them, do not change them.
 */
public record ErrorHandlerContext(TaskId taskId, String topic, int partition, long offset, String processorNodeId,
                                  long timestamp, List<Header> headers, byte[] sourceRawKey, byte[] sourceRawValue) {

    public ErrorHandlerContext {
        headers = headers == null ? List.of() : headers;
    }

    /** A context without the input record's timestamp, headers and raw bytes. */
    public ErrorHandlerContext(TaskId taskId, String topic, int partition, long offset, String processorNodeId) {
        this(taskId, topic, partition, offset, processorNodeId, -1L, List.of(), null, null);
    }
}
