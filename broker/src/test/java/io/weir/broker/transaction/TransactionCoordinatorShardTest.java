package io.weir.broker.transaction;

import io.weir.broker.coordinator.runtime.CoordinatorRuntime;
import io.weir.broker.coordinator.runtime.InMemoryPartitionWriter;
import io.weir.broker.transaction.TransactionCoordinatorShard.EndResult;
import io.weir.broker.transaction.TransactionCoordinatorShard.InitResult;
import io.weir.broker.transaction.TransactionCoordinatorShard.MarkerJob;
import io.weir.broker.transaction.TransactionRecords.TransactionRecord;
import io.weir.common.TopicPartition;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.MockTimerService;
import io.weir.protocol.Errors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One transaction shard on the coordinator runtime, driven on the test's thread with a mock clock, a
 * mock timer and an in-memory {@code __transaction_state} partition; markers are captured, and the test
 * completes them as the marker pipeline would.
 */
class TransactionCoordinatorShardTest {
    private static final TopicPartition TP = new TopicPartition(TransactionCoordinatorService.TOPIC, 0);
    private static final TopicPartition A = new TopicPartition("a", 0);
    private static final TopicPartition B = new TopicPartition("b", 1);
    private static final int TIMEOUT_MS = 60_000;
    private static final long EXPIRATION_MS = 7 * 24 * 3600_000L;
    private static final String ID = "txn";

    private final MockTime time = new MockTime(1_000_000);
    private final MockTimerService timers = new MockTimerService(time);
    private final InMemoryPartitionWriter writer = new InMemoryPartitionWriter();
    private final AtomicLong producerIds = new AtomicLong(1000);
    private final List<MarkerJob> markers = new ArrayList<>();
    private CoordinatorRuntime<TransactionCoordinatorShard, TransactionRecord> runtime;

    @BeforeEach
    void setUp() {
        runtime = newRuntime();
    }

    private CoordinatorRuntime<TransactionCoordinatorShard, TransactionRecord> newRuntime() {
        CoordinatorRuntime<TransactionCoordinatorShard, TransactionRecord> rt = TransactionCoordinatorService.newRuntime(
            time, Runnable::run, timers, writer, writer,
            new TransactionCoordinatorShard.Settings(900_000, EXPIRATION_MS), producerIds::getAndIncrement,
            markers::add, tp -> 7);
        rt.scheduleLoad(TP, 0).join();
        return rt;
    }

    // ------------------------------------------------------------------------------ helpers

    private InitResult init(int timeoutMs) {
        return runtime.scheduleWriteOperation("init", TP, s -> s.initProducerId(ID, timeoutMs, -1, (short) -1)).join();
    }

    private InitResult init() {
        return init(TIMEOUT_MS);
    }

    private Map<TopicPartition, Errors> add(long pid, int epoch, TopicPartition... tps) {
        return runtime.scheduleWriteOperation("add", TP,
            s -> s.addPartitions(ID, pid, (short) epoch, Set.of(tps), false, (byte) 1)).join();
    }

    private Map<TopicPartition, Errors> verify(long pid, int epoch, TopicPartition... tps) {
        return runtime.scheduleWriteOperation("verify", TP,
            s -> s.addPartitions(ID, pid, (short) epoch, Set.of(tps), true, (byte) 1)).join();
    }

    private EndResult end(long pid, int epoch, boolean commit, boolean v2) {
        return runtime.scheduleWriteOperation("end", TP, s -> s.endTransaction(ID, pid, (short) epoch, commit, v2))
            .join();
    }

    /** What the marker pipeline does once every marker of the job is written. */
    private void completeMarkers(MarkerJob job) {
        runtime.scheduleWriteOperation("complete", TP, s -> s.completeTransaction(job.transactionalId(),
            job.producerId(), job.producerEpoch(), job.commit())).join();
    }

    private TransactionMetadata state() {
        return runtime.scheduleReadOperation("describe", TP, s -> s.describe(ID)).join();
    }

    private static Map<TopicPartition, Errors> all(Errors e, TopicPartition... tps) {
        Map<TopicPartition, Errors> out = new java.util.HashMap<>();
        for (TopicPartition tp : tps) {
            out.put(tp, e);
        }
        return out;
    }

    // ------------------------------------------------------------------------------ the state machine

