package io.weir.producer.internals;

import io.weir.consumer.ConsumerGroupMetadata;
import io.weir.consumer.OffsetAndMetadata;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.producer.ApplicationRecoverableException;
import io.weir.producer.InvalidConfigurationException;
import io.weir.producer.ProducerFatalException;
import io.weir.producer.ProducerFencedException;
import io.weir.producer.TransactionAbortableException;
import io.weir.protocol.ApiException;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.DisconnectException;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.RequestBuilder;
import io.weir.protocol.client.TimeoutException;
import io.weir.protocol.message.AddOffsetsToTxnRequest;
import io.weir.protocol.message.AddOffsetsToTxnResponse;
import io.weir.protocol.message.AddPartitionsToTxnRequest;
import io.weir.protocol.message.AddPartitionsToTxnResponse;
import io.weir.protocol.message.EndTxnRequest;
import io.weir.protocol.message.EndTxnResponse;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.FindCoordinatorResponse;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import io.weir.protocol.message.TxnOffsetCommitRequest;
import io.weir.protocol.message.TxnOffsetCommitResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Owns a transactional producer's lifecycle: its producer id and epoch from the transaction
 * coordinator, the {@link State} of the current transaction, the partitions and group offsets in it,
 * and the protocol that begins and ends it.
 *
 * <p>Two protocol generations, chosen once at {@code initTransactions()} from the finalized feature
 * {@code transaction.version} in the broker's ApiVersions answer:
 * <ul>
 *   <li><b>V2</b> (level 2, KIP-890): a transactional Produce v12 adds its partition implicitly,
 *       TxnOffsetCommit v5 adds the group implicitly, and EndTxn v5 bumps the epoch at every end and
 *       answers the id and epoch to continue with, which this class installs (sequences restart at 0).</li>
 *   <li><b>V1</b>: AddPartitionsToTxn (sent by the sender thread, {@link #maybeSendAddPartitions}) must
 *       register a partition before any of its batches is drained ({@link #isSendable}); Produce is capped
 *       at v11 and TxnOffsetCommit at v4, after an AddOffsetsToTxn. An abort after a failed batch bumps the
 *       epoch with InitProducerId (KIP-360), since the failed batch may have left a sequence gap.</li>
 * </ul>
 *
 * <p>Errors, as Kafka's (KIP-1050): retriable ones (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE,
 * COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS, disconnects...) are retried here until the
 * call's deadline, then surface as {@link TimeoutException} (the call may be repeated; it resumes);
 * abortable ones move to {@link State#ABORTABLE_ERROR} and surface as
 * {@link TransactionAbortableException}; fatal ones move to {@link State#FATAL_ERROR} and surface
 * from every later call as a {@link ProducerFatalException} that says what the application can do:
 * {@link ApplicationRecoverableException} (fenced: {@link ProducerFencedException}; the coordinator does not
 * map the id to this producer outside a transaction) means a new producer with the same id works,
 * {@link InvalidConfigurationException} (authorization, transaction timeout, unsupported version) means it
 * would not. INVALID_PRODUCER_ID_MAPPING inside a transaction (the coordinator expired the idle id, see
 * {@code transactional.id.expiration.ms}) is abortable, as Kafka's KIP-360 made it: the abort skips EndTxn,
 * which the coordinator could not accept, and gets a new producer id with InitProducerId.
 *
 * <p>Threads: the blocking operations run on the caller's thread, one at a time ({@code operationLock});
 * the sender thread calls {@link #isSendable}, {@link #maybeSendAddPartitions} and
 * {@link #onBatchFailed}; responses complete on the network client's thread. All mutable state is
 * guarded by this object's monitor, which is never held while blocking or sending.
 */
public final class TransactionManager {
    private static final Logger log = LoggerFactory.getLogger(TransactionManager.class);
    private static final String TRANSACTION_VERSION_FEATURE = "transaction.version";
    private static final long CONCURRENT_RETRY_MS = 20;

    /** The lifecycle of a transactional producer; {@link #canFollow} lists every allowed transition. */
    public enum State {
        UNINITIALIZED, INITIALIZING, READY, IN_TRANSACTION, COMMITTING_TRANSACTION, ABORTING_TRANSACTION,
        ABORTABLE_ERROR, FATAL_ERROR;

        /** Whether this state may follow {@code previous}: the allowed previous states, in one place. */
        public boolean canFollow(State previous) {
            return switch (this) {
                case UNINITIALIZED -> false; // only the initial state
                // an abort may end with an epoch bump (V1, KIP-360)
                case INITIALIZING -> previous == UNINITIALIZED || previous == ABORTING_TRANSACTION;
                case READY -> previous == INITIALIZING || previous == COMMITTING_TRANSACTION
                    || previous == ABORTING_TRANSACTION;
                case IN_TRANSACTION -> previous == READY;
                case COMMITTING_TRANSACTION -> previous == IN_TRANSACTION;
                case ABORTING_TRANSACTION -> previous == IN_TRANSACTION || previous == ABORTABLE_ERROR;
                case ABORTABLE_ERROR -> previous == IN_TRANSACTION || previous == COMMITTING_TRANSACTION
                    || previous == ABORTABLE_ERROR;
                case FATAL_ERROR -> true; // anything may turn out fatal
            };
        }
    }

    /** What the sender thread does for this manager: install a producer identity, fail queued batches. */
    public interface SenderHooks {
        /** Installs (pid, epoch) in the idempotence state on the sender thread; completes once done. */
        CompletableFuture<Void> installProducerId(long producerId, short epoch);

        /** Fails every queued (not in flight) batch with {@code error}; completes with whether one had a sequence. */
        CompletableFuture<Boolean> failQueuedBatches(RuntimeException error);

        /** Flushes: completes once every batch that exists now is done, or returns false after {@code timeoutMs}. */
        boolean flush(long timeoutMs) throws InterruptedException;

        void wakeup();
    }

    private record Answer(ApiMessage response, Errors error) {
    }

    private final String transactionalId;
    private final int transactionTimeoutMs;
    private final NetworkClient client;
    private final Time time;
    private final long retryBackoffMs;
    private final ReentrantLock operationLock = new ReentrantLock();
    private volatile SenderHooks sender;

    // guarded by this
    private State state = State.UNINITIALIZED;
    private RuntimeException lastError;
    private boolean v2;
    private long producerId = -1;
    private short epoch = -1;
    private Node txnCoordinator;
    private CompletableFuture<Node> txnCoordinatorLookup;
    private final Map<String, Node> groupCoordinators = new HashMap<>();
    private final Set<TopicPartition> partitionsInTransaction = new HashSet<>();
    private final Set<TopicPartition> pendingPartitions = new LinkedHashSet<>();
    private boolean addInFlight;
    private long nextAddAttemptMs;
    private boolean transactionStarted; // a send or an offset commit happened in this transaction
    private final Set<String> groupsAdded = new HashSet<>(); // V1: groups whose AddOffsetsToTxn succeeded
    private boolean epochBumpRequired; // V1: a batch failed, its sequence may be a gap
    // the coordinator answered INVALID_PRODUCER_ID_MAPPING in this transaction: the abort re-initializes instead
    // of sending an EndTxn the coordinator cannot accept
    private boolean producerIdMappingLost;

    public TransactionManager(String transactionalId, int transactionTimeoutMs, NetworkClient client, Time time,
                              long retryBackoffMs) {
        this.transactionalId = transactionalId;
        this.transactionTimeoutMs = transactionTimeoutMs;
        this.client = client;
        this.time = time;
        this.retryBackoffMs = Math.max(1, retryBackoffMs);
    }

    /** Connects this manager to the producer's sender (set once, before any operation). */
    public void attach(SenderHooks hooks) {
        this.sender = hooks;
    }

    public String transactionalId() {
        return transactionalId;
    }

    public synchronized State state() {
        return state;
    }

    /** Whether transactions V2 are in use (decided by {@code initTransactions()}). */
    public synchronized boolean isTransactionV2() {
        return v2;
    }

    public synchronized long producerId() {
        return producerId;
    }

    public synchronized short epoch() {
        return epoch;
    }

    // ------------------------------------------------------------------ state

    /** Moves to {@code target}, or throws IllegalStateException naming both states if the move is not allowed. */
    synchronized void transitionTo(State target) {
        if (!target.canFollow(state)) {
            throw new IllegalStateException("TransactionalId " + transactionalId + ": invalid transition from state "
                + state + " to state " + target);
        }
        log.debug("TransactionalId {}: {} -> {}", transactionalId, state, target);
        state = target;
    }

    /** Throws the error of a fatal or abortable state (for every call but abort), else returns. */
    private synchronized void throwIfFailed(String operation) {
        if (state == State.FATAL_ERROR) {
            throw lastError;
        }
        if (state == State.ABORTABLE_ERROR) {
            throw new TransactionAbortableException(errorOf(lastError), "Cannot " + operation + ": the transaction "
                + "hit an error and must be aborted (" + lastError.getMessage() + ")", lastError);
        }
    }

    private static Errors errorOf(RuntimeException e) {
        if (e instanceof TransactionAbortableException a) {
            return a.error();
        }
        if (e instanceof ApiException a) {
            return a.error();
        }
        return null;
    }

    private synchronized RuntimeException fatal(RuntimeException e) {
        if (state != State.FATAL_ERROR) {
            log.error("TransactionalId {}: fatal error in state {}: {}", transactionalId, state, e.getMessage());
            state = State.FATAL_ERROR;
            lastError = e;
        }
        return lastError;
    }

    private synchronized RuntimeException abortable(RuntimeException e) {
        if (state == State.FATAL_ERROR) {
            return lastError;
        }
        if (State.ABORTABLE_ERROR.canFollow(state)) {
            if (state != State.ABORTABLE_ERROR) {
                log.warn("TransactionalId {}: the transaction must be aborted: {}", transactionalId, e.getMessage());
                lastError = e;
            }
            state = State.ABORTABLE_ERROR;
            return e;
        }
        // an abortable error where no transaction is open (initializing, aborting) cannot be aborted away
        return fatal(new ProducerFatalException(errorOf(e), e.getMessage(), e));
    }

    /** Classifies a broker error on a transactional call, moves to the error state and returns the exception. */
    private RuntimeException fail(Errors error, String what) {
        String message = "TransactionalId " + transactionalId + ": " + what + " failed: " + error + " ("
            + error.message() + ")";
        return switch (error) {
            case INVALID_PRODUCER_ID_MAPPING -> producerIdMappingLost(error, message);
            case PRODUCER_FENCED, INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID, TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                 CLUSTER_AUTHORIZATION_FAILED, INVALID_TRANSACTION_TIMEOUT, UNSUPPORTED_VERSION,
                 UNSUPPORTED_FOR_MESSAGE_FORMAT, TRANSACTION_COORDINATOR_FENCED, TRANSACTIONAL_ID_NOT_FOUND ->
                fatal(fatalKind(error, message, null));
            default -> abortable(new TransactionAbortableException(error, message, null));
        };
    }

    /** The fatal exception for a broker error: which kind tells the application whether a new producer helps. */
    private static ProducerFatalException fatalKind(Errors error, String message, Throwable cause) {
        return switch (error) {
            case PRODUCER_FENCED, INVALID_PRODUCER_EPOCH -> new ProducerFencedException(error, message
                + "; another producer with the same transactional.id took over, close this one");
            case INVALID_PRODUCER_ID_MAPPING, UNKNOWN_PRODUCER_ID -> new ApplicationRecoverableException(error,
                message + "; the coordinator does not know this producer: close it and create a new one", cause);
            case TRANSACTIONAL_ID_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED, INVALID_TRANSACTION_TIMEOUT,
                 UNSUPPORTED_VERSION, UNSUPPORTED_FOR_MESSAGE_FORMAT -> new InvalidConfigurationException(error,
                message + "; a new producer with this configuration would fail the same way", cause);
            default -> new ProducerFatalException(error, message, cause);
        };
    }

    /**
     * The coordinator does not map the transactional id to this producer: it expired the idle id
     * ({@code transactional.id.expiration.ms}) or lost it. Inside a transaction this is abortable: nothing of the
     * transaction can have been written under a mapping the coordinator does not have, and the abort gets a new
     * producer id from InitProducerId. Anywhere else the producer cannot go on.
     */
    private synchronized RuntimeException producerIdMappingLost(Errors error, String message) {
        TransactionAbortableException e = new TransactionAbortableException(error, message + "; abort the "
            + "transaction: the abort gets a new producer id", null);
        if (state == State.ABORTING_TRANSACTION) {
            producerIdMappingLost = true; // the abort under way re-initializes
            return e;
        }
        if (state == State.IN_TRANSACTION || state == State.COMMITTING_TRANSACTION || state == State.ABORTABLE_ERROR) {
            producerIdMappingLost = true;
            return abortable(e);
        }
        return fatal(fatalKind(error, message, null));
    }

    // ------------------------------------------------------------------ user operations

    /**
     * Gets the producer id and epoch for the transactional id from its coordinator, fencing every
     * older producer with the same id and completing (aborting) its open transaction, then picks V1 or V2.
     * May be called again after a timeout: it resumes.
     */
    public void initTransactions(long timeoutMs) {
        operationLock.lock();
        try {
            synchronized (this) {
                if (state == State.FATAL_ERROR) {
                    throw lastError;
                }
                if (state == State.UNINITIALIZED) {
                    transitionTo(State.INITIALIZING);
                } else if (state != State.INITIALIZING) {
                    throw new IllegalStateException("TransactionalId " + transactionalId + ": initTransactions() was "
                        + "already called (state " + state + ")");
                }
            }
            long deadlineMs = time.milliseconds() + timeoutMs;
            initProducerId(-1, (short) -1, deadlineMs);
            boolean useV2 = client.finalizedFeatures().getOrDefault(TRANSACTION_VERSION_FEATURE, (short) 0) >= 2;
            synchronized (this) {
                v2 = useV2;
                transitionTo(State.READY);
            }
            log.info("TransactionalId {}: producer id {} epoch {}, transactions {}", transactionalId, producerId(),
                epoch(), useV2 ? "V2" : "V1");
        } finally {
            operationLock.unlock();
        }
    }

    private void initProducerId(long currentId, short currentEpoch, long deadlineMs) {
        boolean bump = currentId >= 0;
        RequestBuilder b = builder(ApiKeys.INIT_PRODUCER_ID, bump ? 3 : 0, ApiKeys.INIT_PRODUCER_ID.highestVersion(),
            v -> new InitProducerIdRequest().setTransactionalId(transactionalId)
                .setTransactionTimeoutMs(transactionTimeoutMs).setProducerId(currentId).setProducerEpoch(currentEpoch));
        Answer a = callTransactionCoordinator("InitProducerId", b,
            r -> Errors.forCode(((InitProducerIdResponse) r).errorCode()), deadlineMs);
        if (a.error() != Errors.NONE) {
            throw fail(a.error(), "InitProducerId");
        }
        InitProducerIdResponse r = (InitProducerIdResponse) a.response();
        install(r.producerId(), r.producerEpoch(), deadlineMs);
    }

    private void install(long newId, short newEpoch, long deadlineMs) {
        synchronized (this) {
            producerId = newId;
            epoch = newEpoch;
        }
        await(sender.installProducerId(newId, newEpoch), deadlineMs, "installing the producer id");
    }

    /** Opens a transaction: from here sends and offsets belong to it until commit or abort. */
    public synchronized void beginTransaction() {
        throwIfFailed("begin a transaction");
        if (state != State.READY) {
            throw new IllegalStateException("TransactionalId " + transactionalId + ": cannot begin a transaction in "
                + "state " + state + (state == State.UNINITIALIZED ? "; call initTransactions() first"
                : state == State.IN_TRANSACTION ? "; a transaction is already open" : ""));
        }
        transitionTo(State.IN_TRANSACTION);
        partitionsInTransaction.clear();
        pendingPartitions.clear();
        transactionStarted = false;
        groupsAdded.clear();
    }

    /** Throws unless a send may join the transaction now: checked by {@code send()} before it waits for metadata. */
    public synchronized void failIfNotReadyForSend() {
        throwIfFailed("send");
        if (state != State.IN_TRANSACTION) {
            throw new IllegalStateException("TransactionalId " + transactionalId + ": cannot send in state " + state
                + (state == State.UNINITIALIZED ? "; call initTransactions() and beginTransaction() first"
                : "; call beginTransaction() first"));
        }
    }

    /**
     * Called by {@code send()} before a record for {@code tp} is appended: checks a transaction is open and,
     * under V1, queues the partition for AddPartitionsToTxn if it is new to the transaction.
     */
    public synchronized void maybeAddPartition(TopicPartition tp) {
        failIfNotReadyForSend();
        transactionStarted = true;
        if (!v2 && !partitionsInTransaction.contains(tp) && pendingPartitions.add(tp)) {
            sender.wakeup();
        }
    }

    /**
     * Adds the consumer's offsets to the transaction: they become the group's committed offsets only if
     * the transaction commits. Fenced by the group's generation and member id (KIP-447).
     */
    public void sendOffsetsToTransaction(Map<TopicPartition, OffsetAndMetadata> offsets,
                                         ConsumerGroupMetadata group, long timeoutMs) {
        operationLock.lock();
        try {
            synchronized (this) {
                throwIfFailed("send offsets to the transaction");
                if (state != State.IN_TRANSACTION) {
                    throw new IllegalStateException("TransactionalId " + transactionalId + ": cannot send offsets in "
                        + "state " + state + "; call beginTransaction() first");
                }
                if (offsets.isEmpty()) {
                    return;
                }
                transactionStarted = true;
            }
            long deadlineMs = time.milliseconds() + timeoutMs;
            boolean useV2 = isTransactionV2();
            if (!useV2 && !addedOffsets(group.groupId())) {
                Answer a = callTransactionCoordinator("AddOffsetsToTxn",
                    builder(ApiKeys.ADD_OFFSETS_TO_TXN, 0, ApiKeys.ADD_OFFSETS_TO_TXN.highestVersion(),
                        v -> new AddOffsetsToTxnRequest().setTransactionalId(transactionalId).setProducerId(producerId())
                            .setProducerEpoch(epoch()).setGroupId(group.groupId())),
                    r -> Errors.forCode(((AddOffsetsToTxnResponse) r).errorCode()), deadlineMs);
                if (a.error() != Errors.NONE) {
                    throw fail(a.error(), "AddOffsetsToTxn for group " + group.groupId());
                }
                synchronized (this) {
                    groupsAdded.add(group.groupId());
                }
            }
            commitTransactionalOffsets(new LinkedHashMap<>(offsets), group, useV2, deadlineMs);
        } finally {
            operationLock.unlock();
        }
    }

    private synchronized boolean addedOffsets(String groupId) {
        return groupsAdded.contains(groupId);
    }

    private void commitTransactionalOffsets(Map<TopicPartition, OffsetAndMetadata> remaining,
                                            ConsumerGroupMetadata group, boolean useV2, long deadlineMs) {
        String what = "TxnOffsetCommit for group " + group.groupId();
        while (true) {
            Node node = groupCoordinator(group.groupId(), deadlineMs);
            Map<TopicPartition, OffsetAndMetadata> sending = new LinkedHashMap<>(remaining);
            RequestBuilder b = builder(ApiKeys.TXN_OFFSET_COMMIT, useV2 ? 5 : 0, useV2 ? 5 : 4,
                v -> txnOffsetCommit(sending, group));
            TxnOffsetCommitResponse resp;
            try {
                resp = (TxnOffsetCommitResponse) await(client.send(NodeSelector.fixed(node), b, deadlineMs),
                    deadlineMs, what);
            } catch (ApiException e) {
                if (!e.isRetriable()) {
                    throw e;
                }
                forgetGroupCoordinator(group.groupId());
                backoff(deadlineMs, what, e.toString());
                continue;
            }
            Errors retry = null;
            for (TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic t : resp.topics()) {
                for (TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition p : t.partitions()) {
                    Errors e = Errors.forCode(p.errorCode());
                    TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                    if (e == Errors.NONE) {
                        remaining.remove(tp);
                    } else if (e == Errors.NOT_COORDINATOR || e == Errors.COORDINATOR_NOT_AVAILABLE) {
                        forgetGroupCoordinator(group.groupId());
                        retry = e;
                    } else if (e.isRetriable() || e == Errors.CONCURRENT_TRANSACTIONS) {
                        retry = e;
                    } else {
                        throw fail(e, what + " (" + tp + ")");
                    }
                }
            }
            if (remaining.isEmpty()) {
                return;
            }
            backoff(deadlineMs, what, retry == null ? "partitions missing from the response" : retry.toString());
        }
    }

    private TxnOffsetCommitRequest txnOffsetCommit(Map<TopicPartition, OffsetAndMetadata> offsets,
                                                   ConsumerGroupMetadata group) {
        Map<String, TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic> topics = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
            TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic t = topics.computeIfAbsent(e.getKey().topic(),
                n -> new TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic().setName(n).setPartitions(new ArrayList<>()));
            t.partitions().add(new TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition()
                .setPartitionIndex(e.getKey().partition()).setCommittedOffset(e.getValue().offset())
                .setCommittedLeaderEpoch(e.getValue().leaderEpoch().orElse(-1))
                .setCommittedMetadata(e.getValue().metadata()));
        }
        return new TxnOffsetCommitRequest().setTransactionalId(transactionalId).setGroupId(group.groupId())
            .setProducerId(producerId()).setProducerEpoch(epoch()).setGenerationId(group.generationId())
            .setMemberId(group.memberId()).setGroupInstanceId(group.groupInstanceId().orElse(null))
            .setTopics(new ArrayList<>(topics.values()));
    }

    /**
     * Flushes the transaction's records, then commits it. Throws {@link TransactionAbortableException}
     * if any of its sends or offset commits failed (abort, then go on). May be called again after a
     * timeout: it resumes.
     */
    public void commitTransaction(long timeoutMs) {
        operationLock.lock();
        try {
            synchronized (this) {
                throwIfFailed("commit the transaction");
                if (state == State.IN_TRANSACTION) {
                    transitionTo(State.COMMITTING_TRANSACTION);
                } else if (state != State.COMMITTING_TRANSACTION) {
                    throw new IllegalStateException("TransactionalId " + transactionalId + ": cannot commit in state "
                        + state + "; no transaction is open (call beginTransaction() first)");
                }
            }
            long deadlineMs = time.milliseconds() + timeoutMs;
            flush(deadlineMs, "commit");
            throwIfFailed("commit the transaction");
            endTransaction(true, deadlineMs);
        } finally {
            operationLock.unlock();
        }
    }

    /**
     * Aborts the transaction: queued records fail, records in flight are awaited, and the coordinator
     * writes abort markers so read_committed consumers never see the transaction's records. Allowed
     * after an abortable error; not after a fatal one. May be called again after a timeout: it resumes.
     */
    public void abortTransaction(long timeoutMs) {
        operationLock.lock();
        try {
            synchronized (this) {
                if (state == State.FATAL_ERROR) {
                    throw lastError;
                }
                if (state == State.IN_TRANSACTION || state == State.ABORTABLE_ERROR) {
                    transitionTo(State.ABORTING_TRANSACTION);
                } else if (state != State.ABORTING_TRANSACTION) {
                    throw new IllegalStateException("TransactionalId " + transactionalId + ": cannot abort in state "
                        + state + "; no transaction is open");
                }
            }
            long deadlineMs = time.milliseconds() + timeoutMs;
            boolean hadSequence = await(sender.failQueuedBatches(new TransactionAbortableException(null,
                "The transaction was aborted before this record was sent", null)), deadlineMs, "failing queued records");
            if (hadSequence) {
                synchronized (this) {
                    epochBumpRequired = true;
                }
            }
            flush(deadlineMs, "abort");
            awaitNoAddInFlight(deadlineMs);
            endTransaction(false, deadlineMs);
        } finally {
            operationLock.unlock();
        }
    }

    private void flush(long deadlineMs, String what) {
        try {
            if (!sender.flush(Math.max(0, deadlineMs - time.milliseconds()))) {
                throw new TimeoutException("TransactionalId " + transactionalId + ": timed out before the "
                    + "transaction's records were sent (" + what + "); the call may be repeated");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TimeoutException("Interrupted while flushing the transaction's records", e);
        }
    }

    private void awaitNoAddInFlight(long deadlineMs) {
        synchronized (this) {
            while (addInFlight) {
                long remainingMs = deadlineMs - time.milliseconds();
                if (remainingMs <= 0) {
                    throw new TimeoutException("TransactionalId " + transactionalId + ": timed out waiting for "
                        + "AddPartitionsToTxn");
                }
                try {
                    wait(remainingMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TimeoutException("Interrupted while waiting for AddPartitionsToTxn", e);
                }
            }
        }
    }

    private void endTransaction(boolean commit, long deadlineMs) {
        boolean needed;
        boolean useV2;
        boolean reinitialize;
        synchronized (this) {
            useV2 = v2;
            needed = v2 ? transactionStarted : (!partitionsInTransaction.isEmpty() || !groupsAdded.isEmpty());
            reinitialize = !commit && producerIdMappingLost;
        }
        String what = commit ? "EndTxn (commit)" : "EndTxn (abort)";
        if (needed && !reinitialize) {
            long id = producerId();
            short ep = epoch();
            Answer a = callTransactionCoordinator(what, builder(ApiKeys.END_TXN, useV2 ? 5 : 0, useV2 ? 5 : 4,
                    v -> new EndTxnRequest().setTransactionalId(transactionalId).setProducerId(id).setProducerEpoch(ep)
                        .setCommitted(commit)),
                r -> Errors.forCode(((EndTxnResponse) r).errorCode()), deadlineMs);
            if (!commit && a.error() == Errors.INVALID_PRODUCER_ID_MAPPING) {
                // the coordinator has no transaction of this producer to abort: get a new mapping instead
                reinitialize = true;
            } else if (a.error() != Errors.NONE) {
                throw fail(a.error(), what);
            } else {
                EndTxnResponse r = (EndTxnResponse) a.response();
                if (useV2 && r.producerId() >= 0 && r.producerEpoch() >= 0) {
                    install(r.producerId(), r.producerEpoch(), deadlineMs);
                }
            }
        }
        boolean bump;
        synchronized (this) {
            bump = !commit && (reinitialize || (!useV2 && epochBumpRequired));
        }
        if (bump) {
            // a failed batch may have left a sequence gap, or the coordinator lost the mapping: start the next
            // transaction at a new epoch (a new producer id for a mapping the coordinator no longer has)
            transitionTo(State.INITIALIZING);
            initProducerId(producerId(), epoch(), deadlineMs);
        }
        synchronized (this) {
            partitionsInTransaction.clear();
            pendingPartitions.clear();
            transactionStarted = false;
            groupsAdded.clear();
            epochBumpRequired = false;
            producerIdMappingLost = false;
            lastError = null;
            transitionTo(State.READY);
        }
    }

    // ------------------------------------------------------------------ sender thread

    /** Whether batches of {@code tp} may be drained: always under V2, after AddPartitionsToTxn under V1. */
    public synchronized boolean isSendable(TopicPartition tp) {
        return v2 || partitionsInTransaction.contains(tp);
    }

    /**
     * Whether an abort is in progress: the sender then fails every queued batch and retries nothing, so
     * the abort's flush ends once the requests in flight are answered (a retried batch could wait for a
     * producer id that only the abort's end brings).
     */
    public synchronized boolean isAborting() {
        return state == State.ABORTING_TRANSACTION;
    }

    /** Whether the transaction must be aborted (the sender then fails batches that can never be sent). */
    public synchronized boolean hasError() {
        return state == State.ABORTABLE_ERROR || state == State.FATAL_ERROR;
    }

    /** The error to fail a batch with that cannot be sent because the transaction must be aborted. */
    public synchronized RuntimeException errorForUnsendableBatch() {
        return state == State.FATAL_ERROR ? lastError : new TransactionAbortableException(errorOf(lastError),
            "The transaction must be aborted: " + (lastError == null ? "" : lastError.getMessage()), lastError);
    }

    /** A batch of the transaction failed: fenced is fatal, anything else makes the transaction abortable. */
    public void onBatchFailed(TopicPartition tp, RuntimeException error) {
        if (error instanceof ProducerFatalException) {
            fatal(error);
            return;
        }
        synchronized (this) {
            epochBumpRequired = true;
            if (errorOf(error) == Errors.INVALID_PRODUCER_ID_MAPPING) {
                producerIdMappingLost = true; // the leader's coordinator check found no mapping (V2 Produce)
            }
            if (state == State.ABORTING_TRANSACTION || state == State.FATAL_ERROR) {
                return; // aborting anyway
            }
            if (state == State.IN_TRANSACTION || state == State.COMMITTING_TRANSACTION) {
                abortable(new TransactionAbortableException(errorOf(error), "A send to " + tp
                    + " in the transaction failed: " + error.getMessage(), error));
            }
        }
    }

    /** How long the sender may sleep before an AddPartitionsToTxn is due (Long.MAX_VALUE: none pending). */
    public synchronized long addPartitionsDelayMs(long nowMs) {
        if (v2 || addInFlight || pendingPartitions.isEmpty()) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, nextAddAttemptMs - nowMs);
    }

    /** Sends AddPartitionsToTxn for partitions new to the transaction (V1), one request at a time. */
    public void maybeSendAddPartitions(long nowMs) {
        List<TopicPartition> adding;
        Node node;
        long id;
        short ep;
        synchronized (this) {
            if (v2 || addInFlight || pendingPartitions.isEmpty() || nowMs < nextAddAttemptMs
                || (state != State.IN_TRANSACTION && state != State.COMMITTING_TRANSACTION)) {
                return;
            }
            if (txnCoordinator == null) {
                if (txnCoordinatorLookup == null || txnCoordinatorLookup.isDone()) {
                    txnCoordinatorLookup = findCoordinator((byte) 1, transactionalId,
                        nowMs + client.settings().requestTimeoutMs());
                    txnCoordinatorLookup.whenComplete((n, e) -> {
                        synchronized (this) {
                            if (n != null) {
                                txnCoordinator = n;
                            } else {
                                nextAddAttemptMs = time.milliseconds() + retryBackoffMs;
                            }
                        }
                        sender.wakeup();
                    });
                }
                return;
            }
            node = txnCoordinator;
            adding = new ArrayList<>(pendingPartitions);
            id = producerId;
            ep = epoch;
            addInFlight = true;
        }
        Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
        for (TopicPartition tp : adding) {
            byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
        }
        RequestBuilder b = builder(ApiKeys.ADD_PARTITIONS_TO_TXN, 0, 3, v -> {
            List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics = new ArrayList<>();
            byTopic.forEach((t, ps) -> topics.add(new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic().setName(t)
                .setPartitions(new ArrayList<>(ps))));
            return new AddPartitionsToTxnRequest().setV3AndBelowTransactionalId(transactionalId)
                .setV3AndBelowProducerId(id).setV3AndBelowProducerEpoch(ep).setV3AndBelowTopics(topics);
        });
        client.send(NodeSelector.fixed(node), b, nowMs + client.settings().requestTimeoutMs())
            .whenComplete((resp, err) -> handleAddPartitions((AddPartitionsToTxnResponse) resp, err));
    }

    private void handleAddPartitions(AddPartitionsToTxnResponse resp, Throwable err) {
        Errors fatalOrAbortable = Errors.NONE;
        String failedPartition = null;
        synchronized (this) {
            if (err != null) {
                log.debug("AddPartitionsToTxn failed: {}", err.toString());
                if (err instanceof DisconnectException || err instanceof TimeoutException) {
                    txnCoordinator = null;
                }
                nextAddAttemptMs = time.milliseconds() + retryBackoffMs;
            } else {
                boolean retry = false;
                boolean concurrent = false;
                for (var t : resp.resultsByTopicV3AndBelow()) {
                    for (var p : t.resultsByPartition()) {
                        Errors e = Errors.forCode(p.partitionErrorCode());
                        TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                        if (e == Errors.NONE) {
                            pendingPartitions.remove(tp);
                            partitionsInTransaction.add(tp);
                        } else if (e == Errors.NOT_COORDINATOR || e == Errors.COORDINATOR_NOT_AVAILABLE) {
                            txnCoordinator = null;
                            retry = true;
                        } else if (e.isRetriable() || e == Errors.CONCURRENT_TRANSACTIONS
                            || e == Errors.OPERATION_NOT_ATTEMPTED) {
                            retry = true;
                            concurrent |= e == Errors.CONCURRENT_TRANSACTIONS;
                        } else if (fatalOrAbortable == Errors.NONE) {
                            fatalOrAbortable = e;
                            failedPartition = tp.toString();
                        }
                    }
                }
                if (retry) {
                    // the previous transaction's markers are usually written within milliseconds (Kafka also
                    // retries this case sooner than retry.backoff.ms)
                    nextAddAttemptMs = time.milliseconds() + (concurrent ? Math.min(CONCURRENT_RETRY_MS,
                        retryBackoffMs) : retryBackoffMs);
                }
            }
            if (fatalOrAbortable != Errors.NONE) {
                // in the error state before the next request may go: the sender must not send the same add again
                fail(fatalOrAbortable, "AddPartitionsToTxn for " + failedPartition);
            }
            addInFlight = false;
            notifyAll();
        }
        sender.wakeup();
    }

    // ------------------------------------------------------------------ coordinator calls

    private static RequestBuilder builder(ApiKeys api, int oldest, int latest, IntFunction<ApiMessage> body) {
        return new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return api;
            }

            @Override
            public short oldestAllowedVersion() {
                return (short) Math.max(oldest, api.lowestVersion());
            }

            @Override
            public short latestAllowedVersion() {
                return (short) Math.min(latest, api.highestVersion());
            }

            @Override
            public ApiMessage build(short version) {
                return body.apply(version);
            }
        };
    }

    /**
     * Sends to the transaction coordinator until it answers something other than a retriable error or
     * the deadline passes (then TimeoutException); coordinator moves are followed.
     */
    private Answer callTransactionCoordinator(String what, RequestBuilder b, Function<ApiMessage, Errors> errorOf,
                                              long deadlineMs) {
        while (true) {
            Node node = transactionCoordinator(deadlineMs);
            ApiMessage resp;
            try {
                resp = await(client.send(NodeSelector.fixed(node), b, deadlineMs), deadlineMs, what);
            } catch (ApiException e) {
                if (!e.isRetriable()) {
                    throw e;
                }
                synchronized (this) {
                    txnCoordinator = null;
                }
                backoff(deadlineMs, what, e.toString());
                continue;
            }
            Errors error = errorOf.apply(resp);
            if (error == Errors.NOT_COORDINATOR || error == Errors.COORDINATOR_NOT_AVAILABLE) {
                synchronized (this) {
                    txnCoordinator = null;
                }
            }
            if (error.isRetriable() || error == Errors.CONCURRENT_TRANSACTIONS) {
                backoff(deadlineMs, what, error.toString(), error == Errors.CONCURRENT_TRANSACTIONS
                    ? Math.min(CONCURRENT_RETRY_MS, retryBackoffMs) : retryBackoffMs);
                continue;
            }
            return new Answer(resp, error);
        }
    }

    private void backoff(long deadlineMs, String what, String why) {
        backoff(deadlineMs, what, why, retryBackoffMs);
    }

    private void backoff(long deadlineMs, String what, String why, long backoffMs) {
        long remainingMs = deadlineMs - time.milliseconds();
        if (remainingMs <= 0) {
            throw new TimeoutException("TransactionalId " + transactionalId + ": " + what + " did not complete before "
                + "its deadline (max.block.ms); last error: " + why + "; the call may be repeated");
        }
        log.debug("{} retrying after {}", what, why);
        time.sleep(Math.min(backoffMs, remainingMs));
    }

    private Node transactionCoordinator(long deadlineMs) {
        synchronized (this) {
            if (txnCoordinator != null) {
                return txnCoordinator;
            }
        }
        Node n = lookupCoordinator((byte) 1, transactionalId, deadlineMs);
        synchronized (this) {
            txnCoordinator = n;
        }
        return n;
    }

    private Node groupCoordinator(String groupId, long deadlineMs) {
        synchronized (this) {
            Node n = groupCoordinators.get(groupId);
            if (n != null) {
                return n;
            }
        }
        Node n = lookupCoordinator((byte) 0, groupId, deadlineMs);
        synchronized (this) {
            groupCoordinators.put(groupId, n);
        }
        return n;
    }

    private synchronized void forgetGroupCoordinator(String groupId) {
        groupCoordinators.remove(groupId);
    }

    /** FindCoordinator, retried on retriable errors until the deadline. */
    private Node lookupCoordinator(byte keyType, String key, long deadlineMs) {
        String what = "FindCoordinator for " + (keyType == 1 ? "transactional id " : "group ") + key;
        while (true) {
            try {
                return await(findCoordinator(keyType, key, deadlineMs), deadlineMs, what);
            } catch (ApiException e) {
                if (!e.isRetriable()) {
                    throw keyType == 1 ? fatal(fatalKind(e.error(), what + " failed: " + e.getMessage(), e))
                        : fail(e.error(), what);
                }
                backoff(deadlineMs, what, e.toString());
            }
        }
    }

    private CompletableFuture<Node> findCoordinator(byte keyType, String key, long deadlineMs) {
        RequestBuilder b = builder(ApiKeys.FIND_COORDINATOR, 1, ApiKeys.FIND_COORDINATOR.highestVersion(), v -> {
            FindCoordinatorRequest r = new FindCoordinatorRequest().setKeyType(keyType);
            if (v >= 4) {
                r.setCoordinatorKeys(new ArrayList<>(List.of(key)));
            } else {
                r.setKey(key);
            }
            return r;
        });
        return client.send(NodeSelector.leastLoaded(), b, deadlineMs).thenApply(resp -> {
            FindCoordinatorResponse r = (FindCoordinatorResponse) resp;
            if (!r.coordinators().isEmpty()) {
                FindCoordinatorResponse.Coordinator c = r.coordinators().get(0);
                Errors err = Errors.forCode(c.errorCode());
                if (err != Errors.NONE) {
                    throw err.exception("FindCoordinator for " + key + ": " + err);
                }
                return new Node(c.nodeId(), c.host(), c.port());
            }
            Errors err = Errors.forCode(r.errorCode());
            if (err != Errors.NONE) {
                throw err.exception("FindCoordinator for " + key + ": " + err);
            }
            return new Node(r.nodeId(), r.host(), r.port());
        });
    }

    /** Waits for {@code f} until the deadline; failures come back as the ApiException (or runtime exception) inside. */
    private <T> T await(CompletableFuture<T> f, long deadlineMs, String what) {
        try {
            return f.get(Math.max(0, deadlineMs - time.milliseconds()), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new TimeoutException("TransactionalId " + transactionalId + ": " + what + " did not complete "
                + "before its deadline (max.block.ms); the call may be repeated");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TimeoutException("Interrupted during " + what, e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(what + " failed", c);
        }
    }
}
