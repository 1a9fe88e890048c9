package io.weir.broker.server;

import io.weir.broker.metadata.PartitionState;
import io.weir.common.TopicPartition;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * How a partition leader asks the controller to change the partition's ISR (Kafka's AlterPartition):
 * the change names the leader epoch and the partition epoch (the state znode's version) the leader
 * saw, so the controller refuses it when leadership or the ISR moved since (FENCED_LEADER_EPOCH,
 * INVALID_UPDATE_VERSION) and a stale leader can never overwrite a newer ISR.
 */
public interface AlterPartitionSender {
    /**
     * Submits the change; completes with the state the controller wrote (its new partition epoch), or
     * exceptionally with an {@link io.weir.protocol.ApiException} carrying the controller's
     * error. At most one change per partition should be outstanding.
     */
    CompletableFuture<PartitionState> submit(TopicPartition tp, int leaderEpoch, int partitionEpoch,
                                             List<Integer> newIsr);

    /**
     * As {@link #submit(TopicPartition, int, int, List)}, naming the broker epoch each ISR member fetched with
     * (KIP-903: the leader's own view of the replica, not the metadata's), so the controller refuses to take
     * back a replica whose broker restarted since that fetch (INELIGIBLE_REPLICA). A member missing from
     * {@code memberEpochs} (or at -1) is named with the epoch of its registration in this broker's metadata.
     */
    default CompletableFuture<PartitionState> submit(TopicPartition tp, int leaderEpoch, int partitionEpoch,
                                                     List<Integer> newIsr, Map<Integer, Long> memberEpochs) {
        return submit(tp, leaderEpoch, partitionEpoch, newIsr);
    }
}
