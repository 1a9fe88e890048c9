package io.weir.broker.server;

import io.weir.broker.BrokerConfig;
import io.weir.broker.group.GroupApis;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.network.ByteBufferSend;
import io.weir.broker.network.MultiSend;
import io.weir.broker.network.RecordsSend;
import io.weir.broker.network.RequestChannel;
import io.weir.broker.network.Send;
import io.weir.log.AbortedTxn;
import io.weir.log.Log;
import io.weir.log.TimestampAndOffset;
import io.weir.log.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.ProtocolDecodeException;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.internals.ProtocolWriter;
import io.weir.protocol.message.ApiVersionsResponse;
import io.weir.protocol.message.CreatePartitionsRequest;
import io.weir.protocol.message.CreatePartitionsResponse;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.CreateTopicsResponse;
import io.weir.protocol.message.DeleteTopicsRequest;
import io.weir.protocol.message.DeleteTopicsResponse;
import io.weir.protocol.message.DescribeClusterResponse;
import io.weir.protocol.message.DescribeConfigsRequest;
import io.weir.protocol.message.DescribeConfigsResponse;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import io.weir.protocol.message.IncrementalAlterConfigsRequest;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import io.weir.protocol.message.IncrementalAlterConfigsResponse;
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.ListOffsetsResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Answers client requests: one method per API, called on a request-handler thread. Requests that
 * cannot be parsed, or name an API or version this broker does not implement, close their
 * connection with a log line (no response can be framed for them); everything else gets a response
 * with per-item error codes, and the broker keeps serving.
 *
 * <p>Thread-safe: state lives in the components it calls.
 */