    @Test
    void shouldListTheAllowedPreviousStatesInOnePlaceAndRefuseOthers() {
        TransactionMetadata empty = new TransactionMetadata(ID, 1, -1, -1, (short) 0, (short) -1, 1000,
            TransactionState.EMPTY, Set.of(), -1, 0, (byte) 0);
        for (TransactionState target : TransactionState.values()) {
            boolean allowed = target.validPreviousStates().contains(TransactionState.EMPTY);
            if (allowed) {
                assertEquals(target, empty.toBuilder().transitionTo(target).build().state());
            } else {
                assertThrows(IllegalStateException.class, () -> empty.toBuilder().transitionTo(target), target.name());
            }
        }
        assertEquals(EnumSet.of(TransactionState.ONGOING), TransactionState.PREPARE_COMMIT.validPreviousStates());
        assertEquals(EnumSet.of(TransactionState.PREPARE_COMMIT), TransactionState.COMPLETE_COMMIT.validPreviousStates());
        assertEquals(EnumSet.of(TransactionState.PREPARE_ABORT), TransactionState.COMPLETE_ABORT.validPreviousStates());
    }

    @Test
    void shouldRoundTripMetadataThroughItsRecord() {
        TransactionMetadata m = new TransactionMetadata(ID, 42, 41, 43, (short) 7, (short) 6, 1234,
            TransactionState.PREPARE_COMMIT, Set.of(A, B, new TopicPartition("a", 3)), 99, 100, (byte) 2);
        var bytes = TransactionRecords.SERDE.serialize(new TransactionRecord(ID, m));
        assertEquals(new TransactionRecord(ID, m), TransactionRecords.SERDE.deserialize(bytes.key(), bytes.value()));
        assertNull(TransactionRecords.SERDE.deserialize(bytes.key(), null).metadata(), "tombstone");
    }

    @Test
    void shouldGiveANewIdEpochZeroAndBumpTheEpochOnEveryInit() {
        InitResult first = init();
        assertEquals(new InitResult(Errors.NONE, 1000, (short) 0), first);
        InitResult second = init();
        assertEquals(new InitResult(Errors.NONE, 1000, (short) 1), second);
        assertEquals(TransactionState.EMPTY, state().state());
        assertEquals(2, writer.log(TP).size(), "each init is a record");
    }

    @Test
    void shouldCommitThroughPrepareCommitMarkersAndCompleteCommit() {
        InitResult p = init();
        assertEquals(all(Errors.NONE, A), add(p.producerId(), 0, A));
        time.advance(5);
        assertEquals(all(Errors.NONE, B), add(p.producerId(), 0, B));
        TransactionMetadata ongoing = state();
        assertEquals(TransactionState.ONGOING, ongoing.state());
        assertEquals(Set.of(A, B), ongoing.partitions());
        assertEquals(1_000_000, ongoing.txnStartTimestampMs());

        EndResult ended = end(p.producerId(), 0, true, false);
        assertEquals(Errors.NONE, ended.error());
        assertEquals(TransactionState.PREPARE_COMMIT, state().state());
        assertEquals(List.of(new MarkerJob(TP, ID, 1000, (short) 0, 7, true, Set.of(A, B))), markers);

        completeMarkers(markers.get(0));
        TransactionMetadata done = state();
        assertEquals(TransactionState.COMPLETE_COMMIT, done.state());
        assertEquals(Set.of(), done.partitions());
        assertEquals(new EndResult(Errors.NONE, 1000, (short) 0), end(p.producerId(), 0, true, false),
            "a V1 retry of the commit is answered");
        assertEquals(all(Errors.NONE, A), add(p.producerId(), 0, A), "the next transaction starts");
        assertEquals(TransactionState.ONGOING, state().state());
    }

    @Test
    void shouldAbortThroughPrepareAbortAndCompleteAbort() {
        InitResult p = init();
        add(p.producerId(), 0, A);
        assertEquals(Errors.NONE, end(p.producerId(), 0, false, false).error());
        assertEquals(TransactionState.PREPARE_ABORT, state().state());
        assertEquals(1, markers.size());
        assertTrue(!markers.get(0).commit());
        completeMarkers(markers.get(0));
        assertEquals(TransactionState.COMPLETE_ABORT, state().state());
    }

