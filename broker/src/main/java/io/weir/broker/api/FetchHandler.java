package io.weir.broker.api;

import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.network.ByteBufferSend;
import io.weir.broker.network.MultiSend;
import io.weir.broker.network.RecordsSend;
import io.weir.broker.network.RequestStages;
import io.weir.broker.network.Send;
import io.weir.broker.purgatory.DelayedOperationPurgatory;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.log.AbortedTxn;
import io.weir.log.LogOffsetMetadata;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.Records;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.Splice;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Fetch (consumers and follower replicas), with incremental fetch sessions (KIP-227). A fetch reads once;
 * if that is enough ({@code fetch.min.bytes}, an error, or no wait allowed) it answers at once,
 * otherwise it parks as a {@link DelayedFetch} that only compares log positions on each append and
 * reads and serializes once, when it completes. Records go out zero-copy, spliced into the frame.
 * A follower's fetch (v12+) names the epoch of its last fetched batch; where its log diverges from the
 * leader's the partition answers a {@code divergingEpoch} instead of records, at once (KIP-595), and the
 * bytes sent to throttled followers are taken from the leader-side replication throttle.
 *
 * <p>Thread-safe.
 */
public final class FetchHandler implements ApiHandler {
    /** Reads one partition for a fetch: {@link ReplicaManager#read} in the broker. */
    @FunctionalInterface
    interface PartitionReader {
        ReplicaManager.ReadResult read(TopicPartition tp, long fetchOffset, int maxBytes, boolean minOneBatch,
                                       boolean readCommitted);
    }

    /** The isolation level that bounds reads by the last stable offset (0 is read_uncommitted). */
    static final byte READ_COMMITTED = 1;
    /** Session epoch of a fetch that closes its session (or uses none): a full fetch. */
    private static final int FINAL_EPOCH = -1;
    /** Session epoch of a fetch that opens a new session. */
    private static final int INITIAL_EPOCH = 0;

    private final MetadataStore store;
    private final ReplicaManager replicaManager;
    private final PartitionReader reader;
    private final FetchSessionCache sessions;
    private final DelayedOperationPurgatory<TopicPartition, DelayedFetch> purgatory;

    public FetchHandler(MetadataStore store, ReplicaManager replicaManager, FetchSessionCache sessions,
                        DelayedOperationPurgatory<TopicPartition, DelayedFetch> purgatory) {
        this(store, replicaManager, replicaManager::read, sessions, purgatory);
    }