public final class ApiHandler {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);

    /** What this broker answers; ApiVersions advertises exactly these. */
    static final Set<ApiKeys> HANDLED = EnumSet.of(ApiKeys.API_VERSIONS, ApiKeys.METADATA, ApiKeys.PRODUCE,
        ApiKeys.FETCH, ApiKeys.LIST_OFFSETS, ApiKeys.CREATE_TOPICS, ApiKeys.DELETE_TOPICS, ApiKeys.CREATE_PARTITIONS,
        ApiKeys.DESCRIBE_CONFIGS, ApiKeys.INCREMENTAL_ALTER_CONFIGS, ApiKeys.DESCRIBE_CLUSTER,
        ApiKeys.INIT_PRODUCER_ID);

    static {
        HANDLED.addAll(GroupApis.APIS);
    }

    private final BrokerConfig config;
    private final MetadataStore store;
    private final ReplicaManager replicaManager;
    private final TopicService topics;
    private final FetchSessionCache sessions;
    private final DelayedFetchPurgatory purgatory;
    private final BrokerConfig.Endpoint advertised;
    private final ProducerIdManager producerIds;
    private final GroupApis groupApis;

    public ApiHandler(BrokerConfig config, MetadataStore store, ReplicaManager replicaManager, TopicService topics,
                      FetchSessionCache sessions, DelayedFetchPurgatory purgatory, BrokerConfig.Endpoint advertised,
                      GroupApis groupApis) {
        this.config = config;
        this.store = store;
        this.replicaManager = replicaManager;
        this.topics = topics;
        this.sessions = sessions;
        this.purgatory = purgatory;
        this.advertised = advertised;
        this.producerIds = new ProducerIdManager(java.nio.file.Paths.get(config.logDirs().get(0)));
        this.groupApis = groupApis;
    }

    /** Handles one request frame; always ends with a response, no response, or a closed connection. */
    public void handle(RequestChannel.Request request) {
        MessageCodec.ParsedRequest parsed;
        try {
            parsed = MessageCodec.parseRequest(request.frame());
        } catch (ProtocolDecodeException | IllegalArgumentException e) {
            log.warn("closing connection {} from {}: malformed request: {}", request.connectionId(),
                request.clientAddress(), e.getMessage());
            request.closeConnection();
            return;
        }
        RequestHeader header = parsed.header();
        ApiKeys api = parsed.api();
        if (api == ApiKeys.API_VERSIONS && parsed.body() == null) {
            // a client newer than us: answer in v0 with the error and our versions, so it can retry lower
            RequestHeader v0 = new RequestHeader(header.apiKey(), (short) 0, header.correlationId(), header.clientId(),
                (short) 1);
            request.respond(new ByteBufferSend(MessageCodec.serializeResponse(v0,
                apiVersions().setErrorCode(Errors.UNSUPPORTED_VERSION.code()))));
            return;
        }
        if (api == null || parsed.body() == null || !HANDLED.contains(api)) {
            log.warn("closing connection {} from {}: unsupported API key {} version {}", request.connectionId(),
                request.clientAddress(), header.apiKey(), header.apiVersion());
            request.closeConnection();
            return;
        }
        try {
            switch (api) {
                case API_VERSIONS -> respond(request, header, apiVersions());
                case METADATA -> respond(request, header, metadata((MetadataRequest) parsed.body(), header.apiVersion()));
                case PRODUCE -> produce(request, header, (ProduceRequest) parsed.body());
                case FETCH -> fetch(request, header, (FetchRequest) parsed.body());
                case LIST_OFFSETS -> respond(request, header, listOffsets((ListOffsetsRequest) parsed.body()));
                case CREATE_TOPICS -> respond(request, header, createTopics((CreateTopicsRequest) parsed.body()));
                case DELETE_TOPICS -> respond(request, header, deleteTopics((DeleteTopicsRequest) parsed.body(),
                    header.apiVersion()));
                case CREATE_PARTITIONS -> respond(request, header,
                    createPartitions((CreatePartitionsRequest) parsed.body()));
                case DESCRIBE_CONFIGS -> respond(request, header, describeConfigs((DescribeConfigsRequest) parsed.body()));
                case INCREMENTAL_ALTER_CONFIGS -> respond(request, header,
                    alterConfigs((IncrementalAlterConfigsRequest) parsed.body()));
                case DESCRIBE_CLUSTER -> respond(request, header, describeCluster());
                case INIT_PRODUCER_ID -> respond(request, header, initProducerId((InitProducerIdRequest) parsed.body()));
                case FIND_COORDINATOR, JOIN_GROUP, SYNC_GROUP, HEARTBEAT, LEAVE_GROUP, OFFSET_COMMIT, OFFSET_FETCH,
                    LIST_GROUPS, DESCRIBE_GROUPS, DELETE_GROUPS, OFFSET_DELETE -> groupApis.handle(request, header,
                    parsed.body());
                default -> request.closeConnection();
            }
        } catch (RuntimeException e) {
            log.error("closing connection {} from {}: {} v{} failed", request.connectionId(), request.clientAddress(),
                api.apiName(), header.apiVersion(), e);
            request.closeConnection();
        }
    }

    private static void respond(RequestChannel.Request request, RequestHeader header, ApiMessage response) {
        request.respond(new ByteBufferSend(MessageCodec.serializeResponse(header, response)));
    }

    // ------------------------------------------------------------------------------ ApiVersions

    private ApiVersionsResponse apiVersions() {
        List<ApiVersionsResponse.ApiVersion> list = new ArrayList<>();
        for (ApiKeys k : HANDLED) {
            list.add(new ApiVersionsResponse.ApiVersion().setApiKey(k.id()).setMinVersion(k.lowestVersion())
                .setMaxVersion(k.highestVersion()));
        }
        return new ApiVersionsResponse().setErrorCode(Errors.NONE.code()).setApiKeys(list);
    }

    // ------------------------------------------------------------------------------ Metadata

    private MetadataResponse metadata(MetadataRequest req, short version) {
        Map<String, TopicMetadata> all = store.topics();
        List<MetadataResponse.MetadataResponseTopic> out = new ArrayList<>();
        if (req.topics() == null) {
            for (TopicMetadata t : all.values()) {
                out.add(topicMetadata(t, Errors.NONE));
            }
        } else {
            boolean autoCreate = req.allowAutoTopicCreation() && config.getBoolean(BrokerConfig.AUTO_CREATE_TOPICS_ENABLE);
            for (MetadataRequest.MetadataRequestTopic rt : req.topics()) {
                String name = rt.name();
                if (name == null) {
                    TopicMetadata byId = findById(rt.topicId());
                    out.add(byId != null ? topicMetadata(byId, Errors.NONE)
                        : new MetadataResponse.MetadataResponseTopic().setErrorCode(Errors.UNKNOWN_TOPIC_ID.code())
                            .setTopicId(rt.topicId()));
                    continue;
                }
                TopicMetadata t = all.get(name);
                if (t == null) {
                    String invalid = TopicMetadata.validateName(name);
                    if (invalid != null) {
                        out.add(errorTopic(name, Errors.INVALID_TOPIC_EXCEPTION));
                        continue;
                    }
                    if (autoCreate) {
                        TopicService.Result r = topics.autoCreate(name);
                        if (r.error() == Errors.NONE) {
                            out.add(topicMetadata(r.topic(), Errors.NONE));
                        } else {
                            out.add(errorTopic(name, r.error() == Errors.INVALID_REPLICATION_FACTOR
                                ? Errors.INVALID_REPLICATION_FACTOR : Errors.UNKNOWN_TOPIC_OR_PARTITION));
                        }
                        continue;
                    }
                    out.add(errorTopic(name, Errors.UNKNOWN_TOPIC_OR_PARTITION));
                    continue;
                }
                out.add(topicMetadata(t, Errors.NONE));
            }
        }
        MetadataResponse resp = new MetadataResponse()
            .setBrokers(List.of(new MetadataResponse.MetadataResponseBroker().setNodeId(config.brokerId())
                .setHost(advertised.host()).setPort(advertised.port())))
            .setClusterId(store.clusterId())
            .setControllerId(config.brokerId())
            .setTopics(out);
        return resp;
    }

    private static MetadataResponse.MetadataResponseTopic errorTopic(String name, Errors error) {
        return new MetadataResponse.MetadataResponseTopic().setName(name).setErrorCode(error.code());
    }

    private TopicMetadata findById(UUID id) {
        for (TopicMetadata t : store.topics().values()) {
            if (t.topicId().equals(id)) {
                return t;
            }
        }
        return null;
    }

    private MetadataResponse.MetadataResponseTopic topicMetadata(TopicMetadata t, Errors error) {
        List<MetadataResponse.MetadataResponsePartition> parts = new ArrayList<>(t.partitionCount());
        List<Integer> replicas = List.of(config.brokerId());
        for (int p = 0; p < t.partitionCount(); p++) {
            Partition partition = replicaManager.partition(new TopicPartition(t.name(), p));
            boolean online = partition != null;
            parts.add(new MetadataResponse.MetadataResponsePartition()
                .setErrorCode(online ? Errors.NONE.code() : Errors.LEADER_NOT_AVAILABLE.code())
                .setPartitionIndex(p)
                .setLeaderId(online ? config.brokerId() : -1)
                .setLeaderEpoch(online ? partition.leaderEpoch() : -1)
                .setReplicaNodes(replicas)
                .setIsrNodes(online ? replicas : List.of())
                .setOfflineReplicas(List.of()));
        }
        return new MetadataResponse.MetadataResponseTopic().setErrorCode(error.code()).setName(t.name())
            .setTopicId(t.topicId()).setIsInternal(TopicMetadata.isInternal(t.name())).setPartitions(parts);
    }

    // ------------------------------------------------------------------------------ Produce

    private void produce(RequestChannel.Request request, RequestHeader header, ProduceRequest req) {
        short acks = req.acks();
        List<ProduceResponse.TopicProduceResponse> out = new ArrayList<>();
        for (ProduceRequest.TopicProduceData td : req.topicData()) {
            List<ProduceResponse.PartitionProduceResponse> parts = new ArrayList<>();
            for (ProduceRequest.PartitionProduceData pd : td.partitionData()) {
                ProduceResponse.PartitionProduceResponse pr = new ProduceResponse.PartitionProduceResponse()
                    .setIndex(pd.index());
                if (acks != 0 && acks != 1 && acks != -1) {
                    pr.setErrorCode(Errors.INVALID_REQUIRED_ACKS.code()).setBaseOffset(-1);
                } else if (TopicMetadata.isInternal(td.name())) {
                    pr.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code()).setBaseOffset(-1)
                        .setErrorMessage("Producing to internal topic " + td.name() + " is not allowed");
                } else {
                    ReplicaManager.AppendResult r = replicaManager.appendAsLeader(
                        new TopicPartition(td.name(), pd.index()), pd.records(), acks);
                    pr.setErrorCode(r.error().code()).setErrorMessage(r.errorMessage()).setBaseOffset(r.baseOffset())
                        .setLogAppendTimeMs(r.logAppendTimeMs()).setLogStartOffset(r.logStartOffset())
                        .setRecordErrors(r.recordErrors().stream().map(e -> new ProduceResponse.BatchIndexAndErrorMessage()
                            .setBatchIndex(e.batchIndex()).setBatchIndexErrorMessage(e.message())).toList());
                }
                parts.add(pr);
            }
            out.add(new ProduceResponse.TopicProduceResponse().setName(td.name()).setPartitionResponses(parts));
        }
        if (acks == 0) {
            // Kafka's rule: no response, ever; a failed append is only visible in the broker log
            request.noResponse();
            return;
        }
        respond(request, header, new ProduceResponse().setResponses(out));
    }

    // ------------------------------------------------------------------------------ InitProducerId

    /**
     * Idempotent producers (no transactional id) get a fresh producer id at epoch 0; the producer
     * state of log-core then dedups their retries. A transactional id needs the transaction
     * coordinator, which this broker does not run yet: it answers COORDINATOR_NOT_AVAILABLE, Kafka's
     * code for "no transaction coordinator can serve this id right now" (retriable, so a client keeps
     * trying until its own timeout rather than treating it as an authorization failure).
     */
    private InitProducerIdResponse initProducerId(InitProducerIdRequest req) {
        if (req.transactionalId() != null) {
            return new InitProducerIdResponse().setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())
                .setProducerId(-1).setProducerEpoch((short) -1);
        }
        return new InitProducerIdResponse().setErrorCode(Errors.NONE.code())
            .setProducerId(producerIds.nextProducerId()).setProducerEpoch((short) 0);
    }

    // ------------------------------------------------------------------------------ Fetch

    /** A requested partition of a topic this broker does not know. */
    private record Unresolved(int partition, UUID topicId, String topicName, Errors error) {
    }

    private void fetch(RequestChannel.Request request, RequestHeader header, FetchRequest req) {
        short version = header.apiVersion();
        boolean readCommitted = req.isolationLevel() == 1;
        List<Unresolved> unresolved = new ArrayList<>();
        List<FetchSessionCache.CachedPartition> requested = new ArrayList<>();
        for (FetchRequest.FetchTopic ft : req.topics()) {
            String name = ft.topic();
            UUID id = ft.topicId();
            TopicMetadata t;
            if (version >= 13) {
                t = findById(id);
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
                    t.topicId(), fp.fetchOffset(), fp.partitionMaxBytes()));
            }
        }

        int sessionId = req.sessionId();
        int epoch = req.sessionEpoch();
        FetchSessionCache.Session session = null;
        boolean full;
        List<FetchSessionCache.CachedPartition> toRead;
        if (epoch == -1) {
            if (sessionId != 0) {
                sessions.remove(sessionId);
            }
            full = true;
            toRead = requested;
        } else if (epoch == 0) {
            if (sessionId != 0) {
                sessions.remove(sessionId);
            }
            session = sessions.create(requested);
            full = true;
            toRead = requested;
        } else {
            session = sessionId == 0 ? null : sessions.get(sessionId);
            if (session == null || sessionId == 0) {
                respond(request, header, new FetchResponse().setErrorCode(
                    (sessionId == 0 ? Errors.INVALID_FETCH_SESSION_EPOCH : Errors.FETCH_SESSION_ID_NOT_FOUND).code())
                    .setSessionId(0));
                return;
            }
            synchronized (session) {
                if (session.epoch != epoch) {
                    respond(request, header, new FetchResponse().setErrorCode(Errors.INVALID_FETCH_SESSION_EPOCH.code())
                        .setSessionId(0));
                    return;
                }
                List<TopicPartition> forgotten = new ArrayList<>();
                for (FetchRequest.ForgottenTopic f : req.forgottenTopicsData()) {
                    String name = version >= 13 ? nameOf(f.topicId()) : f.topic();
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

        FetchOp op = new FetchOp(request, header, req, session, full, toRead, unresolved, readCommitted);
        if (op.tryComplete()) {
            return;
        }
        if (req.maxWaitMs() <= 0) {
            op.forceComplete();
            return;
        }
        List<TopicPartition> tps = new ArrayList<>();
        for (FetchSessionCache.CachedPartition c : toRead) {
            tps.add(c.topicPartition());
        }
        purgatory.park(op, tps, req.maxWaitMs());
    }

    private String nameOf(UUID id) {
        TopicMetadata t = findById(id);
        return t == null ? null : t.name();
    }

    /** A fetch that answers as soon as minBytes are there, or at its deadline with what there is. */
    private final class FetchOp implements DelayedFetchPurgatory.Operation {
        private final RequestChannel.Request request;
        private final RequestHeader header;
        private final FetchRequest req;
        private final FetchSessionCache.Session session;
        private final boolean full;
        private final List<FetchSessionCache.CachedPartition> toRead;
        private final List<Unresolved> unresolved;
        private final boolean readCommitted;

        FetchOp(RequestChannel.Request request, RequestHeader header, FetchRequest req,
                FetchSessionCache.Session session, boolean full, List<FetchSessionCache.CachedPartition> toRead,
                List<Unresolved> unresolved, boolean readCommitted) {
            this.request = request;
            this.header = header;
            this.req = req;
            this.session = session;
            this.full = full;
            this.toRead = toRead;
            this.unresolved = unresolved;
            this.readCommitted = readCommitted;
        }

        @Override
        public boolean tryComplete() {
            return answer(false);
        }

        @Override
        public void forceComplete() {
            answer(true);
        }

        private boolean answer(boolean force) {
            Map<TopicPartition, ReplicaManager.ReadResult> reads = new LinkedHashMap<>();
            long total = 0;
            boolean anyError = !unresolved.isEmpty();
            int maxBytes = req.maxBytes();
            for (FetchSessionCache.CachedPartition c : toRead) {
                int budget = (int) Math.max(0, Math.min(c.maxBytes(), (long) maxBytes - total));
                ReplicaManager.ReadResult r = replicaManager.read(c.topicPartition(), c.fetchOffset(), budget,
                    total == 0, readCommitted);
                reads.put(c.topicPartition(), r);
                total += r.sizeInBytes();
                anyError |= r.error() != Errors.NONE;
            }
            if (!force && total < Math.max(1, req.minBytes()) && !anyError && req.maxWaitMs() > 0) {
                return false;
            }
            send(reads, total);
            return true;
        }

        private void send(Map<TopicPartition, ReplicaManager.ReadResult> reads, long totalBytes) {
            short version = header.apiVersion();
            Map<String, FetchResponse.FetchableTopicResponse> byTopic = new LinkedHashMap<>();
            long sendable = 0;
            if (session != null) {
                synchronized (session) {
                    sendable = addPartitions(reads, byTopic, version);
                }
            } else {
                sendable = addPartitions(reads, byTopic, version);
            }
            for (Unresolved w : unresolved) {
                String key = w.topicId() + "/" + w.topicName();
                FetchResponse.FetchableTopicResponse tr = byTopic.computeIfAbsent(key, k ->
                    new FetchResponse.FetchableTopicResponse().setTopic(w.topicName()).setTopicId(w.topicId())
                        .setPartitions(new ArrayList<>()));
                tr.partitions().add(new FetchResponse.PartitionData().setPartitionIndex(w.partition())
                    .setErrorCode(w.error().code()).setHighWatermark(-1).setRecords(io.weir.protocol.Records.empty()));
            }
            FetchResponse resp = new FetchResponse().setErrorCode(Errors.NONE.code())
                .setSessionId(session == null ? 0 : session.id())
                .setResponses(new ArrayList<>(byTopic.values()));
            MessageCodec.SplicedFrame frame = MessageCodec.serializeResponseSpliced(header, resp, sendable);
            request.respond(toSend(frame));
        }

        private long addPartitions(Map<TopicPartition, ReplicaManager.ReadResult> reads,
                                   Map<String, FetchResponse.FetchableTopicResponse> byTopic, short version) {
            long sendable = 0;
            for (FetchSessionCache.CachedPartition c : toRead) {
                ReplicaManager.ReadResult r = reads.get(c.topicPartition());
                boolean hasData = r.sizeInBytes() > 0;
                boolean include = c.markSent(hasData, r.error() != Errors.NONE, r.highWatermark(),
                    r.lastStableOffset(), r.logStartOffset(), full);
                if (!include) {
                    continue;
                }
                String key = c.topicId() + "/" + c.topicPartition().topic();
                FetchResponse.FetchableTopicResponse tr = byTopic.computeIfAbsent(key, k ->
                    new FetchResponse.FetchableTopicResponse().setTopic(c.topicPartition().topic())
                        .setTopicId(c.topicId()).setPartitions(new ArrayList<>()));
                FetchResponse.PartitionData pd = new FetchResponse.PartitionData()
                    .setPartitionIndex(c.topicPartition().partition())
                    .setErrorCode(r.error().code())
                    .setHighWatermark(r.highWatermark())
                    .setLastStableOffset(r.lastStableOffset())
                    .setLogStartOffset(r.logStartOffset())
                    .setRecords(r.records() == null ? io.weir.protocol.Records.empty() : r.records());
                if (readCommitted && version >= 4) {
                    List<FetchResponse.AbortedTransaction> aborted = new ArrayList<>();
                    if (r.abortedTransactions() != null) {
                        for (AbortedTxn a : r.abortedTransactions()) {
                            aborted.add(new FetchResponse.AbortedTransaction().setProducerId(a.producerId())
                                .setFirstOffset(a.firstOffset()));
                        }
                    }
                    pd.setAbortedTransactions(aborted);
                }
                if (r.records() instanceof io.weir.protocol.Records.Sendable) {
                    sendable += r.sizeInBytes();
                }
                tr.partitions().add(pd);
            }
            return sendable;
        }
    }

    /** Turns a spliced frame into buffer pieces and zero-copy file sends, in wire order. */
    static Send toSend(MessageCodec.SplicedFrame frame) {
        if (frame.splices().isEmpty()) {
            return new ByteBufferSend(frame.buffer());
        }
        List<Send> parts = new ArrayList<>(frame.splices().size() * 2 + 1);
        int from = 0;
        ByteBuffer buf = frame.buffer();
        for (ProtocolWriter.Splice s : frame.splices()) {
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

    // ------------------------------------------------------------------------------ ListOffsets

    private ListOffsetsResponse listOffsets(ListOffsetsRequest req) {
        boolean readCommitted = req.isolationLevel() == 1;
        List<ListOffsetsResponse.ListOffsetsTopicResponse> out = new ArrayList<>();
        for (ListOffsetsRequest.ListOffsetsTopic t : req.topics()) {
            List<ListOffsetsResponse.ListOffsetsPartitionResponse> parts = new ArrayList<>();
            for (ListOffsetsRequest.ListOffsetsPartition p : t.partitions()) {
                ListOffsetsResponse.ListOffsetsPartitionResponse pr = new ListOffsetsResponse.ListOffsetsPartitionResponse()
                    .setPartitionIndex(p.partitionIndex());
                Partition partition = replicaManager.partition(new TopicPartition(t.name(), p.partitionIndex()));
                if (partition == null) {
                    pr.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else {
                    Log l = partition.log();
                    long ts = p.timestamp();
                    long upper = readCommitted ? partition.lastStableOffset() : partition.highWatermark();
                    if (ts == Log.LATEST_TIMESTAMP) {
                        pr.setTimestamp(-1).setOffset(upper);
                    } else if (ts == Log.EARLIEST_TIMESTAMP || ts == -4) {
                        pr.setTimestamp(-1).setOffset(l.logStartOffset());
                    } else if (ts == -5) { // latest tiered: nothing is tiered here
                        pr.setTimestamp(-1).setOffset(-1);
                    } else if (ts < 0 && ts != Log.MAX_TIMESTAMP) {
                        pr.setErrorCode(Errors.INVALID_REQUEST.code());
                    } else {
                        TimestampAndOffset found = l.fetchOffsetByTimestamp(ts);
                        if (found == null || found.offset() >= upper) {
                            pr.setTimestamp(-1).setOffset(-1);
                        } else {
                            pr.setTimestamp(found.timestamp()).setOffset(found.offset());
                        }
                    }
                    pr.setLeaderEpoch(partition.leaderEpoch());
                }
                parts.add(pr);
            }
            out.add(new ListOffsetsResponse.ListOffsetsTopicResponse().setName(t.name()).setPartitions(parts));
        }
        return new ListOffsetsResponse().setTopics(out);
    }

    // ------------------------------------------------------------------------------ topic admin

    private CreateTopicsResponse createTopics(CreateTopicsRequest req) {
        List<CreateTopicsResponse.CreatableTopicResult> out = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (CreateTopicsRequest.CreatableTopic t : req.topics()) {
            CreateTopicsResponse.CreatableTopicResult r = new CreateTopicsResponse.CreatableTopicResult().setName(t.name());
            if (!seen.add(t.name())) {
                out.add(r.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Create topics request from client"
                    + " contains topic " + t.name() + " more than once"));
                continue;
            }
            Map<Integer, List<Integer>> assignment = new HashMap<>();
            for (CreateTopicsRequest.CreatableReplicaAssignment a : t.assignments()) {
                assignment.put(a.partitionIndex(), a.brokerIds());
            }
            Map<String, String> configs = new HashMap<>();
            for (CreateTopicsRequest.CreatableTopicConfig c : t.configs()) {
                configs.put(c.name(), c.value());
            }
            TopicService.Result res = topics.create(t.name(), t.numPartitions(), t.replicationFactor(), assignment,
                configs, req.validateOnly());
            r.setErrorCode(res.error().code()).setErrorMessage(res.message());
            if (res.error() == Errors.NONE) {
                TopicMetadata tm = res.topic();
                r.setTopicId(tm.topicId()).setNumPartitions(tm.partitionCount()).setReplicationFactor(tm.replicationFactor());
                List<CreateTopicsResponse.CreatableTopicConfigs> cfgs = new ArrayList<>();
                for (ConfigEntry e : topicConfigEntries(tm)) {
                    cfgs.add(new CreateTopicsResponse.CreatableTopicConfigs().setName(e.name()).setValue(e.value())
                        .setReadOnly(false).setConfigSource(e.source()).setIsSensitive(false));
                }
                r.setConfigs(cfgs);
            }
            out.add(r);
        }
        return new CreateTopicsResponse().setTopics(out);
    }

    private DeleteTopicsResponse deleteTopics(DeleteTopicsRequest req, short version) {
        List<DeleteTopicsResponse.DeletableTopicResult> out = new ArrayList<>();
        if (version >= 6) {
            for (DeleteTopicsRequest.DeleteTopicState s : req.topics()) {
                String name = s.name();
                UUID id = s.topicId();
                if (name == null) {
                    name = nameOf(id);
                    if (name == null) {
                        out.add(new DeleteTopicsResponse.DeletableTopicResult().setTopicId(id)
                            .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                        continue;
                    }
                }
                out.add(deleteOne(name));
            }
        } else {
            for (String name : req.topicNames()) {
                out.add(deleteOne(name));
            }
        }
        return new DeleteTopicsResponse().setResponses(out);
    }

    private DeleteTopicsResponse.DeletableTopicResult deleteOne(String name) {
        TopicService.Result r = topics.delete(name);
        DeleteTopicsResponse.DeletableTopicResult res = new DeleteTopicsResponse.DeletableTopicResult().setName(name)
            .setErrorCode(r.error().code()).setErrorMessage(r.message());
        if (r.topic() != null) {
            res.setTopicId(r.topic().topicId());
        }
        return res;
    }

    private CreatePartitionsResponse createPartitions(CreatePartitionsRequest req) {
        List<CreatePartitionsResponse.CreatePartitionsTopicResult> out = new ArrayList<>();
        for (CreatePartitionsRequest.CreatePartitionsTopic t : req.topics()) {
            TopicService.Result r;
            if (t.assignments() != null) {
                r = validateAssignments(t);
                if (r == null) {
                    r = topics.createPartitions(t.name(), t.count(), req.validateOnly());
                }
            } else {
                r = topics.createPartitions(t.name(), t.count(), req.validateOnly());
            }
            out.add(new CreatePartitionsResponse.CreatePartitionsTopicResult().setName(t.name())
                .setErrorCode(r.error().code()).setErrorMessage(r.message()));
        }
        return new CreatePartitionsResponse().setResults(out);
    }

    private TopicService.Result validateAssignments(CreatePartitionsRequest.CreatePartitionsTopic t) {
        for (CreatePartitionsRequest.CreatePartitionsAssignment a : t.assignments()) {
            for (int b : a.brokerIds()) {
                if (b != config.brokerId()) {
                    return new TopicService.Result(Errors.INVALID_REPLICA_ASSIGNMENT, "Unknown broker " + b, null);
                }
            }
        }
        return null;
    }

    /** One config as DescribeConfigs reports it. Sources: 1 topic override, 4 static broker, 5 default. */
    private record ConfigEntry(String name, String value, byte source, byte type) {
    }

    private List<ConfigEntry> topicConfigEntries(TopicMetadata t) {
        TopicConfigs tc = topics.topicConfigs();
        List<ConfigEntry> out = new ArrayList<>();
        for (String key : TopicConfigs.topicKeys()) {
            String override = t.configs().get(key);
            if (override != null) {
                out.add(new ConfigEntry(key, override, (byte) 1, typeOf(key)));
            } else {
                String broker = TopicConfigs.brokerSynonym(key);
                byte source = broker != null && config.originals().containsKey(broker) ? (byte) 4 : (byte) 5;
                out.add(new ConfigEntry(key, tc.brokerDefaults().get(key), source, typeOf(key)));
            }
        }
        return out;
    }

    private static byte typeOf(String key) {
        return switch (key) {
            case "cleanup.policy" -> 7;
            case "message.timestamp.type" -> 2;
            case "min.cleanable.dirty.ratio" -> 6;
            case "segment.bytes", "segment.index.bytes", "index.interval.bytes", "max.message.bytes",
                "min.insync.replicas" -> 3;
            default -> 5;
        };
    }

    private DescribeConfigsResponse describeConfigs(DescribeConfigsRequest req) {
        List<DescribeConfigsResponse.DescribeConfigsResult> out = new ArrayList<>();
        for (DescribeConfigsRequest.DescribeConfigsResource r : req.resources()) {
            DescribeConfigsResponse.DescribeConfigsResult res = new DescribeConfigsResponse.DescribeConfigsResult()
                .setResourceType(r.resourceType()).setResourceName(r.resourceName()).setConfigs(new ArrayList<>());
            List<ConfigEntry> entries;
            if (r.resourceType() == 2) {
                TopicMetadata t = store.topics().get(r.resourceName());
                if (t == null) {
                    out.add(res.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                        .setErrorMessage("Topic " + r.resourceName() + " does not exist"));
                    continue;
                }
                entries = topicConfigEntries(t);
            } else if (r.resourceType() == 4) {
                if (!r.resourceName().isEmpty() && !r.resourceName().equals(Integer.toString(config.brokerId()))) {
                    out.add(res.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("Unexpected broker id, expected " + config.brokerId() + " or empty string, but received "
                            + r.resourceName()));
                    continue;
                }
                entries = brokerConfigEntries();
            } else {
                out.add(res.setErrorCode(Errors.INVALID_REQUEST.code())
                    .setErrorMessage("Unsupported resource type " + r.resourceType()));
                continue;
            }
            for (ConfigEntry e : entries) {
                if (r.configurationKeys() != null && !r.configurationKeys().contains(e.name())) {
                    continue;
                }
                res.configs().add(new DescribeConfigsResponse.DescribeConfigsResourceResult().setName(e.name())
                    .setValue(e.value()).setReadOnly(r.resourceType() == 4).setConfigSource(e.source())
                    .setIsSensitive(false).setConfigType(e.type()).setSynonyms(new ArrayList<>()));
            }
            out.add(res.setErrorCode(Errors.NONE.code()));
        }
        return new DescribeConfigsResponse().setResults(out);
    }

    private List<ConfigEntry> brokerConfigEntries() {
        List<ConfigEntry> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : config.values().entrySet()) {
            Object v = e.getValue();
            String value = v == null ? null : v instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList())
                : String.valueOf(v);
            out.add(new ConfigEntry(e.getKey(), value, config.originals().containsKey(e.getKey()) ? (byte) 4 : (byte) 5,
                (byte) 2));
        }
        return out;
    }

    private IncrementalAlterConfigsResponse alterConfigs(IncrementalAlterConfigsRequest req) {
        List<IncrementalAlterConfigsResponse.AlterConfigsResourceResponse> out = new ArrayList<>();
        for (IncrementalAlterConfigsRequest.AlterConfigsResource r : req.resources()) {
            IncrementalAlterConfigsResponse.AlterConfigsResourceResponse res =
                new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse().setResourceType(r.resourceType())
                    .setResourceName(r.resourceName());
            if (r.resourceType() != 2) {
                out.add(res.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(
                    "Only topic configs can be altered on this broker (broker configs are static: edit server.properties)"));
                continue;
            }
            List<TopicService.ConfigOp> ops = new ArrayList<>();
            for (IncrementalAlterConfigsRequest.AlterableConfig c : r.configs()) {
                ops.add(new TopicService.ConfigOp(c.name(), c.configOperation(), c.value()));
            }
            TopicService.Result result = topics.alterConfigs(r.resourceName(), ops, req.validateOnly());
            out.add(res.setErrorCode(result.error().code()).setErrorMessage(result.message()));
        }
        return new IncrementalAlterConfigsResponse().setResponses(out);
    }

    private DescribeClusterResponse describeCluster() {
        return new DescribeClusterResponse().setErrorCode(Errors.NONE.code()).setClusterId(store.clusterId())
            .setControllerId(config.brokerId())
            .setBrokers(List.of(new DescribeClusterResponse.DescribeClusterBroker().setBrokerId(config.brokerId())
                .setHost(advertised.host()).setPort(advertised.port())));
    }
}
