package io.weir.broker.api;

import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.purgatory.DelayedOperationPurgatory;
import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.transaction.TransactionCoordinatorService;
import io.weir.common.TopicPartition;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.log.AppendOrigin;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Produce: appends each partition's batches as leader and answers per partition. With acks=all the
 * answer waits in the produce purgatory until the in-sync replicas hold the appended records
 * ({@link DelayedProduce}); acks=1 answers after the local append; acks=0 never answers.
 *
 * <p><b>Transactions.</b> Before a transactional batch is appended, the transaction coordinator is asked
 * about its partition: Produce v12+ from a transactions-V2 producer adds the partition to the producer's
 * transaction implicitly (KIP-890); older versions only verify that the producer registered it with
 * AddPartitionsToTxn, so a late or stray batch cannot open a transaction of its own. A partition the
 * coordinator refuses gets the coordinator's error (TRANSACTION_ABORTABLE, or INVALID_TXN_STATE before
 * v11); one it cannot answer now gets NOT_ENOUGH_REPLICAS, which producers retry.
 *
 * <p>Thread-safe.
 */
public final class ProduceHandler implements ApiHandler {
    private final ReplicaManager replicaManager;
    private final DelayedOperationPurgatory<TopicPartition, DelayedProduce> purgatory;
    private final TransactionCoordinatorService transactions;
    private final short transactionVersion;

    public ProduceHandler(ReplicaManager replicaManager,
                          DelayedOperationPurgatory<TopicPartition, DelayedProduce> purgatory) {
        this(replicaManager, purgatory, null, (short) 0);
    }

