package io.weir.consumer.internals;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.Header;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordCursor;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.TimestampType;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.Deserializer;
import io.weir.consumer.Deserializers;
import io.weir.consumer.errors.OffsetOutOfRangeException;
import io.weir.consumer.errors.RecordDeserializationException;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.Metadata;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.ReceiveBufferPool;
import io.weir.protocol.client.RequestBuilder;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fetches records for the assigned partitions: one Fetch request at a time per leader, each in that
 * leader's incremental {@link FetchSession}, and hands out parsed records.
 *
 * <h2>Prefetching and bounds</h2>
 * {@link #sendFetches} asks every leader for its fetchable partitions that have no data buffered;
 * the consumer calls it before returning records from poll(), so the next responses arrive while the
 * application works. A partition is fetched again only after its buffered data is handed out, so the
 * buffer holds at most one response's worth per partition (each bounded by
 * {@code max.partition.fetch.bytes}, and each response by {@code fetch.max.bytes}). A buffered or
 * paused partition is dropped from its session (forgotten) and added back when fetchable, as Kafka's
 * consumer does: the broker must never answer with data from an old position.
 *
 * <h2>Parsing</h2>
 * Responses are queued raw by the network thread; the polling thread walks the batches (verifying
 * CRCs when {@code check.crcs}), decompresses each batch once, skips control batches and (under
 * read_committed) batches of aborted transactions named by the response's aborted-transaction list,
 * deserializes at most {@code max.poll.records} records per poll, and advances positions. Data
 * fetched from a position the partition no longer has (after a seek or reassignment) is dropped.
 *
 * <p>Threads: everything except the response callback runs on the polling thread. The callback only
 * updates the session and appends to {@code completed}, both safe from the network thread.
 */
public final class Fetcher<K, V> {
    private static final Logger log = LoggerFactory.getLogger(Fetcher.class);

    /** Raw data for one partition from one response. */
    record CompletedFetch(TopicPartition tp, long fetchOffset, Errors error, long highWatermark,
                          long lastStableOffset, long logStartOffset, List<FetchResponse.AbortedTransaction> aborted,
                          ByteBuffer records, FrameHold frame) {
    }

    /**
     * The array of one fetch response's frame, shared by the partitions of the response that carry records, and
     * how many of them still read it (plus the response handler while it runs): handed back to the pool when the
     * last one is read out. A partition's data dropped before that (a seek, a revocation, an error) never hands
     * its share back, and the array is then left to the garbage collector.
     */
    static final class FrameHold {
        private final ReceiveBufferPool pool;
        private final byte[] array;
        private final AtomicInteger holders = new AtomicInteger(1);

        FrameHold(ReceiveBufferPool pool, byte[] array) {
            this.pool = pool;
            this.array = array;
        }

        void hold() {
            holders.incrementAndGet();
        }

        void release() {
            if (holders.decrementAndGet() == 0) {
                pool.release(array);
            }
        }
    }

    /** Settings the fetcher needs, from the consumer config. */
    public record Settings(int minBytes, int maxBytes, int maxWaitMs, int partitionMaxBytes, boolean checkCrcs,
                           boolean readCommitted, int requestTimeoutMs, String rackId) {
    }

    private final NetworkClient client;
    private final Time time;
    private final SubscriptionState subscriptions;
    private final Waker waker;
    private final Settings settings;
    private final FieldReader<K> keyReader;
    private final FieldReader<V> valueReader;
    /** Whether records keep no view of the fetched bytes, so decompression buffers can be reused. */
    private final boolean reuseDecompressed;
    /**
     * Arrays for the fetch responses' frames, handed back once every partition of a response is read out;
     * null unless records keep no view of the fetched bytes ({@link #reuseDecompressed}).
     */
    private final ReceiveBufferPool frames;
    private final Map<Integer, FetchSession> sessions = new ConcurrentHashMap<>();
    private final Set<Integer> inFlight = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<CompletedFetch> completed = new ConcurrentLinkedQueue<>();
    /** Buffered data of paused partitions, kept until they are resumed (polling thread only). */
    private final ArrayDeque<PartitionRecords> parked = new ArrayDeque<>();
    private PartitionRecords nextInLine;

