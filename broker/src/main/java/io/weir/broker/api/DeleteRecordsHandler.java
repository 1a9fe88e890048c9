package io.weir.broker.api;

import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.DeleteRecordsRequest;
import io.weir.protocol.message.DeleteRecordsResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * DeleteRecords ({@code kafka-delete-records.sh}, {@code Admin.deleteRecords}): moves each partition's
 * log start offset forward, answered per partition with the new low watermark. On one broker the
 * leader's log start is the low watermark, so the answer is immediate (no purgatory).
 *
 * <p>Thread-safe.
 */
public final class DeleteRecordsHandler implements ApiHandler {
    private final ReplicaManager replicaManager;

    public DeleteRecordsHandler(ReplicaManager replicaManager) {
        this.replicaManager = replicaManager;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.DELETE_RECORDS, VersionRange.all(ApiKeys.DELETE_RECORDS));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        DeleteRecordsRequest req = (DeleteRecordsRequest) body;
        List<DeleteRecordsResponse.DeleteRecordsTopicResult> out = new ArrayList<>();
        for (DeleteRecordsRequest.DeleteRecordsTopic t : req.topics()) {
            List<DeleteRecordsResponse.DeleteRecordsPartitionResult> parts = new ArrayList<>();
            for (DeleteRecordsRequest.DeleteRecordsPartition p : t.partitions()) {
                ReplicaManager.DeleteRecordsResult r = replicaManager.deleteRecords(
                    new TopicPartition(t.name(), p.partitionIndex()), p.offset());
                parts.add(new DeleteRecordsResponse.DeleteRecordsPartitionResult().setPartitionIndex(p.partitionIndex())
                    .setErrorCode(r.error().code()).setLowWatermark(r.lowWatermark()));
            }
            out.add(new DeleteRecordsResponse.DeleteRecordsTopicResult().setName(t.name()).setPartitions(parts));
        }
        ctx.respond(new DeleteRecordsResponse().setTopics(out));
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        List<DeleteRecordsResponse.DeleteRecordsTopicResult> out = new ArrayList<>();
        for (DeleteRecordsRequest.DeleteRecordsTopic t : ((DeleteRecordsRequest) body).topics()) {
            List<DeleteRecordsResponse.DeleteRecordsPartitionResult> parts = new ArrayList<>();
            for (DeleteRecordsRequest.DeleteRecordsPartition p : t.partitions()) {
                parts.add(new DeleteRecordsResponse.DeleteRecordsPartitionResult().setPartitionIndex(p.partitionIndex())
                    .setErrorCode(error.code()).setLowWatermark(-1));
            }
            out.add(new DeleteRecordsResponse.DeleteRecordsTopicResult().setName(t.name()).setPartitions(parts));
        }
        return new DeleteRecordsResponse().setTopics(out);
    }
}
