package io.weir.broker.api;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.DynamicBrokerConfigs;
import io.weir.broker.server.TopicService;
import io.weir.protocol.ConfigSource;
import io.weir.protocol.ConfigType;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.ConfigResourceType;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.AlterConfigsRequest;
import io.weir.protocol.message.AlterConfigsResponse;
import io.weir.protocol.message.DescribeConfigsRequest;
import io.weir.protocol.message.DescribeConfigsResponse;
import io.weir.protocol.message.IncrementalAlterConfigsRequest;
import io.weir.protocol.message.IncrementalAlterConfigsResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DescribeConfigs (topics and this broker), and IncrementalAlterConfigs and the legacy AlterConfigs
 * (topics only: broker configs are static, read from server.properties), answered per resource.
 * AlterConfigs replaces a topic's whole set of overrides; IncrementalAlterConfigs changes single keys.
 *
 * <p>Thread-safe.
 */
public final class ConfigsHandler implements ApiHandler {
    private final BrokerConfig config;
    private final MetadataStore store;
    private final TopicService topics;
    private final ConfigEntries configEntries;
    /** The replication throttles; null: every broker config is static. */
    private final DynamicBrokerConfigs dynamic;

    public ConfigsHandler(BrokerConfig config, MetadataStore store, TopicService topics) {
        this(config, store, topics, null);
    }