    public Fetcher(NetworkClient client, Time time, SubscriptionState subscriptions, Waker waker, Settings settings,
                   Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this.client = client;
        this.time = time;
        this.subscriptions = subscriptions;
        this.waker = waker;
        this.settings = settings;
        this.keyReader = readerFor(keyDeserializer);
        this.valueReader = readerFor(valueDeserializer);
        this.reuseDecompressed = copiesOut(keyDeserializer) && copiesOut(valueDeserializer);
        if (reuseDecompressed && client != null) {
            // two: one read out by the application while the next response is read in
            this.frames = new ReceiveBufferPool(2);
            client.useReceiveBuffers(frames);
        } else {
            this.frames = null;
        }
    }

    /** How many fetch responses were read into the array of an earlier one (for tests). */
    public long reusedFrames() {
        return frames == null ? 0 : frames.reused();
    }

    /** Whether data is buffered that a poll could return now. */
    public boolean hasAvailableFetches() {
        return !completed.isEmpty() || (nextInLine != null && !nextInLine.exhausted
            && !subscriptions.isPaused(nextInLine.tp));
    }

    private Set<TopicPartition> bufferedPartitions() {
        Set<TopicPartition> out = new HashSet<>();
        for (CompletedFetch cf : completed) {
            out.add(cf.tp());
        }
        if (nextInLine != null && !nextInLine.exhausted) {
            out.add(nextInLine.tp);
        }
        for (PartitionRecords p : parked) {
            out.add(p.tp);
        }
        return out;
    }

