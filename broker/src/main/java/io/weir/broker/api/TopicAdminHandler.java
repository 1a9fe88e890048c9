package io.weir.broker.api;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.TopicService;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.CreatePartitionsRequest;
import io.weir.protocol.message.CreatePartitionsResponse;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.CreateTopicsResponse;
import io.weir.protocol.message.DeleteTopicsRequest;
import io.weir.protocol.message.DeleteTopicsResponse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Topic administration: CreateTopics, DeleteTopics and CreatePartitions, answered per topic through
 * the {@link TopicService}, each waiting at most the request's {@code timeoutMs} for the controller
 * (not at all when it is {@code <= 0}; REQUEST_TIMED_OUT past it, as Kafka answers).
 *
 * <p>Thread-safe.
 */
public final class TopicAdminHandler implements ApiHandler {
    private final BrokerConfig config;
    private final MetadataStore store;
    private final TopicService topics;
    private final ConfigEntries configEntries;

    public TopicAdminHandler(BrokerConfig config, MetadataStore store, TopicService topics) {
        this.config = config;
        this.store = store;
        this.topics = topics;
        this.configEntries = new ConfigEntries(config, topics.topicConfigs());
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.CREATE_TOPICS, VersionRange.all(ApiKeys.CREATE_TOPICS),
            ApiKeys.DELETE_TOPICS, VersionRange.all(ApiKeys.DELETE_TOPICS),
            ApiKeys.CREATE_PARTITIONS, VersionRange.all(ApiKeys.CREATE_PARTITIONS));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        switch (ctx.api()) {
            case CREATE_TOPICS -> ctx.respond(createTopics((CreateTopicsRequest) body));
            case DELETE_TOPICS -> ctx.respond(deleteTopics((DeleteTopicsRequest) body, ctx.apiVersion()));
            case CREATE_PARTITIONS -> ctx.respond(createPartitions((CreatePartitionsRequest) body));
            default -> throw new IllegalStateException("not a topic admin API: " + ctx.api());
        }
    }

    private CreateTopicsResponse createTopics(CreateTopicsRequest req) {
        List<CreateTopicsResponse.CreatableTopicResult> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
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
                configs, req.validateOnly(), req.timeoutMs());
            r.setErrorCode(res.error().code()).setErrorMessage(res.message());
            if (res.error() == Errors.NONE) {
                TopicMetadata tm = res.topic();
                r.setTopicId(tm.topicId()).setNumPartitions(tm.partitionCount()).setReplicationFactor(tm.replicationFactor());
                List<CreateTopicsResponse.CreatableTopicConfigs> cfgs = new ArrayList<>();
                for (ConfigEntries.Entry e : configEntries.topic(tm)) {
                    cfgs.add(new CreateTopicsResponse.CreatableTopicConfigs().setName(e.name()).setValue(e.value())
                        .setReadOnly(false).setConfigSource(e.source().code()).setIsSensitive(false));
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
                    name = TopicLookup.nameOf(store, id);
                    if (name == null) {
                        out.add(new DeleteTopicsResponse.DeletableTopicResult().setTopicId(id)
                            .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                        continue;
                    }
                }
                out.add(deleteOne(name, req.timeoutMs()));
            }
        } else {
            for (String name : req.topicNames()) {
                out.add(deleteOne(name, req.timeoutMs()));
            }
        }
        return new DeleteTopicsResponse().setResponses(out);
    }

    private DeleteTopicsResponse.DeletableTopicResult deleteOne(String name, long timeoutMs) {
        TopicService.Result r = topics.delete(name, timeoutMs);
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
            TopicService.Result r = t.assignments() != null ? validateAssignments(t) : null;
            if (r == null) {
                r = topics.createPartitions(t.name(), t.count(), req.validateOnly(), req.timeoutMs());
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

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        switch (ApiKeys.forId(header.apiKey())) {
            case CREATE_TOPICS -> {
                List<CreateTopicsResponse.CreatableTopicResult> out = new ArrayList<>();
                for (CreateTopicsRequest.CreatableTopic t : ((CreateTopicsRequest) body).topics()) {
                    out.add(new CreateTopicsResponse.CreatableTopicResult().setName(t.name()).setErrorCode(error.code()));
                }
                return new CreateTopicsResponse().setTopics(out);
            }
            case DELETE_TOPICS -> {
                DeleteTopicsRequest req = (DeleteTopicsRequest) body;
                List<DeleteTopicsResponse.DeletableTopicResult> out = new ArrayList<>();
                if (header.apiVersion() >= 6) {
                    for (DeleteTopicsRequest.DeleteTopicState s : req.topics()) {
                        DeleteTopicsResponse.DeletableTopicResult r = new DeleteTopicsResponse.DeletableTopicResult()
                            .setTopicId(s.topicId()).setErrorCode(error.code());
                        out.add(s.name() == null ? r : r.setName(s.name()));
                    }
                } else {
                    for (String name : req.topicNames()) {
                        out.add(new DeleteTopicsResponse.DeletableTopicResult().setName(name).setErrorCode(error.code()));
                    }
                }
                return new DeleteTopicsResponse().setResponses(out);
            }
            case CREATE_PARTITIONS -> {
                List<CreatePartitionsResponse.CreatePartitionsTopicResult> out = new ArrayList<>();
                for (CreatePartitionsRequest.CreatePartitionsTopic t : ((CreatePartitionsRequest) body).topics()) {
                    out.add(new CreatePartitionsResponse.CreatePartitionsTopicResult().setName(t.name())
                        .setErrorCode(error.code()));
                }
                return new CreatePartitionsResponse().setResults(out);
            }
            default -> throw new IllegalStateException("not a topic admin API: " + header.apiKey());
        }
    }
}
