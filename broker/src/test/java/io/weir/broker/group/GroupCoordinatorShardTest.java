package io.weir.broker.group;

import io.weir.broker.coordinator.runtime.CoordinatorRuntime;
import io.weir.broker.coordinator.runtime.InMemoryPartitionWriter;
import io.weir.broker.group.GroupCoordinatorShard.JoinRequest;
import io.weir.broker.group.GroupCoordinatorShard.JoinResult;
import io.weir.broker.group.GroupCoordinatorShard.SyncResult;
import io.weir.broker.group.GroupRecords.GroupRecord;
import io.weir.common.TopicPartition;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.MockTimerService;
import io.weir.protocol.Errors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One group shard on the coordinator runtime, driven on the test's thread with a mock clock, a mock
 * timer and an in-memory {@code __consumer_offsets} partition: no sockets, no sleeping.
 */
class GroupCoordinatorShardTest {
    private static final TopicPartition TP = new TopicPartition(GroupCoordinatorService.TOPIC, 0);
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;
    private static final GroupCoordinatorShard.Settings SETTINGS = new GroupCoordinatorShard.Settings(6_000, 300_000, 0,
        100, 4096, 60 * 60_000L, 600_000L);

    private final MockTime time = new MockTime(1_000_000);
    private final MockTimerService timers = new MockTimerService(time);
    private final InMemoryPartitionWriter writer = new InMemoryPartitionWriter();
    private CoordinatorRuntime<GroupCoordinatorShard, GroupRecord> runtime;

    @BeforeEach
    void setUp() {
        runtime = newRuntime();
    }

    private CoordinatorRuntime<GroupCoordinatorShard, GroupRecord> newRuntime() {
        CoordinatorRuntime<GroupCoordinatorShard, GroupRecord> rt = GroupCoordinatorService.newRuntime(time,
            Runnable::run, timers, writer, writer, SETTINGS, tp -> !tp.topic().equals("missing"));
        rt.scheduleLoad(TP, 0).join();
        return rt;
    }

    // ------------------------------------------------------------------------------ helpers

    private CompletableFuture<JoinResult> join(String member, String instanceId, byte[] metadata) {
        return join(member, instanceId, metadata, SESSION_MS);
    }

    private CompletableFuture<JoinResult> join(String member, String instanceId, byte[] metadata, int sessionMs) {
        CompletableFuture<JoinResult> out = new CompletableFuture<>();
        runtime.scheduleWriteOperation("join", TP, s -> s.joinGroup(new JoinRequest("g", member, instanceId, false, "c",
            "h", REBALANCE_MS, sessionMs, "consumer", List.of(new Member.Protocol("range", metadata))), out::complete))
            .whenComplete((v, t) -> {
                if (t != null) {
                    out.completeExceptionally(t);
                }
            });
        return out;
    }

    private CompletableFuture<SyncResult> sync(String member, String instanceId, int generation,
                                               Map<String, byte[]> assignments) {
        CompletableFuture<SyncResult> out = new CompletableFuture<>();
        runtime.scheduleWriteOperation("sync", TP, s -> s.syncGroup("g", generation, member, instanceId, null, null,
            assignments, out::complete)).whenComplete((v, t) -> {
                if (t != null) {
                    out.completeExceptionally(t);
                }
            });
        return out;
    }

    private Errors heartbeat(String member, String instanceId, int generation) {
        return runtime.scheduleWriteOperation("heartbeat", TP, s -> s.heartbeat("g", member, instanceId, generation))
            .join();
    }

    private Map<TopicPartition, Errors> commit(String group, String member, int generation, TopicPartition tp, long offset) {
        return runtime.scheduleWriteOperation("commit", TP, s -> s.commitOffsets(group, member, null, generation,
            Map.of(tp, new CommittedOffset(offset, -1, "", -1)))).join();
    }

    private <T> T read(Function<GroupCoordinatorShard, T> op) {
        return runtime.scheduleReadOperation("read", TP, op).join();
    }

    private void advance(long ms) {
        time.advance(ms);
        timers.poll();
    }

