package io.weir.consumer.internals;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.RequestBuilder;
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.ListOffsetsResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Looks up offsets by timestamp (-2 earliest, -1 latest) with ListOffsets sent to each partition's
 * leader, in one round: partitions without a known leader or with a retriable error come back in
 * {@link Result#retry()} (metadata is refreshed for them), and the caller decides whether to try again.
 * Thread-safe; futures complete on the network thread.
 */
public final class OffsetsLookup {
    public static final long EARLIEST_TIMESTAMP = -2L;
    public static final long LATEST_TIMESTAMP = -1L;

    /** Found offsets, partitions worth retrying, and partitions that failed for good. */
    public record Result(Map<TopicPartition, Long> offsets, Set<TopicPartition> retry, Map<TopicPartition, Errors> failed) {
    }

    private final NetworkClient client;
    private final Time time;
    private final boolean readCommitted;

    public OffsetsLookup(NetworkClient client, Time time, boolean readCommitted) {
        this.client = client;
        this.time = time;
        this.readCommitted = readCommitted;
    }

    public CompletableFuture<Result> list(Map<TopicPartition, Long> timestamps, long deadlineMs) {
        Cluster cluster = client.metadata().cluster();
        Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
        Set<TopicPartition> retry = new LinkedHashSet<>();
        Map<TopicPartition, Errors> failed = new LinkedHashMap<>();
        Map<Integer, Map<TopicPartition, Long>> byLeader = new LinkedHashMap<>();
        long nowMs = time.milliseconds();
        for (Map.Entry<TopicPartition, Long> e : timestamps.entrySet()) {
            TopicPartition tp = e.getKey();
            Optional<Node> leader = cluster.leaderFor(tp.topic(), tp.partition());
            if (leader.isEmpty() || client.connectionDelayMs(leader.get().id(), nowMs) > 0) {
                // no leader, or its last connect failed (it may have died): retry after a metadata refresh
                retry.add(tp);
            } else {
                byLeader.computeIfAbsent(leader.get().id(), k -> new LinkedHashMap<>()).put(tp, e.getValue());
            }
        }
        if (!retry.isEmpty()) {
            client.metadata().requestUpdate();
        }
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Map.Entry<Integer, Map<TopicPartition, Long>> e : byLeader.entrySet()) {
            Map<String, ListOffsetsRequest.ListOffsetsTopic> topics = new LinkedHashMap<>();
            for (Map.Entry<TopicPartition, Long> p : e.getValue().entrySet()) {
                topics.computeIfAbsent(p.getKey().topic(), n -> new ListOffsetsRequest.ListOffsetsTopic().setName(n))
                    .partitions().add(new ListOffsetsRequest.ListOffsetsPartition()
                        .setPartitionIndex(p.getKey().partition()).setTimestamp(p.getValue()).setCurrentLeaderEpoch(-1));
            }
            ListOffsetsRequest req = new ListOffsetsRequest().setReplicaId(-1)
                .setIsolationLevel((byte) (readCommitted ? 1 : 0)).setTopics(new ArrayList<>(topics.values()));
            Map<TopicPartition, Long> asked = e.getValue();
            all.add(client.send(NodeSelector.node(e.getKey()), new FailFastBuilder(req), deadlineMs).handle((resp, ex) -> {
                synchronized (offsets) {
                    if (ex != null) {
                        retry.addAll(asked.keySet());
                        client.metadata().requestUpdate();
                        return null;
                    }
                    Set<TopicPartition> answered = new LinkedHashSet<>();
                    for (ListOffsetsResponse.ListOffsetsTopicResponse t : ((ListOffsetsResponse) resp).topics()) {
                        for (ListOffsetsResponse.ListOffsetsPartitionResponse p : t.partitions()) {
                            TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                            if (!asked.containsKey(tp)) {
                                continue;
                            }
                            answered.add(tp);
                            Errors err = Errors.forCode(p.errorCode());
                            if (err == Errors.NONE) {
                                offsets.put(tp, p.offset());
                            } else if (err.isRetriable()) {
                                client.metadata().requestUpdateForError(err);
                                retry.add(tp);
                            } else {
                                failed.put(tp, err);
                            }
                        }
                    }
                    for (TopicPartition tp : asked.keySet()) {
                        if (!answered.contains(tp)) {
                            retry.add(tp);
                        }
                    }
                    return null;
                }
            }));
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).handle((v, ex) -> {
            synchronized (offsets) {
                return new Result(Map.copyOf(offsets), Set.copyOf(retry), Map.copyOf(failed));
            }
        });
    }

    /**
     * ListOffsets sent unchanged to one leader, failing at once (retriable) when the leader refuses
     * connections, backs off after a failed connect, or left metadata: the caller retries after a metadata
     * refresh, so the lookup reaches a new leader instead of waiting out its deadline on a dead one (issue 12).
     */
    private static final class FailFastBuilder implements RequestBuilder {
        private final ListOffsetsRequest request;

        FailFastBuilder(ListOffsetsRequest request) {
            this.request = request;
        }

        @Override
        public ApiKeys api() {
            return ApiKeys.LIST_OFFSETS;
        }

        @Override
        public short oldestAllowedVersion() {
            return (short) Math.max(ApiKeys.LIST_OFFSETS.lowestVersion(), request.lowestVersion());
        }

        @Override
        public short latestAllowedVersion() {
            return (short) Math.min(ApiKeys.LIST_OFFSETS.highestVersion(), request.highestVersion());
        }

        @Override
        public boolean waitForConnection() {
            return false;
        }

        @Override
        public ApiMessage build(short version) {
            return request;
        }
    }
}
