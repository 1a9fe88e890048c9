package io.weir.broker.transaction;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.TimeoutException;
import io.weir.protocol.message.WriteTxnMarkersRequest;
import io.weir.protocol.message.WriteTxnMarkersResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;

/**
 * Sends transaction markers to partition leaders on other brokers as WriteTxnMarkers requests, over
 * the broker's inter-broker {@link NetworkClient}. Per destination broker at most one request is in
 * flight; markers queued meanwhile (other transactions ending on this coordinator) go together in the
 * next request, so a busy coordinator sends few large requests rather than one per transaction
 * (Kafka's marker channel batches the same way). A request holds at most one marker per producer
 * (a response names its results by producer id) and at most {@link #MAX_MARKERS_PER_REQUEST}.
 *
 * <p>Errors come back per partition and are not retried here: a lost connection or a timed-out request
 * answers NETWORK_EXCEPTION or REQUEST_TIMED_OUT for its partitions, and the caller (the
 * {@link TransactionCoordinatorService}'s marker pipeline) retries after reading the leaders again.
 *
 * <p>Thread-safe; futures complete on the network client's I/O thread (callbacks must not block).
 */
public final class TransactionMarkerChannel {
    private static final Logger log = LoggerFactory.getLogger(TransactionMarkerChannel.class);
    static final int MAX_MARKERS_PER_REQUEST = 1000;

    private final NetworkClient client;
    private final Time time;
    private final long requestTimeoutMs;
    private final Map<Integer, Destination> destinations = new ConcurrentHashMap<>();

    /** @param requestTimeoutMs how long one request may take before its markers are answered REQUEST_TIMED_OUT */
    public TransactionMarkerChannel(NetworkClient client, Time time, long requestTimeoutMs) {
        this.client = client;
        this.time = time;
        this.requestTimeoutMs = requestTimeoutMs;
    }

    /**
     * Queues the marker of {@code producerId}'s transaction for {@code partitions}, all led by
     * {@code leader}; the future gets each partition's error as the leader answered it.
     */
    public CompletableFuture<Map<TopicPartition, Errors>> send(Node leader, long producerId, short producerEpoch,
                                                             int coordinatorEpoch, boolean commit,
                                                             Set<TopicPartition> partitions) {
        Pending marker = new Pending(producerId, producerEpoch, coordinatorEpoch, commit, Set.copyOf(partitions),
            new CompletableFuture<>());
        Destination d = destinations.computeIfAbsent(leader.id(), id -> new Destination());
        List<Pending> batch;
        synchronized (d) {
            d.node = leader; // the newest address the metadata gave for this broker id
            d.queue.add(marker);
            batch = d.inFlight ? List.of() : d.nextBatch();
        }
        if (!batch.isEmpty()) {
            send(d, batch);
        }
        return marker.result;
    }

    private void send(Destination d, List<Pending> batch) {
        Node node;
        synchronized (d) {
            node = d.node;
        }
        WriteTxnMarkersRequest request = new WriteTxnMarkersRequest();
        List<WriteTxnMarkersRequest.WritableTxnMarker> markers = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
            for (TopicPartition tp : p.partitions()) {
                byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
            }
            List<WriteTxnMarkersRequest.WritableTxnMarkerTopic> topics = new ArrayList<>(byTopic.size());
            byTopic.forEach((t, ps) -> topics.add(new WriteTxnMarkersRequest.WritableTxnMarkerTopic().setName(t)
                .setPartitionIndexes(ps)));
            markers.add(new WriteTxnMarkersRequest.WritableTxnMarker().setProducerId(p.producerId())
                .setProducerEpoch(p.producerEpoch()).setTransactionResult(p.commit())
                .setCoordinatorEpoch(p.coordinatorEpoch()).setTopics(topics));
        }
        request.setMarkers(markers);
        CompletableFuture<ApiMessage> response;
        try {
            response = client.send(node, request, time.milliseconds() + requestTimeoutMs);
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        response.whenComplete((body, failure) -> {
            try {
                answer(node, batch, (WriteTxnMarkersResponse) body, failure);
            } finally {
                List<Pending> next;
                synchronized (d) {
                    next = d.nextBatch();
                    d.inFlight = !next.isEmpty();
                }
                if (!next.isEmpty()) {
                    send(d, next);
                }
            }
        });
    }

    private static void answer(Node node, List<Pending> batch, WriteTxnMarkersResponse response, Throwable failure) {
        if (failure != null || response == null) {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
            Errors e = cause instanceof TimeoutException ? Errors.REQUEST_TIMED_OUT : Errors.NETWORK_EXCEPTION;
            log.info("WriteTxnMarkers to broker {} failed ({} markers): {}", node.id(), batch.size(),
                cause == null ? "no response" : cause.toString());
            for (Pending p : batch) {
                Map<TopicPartition, Errors> out = new LinkedHashMap<>();
                p.partitions().forEach(tp -> out.put(tp, e));
                p.result().complete(out);
            }
            return;
        }
        Map<Long, WriteTxnMarkersResponse.WritableTxnMarkerResult> byProducer = new java.util.HashMap<>();
        for (WriteTxnMarkersResponse.WritableTxnMarkerResult r : response.markers()) {
            byProducer.put(r.producerId(), r);
        }
        for (Pending p : batch) {
            Map<TopicPartition, Errors> out = new LinkedHashMap<>();
            WriteTxnMarkersResponse.WritableTxnMarkerResult r = byProducer.get(p.producerId());
            if (r != null) {
                for (WriteTxnMarkersResponse.WritableTxnMarkerTopicResult t : r.topics()) {
                    for (WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult pr : t.partitions()) {
                        TopicPartition tp = new TopicPartition(t.name(), pr.partitionIndex());
                        if (p.partitions().contains(tp)) {
                            out.put(tp, Errors.forCode(pr.errorCode()));
                        }
                    }
                }
            }
            for (TopicPartition tp : p.partitions()) {
                // a leader that left a partition out of its answer has not written it: ask again
                out.putIfAbsent(tp, Errors.UNKNOWN_SERVER_ERROR);
            }
            p.result().complete(out);
        }
    }

    /** One transaction's marker for some partitions of one destination. */
    private record Pending(long producerId, short producerEpoch, int coordinatorEpoch, boolean commit,
                           Set<TopicPartition> partitions, CompletableFuture<Map<TopicPartition, Errors>> result) {
    }

    /** A destination broker: its queue, guarded by the instance's lock. */
    private static final class Destination {
        final ArrayDeque<Pending> queue = new ArrayDeque<>();
        Node node;
        boolean inFlight;

        /** Takes the next request's markers (one per producer, at most the cap) and marks it in flight. */
        List<Pending> nextBatch() {
            List<Pending> batch = new ArrayList<>();
            Set<Long> producers = new HashSet<>();
            ArrayDeque<Pending> skipped = new ArrayDeque<>();
            while (!queue.isEmpty() && batch.size() < MAX_MARKERS_PER_REQUEST) {
                Pending p = queue.poll();
                if (producers.add(p.producerId())) {
                    batch.add(p);
                } else {
                    skipped.add(p);
                }
            }
            while (!skipped.isEmpty()) {
                queue.addFirst(skipped.pollLast());
            }
            inFlight = !batch.isEmpty();
            return batch;
        }
    }
}
