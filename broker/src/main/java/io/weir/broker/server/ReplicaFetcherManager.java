package io.weir.broker.server;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.common.Time;
import io.weir.common.TopicPartition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The replica fetchers of this broker's follower partitions (Kafka's ReplicaFetcherManager): one
 * {@link ReplicaFetcherThread} per (leader broker endpoint, fetcher index), a partition going to index
 * {@code hash(partition) mod num.replica.fetchers}. When a partition's leader moves — to another
 * broker, or the same broker restarted on another port — the partition moves to that fetcher; a
 * fetcher left without partitions stops.
 *
 * <p>Thread-safe: changes are serialized on this object; they never wait for a fetcher's thread.
 */
public final class ReplicaFetcherManager {
    /** What a fetcher asks for, from the broker's {@code replica.*} configs. */
    public record Settings(int fetchMaxBytes, int fetchResponseMaxBytes, int fetchWaitMaxMs, int fetchMinBytes,
                           int fetchBackoffMs, int requestTimeoutMs, int numFetchers) {
    }

    private record FetcherKey(int leaderId, String host, int port, int index) {
    }

    /** Counters of this broker's fetchers, kept across fetcher threads (tests and diagnostics). */
    static final class Stats {
        /** Truncations done on a leader's {@code DivergingEpoch} answer (KIP-595). */
        final java.util.concurrent.atomic.AtomicLong truncationsOnFetch = new java.util.concurrent.atomic.AtomicLong();
        /** OffsetForLeaderEpoch requests sent (KIP-101/279 truncation). */
        final java.util.concurrent.atomic.AtomicLong offsetForLeaderEpochRequests =
            new java.util.concurrent.atomic.AtomicLong();
        /** Fetches sent in full (opening a fetch session, KIP-227). */
        final java.util.concurrent.atomic.AtomicLong fullFetches = new java.util.concurrent.atomic.AtomicLong();
        /** Fetches sent incrementally in an open session (only changed partitions). */
        final java.util.concurrent.atomic.AtomicLong incrementalFetches = new java.util.concurrent.atomic.AtomicLong();
        /** Sessions a leader refused (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH), each followed by a full fetch. */
        final java.util.concurrent.atomic.AtomicLong sessionResets = new java.util.concurrent.atomic.AtomicLong();
        /** Fetches sent by a fetch chain's callback, on the fetcher's client I/O thread (the fetcher thread sent the others). */
        final java.util.concurrent.atomic.AtomicLong chainedFetches = new java.util.concurrent.atomic.AtomicLong();
        /** Sees every fetch as it is sent (tests); must not block or change it. */
        volatile java.util.function.Consumer<io.weir.protocol.message.FetchRequest> fetchListener = r -> { };
    }

    private final int brokerId;
    private final ReplicaManager replicaManager;
    private final Settings settings;
    private final Time time;
    /** The live broker with this id from the current metadata, or null. */
    private final IntFunction<BrokerRegistration> liveBroker;
    private final java.util.function.LongSupplier brokerEpoch;
    private final Stats stats = new Stats();
    private final Map<FetcherKey, ReplicaFetcherThread> fetchers = new HashMap<>();
    private boolean shutdown;

    public ReplicaFetcherManager(int brokerId, ReplicaManager replicaManager, Settings settings, Time time,
                                 IntFunction<BrokerRegistration> liveBroker) {
        this(brokerId, () -> -1, replicaManager, settings, time, liveBroker);
    }

    /**
     * @param brokerEpoch this broker's registered epoch (-1 while not registered): the fetchers send it
     *                    ({@code ReplicaState.ReplicaEpoch}, Fetch v15+), so a leader can refuse a stale one
     */
    public ReplicaFetcherManager(int brokerId, java.util.function.LongSupplier brokerEpoch,
                                 ReplicaManager replicaManager, Settings settings, Time time,
                                 IntFunction<BrokerRegistration> liveBroker) {
        this.brokerEpoch = brokerEpoch;
        this.brokerId = brokerId;
        this.replicaManager = replicaManager;
        this.settings = settings;
        this.time = time;
        this.liveBroker = liveBroker;
    }

