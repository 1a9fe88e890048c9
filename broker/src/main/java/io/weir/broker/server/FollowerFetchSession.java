package io.weir.broker.server;

import io.weir.common.TopicPartition;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A follower's side of its incremental fetch session with one leader (KIP-227, as Kafka's replica fetchers
 * use it; the consumer has its own, {@code io.weir.consumer.internals.FetchSession}). The first fetch is full
 * (session id 0, epoch 0) and the leader answers a session id; later fetches name only the partitions whose
 * fetch position changed since the leader last heard it (offset, log start, leader epoch, last fetched
 * epoch, byte limit), plus the partitions to forget, and the leader answers only partitions with news. A
 * fetch that failed or a session the leader refused (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH:
 * the leader restarted or evicted it) makes the next fetch a full one, which opens a new session.
 *
 * <p>Invariant: {@link #inSession} is what the leader's session may hold after the last answered fetch, and
 * a partition outside {@link #unconfirmed} is held there at that position, so comparing a wanted position
 * with it tells whether the leader must hear about it. A partition the leader answered with an error
 * ({@link #onPartitionError}) is unconfirmed: a leader keeps no session entry for a topic id it cannot
 * resolve yet (a follower of a new topic can fetch before its leader has the topic), so the follower names
 * it again, unchanged, in its next fetch that wants it, rather than waiting for news the leader will never send.
 *
 * <p>Not thread-safe: only its fetcher thread uses it.
 */
final class FollowerFetchSession {
    /** Session epoch of a fetch that opens a session (Kafka's INITIAL_EPOCH). */
    static final int INITIAL_EPOCH = 0;
    /** Session id meaning "no session". */
    static final int NO_SESSION = 0;

    /** What a fetch tells the leader about one partition; equal values need not be sent again. */
    record Position(UUID topicId, int currentLeaderEpoch, long fetchOffset, int lastFetchedEpoch,
                    long logStartOffset, int maxBytes) {
    }

    /**
     * One fetch to send: its session id and epoch; whether it is full (every wanted partition, a new
     * session); the partitions it names; the partitions it forgets (with what the session held for them);
     * and every partition it wants, the ones the response may answer.
     */
    record Request(int sessionId, int epoch, boolean full, Map<TopicPartition, Position> toSend,
                   Map<TopicPartition, Position> forgotten, Map<TopicPartition, Position> wanted) {
    }

    private int sessionId = NO_SESSION;
    private int nextEpoch = INITIAL_EPOCH;
    private final Map<TopicPartition, Position> inSession = new LinkedHashMap<>();
    /** Partitions of {@link #inSession} the leader's session may lack: named in the next fetch that wants them. */
    private final Set<TopicPartition> unconfirmed = new HashSet<>();

    /** The next fetch for {@code wanted} (in the order given): full when no session is open, else incremental. */
    Request build(Map<TopicPartition, Position> wanted) {
        Map<TopicPartition, Position> want = new LinkedHashMap<>(wanted);
        if (nextEpoch == INITIAL_EPOCH) {
            return new Request(sessionId, INITIAL_EPOCH, true, want, Map.of(), want);
        }
        Map<TopicPartition, Position> toSend = new LinkedHashMap<>();
        want.forEach((tp, p) -> {
            if (!p.equals(inSession.get(tp)) || unconfirmed.contains(tp)) {
                toSend.put(tp, p);
            }
        });
        Map<TopicPartition, Position> forgotten = new LinkedHashMap<>();
        inSession.forEach((tp, p) -> {
            if (!want.containsKey(tp)) {
                forgotten.put(tp, p);
            }
        });
        return new Request(sessionId, nextEpoch, false, toSend, forgotten, want);
    }

    /**
     * The leader answered {@code request} without a top-level error, naming {@code responseSessionId}
     * (0: it keeps no session for this follower, e.g. below Fetch v7; the next fetch is full again).
     */
    void onAnswered(Request request, int responseSessionId) {
        if (responseSessionId == NO_SESSION || (!request.full() && responseSessionId != sessionId)) {
            reset(NO_SESSION);
            return;
        }
        if (request.full()) {
            inSession.clear();
            inSession.putAll(request.wanted());
            unconfirmed.clear();
            sessionId = responseSessionId;
        } else {
            inSession.putAll(request.toSend());
            request.forgotten().keySet().forEach(inSession::remove);
            unconfirmed.removeAll(request.toSend().keySet());
            unconfirmed.removeAll(request.forgotten().keySet());
        }
        nextEpoch = nextEpoch == Integer.MAX_VALUE ? 1 : nextEpoch + 1;
    }

    /**
     * The leader answered {@code tp} with an error in the last answered fetch (call after {@link #onAnswered}):
     * its session may not hold it (an unknown topic id is left out), so the next fetch that wants it names it
     * again even at an unchanged position.
     */
    void onPartitionError(TopicPartition tp) {
        if (inSession.containsKey(tp)) {
            unconfirmed.add(tp);
        }
    }

    /**
     * The fetch failed or the leader refused it: the next one is full. When the leader no longer knows the
     * session there is nothing to close; otherwise the full fetch names the old id, so the leader drops it.
     */
    void onFailed(boolean sessionNotFound) {
        reset(sessionNotFound ? NO_SESSION : sessionId);
    }

    private void reset(int keepId) {
        sessionId = keepId;
        nextEpoch = INITIAL_EPOCH;
        inSession.clear();
        unconfirmed.clear();
    }

    int sessionId() {
        return sessionId;
    }

    /** The partitions the leader's session holds (tests). */
    List<TopicPartition> partitionsInSession() {
        return new ArrayList<>(inSession.keySet());
    }
}
