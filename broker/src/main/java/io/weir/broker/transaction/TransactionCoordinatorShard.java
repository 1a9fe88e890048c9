package io.weir.broker.transaction;

import io.weir.broker.coordinator.runtime.CoordinatorResult;
import io.weir.broker.coordinator.runtime.CoordinatorShard;
import io.weir.broker.coordinator.runtime.CoordinatorTimer;
import io.weir.broker.transaction.TransactionRecords.TransactionRecord;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The transactional ids of one partition of {@code __transaction_state}: a {@link CoordinatorShard} on the
 * coordinator runtime, the transaction coordinator's state machine ({@link TransactionState}).
 *
 * <p><b>Durable state</b> is one {@link TransactionMetadata} per id, changed only in {@link #replay}: an
 * operation computes the next value, returns it as a record, and acts on it (answers, writes markers) only
 * once the runtime has committed it. So every state change is in the log before anything depends on it,
 * and loading the partition rebuilds exactly the state the operations had built.
 *
 * <p><b>Markers.</b> Once a PrepareCommit/PrepareAbort record is committed (or found when the partition
 * is loaded) the shard hands a {@link MarkerJob} to the {@link MarkerSender}, which writes the markers
 * to the transaction's partitions outside the shard's queue and then runs {@link #completeTransaction}
 * as an operation, writing CompleteCommit/CompleteAbort. Until then requests for the id get
 * CONCURRENT_TRANSACTIONS.
 *
 * <p><b>Timers</b> (the runtime's): an Ongoing transaction older than its timeout is aborted with a
 * bumped epoch (its producer is fenced); an idle id unused for {@code transactional.id.expiration.ms}
 * is deleted (tombstone).
 *
 * <p>Not thread-safe: the runtime runs one operation at a time.
 */
public final class TransactionCoordinatorShard implements CoordinatorShard<TransactionRecord> {
    private static final Logger log = LoggerFactory.getLogger(TransactionCoordinatorShard.class);

    /** Coordinator settings. */
    public record Settings(int maxTransactionTimeoutMs, long transactionalIdExpirationMs) {
    }

    /** Markers to write for a transaction that is prepared: one per partition, carrying this epoch. */
    public record MarkerJob(TopicPartition coordinatorPartition, String transactionalId, long producerId,
                            short producerEpoch, int coordinatorEpoch, boolean commit, Set<TopicPartition> partitions) {
    }

    /** Writes a prepared transaction's markers, then completes it with {@link #completeTransaction}. */
    @FunctionalInterface
    public interface MarkerSender {
        void send(MarkerJob job);
    }

    /** InitProducerId's answer. */
    public record InitResult(Errors error, long producerId, short producerEpoch) {
        static InitResult error(Errors e) {
            return new InitResult(e, -1, (short) -1);
        }
    }

    /** EndTxn's answer; the producer id and epoch are the ones to continue with (transactions V2). */
    public record EndResult(Errors error, long producerId, short producerEpoch) {
        static EndResult error(Errors e) {
            return new EndResult(e, -1, (short) -1);
        }
    }

    private final TopicPartition tp;
    private final CoordinatorTimer<TransactionRecord> timer;
    private final Time time;
    private final Settings settings;
    private final LongSupplier producerIds;
    private final MarkerSender markers;
    private final int coordinatorEpoch;
    private final Map<String, TransactionMetadata> txns = new HashMap<>();
    /** Ids whose markers are being written (not durable: a reload sends them again). */
    private final Set<String> markersInFlight = new HashSet<>();

    public TransactionCoordinatorShard(TopicPartition tp, CoordinatorTimer<TransactionRecord> timer, Time time,
                                       Settings settings, LongSupplier producerIds, MarkerSender markers,
                                       int coordinatorEpoch) {
        this.tp = tp;
        this.timer = timer;
        this.time = time;
        this.settings = settings;
        this.producerIds = producerIds;
        this.markers = markers;
        this.coordinatorEpoch = coordinatorEpoch;
    }

    // ------------------------------------------------------------------------------ replay

    @Override
    public void replay(long offset, long producerId, short producerEpoch, TransactionRecord record) {
        String id = record.transactionalId();
        TransactionMetadata m = record.metadata();
        if (m == null) {
            txns.remove(id);
            timer.cancel(timeoutKey(id));
            timer.cancel(expiryKey(id));
            return;
        }
        txns.put(id, m);
        if (m.state() == TransactionState.ONGOING) {
            long startMs = m.txnStartTimestampMs();
            timer.scheduleAt(timeoutKey(id), startMs + m.txnTimeoutMs(),
                () -> abortTimedOut(id, m.producerId(), m.producerEpoch(), startMs));
        } else {
            timer.cancel(timeoutKey(id));
        }
        if (m.state().isIdle()) {
            long lastUpdateMs = m.txnLastUpdateTimestampMs();
            timer.scheduleAt(expiryKey(id), lastUpdateMs + settings.transactionalIdExpirationMs(),
                () -> expire(id, lastUpdateMs));
        } else {
            timer.cancel(expiryKey(id));
        }
    }

    @Override
    public void onLoaded() {
        // a coordinator that stopped between Prepare* and Complete* finishes what it had prepared
        for (TransactionMetadata m : txns.values()) {
            if (m.state() == TransactionState.PREPARE_COMMIT || m.state() == TransactionState.PREPARE_ABORT) {
                sendMarkers(m);
            }
        }
    }

    private static String timeoutKey(String id) {
        return "txn-timeout/" + id;
    }

    private static String expiryKey(String id) {
        return "txn-expiry/" + id;
    }

    private static List<TransactionRecord> record(TransactionMetadata m) {
        return List.of(new TransactionRecord(m.transactionalId(), m));
    }

    private void sendMarkers(TransactionMetadata m) {
        if (!markersInFlight.add(m.transactionalId())) {
            return;
        }
        markers.send(new MarkerJob(tp, m.transactionalId(), m.producerId(), m.producerEpoch(), coordinatorEpoch,
            m.state() == TransactionState.PREPARE_COMMIT, m.partitions()));
    }

    /** After the record is committed, its markers go out; a failed append leaves the state as it was. */
    private <T> CoordinatorResult<T, TransactionRecord> prepared(TransactionMetadata m, T response, T onFailure) {
        return CoordinatorResult.of(record(m), response, (resp, failure) -> {
            if (failure != null) {
                return onFailure;
            }
            sendMarkers(m);
            return resp;
        });
    }

    /** The id's metadata with a fenced producer aborted: epoch bumped (unless exhausted), PrepareAbort. */
    private static TransactionMetadata fenceAndAbort(TransactionMetadata m, long nowMs) {
        TransactionMetadata.Builder b = m.toBuilder().transitionTo(TransactionState.PREPARE_EPOCH_FENCE);
        if (!TransactionMetadata.isEpochExhausted(m.producerEpoch())) {
            b.bumpEpoch();
        }
        return b.transitionTo(TransactionState.PREPARE_ABORT).lastUpdate(nowMs).build();
    }

    // ------------------------------------------------------------------------------ InitProducerId

    /**
     * InitProducerId with a transactional id (the timeout is already validated): a new id gets a producer
     * id at epoch 0; an idle id gets its epoch bumped (a new producer id when the epoch is exhausted),
     * fencing older producers; an open transaction is aborted first with a bumped epoch, answered with
     * CONCURRENT_TRANSACTIONS so the producer retries once the abort completed.
     *
     * @param expectedProducerId the producer's current id (v3+, recovering from an abortable error), or -1
     */
    public CoordinatorResult<InitResult, TransactionRecord> initProducerId(String id, int timeoutMs,
                                                                           long expectedProducerId,
                                                                           short expectedEpoch) {
        long now = time.milliseconds();
        TransactionMetadata m = txns.get(id);
        if (m == null) {
            long pid = producerIds.getAsLong();
            TransactionMetadata created = new TransactionMetadata(id, pid, -1, -1, (short) 0, (short) -1, timeoutMs,
                TransactionState.EMPTY, Set.of(), -1, now, (byte) 0);
            return CoordinatorResult.of(record(created), new InitResult(Errors.NONE, pid, (short) 0),
                (resp, failure) -> failure != null ? InitResult.error(Errors.COORDINATOR_NOT_AVAILABLE) : resp);
        }
        if (expectedProducerId != -1) {
            boolean current = expectedProducerId == m.producerId() && expectedEpoch == m.producerEpoch();
            boolean retry = m.state().isIdle() && ((expectedProducerId == m.producerId()
                && expectedEpoch == m.lastProducerEpoch()) || expectedProducerId == m.previousProducerId());
            if (retry) {
                // the bump this producer asked for already happened: give it the result again
                return CoordinatorResult.response(new InitResult(Errors.NONE, m.producerId(), m.producerEpoch()));
            }
            if (!current) {
                return CoordinatorResult.response(InitResult.error(Errors.PRODUCER_FENCED));
            }
        }
        if (m.state().isPreparing() || m.state() == TransactionState.DEAD) {
            return CoordinatorResult.response(InitResult.error(Errors.CONCURRENT_TRANSACTIONS));
        }
        if (m.state() == TransactionState.ONGOING) {
            TransactionMetadata aborting = fenceAndAbort(m, now);
            log.info("transactional id {}: a new producer fences epoch {}; aborting its open transaction", id,
                m.producerEpoch());
            return prepared(aborting, InitResult.error(Errors.CONCURRENT_TRANSACTIONS),
                InitResult.error(Errors.COORDINATOR_NOT_AVAILABLE));
        }
        TransactionMetadata.Builder b = m.toBuilder().transitionTo(TransactionState.EMPTY).partitions(Set.of())
            .txnStartTimestampMs(-1).txnTimeoutMs(timeoutMs).lastUpdate(now).clientTransactionVersion((byte) 0);
        if (TransactionMetadata.isEpochExhausted(m.producerEpoch())) {
            b.newProducerId(producerIds.getAsLong());
        } else {
            b.bumpEpoch();
        }
        if (expectedProducerId == -1) {
            // a new producer instance: the epoch it fenced must not pass for a retry of its own bump (a zombie
            // recovering with InitProducerId(pid, oldEpoch) would otherwise share the new epoch)
            b.forgetPredecessor();
        }
        TransactionMetadata next = b.build();
        return CoordinatorResult.of(record(next), new InitResult(Errors.NONE, next.producerId(), next.producerEpoch()),
            (resp, failure) -> failure != null ? InitResult.error(Errors.COORDINATOR_NOT_AVAILABLE) : resp);
    }

    // ------------------------------------------------------------------------------ AddPartitionsToTxn

    /** The error every partition gets when the request's producer does not own the id's transaction. */
    private Errors checkProducer(TransactionMetadata m, long producerId, short producerEpoch) {
        if (m == null) {
            return Errors.INVALID_PRODUCER_ID_MAPPING;
        }
        if (m.state().isPreparing() && m.nextProducerId() != -1 && producerId == m.nextProducerId()) {
            return Errors.CONCURRENT_TRANSACTIONS; // already on the id an exhausting V2 end gave it
        }
        if (m.producerId() != producerId) {
            return Errors.INVALID_PRODUCER_ID_MAPPING;
        }
        if (m.producerEpoch() != producerEpoch) {
            return Errors.PRODUCER_FENCED;
        }
        if (m.state().isPreparing()) {
            return Errors.CONCURRENT_TRANSACTIONS;
        }
        if (m.state() == TransactionState.DEAD) {
            return Errors.INVALID_PRODUCER_ID_MAPPING;
        }
        return Errors.NONE;
    }

    /**
     * Adds partitions to the producer's transaction (starting one if none is open), or with
     * {@code verifyOnly} only checks they are in it (TRANSACTION_ABORTABLE for those that are not).
     * Partitions that do not exist are filtered out by the caller.
     *
     * @param transactionVersion 2 when the add comes from a transactions-V2 producer (implicitly, from
     *                           Produce v12 or TxnOffsetCommit v5), else 1
     */
    public CoordinatorResult<Map<TopicPartition, Errors>, TransactionRecord> addPartitions(
        String id, long producerId, short producerEpoch, Set<TopicPartition> partitions, boolean verifyOnly,
        byte transactionVersion) {
        return addPartitions(id, producerId, producerEpoch, partitions, verifyOnly, transactionVersion, null);
    }

    /**
     * {@link #addPartitions}, running {@code decided} with the verdict on this shard's queue: during the
     * operation when nothing is written, else once the record is committed (or failed). A partition leader
     * appends the producer's batch from there, so no marker of the transaction (which needs a later
     * operation of this queue) can come between the check and the append — Kafka's verification guard,
     * by ordering.
     */
    public CoordinatorResult<Map<TopicPartition, Errors>, TransactionRecord> addPartitions(
        String id, long producerId, short producerEpoch, Set<TopicPartition> partitions, boolean verifyOnly,
        byte transactionVersion, Consumer<Map<TopicPartition, Errors>> decided) {
        CoordinatorResult<Map<TopicPartition, Errors>, TransactionRecord> result =
            decideAddPartitions(id, producerId, producerEpoch, partitions, verifyOnly, transactionVersion);
        if (decided == null) {
            return result;
        }
        if (result.records().isEmpty()) {
            decided.accept(result.response());
            return result;
        }
        return CoordinatorResult.of(result.records(), result.response(), (resp, failure) -> {
            Map<TopicPartition, Errors> out = failure != null ? allWith(partitions, Errors.COORDINATOR_NOT_AVAILABLE)
                : resp;
            decided.accept(out);
            return out;
        });
    }

    private CoordinatorResult<Map<TopicPartition, Errors>, TransactionRecord> decideAddPartitions(
        String id, long producerId, short producerEpoch, Set<TopicPartition> partitions, boolean verifyOnly,
        byte transactionVersion) {
        TransactionMetadata m = txns.get(id);
        Errors e = checkProducer(m, producerId, producerEpoch);
        if (e != Errors.NONE) {
            return CoordinatorResult.response(allWith(partitions, e));
        }
        if (verifyOnly) {
            Map<TopicPartition, Errors> out = new LinkedHashMap<>();
            for (TopicPartition p : partitions) {
                out.put(p, m.state() == TransactionState.ONGOING && m.partitions().contains(p) ? Errors.NONE
                    : Errors.TRANSACTION_ABORTABLE);
            }
            return CoordinatorResult.response(out);
        }
        if (m.state() == TransactionState.ONGOING && m.partitions().containsAll(partitions)) {
            return CoordinatorResult.response(allWith(partitions, Errors.NONE));
        }
        long now = time.milliseconds();
        TransactionMetadata.Builder b = m.toBuilder().transitionTo(TransactionState.ONGOING).lastUpdate(now);
        Set<TopicPartition> all = new TreeSet<>(TransactionMetadata.PARTITION_ORDER);
        if (m.state() == TransactionState.ONGOING) {
            all.addAll(m.partitions());
        } else {
            b.txnStartTimestampMs(now).clientTransactionVersion(transactionVersion);
        }
        all.addAll(partitions);
        TransactionMetadata next = b.partitions(all).build();
        return CoordinatorResult.of(record(next), allWith(partitions, Errors.NONE),
            (resp, failure) -> failure != null ? allWith(partitions, Errors.COORDINATOR_NOT_AVAILABLE) : resp);
    }

    private static Map<TopicPartition, Errors> allWith(Set<TopicPartition> partitions, Errors e) {
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        partitions.forEach(p -> out.put(p, e));
        return out;
    }

    // ------------------------------------------------------------------------------ EndTxn

    /**
     * Commits or aborts the producer's transaction: writes PrepareCommit/PrepareAbort, answers once it is
     * committed, and sends the markers. With transactions V2 ({@code v2}) the epoch is bumped at every end
     * (a new producer id when exhausted) and the answer carries what the producer continues with; a retry
     * of an end that already happened is answered, not fenced.
     */
    public CoordinatorResult<EndResult, TransactionRecord> endTransaction(String id, long producerId,
                                                                          short producerEpoch, boolean commit,
                                                                          boolean v2) {
        TransactionMetadata m = txns.get(id);
        if (m == null) {
            return CoordinatorResult.response(EndResult.error(Errors.INVALID_PRODUCER_ID_MAPPING));
        }
        TransactionState completed = commit ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT;
        TransactionState preparing = commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT;
        if (v2) {
            // a retry of the end that bumped the epoch (or, when that end exhausted the epoch, moved the producer
            // to a new id at epoch 0): the producer did not get the answer
            boolean retry = (producerId == m.producerId() && producerEpoch == m.lastProducerEpoch()
                && m.producerEpoch() != producerEpoch)
                || (producerId == m.previousProducerId() && producerId != -1 && m.producerEpoch() == 0
                && TransactionMetadata.isEpochExhausted((short) (producerEpoch + 1)));
            if (retry && m.state() == completed) {
                return CoordinatorResult.response(new EndResult(Errors.NONE, m.producerId(), m.producerEpoch()));
            }
            if (retry && m.state() == preparing) {
                return CoordinatorResult.response(EndResult.error(Errors.CONCURRENT_TRANSACTIONS));
            }
        }
        if (producerId != m.producerId()) {
            return CoordinatorResult.response(EndResult.error(Errors.INVALID_PRODUCER_ID_MAPPING));
        }
        if (producerEpoch != m.producerEpoch()) {
            return CoordinatorResult.response(EndResult.error(Errors.PRODUCER_FENCED));
        }
        switch (m.state()) {
            case ONGOING:
                return prepareEnd(m, preparing, v2);
            case PREPARE_COMMIT:
            case PREPARE_ABORT:
                return CoordinatorResult.response(EndResult.error(m.state() == preparing
                    ? Errors.CONCURRENT_TRANSACTIONS : Errors.INVALID_TXN_STATE));
            case COMPLETE_COMMIT:
            case COMPLETE_ABORT:
            case EMPTY:
                if (!v2 && m.state() == completed) {
                    // V1 retry: the end already happened at this epoch
                    return CoordinatorResult.response(new EndResult(Errors.NONE, m.producerId(), m.producerEpoch()));
                }
                if (v2 && !commit) {
                    // a V2 producer may abort a transaction that never got a partition
                    return prepareEnd(m, TransactionState.PREPARE_ABORT, true);
                }
                return CoordinatorResult.response(EndResult.error(Errors.INVALID_TXN_STATE));
            default:
                return CoordinatorResult.response(EndResult.error(Errors.INVALID_TXN_STATE));
        }
    }

    private CoordinatorResult<EndResult, TransactionRecord> prepareEnd(TransactionMetadata m, TransactionState target,
                                                                     boolean v2) {
        TransactionMetadata.Builder b = m.toBuilder().transitionTo(target).lastUpdate(time.milliseconds());
        if (v2) {
            b.bumpEpoch();
            if (TransactionMetadata.isEpochExhausted((short) (m.producerEpoch() + 1))) {
                b.nextProducerId(producerIds.getAsLong());
            }
        }
        if (!m.state().isOngoing()) {
            b.partitions(Set.of());
        }
        TransactionMetadata next = b.build();
        EndResult ok = next.nextProducerId() != -1 ? new EndResult(Errors.NONE, next.nextProducerId(), (short) 0)
            : new EndResult(Errors.NONE, next.producerId(), next.producerEpoch());
        return prepared(next, ok, EndResult.error(Errors.COORDINATOR_NOT_AVAILABLE));
    }

    // ------------------------------------------------------------------------------ markers written

    /**
     * The markers of a prepared transaction are written: CompleteCommit/CompleteAbort (with the next
     * producer id if a V2 end exhausted the epoch). Ignored if the id moved on meanwhile.
     */
    public CoordinatorResult<Void, TransactionRecord> completeTransaction(String id, long producerId,
                                                                          short producerEpoch, boolean commit) {
        markersInFlight.remove(id);
        TransactionMetadata m = txns.get(id);
        TransactionState preparing = commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT;
        if (m == null || m.producerId() != producerId || m.producerEpoch() != producerEpoch || m.state() != preparing) {
            return CoordinatorResult.response(null);
        }
        TransactionMetadata.Builder b = m.toBuilder()
            .transitionTo(commit ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT)
            .partitions(Set.of()).lastUpdate(time.milliseconds());
        if (m.nextProducerId() != -1) {
            b.newProducerId(m.nextProducerId());
        }
        return CoordinatorResult.of(record(b.build()), null, (resp, failure) -> {
            if (failure != null) {
                // still prepared: send again, so the transaction completes when the log accepts writes
                log.warn("cannot store the completion of {}'s transaction: {}", id, failure.getMessage());
                sendMarkers(m);
            }
            return null;
        });
    }

    // ------------------------------------------------------------------------------ timers

    private CoordinatorResult<Void, TransactionRecord> abortTimedOut(String id, long producerId, short epoch,
                                                                     long startMs) {
        TransactionMetadata m = txns.get(id);
        if (m == null || m.state() != TransactionState.ONGOING || m.producerId() != producerId
            || m.producerEpoch() != epoch || m.txnStartTimestampMs() != startMs) {
            return CoordinatorResult.response(null);
        }
        log.info("transactional id {}: transaction of producer {} epoch {} timed out after {} ms; aborting it", id,
            producerId, epoch, m.txnTimeoutMs());
        return prepared(fenceAndAbort(m, time.milliseconds()), null, null);
    }

    private CoordinatorResult<Void, TransactionRecord> expire(String id, long lastUpdateMs) {
        TransactionMetadata m = txns.get(id);
        if (m == null || !m.state().isIdle() || m.txnLastUpdateTimestampMs() != lastUpdateMs) {
            return CoordinatorResult.response(null);
        }
        m.toBuilder().transitionTo(TransactionState.DEAD); // asserts the transition is allowed
        log.info("transactional id {} expired after {} ms unused", id, settings.transactionalIdExpirationMs());
        return CoordinatorResult.of(List.of(new TransactionRecord(id, null)), null);
    }

    // ------------------------------------------------------------------------------ reads

    /** The id's metadata, or null. */
    public TransactionMetadata describe(String id) {
        return txns.get(id);
    }

    /**
     * Ids matching every filter: states (empty: any), producer ids (empty: any), and running longer than
     * {@code minDurationMs} (negative: any; only open transactions have a duration).
     */
    public List<TransactionMetadata> list(Set<TransactionState> states, Set<Long> producerIds, long minDurationMs) {
        long now = time.milliseconds();
        List<TransactionMetadata> out = new ArrayList<>();
        for (TransactionMetadata m : txns.values()) {
            if (!states.isEmpty() && !states.contains(m.state())) {
                continue;
            }
            if (!producerIds.isEmpty() && !producerIds.contains(m.producerId())) {
                continue;
            }
            if (minDurationMs >= 0 && (m.txnStartTimestampMs() < 0 || m.state().isIdle()
                || now - m.txnStartTimestampMs() <= minDurationMs)) {
                continue;
            }
            out.add(m);
        }
        return out;
    }

    /** The number of ids this shard knows (tests). */
    int size() {
        return txns.size();
    }
}
