package io.weir.broker.server;

import io.weir.common.TopicPartition;
import io.weir.log.Log;
import io.weir.log.LogOffsetMetadata;

import java.util.UUID;

/**
 * One partition hosted by this broker: its log and the replica state around it. On a single broker
 * this replica leads and is the whole ISR, so the high watermark is the log end after each append;
 * the clustering work adds followers, ISR changes and leader epochs here.
 *
 * <p>Thread-safe: appends are serialized by the log; the high watermark is volatile and only grows.
 */
public final class Partition {
    private final TopicPartition topicPartition;
    private final UUID topicId;
    private final Log log;
    private final int leaderEpoch;
    private volatile int minInsyncReplicas;
    /** The topic's {@code compression.type}: the codec appended batches are stored in. */
    private volatile TopicConfigs.Compression compression = TopicConfigs.Compression.PRODUCER;
    /** The high watermark with its segment and byte position, so consumer reads stop there without a scan. */
    private volatile LogOffsetMetadata highWatermark;

    Partition(TopicPartition topicPartition, UUID topicId, Log log, int leaderEpoch, int minInsyncReplicas) {
        this.topicPartition = topicPartition;
        this.topicId = topicId;
        this.log = log;
        this.leaderEpoch = leaderEpoch;
        this.minInsyncReplicas = minInsyncReplicas;
        this.highWatermark = log.logEndOffsetMetadata();
        // becoming leader opens the epoch at the log end (Kafka's makeLeader), so OffsetForLeaderEpoch
        // answers for it even before the first append
        log.assignLeaderEpoch(leaderEpoch);
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public UUID topicId() {
        return topicId;
    }

    public Log log() {
        return log;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    public int minInsyncReplicas() {
        return minInsyncReplicas;
    }

    void setMinInsyncReplicas(int n) {
        this.minInsyncReplicas = n;
    }

    /** The codec this partition stores batches in (or the producer's). */
    public TopicConfigs.Compression compression() {
        return compression;
    }

    void setCompression(TopicConfigs.Compression compression) {
        this.compression = compression;
    }

    /** Replicas currently in sync: just this one until replication exists. */
    public int inSyncReplicaCount() {
        return 1;
    }

    public long highWatermark() {
        return highWatermark.messageOffset();
    }

    /** The high watermark and where it sits in the log (segment base offset and byte position). */
    public LogOffsetMetadata highWatermarkMetadata() {
        return highWatermark;
    }

    /** Moves the high watermark up to the log end (the whole ISR has everything the leader has). */
    void maybeAdvanceHighWatermark() {
        LogOffsetMetadata leo = log.logEndOffsetMetadata();
        synchronized (this) {
            if (leo.messageOffset() > highWatermark.messageOffset()) {
                highWatermark = leo;
            }
        }
    }

    /** The last stable offset: the first offset of an open transaction, else the high watermark. */
    public long lastStableOffset() {
        long hw = highWatermark.messageOffset();
        java.util.OptionalLong unstable = log.firstUnstableOffset();
        return unstable.isPresent() ? Math.min(unstable.getAsLong(), hw) : hw;
    }
}