    /**
     * @param transactions       the coordinator asked about transactional batches' partitions (null: none)
     * @param transactionVersion the finalized {@code transaction.version}; 2 enables implicit adds with v12+
     */
    public ProduceHandler(ReplicaManager replicaManager,
                          DelayedOperationPurgatory<TopicPartition, DelayedProduce> purgatory,
                          TransactionCoordinatorService transactions, short transactionVersion) {
        this.replicaManager = replicaManager;
        this.purgatory = purgatory;
        this.transactions = transactions;
        this.transactionVersion = transactionVersion;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.PRODUCE, VersionRange.all(ApiKeys.PRODUCE));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        ProduceRequest req = (ProduceRequest) body;
        if (transactions == null || req.transactionalId() == null) {
            append(ctx, req, Map.of());
            return;
        }
        // the transactional batches' partitions, and the producer they belong to (one per request)
        Set<TopicPartition> partitions = new LinkedHashSet<>();
        long producerId = -1;
        short producerEpoch = -1;
        for (ProduceRequest.TopicProduceData td : req.topicData()) {
            for (ProduceRequest.PartitionProduceData pd : td.partitionData()) {
                RecordBatch first = firstBatch(pd.records());
                if (first != null && first.isTransactional() && first.hasProducerId() && !TopicMetadata.isInternal(td.name())
                    && needsCoordinator(new TopicPartition(td.name(), pd.index()), first)) {
                    partitions.add(new TopicPartition(td.name(), pd.index()));
                    producerId = first.producerId();
                    producerEpoch = first.producerEpoch();
                }
            }
        }
        if (partitions.isEmpty()) {
            append(ctx, req, Map.of());
            return;
        }
        boolean implicitAdd = ctx.apiVersion() >= 12 && transactionVersion >= 2;
        short v = ctx.apiVersion();
        // the append runs where the coordinator decided, before any marker of the transaction can be written
        transactions.addPartitionsThen(req.transactionalId(), producerId, producerEpoch, partitions, !implicitAdd,
            (byte) (implicitAdd ? 2 : 1), errors -> {
                Map<TopicPartition, Errors> refused = new LinkedHashMap<>();
                errors.forEach((tp, e) -> {
                    if (e != Errors.NONE) {
                        refused.put(tp, produceError(e, v));
                    }
                });
                try {
                    append(ctx, req, refused);
                } catch (RuntimeException e) {
                    ApiMessage failed = errorResponse(ctx.header(), req, Errors.forException(e));
                    if (failed == null) {
                        ctx.noResponse();
                    } else {
                        ctx.respond(failed);
                    }
                }
            });
    }

    /**
     * Whether the coordinator must decide on this transactional batch first: not when the partition
     * already holds this producer's open transaction at this epoch (the coordinator added the
     * partition then, and a transaction's end writes a marker that closes it here), as Kafka's leaders
     * skip verification then — in a cluster the coordinator is usually another broker, and asking it
     * for every batch would cost a round trip per produce.
     */
    private boolean needsCoordinator(TopicPartition tp, RecordBatch first) {
        Partition partition = replicaManager.partition(tp);
        if (partition == null) {
            return false;
        }
        return partition.log().activeProducer(first.producerId())
            .map(p -> p.currentTxnStartOffset() < 0 || p.epoch() != first.producerEpoch())
            .orElse(true);
    }

    /** What a producer is told when the coordinator refuses (or cannot yet answer for) a transactional batch. */
    private static Errors produceError(Errors coordinatorError, short version) {
        return switch (coordinatorError) {
            case CONCURRENT_TRANSACTIONS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
                 UNKNOWN_SERVER_ERROR -> Errors.NOT_ENOUGH_REPLICAS;
            case PRODUCER_FENCED -> Errors.INVALID_PRODUCER_EPOCH;
            case UNKNOWN_TOPIC_OR_PARTITION -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
            default -> TransactionApisHandler.forVersion(ApiKeys.PRODUCE, version,
                coordinatorError == Errors.INVALID_PRODUCER_ID_MAPPING ? coordinatorError : Errors.TRANSACTION_ABORTABLE);
        };
    }

    private static RecordBatch firstBatch(Records records) {
        if (records == null || records.sizeInBytes() < RecordBatch.HEADER_SIZE) {
            return null;
        }
        try {
            java.util.Iterator<RecordBatch> it = MemoryRecords.readableRecords(records.buffer().duplicate()).iterator();
            return it.hasNext() ? it.next() : null;
        } catch (RuntimeException e) {
            return null; // the append validates the bytes and answers their error
        }
    }

    /**
     * Appends, answers, and only then wakes the fetches parked on the appended partitions: their
     * completions run on this thread, and the producer's acknowledgement must not wait behind a
     * consumer's read and response (Kafka defers them the same way, with its action queue). Produces
     * waiting for acks=all on those partitions are checked right after each append, as before: that
     * check reads nothing.
     */
    private void append(RequestContext ctx, ProduceRequest req, Map<TopicPartition, Errors> refused) {
        List<TopicPartition> appended = new ArrayList<>(1);
        try {
            appendAndAnswer(ctx, req, refused, appended);
        } finally {
            for (TopicPartition tp : appended) {
                replicaManager.appended(tp);
            }
        }
    }

    private void appendAndAnswer(RequestContext ctx, ProduceRequest req, Map<TopicPartition, Errors> refused,
                                 List<TopicPartition> appended) {
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
                } else if (refused.containsKey(new TopicPartition(td.name(), pd.index()))) {
                    pr.setErrorCode(refused.get(new TopicPartition(td.name(), pd.index())).code()).setBaseOffset(-1);
                } else {
                    TopicPartition tp = new TopicPartition(td.name(), pd.index());
                    ReplicaManager.AppendResult r = replicaManager.appendAsLeader(tp, pd.records(), acks,
                        AppendOrigin.CLIENT, false);
                    if (r.error() == Errors.NONE) {
                        appended.add(tp);
                        purgatory.checkAndComplete(tp); // acks=all produces waiting on tp: cheap, no read
                    }
                    pr.setErrorCode(r.error().code()).setErrorMessage(r.errorMessage()).setBaseOffset(r.baseOffset())
                        .setLogAppendTimeMs(r.logAppendTimeMs()).setLogStartOffset(r.logStartOffset())
                        .setRecordErrors(r.recordErrors().stream().map(e -> new ProduceResponse.BatchIndexAndErrorMessage()
                            .setBatchIndex(e.batchIndex()).setBatchIndexErrorMessage(e.message())).toList());
                    if (awaitingReplicas != null && r.error() == Errors.NONE) {
                        Partition partition = replicaManager.partition(tp);
                        awaitingReplicas.put(tp, new DelayedProduce.Pending(pr,
                            endOffset(r.baseOffset(), pd.records().buffer()),
                            partition == null ? -1 : partition.leaderEpoch()));
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