    public ConfigsHandler(BrokerConfig config, MetadataStore store, TopicService topics, DynamicBrokerConfigs dynamic) {
        this.config = config;
        this.store = store;
        this.topics = topics;
        this.configEntries = new ConfigEntries(config, topics.topicConfigs());
        this.dynamic = dynamic;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.DESCRIBE_CONFIGS, VersionRange.all(ApiKeys.DESCRIBE_CONFIGS),
            ApiKeys.INCREMENTAL_ALTER_CONFIGS, VersionRange.all(ApiKeys.INCREMENTAL_ALTER_CONFIGS),
            ApiKeys.ALTER_CONFIGS, VersionRange.all(ApiKeys.ALTER_CONFIGS));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        switch (ctx.api()) {
            case DESCRIBE_CONFIGS -> ctx.respond(describeConfigs((DescribeConfigsRequest) body));
            case INCREMENTAL_ALTER_CONFIGS -> ctx.respond(alterConfigs((IncrementalAlterConfigsRequest) body));
            case ALTER_CONFIGS -> ctx.respond(legacyAlterConfigs((AlterConfigsRequest) body));
            default -> throw new IllegalStateException("not a configs API: " + ctx.api());
        }
    }

    private DescribeConfigsResponse describeConfigs(DescribeConfigsRequest req) {
        List<DescribeConfigsResponse.DescribeConfigsResult> out = new ArrayList<>();
        for (DescribeConfigsRequest.DescribeConfigsResource r : req.resources()) {
            DescribeConfigsResponse.DescribeConfigsResult res = new DescribeConfigsResponse.DescribeConfigsResult()
                .setResourceType(r.resourceType()).setResourceName(r.resourceName()).setConfigs(new ArrayList<>());
            ConfigResourceType type = ConfigResourceType.forCode(r.resourceType());
            List<ConfigEntries.Entry> entries;
            if (type == ConfigResourceType.TOPIC) {
                TopicMetadata t = store.topics().get(r.resourceName());
                if (t == null) {
                    out.add(res.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                        .setErrorMessage("Topic " + r.resourceName() + " does not exist"));
                    continue;
                }
                entries = configEntries.topic(t);
            } else if (type == ConfigResourceType.BROKER) {
                if (!r.resourceName().isEmpty() && !r.resourceName().equals(Integer.toString(config.brokerId()))) {
                    out.add(res.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("Unexpected broker id, expected " + config.brokerId() + " or empty string, but received "
                            + r.resourceName()));
                    continue;
                }
                entries = new ArrayList<>(configEntries.broker());
                if (dynamic != null) {
                    dynamic.get().forEach((k, v) -> entries.add(new ConfigEntries.Entry(k, v, ConfigSource.DYNAMIC_BROKER_CONFIG,
                        ConfigType.LONG, List.of(new ConfigEntries.Synonym(k, v, ConfigSource.DYNAMIC_BROKER_CONFIG)),
                        "Replication throttle in bytes per second (follower.replication.throttled.rate is applied by the replica"
                            + " fetchers, leader.replication.throttled.rate by the leader,"
                            + " replica.alter.log.dirs.io.max.bytes.per.second by the copy of a replica to another log dir).")));
                }
            } else {
                out.add(res.setErrorCode(Errors.INVALID_REQUEST.code())
                    .setErrorMessage("Unsupported resource type " + r.resourceType()));
                continue;
            }
            for (ConfigEntries.Entry e : entries) {
                boolean readOnly = type == ConfigResourceType.BROKER && e.source() != ConfigSource.DYNAMIC_BROKER_CONFIG;
                if (r.configurationKeys() != null && !r.configurationKeys().contains(e.name())) {
                    continue;
                }
                List<DescribeConfigsResponse.DescribeConfigsSynonym> synonyms = new ArrayList<>();
                if (req.includeSynonyms()) {
                    for (ConfigEntries.Synonym s : e.synonyms()) {
                        synonyms.add(new DescribeConfigsResponse.DescribeConfigsSynonym().setName(s.name())
                            .setValue(s.value()).setSource(s.source().code()));
                    }
                }
                res.configs().add(new DescribeConfigsResponse.DescribeConfigsResourceResult().setName(e.name())
                    .setValue(e.value()).setReadOnly(readOnly).setConfigSource(e.source().code())
                    .setIsSensitive(false).setConfigType(e.type().code()).setSynonyms(synonyms)
                    .setDocumentation(req.includeDocumentation() ? e.documentation() : null));
            }
            out.add(res.setErrorCode(Errors.NONE.code()));
        }
        return new DescribeConfigsResponse().setResults(out);
    }

    private IncrementalAlterConfigsResponse alterConfigs(IncrementalAlterConfigsRequest req) {
        List<IncrementalAlterConfigsResponse.AlterConfigsResourceResponse> out = new ArrayList<>();
        for (IncrementalAlterConfigsRequest.AlterConfigsResource r : req.resources()) {
            IncrementalAlterConfigsResponse.AlterConfigsResourceResponse res =
                new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse().setResourceType(r.resourceType())
                    .setResourceName(r.resourceName());
            if (ConfigResourceType.forCode(r.resourceType()) == ConfigResourceType.BROKER && dynamic != null) {
                Errors[] error = {Errors.NONE};
                String message = alterBrokerConfigs(r, req.validateOnly(), error);
                out.add(res.setErrorCode(error[0].code()).setErrorMessage(message));
                continue;
            }
            if (ConfigResourceType.forCode(r.resourceType()) != ConfigResourceType.TOPIC) {
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

    /**
     * SET or DELETE of this broker's replication throttles ({@link DynamicBrokerConfigs#KEYS}, longs of at
     * least 0); anything else is refused, nothing changed. Returns the error message (null when none).
     */
    private String alterBrokerConfigs(IncrementalAlterConfigsRequest.AlterConfigsResource r, boolean validateOnly,
                                      Errors[] error) {
        if (!r.resourceName().equals(Integer.toString(config.brokerId()))) {
            error[0] = Errors.INVALID_REQUEST;
            return "Only this broker's own configs (broker " + config.brokerId() + ") can be altered here, not '"
                + r.resourceName() + "'";
        }
        Map<String, String> next = new java.util.TreeMap<>(dynamic.get());
        for (IncrementalAlterConfigsRequest.AlterableConfig c : r.configs()) {
            if (!DynamicBrokerConfigs.KEYS.contains(c.name())) {
                error[0] = Errors.INVALID_REQUEST;
                return "Broker config " + c.name() + " cannot be altered dynamically (broker configs are static: edit"
                    + " server.properties); only " + DynamicBrokerConfigs.KEYS + " can";
            }
            if (c.configOperation() == 1) { // DELETE
                next.remove(c.name());
            } else if (c.configOperation() == 0) { // SET
                try {
                    if (c.value() == null || Long.parseLong(c.value().trim()) < 0) {
                        throw new NumberFormatException("negative");
                    }
                } catch (NumberFormatException e) {
                    error[0] = Errors.INVALID_CONFIG;
                    return "Invalid value " + c.value() + " for configuration " + c.name() + ": a rate of at least 0";
                }
                next.put(c.name(), c.value().trim());
            } else {
                error[0] = Errors.INVALID_CONFIG;
                return "APPEND and SUBTRACT apply to list configs only, not " + c.name();
            }
        }
        if (!validateOnly) {
            dynamic.set(next);
        }
        return null;
    }

    private AlterConfigsResponse legacyAlterConfigs(AlterConfigsRequest req) {
        List<AlterConfigsResponse.AlterConfigsResourceResponse> out = new ArrayList<>();
        for (AlterConfigsRequest.AlterConfigsResource r : req.resources()) {
            AlterConfigsResponse.AlterConfigsResourceResponse res = new AlterConfigsResponse.AlterConfigsResourceResponse()
                .setResourceType(r.resourceType()).setResourceName(r.resourceName());
            if (ConfigResourceType.forCode(r.resourceType()) != ConfigResourceType.TOPIC) {
                out.add(res.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(
                    "Only topic configs can be altered on this broker (broker configs are static: edit server.properties)"));
                continue;
            }
            Map<String, String> configs = new LinkedHashMap<>();
            for (AlterConfigsRequest.AlterableConfig c : r.configs()) {
                configs.put(c.name(), c.value());
            }
            TopicService.Result result = topics.replaceConfigs(r.resourceName(), configs, req.validateOnly());
            out.add(res.setErrorCode(result.error().code()).setErrorMessage(result.message()));
        }
        return new AlterConfigsResponse().setResponses(out);
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        if (ApiKeys.forId(header.apiKey()) == ApiKeys.ALTER_CONFIGS) {
            List<AlterConfigsResponse.AlterConfigsResourceResponse> out = new ArrayList<>();
            for (AlterConfigsRequest.AlterConfigsResource r : ((AlterConfigsRequest) body).resources()) {
                out.add(new AlterConfigsResponse.AlterConfigsResourceResponse().setResourceType(r.resourceType())
                    .setResourceName(r.resourceName()).setErrorCode(error.code()));
            }
            return new AlterConfigsResponse().setResponses(out);
        }
        if (ApiKeys.forId(header.apiKey()) == ApiKeys.DESCRIBE_CONFIGS) {
            List<DescribeConfigsResponse.DescribeConfigsResult> out = new ArrayList<>();
            for (DescribeConfigsRequest.DescribeConfigsResource r : ((DescribeConfigsRequest) body).resources()) {
                out.add(new DescribeConfigsResponse.DescribeConfigsResult().setResourceType(r.resourceType())
                    .setResourceName(r.resourceName()).setErrorCode(error.code()).setConfigs(new ArrayList<>()));
            }
            return new DescribeConfigsResponse().setResults(out);
        }
        List<IncrementalAlterConfigsResponse.AlterConfigsResourceResponse> out = new ArrayList<>();
        for (IncrementalAlterConfigsRequest.AlterConfigsResource r : ((IncrementalAlterConfigsRequest) body).resources()) {
            out.add(new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse().setResourceType(r.resourceType())
                .setResourceName(r.resourceName()).setErrorCode(error.code()));
        }
        return new IncrementalAlterConfigsResponse().setResponses(out);
    }
}
