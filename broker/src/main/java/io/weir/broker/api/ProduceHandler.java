package io.weir.broker.api;

import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.purgatory.DelayedOperationPurgatory;
import io.weir.broker.server.ReplicaManager;
import io.weir.log.MemoryRecords;
import io.weir.log.RecordBatch;
import io.weir.log.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Produce: appends each partition's batches as leader and answers per partition. With acks=all the
 * answer waits in the produce purgatory until the in-sync replicas hold the appended records
 * ({@link DelayedProduce}); acks=1 answers after the local append; acks=0 never answers.
 *
 * <p>Thread-safe.
 */
public final class ProduceHandler implements ApiHandler {
    private final ReplicaManager replicaManager;
    private final DelayedOperationPurgatory<TopicPartition, DelayedProduce> purgatory;

    public ProduceHandler(ReplicaManager replicaManager,
                          DelayedOperationPurgatory<TopicPartition, DelayedProduce> purgatory) {
        this.replicaManager = replicaManager;
        this.purgatory = purgatory;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.PRODUCE, VersionRange.all(ApiKeys.PRODUCE));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        ProduceRequest req = (ProduceRequest) body;
        short acks = req.acks();
        List<ProduceResponse.TopicProduceResponse> out = new ArrayList<>();
        Map<TopicPartition, DelayedProduce.Pending> awaitingReplicas = acks == -1 ? new LinkedHashMap<>() : null;
        for (ProduceRequest.TopicProduceData td : req.topicData()) {
            List<ProduceResponse.PartitionProduceResponse> parts = new ArrayList<>();
            for (ProduceRequest.PartitionProduceData pd : td.partitionData()) {
                ProduceResponse.PartitionProduceResponse pr = new ProduceResponse.PartitionProduceResponse()
                    .setIndex(pd.index());
                if (acks != 0 && acks != 1 && acks != -1) {
                    pr.setErrorCode(Errors.INVALID_REQUIRED_ACKS.code()).setBaseOffset(-1);
                } else if (TopicMetadata.isInternal(td.name())) {
                    pr.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code()).setBaseOffset(-1)
                        .setErrorMessage("Producing to internal topic " + td.name() + " is not allowed");
                } else {
                    TopicPartition tp = new TopicPartition(td.name(), pd.index());
                    ReplicaManager.AppendResult r = replicaManager.appendAsLeader(tp, pd.records(), acks);
                    pr.setErrorCode(r.error().code()).setErrorMessage(r.errorMessage()).setBaseOffset(r.baseOffset())
                        .setLogAppendTimeMs(r.logAppendTimeMs()).setLogStartOffset(r.logStartOffset())
                        .setRecordErrors(r.recordErrors().stream().map(e -> new ProduceResponse.BatchIndexAndErrorMessage()
                            .setBatchIndex(e.batchIndex()).setBatchIndexErrorMessage(e.message())).toList());
                    if (awaitingReplicas != null && r.error() == Errors.NONE) {
                        awaitingReplicas.put(tp, new DelayedProduce.Pending(pr,
                            endOffset(r.baseOffset(), pd.records().buffer())));
                    }
                }
                parts.add(pr);
            }
            out.add(new ProduceResponse.TopicProduceResponse().setName(td.name()).setPartitionResponses(parts));
        }
        if (acks == 0) {
            // Kafka's rule: no response, ever; a failed append is only visible in the broker log
            ctx.noResponse();
            return;
        }
        ProduceResponse response = new ProduceResponse().setResponses(out);
        if (awaitingReplicas == null || awaitingReplicas.isEmpty()) {
            ctx.respond(response);
            return;
        }
        DelayedProduce op = new DelayedProduce(Math.max(0, req.timeoutMs()), ctx, this, req, response,
            awaitingReplicas, replicaManager);
        purgatory.tryCompleteElseWatch(op, awaitingReplicas.keySet());
    }

    /**
     * The offset after the last record of the appended batches (what the in-sync replicas must reach):
     * the base offset the log gave the first batch plus every batch's offset span. Also right for an
     * idempotent duplicate, answered with its original base offset.
     */
    private static long endOffset(long baseOffset, java.nio.ByteBuffer records) {
        long span = 0;
        for (RecordBatch b : MemoryRecords.readableRecords(records)) {
            span += b.lastOffsetDelta() + 1L;
        }
        return baseOffset + Math.max(1, span);
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        ProduceRequest req = (ProduceRequest) body;
        if (req.acks() == 0) {
            return null;
        }
        List<ProduceResponse.TopicProduceResponse> out = new ArrayList<>();
        for (ProduceRequest.TopicProduceData td : req.topicData()) {
            List<ProduceResponse.PartitionProduceResponse> parts = new ArrayList<>();
            for (ProduceRequest.PartitionProduceData pd : td.partitionData()) {
                parts.add(new ProduceResponse.PartitionProduceResponse().setIndex(pd.index())
                    .setErrorCode(error.code()).setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1));
            }
            out.add(new ProduceResponse.TopicProduceResponse().setName(td.name()).setPartitionResponses(parts));
        }
        return new ProduceResponse().setResponses(out);
    }
}