    @Test
    void shouldAnswerConcurrentTransactionsWhileMarkersArePending() {
        InitResult p = init();
        add(p.producerId(), 0, A);
        end(p.producerId(), 0, true, false);
        assertEquals(all(Errors.CONCURRENT_TRANSACTIONS, B), add(p.producerId(), 0, B));
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, init().error());
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, end(p.producerId(), 0, true, false).error());
        assertEquals(Errors.INVALID_TXN_STATE, end(p.producerId(), 0, false, false).error());
        completeMarkers(markers.get(0));
        assertEquals(new InitResult(Errors.NONE, 1000, (short) 1), init());
    }

    @Test
    void shouldAbortAnOpenTransactionAndFenceItsProducerWhenANewProducerInits() {
        InitResult zombie = init();
        add(zombie.producerId(), 0, A);
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, init().error(), "the new producer retries until the abort is done");
        TransactionMetadata fencing = state();
        assertEquals(TransactionState.PREPARE_ABORT, fencing.state());
        assertEquals(1, fencing.producerEpoch());
        assertEquals(new MarkerJob(TP, ID, 1000, (short) 1, 7, false, Set.of(A)), markers.get(0),
            "the abort markers carry the bumped epoch, fencing the zombie on the partitions");
        completeMarkers(markers.get(0));
        InitResult successor = init();
        assertEquals(new InitResult(Errors.NONE, 1000, (short) 2), successor);

        assertEquals(Errors.PRODUCER_FENCED, end(zombie.producerId(), 0, true, false).error());
        assertEquals(all(Errors.PRODUCER_FENCED, B), add(zombie.producerId(), 0, B));
        assertEquals(all(Errors.INVALID_PRODUCER_ID_MAPPING, B), add(999, 2, B));
    }

    @Test
    void shouldBumpTheEpochAtEveryEndWithTransactionsV2AndAnswerARetriedEnd() {
        InitResult p = init();
        runtime.scheduleWriteOperation("add", TP, s -> s.addPartitions(ID, p.producerId(), (short) 0, Set.of(A), false,
            (byte) 2)).join();
        EndResult ended = end(p.producerId(), 0, true, true);
        assertEquals(new EndResult(Errors.NONE, 1000, (short) 1), ended);
        assertEquals((short) 1, markers.get(0).producerEpoch(), "markers carry the bumped epoch");
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, end(p.producerId(), 0, true, true).error(),
            "a retry while the markers are written");
        completeMarkers(markers.get(0));
        assertEquals(new EndResult(Errors.NONE, 1000, (short) 1), end(p.producerId(), 0, true, true),
            "a retry after completion gets the same answer");
        assertEquals(Errors.PRODUCER_FENCED, end(p.producerId(), 0, false, true).error(),
            "an abort with the old epoch is not a retry of the commit");
        assertEquals(Errors.INVALID_TXN_STATE, end(p.producerId(), 1, true, true).error(), "nothing to commit");
        // a V2 producer may abort a transaction that has no partition
        assertEquals(new EndResult(Errors.NONE, 1000, (short) 2), end(p.producerId(), 1, false, true));
        completeMarkers(markers.get(1));
        assertEquals(TransactionState.COMPLETE_ABORT, state().state());
    }

    @Test
    void shouldTakeANewProducerIdWhenTheEpochIsExhausted() {
        TransactionMetadata worn = new TransactionMetadata(ID, 77, -1, -1, (short) (Short.MAX_VALUE - 1), (short) 0,
            TIMEOUT_MS, TransactionState.COMPLETE_COMMIT, Set.of(), 5, 6, (byte) 1);
        var record = TransactionRecords.SERDE.serialize(new TransactionRecord(ID, worn));
        writer.append(TP, 0, List.of(record));
        runtime = newRuntime();
        short exhausted = (short) (Short.MAX_VALUE - 1);
        assertEquals(new InitResult(Errors.NONE, 1000, (short) 0), initAs(77, exhausted), "the producer bumps itself");
        assertEquals(77, state().previousProducerId());
        assertEquals(new InitResult(Errors.NONE, 1000, (short) 0), initAs(77, exhausted),
            "a retry by the producer of the exhausted id gets the new one");
        assertEquals(new InitResult(Errors.NONE, 1000, (short) 1), init(), "a new instance takes over");
        assertEquals(Errors.PRODUCER_FENCED, initAs(77, exhausted).error(), "the old id is fenced for good");
    }

    @Test
    void shouldRefuseRequestsThatDoNotMatchTheTransaction() {
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, end(5, 0, true, false).error(), "unknown transactional id");
        InitResult p = init();
        assertEquals(Errors.INVALID_TXN_STATE, end(p.producerId(), 0, true, false).error(), "no transaction to commit");
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, end(p.producerId() + 1, 0, true, false).error());
        assertEquals(all(Errors.TRANSACTION_ABORTABLE, A), verify(p.producerId(), 0, A), "not in a transaction");
        add(p.producerId(), 0, A);
        assertEquals(all(Errors.NONE, A), verify(p.producerId(), 0, A));
        assertEquals(all(Errors.TRANSACTION_ABORTABLE, B), verify(p.producerId(), 0, B), "not registered");
        assertEquals(all(Errors.PRODUCER_FENCED, A), verify(p.producerId(), 1, A));
        assertEquals(Errors.PRODUCER_FENCED,
            runtime.scheduleWriteOperation("init", TP, s -> s.initProducerId(ID, TIMEOUT_MS, p.producerId(), (short) 5))
                .join().error(), "InitProducerId naming a stale epoch");
    }

    @Test
    void shouldLeaveTheStateAsItWasWhenTheRecordCannotBeWritten() {
        InitResult p = init();
        add(p.producerId(), 0, A);
        writer.failAppends(Errors.NOT_LEADER_OR_FOLLOWER);
        assertEquals(Errors.COORDINATOR_NOT_AVAILABLE, end(p.producerId(), 0, true, false).error());
        writer.failAppends(null);
        assertEquals(TransactionState.ONGOING, state().state());
        assertEquals(List.of(), markers, "nothing is acted on before it is in the log");
    }

    // ------------------------------------------------------------------------------ timers and loading

    @Test
    void shouldAbortATimedOutTransactionAndFenceItsProducer() {
        InitResult p = init(1000);
        add(p.producerId(), 0, A);
        time.advance(999);
        timers.poll();
        assertEquals(TransactionState.ONGOING, state().state());
        time.advance(1);
        timers.poll();
        TransactionMetadata aborting = state();
        assertEquals(TransactionState.PREPARE_ABORT, aborting.state());
        assertEquals(1, aborting.producerEpoch());
        assertEquals(new MarkerJob(TP, ID, 1000, (short) 1, 7, false, Set.of(A)), markers.get(0));
        completeMarkers(markers.get(0));
        assertEquals(Errors.PRODUCER_FENCED, end(p.producerId(), 0, true, false).error(), "the late commit is fenced");
        assertEquals(Errors.PRODUCER_FENCED, end(p.producerId(), 0, true, true).error(), "also with V2");
    }

    @Test
    void shouldNotTimeOutATransactionThatEndedInTime() {
        InitResult p = init(1000);
        add(p.producerId(), 0, A);
        end(p.producerId(), 0, true, false);
        completeMarkers(markers.get(0));
        time.advance(5000);
        timers.poll();
        assertEquals(TransactionState.COMPLETE_COMMIT, state().state());
        assertEquals(1, markers.size());
    }

    @Test
    void shouldExpireATransactionalIdUnusedForTheExpirationTime() {
        init();
        time.advance(EXPIRATION_MS - 1);
        timers.poll();
        assertEquals(TransactionState.EMPTY, state().state());
        time.advance(1);
        timers.poll();
        assertNull(state());
        InitResult fresh = init();
        assertEquals(new InitResult(Errors.NONE, 1001, (short) 0), fresh, "a forgotten id starts over");
    }

    @Test
    void shouldSendTheMarkersOfAPreparedTransactionAgainWhenLoaded() {
        InitResult p = init();
        add(p.producerId(), 0, A, B);
        end(p.producerId(), 0, true, false);
        assertEquals(1, markers.size());
        TransactionMetadata before = state();
        runtime.scheduleUnload(TP).join();
        runtime = newRuntime(); // a restarted coordinator, loading the same log
        assertEquals(before, state(), "the log rebuilds the same state");
        assertEquals(2, markers.size(), "the prepared commit is finished after the load");
        assertEquals(markers.get(0), markers.get(1));
        completeMarkers(markers.get(1));
        assertEquals(TransactionState.COMPLETE_COMMIT, state().state());
    }

    @Test
    void shouldListTransactionsByStateProducerIdAndDuration() {
        InitResult p = init();
        add(p.producerId(), 0, A);
        time.advance(10_000);
        var shardList = runtime.scheduleReadOperation("list", TP,
            s -> List.of(s.list(Set.of(), Set.of(), -1).size(), s.list(Set.of(TransactionState.ONGOING), Set.of(), -1).size(),
                s.list(Set.of(TransactionState.EMPTY), Set.of(), -1).size(), s.list(Set.of(), Set.of(999L), -1).size(),
                s.list(Set.of(), Set.of(), 5_000).size(), s.list(Set.of(), Set.of(), 20_000).size())).join();
        assertEquals(List.of(1, 1, 0, 0, 1, 0), shardList);
    }

    /** The partition leader's append runs with the verdict, after the add is durable, on the shard's queue. */
    @Test
    void shouldDecideBeforeAnythingElseOfTheTransactionCanRun() {
        InitResult p = init();
        List<String> seen = new ArrayList<>();
        runtime.scheduleWriteOperation("verify", TP, s -> s.addPartitions(ID, p.producerId(), (short) 0, Set.of(A),
            true, (byte) 1, r -> seen.add("verify " + r.get(A)))).join();
        runtime.scheduleWriteOperation("add", TP, s -> s.addPartitions(ID, p.producerId(), (short) 0, Set.of(A),
            false, (byte) 2, r -> seen.add("add " + r.get(A) + " after " + writer.log(TP).size() + " records"))).join();
        assertEquals(List.of("verify TRANSACTION_ABORTABLE", "add NONE after 2 records"), seen);
        writer.failAppends(Errors.NOT_LEADER_OR_FOLLOWER);
        runtime.scheduleWriteOperation("add", TP, s -> s.addPartitions(ID, p.producerId(), (short) 0, Set.of(B),
            false, (byte) 2, r -> seen.add("add " + r.get(B)))).join();
        assertEquals("add COORDINATOR_NOT_AVAILABLE", seen.get(2), "a batch is not appended for an add that failed");
    }

    @Test
    void shouldMoveAV2ProducerToANewIdWhenAnEndExhaustsItsEpoch() {
        short last = (short) (Short.MAX_VALUE - 2);
        TransactionMetadata worn = new TransactionMetadata(ID, 77, -1, -1, last, (short) (last - 1), TIMEOUT_MS,
            TransactionState.ONGOING, Set.of(A), time.milliseconds(), time.milliseconds(), (byte) 2);
        writer.append(TP, 0, List.of(TransactionRecords.SERDE.serialize(new TransactionRecord(ID, worn))));
        runtime = newRuntime();
        assertEquals(new EndResult(Errors.NONE, 1000, (short) 0), end(77, last, true, true), "continue as 1000/0");
        assertEquals(new MarkerJob(TP, ID, 77, (short) (last + 1), 7, true, Set.of(A)), markers.get(0));
        assertEquals(all(Errors.CONCURRENT_TRANSACTIONS, B), runtime.scheduleWriteOperation("add", TP,
            s -> s.addPartitions(ID, 1000, (short) 0, Set.of(B), false, (byte) 2)).join(),
            "the new id's next transaction waits for the markers");
        completeMarkers(markers.get(0));
        TransactionMetadata moved = state();
        assertEquals(1000, moved.producerId());
        assertEquals(0, moved.producerEpoch());
        assertEquals(new EndResult(Errors.NONE, 1000, (short) 0), end(77, last, true, true), "a retry");
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, end(77, (short) 5, true, true).error(),
            "the old id with another epoch is not a retry");
    }

    private InitResult initAs(long pid, int epoch) {
        return runtime.scheduleWriteOperation("init", TP, s -> s.initProducerId(ID, TIMEOUT_MS, pid, (short) epoch))
            .join();
    }

    /** KIP-360: a producer may bump its own epoch (and retry that), but a fenced zombie may not recover. */
    @Test
    void shouldLetAProducerBumpItsOwnEpochButNotAZombieRecover() {
        InitResult first = init();
        InitResult bumped = initAs(first.producerId(), first.producerEpoch());
        assertEquals(new InitResult(Errors.NONE, 1000, (short) 1), bumped);
        assertEquals(bumped, initAs(first.producerId(), first.producerEpoch()), "a retry gets the same answer");

        InitResult successor = init(); // a new instance fences epoch 1
        assertEquals(2, successor.producerEpoch());
        assertEquals(Errors.PRODUCER_FENCED, initAs(bumped.producerId(), bumped.producerEpoch()).error(),
            "the zombie at epoch 1 cannot claim epoch 2");
    }
}
