package io.weir.admin.internals;

import io.weir.admin.AbortTransactionSpec;
import io.weir.admin.FenceProducersResult;
import io.weir.admin.ListTransactionsOptions;
import io.weir.admin.ProducerState;
import io.weir.admin.TransactionDescription;
import io.weir.admin.TransactionListing;
import io.weir.admin.errors.AdminErrors;
import io.weir.admin.errors.UnknownTopicOrPartitionException;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.TimeoutException;
import io.weir.protocol.message.DescribeProducersRequest;
import io.weir.protocol.message.DescribeProducersResponse;
import io.weir.protocol.message.DescribeTransactionsRequest;
import io.weir.protocol.message.DescribeTransactionsResponse;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import io.weir.protocol.message.ListTransactionsRequest;
import io.weir.protocol.message.ListTransactionsResponse;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.WriteTxnMarkersRequest;
import io.weir.protocol.message.WriteTxnMarkersResponse;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * The Admin calls about transactions: listing and describing transactional ids (at their
 * coordinators, found with FindCoordinator key type 1), describing a partition's producers and
 * aborting a hanging transaction (at the partition leader), and fencing producers (InitProducerId
 * for the id, which bumps its epoch). Retriable answers (the coordinator moved or is loading,
 * CONCURRENT_TRANSACTIONS while a previous transaction's markers are written) are retried with
 * backoff until the call's deadline.
 *
 * <p>Thread-safe; callbacks run on the network client's I/O thread (or the backoff timer's) and
 * never block.
 */
final class TransactionOperations {
    private final NetworkClient client;
    private final Time time;
    private final BiFunction<List<String>, Long, CompletableFuture<MetadataResponse>> metadata;

    TransactionOperations(NetworkClient client, Time time,
                          BiFunction<List<String>, Long, CompletableFuture<MetadataResponse>> metadata) {
        this.client = client;
        this.time = time;
        this.metadata = metadata;
    }

    // ------------------------------------------------------------------ list

