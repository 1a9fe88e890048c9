package io.weir.broker.transaction;

import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Writes the COMMIT or ABORT marker of a producer's transaction to partition leaders. On one broker every
 * leader is local ({@link LocalTransactionMarkerWriter}); in a cluster the same interface becomes a
 * WriteTxnMarkers request to each leader.
 *
 * <p>Implementations are thread-safe and do not block the caller longer than a local append.
 */
public interface TransactionMarkerWriter {
    /**
     * Writes the marker to each partition; the future gets each partition's error (NONE once the marker
     * is appended, a retriable error when the leader could not take it now).
     */
    CompletableFuture<Map<TopicPartition, Errors>> writeMarkers(long producerId, short producerEpoch,
                                                              int coordinatorEpoch, boolean commit,
                                                              Set<TopicPartition> partitions);
}
