package io.weir.broker.api;

import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.log.Log;
import io.weir.log.TimestampAndOffset;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.ListOffsetsTimestamp;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.ListOffsetsResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * ListOffsets: the offset for a timestamp, or for one of the {@link ListOffsetsTimestamp special
 * timestamps} (latest, earliest, max timestamp, earliest local, latest tiered), bounded by what
 * consumers may read (the high watermark, or the last stable offset under read_committed). Only the
 * leader answers (NOT_LEADER_OR_FOLLOWER elsewhere), and a {@code currentLeaderEpoch} other than its
 * own is FENCED_LEADER_EPOCH (older) or UNKNOWN_LEADER_EPOCH (newer). A consumer asking a leader whose
 * high watermark has not reached its epoch's start offset yet gets OFFSET_NOT_AVAILABLE (retriable).
 *
 * <p>Thread-safe.
 */
public final class ListOffsetsHandler implements ApiHandler {
    /** The replica id a consumer's ListOffsets names (brokers and debugging tools name others). */
    private static final int CONSUMER_REPLICA_ID = -1;
    private final ReplicaManager replicaManager;

    public ListOffsetsHandler(ReplicaManager replicaManager) {
        this.replicaManager = replicaManager;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.LIST_OFFSETS, VersionRange.all(ApiKeys.LIST_OFFSETS));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        ListOffsetsRequest req = (ListOffsetsRequest) body;
        boolean readCommitted = req.isolationLevel() == FetchHandler.READ_COMMITTED;
        List<ListOffsetsResponse.ListOffsetsTopicResponse> out = new ArrayList<>();
        for (ListOffsetsRequest.ListOffsetsTopic t : req.topics()) {
            List<ListOffsetsResponse.ListOffsetsPartitionResponse> parts = new ArrayList<>();
            for (ListOffsetsRequest.ListOffsetsPartition p : t.partitions()) {
                ListOffsetsResponse.ListOffsetsPartitionResponse pr = new ListOffsetsResponse.ListOffsetsPartitionResponse()
                    .setPartitionIndex(p.partitionIndex());
                TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                Partition partition = replicaManager.partition(tp);
                Errors invalid = partition == null ? replicaManager.notHostedError(tp)
                    : replicaManager.validateLeader(tp, p.currentLeaderEpoch());
                if (invalid != Errors.NONE) {
                    pr.setErrorCode(invalid.code()).setTimestamp(-1).setOffset(-1);
                } else if (req.replicaId() == CONSUMER_REPLICA_ID && highWatermarkBehindEpochStart(partition)) {
                    pr.setErrorCode(Errors.OFFSET_NOT_AVAILABLE.code()).setTimestamp(-1).setOffset(-1);
                } else {
                    lookup(partition, p.timestamp(), readCommitted, pr);
                    pr.setLeaderEpoch(partition.leaderEpoch());
                }
                parts.add(pr);
            }
            out.add(new ListOffsetsResponse.ListOffsetsTopicResponse().setName(t.name()).setPartitions(parts));
        }
        ctx.respond(new ListOffsetsResponse().setTopics(out));
    }

    /**
     * Whether this leader's high watermark is still below where its leader epoch began: a new leader
     * (a restarted one especially, whose high watermark came from its checkpoint) only learns the committed
     * end when its followers fetch. Its answer would then go back below offsets the previous leader
     * reported and acknowledged, so a consumer is told OFFSET_NOT_AVAILABLE (retriable) until it catches
     * up, as Kafka's brokers answer (KIP-207).
     */
    private static boolean highWatermarkBehindEpochStart(Partition partition) {
        return partition.isLeader() && partition.highWatermark() < partition.leaderEpochStartOffset();
    }

    private static void lookup(Partition partition, long ts, boolean readCommitted,
                               ListOffsetsResponse.ListOffsetsPartitionResponse pr) {
        Log l = partition.log();
        long upper = readCommitted ? partition.lastStableOffset() : partition.highWatermark();
        ListOffsetsTimestamp special = ListOffsetsTimestamp.forValue(ts);
        if (special == null && ts < 0) {
            pr.setErrorCode(Errors.INVALID_REQUEST.code());
            return;
        }
        if (special != null) {
            switch (special) {
                case LATEST -> {
                    pr.setTimestamp(-1).setOffset(upper);
                    return;
                }
                case EARLIEST, EARLIEST_LOCAL -> {
                    // nothing is tiered: the local log starts where the log starts
                    pr.setTimestamp(-1).setOffset(l.logStartOffset());
                    return;
                }
                case LATEST_TIERED -> {
                    pr.setTimestamp(-1).setOffset(-1);
                    return;
                }
                case MAX_TIMESTAMP -> {
                    // looked up like a timestamp below
                }
            }
        }
        TimestampAndOffset found = l.fetchOffsetByTimestamp(ts);
        if (found == null || found.offset() >= upper) {
            pr.setTimestamp(-1).setOffset(-1);
        } else {
            pr.setTimestamp(found.timestamp()).setOffset(found.offset());
        }
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        ListOffsetsRequest req = (ListOffsetsRequest) body;
        List<ListOffsetsResponse.ListOffsetsTopicResponse> out = new ArrayList<>();
        for (ListOffsetsRequest.ListOffsetsTopic t : req.topics()) {
            List<ListOffsetsResponse.ListOffsetsPartitionResponse> parts = new ArrayList<>();
            for (ListOffsetsRequest.ListOffsetsPartition p : t.partitions()) {
                parts.add(new ListOffsetsResponse.ListOffsetsPartitionResponse().setPartitionIndex(p.partitionIndex())
                    .setErrorCode(error.code()).setTimestamp(-1).setOffset(-1));
            }
            out.add(new ListOffsetsResponse.ListOffsetsTopicResponse().setName(t.name()).setPartitions(parts));
        }
        return new ListOffsetsResponse().setTopics(out);
    }
}
