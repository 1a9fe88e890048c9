package io.weir.streams;

import io.weir.streams.state.HostInfo;

import java.util.Set;

/**
 * Where a key of a store lives: the instance that holds its partition actively (query it there), the
 * instances holding standby copies, and the partition. {@link #NOT_AVAILABLE} before the first rebalance
 * or while no instance holds the partition.
 */
public record KeyQueryMetadata(HostInfo activeHost, Set<HostInfo> standbyHosts, int partition) {
    public static final KeyQueryMetadata NOT_AVAILABLE = new KeyQueryMetadata(HostInfo.UNAVAILABLE, Set.of(), -1);

    public KeyQueryMetadata {
        standbyHosts = Set.copyOf(standbyHosts);
    }
}
