package io.weir.consumer.internals;

import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The client half of one broker's incremental fetch session (KIP-227). The broker remembers the
 * partitions of the session with their fetch offsets; after the first (full) request, each request
 * names only partitions that are new or whose fetch offset or size limit changed, plus the partitions
 * to forget, and each response carries only partitions with news.
 *
 * <p>Epochs: a full request is (sessionId 0, epoch 0) and asks for a new session; the response's
 * session id (0 if the broker declined) is then used with epochs 1, 2, ... (wrapping to 1). Any
 * error or lost response makes the next request full again, which also drops the broker's old
 * session when it expires.
 *
 * <p>Thread-safety: at most one request per session is outstanding. The polling thread builds a
 * request; the network thread handles its response; the hand-over is ordered by the fetcher's
 * in-flight set. Methods are synchronized anyway, as they are cheap.
 */
final class FetchSession {
    /** What the broker should know about one partition. */
    record PartitionData(long fetchOffset, int maxBytes, java.util.UUID topicId, int currentLeaderEpoch) {
    }

    /** One request's content: the partitions sent, the partitions forgotten, and the full state after it. */
    record Request(int sessionId, int epoch, boolean full, Map<TopicPartition, PartitionData> toSend,
                   List<TopicPartition> toForget, Map<TopicPartition, PartitionData> wanted) {
    }

    private final int nodeId;
    private int sessionId;
    private int epoch;
    private Map<TopicPartition, PartitionData> sessionPartitions = new LinkedHashMap<>();

    FetchSession(int nodeId) {
        this.nodeId = nodeId;
    }

    int nodeId() {
        return nodeId;
    }

    /** The request that moves the broker's view to {@code wanted}. */
    synchronized Request build(Map<TopicPartition, PartitionData> wanted) {
        if (epoch == 0) {
            return new Request(0, 0, true, new LinkedHashMap<>(wanted), List.of(), new LinkedHashMap<>(wanted));
        }
        Map<TopicPartition, PartitionData> toSend = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, PartitionData> e : wanted.entrySet()) {
            PartitionData prev = sessionPartitions.get(e.getKey());
            if (!Objects.equals(prev, e.getValue())) {
                toSend.put(e.getKey(), e.getValue());
            }
        }
        List<TopicPartition> toForget = new ArrayList<>();
        for (TopicPartition tp : sessionPartitions.keySet()) {
            if (!wanted.containsKey(tp)) {
                toForget.add(tp);
            }
        }
        return new Request(sessionId, epoch, false, toSend, toForget, new LinkedHashMap<>(wanted));
    }

    /** Whether the session has partitions the broker would answer for even when nothing is wanted. */
    synchronized boolean hasPartitions() {
        return !sessionPartitions.isEmpty();
    }

    /** Applies a response's top-level result; returns whether its partition data is usable. */
    synchronized boolean handleResponse(Request request, Errors error, int responseSessionId) {
        if (error != Errors.NONE) {
            reset();
            return false;
        }
        sessionPartitions = request.wanted();
        if (request.full()) {
            sessionId = responseSessionId;
            epoch = responseSessionId == 0 ? 0 : 1;
        } else {
            epoch = epoch == Integer.MAX_VALUE ? 1 : epoch + 1;
        }
        return true;
    }

    /** The request failed or its response was lost: start over with a full request. */
    synchronized void reset() {
        sessionId = 0;
        epoch = 0;
        sessionPartitions = new LinkedHashMap<>();
    }

    /** The (sessionId, epoch) that closes the session, or null if there is none. */
    synchronized int[] closeIds() {
        return sessionId == 0 ? null : new int[] {sessionId, -1};
    }
}
