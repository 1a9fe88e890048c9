package io.weir.broker.server;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.testing.MockTime;
import io.weir.log.LogManager;
import io.weir.log.internals.CheckpointFile;
import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The leader's side of replication inside one replica manager, driven by hand: the high watermark as
 * the smallest log end of the ISR, fetches of unassigned replicas refused, ISR shrink and expansion
 * through the sender, stale states ignored, and the high-watermark checkpoint written and read back.
 */
class ReplicaManagerReplicationTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final TopicMetadata TOPIC = new TopicMetadata("t", UUID.randomUUID(), 1, (short) 3, Map.of());

    @TempDir
    Path dir;

    private final MockTime time = new MockTime();
    private final List<LogManager> opened = new ArrayList<>();

    /** ISR changes the replica manager sent, answered by the test. */
    private final List<CompletableFuture<PartitionState>> answers = new ArrayList<>();
    private final List<List<Integer>> proposed = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(LogManager::close);
    }

    private ReplicaManager replicaManager() {
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, dir.toString()));
        TopicConfigs topicConfigs = new TopicConfigs(config);
        LogManager logs = LogManager.open(dir, topicConfigs.defaultLogConfig(), Map.of(), time);
        opened.add(logs);
        ReplicaManager rm = new ReplicaManager(0, logs, topicConfigs, time);
        rm.setAlterPartitionSender((tp, leaderEpoch, partitionEpoch, newIsr) -> {
            CompletableFuture<PartitionState> f = new CompletableFuture<>();
            synchronized (answers) {
                answers.add(f);
                proposed.add(newIsr);
            }
            return f;
        });
        return rm;
    }

    private static Records batch(int records) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        for (int i = 0; i < records; i++) {
            b.append(1L, ("k" + i).getBytes(StandardCharsets.UTF_8), new byte[20]);
        }
        return Records.wrap(b.build());
    }

    private static PartitionState state(int leader, int epoch, List<Integer> isr, int zkVersion) {
        return new PartitionState(leader, epoch, isr, 1, zkVersion);
    }

    private static void awaitTrue(java.util.function.BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached");
            }
            Thread.sleep(5);
        }
    }

    @Test
    void shouldMoveTheHighWatermarkToTheSmallestLogEndOfTheIsrAndCompleteItsWaiters() throws Exception {
        ReplicaManager rm = replicaManager();
        rm.hostPartition(TOPIC, 0, List.of(0, 1, 2), state(0, 0, List.of(0, 1, 2), 0));
        Partition p = rm.partition(TP);
        assertTrue(p.isLeader());
        assertEquals(Errors.NONE, rm.appendAsLeader(TP, batch(5), (short) -1).error());
        assertEquals(0, p.highWatermark(), "the followers' log ends are not known yet");
        CompletableFuture<Long> committed = rm.awaitHighWatermark(TP, 5);

        ReplicaManager.ReadResult r1 = rm.readForFollower(TP, 1, 0, 1 << 20, true, 0, 0, true);
        assertEquals(Errors.NONE, r1.error());
        assertTrue(r1.sizeInBytes() > 0, "a follower reads uncommitted records");
        rm.readForFollower(TP, 2, 3, 1 << 20, true, 0, 0, true);
        rm.readForFollower(TP, 1, 5, 1 << 20, true, 0, 0, true);
        assertEquals(3, p.highWatermark(), "follower 2 is at 3");
        assertFalse(committed.isDone());
        ReplicaManager.ReadResult consumer = rm.read(TP, 3, 1 << 20, true, false);
        assertEquals(0, consumer.sizeInBytes(), "consumers read below the high watermark only");

        rm.readForFollower(TP, 2, 5, 1 << 20, true, 0, 0, true);
        assertEquals(5, p.highWatermark());
        assertEquals(5L, committed.get(1, TimeUnit.SECONDS));
    }

    @Test
    void shouldRefuseAFetchFromAnUnassignedReplicaWithoutChangingState() {
        ReplicaManager rm = replicaManager();
        rm.hostPartition(TOPIC, 0, List.of(0, 1), state(0, 0, List.of(0, 1), 0));
        rm.appendAsLeader(TP, batch(2), (short) 1);
        Partition p = rm.partition(TP);

        assertEquals(Errors.UNKNOWN_LEADER_EPOCH, rm.readForFollower(TP, 7, 2, 1 << 20, true, 0, 0, true).error());
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, rm.readForFollower(TP, 7, 2, 1 << 20, true, -1, 0, true).error());
        assertEquals(Errors.UNKNOWN_LEADER_EPOCH, rm.validateLeader(TP, 1));
        assertEquals(-1, p.followerLogEndOffset(7));
        assertEquals(0, p.highWatermark());
        assertEquals(List.of(0, 1), p.isr());
        assertNull(p.pendingIsrChange());
        assertTrue(proposed.isEmpty());
    }

    /** A follower fetch of partition 0 (Fetch v15 style) naming a broker epoch and the epoch of its last batch. */
    private static ReplicaManager.ReadResult fetch(ReplicaManager rm, int replicaId, long brokerEpoch, int leaderEpoch,
                                                   int lastFetchedEpoch, long fetchOffset) {
        return rm.readForFollower(TP, new ReplicaManager.FollowerFetch(replicaId, brokerEpoch, leaderEpoch,
            lastFetchedEpoch, 0), fetchOffset, 1 << 20, true, true);
    }

    @Test
    void shouldAnswerTheDivergingEpochInsteadOfRecordsWhereTheFollowersLogDiverges() {
        ReplicaManager rm = replicaManager();
        rm.hostPartition(TOPIC, 0, List.of(0, 1, 2), state(0, 0, List.of(0, 1, 2), 0));
        rm.appendAsLeader(TP, batch(5), (short) 1); // epoch 0: [0, 5)
        rm.applyPartitionState(TP, List.of(0, 1, 2), state(0, 2, List.of(0, 1, 2), 1));
        rm.appendAsLeader(TP, batch(3), (short) 1); // epoch 2: [5, 8)
        Partition p = rm.partition(TP);

        // the follower's last batch is of epoch 1, which this leader never had: its log diverges after epoch 0
        ReplicaManager.ReadResult r = fetch(rm, 1, -1, 2, 1, 7);
        assertEquals(Errors.NONE, r.error());
        assertEquals(new io.weir.log.EpochEndOffset(0, 5), r.divergingEpoch());
        assertEquals(0, r.sizeInBytes(), "no records with a diverging epoch");
        assertEquals(-1, p.followerLogEndOffset(1), "a diverging fetch offset is not the follower's log end");

        // epoch 0 is common, but the follower has more of it than the leader: it diverges at 5
        assertEquals(new io.weir.log.EpochEndOffset(0, 5), fetch(rm, 1, -1, 2, 0, 6).divergingEpoch());
        assertEquals(-1, p.followerLogEndOffset(1));

        // no divergence: records as usual, and the fetch offset is recorded
        ReplicaManager.ReadResult ok = fetch(rm, 1, -1, 2, 0, 5);
        assertNull(ok.divergingEpoch());
        assertTrue(ok.sizeInBytes() > 0);
        assertEquals(5, p.followerLogEndOffset(1));
        assertNull(fetch(rm, 2, -1, 2, 2, 8).divergingEpoch());
        assertEquals(8, p.followerLogEndOffset(2));
        // without a last fetched epoch (a fetch before v12) nothing is checked
        assertNull(fetch(rm, 2, -1, 2, -1, 7).divergingEpoch());
    }

    @Test
    void shouldRefuseAFollowerFetchNamingAStaleBrokerEpoch() {
        ReplicaManager rm = replicaManager();
        rm.setBrokerEpochs(id -> id == 1 ? 100 : -1);
        rm.hostPartition(TOPIC, 0, List.of(0, 1), state(0, 0, List.of(0, 1), 0));
        rm.appendAsLeader(TP, batch(2), (short) 1);
        Partition p = rm.partition(TP);

        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, fetch(rm, 1, 99, 0, -1, 1).error(),
            "a fetch of the broker's previous registration");
        assertEquals(-1, p.followerLogEndOffset(1));
        assertEquals(0, p.highWatermark());

        assertEquals(Errors.NONE, fetch(rm, 1, 100, 0, -1, 1).error());
        assertEquals(1, p.followerLogEndOffset(1));
        assertEquals(100, p.followerBrokerEpoch(1));
        assertEquals(Errors.NONE, fetch(rm, 1, 101, 0, -1, 2).error(), "newer than this leader knows: not stale");
        assertEquals(Errors.NONE, fetch(rm, 1, -1, 0, -1, 2).error(), "no broker epoch given (before v15)");
    }

    @Test
    void shouldHoldBackRecordsFromAThrottledFollowerOutsideTheIsrWhileTheLeaderBucketIsEmpty() {
        ReplicaManager rm = replicaManager();
        rm.hostPartition(TOPIC, 0, List.of(0, 1, 2), state(0, 0, List.of(0, 2), 0));
        rm.appendAsLeader(TP, batch(5), (short) 1);
        ReplicationThrottle throttle = rm.leaderReplicationThrottle();
        throttle.setRate(10); // bytes per second
        throttle.setThrottledReplicas(Map.of("t", "0:0")); // partition 0's replica on this broker (the leader)

        // the bucket starts with one second's worth: the first fetch of the new replica gets its records
        ReplicaManager.ReadResult first = fetch(rm, 1, -1, 0, -1, 0);
        assertTrue(first.sizeInBytes() > 10);
        rm.recordLeaderThrottled(TP, 1, first.sizeInBytes());
        assertTrue(throttle.delayMs(time.milliseconds()) > 0, "the bucket is overdrawn");

        ReplicaManager.ReadResult held = fetch(rm, 1, -1, 0, -1, 0);
        assertEquals(Errors.NONE, held.error());
        assertEquals(0, held.sizeInBytes(), "held back while the bucket is empty");
        assertEquals(0, rm.partition(TP).followerLogEndOffset(1), "the fetch itself still counts");
        // an in-sync follower is never held back, and its bytes are not counted
        ReplicaManager.ReadResult inSync = fetch(rm, 2, -1, 0, -1, 0);
        assertTrue(inSync.sizeInBytes() > 0);
        long throttledBefore = throttle.throttledBytes();
        rm.recordLeaderThrottled(TP, 2, inSync.sizeInBytes());
        assertEquals(throttledBefore, throttle.throttledBytes());

        time.sleep(throttle.delayMs(time.milliseconds()));
        assertTrue(fetch(rm, 1, -1, 0, -1, 0).sizeInBytes() > 0, "the bucket refilled");
        throttle.setRate(ReplicationThrottle.UNLIMITED);
        rm.recordLeaderThrottled(TP, 1, 1_000_000);
        assertTrue(fetch(rm, 1, -1, 0, -1, 0).sizeInBytes() > 0, "no rate: nothing is throttled");
    }

    @Test
    void shouldShrinkTheIsrOnlyOnceTheControllerCommittedItAndExpandWhenTheFollowerCatchesUp() throws Exception {
        ReplicaManager rm = replicaManager();
        rm.hostPartition(TOPIC, 0, List.of(0, 1), state(0, 0, List.of(0, 1), 0));
        Partition p = rm.partition(TP);
        rm.appendAsLeader(TP, batch(4), (short) 1);
        rm.readForFollower(TP, 1, 2, 1 << 20, true, 0, 0, true);
        assertEquals(2, p.highWatermark());

        assertEquals(0, rm.doIsrCheck(time.milliseconds(), 1_000), "the follower fetched just now");
        time.sleep(1_001);
        assertEquals(1, rm.doIsrCheck(time.milliseconds(), 1_000));
        assertEquals(List.of(0), proposed.get(0));
        assertEquals(0, rm.doIsrCheck(time.milliseconds(), 1_000), "one pending change at a time");
        assertEquals(2, p.highWatermark(), "nothing commits on a shrink the controller has not confirmed");

        answers.get(0).complete(state(0, 0, List.of(0), 1));
        awaitTrue(() -> p.isr().equals(List.of(0)));
        awaitTrue(() -> p.highWatermark() == 4);
        assertEquals(Errors.NOT_ENOUGH_REPLICAS, withMinIsr2(rm).error());

        // the follower catches up to the high watermark: it is proposed again
        rm.readForFollower(TP, 1, 4, 1 << 20, true, 0, 0, true);
        assertEquals(List.of(0, 1), proposed.get(1));
        assertEquals(List.of(0, 1), p.maximalIsr(), "the high watermark already waits for the follower");
        answers.get(1).completeExceptionally(new ApiException(Errors.INVALID_UPDATE_VERSION, "stale"));
        awaitTrue(() -> p.pendingIsrChange() != null && proposed.size() == 2);
        // newer metadata (the controller's state) clears the refused change
        rm.applyPartitionState(TP, List.of(0, 1), state(0, 0, List.of(0, 1), 2));
        assertEquals(List.of(0, 1), p.isr());
        assertNull(p.pendingIsrChange());
    }

    private ReplicaManager.AppendResult withMinIsr2(ReplicaManager rm) {
        rm.updateTopicConfig(new TopicMetadata("t", TOPIC.topicId(), 1, (short) 3, Map.of("min.insync.replicas", "2")));
        return rm.appendAsLeader(TP, batch(1), (short) -1);
    }

    @Test
    void shouldIgnoreAStaleStateAndFollowANewLeader() {
        ReplicaManager rm = replicaManager();
        List<String> transitions = new ArrayList<>();
        rm.addLeadershipListener(new LeadershipListener() {
            @Override
            public void onBecomeLeader(TopicPartition tp, int leaderEpoch) {
                transitions.add("lead " + tp + " " + leaderEpoch);
            }

            @Override
            public void onResign(TopicPartition tp, int leaderEpoch) {
                transitions.add("resign " + tp + " " + leaderEpoch);
            }
        });
        rm.hostPartition(TOPIC, 0, List.of(0, 1), state(0, 3, List.of(0, 1), 5));
        assertEquals(List.of("lead t-0 3"), transitions);
        rm.applyPartitionState(TP, List.of(0, 1), state(0, 3, List.of(0), 6));
        assertEquals(List.of("lead t-0 3"), transitions, "an ISR change at the same epoch is no new leadership");
        Partition p = rm.partition(TP);
        rm.applyPartitionState(TP, List.of(0, 1), state(1, 2, List.of(0, 1), 9));
        assertTrue(p.isLeader(), "an older leader epoch is ignored");
        rm.applyPartitionState(TP, List.of(0, 1), state(1, 3, List.of(0, 1), 4));
        assertTrue(p.isLeader(), "an older partition epoch at the same leader epoch is ignored");
        rm.applyPartitionState(TP, List.of(0, 1), new PartitionState(1, 9, List.of(1), 0, 50));
        assertTrue(p.isLeader(), "a state of an older controller is ignored");
        CompletableFuture<Long> waiting = rm.awaitHighWatermark(TP, 100);

        rm.applyPartitionState(TP, List.of(0, 1), state(1, 4, List.of(0, 1), 6));
        assertEquals(Partition.Role.FOLLOWER, p.role());
        assertEquals(1, p.leaderId());
        assertEquals(List.of("lead t-0 3", "resign t-0 4"), transitions);
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, rm.appendAsLeader(TP, batch(1), (short) 1).error());
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, rm.read(TP, 0, 100, true, false).error());
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, rm.deleteRecords(TP, 0).error());
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(1, TimeUnit.SECONDS));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, ((ApiException) e.getCause()).error());
    }

    @Test
    void shouldCheckpointHighWatermarksAndStartFromTheCheckpointCappedAtTheLogEnd() throws Exception {
        ReplicaManager rm = replicaManager();
        rm.hostPartition(TOPIC, 0, List.of(0, 1), state(0, 0, List.of(0, 1), 0));
        rm.appendAsLeader(TP, batch(5), (short) 1);
        rm.readForFollower(TP, 1, 3, 1 << 20, true, 0, 0, true);
        assertEquals(1, rm.checkpointHighWatermarks());
        Path file = dir.resolve(ReplicaManager.HIGH_WATERMARK_CHECKPOINT);
        assertEquals("0\n1\nt 0 3\n", Files.readString(file));
        opened.remove(0).close();

        // a follower starts from the checkpointed high watermark, below its log end
        ReplicaManager again = replicaManager();
        again.hostPartition(TOPIC, 0, List.of(0, 1), state(1, 1, List.of(0, 1), 1));
        assertEquals(5, again.partition(TP).log().logEndOffset());
        assertEquals(3, again.partition(TP).highWatermark());
        again.checkpointHighWatermarks();
        opened.remove(0).close();

        // a checkpoint beyond the log end is capped at it
        new CheckpointFile(file).write(Map.of(TP, 99L));
        ReplicaManager third = replicaManager();
        third.hostPartition(TOPIC, 0, List.of(0, 1), state(1, 1, List.of(0, 1), 1));
        assertEquals(5, third.partition(TP).highWatermark());
    }

    @Test
    void shouldFailTheCopysDirectoryNotTheLogsOnAnIoErrorTruncatingAMovingFollowersCopy() throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, a + "," + b));
        TopicConfigs topicConfigs = new TopicConfigs(config);
        LogManager logs = LogManager.open(List.of(a, b), topicConfigs.defaultLogConfig(), Map.of(), time, false);
        opened.add(logs);
        ReplicaManager rm = new ReplicaManager(0, logs, topicConfigs, time);
        rm.logDirMover().setPausedForTest(true);
        rm.hostPartition(TOPIC, 0, List.of(0, 1), state(1, 0, List.of(0, 1), 0)); // a follower of broker 1
        Partition p = rm.partition(TP);
        assertEquals(a, logs.logDirOf(TP));
        assertTrue(rm.moveReplicaLog(TP, b));
        java.nio.file.Files.move(b, dir.resolve("b.gone"), java.nio.file.StandardCopyOption.ATOMIC_MOVE); // b's disk is gone
        // the follower fell behind the leader's log start: its log restarts there, and so does the copy, which cannot
        assertTrue(rm.truncateFollowerFullyAndStartAt(p, 0, 30));
        assertEquals(30, p.log().logEndOffset());
        assertTrue(logs.isOffline(b), "the copy's directory failed");
        assertFalse(logs.isOffline(a), "the log's directory is healthy");
        assertEquals(0, rm.logDirMover().movesInProgress());
        rm.logDirMover().close();
    }
}