    FetchHandler(MetadataStore store, ReplicaManager replicaManager, PartitionReader reader, FetchSessionCache sessions,
                 DelayedOperationPurgatory<TopicPartition, DelayedFetch> purgatory) {
        this.store = store;
        this.replicaManager = replicaManager;
        this.reader = reader;
        this.sessions = sessions;
        this.purgatory = purgatory;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.FETCH, VersionRange.all(ApiKeys.FETCH));
    }

    /** A requested partition of a topic this broker does not know. */
    private record Unresolved(int partition, UUID topicId, String topicName, Errors error) {
    }

    /** One fetch request, resolved against its session: what to read and how to answer. */
    static final class Fetch {
        final RequestContext ctx;
        final FetchRequest req;
        final FetchSessionCache.Session session;
        final boolean full;
        final List<FetchSessionCache.CachedPartition> toRead;
        private final List<Unresolved> unresolved;
        final boolean readCommitted;
        /** The follower broker fetching (-1: a consumer). */
        final int replicaId;
        /** The follower's broker epoch (Fetch v15+; -1: not given). */
        final long replicaEpoch;
        /** Whether the follower's fetch offsets were recorded (by the first read; a delayed completion reads again). */
        boolean followerStateRecorded;

        private Fetch(RequestContext ctx, FetchRequest req, FetchSessionCache.Session session, boolean full,
                      List<FetchSessionCache.CachedPartition> toRead, List<Unresolved> unresolved, boolean readCommitted,
                      int replicaId, long replicaEpoch) {
            this.replicaId = replicaId;
            this.replicaEpoch = replicaEpoch;
            this.ctx = ctx;
            this.req = req;
            this.session = session;
            this.full = full;
            this.toRead = toRead;
            this.unresolved = unresolved;
            this.readCommitted = readCommitted;
        }
    }

    /** The reads of one fetch, in request order. */
    private record Reads(Map<TopicPartition, ReplicaManager.ReadResult> results, long totalBytes, boolean anyError,
                         boolean anyDiverging) {
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        FetchRequest req = (FetchRequest) body;
        short version = ctx.apiVersion();
        int replicaId = version >= 15 ? (req.replicaState() == null ? -1 : req.replicaState().replicaId()) : req.replicaId();
        long replicaEpoch = version >= 15 && req.replicaState() != null ? req.replicaState().replicaEpoch() : -1;
        boolean readCommitted = req.isolationLevel() == READ_COMMITTED && replicaId < 0;
        List<Unresolved> unresolved = new ArrayList<>();
        List<FetchSessionCache.CachedPartition> requested = new ArrayList<>();
        for (FetchRequest.FetchTopic ft : req.topics()) {
            String name = ft.topic();
            UUID id = ft.topicId();
            TopicMetadata t;
            if (version >= 13) {
                t = TopicLookup.byId(store, id);
                name = t == null ? null : t.name();
            } else {
                t = name == null ? null : store.topics().get(name);
            }
            for (FetchRequest.FetchPartition fp : ft.partitions()) {
                if (t == null) {
                    Errors e = version >= 13 ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION;
                    unresolved.add(new Unresolved(fp.partition(), id, ft.topic() == null ? "" : ft.topic(), e));
                    continue;
                }
                requested.add(new FetchSessionCache.CachedPartition(new TopicPartition(name, fp.partition()),
                    t.topicId(), fp.fetchOffset(), fp.partitionMaxBytes(), fp.currentLeaderEpoch(), fp.logStartOffset(),
                    version >= 12 && replicaId >= 0 ? fp.lastFetchedEpoch() : -1));
            }
        }

        int sessionId = req.sessionId();
        int epoch = req.sessionEpoch();
        FetchSessionCache.Session session = null;
        boolean full;
        List<FetchSessionCache.CachedPartition> toRead;
        if (epoch == FINAL_EPOCH) {
            if (sessionId != 0) {
                sessions.remove(sessionId);
            }
            full = true;
            toRead = requested;
        } else if (epoch == INITIAL_EPOCH) {
            if (sessionId != 0) {
                sessions.remove(sessionId);
            }
            session = sessions.create(requested, replicaId >= 0); // null: no room, a full fetch without one
            full = true;
            toRead = requested;
        } else {
            session = sessionId == 0 ? null : sessions.get(sessionId);
            if (session == null || sessionId == 0) {
                ctx.respond(new FetchResponse().setErrorCode(
                    (sessionId == 0 ? Errors.INVALID_FETCH_SESSION_EPOCH : Errors.FETCH_SESSION_ID_NOT_FOUND).code())
                    .setSessionId(0));
                return;
            }
            synchronized (session) {
                if (session.epoch != epoch) {
                    ctx.respond(new FetchResponse().setErrorCode(Errors.INVALID_FETCH_SESSION_EPOCH.code())
                        .setSessionId(0));
                    return;
                }
                List<TopicPartition> forgotten = new ArrayList<>();
                for (FetchRequest.ForgottenTopic f : req.forgottenTopicsData()) {
                    String name = version >= 13 ? TopicLookup.nameOf(store, f.topicId()) : f.topic();
                    if (name != null) {
                        for (int p : f.partitions()) {
                            forgotten.add(new TopicPartition(name, p));
                        }
                    }
                }
                FetchSessionCache.update(session, requested, forgotten);
                toRead = session.partitions();
            }
            full = false;
        }

        Fetch fetch = new Fetch(ctx, req, session, full, toRead, unresolved, readCommitted, replicaId, replicaEpoch);
        Reads first = read(fetch);
        if (first.anyError() || first.anyDiverging() || first.totalBytes() >= Math.max(1, req.minBytes()) || req.maxWaitMs() <= 0) {
            answer(fetch, first);
            return;
        }
        // not enough yet: park on the partitions' positions; the read above is dropped (it is only views)
        List<DelayedFetch.Position> positions = new ArrayList<>(toRead.size());
        List<TopicPartition> keys = new ArrayList<>(toRead.size());
        for (FetchSessionCache.CachedPartition c : toRead) {
            ReplicaManager.ReadResult r = first.results().get(c.topicPartition());
            LogOffsetMetadata at = r.fetchOffsetMetadata() != null ? r.fetchOffsetMetadata()
                : new LogOffsetMetadata(c.fetchOffset());
            positions.add(new DelayedFetch.Position(c.topicPartition(), at, c.maxBytes()));
            keys.add(c.topicPartition());
        }
        ctx.mark(RequestStages.Stage.PARKED);
        purgatory.tryCompleteElseWatch(new DelayedFetch(req.maxWaitMs(), this, fetch, positions, replicaManager), keys);
    }

    /** Reads and answers {@code fetch} with what its partitions hold now (a delayed fetch completing). */
    void complete(Fetch fetch) {
        answer(fetch, read(fetch));
    }

    private Reads read(Fetch fetch) {
        Map<TopicPartition, ReplicaManager.ReadResult> reads = new LinkedHashMap<>();
        long total = 0;
        boolean anyError = !fetch.unresolved.isEmpty();
        boolean anyDiverging = false;
        int maxBytes = fetch.req.maxBytes();
        for (FetchSessionCache.CachedPartition c : fetch.toRead) {
            int budget = (int) Math.max(0, Math.min(c.maxBytes(), (long) maxBytes - total));
            ReplicaManager.ReadResult r = readPartition(fetch, c, budget, total == 0);
            reads.put(c.topicPartition(), r);
            total += r.sizeInBytes();
            anyError |= r.error() != Errors.NONE;
            anyDiverging |= r.divergingEpoch() != null;
        }
        fetch.followerStateRecorded = true;
        return new Reads(reads, total, anyError, anyDiverging);
    }

    /**
     * One partition's read: a follower's up to the log end (its fetch offset recorded the first time), a
     * consumer's up to the high watermark after its {@code currentLeaderEpoch} was checked.
     */
    private ReplicaManager.ReadResult readPartition(Fetch fetch, FetchSessionCache.CachedPartition c, int budget,
                                                   boolean minOneBatch) {
        if (fetch.replicaId >= 0) {
            return replicaManager.readForFollower(c.topicPartition(), new ReplicaManager.FollowerFetch(fetch.replicaId,
                fetch.replicaEpoch, c.currentLeaderEpoch, c.lastFetchedEpoch, c.fetcherLogStartOffset), c.fetchOffset(),
                budget, minOneBatch, !fetch.followerStateRecorded);
        }
        if (c.currentLeaderEpoch >= 0) {
            Errors e = replicaManager.validateLeader(c.topicPartition(), c.currentLeaderEpoch);
            if (e != Errors.NONE) {
                return new ReplicaManager.ReadResult(e, -1, -1, -1, null, null, new LogOffsetMetadata(c.fetchOffset()));
            }
        }
        fetch.ctx.noteOffset(c.fetchOffset()); // debug request stages only
        return reader.read(c.topicPartition(), c.fetchOffset(), budget, minOneBatch, fetch.readCommitted);
    }

    private void answer(Fetch fetch, Reads reads) {
        short version = fetch.ctx.apiVersion();
        Map<String, FetchResponse.FetchableTopicResponse> byTopic = new LinkedHashMap<>();
        long sendable;
        if (fetch.session != null) {
            synchronized (fetch.session) {
                sendable = addPartitions(fetch, reads.results(), byTopic, version);
            }
        } else {
            sendable = addPartitions(fetch, reads.results(), byTopic, version);
        }
        for (Unresolved w : fetch.unresolved) {
            topicEntry(byTopic, w.topicId(), w.topicName()).partitions().add(new FetchResponse.PartitionData()
                .setPartitionIndex(w.partition()).setErrorCode(w.error().code()).setHighWatermark(-1)
                .setRecords(Records.empty()));
        }
        FetchResponse resp = new FetchResponse().setErrorCode(Errors.NONE.code())
            .setSessionId(fetch.session == null ? 0 : fetch.session.id())
            .setResponses(new ArrayList<>(byTopic.values()));
        if (fetch.replicaId >= 0) {
            reads.results().forEach((tp, r) -> replicaManager.recordLeaderThrottled(tp, fetch.replicaId, r.sizeInBytes()));
        }
        MessageCodec.SplicedFrame frame = MessageCodec.serializeResponseSpliced(fetch.ctx.header(), resp, sendable);
        fetch.ctx.respond(toSend(frame));
    }

    private static FetchResponse.FetchableTopicResponse topicEntry(Map<String, FetchResponse.FetchableTopicResponse> byTopic,
                                                                   UUID topicId, String topic) {
        return byTopic.computeIfAbsent(topicId + "/" + topic, k -> new FetchResponse.FetchableTopicResponse()
            .setTopic(topic).setTopicId(topicId).setPartitions(new ArrayList<>()));
    }

    private static long addPartitions(Fetch fetch, Map<TopicPartition, ReplicaManager.ReadResult> reads,
                                      Map<String, FetchResponse.FetchableTopicResponse> byTopic, short version) {
        long sendable = 0;
        for (FetchSessionCache.CachedPartition c : fetch.toRead) {
            ReplicaManager.ReadResult r = reads.get(c.topicPartition());
            boolean hasData = r.sizeInBytes() > 0;
            boolean include = c.markSent(hasData || r.divergingEpoch() != null, r.error() != Errors.NONE, r.highWatermark(),
                r.lastStableOffset(), r.logStartOffset(), fetch.full);
            if (!include) {
                continue;
            }
            FetchResponse.PartitionData pd = new FetchResponse.PartitionData()
                .setPartitionIndex(c.topicPartition().partition())
                .setErrorCode(r.error().code())
                .setHighWatermark(r.highWatermark())
                .setLastStableOffset(r.lastStableOffset())
                .setLogStartOffset(r.logStartOffset())
                .setRecords(r.records() == null ? Records.empty() : r.records());
            if (r.divergingEpoch() != null && version >= 12) {
                pd.setDivergingEpoch(new FetchResponse.EpochEndOffset().setEpoch(r.divergingEpoch().leaderEpoch())
                    .setEndOffset(r.divergingEpoch().endOffset()));
            }
            if (fetch.readCommitted && version >= 4) {
                List<FetchResponse.AbortedTransaction> aborted = new ArrayList<>();
                if (r.abortedTransactions() != null) {
                    for (AbortedTxn a : r.abortedTransactions()) {
                        aborted.add(new FetchResponse.AbortedTransaction().setProducerId(a.producerId())
                            .setFirstOffset(a.firstOffset()));
                    }
                }
                pd.setAbortedTransactions(aborted);
            }
            if (r.records() instanceof Records.Sendable) {
                sendable += r.sizeInBytes();
            }
            topicEntry(byTopic, c.topicId(), c.topicPartition().topic()).partitions().add(pd);
        }
        return sendable;
    }

    /** Turns a spliced frame into buffer pieces and zero-copy file sends, in wire order. */
    static Send toSend(MessageCodec.SplicedFrame frame) {
        if (frame.splices().isEmpty()) {
            return new ByteBufferSend(frame.buffer());
        }
        List<Send> parts = new ArrayList<>(frame.splices().size() * 2 + 1);
        int from = 0;
        ByteBuffer buf = frame.buffer();
        for (Splice s : frame.splices()) {
            if (s.position() > from) {
                parts.add(new ByteBufferSend(buf.duplicate().position(from).limit(s.position()).slice()));
            }
            parts.add(new RecordsSend(s.records()));
            from = s.position();
        }
        if (from < buf.limit()) {
            parts.add(new ByteBufferSend(buf.duplicate().position(from).limit(buf.limit()).slice()));
        }
        return new MultiSend(parts);
    }

    /**
     * Every requested partition with {@code error} (and the top-level code), no records; the session is
     * not advanced, so the client starts a new one.
     */
    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        FetchRequest req = (FetchRequest) body;
        List<FetchResponse.FetchableTopicResponse> topics = new ArrayList<>();
        for (FetchRequest.FetchTopic ft : req.topics()) {
            List<FetchResponse.PartitionData> parts = new ArrayList<>();
            for (FetchRequest.FetchPartition fp : ft.partitions()) {
                parts.add(new FetchResponse.PartitionData().setPartitionIndex(fp.partition())
                    .setErrorCode(error.code()).setHighWatermark(-1).setLastStableOffset(-1).setLogStartOffset(-1)
                    .setRecords(Records.empty()));
            }
            topics.add(new FetchResponse.FetchableTopicResponse().setTopic(ft.topic() == null ? "" : ft.topic())
                .setTopicId(ft.topicId()).setPartitions(parts));
        }
        return new FetchResponse().setErrorCode(error.code()).setSessionId(0).setResponses(topics);
    }
}