    /**
     * Makes {@code partition} (a follower) fetch from its current leader at its current leader epoch:
     * unchanged if it already does; otherwise it starts over from its log end, the leader checking it for
     * divergence (or with OffsetForLeaderEpoch first, see {@link ReplicaFetcherThread}). Stops
     * fetching it while the leader's broker is not registered.
     */
    public synchronized void follow(Partition partition) {
        if (shutdown) {
            return;
        }
        TopicPartition tp = partition.topicPartition();
        BrokerRegistration leader = liveBroker.apply(partition.leaderId());
        if (leader == null || partition.leaderId() == brokerId) {
            removePartition(tp);
            return;
        }
        FetcherKey key = new FetcherKey(leader.id(), leader.host(), leader.port(),
            Math.floorMod(tp.hashCode(), settings.numFetchers()));
        for (Map.Entry<FetcherKey, ReplicaFetcherThread> e : fetchers.entrySet()) {
            if (!e.getKey().equals(key)) {
                e.getValue().removePartition(tp);
            }
        }
        ReplicaFetcherThread fetcher = fetchers.get(key);
        if (fetcher == null) {
            fetcher = new ReplicaFetcherThread("weir-replica-fetcher-" + brokerId + "-from-" + leader.id() + "-"
                + key.index(), brokerId, brokerEpoch,
                new io.weir.protocol.client.Node(leader.id(), leader.host(), leader.port()), replicaManager, settings,
                time, stats);
            fetchers.put(key, fetcher);
            fetcher.start();
        }
        fetcher.addPartition(partition);
        stopIdle();
    }

    /** Stops fetching {@code tp} (this broker leads it now, or no longer hosts it). */
    public synchronized void removePartition(TopicPartition tp) {
        for (ReplicaFetcherThread f : fetchers.values()) {
            f.removePartition(tp);
        }
        stopIdle();
    }

    private void stopIdle() {
        fetchers.entrySet().removeIf(e -> {
            if (e.getValue().isIdle()) {
                e.getValue().initiateShutdown();
                return true;
            }
            return false;
        });
    }

    /** The partitions being fetched, with the broker they are fetched from (tests and diagnostics). */
    public synchronized Map<TopicPartition, Integer> fetchedPartitions() {
        Map<TopicPartition, Integer> out = new HashMap<>();
        fetchers.forEach((k, f) -> f.partitions().forEach(tp -> out.put(tp, k.leaderId())));
        return out;
    }

    /** How many times a follower truncated on a leader's {@code DivergingEpoch} answer (KIP-595). */
    public long truncationsOnFetch() {
        return stats.truncationsOnFetch.get();
    }

    /** How many OffsetForLeaderEpoch requests the fetchers sent (KIP-101/279 truncation). */
    public long offsetForLeaderEpochRequests() {
        return stats.offsetForLeaderEpochRequests.get();
    }

    /** How many fetches went out in full (each opens a fetch session with its leader). */
    public long fullFetches() {
        return stats.fullFetches.get();
    }

    /** How many fetches went out incrementally, in an open fetch session. */
    public long incrementalFetches() {
        return stats.incrementalFetches.get();
    }

    /** How many times a leader refused a fetch session (lost or out of step), so the next fetch was full. */
    public long sessionResets() {
        return stats.sessionResets.get();
    }

    /**
     * How many fetches went out straight from the answer to the previous one, on the fetcher's client I/O
     * thread (a fetch chain; see {@link ReplicaFetcherThread}).
     */
    public long chainedFetches() {
        return stats.chainedFetches.get();
    }

    /**
     * Shows every fetch these fetchers send to {@code listener}, on the fetcher's thread or, in a fetch
     * chain, its client's I/O thread (tests and diagnostics; it must not block, nor change the request).
     */
    public void onFetchSent(java.util.function.Consumer<io.weir.protocol.message.FetchRequest> listener) {
        stats.fetchListener = listener == null ? r -> { } : listener;
    }

    /** Stops every fetcher and waits for their threads (a clean stop). */
    public void shutdown() {
        List<ReplicaFetcherThread> all;
        synchronized (this) {
            shutdown = true;
            all = new ArrayList<>(fetchers.values());
            fetchers.clear();
        }
        for (ReplicaFetcherThread f : all) {
            f.initiateShutdown();
        }
        for (ReplicaFetcherThread f : all) {
            f.awaitShutdown();
        }
    }
}