    /** A stable group of one member (static when instanceId is set); returns the member's join. */
    private JoinResult stableGroupOfOne(String instanceId) {
        JoinResult a = join("", instanceId, new byte[] {1}).join();
        assertEquals(Errors.NONE, a.error());
        assertEquals(Errors.NONE, sync(a.memberId(), instanceId, a.generationId(),
            Map.of(a.memberId(), new byte[] {7})).join().error());
        assertEquals(GroupState.STABLE, read(s -> s.groupState("g")));
        return a;
    }

    // ------------------------------------------------------------------------------ membership

    @Test
    void shouldRunTwoMembersThroughJoinAndSync() {
        JoinResult a = stableGroupOfOne(null);
        CompletableFuture<JoinResult> b = join("", null, new byte[] {2});
        assertFalse(b.isDone(), "b waits for a to rejoin");
        assertEquals(Errors.REBALANCE_IN_PROGRESS, heartbeat(a.memberId(), null, 1));
        JoinResult a2 = join(a.memberId(), null, new byte[] {1}).join();
        assertTrue(b.isDone(), "the join phase completed for both");
        assertEquals(2, a2.generationId());
        assertEquals(a.memberId(), a2.leaderId());
        assertEquals(2, a2.members().size(), "the leader sees every member");
        assertEquals(List.of(), b.join().members());

        CompletableFuture<SyncResult> bSync = sync(b.join().memberId(), null, 2, Map.of());
        assertFalse(bSync.isDone(), "a follower waits for the leader's assignment");
        SyncResult aSync = sync(a.memberId(), null, 2, Map.of(a.memberId(), new byte[] {1},
            b.join().memberId(), new byte[] {2})).join();
        assertArrayEquals(new byte[] {1}, aSync.assignment());
        assertArrayEquals(new byte[] {2}, bSync.join().assignment());
        assertEquals(GroupState.STABLE, read(s -> s.groupState("g")));
        assertEquals(2, writer.log(TP).size(), "one group record per completed generation");
    }

    @Test
    void shouldAnswerTheSyncOnlyOnceTheAssignmentIsCommitted() {
        JoinResult a = join("", null, new byte[] {1}).join();
        writer.autoCommit(false);
        CompletableFuture<SyncResult> aSync = sync(a.memberId(), null, 1, Map.of(a.memberId(), new byte[] {5}));
        assertFalse(aSync.isDone(), "the assignment is appended, not yet committed");
        writer.commitUpTo(TP, writer.endOffset(TP));
        assertArrayEquals(new byte[] {5}, aSync.join().assignment());
        assertEquals(GroupState.STABLE, read(s -> s.groupState("g")));
    }

    @Test
    void shouldRebalanceWhenStoringTheAssignmentFails() {
        JoinResult a = join("", null, new byte[] {1}).join();
        writer.failAppends(Errors.NOT_LEADER_OR_FOLLOWER);
        SyncResult r = sync(a.memberId(), null, 1, Map.of(a.memberId(), new byte[] {5})).join();
        assertEquals(Errors.NOT_COORDINATOR, r.error());
        assertEquals(GroupState.PREPARING_REBALANCE, read(s -> s.groupState("g")));
        assertEquals(0, writer.log(TP).size());
    }

    @Test
    void shouldKeepAMemberThatHeartbeatsForManySessions() {
        JoinResult a = stableGroupOfOne(null);
        for (int i = 0; i < 10; i++) {
            advance(SESSION_MS - 1);
            assertEquals(Errors.NONE, heartbeat(a.memberId(), null, 1));
        }
        assertEquals(1, (int) read(s -> s.memberCount("g")));
    }

