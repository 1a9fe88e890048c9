package io.weir.streams.errors;

import io.weir.streams.processor.TaskId;

/** Where a failed record was: its task, input topic, partition and offset, and the node that failed. */
public record ErrorHandlerContext(TaskId taskId, String topic, int partition, long offset, String processorNodeId) {
}
