package io.weir.broker.transaction;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.message.AddPartitionsToTxnRequest;
import io.weir.protocol.message.AddPartitionsToTxnResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A partition leader's questions to the transaction coordinator on another broker: before a
 * transactional batch is appended, AddPartitionsToTxn in its broker form (v4+, one transaction per
 * request) adds the partitions to the producer's transaction (transactions V2, {@code verifyOnly}
 * false) or verifies they are in it (V1). On one broker, or when this broker coordinates the
 * transactional id, the {@link TransactionCoordinatorService} answers locally instead.
 *
 * <p>A request that fails (lost connection, timeout) answers COORDINATOR_NOT_AVAILABLE for its
 * partitions: the producer is told to retry.
 *
 * <p>Thread-safe; futures complete on the network client's I/O thread.
 */
public final class TransactionCoordinatorClient {
    private static final Logger log = LoggerFactory.getLogger(TransactionCoordinatorClient.class);

    private final NetworkClient client;
    private final Time time;
    private final long requestTimeoutMs;

    public TransactionCoordinatorClient(NetworkClient client, Time time, long requestTimeoutMs) {
        this.client = client;
        this.time = time;
        this.requestTimeoutMs = requestTimeoutMs;
    }

    /** Asks {@code coordinator} to add (or with {@code verifyOnly} verify) the partitions; each partition's answer. */
    public CompletableFuture<Map<TopicPartition, Errors>> addPartitions(Node coordinator, String transactionalId,
                                                                      long producerId, short producerEpoch,
                                                                      Set<TopicPartition> partitions,
                                                                      boolean verifyOnly) {
        Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
        partitions.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition()));
        List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics = new ArrayList<>();
        byTopic.forEach((t, ps) -> topics.add(new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic().setName(t)
            .setPartitions(ps)));
        AddPartitionsToTxnRequest request = new AddPartitionsToTxnRequest().setTransactions(List.of(
            new AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction().setTransactionalId(transactionalId)
                .setProducerId(producerId).setProducerEpoch(producerEpoch).setVerifyOnly(verifyOnly)
                .setTopics(topics)));
        CompletableFuture<io.weir.protocol.ApiMessage> sent;
        try {
            sent = client.send(coordinator, request, time.milliseconds() + requestTimeoutMs);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((body, failure) -> {
            Map<TopicPartition, Errors> out = new LinkedHashMap<>();
            if (failure != null || body == null) {
                log.info("AddPartitionsToTxn for {} to broker {} failed: {}", transactionalId, coordinator.id(),
                    failure == null ? "no response" : failure.toString());
                partitions.forEach(tp -> out.put(tp, Errors.COORDINATOR_NOT_AVAILABLE));
                return out;
            }
            AddPartitionsToTxnResponse response = (AddPartitionsToTxnResponse) body;
            Errors top = Errors.forCode(response.errorCode());
            if (top != Errors.NONE) {
                partitions.forEach(tp -> out.put(tp, top));
                return out;
            }
            for (AddPartitionsToTxnResponse.AddPartitionsToTxnResult r : response.resultsByTransaction()) {
                if (!transactionalId.equals(r.transactionalId())) {
                    continue;
                }
                for (AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult t : r.topicResults()) {
                    for (AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult p : t.resultsByPartition()) {
                        TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                        if (partitions.contains(tp)) {
                            out.put(tp, Errors.forCode(p.partitionErrorCode()));
                        }
                    }
                }
            }
            partitions.forEach(tp -> out.putIfAbsent(tp, Errors.COORDINATOR_NOT_AVAILABLE));
            return out;
        });
    }
}