    /** Issue 10, bug 7: the session ends when the clock reaches session.timeout.ms, not at the next scan. */
    @Test
    void shouldExpireAStaticMemberExactlyAtItsSessionTimeout() {
        JoinResult a = stableGroupOfOne("instance-1");
        assertEquals(Errors.NONE, heartbeat(a.memberId(), "instance-1", 1));
        advance(SESSION_MS - 1);
        assertEquals(1, (int) read(s -> s.memberCount("g")), "alive one millisecond before its timeout");
        advance(1);
        assertEquals(0, (int) read(s -> s.memberCount("g")), "expired at its timeout");
        assertEquals(GroupState.EMPTY, read(s -> s.groupState("g")));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, heartbeat(a.memberId(), "instance-1", 1));
    }

    @Test
    void shouldExpireADynamicMemberExactlyAtItsSessionTimeout() {
        JoinResult a = stableGroupOfOne(null);
        advance(SESSION_MS - 1);
        assertEquals(1, (int) read(s -> s.memberCount("g")));
        advance(1);
        assertEquals(0, (int) read(s -> s.memberCount("g")));
    }

    @Test
    void shouldDropAMemberThatDoesNotRejoinByTheRebalanceTimeout() {
        JoinResult a = stableGroupOfOne(null);
        CompletableFuture<JoinResult> b = join("", null, new byte[] {2}, REBALANCE_MS * 2);
        for (long t = 0; t < REBALANCE_MS - 2_000; t += 2_000) {
            advance(2_000);
            heartbeat(a.memberId(), null, 1);
        }
        assertFalse(b.isDone(), "the join phase is still open");
        advance(2_000);
        assertEquals(2, b.join().generationId());
        assertEquals(b.join().memberId(), b.join().leaderId());
        assertEquals(Errors.UNKNOWN_MEMBER_ID, heartbeat(a.memberId(), null, 1));
    }

    // ------------------------------------------------------------------------------ defect 5.4

    /**
     * Issue 9, defect 5.4: a static member's replacement that cannot be stored is answered with the
     * error, and the group keeps the old member id (memory and __consumer_offsets agree).
     */
    @Test
    void shouldAnswerTheErrorAndKeepTheOldMemberWhenAStaticReplacementCannotBeStored() {
        JoinResult first = stableGroupOfOne("instance-1");
        String before = read(GroupCoordinatorShard::durableState);
        writer.failAppends(Errors.NOT_LEADER_OR_FOLLOWER);

        JoinResult again = join("", "instance-1", new byte[] {1}).join();
        assertEquals(Errors.NOT_COORDINATOR, again.error());
        assertEquals(before, read(GroupCoordinatorShard::durableState), "nothing changed in memory");
        assertEquals(Errors.NONE, heartbeat(first.memberId(), "instance-1", 1), "the old member is still the member");

        writer.failAppends(null);
        JoinResult third = join("", "instance-1", new byte[] {1}).join();
        assertEquals(Errors.NONE, third.error());
        assertNotEquals(first.memberId(), third.memberId());
        assertEquals(Errors.FENCED_INSTANCE_ID, heartbeat(first.memberId(), "instance-1", 1));
        assertEquals(Errors.NONE, heartbeat(third.memberId(), "instance-1", 1));
    }

    @Test
    void shouldAnswerAStaticReplacementOnlyOnceItIsCommitted() {
        JoinResult first = stableGroupOfOne("instance-1");
        writer.autoCommit(false);
        CompletableFuture<JoinResult> again = join("", "instance-1", new byte[] {1});
        assertFalse(again.isDone());
        writer.commitUpTo(TP, writer.endOffset(TP));
        assertEquals(Errors.NONE, again.join().error());
        assertEquals(1, again.join().generationId(), "no new generation");
        assertTrue(again.join().skipAssignment(), "the leader keeps the assignment it has");
        assertEquals(first.leaderId(), first.memberId());
        assertEquals(again.join().memberId(), again.join().leaderId());
    }

    // ------------------------------------------------------------------------------ offsets

    @Test
    void shouldAnswerACommitOnceCommittedAndLeaveOffsetsAsTheyWereWhenItFails() {
        TopicPartition tp = new TopicPartition("t", 0);
        assertEquals(Errors.NONE, commit("simple", "", -1, tp, 5).get(tp));
        writer.autoCommit(false);
        CompletableFuture<Map<TopicPartition, Errors>> pending = runtime.scheduleWriteOperation("commit", TP,
            s -> s.commitOffsets("simple", "", null, -1, Map.of(tp, new CommittedOffset(6, -1, "", -1))));
        assertFalse(pending.isDone());
        writer.commitUpTo(TP, writer.endOffset(TP));
        assertEquals(Errors.NONE, pending.join().get(tp));

        writer.autoCommit(true);
        writer.failAppends(Errors.NOT_ENOUGH_REPLICAS);
        TopicPartition missing = new TopicPartition("missing", 0);
        Map<TopicPartition, Errors> failed = runtime.scheduleWriteOperation("commit", TP,
            s -> s.commitOffsets("simple", "", null, -1, Map.of(tp, new CommittedOffset(7, -1, "", -1),
                missing, new CommittedOffset(1, -1, "", -1)))).join();
        assertEquals(Errors.COORDINATOR_NOT_AVAILABLE, failed.get(tp));
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION, failed.get(missing));
        assertEquals(6, read(s -> s.fetchOffsets("simple", List.of(tp))).offsets().get(tp).offset());
    }

    @Test
    void shouldExpireOffsetsOfAnEmptyGroupOnTheTimer() {
        TopicPartition tp = new TopicPartition("t", 0);
        commit("simple", "", -1, tp, 3);
        long intervals = SETTINGS.offsetsRetentionMs() / SETTINGS.retentionCheckIntervalMs();
        for (long i = 0; i < intervals - 1; i++) {
            advance(SETTINGS.retentionCheckIntervalMs());
        }
        assertEquals(3, read(s -> s.fetchOffsets("simple", List.of(tp))).offsets().get(tp).offset());
        advance(SETTINGS.retentionCheckIntervalMs());
        assertNull(read(s -> s.fetchOffsets("simple", List.of(tp))).offsets().get(tp));
        assertNull(read(s -> s.groupState("simple")));
    }

    // ------------------------------------------------------------------------------ load = write

    @Test
    void shouldLoadTheStateTheWritePathBuilt() {
        JoinResult a = stableGroupOfOne("instance-1");
        CompletableFuture<JoinResult> b = join("", null, new byte[] {2});
        join(a.memberId(), "instance-1", new byte[] {1}).join();
        sync(a.memberId(), "instance-1", 2, Map.of(a.memberId(), new byte[] {1, 1}, b.join().memberId(), new byte[] {2, 2}))
            .join();
        JoinResult replaced = join("", "instance-1", new byte[] {1}).join();
        assertEquals(Errors.NONE, replaced.error());
        TopicPartition tp0 = new TopicPartition("t", 0);
        TopicPartition tp1 = new TopicPartition("t", 1);
        assertEquals(Errors.NONE, commit("g", replaced.memberId(), 2, tp0, 10).get(tp0));
        assertEquals(Errors.NONE, commit("g", b.join().memberId(), 2, tp1, 20).get(tp1));
        commit("simple", "", -1, tp0, 3);
        commit("gone", "", -1, tp0, 4);
        assertEquals(Errors.NONE, runtime.scheduleWriteOperation("delete", TP, s -> s.deleteGroup("gone")).join());
        String written = read(GroupCoordinatorShard::durableState);
        assertTrue(written.contains("group g STABLE gen=2"), written);
        assertFalse(written.contains("gone"), written);

        runtime = newRuntime();
        assertEquals(written, read(GroupCoordinatorShard::durableState));
        assertEquals(Errors.NONE, heartbeat(replaced.memberId(), "instance-1", 2), "members carry on after a load");
        assertEquals(Errors.FENCED_INSTANCE_ID, heartbeat(a.memberId(), "instance-1", 2));
    }

    @Test
    void shouldLoadAGroupThatBecameEmptyAsEmpty() {
        JoinResult a = stableGroupOfOne(null);
        assertEquals(Errors.NONE, runtime.scheduleWriteOperation("leave", TP, s -> s.leaveGroup("g",
            List.of(new GroupCoordinatorShard.MemberIdentity(a.memberId(), null)))).join().memberErrors().get(0));
        assertEquals(GroupState.EMPTY, read(s -> s.groupState("g")));
        String written = read(GroupCoordinatorShard::durableState);
        runtime = newRuntime();
        assertEquals(written, read(GroupCoordinatorShard::durableState));
    }
}
