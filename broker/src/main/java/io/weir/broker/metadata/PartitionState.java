package io.weir.broker.metadata;

import java.util.List;

/**
 * Leadership of one partition as the controller last wrote it
 * ({@code /brokers/topics/<topic>/partitions/<p>/state}): the leader (-1 for none), the leader epoch
 * (bumped at every leader change), the in-sync replicas, the epoch of the controller that wrote it,
 * and {@code zkVersion}, the znode version it was read at, which a conditional update must name so
 * a stale writer cannot overwrite a newer state. Immutable.
 */
public record PartitionState(int leader, int leaderEpoch, List<Integer> isr, int controllerEpoch, int zkVersion) {
    public PartitionState {
        isr = List.copyOf(isr);
    }
}
