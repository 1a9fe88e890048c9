package io.weir.broker.server;

import io.weir.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The follower's side of a fetch session: full first, then only changes and forgotten partitions, full again after a loss. */
class FollowerFetchSessionTest {
    private static final UUID ID = new UUID(1, 2);
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private static final TopicPartition P2 = new TopicPartition("t", 2);

    private static FollowerFetchSession.Position at(long offset) {
        return new FollowerFetchSession.Position(ID, 3, offset, 3, 0, 1 << 20);
    }

    private static Map<TopicPartition, FollowerFetchSession.Position> wanted(long o0, long o1, long o2) {
        Map<TopicPartition, FollowerFetchSession.Position> m = new LinkedHashMap<>();
        m.put(P0, at(o0));
        m.put(P1, at(o1));
        m.put(P2, at(o2));
        return m;
    }

    @Test
    void shouldSendOnlyChangedPartitionsAfterTheFirstFullFetch() {
        FollowerFetchSession session = new FollowerFetchSession();
        FollowerFetchSession.Request first = session.build(wanted(10, 20, 30));
        assertTrue(first.full());
        assertEquals(0, first.sessionId());
        assertEquals(0, first.epoch());
        assertEquals(List.of(P0, P1, P2), List.copyOf(first.toSend().keySet()));
        session.onAnswered(first, 77);

        // nothing moved: an empty incremental fetch (the leader still holds every partition)
        FollowerFetchSession.Request idle = session.build(wanted(10, 20, 30));
        assertFalse(idle.full());
        assertEquals(77, idle.sessionId());
        assertEquals(1, idle.epoch());
        assertTrue(idle.toSend().isEmpty());
        assertTrue(idle.forgotten().isEmpty());
        session.onAnswered(idle, 77);

        // only partition 1 appended
        FollowerFetchSession.Request moved = session.build(wanted(10, 25, 30));
        assertEquals(2, moved.epoch());
        assertEquals(Map.of(P1, at(25)), moved.toSend());
        session.onAnswered(moved, 77);

        // a new leader epoch for partition 0 is news too
        Map<TopicPartition, FollowerFetchSession.Position> bumped = wanted(10, 25, 30);
        bumped.put(P0, new FollowerFetchSession.Position(ID, 4, 10, 3, 0, 1 << 20));
        FollowerFetchSession.Request epoch = session.build(bumped);
        assertEquals(List.of(P0), List.copyOf(epoch.toSend().keySet()));
        session.onAnswered(epoch, 77);
    }

    @Test
    void shouldForgetPartitionsLeftOutAndNameThemAgainInFull() {
        FollowerFetchSession session = new FollowerFetchSession();
        FollowerFetchSession.Request first = session.build(wanted(10, 20, 30));
        session.onAnswered(first, 5);
        Map<TopicPartition, FollowerFetchSession.Position> without2 = wanted(10, 20, 30);
        without2.remove(P2); // e.g. throttled or backing off this round
        FollowerFetchSession.Request forget = session.build(without2);
        assertEquals(List.of(P2), List.copyOf(forget.forgotten().keySet()));
        assertTrue(forget.toSend().isEmpty());
        session.onAnswered(forget, 5);
        assertEquals(List.of(P0, P1), session.partitionsInSession());

        FollowerFetchSession.Request back = session.build(wanted(10, 20, 30));
        assertEquals(Map.of(P2, at(30)), back.toSend());
        assertTrue(back.forgotten().isEmpty());
    }

    @Test
    void shouldFallBackToAFullFetchWhenTheLeaderLostTheSession() {
        FollowerFetchSession session = new FollowerFetchSession();
        session.onAnswered(session.build(wanted(10, 20, 30)), 9);
        FollowerFetchSession.Request incremental = session.build(wanted(11, 20, 30));
        assertFalse(incremental.full());
        session.onFailed(true); // FETCH_SESSION_ID_NOT_FOUND
        FollowerFetchSession.Request full = session.build(wanted(11, 20, 30));
        assertTrue(full.full());
        assertEquals(0, full.sessionId());
        assertEquals(0, full.epoch());
        assertEquals(3, full.toSend().size());
        session.onAnswered(full, 12);
        assertEquals(12, session.sessionId());
        assertFalse(session.build(wanted(11, 20, 30)).full());
    }

    @Test
    void shouldCloseTheOldSessionWhenAFetchFailedOrTheEpochWasRefused() {
        FollowerFetchSession session = new FollowerFetchSession();
        session.onAnswered(session.build(wanted(10, 20, 30)), 9);
        session.onFailed(false); // INVALID_FETCH_SESSION_EPOCH or no answer
        FollowerFetchSession.Request full = session.build(wanted(10, 20, 30));
        assertTrue(full.full());
        assertEquals(9, full.sessionId(), "epoch 0 with the old id: the leader drops it and opens another");
        assertEquals(0, full.epoch());
    }

    @Test
    void shouldStayFullWhenTheLeaderKeepsNoSession() {
        FollowerFetchSession session = new FollowerFetchSession();
        session.onAnswered(session.build(wanted(10, 20, 30)), 0);
        assertTrue(session.build(wanted(10, 20, 30)).full());
    }

    /**
     * A follower of a new topic may fetch before its leader knows the topic: the leader answers UNKNOWN_TOPIC_ID
     * and its session does not take the partition. After its backoff the follower must name the partition again
     * at the same position; an incremental fetch leaving it out would never be answered for it.
     */
    @Test
    void shouldNameAPartitionAgainAfterTheLeaderAnsweredItWithAnError() {
        FollowerFetchSession session = new FollowerFetchSession();
        session.onAnswered(session.build(wanted(0, 20, 30)), 9);
        session.onPartitionError(P0);

        Map<TopicPartition, FollowerFetchSession.Position> backingOff = wanted(0, 20, 30);
        backingOff.remove(P0);
        FollowerFetchSession.Request meanwhile = session.build(backingOff);
        assertFalse(meanwhile.full());
        assertTrue(meanwhile.toSend().isEmpty());
        session.onAnswered(meanwhile, 9);

        FollowerFetchSession.Request again = session.build(wanted(0, 20, 30));
        assertFalse(again.full());
        assertEquals(Map.of(P0, at(0)), again.toSend(), "unchanged, but the leader may not hold it");
        session.onAnswered(again, 9);

        assertTrue(session.build(wanted(0, 20, 30)).toSend().isEmpty(), "named once, the leader holds it again");
    }

    @Test
    void shouldNameAnErroredPartitionAgainEvenWhenItWasNeverLeftOut() {
        FollowerFetchSession session = new FollowerFetchSession();
        session.onAnswered(session.build(wanted(0, 20, 30)), 9);
        session.onPartitionError(P2);
        assertEquals(Map.of(P2, at(30)), session.build(wanted(0, 20, 30)).toSend());
    }
}
