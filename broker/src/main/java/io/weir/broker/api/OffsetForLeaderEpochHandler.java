package io.weir.broker.api;

import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.log.EpochEndOffset;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.OffsetForLeaderEpochRequest;
import io.weir.protocol.message.OffsetForLeaderEpochResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * OffsetForLeaderEpoch: where a leader epoch ended in the leader's log, answered from the log's
 * leader-epoch cache. Consumers (kafka-clients, librdkafka) call it after a leader change to check
 * that the log was not truncated under their position; followers call it to find where they diverged.
 * A {@code currentLeaderEpoch} newer than the leader's is UNKNOWN_LEADER_EPOCH, an older one
 * FENCED_LEADER_EPOCH (Kafka's fencing rule); only the leader answers (NOT_LEADER_OR_FOLLOWER elsewhere),
 * for consumers and followers alike.
 *
 * <p>Thread-safe.
 */
public final class OffsetForLeaderEpochHandler implements ApiHandler {
    private final ReplicaManager replicaManager;

    public OffsetForLeaderEpochHandler(ReplicaManager replicaManager) {
        this.replicaManager = replicaManager;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.OFFSET_FOR_LEADER_EPOCH, VersionRange.all(ApiKeys.OFFSET_FOR_LEADER_EPOCH));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        OffsetForLeaderEpochRequest req = (OffsetForLeaderEpochRequest) body;
        List<OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult> out = new ArrayList<>();
        for (OffsetForLeaderEpochRequest.OffsetForLeaderTopic t : req.topics()) {
            List<OffsetForLeaderEpochResponse.EpochEndOffset> parts = new ArrayList<>();
            for (OffsetForLeaderEpochRequest.OffsetForLeaderPartition p : t.partitions()) {
                parts.add(endOffset(new TopicPartition(t.topic(), p.partition()), p.currentLeaderEpoch(), p.leaderEpoch()));
            }
            out.add(new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult().setTopic(t.topic()).setPartitions(parts));
        }
        ctx.respond(new OffsetForLeaderEpochResponse().setTopics(out));
    }

    private OffsetForLeaderEpochResponse.EpochEndOffset endOffset(TopicPartition tp, int currentLeaderEpoch, int epoch) {
        OffsetForLeaderEpochResponse.EpochEndOffset r = new OffsetForLeaderEpochResponse.EpochEndOffset()
            .setPartition(tp.partition()).setLeaderEpoch(-1).setEndOffset(-1);
        Partition partition = replicaManager.partition(tp);
        if (partition == null) {
            return r.setErrorCode(replicaManager.notHostedError(tp).code());
        }
        Errors invalid = replicaManager.validateLeader(tp, currentLeaderEpoch);
        if (invalid != Errors.NONE) {
            return r.setErrorCode(invalid.code());
        }
        EpochEndOffset end = partition.log().endOffsetForEpoch(epoch);
        return r.setErrorCode(Errors.NONE.code()).setLeaderEpoch(end.leaderEpoch()).setEndOffset(end.endOffset());
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        List<OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult> out = new ArrayList<>();
        for (OffsetForLeaderEpochRequest.OffsetForLeaderTopic t : ((OffsetForLeaderEpochRequest) body).topics()) {
            List<OffsetForLeaderEpochResponse.EpochEndOffset> parts = new ArrayList<>();
            for (OffsetForLeaderEpochRequest.OffsetForLeaderPartition p : t.partitions()) {
                parts.add(new OffsetForLeaderEpochResponse.EpochEndOffset().setPartition(p.partition())
                    .setErrorCode(error.code()).setLeaderEpoch(-1).setEndOffset(-1));
            }
            out.add(new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult().setTopic(t.topic()).setPartitions(parts));
        }
        return new OffsetForLeaderEpochResponse().setTopics(out);
    }
}
