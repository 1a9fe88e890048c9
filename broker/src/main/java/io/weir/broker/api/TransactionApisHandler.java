package io.weir.broker.api;

import io.weir.broker.group.CommittedOffset;
import io.weir.broker.group.GroupCoordinatorService;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.transaction.TransactionCoordinatorService;
import io.weir.broker.transaction.TransactionMarkerWriter;
import io.weir.broker.transaction.TransactionMetadata;
import io.weir.broker.transaction.TransactionState;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.AddOffsetsToTxnRequest;
import io.weir.protocol.message.AddOffsetsToTxnResponse;
import io.weir.protocol.message.AddPartitionsToTxnRequest;
import io.weir.protocol.message.AddPartitionsToTxnResponse;
import io.weir.protocol.message.DescribeTransactionsRequest;
import io.weir.protocol.message.DescribeTransactionsResponse;
import io.weir.protocol.message.EndTxnRequest;
import io.weir.protocol.message.EndTxnResponse;
import io.weir.protocol.message.ListTransactionsRequest;
import io.weir.protocol.message.ListTransactionsResponse;
import io.weir.protocol.message.TxnOffsetCommitRequest;
import io.weir.protocol.message.TxnOffsetCommitResponse;
import io.weir.protocol.message.WriteTxnMarkersRequest;
import io.weir.protocol.message.WriteTxnMarkersResponse;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * The transaction APIs: AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and the transaction coordinator's
 * admin APIs (DescribeTransactions, ListTransactions) on the {@link TransactionCoordinatorService};
 * TxnOffsetCommit on the group coordinator (after the offsets partition is verified in, or for
 * transactions V2 implicitly added to, the producer's transaction); WriteTxnMarkers on the local
 * {@link TransactionMarkerWriter}. It also advertises the {@code transaction.version} feature: level 2
 * is what makes kafka-clients 4.x speak transactions V2 (KIP-890). Every answer is given when the
 * coordinator's future completes; request threads never wait.
 *
 * <p>Errors are translated for the request's version in one place ({@link #forVersion}).
 *
 * <p>Thread-safe.
 */
public final class TransactionApisHandler implements ApiHandler {
    /** The highest {@code transaction.version} this broker implements: 2 = transactions V2. */
    public static final short MAX_TRANSACTION_VERSION = 2;

    private final TransactionCoordinatorService transactions;
    private final GroupCoordinatorService groups;
    private final TransactionMarkerWriter markers;
    private final MetadataStore store;
    private final short transactionVersion;

    /** @param transactionVersion the finalized {@code transaction.version} to advertise (0..2) */
    public TransactionApisHandler(TransactionCoordinatorService transactions, GroupCoordinatorService groups,
                                  TransactionMarkerWriter markers, MetadataStore store, short transactionVersion) {
        this.transactionVersion = transactionVersion;
        this.transactions = transactions;
        this.groups = groups;
        this.markers = markers;
        this.store = store;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        Map<ApiKeys, VersionRange> apis = new EnumMap<>(ApiKeys.class);
        for (ApiKeys api : List.of(ApiKeys.ADD_PARTITIONS_TO_TXN, ApiKeys.ADD_OFFSETS_TO_TXN, ApiKeys.END_TXN,
            ApiKeys.TXN_OFFSET_COMMIT, ApiKeys.WRITE_TXN_MARKERS, ApiKeys.DESCRIBE_TRANSACTIONS,
            ApiKeys.LIST_TRANSACTIONS)) {
            apis.put(api, VersionRange.all(api));
        }
        return apis;
    }

    @Override
    public List<Feature> features() {
        return List.of(new Feature("transaction.version", new VersionRange((short) 0, MAX_TRANSACTION_VERSION),
            transactionVersion));
    }

    /**
     * The error a client of {@code api} at {@code version} understands: PRODUCER_FENCED became its own
     * code in KIP-588 (older versions get INVALID_PRODUCER_EPOCH), TRANSACTION_ABORTABLE in KIP-890 (older
     * versions get INVALID_TXN_STATE, which makes them abort as well).
     */
    public static Errors forVersion(ApiKeys api, short version, Errors e) {
        if (e == Errors.PRODUCER_FENCED) {
            boolean known = switch (api) {
                case INIT_PRODUCER_ID -> version >= 4;
                case ADD_PARTITIONS_TO_TXN, ADD_OFFSETS_TO_TXN, END_TXN -> version >= 2;
                default -> false;
            };
            return known ? e : Errors.INVALID_PRODUCER_EPOCH;
        }
        if (e == Errors.TRANSACTION_ABORTABLE) {
            boolean known = switch (api) {
                case ADD_PARTITIONS_TO_TXN -> version >= 5;
                case ADD_OFFSETS_TO_TXN, END_TXN, TXN_OFFSET_COMMIT -> version >= 4;
                case PRODUCE -> version >= 11;
                default -> false;
            };
            return known ? e : Errors.INVALID_TXN_STATE;
        }
        return e;
    }

    /**
     * Partitions a transaction may hold: those of existing topics (and of the offsets topic, made on
     * demand), never the coordinator's own {@code __transaction_state}.
     */
    private Predicate<TopicPartition> exists() {
        return tp -> GroupCoordinatorService.isOffsetsTopic(tp.topic())
            || !tp.topic().equals(TransactionCoordinatorService.TOPIC) && store.topic(tp.topic())
            .map(t -> tp.partition() >= 0 && tp.partition() < t.partitionCount()).orElse(false);
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        short v = ctx.apiVersion();
        CompletableFuture<? extends ApiMessage> response = switch (ctx.api()) {
            case ADD_PARTITIONS_TO_TXN -> addPartitions((AddPartitionsToTxnRequest) body, v);
            case ADD_OFFSETS_TO_TXN -> addOffsets((AddOffsetsToTxnRequest) body, v);
            case END_TXN -> endTxn((EndTxnRequest) body, v);
            case TXN_OFFSET_COMMIT -> txnOffsetCommit((TxnOffsetCommitRequest) body, v);
            case WRITE_TXN_MARKERS -> writeTxnMarkers((WriteTxnMarkersRequest) body);
            case DESCRIBE_TRANSACTIONS -> describe((DescribeTransactionsRequest) body);
            case LIST_TRANSACTIONS -> list((ListTransactionsRequest) body, v);
            default -> throw new IllegalArgumentException("not a transaction API: " + ctx.api());
        };
        response.whenComplete((message, failure) -> {
            if (failure != null) {
                ctx.respond(errorResponse(ctx.header(), body, Errors.forException(failure)));
            } else {
                ctx.respond(message);
            }
        });
    }

    // ------------------------------------------------------------------------------ AddPartitionsToTxn

    private static Set<TopicPartition> partitionsOf(List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics) {
        Set<TopicPartition> out = new LinkedHashSet<>();
        for (AddPartitionsToTxnRequest.AddPartitionsToTxnTopic t : topics) {
            for (int p : t.partitions()) {
                out.add(new TopicPartition(t.name(), p));
            }
        }
        return out;
    }

    private static List<AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult> topicResults(
        Map<TopicPartition, Errors> errors) {
        Map<String, List<AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult>> byTopic = new LinkedHashMap<>();
        errors.forEach((tp, e) -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>())
            .add(new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult().setPartitionIndex(tp.partition())
                .setPartitionErrorCode(e.code())));
        List<AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult> out = new ArrayList<>();
        byTopic.forEach((t, ps) -> out.add(new AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult().setName(t)
            .setResultsByPartition(ps)));
        return out;
    }

    private static Map<TopicPartition, Errors> translate(Map<TopicPartition, Errors> errors, ApiKeys api, short v) {
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        errors.forEach((tp, e) -> out.put(tp, forVersion(api, v, e)));
        return out;
    }

    private CompletableFuture<AddPartitionsToTxnResponse> addPartitions(AddPartitionsToTxnRequest req, short v) {
        if (v < 4) {
            Set<TopicPartition> partitions = partitionsOf(req.v3AndBelowTopics());
            return transactions.addPartitions(req.v3AndBelowTransactionalId(), req.v3AndBelowProducerId(),
                    req.v3AndBelowProducerEpoch(), partitions, false, (byte) 1, exists())
                .thenApply(errors -> new AddPartitionsToTxnResponse()
                    .setResultsByTopicV3AndBelow(topicResults(translate(errors, ApiKeys.ADD_PARTITIONS_TO_TXN, v))));
        }
        List<CompletableFuture<AddPartitionsToTxnResponse.AddPartitionsToTxnResult>> results = new ArrayList<>();
        for (AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction t : req.transactions()) {
            // v5 from a partition leader that adds (not verifies) speaks for a transactions-V2 producer
            byte clientVersion = (byte) (v >= 5 && !t.verifyOnly() ? 2 : 1);
            results.add(transactions.addPartitions(t.transactionalId(), t.producerId(), t.producerEpoch(),
                    partitionsOf(t.topics()), t.verifyOnly(), clientVersion, exists())
                .thenApply(errors -> new AddPartitionsToTxnResponse.AddPartitionsToTxnResult()
                    .setTransactionalId(t.transactionalId())
                    .setTopicResults(topicResults(translate(errors, ApiKeys.ADD_PARTITIONS_TO_TXN, v)))));
        }
        return CompletableFuture.allOf(results.toArray(new CompletableFuture[0])).thenApply(x -> {
            List<AddPartitionsToTxnResponse.AddPartitionsToTxnResult> out = new ArrayList<>();
            results.forEach(f -> out.add(f.join()));
            return new AddPartitionsToTxnResponse().setErrorCode(Errors.NONE.code()).setResultsByTransaction(out);
        });
    }

    // ------------------------------------------------------------------------------ AddOffsetsToTxn

    private CompletableFuture<AddOffsetsToTxnResponse> addOffsets(AddOffsetsToTxnRequest req, short v) {
        if (req.groupId() == null || req.groupId().isEmpty()) {
            return CompletableFuture.completedFuture(new AddOffsetsToTxnResponse()
                .setErrorCode(Errors.INVALID_GROUP_ID.code()));
        }
        TopicPartition offsets = groups.offsetsPartitionFor(req.groupId());
        return transactions.addPartitions(req.transactionalId(), req.producerId(), req.producerEpoch(), Set.of(offsets),
                false, (byte) 1, exists())
            .thenApply(errors -> new AddOffsetsToTxnResponse().setErrorCode(
                forVersion(ApiKeys.ADD_OFFSETS_TO_TXN, v, errors.getOrDefault(offsets, Errors.NONE)).code()));
    }

    // ------------------------------------------------------------------------------ EndTxn

    private CompletableFuture<EndTxnResponse> endTxn(EndTxnRequest req, short v) {
        return transactions.endTransaction(req.transactionalId(), req.producerId(), req.producerEpoch(),
                req.committed(), v >= 5)
            .thenApply(r -> new EndTxnResponse().setErrorCode(forVersion(ApiKeys.END_TXN, v, r.error()).code())
                .setProducerId(r.producerId()).setProducerEpoch(r.producerEpoch()));
    }

    // ------------------------------------------------------------------------------ TxnOffsetCommit

    private CompletableFuture<TxnOffsetCommitResponse> txnOffsetCommit(TxnOffsetCommitRequest req, short v) {
        Map<TopicPartition, CommittedOffset> offsets = new LinkedHashMap<>();
        for (TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic t : req.topics()) {
            for (TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition p : t.partitions()) {
                offsets.put(new TopicPartition(t.name(), p.partitionIndex()), new CommittedOffset(p.committedOffset(),
                    p.committedLeaderEpoch(), p.committedMetadata(), 0));
            }
        }
        if (req.groupId() == null || req.groupId().isEmpty()) {
            return CompletableFuture.completedFuture(txnOffsetResponse(allWith(offsets, Errors.INVALID_GROUP_ID)));
        }
        // V2 (v5+): the offsets partition joins the transaction here; V1: it must already be in it
        TopicPartition offsetsPartition = groups.offsetsPartitionFor(req.groupId());
        boolean v2 = v >= 5;
        // (through addPartitionsThen: it waits a few ms for a previous transaction's markers, sparing a retry)
        CompletableFuture<Map<TopicPartition, Errors>> verdict = new CompletableFuture<>();
        transactions.addPartitionsThen(req.transactionalId(), req.producerId(), req.producerEpoch(),
            Set.of(offsetsPartition), !v2, (byte) (v2 ? 2 : 1), verdict::complete);
        return verdict
            .thenCompose(added -> {
                Errors e = added.getOrDefault(offsetsPartition, Errors.NONE);
                if (e != Errors.NONE) {
                    return CompletableFuture.completedFuture(allWith(offsets, e));
                }
                return groups.commitTransactionalOffsets(req.groupId(), req.producerId(), req.producerEpoch(),
                    req.memberId(), req.groupInstanceId(), req.generationId(), offsets);
            })
            .thenApply(errors -> txnOffsetResponse(translate(errors, ApiKeys.TXN_OFFSET_COMMIT, v)));
    }

    private static Map<TopicPartition, Errors> allWith(Map<TopicPartition, ?> tps, Errors e) {
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        tps.keySet().forEach(tp -> out.put(tp, e));
        return out;
    }

    private static TxnOffsetCommitResponse txnOffsetResponse(Map<TopicPartition, Errors> errors) {
        Map<String, List<TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition>> byTopic = new LinkedHashMap<>();
        errors.forEach((tp, e) -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>())
            .add(new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition().setPartitionIndex(tp.partition())
                .setErrorCode(e.code())));
        List<TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic> topics = new ArrayList<>();
        byTopic.forEach((t, ps) -> topics.add(new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic().setName(t)
            .setPartitions(ps)));
        return new TxnOffsetCommitResponse().setTopics(topics);
    }

    // ------------------------------------------------------------------------------ WriteTxnMarkers

    private CompletableFuture<WriteTxnMarkersResponse> writeTxnMarkers(WriteTxnMarkersRequest req) {
        List<CompletableFuture<WriteTxnMarkersResponse.WritableTxnMarkerResult>> results = new ArrayList<>();
        for (WriteTxnMarkersRequest.WritableTxnMarker m : req.markers()) {
            Set<TopicPartition> partitions = new LinkedHashSet<>();
            for (WriteTxnMarkersRequest.WritableTxnMarkerTopic t : m.topics()) {
                for (int p : t.partitionIndexes()) {
                    partitions.add(new TopicPartition(t.name(), p));
                }
            }
            results.add(markers.writeMarkers(m.producerId(), m.producerEpoch(), m.coordinatorEpoch(),
                    m.transactionResult(), partitions)
                .thenApply(errors -> {
                    Map<String, List<WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult>> byTopic =
                        new LinkedHashMap<>();
                    errors.forEach((tp, e) -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>())
                        .add(new WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult()
                            .setPartitionIndex(tp.partition()).setErrorCode(e.code())));
                    List<WriteTxnMarkersResponse.WritableTxnMarkerTopicResult> topics = new ArrayList<>();
                    byTopic.forEach((t, ps) -> topics.add(new WriteTxnMarkersResponse.WritableTxnMarkerTopicResult()
                        .setName(t).setPartitions(ps)));
                    return new WriteTxnMarkersResponse.WritableTxnMarkerResult().setProducerId(m.producerId())
                        .setTopics(topics);
                }));
        }
        return CompletableFuture.allOf(results.toArray(new CompletableFuture[0])).thenApply(x -> {
            List<WriteTxnMarkersResponse.WritableTxnMarkerResult> out = new ArrayList<>();
            results.forEach(f -> out.add(f.join()));
            return new WriteTxnMarkersResponse().setMarkers(out);
        });
    }

    // ------------------------------------------------------------------------------ admin

    private CompletableFuture<DescribeTransactionsResponse> describe(DescribeTransactionsRequest req) {
        List<CompletableFuture<DescribeTransactionsResponse.TransactionState>> states = new ArrayList<>();
        for (String id : req.transactionalIds()) {
            states.add(transactions.describe(id).thenApply(d -> {
                DescribeTransactionsResponse.TransactionState s = new DescribeTransactionsResponse.TransactionState()
                    .setTransactionalId(id).setTransactionState("").setProducerId(-1).setProducerEpoch((short) -1)
                    .setTransactionStartTimeMs(-1);
                if (d.error() != Errors.NONE) {
                    return s.setErrorCode(d.error().code());
                }
                TransactionMetadata m = d.metadata();
                if (m == null) {
                    return s.setErrorCode(Errors.TRANSACTIONAL_ID_NOT_FOUND.code());
                }
                Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
                m.partitions().forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>())
                    .add(tp.partition()));
                List<DescribeTransactionsResponse.TopicData> topics = new ArrayList<>();
                byTopic.forEach((t, ps) -> topics.add(new DescribeTransactionsResponse.TopicData().setTopic(t)
                    .setPartitions(ps)));
                return s.setErrorCode(Errors.NONE.code()).setTransactionState(m.state().displayName())
                    .setTransactionTimeoutMs(m.txnTimeoutMs())
                    .setTransactionStartTimeMs(m.state().isIdle() ? -1 : m.txnStartTimestampMs())
                    .setProducerId(m.producerId()).setProducerEpoch(m.producerEpoch()).setTopics(topics);
            }));
        }
        return CompletableFuture.allOf(states.toArray(new CompletableFuture[0])).thenApply(x -> {
            List<DescribeTransactionsResponse.TransactionState> out = new ArrayList<>();
            states.forEach(f -> out.add(f.join()));
            return new DescribeTransactionsResponse().setTransactionStates(out);
        });
    }

    private CompletableFuture<ListTransactionsResponse> list(ListTransactionsRequest req, short v) {
        Set<TransactionState> states = EnumSet.noneOf(TransactionState.class);
        List<String> unknown = new ArrayList<>();
        for (String s : req.stateFilters()) {
            TransactionState st = TransactionState.fromDisplayName(s);
            if (st == null) {
                unknown.add(s);
            } else {
                states.add(st);
            }
        }
        if (!req.stateFilters().isEmpty() && states.isEmpty()) {
            return CompletableFuture.completedFuture(new ListTransactionsResponse().setErrorCode(Errors.NONE.code())
                .setUnknownStateFilters(unknown));
        }
        Set<Long> producerIds = new HashSet<>(req.producerIdFilters());
        long minDurationMs = v >= 1 ? req.durationFilter() : -1;
        return transactions.list(states, producerIds, minDurationMs).thenApply(l -> {
            List<ListTransactionsResponse.TransactionState> out = new ArrayList<>();
            for (TransactionMetadata m : l.transactions()) {
                out.add(new ListTransactionsResponse.TransactionState().setTransactionalId(m.transactionalId())
                    .setProducerId(m.producerId()).setTransactionState(m.state().displayName()));
            }
            return new ListTransactionsResponse().setErrorCode(l.error().code()).setUnknownStateFilters(unknown)
                .setTransactionStates(out);
        });
    }

    // ------------------------------------------------------------------------------ errors

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        short v = header.apiVersion();
        return switch (ApiKeys.forId(header.apiKey())) {
            case ADD_PARTITIONS_TO_TXN -> {
                AddPartitionsToTxnRequest req = (AddPartitionsToTxnRequest) body;
                if (v < 4) {
                    Map<TopicPartition, Errors> errors = new LinkedHashMap<>();
                    partitionsOf(req.v3AndBelowTopics()).forEach(tp -> errors.put(tp, error));
                    yield new AddPartitionsToTxnResponse().setResultsByTopicV3AndBelow(topicResults(errors));
                }
                yield new AddPartitionsToTxnResponse().setErrorCode(error.code());
            }
            case ADD_OFFSETS_TO_TXN -> new AddOffsetsToTxnResponse().setErrorCode(error.code());
            case END_TXN -> new EndTxnResponse().setErrorCode(error.code()).setProducerId(-1).setProducerEpoch((short) -1);
            case TXN_OFFSET_COMMIT -> {
                Map<TopicPartition, Errors> errors = new LinkedHashMap<>();
                for (TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic t : ((TxnOffsetCommitRequest) body).topics()) {
                    for (TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition p : t.partitions()) {
                        errors.put(new TopicPartition(t.name(), p.partitionIndex()), error);
                    }
                }
                yield txnOffsetResponse(errors);
            }
            case WRITE_TXN_MARKERS -> {
                List<WriteTxnMarkersResponse.WritableTxnMarkerResult> out = new ArrayList<>();
                for (WriteTxnMarkersRequest.WritableTxnMarker m : ((WriteTxnMarkersRequest) body).markers()) {
                    List<WriteTxnMarkersResponse.WritableTxnMarkerTopicResult> topics = new ArrayList<>();
                    for (WriteTxnMarkersRequest.WritableTxnMarkerTopic t : m.topics()) {
                        List<WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult> ps = new ArrayList<>();
                        for (int p : t.partitionIndexes()) {
                            ps.add(new WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult().setPartitionIndex(p)
                                .setErrorCode(error.code()));
                        }
                        topics.add(new WriteTxnMarkersResponse.WritableTxnMarkerTopicResult().setName(t.name())
                            .setPartitions(ps));
                    }
                    out.add(new WriteTxnMarkersResponse.WritableTxnMarkerResult().setProducerId(m.producerId())
                        .setTopics(topics));
                }
                yield new WriteTxnMarkersResponse().setMarkers(out);
            }
            case DESCRIBE_TRANSACTIONS -> {
                List<DescribeTransactionsResponse.TransactionState> out = new ArrayList<>();
                for (String id : ((DescribeTransactionsRequest) body).transactionalIds()) {
                    out.add(new DescribeTransactionsResponse.TransactionState().setErrorCode(error.code())
                        .setTransactionalId(id).setTransactionState("").setProducerId(-1)
                        .setProducerEpoch((short) -1).setTransactionStartTimeMs(-1));
                }
                yield new DescribeTransactionsResponse().setTransactionStates(out);
            }
            case LIST_TRANSACTIONS -> new ListTransactionsResponse().setErrorCode(error.code());
            default -> throw new IllegalArgumentException("not a transaction API: " + header.apiKey());
        };
    }
}