    /** Sends a fetch to every leader with fetchable partitions and no fetch in flight; returns how many. */
    public int sendFetches() {
        Cluster cluster = client.metadata().cluster();
        Set<TopicPartition> buffered = bufferedPartitions();
        Map<Node, Map<TopicPartition, FetchSession.PartitionData>> byNode = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, SubscriptionState.PartitionState> e : subscriptions.states().entrySet()) {
            TopicPartition tp = e.getKey();
            if (!subscriptions.isFetchable(tp) || buffered.contains(tp)) {
                continue;
            }
            Optional<Node> leader = cluster.leaderFor(tp.topic(), tp.partition());
            if (leader.isEmpty()) {
                client.metadata().requestUpdate();
                continue;
            }
            Node node = leader.get();
            if (inFlight.contains(node.id())) {
                continue;
            }
            if (client.connectionDelayMs(node.id(), time.milliseconds()) > 0) {
                // the leader's last connect failed (it may have died): skip it while it backs off, and
                // ask metadata whether another broker leads now (issue 12)
                client.metadata().requestUpdate();
                continue;
            }
            Cluster.TopicInfo info = cluster.topic(tp.topic());
            UUID topicId = info == null ? null : info.topicId();
            byNode.computeIfAbsent(node, n -> new LinkedHashMap<>()).put(tp,
                new FetchSession.PartitionData(e.getValue().position, settings.partitionMaxBytes(), topicId, -1));
        }
        // a leader whose session still holds partitions we no longer want (all buffered or paused)
        // needs no request: the broker only answers requests
        int sent = 0;
        for (Map.Entry<Node, Map<TopicPartition, FetchSession.PartitionData>> e : byNode.entrySet()) {
            if (onlyCaughtUp(e.getValue().keySet()) && anyBufferedOn(e.getKey(), buffered, cluster)) {
                // Every partition we could ask this leader for has nothing new, so the broker would
                // hold the fetch for fetch.max.wait.ms — and, one fetch per leader, the partitions
                // draining from our buffer could not be fetched meanwhile. Ask once they join it.
                continue;
            }
            send(e.getKey(), e.getValue());
            sent++;
        }
        return sent;
    }

    /** True when each partition's position has reached the high watermark the last response gave. */
    private boolean onlyCaughtUp(Set<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            SubscriptionState.PartitionState st = subscriptions.states().get(tp);
            if (st == null || st.position() == null || st.highWatermark < 0 || st.position() < st.highWatermark) {
                return false;
            }
        }
        return true;
    }

    private static boolean anyBufferedOn(Node node, Set<TopicPartition> buffered, Cluster cluster) {
        for (TopicPartition tp : buffered) {
            Optional<Node> leader = cluster.leaderFor(tp.topic(), tp.partition());
            if (leader.isPresent() && leader.get().id() == node.id()) {
                return true;
            }
        }
        return false;
    }

    private void send(Node node, Map<TopicPartition, FetchSession.PartitionData> wanted) {
        FetchSession session = sessions.computeIfAbsent(node.id(), FetchSession::new);
        FetchSession.Request request = session.build(wanted);
        FetchBuilder builder = new FetchBuilder(request);
        inFlight.add(node.id());
        long deadlineMs = time.milliseconds() + settings.maxWaitMs() + settings.requestTimeoutMs();
        client.send(NodeSelector.node(node.id()), builder, deadlineMs).whenComplete((resp, ex) -> {
            try {
                if (ex != null) {
                    log.debug("fetch from node {} failed: {}", node.id(), ex.toString());
                    session.reset();
                    client.metadata().requestUpdate();
                } else {
                    handleResponse(session, request, builder, (FetchResponse) resp);
                }
            } catch (RuntimeException e) {
                log.warn("cannot handle a fetch response from node {}", node.id(), e);
                session.reset();
            } finally {
                inFlight.remove(node.id());
                waker.signal();
            }
        });
    }

    /** Builds the request at the version the connection chose: topic names before v13, ids from v13. */
    private final class FetchBuilder implements RequestBuilder {
        final FetchSession.Request request;
        final Map<UUID, String> names = new HashMap<>();
        volatile short version;

        FetchBuilder(FetchSession.Request request) {
            this.request = request;
            for (Map.Entry<TopicPartition, FetchSession.PartitionData> e : request.wanted().entrySet()) {
                if (e.getValue().topicId() != null) {
                    names.put(e.getValue().topicId(), e.getKey().topic());
                }
            }
        }

        @Override
        public ApiKeys api() {
            return ApiKeys.FETCH;
        }

        @Override
        public short latestAllowedVersion() {
            for (FetchSession.PartitionData d : request.wanted().values()) {
                if (d.topicId() == null || (d.topicId().getMostSignificantBits() == 0
                    && d.topicId().getLeastSignificantBits() == 0)) {
                    return 12;
                }
            }
            return ApiKeys.FETCH.highestVersion();
        }

        @Override
        public boolean retryOnDisconnect() {
            return false; // a resend would reuse the session epoch; the next fetch starts a new session instead
        }

        @Override
        public boolean waitForConnection() {
            // a leader that refuses connections or left metadata fails this fetch at once; the next one
            // goes to whichever broker metadata names leader by then, not after request.timeout.ms (issue 12)
            return false;
        }

        @Override
        public ApiMessage build(short v) {
            this.version = v;
            FetchRequest r = new FetchRequest()
                .setReplicaId(-1)
                .setMaxWaitMs(settings.maxWaitMs())
                .setMinBytes(settings.minBytes())
                .setMaxBytes(settings.maxBytes())
                .setIsolationLevel((byte) (settings.readCommitted() ? 1 : 0))
                .setSessionId(request.sessionId())
                .setSessionEpoch(request.epoch())
                .setRackId(settings.rackId() == null ? "" : settings.rackId());
            Map<String, FetchRequest.FetchTopic> topics = new LinkedHashMap<>();
            for (Map.Entry<TopicPartition, FetchSession.PartitionData> e : request.toSend().entrySet()) {
                TopicPartition tp = e.getKey();
                FetchSession.PartitionData d = e.getValue();
                FetchRequest.FetchTopic t = topics.computeIfAbsent(tp.topic(), name -> new FetchRequest.FetchTopic()
                    .setTopic(name).setTopicId(d.topicId() == null ? new UUID(0, 0) : d.topicId()));
                t.partitions().add(new FetchRequest.FetchPartition()
                    .setPartition(tp.partition())
                    .setCurrentLeaderEpoch(d.currentLeaderEpoch())
                    .setFetchOffset(d.fetchOffset())
                    .setLogStartOffset(-1)
                    .setPartitionMaxBytes(d.maxBytes()));
            }
            r.setTopics(new ArrayList<>(topics.values()));
            Map<String, FetchRequest.ForgottenTopic> forgotten = new LinkedHashMap<>();
            for (TopicPartition tp : request.toForget()) {
                FetchRequest.ForgottenTopic t = forgotten.computeIfAbsent(tp.topic(), name -> {
                    Cluster.TopicInfo info = client.metadata().cluster().topic(name);
                    UUID id = info == null || info.topicId() == null ? new UUID(0, 0) : info.topicId();
                    return new FetchRequest.ForgottenTopic().setTopic(name).setTopicId(id);
                });
                t.partitions().add(tp.partition());
            }
            r.setForgottenTopicsData(new ArrayList<>(forgotten.values()));
            return r;
        }
    }

    private void handleResponse(FetchSession session, FetchSession.Request request, FetchBuilder builder,
                                FetchResponse resp) {
        Errors top = Errors.forCode(resp.errorCode());
        if (!session.handleResponse(request, top, resp.sessionId())) {
            log.debug("fetch session on node {} failed with {}; the next fetch is a full one", session.nodeId(), top);
            return;
        }
        boolean byId = builder.version >= 13;
        FrameHold frame = buffer(resp, session, request, builder, byId);
        if (frame != null) {
            frame.release(); // the handler's own share: the partitions queued hold the rest
        }
    }

    /** Queues the response's partitions; returns the hold on its frame's array (null if it is not pooled). */
    private FrameHold buffer(FetchResponse resp, FetchSession session, FetchSession.Request request,
                             FetchBuilder builder, boolean byId) {
        FrameHold frame = null;
        for (FetchResponse.FetchableTopicResponse t : resp.responses()) {
            String topic = byId ? builder.names.get(t.topicId()) : t.topic();
            if (topic == null) {
                continue;
            }
            for (FetchResponse.PartitionData p : t.partitions()) {
                TopicPartition tp = new TopicPartition(topic, p.partitionIndex());
                FetchSession.PartitionData sent = request.wanted().get(tp);
                if (sent == null) {
                    continue;
                }
                Errors err = Errors.forCode(p.errorCode());
                ByteBuffer records = p.records() == null ? null : p.records().buffer();
                if (err == Errors.NONE && (records == null || records.remaining() == 0)) {
                    continue; // only watermarks changed; nothing to buffer
                }
                FrameHold share = null;
                if (frames != null && records != null && records.remaining() > 0 && records.hasArray()) {
                    if (frame == null) {
                        frame = new FrameHold(frames, records.array()); // every partition's bytes: one frame
                    }
                    if (frame.array == records.array()) {
                        frame.hold();
                        share = frame;
                    }
                }
                completed.add(new CompletedFetch(tp, sent.fetchOffset(), err, p.highWatermark(), p.lastStableOffset(),
                    p.logStartOffset(), p.abortedTransactions(), records, share));
                if (err != Errors.NONE) {
                    // the partition's entry in the session is now stale; start a fresh session
                    session.reset();
                }
            }
        }
        return frame;
    }

    /** Queues one partition's raw fetched data as a response without errors would (for benchmarks of collect). */
    void queueRawFetch(TopicPartition tp, long fetchOffset, ByteBuffer records) {
        completed.add(new CompletedFetch(tp, fetchOffset, Errors.NONE, -1, -1, -1, null, records, null));
    }

    /**
     * Up to {@code maxRecords} buffered records, partition by partition, advancing positions. An
     * out-of-range position is reset by the partition's strategy (or throws with strategy none).
     */
    public Map<TopicPartition, List<ConsumerRecord<K, V>>> collect(int maxRecords) {
        Map<TopicPartition, List<ConsumerRecord<K, V>>> out = new LinkedHashMap<>();
        int remaining = maxRecords;
        unparkResumed();
        while (remaining > 0) {
            if (nextInLine == null || nextInLine.exhausted) {
                CompletedFetch cf = completed.poll();
                if (cf == null) {
                    break;
                }
                nextInLine = initialize(cf);
                continue;
            }
            PartitionRecords pr = nextInLine;
            Long position = subscriptions.isAssigned(pr.tp) ? subscriptions.position(pr.tp) : null;
            if (position == null || position != pr.nextFetchOffset) {
                nextInLine = null; // seeked or unassigned since the fetch: stale
                continue;
            }
            if (subscriptions.isPaused(pr.tp)) {
                parked.add(pr);
                nextInLine = null;
                continue;
            }
            List<ConsumerRecord<K, V>> records = out.get(pr.tp);
            if (records == null) {
                records = new ArrayList<>(Math.min(remaining, 512));
            }
            int taken;
            try {
                taken = pr.take(remaining, records);
            } finally {
                subscriptions.advance(pr.tp, pr.nextFetchOffset, pr.lastEpoch);
            }
            if (taken > 0) {
                out.putIfAbsent(pr.tp, records);
                remaining -= taken;
            }
            if (pr.failed || pr.pendingError != null) {
                break; // hand out the records before the failure now; the next poll throws it
            }
        }
        return out;
    }

    private void unparkResumed() {
        for (Iterator<PartitionRecords> it = parked.iterator(); it.hasNext(); ) {
            PartitionRecords pr = it.next();
            if (!subscriptions.isAssigned(pr.tp) || !subscriptions.isPaused(pr.tp)) {
                it.remove();
                if (subscriptions.isAssigned(pr.tp) && nextInLine == null) {
                    nextInLine = pr;
                } else if (subscriptions.isAssigned(pr.tp)) {
                    // keep it for the next round; position checks drop it if stale
                    completedFront.add(pr);
                }
            }
        }
        if (nextInLine == null && !completedFront.isEmpty()) {
            nextInLine = completedFront.poll();
        }
    }

    private final ArrayDeque<PartitionRecords> completedFront = new ArrayDeque<>();

    private PartitionRecords initialize(CompletedFetch cf) {
        TopicPartition tp = cf.tp();
        if (!subscriptions.isAssigned(tp)) {
            return null;
        }
        Long position = subscriptions.position(tp);
        if (position == null || position != cf.fetchOffset()) {
            return null;
        }
        switch (cf.error()) {
            case NONE:
                subscriptions.updateWatermarks(tp, cf.highWatermark(), cf.lastStableOffset(), cf.logStartOffset());
                return new PartitionRecords(tp, cf);
            case OFFSET_OUT_OF_RANGE:
                SubscriptionState.ResetStrategy strategy = subscriptions.defaultReset();
                if (strategy == SubscriptionState.ResetStrategy.NONE) {
                    throw new OffsetOutOfRangeException(Map.of(tp, cf.fetchOffset()));
                }
                log.info("fetch position {} is out of range for {}; resetting to {}", cf.fetchOffset(), tp, strategy);
                subscriptions.requestReset(tp, strategy);
                return null;
            case NOT_LEADER_OR_FOLLOWER:
            case UNKNOWN_TOPIC_OR_PARTITION:
            case LEADER_NOT_AVAILABLE:
            case FENCED_LEADER_EPOCH:
            case UNKNOWN_LEADER_EPOCH:
            case KAFKA_STORAGE_ERROR:
            case UNKNOWN_TOPIC_ID:
            case INCONSISTENT_TOPIC_ID:
            case REPLICA_NOT_AVAILABLE:
                log.debug("fetch of {} got {}; refreshing metadata", tp, cf.error());
                client.metadata().requestUpdate();
                return null;
            case CORRUPT_MESSAGE:
                throw new io.weir.common.record.CorruptRecordException("the broker reported corrupt data for " + tp
                    + " at offset " + cf.fetchOffset());
            case TOPIC_AUTHORIZATION_FAILED:
                throw new io.weir.consumer.errors.ConsumerException(cf.error(), "not authorized to read " + tp);
            default:
                log.warn("fetch of {} at offset {} failed with {}", tp, cf.fetchOffset(), cf.error());
                return null;
        }
    }

    /** Drops buffered data for partitions no longer assigned (or all, after a seek they would ignore anyway). */
    public void clearBufferedDataForUnassigned() {
        completed.removeIf(cf -> !subscriptions.isAssigned(cf.tp()));
        parked.removeIf(pr -> !subscriptions.isAssigned(pr.tp));
        completedFront.removeIf(pr -> !subscriptions.isAssigned(pr.tp));
        if (nextInLine != null && !subscriptions.isAssigned(nextInLine.tp)) {
            nextInLine = null;
        }
    }

    /** Ends the fetch sessions on the brokers (best effort, no waiting). */
    public void closeSessions(long deadlineMs) {
        for (FetchSession s : sessions.values()) {
            int[] ids = s.closeIds();
            if (ids == null || inFlight.contains(s.nodeId())) {
                continue;
            }
            FetchRequest r = new FetchRequest().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0)
                .setSessionId(ids[0]).setSessionEpoch(ids[1]);
            client.send(s.nodeId(), r, deadlineMs);
        }
    }

    /**
     * Reads a record's key or value into an object. The built-in byte[] and String deserializers read
     * the batch bytes directly (one copy, or none before the String); any other deserializer gets a
     * read-only view of the bytes.
     */
    private interface FieldReader<T> {
        T read(RecordCursor cursor, boolean key, String topic, Header[] headers);
    }

    @SuppressWarnings("unchecked")
    private static <T> FieldReader<T> readerFor(Deserializer<T> deserializer) {
        if (deserializer instanceof Deserializers.ByteArrayDeserializer) {
            return (c, key, topic, headers) -> (T) (key ? c.keyBytes() : c.valueBytes());
        }
        if (deserializer instanceof Deserializers.StringDeserializer s) {
            return (c, key, topic, headers) -> (T) (key ? c.keyString(s.charset()) : c.valueString(s.charset()));
        }
        return (c, key, topic, headers) -> deserializer.deserialize(topic, headers, key ? c.key() : c.value());
    }

    /** Whether the deserializer copies the bytes it reads (the built-in byte[] and String ones), keeping no view. */
    private static boolean copiesOut(Deserializer<?> deserializer) {
        return deserializer instanceof Deserializers.ByteArrayDeserializer
            || deserializer instanceof Deserializers.StringDeserializer;
    }

    /** The iteration state of one partition's fetched data (polling thread only). */
    private final class PartitionRecords {
        final TopicPartition tp;
        final Iterator<RecordBatch> batches;
        final PriorityQueue<FetchResponse.AbortedTransaction> aborted;
        final Set<Long> abortedProducerIds = new HashSet<>();
        /** Decompresses into one buffer per fetch when nothing handed out views the batch bytes. */
        final RecordCursor cursor = new RecordCursor(reuseDecompressed);
        long nextFetchOffset;
        Integer lastEpoch;
        /** The batch the cursor walks, or null between batches. */
        RecordBatch batch;
        TimestampType batchTimestampType;
        Optional<Integer> batchEpoch = Optional.empty();
        /** The cursor's current record failed to deserialize: it is tried again (and fails again) on the next take. */
        boolean failed;
        RuntimeException pendingError;
        boolean exhausted;
        /** This partition's share of its response's frame, handed back once read out; null if none. */
        private FrameHold frame;

        PartitionRecords(TopicPartition tp, CompletedFetch cf) {
            this.tp = tp;
            this.frame = cf.frame();
            this.nextFetchOffset = cf.fetchOffset();
            this.batches = MemoryRecords.readableRecords(cf.records()).iterator();
            if (settings.readCommitted() && cf.aborted() != null && !cf.aborted().isEmpty()) {
                aborted = new PriorityQueue<>((a, b) -> Long.compare(a.firstOffset(), b.firstOffset()));
                aborted.addAll(cf.aborted());
            } else {
                aborted = null;
            }
        }

        /** Appends up to {@code max} records to {@code out}; returns how many. */
        int take(int max, List<ConsumerRecord<K, V>> out) {
            if (pendingError != null) {
                throw pendingError; // every poll, until the application seeks past the bad data
            }
            int taken = 0;
            if (failed) {
                out.add(parse()); // throws again unless the deserializer changed its mind
                failed = false;
                nextFetchOffset = cursor.offset() + 1;
                taken++;
            }
            while (taken < max) {
                boolean more;
                try {
                    more = batch != null && cursor.next();
                } catch (RuntimeException e) {
                    pendingError = invalid(e);
                    if (taken == 0) {
                        throw pendingError;
                    }
                    return taken;
                }
                if (!more) {
                    if (batch != null) {
                        nextFetchOffset = Math.max(nextFetchOffset, batch.nextOffset());
                        batch = null;
                    }
                    if (!nextBatch(taken)) {
                        exhausted = pendingError == null; // corrupt data stays to be thrown by the next take
                        if (exhausted && frame != null) {
                            // read out: its records are copies (no view of the frame), and it is not read again
                            frame.release();
                            frame = null;
                        }
                        break;
                    }
                    continue;
                }
                if (cursor.offset() < nextFetchOffset) {
                    continue;
                }
                ConsumerRecord<K, V> record;
                try {
                    record = parse();
                } catch (RecordDeserializationException e) {
                    failed = true; // the position stays on this record: the next take tries it again
                    if (taken == 0) {
                        throw e;
                    }
                    return taken;
                }
                out.add(record);
                taken++;
                nextFetchOffset = cursor.offset() + 1;
            }
            return taken;
        }

        /** Moves to the next batch with records to return; false when the data is used up. */
        private boolean nextBatch(int taken) {
            while (batches.hasNext()) {
                RecordBatch b;
                try {
                    b = batches.next();
                    if (settings.checkCrcs()) {
                        b.ensureValid();
                    }
                } catch (RuntimeException e) {
                    pendingError = invalid(e);
                    if (taken == 0) {
                        throw pendingError;
                    }
                    return false;
                }
                if (b.nextOffset() <= nextFetchOffset) {
                    continue; // a batch before the position (the broker sends whole batches)
                }
                if (b.partitionLeaderEpoch() >= 0) {
                    lastEpoch = b.partitionLeaderEpoch();
                }
                if (b.isControlBatch()) {
                    if (settings.readCommitted() && b.hasProducerId() && b.controlType() == ControlRecordType.ABORT) {
                        abortedProducerIds.remove(b.producerId());
                    }
                    nextFetchOffset = b.nextOffset();
                    continue;
                }
                if (aborted != null && b.isTransactional()) {
                    while (!aborted.isEmpty() && aborted.peek().firstOffset() <= b.lastOffset()) {
                        abortedProducerIds.add(aborted.poll().producerId());
                    }
                    if (abortedProducerIds.contains(b.producerId())) {
                        nextFetchOffset = b.nextOffset();
                        continue;
                    }
                }
                try {
                    cursor.reset(b, RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES);
                } catch (RuntimeException e) {
                    pendingError = invalid(e);
                    if (taken == 0) {
                        throw pendingError;
                    }
                    return false;
                }
                batch = b;
                batchTimestampType = b.timestampType();
                int epoch = b.partitionLeaderEpoch();
                if (epoch < 0) {
                    batchEpoch = Optional.empty();
                } else if (batchEpoch.isEmpty() || batchEpoch.get() != epoch) {
                    batchEpoch = Optional.of(epoch); // one object per epoch, not per record
                }
                return true;
            }
            return false;
        }

        /** Corrupt data at the position: thrown by this poll or the next, and again until the application seeks. */
        private RuntimeException invalid(RuntimeException e) {
            return new io.weir.common.record.CorruptRecordException("fetched data for " + tp + " at offset "
                + nextFetchOffset + " is invalid: " + e.getMessage(), e);
        }

        private ConsumerRecord<K, V> parse() {
            RecordCursor c = cursor;
            Header[] headers = c.headers(); // nothing decoded (a shared empty array) when there are none
            K k;
            V v;
            try {
                k = keyReader.read(c, true, tp.topic(), headers);
                v = valueReader.read(c, false, tp.topic(), headers);
            } catch (RuntimeException e) {
                throw new RecordDeserializationException(tp, c.offset(), "Error deserializing key/value for partition "
                    + tp + " at offset " + c.offset() + ". If needed, please seek past the record to continue consumption.",
                    e);
            }
            return new ConsumerRecord<>(tp.topic(), tp.partition(), c.offset(), c.timestamp(), batchTimestampType,
                c.keyLength(), c.valueLength(), k, v, headers, batchEpoch);
        }
    }
}