    /** ListTransactions at every broker (each coordinates some ids), merged and sorted by id. */
    CompletableFuture<List<TransactionListing>> listTransactions(ListTransactionsOptions options, long deadlineMs) {
        return metadata.apply(List.of(), deadlineMs).thenCompose(meta -> {
            List<CompletableFuture<ListTransactionsResponse>> calls = new ArrayList<>();
            for (MetadataResponse.MetadataResponseBroker br : meta.brokers()) {
                Node node = new Node(br.nodeId(), br.host(), br.port(), br.rack());
                var b = WeirAdminClient.builder(ApiKeys.LIST_TRANSACTIONS, v -> {
                    if (v < 1 && options.durationFilterMs() >= 0) {
                        throw new io.weir.protocol.client.UnsupportedVersionException("broker " + node.id()
                            + " cannot filter transactions by duration (ListTransactions v1)");
                    }
                    return new ListTransactionsRequest().setStateFilters(new ArrayList<>(options.stateFilters()))
                        .setProducerIdFilters(new ArrayList<>(options.producerIdFilters()))
                        .setDurationFilter(options.durationFilterMs());
                }, r -> retriable(Errors.forCode(((ListTransactionsResponse) r).errorCode())));
                calls.add(client.send(NodeSelector.fixed(node), b, deadlineMs)
                    .thenApply(r -> (ListTransactionsResponse) r));
            }
            return CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
                Map<String, TransactionListing> out = new TreeMap<>();
                for (CompletableFuture<ListTransactionsResponse> c : calls) {
                    ListTransactionsResponse r = c.join();
                    if (r.errorCode() != Errors.NONE.code()) {
                        throw AdminErrors.exception(r.errorCode(), null);
                    }
                    for (ListTransactionsResponse.TransactionState s : r.transactionStates()) {
                        out.put(s.transactionalId(), new TransactionListing(s.transactionalId(), s.producerId(),
                            s.transactionState()));
                    }
                }
                return new ArrayList<>(out.values());
            });
        });
    }

    private static Errors retriable(Errors e) {
        return e.isRetriable() ? e : Errors.NONE;
    }

    // ------------------------------------------------------------------ describe / fence (coordinator)

    Map<String, CompletableFuture<TransactionDescription>> describeTransactions(Collection<String> ids,
                                                                               long deadlineMs) {
        Map<String, CompletableFuture<TransactionDescription>> out = WeirAdminClient.futures(ids);
        out.forEach((id, f) -> coordinatorCall(id, ApiKeys.DESCRIBE_TRANSACTIONS,
            v -> new DescribeTransactionsRequest().setTransactionalIds(new ArrayList<>(List.of(id))),
            r -> stateOf((DescribeTransactionsResponse) r, id).map(s -> Errors.forCode(s.errorCode()))
                .orElse(Errors.NONE),
            (node, r) -> {
                DescribeTransactionsResponse.TransactionState s = stateOf((DescribeTransactionsResponse) r, id)
                    .orElseThrow(() -> new IllegalStateException("the DescribeTransactions response omitted " + id));
                if (s.errorCode() != Errors.NONE.code()) {
                    throw AdminErrors.exception(s.errorCode(), "transactional id " + id + ": "
                        + Errors.forCode(s.errorCode()).message());
                }
                Set<TopicPartition> parts = new HashSet<>();
                for (DescribeTransactionsResponse.TopicData t : s.topics()) {
                    for (int p : t.partitions()) {
                        parts.add(new TopicPartition(t.topic(), p));
                    }
                }
                return new TransactionDescription(node.id(), s.transactionState(), s.producerId(), s.producerEpoch(),
                    s.transactionTimeoutMs(), s.transactionStartTimeMs() < 0 ? OptionalLong.empty()
                    : OptionalLong.of(s.transactionStartTimeMs()), parts);
            }, deadlineMs, f));
        return out;
    }

    private static java.util.Optional<DescribeTransactionsResponse.TransactionState> stateOf(
        DescribeTransactionsResponse r, String id) {
        return r.transactionStates().stream().filter(s -> id.equals(s.transactionalId())).findFirst();
    }

    /**
     * InitProducerId for each id: the coordinator bumps its epoch (aborting an open transaction), so an
     * older producer with the id is fenced at its next call.
     */
    Map<String, CompletableFuture<FenceProducersResult>> fenceProducers(Collection<String> ids, long deadlineMs) {
        Map<String, CompletableFuture<FenceProducersResult>> out = WeirAdminClient.futures(ids);
        out.forEach((id, f) -> coordinatorCall(id, ApiKeys.INIT_PRODUCER_ID,
            // the id is only initialized to fence: the shortest timeout, as nothing is written with it
            v -> new InitProducerIdRequest().setTransactionalId(id).setTransactionTimeoutMs(1),
            r -> Errors.forCode(((InitProducerIdResponse) r).errorCode()),
            (node, r) -> {
                InitProducerIdResponse resp = (InitProducerIdResponse) r;
                if (resp.errorCode() != Errors.NONE.code()) {
                    throw AdminErrors.exception(resp.errorCode(), "transactional id " + id + ": "
                        + Errors.forCode(resp.errorCode()).message());
                }
                return new FenceProducersResult(resp.producerId(), resp.producerEpoch());
            }, deadlineMs, f));
        return out;
    }

    private static boolean coordinatorMoved(Errors e) {
        return e == Errors.NOT_COORDINATOR || e == Errors.COORDINATOR_NOT_AVAILABLE;
    }

    /**
     * One call to the coordinator of {@code transactionalId}: re-routed while {@code errorOf} says the
     * coordinator moved, retried after backoff while it says loading or CONCURRENT_TRANSACTIONS.
     */
    private <T> void coordinatorCall(String transactionalId, ApiKeys api, IntFunction<ApiMessage> build,
                                     Function<ApiMessage, Errors> errorOf, BiFunction<Node, ApiMessage, T> handle,
                                     long deadlineMs, CompletableFuture<T> out) {
        attempt(transactionalId, api, build, errorOf, handle, deadlineMs, 0, out);
    }

    private <T> void attempt(String id, ApiKeys api, IntFunction<ApiMessage> build, Function<ApiMessage, Errors> errorOf,
                             BiFunction<Node, ApiMessage, T> handle, long deadlineMs, int attempts,
                             CompletableFuture<T> out) {
        findCoordinator(id, deadlineMs).thenCompose(node ->
            client.send(NodeSelector.fixed(node), WeirAdminClient.builder(api, build, null), deadlineMs)
                .thenApply(resp -> Map.entry(node, resp))
        ).whenComplete((answer, err) -> {
            if (err != null) {
                out.completeExceptionally(WeirAdminClient.cause(err));
                return;
            }
            Errors e = errorOf.apply(answer.getValue());
            if (coordinatorMoved(e) || e == Errors.COORDINATOR_LOAD_IN_PROGRESS || e == Errors.CONCURRENT_TRANSACTIONS) {
                long backoffMs = Math.min(client.settings().retryBackoffMaxMs(),
                    client.settings().retryBackoffMs() << Math.min(attempts, 10));
                if (time.milliseconds() + backoffMs >= deadlineMs) {
                    out.completeExceptionally(new TimeoutException("the coordinator of transactional id " + id
                        + " kept answering " + e + " until the deadline"));
                    return;
                }
                CompletableFuture.delayedExecutor(backoffMs, TimeUnit.MILLISECONDS).execute(() ->
                    attempt(id, api, build, errorOf, handle, deadlineMs, attempts + 1, out));
                return;
            }
            try {
                out.complete(handle.apply(answer.getKey(), answer.getValue()));
            } catch (RuntimeException ex) {
                out.completeExceptionally(ex);
            }
        });
    }

    /** The coordinator of a transactional id (FindCoordinator key type 1), retried while retriable. */
    private CompletableFuture<Node> findCoordinator(String transactionalId, long deadlineMs) {
        return CoordinatorLookup.find(client, CoordinatorLookup.TRANSACTION, transactionalId, deadlineMs);
    }

    // ------------------------------------------------------------------ describe producers / abort (leaders)

    /** The leader of each partition (or the partition's failure), from one Metadata request. */
    private CompletableFuture<Map<TopicPartition, Object>> leaders(Collection<TopicPartition> partitions,
                                                                   long deadlineMs) {
        List<String> topics = partitions.stream().map(TopicPartition::topic).distinct().toList();
        return metadata.apply(topics, deadlineMs).thenApply(meta -> {
            Map<Integer, Node> nodes = new HashMap<>();
            for (MetadataResponse.MetadataResponseBroker b : meta.brokers()) {
                nodes.put(b.nodeId(), new Node(b.nodeId(), b.host(), b.port(), b.rack()));
            }
            Map<TopicPartition, Object> out = new LinkedHashMap<>();
            Map<String, MetadataResponse.MetadataResponseTopic> byName = new HashMap<>();
            meta.topics().forEach(t -> byName.put(t.name(), t));
            for (TopicPartition tp : partitions) {
                MetadataResponse.MetadataResponseTopic t = byName.get(tp.topic());
                if (t != null && t.errorCode() != Errors.NONE.code()) {
                    out.put(tp, AdminErrors.exception(t.errorCode(), null));
                    continue;
                }
                MetadataResponse.MetadataResponsePartition p = t == null ? null : t.partitions().stream()
                    .filter(x -> x.partitionIndex() == tp.partition()).findFirst().orElse(null);
                if (p == null) {
                    out.put(tp, new UnknownTopicOrPartitionException("Partition " + tp + " does not exist."));
                } else if (!nodes.containsKey(p.leaderId())) {
                    out.put(tp, AdminErrors.exception(Errors.LEADER_NOT_AVAILABLE, "Partition " + tp + " has no leader."));
                } else {
                    out.put(tp, nodes.get(p.leaderId()));
                }
            }
            return out;
        });
    }

    Map<TopicPartition, CompletableFuture<List<ProducerState>>> describeProducers(Collection<TopicPartition> partitions,
                                                                                 long deadlineMs) {
        Map<TopicPartition, CompletableFuture<List<ProducerState>>> fs = WeirAdminClient.futures(partitions);
        if (fs.isEmpty()) {
            return fs;
        }
        leaders(fs.keySet(), deadlineMs).whenComplete((leaders, err) -> {
            if (err != null) {
                WeirAdminClient.failAll(fs, err);
                return;
            }
            Map<Node, List<TopicPartition>> byLeader = new LinkedHashMap<>();
            leaders.forEach((tp, where) -> {
                if (where instanceof Node n) {
                    byLeader.computeIfAbsent(n, k -> new ArrayList<>()).add(tp);
                } else {
                    fs.get(tp).completeExceptionally((Throwable) where);
                }
            });
            byLeader.forEach((node, parts) -> sendDescribeProducers(node, parts, fs, deadlineMs));
        });
        return fs;
    }

    private void sendDescribeProducers(Node leader, List<TopicPartition> parts,
                                       Map<TopicPartition, CompletableFuture<List<ProducerState>>> fs, long deadlineMs) {
        var b = WeirAdminClient.builder(ApiKeys.DESCRIBE_PRODUCERS, v -> {
            Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
            parts.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition()));
            List<DescribeProducersRequest.TopicRequest> topics = new ArrayList<>();
            byTopic.forEach((t, ps) -> topics.add(new DescribeProducersRequest.TopicRequest().setName(t)
                .setPartitionIndexes(ps)));
            return new DescribeProducersRequest().setTopics(topics);
        }, null);
        client.send(NodeSelector.fixed(leader), b, deadlineMs).whenComplete((resp, err) -> {
            if (err != null) {
                parts.forEach(tp -> fs.get(tp).completeExceptionally(WeirAdminClient.cause(err)));
                return;
            }
            for (DescribeProducersResponse.TopicResponse t : ((DescribeProducersResponse) resp).topics()) {
                for (DescribeProducersResponse.PartitionResponse p : t.partitions()) {
                    CompletableFuture<List<ProducerState>> f = fs.get(new TopicPartition(t.name(), p.partitionIndex()));
                    if (f == null) {
                        continue;
                    }
                    if (p.errorCode() != Errors.NONE.code()) {
                        f.completeExceptionally(AdminErrors.exception(p.errorCode(), p.errorMessage()));
                        continue;
                    }
                    List<ProducerState> states = new ArrayList<>();
                    for (DescribeProducersResponse.ProducerState s : p.activeProducers()) {
                        states.add(new ProducerState(s.producerId(), s.producerEpoch(), s.lastSequence(),
                            s.lastTimestamp(), s.coordinatorEpoch() < 0 ? OptionalInt.empty()
                            : OptionalInt.of(s.coordinatorEpoch()), s.currentTxnStartOffset() < 0
                            ? OptionalLong.empty() : OptionalLong.of(s.currentTxnStartOffset())));
                    }
                    f.complete(states);
                }
            }
            parts.forEach(tp -> fs.get(tp).completeExceptionally(
                new IllegalStateException("the broker's DescribeProducers response omitted " + tp)));
        });
    }

    /** Writes an ABORT marker for the producer's transaction in the partition (WriteTxnMarkers to its leader). */
    CompletableFuture<Void> abortTransaction(AbortTransactionSpec spec, long deadlineMs) {
        TopicPartition tp = spec.topicPartition();
        return leaders(List.of(tp), deadlineMs).thenCompose(leaders -> {
            Object where = leaders.get(tp);
            if (!(where instanceof Node leader)) {
                return CompletableFuture.failedFuture((Throwable) where);
            }
            var b = WeirAdminClient.builder(ApiKeys.WRITE_TXN_MARKERS, v -> new WriteTxnMarkersRequest().setMarkers(
                new ArrayList<>(List.of(new WriteTxnMarkersRequest.WritableTxnMarker().setProducerId(spec.producerId())
                    .setProducerEpoch(spec.producerEpoch()).setTransactionResult(false)
                    .setCoordinatorEpoch(spec.coordinatorEpoch())
                    .setTopics(new ArrayList<>(List.of(new WriteTxnMarkersRequest.WritableTxnMarkerTopic()
                        .setName(tp.topic()).setPartitionIndexes(new ArrayList<>(List.of(tp.partition()))))))))), null);
            return client.send(NodeSelector.fixed(leader), b, deadlineMs).thenApply(resp -> {
                for (WriteTxnMarkersResponse.WritableTxnMarkerResult m : ((WriteTxnMarkersResponse) resp).markers()) {
                    for (WriteTxnMarkersResponse.WritableTxnMarkerTopicResult t : m.topics()) {
                        for (WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult p : t.partitions()) {
                            if (p.errorCode() != Errors.NONE.code()) {
                                throw AdminErrors.exception(p.errorCode(), "abort marker for " + tp + ": "
                                    + Errors.forCode(p.errorCode()).message());
                            }
                        }
                    }
                }
                return null;
            });
        });
    }
}
