package io.weir.admin;

import io.weir.common.TopicPartition;

import java.util.Map;

/**
 * One log directory of a broker as {@link Admin#describeLogDirs} reports it: its error (null when
 * healthy), the replicas it holds with their sizes and lags, and the total and usable bytes of its
 * volume (-1 when the broker does not report them). Immutable.
 */
public record LogDirDescription(RuntimeException error, Map<TopicPartition, ReplicaInfo> replicaInfos,
                                long totalBytes, long usableBytes) {
    public LogDirDescription {
        replicaInfos = Map.copyOf(replicaInfos);
    }
}
