package io.weir.consumer;

import io.weir.common.TopicPartition;

import java.util.Map;

/** Told the result of a {@link Consumer#commitAsync}; called on the polling thread. */
@FunctionalInterface
public interface OffsetCommitCallback {
    /** {@code exception} is null on success. */
    void onComplete(Map<TopicPartition, OffsetAndMetadata> offsets, Exception exception);
}
