package io.weir.broker.group;

import io.weir.broker.coordinator.runtime.CoordinatorRuntime;
import io.weir.broker.coordinator.runtime.InMemoryPartitionWriter;
import io.weir.broker.group.GroupRecords.GroupRecord;
import io.weir.common.TopicPartition;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.MockTimerService;
import io.weir.protocol.Errors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TxnOffsetCommit in the group shard: offsets appended in a producer's transaction stay pending (invisible
 * to OffsetFetch) until the transaction's COMMIT marker, vanish on ABORT, and a reload replays records
 * and markers in log order to the same state.
 */
class TransactionalOffsetsTest {
    private static final TopicPartition TP = new TopicPartition(GroupCoordinatorService.TOPIC, 0);
    private static final TopicPartition IN = new TopicPartition("in", 0);
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
            Runnable::run, timers, writer, writer, SETTINGS, tp -> true);
        rt.scheduleLoad(TP, 0).join();
        return rt;
    }

    private Map<TopicPartition, Errors> txnCommit(long producerId, String group, int generation, long offset) {
        return runtime.scheduleTransactionalWriteOperation("txn-commit", TP, producerId, (short) 0,
            s -> s.commitTransactionalOffsets(group, "", null, generation,
                Map.of(IN, new CommittedOffset(offset, -1, "", 0)))).join();
    }

    private void marker(long producerId, boolean commit) {
        runtime.scheduleTransactionCompletion("marker", TP, producerId, (short) 0, 0, commit).join();
    }

    private CommittedOffset committed(String group) {
        return runtime.scheduleReadOperation("fetch", TP, s -> s.fetchOffsets(group, null)).join().offsets().get(IN);
    }

    private boolean pending(String group) {
        return runtime.scheduleReadOperation("pending", TP, s -> s.hasPendingTransactionalOffset(group, IN)).join();
    }

    @Test
    void shouldKeepTransactionalOffsetsPendingUntilTheCommitMarker() {
        assertEquals(Map.of(IN, Errors.NONE), txnCommit(10, "g", -1, 5));
        assertNull(committed("g"), "not visible before the marker");
        assertTrue(pending("g"));
        marker(10, true);
        assertEquals(5, committed("g").offset());
        assertFalse(pending("g"));
    }

    @Test
    void shouldDropTransactionalOffsetsOnTheAbortMarker() {
        txnCommit(10, "g", -1, 5);
        marker(10, true);
        txnCommit(11, "g", -1, 9);
        marker(11, false);
        assertEquals(5, committed("g").offset(), "the aborted commit left the committed offset alone");
        assertFalse(pending("g"));
    }

    @Test
    void shouldRebuildTheSameOffsetsFromTheLogWithItsMarkers() {
        txnCommit(10, "g", -1, 5);
        marker(10, true);
        txnCommit(11, "g", -1, 9);
        marker(11, false);
        txnCommit(12, "g", -1, 12); // still open when the coordinator moves
        runtime.scheduleUnload(TP).join();
        runtime = newRuntime();
        assertEquals(5, committed("g").offset());
        assertTrue(pending("g"));
        marker(12, true);
        assertEquals(12, committed("g").offset());
    }

    @Test
    void shouldRefuseATransactionalCommitFromAStaleGeneration() {
        assertEquals(Map.of(IN, Errors.ILLEGAL_GENERATION), txnCommit(10, "unknown-group", 3, 5));
        assertFalse(pending("unknown-group"), "nothing was appended");
    }

    @Test
    void shouldAnswerAStableFetchUnstableWhileATransactionalCommitIsPending() {
        txnCommit(10, "g", -1, 5);
        var stable = runtime.scheduleReadOperation("fetch", TP, s -> s.fetchOffsets("g", java.util.List.of(IN), true))
            .join();
        assertEquals(java.util.Set.of(IN), stable.unstable(), "read_committed consumers wait (UNSTABLE_OFFSET_COMMIT)");
        var plain = runtime.scheduleReadOperation("fetch", TP, s -> s.fetchOffsets("g", java.util.List.of(IN), false))
            .join();
        assertEquals(java.util.Set.of(), plain.unstable());
        marker(10, true);
        var after = runtime.scheduleReadOperation("fetch", TP, s -> s.fetchOffsets("g", null, true)).join();
        assertEquals(java.util.Set.of(), after.unstable());
        assertEquals(5, after.offsets().get(IN).offset());
    }

    @Test
    void shouldKeepNothingPendingWhenTheLogRefusesTheTransactionalBatch() {
        writer.failAppends(Errors.INVALID_PRODUCER_EPOCH); // a fenced producer's epoch
        assertEquals(Map.of(IN, Errors.INVALID_PRODUCER_EPOCH), txnCommit(10, "g", -1, 5),
            "the client learns it is fenced");
        writer.failAppends(null);
        assertFalse(pending("g"));
        marker(10, true);
        assertNull(committed("g"));
    }

    @Test
    void shouldKeepOffsetsPendingWhenTheMarkerCannotBeWritten() {
        txnCommit(10, "g", -1, 5);
        writer.failAppends(Errors.NOT_LEADER_OR_FOLLOWER);
        assertTrue(runtime.scheduleTransactionCompletion("marker", TP, 10, (short) 0, 0, true)
            .isCompletedExceptionally(), "the marker pipeline learns it must retry");
        writer.failAppends(null);
        assertTrue(pending("g"), "a marker that is not in the log changed nothing");
        assertNull(committed("g"));
        marker(10, true);
        assertEquals(5, committed("g").offset());
    }
    private void plainCommit(String group, TopicPartition partition, long offset) {
        assertEquals(Map.of(partition, Errors.NONE), runtime.scheduleWriteOperation("commit", TP,
            s -> s.commitOffsets(group, "", null, -1, Map.of(partition, new CommittedOffset(offset, -1, "", 0))))
            .join());
    }

    private CommittedOffset committed(String group, TopicPartition partition) {
        return runtime.scheduleReadOperation("fetch", TP, s -> s.fetchOffsets(group, null)).join().offsets()
            .get(partition);
    }

    private void reload() {
        runtime.scheduleUnload(TP).join();
        runtime = newRuntime();
    }

    /** Kafka's rule: of a transactional and a plain commit of the same offset, the later record wins. */
    @Test
    void shouldKeepAPlainCommitAppendedAfterAPendingTransactionalOne() {
        txnCommit(10, "g", -1, 5);
        plainCommit("g", IN, 8);
        marker(10, true);
        assertEquals(8, committed("g").offset(), "the transaction's older record does not replace it");
        reload();
        assertEquals(8, committed("g").offset(), "and a reload agrees");

        plainCommit("g", IN, 9);
        txnCommit(11, "g", -1, 12);
        marker(11, true);
        assertEquals(12, committed("g").offset(), "a transactional commit appended later does");
    }

    /** A deleted offset stays deleted: the tombstone drops what transactions have pending for it. */
    @Test
    void shouldNotBringBackADeletedOffsetWithALaterCommitMarker() {
        plainCommit("g", IN, 3);
        txnCommit(10, "g", -1, 5);
        var deleted = runtime.scheduleWriteOperation("delete", TP, s -> s.deleteOffsets("g", java.util.List.of(IN)))
            .join();
        assertEquals(Map.of(IN, Errors.NONE), deleted.partitions());
        assertFalse(pending("g"));
        marker(10, true);
        assertNull(committed("g"));
    }

    /** DeleteGroups tombstones the offsets transactions have pending too, not only the committed ones. */
    @Test
    void shouldDeleteAGroupsPendingTransactionalOffsetsWithIt() {
        TopicPartition other = new TopicPartition("in", 1);
        plainCommit("g", IN, 3);
        runtime.scheduleTransactionalWriteOperation("txn-commit", TP, 10, (short) 0, s -> s.commitTransactionalOffsets(
            "g", "", null, -1, Map.of(other, new CommittedOffset(4, -1, "", 0)))).join();
        assertEquals(Errors.NONE, runtime.scheduleWriteOperation("delete-group", TP, s -> s.deleteGroup("g")).join());
        marker(10, true);
        assertNull(committed("g", IN));
        assertNull(committed("g", other), "the transaction's commit does not bring the deleted group back");
    }

    /** An offset a transaction is about to commit does not expire (its tombstone would drop that commit). */
    @Test
    void shouldNotExpireAnOffsetWithAPendingTransactionalCommit() {
        plainCommit("g", IN, 3);
        txnCommit(10, "g", -1, 5);
        time.sleep(SETTINGS.offsetsRetentionMs() + 1); // the retention check runs on its timer too
        assertEquals(0, runtime.scheduleWriteOperation("expire", TP, GroupCoordinatorShard::expireOffsets).join());
        assertEquals(3, committed("g").offset());
        marker(10, true);
        assertEquals(5, committed("g").offset());
    }
}
