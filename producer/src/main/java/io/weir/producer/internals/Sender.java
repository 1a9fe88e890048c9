package io.weir.producer.internals;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.producer.ProducerFatalException;
import io.weir.producer.ProducerFencedException;
import io.weir.protocol.ApiException;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.Metadata;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.RequestBuilder;
import io.weir.protocol.client.TimeoutException;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The producer's sending loop: turns ready batches into Produce requests, one per leader, and settles
 * every batch from the responses — acknowledge, retry (oldest first, after {@code retry.backoff.ms}),
 * or fail — then runs the callbacks.
 *
 * <p>Threads: the loop runs on the {@link NetworkClient}'s I/O thread as its {@link NetworkClient.IoTask}
 * ({@link #start()} attaches it), so a producer has one I/O thread, as kafka-clients' producer has: a
 * request and its response cost no hand-off between threads. That thread is the only one that drains
 * the accumulator, touches the {@link IdempotenceManager} or completes batches; responses complete on it
 * and are settled at once, so every decision about a partition's order is made on one thread. Work from
 * other threads (the {@link TransactionManager}'s hooks) goes through {@link #events}. {@link #wakeup()},
 * the close methods and {@link #awaitTermination} are safe from any thread. Nothing here blocks: every
 * connection of the producer waits while the loop runs (and while user callbacks run).
 */
public final class Sender implements NetworkClient.IoTask {
    private static final Logger log = LoggerFactory.getLogger(Sender.class);
    private static final long MAX_POLL_MS = 1_000;
    /** How soon a loop iteration that threw is retried (the network client backs off further if the throw escapes). */
    private static final long FAILED_ITERATION_RETRY_MS = 10;

    /** Counters behind {@code Producer.metrics()}. */
    public static final class Metrics {
        public final LongAdder recordsSent = new LongAdder();
        public final LongAdder recordErrors = new LongAdder();
        public final LongAdder recordRetries = new LongAdder();
        public final LongAdder batchesSent = new LongAdder();
        public final LongAdder bytesSent = new LongAdder();
        public final LongAdder requests = new LongAdder();
        public final LongAdder producerIdResets = new LongAdder();
    }

    private final NetworkClient client;
    private final Metadata metadata;
    private final RecordAccumulator accumulator;
    private final IdempotenceManager idempotence; // null when idempotence is off
    private final TransactionManager transactions; // null without a transactional.id
    private final Time time;
    private final short acks;
    private final int requestTimeoutMs;
    private final int maxRequestBytes;
    private final int retries;
    private final int maxInFlightPerNode;
    private final long retryBackoffMs;
    private final int transactionTimeoutMs;
    private final Metrics metrics = new Metrics();

    /** Work handed over by other threads, run on the I/O thread at the start of the next iteration. */
    private final ConcurrentLinkedQueue<Runnable> events = new ConcurrentLinkedQueue<>();
    /** Counted down once the loop has ended (after a close) and failed what was left. */
    private final CountDownLatch terminated = new CountDownLatch(1);
    /** I/O thread only: inside {@link #runOnce}, where a response completed at once waits for the next iteration. */
    private boolean inIteration;
    /**
     * Set on the I/O thread when the loop has ended; read by other threads so that work they hand over after
     * that is not left waiting in {@link #events} forever (see {@link #handOver}).
     */
    private volatile boolean finished;
    private int failedIterations;
    private final Map<Integer, Integer> inFlightPerNode = new HashMap<>();
    private int inFlightRequests;
    private boolean initPidOutstanding;
    private long nextInitAttemptMs;
    private CompletableFuture<Cluster> metadataWait;
    private volatile boolean running = true;
    private volatile boolean forceClose;
    private volatile RuntimeException fatalError;

    public Sender(NetworkClient client, RecordAccumulator accumulator, IdempotenceManager idempotence, Time time,
                  short acks, int requestTimeoutMs, int maxRequestBytes, int retries, int maxInFlightPerNode,
                  long retryBackoffMs, int transactionTimeoutMs) {
        this(client, accumulator, idempotence, time, acks, requestTimeoutMs, maxRequestBytes, retries,
            maxInFlightPerNode, retryBackoffMs, transactionTimeoutMs, null);
    }

    /** @param transactions the transaction manager of a transactional producer (which then owns the producer id), or null */
    public Sender(NetworkClient client, RecordAccumulator accumulator, IdempotenceManager idempotence, Time time,
                  short acks, int requestTimeoutMs, int maxRequestBytes, int retries, int maxInFlightPerNode,
                  long retryBackoffMs, int transactionTimeoutMs, TransactionManager transactions) {
        if (transactions != null && idempotence == null) {
            throw new IllegalArgumentException("a transactional producer is idempotent");
        }
        this.transactions = transactions;
        this.client = client;
        this.metadata = client.metadata();
        this.accumulator = accumulator;
        this.idempotence = idempotence;
        this.time = time;
        this.acks = acks;
        this.requestTimeoutMs = requestTimeoutMs;
        this.maxRequestBytes = maxRequestBytes;
        this.retries = retries;
        this.maxInFlightPerNode = maxInFlightPerNode;
        this.retryBackoffMs = retryBackoffMs;
        this.transactionTimeoutMs = transactionTimeoutMs;
    }

    public Metrics metrics() {
        return metrics;
    }

    /** The error that stopped the producer, or null. */
    public RuntimeException fatalError() {
        return fatalError;
    }

    public long producerId() {
        return idempotence == null ? -1 : idempotence.producerId();
    }

    /**
     * Queues {@code event} for the I/O thread. If the loop has already ended, the event is taken back and
     * {@code done} fails instead: nothing would ever run it (the loop's last step runs what was queued before
     * it ended, so each event either runs there or fails here, never both, never neither).
     */
    private void handOver(Runnable event, CompletableFuture<?> done) {
        events.add(event);
        wakeup();
        if (finished && events.remove(event)) {
            done.completeExceptionally(new IllegalStateException("Producer is closed."));
        }
    }

    /** The hooks a {@link TransactionManager} uses: identity installs and batch failures run on this thread. */
    public TransactionManager.SenderHooks transactionHooks() {
        return new TransactionManager.SenderHooks() {
            @Override
            public CompletableFuture<Void> installProducerId(long producerId, short epoch) {
                CompletableFuture<Void> done = new CompletableFuture<>();
                handOver(() -> {
                    if (idempotence.producerId() >= 0 && idempotence.producerId() != producerId) {
                        metrics.producerIdResets.increment();
                    }
                    idempotence.setProducerId(producerId, epoch);
                    done.complete(null);
                }, done);
                return done;
            }

            @Override
            public CompletableFuture<Boolean> failQueuedBatches(RuntimeException error) {
                CompletableFuture<Boolean> done = new CompletableFuture<>();
                handOver(() -> done.complete(failQueued(error)), done);
                return done;
            }

            @Override
            public boolean flush(long timeoutMs) throws InterruptedException {
                if (client.inIoThread()) {
                    throw flushFromCallback();
                }
                accumulator.beginFlush();
                wakeup();
                return accumulator.awaitFlushCompletion(timeoutMs, time);
            }

            @Override
            public void wakeup() {
                Sender.this.wakeup();
            }
        };
    }

    /** Fails every queued batch of a transaction being aborted; true if one had a sequence (a gap now). */
    private boolean failQueued(RuntimeException error) {
        boolean hadSequence = false;
        for (ProducerBatch b : accumulator.drainAll()) {
            if (idempotence.isCurrentIdentity(b)) {
                hadSequence = true;
                idempotence.onExpiredQueued(b);
            }
            completeBatch(b, -1, -1, error);
        }
        return hadSequence;
    }

    private static RuntimeException abortedBeforeSent() {
        return new io.weir.producer.TransactionAbortableException(null,
            "The transaction was aborted before this record was sent", null);
    }

    /**
     * The error for a flush on the I/O thread (from a callback): it would wait for batches only that thread
     * can complete. kafka-clients refuses it the same way.
     */
    public static IllegalStateException flushFromCallback() {
        return new IllegalStateException("flush() cannot be called from a producer callback (the producer's I/O"
            + " thread): it would wait for records that only this thread can complete");
    }

    /** Starts the loop: from now on it runs on the network client's I/O thread. */
    public void start() {
        client.attach(this);
    }

    /** Makes the loop look at the accumulator now (a batch filled up or was created). */
    public void wakeup() {
        client.wakeup();
    }

    /** Sends what is buffered and in flight, then stops. */
    public void initiateClose() {
        running = false;
        wakeup();
    }

    /** Stops at once, failing whatever is left. */
    public void forceClose() {
        forceClose = true;
        running = false;
        wakeup();
    }

    /**
     * Waits up to {@code timeoutMs} until the loop has ended after a close (and failed what was left);
     * true if it has. Never call it on the I/O thread, whose loop it waits for.
     */
    public boolean awaitTermination(long timeoutMs) throws InterruptedException {
        return terminated.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** Whether the loop has ended after a close. */
    public boolean isTerminated() {
        return terminated.getCount() == 0;
    }

    /** One iteration of the loop, on the I/O thread; returns the most the network client may wait before the next. */
    @Override
    public long poll(long nowMs) {
        if (finished) {
            return MAX_POLL_MS;
        }
        // while closing gracefully, a producer id is only awaited if there is still something to send with it
        if (running || (!forceClose && (accumulator.hasUndrained() || inFlightRequests > 0
            || accumulator.appendsInProgress()))) {
            try {
                long waitMs = runOnce(nowMs);
                failedIterations = 0;
                // a response handler queued during this iteration (see onResponse) runs in the next one at once:
                // the network client ignores the wakeup() the iteration made for itself, and reads a 0 as selectNow
                return events.isEmpty() ? waitMs : 0;
            } catch (RuntimeException e) {
                // a bug here must not strand every pending record: log it (less often while it repeats) and go on;
                // a close with forceClose still settles every batch, since that path does not run this iteration
                failedIterations++;
                if (Integer.bitCount(failedIterations) == 1) {
                    log.error("Uncaught error in the producer's sending loop (failure {} in a row)", failedIterations, e);
                }
                return FAILED_ITERATION_RETRY_MS;
            } finally {
                inIteration = false;
            }
        }
        finish();
        return MAX_POLL_MS;
    }

    /**
     * The network client stopped and will not poll again: a close asked for inside an iteration (a callback
     * of an expired batch, say) ends its loop before the next poll, and a dead I/O thread polls no more.
     * Whatever is left fails now.
     */
    @Override
    public void onClientClosed(long nowMs) {
        if (finished) {
            return;
        }
        if (running) {
            // not closed by the producer: its I/O thread died, so nothing it buffers can be sent any more
            fatalError = new ProducerFatalException("The producer's I/O thread stopped", null);
        }
        forceClose = true;
        running = false;
        inIteration = false;
        finish();
    }

    /** Ends the loop: fails what is left, then releases {@link #awaitTermination}, even if a step throws. */
    private void finish() {
        finished = true;
        try {
            failRemaining();
        } finally {
            terminated.countDown();
        }
    }

    /** Each step and each batch on its own: one that throws must not leave the rest unsettled. */
    private void failRemaining() {
        Runnable ev;
        while ((ev = events.poll()) != null) { // a transaction manager's hooks waiting on this loop get their answer
            try {
                ev.run();
            } catch (RuntimeException e) {
                log.error("A queued task of the producer's sending loop failed while the producer closed", e);
            }
        }
        RuntimeException closed = forceClose
            ? new IllegalStateException("Producer is closed forcefully.")
            : new IllegalStateException("Producer is closed.");
        try {
            failAll(accumulator.drainAll(), closed);
        } finally {
            failAll(accumulator.incompleteBatches(), closed); // includes the queued ones if the drain threw
        }
    }

    private void failAll(Iterable<ProducerBatch> batches, RuntimeException error) {
        for (ProducerBatch b : batches) {
            try {
                completeBatch(b, -1, -1, error);
            } catch (RuntimeException e) {
                log.error("Failing {} while the producer closed threw", b, e);
            }
        }
    }

    private void runEvents() {
        Runnable ev;
        while ((ev = events.poll()) != null) {
            ev.run();
        }
    }

    /**
     * Runs {@code handler} for a response now if it completed on the I/O thread outside an iteration (the
     * usual case: from the network client's read), else at the start of the next iteration.
     */
    private void onResponse(Runnable handler) {
        if (!inIteration && client.inIoThread()) {
            try {
                handler.run();
            } catch (Throwable e) {
                // thrown inside whenComplete it would vanish into the dependent future: say so at least
                log.error("Uncaught error while handling a response in the producer's sending loop", e);
            }
        } else {
            events.add(handler);
        }
        // the loop looks again before waiting for I/O: the answer may have made batches sendable (a retry)
        wakeup();
    }

    private long runOnce(long nowMs) {
        inIteration = true;
        runEvents();
        if (fatalError != null) {
            for (ProducerBatch b : accumulator.drainAll()) {
                completeBatch(b, -1, -1, fatalError);
            }
        }
        if (transactions != null) {
            if (transactions.isAborting() && accumulator.hasUndrained()) {
                failQueued(abortedBeforeSent()); // includes batches re-queued for a retry since the abort began
            }
            if (transactions.hasError()) {
                // batches the transaction can never send (their partition was not added) fail now, so that
                // flush and abort do not wait for them
                RuntimeException error = null;
                for (ProducerBatch b : accumulator.takeQueued(tp -> !transactions.isSendable(tp))) {
                    error = error != null ? error : transactions.errorForUnsendableBatch();
                    completeBatch(b, -1, -1, error);
                }
            }
            transactions.maybeSendAddPartitions(nowMs);
        }
        if (idempotence != null && transactions == null && fatalError == null && idempotence.needsProducerId()
            && !initPidOutstanding && nowMs >= nextInitAttemptMs) {
            sendInitProducerId(nowMs);
        }
        for (ProducerBatch b : accumulator.expire(nowMs)) {
            if (idempotence != null) {
                idempotence.onExpiredQueued(b);
            }
            completeBatch(b, -1, -1, expiredError(b, nowMs, null));
        }

        Cluster cluster = metadata.cluster();
        RecordAccumulator.ReadyCheckResult ready = accumulator.ready(cluster, nowMs);
        long pollMs = Math.min(MAX_POLL_MS, ready.nextReadyCheckDelayMs());
        if (!ready.unknownLeaderTopics().isEmpty()) {
            metadata.addTopics(ready.unknownLeaderTopics());
            if (metadataWait == null || metadataWait.isDone()) {
                metadataWait = client.refreshMetadata(nowMs + requestTimeoutMs);
                metadataWait.whenComplete((c, e) -> wakeup());
            }
            pollMs = Math.min(pollMs, Math.max(1, retryBackoffMs));
        }
        Set<Integer> nodes = new HashSet<>(ready.readyNodes());
        nodes.removeIf(n -> inFlightPerNode.getOrDefault(n, 0) >= maxInFlightPerNode);
        // a leader whose connection just failed is skipped while it backs off: its batches stay queued (no
        // attempt spent) until it can be tried again or metadata names another leader
        for (Iterator<Integer> it = nodes.iterator(); it.hasNext(); ) {
            long delayMs = client.connectionDelayMs(it.next(), nowMs);
            if (delayMs > 0) {
                it.remove();
                pollMs = Math.min(pollMs, delayMs);
            }
        }
        if (!nodes.isEmpty() && (idempotence == null || idempotence.hasProducerId())) {
            Map<Integer, List<ProducerBatch>> drained = accumulator.drain(cluster, nodes, maxRequestBytes, nowMs,
                idempotence == null ? b -> true : transactions == null ? idempotence::canDrain
                    : b -> transactions.isSendable(b.tp) && idempotence.canDrain(b));
            for (Map.Entry<Integer, List<ProducerBatch>> e : drained.entrySet()) {
                sendProduce(e.getKey(), e.getValue(), nowMs);
            }
        }
        if (transactions != null) {
            pollMs = Math.min(pollMs, transactions.addPartitionsDelayMs(nowMs));
        }
        long nextExpiry = accumulator.nextExpiryMs();
        if (nextExpiry != Long.MAX_VALUE) {
            pollMs = Math.min(pollMs, Math.max(0, nextExpiry - nowMs));
        }
        if (!running) {
            pollMs = Math.min(pollMs, 10);
        }
        return Math.max(1, pollMs);
    }

    // ------------------------------------------------------------------ InitProducerId

    private void sendInitProducerId(long nowMs) {
        initPidOutstanding = true;
        RequestBuilder builder = new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return ApiKeys.INIT_PRODUCER_ID;
            }

            @Override
            public ApiMessage build(short version) {
                return new InitProducerIdRequest().setTransactionalId(null).setTransactionTimeoutMs(transactionTimeoutMs);
            }

            @Override
            public Errors retriableError(ApiMessage response) {
                Errors e = Errors.forCode(((InitProducerIdResponse) response).errorCode());
                return e.isRetriable() ? e : Errors.NONE;
            }
        };
        client.send(NodeSelector.leastLoaded(), builder, nowMs + requestTimeoutMs).whenComplete((resp, err) ->
            onResponse(() -> handleInitProducerId((InitProducerIdResponse) resp, err)));
    }

    private void handleInitProducerId(InitProducerIdResponse resp, Throwable err) {
        initPidOutstanding = false;
        long nowMs = time.milliseconds();
        Errors error = err != null ? Errors.forException(err) : Errors.forCode(resp.errorCode());
        if (error == Errors.NONE) {
            if (idempotence.producerId() >= 0) {
                metrics.producerIdResets.increment();
            }
            idempotence.setProducerId(resp.producerId(), resp.producerEpoch());
            return;
        }
        boolean retriable = err != null ? (err instanceof ApiException a && a.isRetriable()) : error.isRetriable();
        if (retriable) {
            log.debug("InitProducerId failed ({}), retrying", err != null ? err.toString() : error);
            nextInitAttemptMs = nowMs + retryBackoffMs;
            return;
        }
        String why = err != null ? err.toString() : error + ": " + error.message();
        fatalError = new ProducerFatalException("Cannot get a producer id for idempotence: " + why, err);
        log.error("{}", fatalError.getMessage());
    }

    // ------------------------------------------------------------------ Produce

    private void sendProduce(int nodeId, List<ProducerBatch> batches, long nowMs) {
        Map<String, ProduceRequest.TopicProduceData> byTopic = new LinkedHashMap<>();
        Map<TopicPartition, ProducerBatch> byPartition = new HashMap<>(batches.size() * 2);
        for (ProducerBatch b : batches) {
            if (idempotence != null) {
                idempotence.onDrain(b);
            }
            b.attempts++;
            b.requestSent();
            byPartition.put(b.tp, b);
            ProduceRequest.TopicProduceData td = byTopic.computeIfAbsent(b.tp.topic(),
                t -> new ProduceRequest.TopicProduceData().setName(t).setPartitionData(new ArrayList<>()));
            td.partitionData().add(new ProduceRequest.PartitionProduceData().setIndex(b.tp.partition())
                .setRecords(Records.wrap(b.records())));
            metrics.bytesSent.add(b.sizeInBytes());
        }
        ProduceRequest req = new ProduceRequest().setAcks(acks).setTimeoutMs(requestTimeoutMs)
            .setTransactionalId(transactions == null ? null : transactions.transactionalId())
            .setTopicData(new ArrayList<>(byTopic.values()));
        // transactions V1: a partition joins through AddPartitionsToTxn, and Produce v12 would mean "add implicitly"
        short latestVersion = transactions != null && !transactions.isTransactionV2() ? (short) 11
            : ApiKeys.PRODUCE.highestVersion();
        boolean expectsResponse = acks != 0;
        RequestBuilder builder = new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return ApiKeys.PRODUCE;
            }

            @Override
            public short oldestAllowedVersion() {
                return 3; // record batch v2
            }

            @Override
            public short latestAllowedVersion() {
                return latestVersion;
            }

            @Override
            public ApiMessage build(short version) {
                return req;
            }

            @Override
            public boolean retryOnDisconnect() {
                return false; // retries are ours: order and sequences depend on them
            }

            @Override
            public boolean waitForConnection() {
                // a refused connect fails this attempt now: the batch goes back to the accumulator and its
                // next attempt goes to whichever broker metadata names leader by then (issue 12)
                return false;
            }

            @Override
            public boolean expectsResponse() {
                return expectsResponse;
            }
        };
        inFlightPerNode.merge(nodeId, 1, Integer::sum);
        inFlightRequests++;
        metrics.requests.increment();
        metrics.batchesSent.add(batches.size());
        client.send(NodeSelector.node(nodeId), builder, nowMs + requestTimeoutMs).whenComplete((resp, err) ->
            onResponse(() -> handleProduceResponse(nodeId, byPartition, (ProduceResponse) resp, err)));
    }

    private void handleProduceResponse(int nodeId, Map<TopicPartition, ProducerBatch> batches, ProduceResponse resp,
                                       Throwable err) {
        inFlightPerNode.merge(nodeId, -1, Integer::sum);
        inFlightRequests--;
        for (ProducerBatch b : batches.values()) {
            b.requestReturned(); // before any completion below: the request no longer reads the buffers
        }
        long nowMs = time.milliseconds();
        if (err != null) {
            boolean retriable = err instanceof ApiException a && a.isRetriable();
            Errors error = Errors.forException(err);
            for (ProducerBatch b : batches.values()) {
                if (!b.isDone()) {
                    settleFailure(b, error, retriable, err.getMessage(), nowMs);
                }
            }
            return;
        }
        if (resp == null) { // acks=0: nothing comes back
            for (ProducerBatch b : batches.values()) {
                completeBatch(b, -1, -1, null);
            }
            return;
        }
        for (ProduceResponse.TopicProduceResponse tr : resp.responses()) {
            for (ProduceResponse.PartitionProduceResponse pr : tr.partitionResponses()) {
                ProducerBatch b = batches.remove(new TopicPartition(tr.name(), pr.index()));
                if (b == null) {
                    continue;
                }
                if (b.isDone()) {
                    continue; // completed already: proven written by a later acknowledgement
                }
                Errors error = Errors.forCode(pr.errorCode());
                if (error == Errors.NONE) {
                    if (idempotence != null) {
                        completeProvenWritten(b);
                        idempotence.onAcknowledged(b);
                    }
                    completeBatch(b, pr.baseOffset(), pr.logAppendTimeMs(), null);
                } else if (error == Errors.DUPLICATE_SEQUENCE_NUMBER) {
                    // written before: reported with the offsets the answer carries (-1 from a broker that no
                    // longer knows them; Weir's broker answers a duplicate it knows with NONE and its offset)
                    if (idempotence != null) {
                        completeProvenWritten(b);
                        idempotence.onAcknowledged(b);
                    }
                    completeBatch(b, pr.baseOffset(), pr.logAppendTimeMs(), null);
                } else {
                    settleFailure(b, error, error.isRetriable(), pr.errorMessage(), nowMs);
                }
            }
        }
        for (ProducerBatch b : batches.values()) {
            settleFailure(b, Errors.UNKNOWN_SERVER_ERROR, false, "the response did not mention " + b.tp, nowMs);
        }
    }

    /**
     * Before {@code acked} completes, completes the earlier batches of its partition and identity whose
     * outcome was still unknown (a request that failed on a dropped connection after the broker had
     * appended it, while a later batch went out on a new connection). The broker only appends in
     * sequence, so {@code acked}'s acceptance proves they were written; completing them first keeps
     * callbacks in send order and stops them from being sent again. Their offsets are unknown (-1), as
     * for Kafka's DUPLICATE_SEQUENCE_NUMBER.
     */
    private void completeProvenWritten(ProducerBatch acked) {
        if (!idempotence.isCurrentIdentity(acked)) {
            return;
        }
        List<ProducerBatch> older = new ArrayList<>(idempotence.takeOlderInFlight(acked));
        older.addAll(accumulator.takeWrittenQueued(acked.tp, acked.producerId, acked.producerEpoch,
            acked.baseSequence - 1));
        older.sort(java.util.Comparator.comparingInt(x -> x.baseSequence));
        for (ProducerBatch b : older) {
            if (!b.isDone()) {
                log.debug("{} is proven written by the acknowledgement of {}", b, acked);
                idempotence.onAcknowledged(b);
                completeBatch(b, -1, -1, null);
            }
        }
    }

    private void settleFailure(ProducerBatch b, Errors error, boolean retriable, String message, long nowMs) {
        String detail = error + (message == null || message.isEmpty() ? "" : " (" + message + ")");
        metadata.requestUpdateForError(error);
        if (idempotence != null) {
            switch (error) {
                case OUT_OF_ORDER_SEQUENCE_NUMBER -> retriable = idempotence.isOutOfOrderRetriable(b);
                case UNKNOWN_PRODUCER_ID -> {
                    idempotence.requestReset(b.tp + ": the broker has no state for producer " + b.producerId);
                    // re-sent with sequence 0 under the new id; a transactional producer gets its next id only
                    // from the coordinator, after the transaction is aborted (KIP-360), so there it fails the batch
                    retriable = transactions == null;
                }
                case INVALID_PRODUCER_EPOCH, PRODUCER_FENCED -> {
                    fatalError = new ProducerFencedException(error, "The producer was fenced: " + detail);
                    retriable = false;
                }
                default -> {
                }
            }
        }
        if (retriable && transactions != null && transactions.isAborting()) {
            retriable = false; // the transaction is being aborted: a retry could only wait for the next producer id
        }
        if (retriable && b.attempts <= retries && !accumulator.isExpired(b, nowMs) && !forceClose) {
            log.debug("Retrying {} after {}", b, detail);
            if (idempotence != null) {
                idempotence.onRetry(b);
            }
            metrics.recordRetries.add(b.recordCount());
            accumulator.reenqueue(b, nowMs);
            return;
        }
        RuntimeException ex;
        if (retriable && accumulator.isExpired(b, nowMs)) {
            ex = expiredError(b, nowMs, detail);
        } else if (fatalError != null && (error == Errors.INVALID_PRODUCER_EPOCH || error == Errors.PRODUCER_FENCED)) {
            ex = fatalError;
        } else {
            ex = error == Errors.NONE ? new IllegalStateException(detail) : error.exception(
                "Failed to send " + b.recordCount() + " record(s) to " + b.tp + ": " + detail);
        }
        if (idempotence != null) {
            idempotence.onFailed(b, detail);
        }
        completeBatch(b, -1, -1, ex);
    }

    private TimeoutException expiredError(ProducerBatch b, long nowMs, String lastError) {
        return new TimeoutException("Expiring " + b.recordCount() + " record(s) for " + b.tp + ": "
            + (nowMs - b.createdMs) + " ms has passed since batch creation (delivery.timeout.ms="
            + accumulator.deliveryTimeoutMs() + ")" + (lastError == null ? "" : "; last error: " + lastError));
    }

    private void completeBatch(ProducerBatch b, long baseOffset, long logAppendTimeMs, RuntimeException error) {
        if (error != null && transactions != null && !b.isDone()) {
            transactions.onBatchFailed(b.tp, error);
        }
        if (b.complete(baseOffset, logAppendTimeMs, error)) {
            if (error == null) {
                metrics.recordsSent.add(b.recordCount());
            } else {
                metrics.recordErrors.add(b.recordCount());
            }
        }
        accumulator.deallocate(b);
    }
}
