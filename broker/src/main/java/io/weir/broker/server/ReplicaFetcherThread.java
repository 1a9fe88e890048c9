package io.weir.broker.server;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.log.EpochEndOffset;
import io.weir.log.Log;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.RequestBuilder;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import io.weir.protocol.message.OffsetForLeaderEpochRequest;
import io.weir.protocol.message.OffsetForLeaderEpochResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Fetches the follower partitions led by one broker (Kafka's ReplicaFetcherThread), in a duty cycle
 * ({@link #doWork}): it fetches from each partition's log end with its broker id and broker epoch
 * ({@code ReplicaState}, Fetch v15+), appending what comes back as the leader wrote it.
 *
 * <p><b>Truncation.</b> Each fetch (v12+) names the epoch of the follower's last batch
 * ({@code LastFetchedEpoch}); where the follower's log diverges from the leader's, the leader answers a
 * {@code DivergingEpoch} (the largest epoch it has at or below that one, and where it ends) instead of
 * records, and the follower truncates by KIP-279's rule ({@link #truncation}) and fetches again: KIP-595's
 * truncation on fetch, with no separate round trip, so a partition that starts following fetches at once.
 * When the leader answers a fetch below v12 (it cannot check), a partition without a log, or one whose
 * epoch the leader cannot place (OFFSET_OUT_OF_RANGE above its log start), truncates the KIP-101/279 way
 * first: OffsetForLeaderEpoch for its latest epoch; truncate to the smaller of the leader's end offset for
 * that epoch and its own; when the leader answers an older epoch the follower does not have, truncate to
 * its own end of that epoch and ask again. A fetch offset below the leader's log start restarts the log
 * there; errors pause the partition for {@code replica.fetch.backoff.ms}.
 *
 * <p><b>Fetch sessions.</b> Fetches go out in a fetch session with the leader (KIP-227, {@link FollowerFetchSession}):
 * the first in full, later ones naming only partitions whose position changed and forgetting those not
 * fetched this round (truncating, backing off, or held by the replication throttle), so the leader sends
 * nothing for them. A session the leader lost or a failed fetch makes the next fetch full again, at once.
 * A partition the leader answered with an error is named again in its next fetch even if unchanged: the
 * leader's session may lack it (a topic id the leader could not resolve yet, as when the follower learnt of a
 * new topic first), and would otherwise never answer for it.
 *
 * <p><b>Fetch chains.</b> A fetch's answer is applied, and the next fetch sent, on the fetcher's own
 * client I/O thread as soon as the answer arrives, while this thread waits ({@link #fetch}): the
 * follower's side of an acks=all round trip then has no thread hand-off. This thread takes over for
 * truncation, backoff and idling.
 *
 * <p>Thread-safe: partitions are added and removed from other threads (a concurrent map of immutable
 * states, replaced by compare-and-set); only this thread, or while a fetch chain runs its client's I/O
 * thread (one of them at a time), touches the logs and the fetch session, and each log change rechecks
 * under the partition's role lock that the partition still follows at the epoch it was fetched for.
 * Neither thread is ever interrupted (an interrupt would close a log's file channel); this one waits on
 * a monitor.
 */
final class ReplicaFetcherThread extends Thread {
    private static final Logger log = LoggerFactory.getLogger(ReplicaFetcherThread.class);

    /**
     * One partition's fetch position; immutable, replaced as it moves. {@code truncating}: it asks
     * OffsetForLeaderEpoch before it fetches. {@code unchecked}: it fetches without that step, relying on the
     * leader's divergence check, which no fetch answered yet (a leader below Fetch v12 sends it back to
     * truncating).
     */
    private record FetchState(Partition partition, int leaderEpoch, long fetchOffset, boolean truncating,
                              boolean unchecked, long delayedUntilMs) {
        FetchState fetchingAt(long offset) {
            return new FetchState(partition, leaderEpoch, offset, false, false, 0);
        }

        FetchState delayed(long untilMs) {
            return new FetchState(partition, leaderEpoch, fetchOffset, truncating, unchecked, untilMs);
        }

        FetchState truncatingAgain() {
            return new FetchState(partition, leaderEpoch, fetchOffset, true, false, 0);
        }
    }

    /** The first Fetch version that carries {@code LastFetchedEpoch} and answers {@code DivergingEpoch}. */
    static final short TRUNCATION_ON_FETCH_VERSION = 12;

    private final int brokerId;
    private final Node leader;
    private final ReplicaManager replicaManager;
    private final ReplicaFetcherManager.Settings settings;
    private final Time time;
    private final NetworkClient client;
    private final java.util.function.LongSupplier brokerEpoch;
    private final ReplicaFetcherManager.Stats stats;
    /** The Fetch version the last answered fetch went out at (-1: none yet, assumed to support truncation on fetch). */
    private volatile short leaderFetchVersion = -1;
    /** This fetcher's fetch session with its leader (KIP-227); only this thread uses it. */
    private final FollowerFetchSession session = new FollowerFetchSession();
    private final Map<TopicPartition, FetchState> partitions = new ConcurrentHashMap<>();
    private final Object wakeup = new Object();
    /** Held while a fetch chain's callback, or this thread ending that chain, works on the fetch state. */
    private final ReentrantLock chainLock = new ReentrantLock();
    /** When the current chain's latest fetch was sent (System.nanoTime). */
    private volatile long chainSentNs;
    private volatile boolean running = true;

    /**
     * @param brokerEpoch this broker's registered epoch (-1 while not known), sent with every fetch
     * @param stats       the counters this fetcher adds to
     */
    ReplicaFetcherThread(String name, int brokerId, java.util.function.LongSupplier brokerEpoch, Node leader,
                         ReplicaManager replicaManager, ReplicaFetcherManager.Settings settings, Time time,
                         ReplicaFetcherManager.Stats stats) {
        super(name);
        setDaemon(true);
        this.brokerId = brokerId;
        this.brokerEpoch = brokerEpoch;
        this.stats = stats;
        this.leader = leader;
        this.replicaManager = replicaManager;
        this.settings = settings;
        this.time = time;
        NetworkClient.Settings defaults = NetworkClient.Settings.defaults(List.of(leader), name);
        this.client = new NetworkClient(new NetworkClient.Settings(List.of(leader), name, settings.requestTimeoutMs(),
            defaults.reconnectBackoffMs(), defaults.reconnectBackoffMaxMs(), defaults.retryBackoffMs(),
            defaults.retryBackoffMaxMs(), defaults.metadataMaxAgeMs(), defaults.connectionsMaxIdleMs(),
            defaults.connectionSetupTimeoutMs(), defaults.sendBufferBytes(), defaults.receiveBufferBytes(), 1,
            Math.max(settings.fetchResponseMaxBytes(), settings.fetchMaxBytes()) + 1024 * 1024,
            defaults.maxQueuedCalls()), time);
    }

    /**
     * Starts fetching {@code partition} at its current leader epoch, unless it already does: at once from its
     * log end when the leader can check its last epoch (Fetch v12+, or not known yet) and its log has one,
     * else truncating first through OffsetForLeaderEpoch.
     */
    void addPartition(Partition partition) {
        TopicPartition tp = partition.topicPartition();
        int epoch = partition.leaderEpoch();
        FetchState existing = partitions.get(tp);
        if (existing != null && existing.partition() == partition && existing.leaderEpoch() == epoch) {
            return;
        }
        short version = leaderFetchVersion;
        boolean onFetch = (version < 0 || version >= TRUNCATION_ON_FETCH_VERSION)
            && partition.log().latestLeaderEpoch() >= 0;
        partitions.put(tp, new FetchState(partition, epoch, partition.log().logEndOffset(), !onFetch, onFetch, 0));
        wake();
    }

    void removePartition(TopicPartition tp) {
        partitions.remove(tp);
    }

    boolean isIdle() {
        return partitions.isEmpty();
    }

    Set<TopicPartition> partitions() {
        return Set.copyOf(partitions.keySet());
    }

    void initiateShutdown() {
        running = false;
        wake();
    }

    /** Waits for the thread to end (it notices within 100 ms, or after a log write in progress), then closes its client. */
    void awaitShutdown() {
        try {
            join(settings.requestTimeoutMs() + 5_000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close(0);
    }

    private void wake() {
        synchronized (wakeup) {
            wakeup.notifyAll();
        }
    }

    @Override
    public void run() {
        try {
            while (running) {
                try {
                    if (doWork(time.milliseconds()) == 0) {
                        idle(nextDueMs(time.milliseconds()));
                    }
                } catch (RuntimeException e) {
                    log.warn("{}: fetching from broker {} failed; backing off", getName(), leader.id(), e);
                    delayAll(time.milliseconds() + settings.fetchBackoffMs());
                }
            }
        } finally {
            client.close(0);
        }
    }

    private long nextDueMs(long nowMs) {
        long wait = 100;
        for (FetchState s : partitions.values()) {
            wait = Math.min(wait, Math.max(1, s.delayedUntilMs() - nowMs));
        }
        return wait;
    }

    private void idle(long ms) {
        synchronized (wakeup) {
            if (!running) {
                return;
            }
            try {
                wakeup.wait(Math.max(1, ms));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
    }

    private void delayAll(long untilMs) {
        for (Map.Entry<TopicPartition, FetchState> e : partitions.entrySet()) {
            partitions.replace(e.getKey(), e.getValue(), e.getValue().delayed(untilMs));
        }
    }

    /**
     * One step: truncates the partitions that need it, else fetches the others (and keeps fetching, see
     * {@link #fetch}). Returns how many partitions it worked on (0: nothing was due; the caller idles).
     */
    int doWork(long nowMs) {
        Due due = due(nowMs);
        if (!due.truncating().isEmpty()) {
            truncate(due.truncating(), nowMs);
            return due.truncating().size();
        }
        if (!due.fetching().isEmpty()) {
            fetch(due.fetching(), nowMs);
            return due.fetching().size();
        }
        return 0;
    }

    /** The partitions due now: those to truncate first, and those to fetch (the throttle's held ones left out). */
    private record Due(List<FetchState> truncating, List<FetchState> fetching) {
    }

    private Due due(long nowMs) {
        List<FetchState> truncating = new ArrayList<>();
        List<FetchState> fetching = new ArrayList<>();
        for (FetchState s : partitions.values()) {
            if (s.delayedUntilMs() > nowMs) {
                continue;
            }
            (s.truncating() ? truncating : fetching).add(s);
        }
        if (!truncating.isEmpty()) {
            return new Due(truncating, List.of());
        }
        ReplicationThrottle throttle = replicaManager.replicationThrottle();
        long throttleDelayMs = fetching.isEmpty() ? 0 : throttle.delayMs(nowMs);
        if (throttleDelayMs > 0) {
            // the throttle's bucket is empty: its partitions wait until it refills, the others fetch
            List<FetchState> held = new ArrayList<>();
            fetching.removeIf(s -> throttle.isThrottled(s.partition().topicPartition()) && held.add(s));
            for (FetchState s : held) {
                partitions.replace(s.partition().topicPartition(), s, s.delayed(nowMs + throttleDelayMs));
            }
        }
        return new Due(List.of(), fetching);
    }

    /**
     * The response, waiting at most the request timeout (plus a margin) but returning null as soon as the
     * fetcher is stopping, so a stopped fetcher never waits out a request to a leader that went away.
     */
    private ApiMessage await(CompletableFuture<ApiMessage> response) throws Exception {
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.requestTimeoutMs() + 5_000L);
        while (running) {
            try {
                return response.get(100, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (System.nanoTime() > deadlineNs) {
                    throw e;
                }
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------ truncation

    private void truncate(List<FetchState> states, long nowMs) {
        Map<TopicPartition, FetchState> asked = new LinkedHashMap<>();
        Map<String, List<OffsetForLeaderEpochRequest.OffsetForLeaderPartition>> byTopic = new LinkedHashMap<>();
        for (FetchState s : states) {
            Partition p = s.partition();
            int latest = p.log().latestLeaderEpoch();
            if (latest < 0) {
                // no epoch known (an empty log): nothing can have diverged above the high watermark's data
                finishTruncation(s, p.highWatermark());
                continue;
            }
            asked.put(p.topicPartition(), s);
            byTopic.computeIfAbsent(p.topicPartition().topic(), t -> new ArrayList<>())
                .add(new OffsetForLeaderEpochRequest.OffsetForLeaderPartition().setPartition(p.topicPartition().partition())
                    .setCurrentLeaderEpoch(s.leaderEpoch()).setLeaderEpoch(latest));
        }
        if (asked.isEmpty()) {
            return;
        }
        List<OffsetForLeaderEpochRequest.OffsetForLeaderTopic> topics = new ArrayList<>();
        byTopic.forEach((t, ps) -> topics.add(new OffsetForLeaderEpochRequest.OffsetForLeaderTopic().setTopic(t)
            .setPartitions(ps)));
        OffsetForLeaderEpochRequest req = new OffsetForLeaderEpochRequest().setReplicaId(brokerId).setTopics(topics);
        stats.offsetForLeaderEpochRequests.incrementAndGet();
        OffsetForLeaderEpochResponse resp;
        try {
            resp = (OffsetForLeaderEpochResponse) await(client.send(leader, req, nowMs + settings.requestTimeoutMs()));
            if (resp == null) {
                return; // stopping
            }
        } catch (Exception e) {
            log.debug("{}: OffsetForLeaderEpoch to broker {} failed: {}", getName(), leader.id(), e.toString());
            delay(asked.values(), nowMs);
            return;
        }
        for (OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult t : resp.topics()) {
            for (OffsetForLeaderEpochResponse.EpochEndOffset r : t.partitions()) {
                TopicPartition tp = new TopicPartition(t.topic(), r.partition());
                FetchState s = asked.remove(tp);
                if (s == null || partitions.get(tp) != s) {
                    continue;
                }
                Errors error = Errors.forCode(r.errorCode());
                if (error != Errors.NONE) {
                    log.debug("{}: OffsetForLeaderEpoch of {} answered {}", getName(), tp, error);
                    delay(List.of(s), nowMs);
                    continue;
                }
                onEpochEndOffset(s, r.leaderEpoch(), r.endOffset());
            }
        }
        delay(asked.values(), nowMs); // not answered
    }

    /**
     * Where a follower truncates, and whether that ends its truncation (else it asks the leader again,
     * about its new latest epoch).
     */
    record Truncation(long offset, boolean complete) {
    }

    /**
     * KIP-279's rule, given the leader's answer for the follower's latest epoch: the largest epoch the
     * leader knows at or below it ({@code leaderEpoch}) and where that epoch ends in the leader's log.
     * If the follower has that epoch, it truncates to the smaller of the two ends of it (and its own log
     * end): done. If not, it truncates to the end of its largest epoch below it and asks again. A leader
     * that knows no such epoch leaves the follower at its high watermark; a follower with no epoch at or
     * below the leader's takes the leader's end offset.
     *
     * @param own the follower's {@code endOffsetForEpoch(leaderEpoch)}
     */
    static Truncation truncation(int leaderEpoch, long leaderEndOffset, EpochEndOffset own, long logEnd,
                                 long highWatermark) {
        if (leaderEpoch < 0 || leaderEndOffset < 0) {
            return new Truncation(Math.min(highWatermark, logEnd), true);
        }
        if (own.leaderEpoch() < 0 || own.endOffset() < 0) {
            return new Truncation(Math.min(leaderEndOffset, logEnd), true);
        }
        if (own.leaderEpoch() != leaderEpoch) {
            return new Truncation(Math.min(own.endOffset(), logEnd), false);
        }
        return new Truncation(Math.min(Math.min(own.endOffset(), leaderEndOffset), logEnd), true);
    }

    private void onEpochEndOffset(FetchState s, int leaderEpoch, long leaderEndOffset) {
        Partition p = s.partition();
        Log l = p.log();
        Truncation t = truncation(leaderEpoch, leaderEndOffset,
            leaderEpoch < 0 ? new EpochEndOffset(-1, -1) : l.endOffsetForEpoch(leaderEpoch), l.logEndOffset(),
            p.highWatermark());
        if (t.complete()) {
            finishTruncation(s, t.offset());
            return;
        }
        if (!replicaManager.truncateFollower(p, s.leaderEpoch(), t.offset())) {
            partitions.remove(p.topicPartition(), s);
            return;
        }
        if (l.latestLeaderEpoch() < 0) {
            finishTruncation(s, l.logEndOffset());
        } else {
            partitions.replace(p.topicPartition(), s, s.truncatingAgain());
        }
    }

    private void finishTruncation(FetchState s, long offset) {
        Partition p = s.partition();
        if (!replicaManager.truncateFollower(p, s.leaderEpoch(), offset)) {
            partitions.remove(p.topicPartition(), s);
            return;
        }
        partitions.replace(p.topicPartition(), s, s.fetchingAt(p.log().logEndOffset()));
    }

    private void delay(Iterable<FetchState> states, long nowMs) {
        for (FetchState s : states) {
            partitions.replace(s.partition().topicPartition(), s, s.delayed(nowMs + settings.fetchBackoffMs()));
        }
    }

    // ------------------------------------------------------------------------------------ fetching

    /**
     * Fetches {@code states} and keeps fetching while every answer leaves a plain fetch as the next step
     * (Kafka's fetcher thread polls its own connection; this client has an I/O thread of its own): each
     * answer is applied, and the next fetch sent, by the completion callback on the client's I/O thread,
     * so a round trip costs no hand-off between that thread and this one, which only waits. The chain
     * ends, and this thread takes over again, when the next step is something else (a truncation, an
     * error's backoff, nothing due) or the fetcher stops. The log appends on that I/O thread are what
     * Kafka's fetcher thread does between its polls; the client serves this fetcher only.
     *
     * <p>One owner at a time: a callback applies its answer only while its chain is live, under
     * {@link #chainLock}; this thread ends a chain (a lost answer, past the request timeout plus a margin)
     * under the same lock before it works on the partitions itself.
     */
    private void fetch(List<FetchState> states, long nowMs) {
        CompletableFuture<Void> chain = new CompletableFuture<>();
        chainLock.lock();
        try {
            sendFetch(states, nowMs, chain);
        } finally {
            chainLock.unlock();
        }
        awaitChain(chain);
    }

    /** Waits until {@code chain} ends, the fetcher stops, or its last fetch went unanswered too long (then ends it). */
    private void awaitChain(CompletableFuture<Void> chain) {
        while (running && !chain.isDone()) {
            try {
                chain.get(100, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (System.nanoTime() - chainSentNs > TimeUnit.MILLISECONDS.toNanos(settings.requestTimeoutMs() + 5_000L)) {
                    chainLock.lock();
                    try {
                        if (chain.complete(null)) {
                            log.warn("{}: no answer to a fetch from broker {}; fetching again", getName(), leader.id());
                            session.onFailed(false);
                            delayAll(time.milliseconds() + settings.fetchBackoffMs());
                        }
                    } finally {
                        chainLock.unlock();
                    }
                }
            } catch (ExecutionException e) {
                return; // never: a chain only completes normally
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
    }

    /** Sends one fetch of {@code states} in {@code chain}, its answer applied by {@link #onFetchAnswered}. Holds {@link #chainLock}. */
    private void sendFetch(List<FetchState> states, long nowMs, CompletableFuture<Void> chain) {
        Map<UUID, String> names = new HashMap<>();
        Map<TopicPartition, FollowerFetchSession.Position> wanted = new LinkedHashMap<>();
        for (FetchState s : states) {
            Partition p = s.partition();
            TopicPartition tp = p.topicPartition();
            names.put(p.topicId(), tp.topic());
            wanted.put(tp, new FollowerFetchSession.Position(p.topicId(), s.leaderEpoch(), s.fetchOffset(),
                Math.max(-1, p.log().latestLeaderEpoch()), p.log().logStartOffset(), settings.fetchMaxBytes()));
        }
        // partitions left out of this round (truncating, backing off, throttled) are forgotten by the session,
        // so the leader sends nothing for them until they are named again
        FollowerFetchSession.Request plan = session.build(wanted);
        Map<String, FetchRequest.FetchTopic> topics = new LinkedHashMap<>();
        plan.toSend().forEach((tp, pos) -> topics.computeIfAbsent(tp.topic(), t -> new FetchRequest.FetchTopic()
            .setTopic(t).setTopicId(pos.topicId()).setPartitions(new ArrayList<>())).partitions()
            .add(new FetchRequest.FetchPartition().setPartition(tp.partition())
                .setCurrentLeaderEpoch(pos.currentLeaderEpoch()).setFetchOffset(pos.fetchOffset())
                .setLastFetchedEpoch(pos.lastFetchedEpoch()).setLogStartOffset(pos.logStartOffset())
                .setPartitionMaxBytes(pos.maxBytes())));
        Map<String, FetchRequest.ForgottenTopic> forgotten = new LinkedHashMap<>();
        plan.forgotten().forEach((tp, pos) -> {
            forgotten.computeIfAbsent(tp.topic(), t -> new FetchRequest.ForgottenTopic().setTopic(t)
                .setTopicId(pos.topicId()).setPartitions(new ArrayList<>())).partitions().add(tp.partition());
        });
        FetchRequest req = new FetchRequest().setReplicaId(brokerId)
            .setReplicaState(new FetchRequest.ReplicaState().setReplicaId(brokerId).setReplicaEpoch(brokerEpoch.getAsLong()))
            .setMaxWaitMs(settings.fetchWaitMaxMs()).setMinBytes(settings.fetchMinBytes())
            .setMaxBytes(settings.fetchResponseMaxBytes()).setIsolationLevel((byte) 0).setSessionId(plan.sessionId())
            .setSessionEpoch(plan.epoch()).setTopics(new ArrayList<>(topics.values()))
            .setForgottenTopicsData(new ArrayList<>(forgotten.values()));
        (plan.full() ? stats.fullFetches : stats.incrementalFetches).incrementAndGet();
        stats.fetchListener.accept(req);
        VersionCapture sent = new VersionCapture(req);
        chainSentNs = System.nanoTime();
        client.send(NodeSelector.fixed(leader), sent, nowMs + settings.requestTimeoutMs())
            .whenComplete((resp, failure) -> onFetchAnswered(states, plan, names, sent, (FetchResponse) resp, failure,
                chain));
    }

    /**
     * Applies a fetch's answer (on the client's I/O thread, or inline when the send failed at once), then
     * sends the next fetch in the same chain when that is the next step, else ends the chain.
     */
    private void onFetchAnswered(List<FetchState> states, FollowerFetchSession.Request plan, Map<UUID, String> names,
                                 VersionCapture sent, FetchResponse resp, Throwable failure,
                                 CompletableFuture<Void> chain) {
        chainLock.lock();
        try {
            if (chain.isDone()) {
                return; // the fetcher thread gave up on this chain
            }
            boolean more;
            try {
                more = applyFetch(states, plan, names, sent, resp, failure);
                if (more && running) {
                    long nowMs = time.milliseconds();
                    Due due = due(nowMs);
                    if (due.truncating().isEmpty() && !due.fetching().isEmpty()) {
                        stats.chainedFetches.incrementAndGet();
                        sendFetch(due.fetching(), nowMs, chain);
                        return;
                    }
                }
            } catch (RuntimeException e) {
                log.warn("{}: fetching from broker {} failed; backing off", getName(), leader.id(), e);
                delayAll(time.milliseconds() + settings.fetchBackoffMs());
            }
            chain.complete(null);
        } finally {
            chainLock.unlock();
        }
    }

    /**
     * Applies one fetch's answer (or its failure) to the session and the partitions; returns whether the
     * next step may be another fetch at once (false after a failure, which backs off).
     */
    private boolean applyFetch(List<FetchState> states, FollowerFetchSession.Request plan, Map<UUID, String> names,
                               VersionCapture sent, FetchResponse resp, Throwable failure) {
        if (failure != null || resp == null) {
            log.debug("{}: fetch from broker {} failed: {}", getName(), leader.id(),
                failure == null ? "no answer" : failure.toString());
            session.onFailed(false); // the leader may or may not have applied it: start over with a full fetch
            delay(states, time.milliseconds());
            return false;
        }
        long afterMs = time.milliseconds();
        short version = sent.version;
        if (version >= 0) {
            leaderFetchVersion = version;
        }
        boolean checked = version < 0 || version >= TRUNCATION_ON_FETCH_VERSION;
        Errors topError = Errors.forCode(resp.errorCode());
        if (topError == Errors.FETCH_SESSION_ID_NOT_FOUND || topError == Errors.INVALID_FETCH_SESSION_EPOCH) {
            // the leader lost or moved past the session (a restart, an eviction): a full fetch opens a new one, at once
            log.debug("{}: broker {} answered {}; the next fetch is full", getName(), leader.id(), topError);
            session.onFailed(topError == Errors.FETCH_SESSION_ID_NOT_FOUND);
            stats.sessionResets.incrementAndGet();
            return true;
        }
        if (topError != Errors.NONE) {
            log.debug("{}: fetch from broker {} answered {}", getName(), leader.id(), topError);
            session.onFailed(false);
            delay(states, afterMs);
            return false;
        }
        session.onAnswered(plan, resp.sessionId());
        for (FetchResponse.FetchableTopicResponse t : resp.responses()) {
            String topic = t.topic() != null && !t.topic().isEmpty() ? t.topic() : names.get(t.topicId());
            if (topic == null) {
                continue;
            }
            for (FetchResponse.PartitionData pd : t.partitions()) {
                TopicPartition tp = new TopicPartition(topic, pd.partitionIndex());
                if (pd.records() != null && replicaManager.replicationThrottle().isThrottled(tp)) {
                    replicaManager.replicationThrottle().record(pd.records().sizeInBytes(), afterMs);
                }
                FetchState s = partitions.get(tp);
                if (s == null || s.truncating() || !states.contains(s)) {
                    continue; // removed, or restarted at another epoch, while the fetch was out
                }
                if (s.unchecked() && !checked) {
                    // the leader could not check this log for divergence: truncate the KIP-279 way first
                    partitions.replace(tp, s, s.truncatingAgain());
                    continue;
                }
                onPartitionData(s, pd, afterMs);
            }
        }
        return true;
    }

    private void onPartitionData(FetchState s, FetchResponse.PartitionData pd, long nowMs) {
        Partition p = s.partition();
        TopicPartition tp = p.topicPartition();
        Errors error = Errors.forCode(pd.errorCode());
        switch (error) {
            case NONE -> {
                FetchResponse.EpochEndOffset diverging = pd.divergingEpoch();
                if (diverging != null && (diverging.epoch() >= 0 || diverging.endOffset() >= 0)) {
                    onDivergingEpoch(s, diverging.epoch(), diverging.endOffset());
                    return;
                }
                MemoryRecords records = wholeBatches(pd.records());
                long end;
                try {
                    end = replicaManager.appendAsFollower(p, s.leaderEpoch(), records, pd.highWatermark(),
                        pd.logStartOffset());
                } catch (RuntimeException e) {
                    log.warn("{}: cannot append the batches fetched from broker {} at offset {}: {}", tp, leader.id(),
                        s.fetchOffset(), e.toString());
                    delay(List.of(s), nowMs);
                    return;
                }
                if (end < 0) {
                    partitions.remove(tp, s);
                } else {
                    partitions.replace(tp, s, s.fetchingAt(end));
                }
            }
            case OFFSET_OUT_OF_RANGE -> {
                long leaderStart = pd.logStartOffset();
                if (leaderStart > p.log().logEndOffset()) {
                    if (replicaManager.truncateFollowerFullyAndStartAt(p, s.leaderEpoch(), leaderStart)) {
                        partitions.replace(tp, s, s.fetchingAt(leaderStart));
                    } else {
                        partitions.remove(tp, s);
                    }
                } else {
                    // ahead of the leader's log end: find where the logs diverge again
                    partitions.replace(tp, s, s.truncatingAgain());
                }
            }
            default -> {
                log.debug("{}: fetch from broker {} answered {}", tp, leader.id(), error);
                // the leader's session may not hold it (a topic id it could not resolve yet): name it again
                session.onPartitionError(tp);
                delay(List.of(s), nowMs);
            }
        }
    }

    /**
     * The leader found this log diverging from its own (KIP-595): it truncates where KIP-279's rule says,
     * given the leader's epoch and end offset, and fetches from its new log end. When that did not settle
     * it (the follower lacks the leader's epoch), the next fetch names the follower's new last epoch and
     * the leader checks again.
     */
    private void onDivergingEpoch(FetchState s, int leaderEpoch, long leaderEndOffset) {
        Partition p = s.partition();
        Log l = p.log();
        Truncation t = truncation(leaderEpoch, leaderEndOffset,
            leaderEpoch < 0 ? new EpochEndOffset(-1, -1) : l.endOffsetForEpoch(leaderEpoch), l.logEndOffset(),
            p.highWatermark());
        log.info("{}: the leader (broker {}) answered diverging epoch {} ending at {}: truncating to {}",
            p.topicPartition(), leader.id(), leaderEpoch, leaderEndOffset, t.offset());
        if (!replicaManager.truncateFollower(p, s.leaderEpoch(), t.offset())) {
            partitions.remove(p.topicPartition(), s);
            return;
        }
        stats.truncationsOnFetch.incrementAndGet();
        partitions.replace(p.topicPartition(), s, s.fetchingAt(l.logEndOffset()));
    }

    /** Sends a fetch unchanged at the best version both sides support, remembering which (-1 until built). */
    private static final class VersionCapture implements RequestBuilder {
        private final FetchRequest request;
        volatile short version = -1;

        VersionCapture(FetchRequest request) {
            this.request = request;
        }

        @Override
        public ApiKeys api() {
            return ApiKeys.FETCH;
        }

        @Override
        public short oldestAllowedVersion() {
            return (short) Math.max(ApiKeys.FETCH.lowestVersion(), request.lowestVersion());
        }

        @Override
        public ApiMessage build(short v) {
            version = v;
            return request;
        }
    }

    /** The fetched bytes up to the last whole batch (a fetch may end inside one). */
    static MemoryRecords wholeBatches(Records records) {
        if (records == null || records.sizeInBytes() == 0) {
            return MemoryRecords.readableRecords(ByteBuffer.allocate(0));
        }
        ByteBuffer buf = records.buffer().duplicate();
        int start = buf.position();
        int pos = start;
        while (buf.limit() - pos >= RecordBatch.LOG_OVERHEAD) {
            int size = RecordBatch.LOG_OVERHEAD + buf.getInt(pos + RecordBatch.LENGTH_OFFSET);
            if (size <= RecordBatch.LOG_OVERHEAD || pos + size > buf.limit()) {
                break;
            }
            pos += size;
        }
        buf.limit(pos);
        return MemoryRecords.readableRecords(buf.slice());
    }
}
