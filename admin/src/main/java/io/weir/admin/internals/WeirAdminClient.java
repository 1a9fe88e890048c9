package io.weir.admin.internals;

import io.weir.admin.Admin;
import io.weir.admin.AdminClientConfig;
import io.weir.admin.AdminOptions;
import io.weir.admin.AdminResult;
import io.weir.admin.AlterConfigOp;
import io.weir.admin.ClusterDescription;
import io.weir.admin.Config;
import io.weir.admin.ConfigEntry;
import io.weir.admin.ConfigResource;
import io.weir.admin.ConsumerGroupDescription;
import io.weir.admin.ConsumerGroupListing;
import io.weir.admin.CreatedTopic;
import io.weir.admin.ElectionType;
import io.weir.admin.ListOffsetsResultInfo;
import io.weir.admin.LogDirDescription;
import io.weir.admin.NewPartitions;
import io.weir.admin.NewTopic;
import io.weir.admin.OffsetSpec;
import io.weir.admin.PartitionReassignment;
import io.weir.admin.ReplicaInfo;
import io.weir.admin.TopicDescription;
import io.weir.admin.TopicListing;
import io.weir.admin.TopicPartitionInfo;
import io.weir.admin.errors.AdminErrors;
import io.weir.admin.errors.UnknownTopicOrPartitionException;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.consumer.OffsetAndMetadata;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.CommonClientConfigs;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.RequestBuilder;
import io.weir.protocol.client.UnsupportedVersionException;
import io.weir.protocol.message.AlterConfigsRequest;
import io.weir.protocol.message.AlterReplicaLogDirsRequest;
import io.weir.protocol.message.AlterReplicaLogDirsResponse;
import io.weir.protocol.message.AlterPartitionReassignmentsRequest;
import io.weir.protocol.message.AlterPartitionReassignmentsResponse;
import io.weir.protocol.message.ListPartitionReassignmentsRequest;
import io.weir.protocol.message.ListPartitionReassignmentsResponse;
import io.weir.protocol.message.AlterConfigsResponse;
import io.weir.protocol.message.CreatePartitionsRequest;
import io.weir.protocol.message.CreatePartitionsResponse;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.CreateTopicsResponse;
import io.weir.protocol.message.DeleteRecordsRequest;
import io.weir.protocol.message.DeleteRecordsResponse;
import io.weir.protocol.message.DeleteTopicsRequest;
import io.weir.protocol.message.DeleteTopicsResponse;
import io.weir.protocol.message.DescribeClusterRequest;
import io.weir.protocol.message.DescribeClusterResponse;
import io.weir.protocol.message.DescribeConfigsRequest;
import io.weir.protocol.message.DescribeConfigsResponse;
import io.weir.protocol.message.DescribeLogDirsRequest;
import io.weir.protocol.message.DescribeLogDirsResponse;
import io.weir.protocol.message.ElectLeadersRequest;
import io.weir.protocol.message.ElectLeadersResponse;
import io.weir.protocol.message.IncrementalAlterConfigsRequest;
import io.weir.protocol.message.IncrementalAlterConfigsResponse;
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.ListOffsetsResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.IntFunction;

/**
 * The {@link Admin} implementation: each call becomes one request (or one per resource for
 * configs) through a {@link NetworkClient}, which handles versions, retries and the deadline.
 *
 * <p>Routing follows Kafka's ZooKeeper-mode admin client: topic creation, deletion and partition
 * growth go to the controller (retried on NOT_CONTROLLER after a metadata refresh); metadata reads
 * and topic configs go to the least loaded broker; broker configs go to that broker. Thread-safe;
 * the futures complete on the network client's I/O thread, so the mapping code here never blocks.
 */
public final class WeirAdminClient implements Admin {
    private final NetworkClient client;
    private final Time time;
    private final int defaultApiTimeoutMs;
    private final GroupOperations groups;
    private final TransactionOperations transactions;

    public WeirAdminClient(AdminClientConfig config) {
        this(config, Time.SYSTEM);
    }

    public WeirAdminClient(AdminClientConfig config, Time time) {
        this.time = time;
        this.defaultApiTimeoutMs = config.defaultApiTimeoutMs();
        this.client = new NetworkClient(CommonClientConfigs.networkSettings(config, 100), time);
        this.groups = new GroupOperations(client, time, deadlineMs -> metadata(List.of(), deadlineMs));
        this.transactions = new TransactionOperations(client, time, this::metadata);
    }

    private long deadline(AdminOptions options) {
        Integer t = options.timeoutMs();
        return time.milliseconds() + (t == null ? defaultApiTimeoutMs : t);
    }

    private int timeoutMs(AdminOptions options) {
        Integer t = options.timeoutMs();
        return t == null ? defaultApiTimeoutMs : t;
    }

    /** A builder from lambdas; {@code retriable} finds a top-level (or any-item) retriable error. */
    static RequestBuilder builder(ApiKeys api, IntFunction<ApiMessage> build, Function<ApiMessage, Errors> retriable) {
        return new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return api;
            }

            @Override
            public ApiMessage build(short version) {
                return build.apply(version);
            }

            @Override
            public Errors retriableError(ApiMessage response) {
                return retriable == null ? Errors.NONE : retriable.apply(response);
            }
        };
    }

    /** Controller-bound requests carry NOT_CONTROLLER per item; one such item means "resend to the new controller". */
    private static Errors notControllerIn(List<Short> codes) {
        for (short c : codes) {
            if (c == Errors.NOT_CONTROLLER.code()) {
                return Errors.NOT_CONTROLLER;
            }
        }
        return Errors.NONE;
    }

    /** Unwraps CompletionException so futures fail with the real cause. */
    static Throwable cause(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    static <K, V> Map<K, CompletableFuture<V>> futures(Collection<K> keys) {
        Map<K, CompletableFuture<V>> m = new LinkedHashMap<>();
        for (K k : keys) {
            m.put(k, new CompletableFuture<>());
        }
        return m;
    }

    static <K, V> void failAll(Map<K, CompletableFuture<V>> fs, Throwable t) {
        fs.values().forEach(f -> f.completeExceptionally(cause(t)));
    }

    /** Fails futures the response did not mention: a broker must answer for every item. */
    private static <K, V> void failMissing(Map<K, CompletableFuture<V>> fs, String what) {
        fs.forEach((k, f) -> {
            if (!f.isDone()) {
                f.completeExceptionally(new IllegalStateException("the broker's " + what + " response omitted " + k));
            }
        });
    }

    // ------------------------------------------------------------------ topics

    @Override
    public AdminResult<String, CreatedTopic> createTopics(Collection<NewTopic> topics, AdminOptions options) {
        Map<String, NewTopic> byName = new LinkedHashMap<>();
        for (NewTopic t : topics) {
            byName.put(t.name(), t);
        }
        Map<String, CompletableFuture<CreatedTopic>> fs = futures(byName.keySet());
        if (fs.isEmpty()) {
            return new AdminResult<>(fs);
        }
        int timeoutMs = timeoutMs(options);
        RequestBuilder b = builder(ApiKeys.CREATE_TOPICS, v -> {
            List<CreateTopicsRequest.CreatableTopic> list = new ArrayList<>();
            for (NewTopic t : byName.values()) {
                List<CreateTopicsRequest.CreatableTopicConfig> configs = new ArrayList<>();
                new TreeMap<>(t.configs()).forEach((k, val) ->
                    configs.add(new CreateTopicsRequest.CreatableTopicConfig().setName(k).setValue(val)));
                list.add(new CreateTopicsRequest.CreatableTopic().setName(t.name())
                    .setNumPartitions(t.numPartitions().orElse(-1))
                    .setReplicationFactor(t.replicationFactor().orElse((short) -1))
                    .setConfigs(configs));
            }
            return new CreateTopicsRequest().setTopics(list).setTimeoutMs(timeoutMs).setValidateOnly(options.validateOnly());
        }, r -> notControllerIn(((CreateTopicsResponse) r).topics().stream().map(t -> t.errorCode()).toList()));
        client.send(NodeSelector.controller(), b, deadline(options)).whenComplete((resp, err) -> {
            if (err != null) {
                failAll(fs, err);
                return;
            }
            for (CreateTopicsResponse.CreatableTopicResult r : ((CreateTopicsResponse) resp).topics()) {
                CompletableFuture<CreatedTopic> f = fs.get(r.name());
                if (f == null) {
                    continue;
                }
                settle(f, r.errorCode(), r.errorMessage(),
                    () -> new CreatedTopic(r.name(), r.topicId(), r.numPartitions(), r.replicationFactor()));
            }
            failMissing(fs, "CreateTopics");
        });
        return new AdminResult<>(fs);
    }

    @Override
    public AdminResult<String, Void> deleteTopics(Collection<String> topics, AdminOptions options) {
        Map<String, CompletableFuture<Void>> fs = futures(new LinkedHashSet<>(topics));
        if (fs.isEmpty()) {
            return new AdminResult<>(fs);
        }
        List<String> names = new ArrayList<>(fs.keySet());
        int timeoutMs = timeoutMs(options);
        RequestBuilder b = builder(ApiKeys.DELETE_TOPICS, v -> {
            DeleteTopicsRequest r = new DeleteTopicsRequest().setTimeoutMs(timeoutMs);
            if (v >= 6) {
                List<DeleteTopicsRequest.DeleteTopicState> list = new ArrayList<>();
                names.forEach(n -> list.add(new DeleteTopicsRequest.DeleteTopicState().setName(n)));
                r.setTopics(list);
            } else {
                r.setTopicNames(names);
            }
            return r;
        }, r -> notControllerIn(((DeleteTopicsResponse) r).responses().stream().map(t -> t.errorCode()).toList()));
        client.send(NodeSelector.controller(), b, deadline(options)).whenComplete((resp, err) -> {
            if (err != null) {
                failAll(fs, err);
                return;
            }
            for (DeleteTopicsResponse.DeletableTopicResult r : ((DeleteTopicsResponse) resp).responses()) {
                CompletableFuture<Void> f = r.name() == null ? null : fs.get(r.name());
                if (f == null) {
                    continue;
                }
                settle(f, r.errorCode(), r.errorMessage(), () -> null);
            }
            failMissing(fs, "DeleteTopics");
        });
        return new AdminResult<>(fs);
    }

    CompletableFuture<MetadataResponse> metadata(List<String> topics, long deadlineMs) {
        RequestBuilder b = builder(ApiKeys.METADATA, v -> {
            MetadataRequest r = new MetadataRequest().setAllowAutoTopicCreation(false);
            if (topics == null) {
                r.setTopics(null);
            } else {
                List<MetadataRequest.MetadataRequestTopic> list = new ArrayList<>();
                topics.forEach(t -> list.add(new MetadataRequest.MetadataRequestTopic().setName(t)));
                r.setTopics(list);
            }
            return r;
        }, null);
        return client.send(NodeSelector.leastLoaded(), b, deadlineMs).thenApply(r -> (MetadataResponse) r);
    }

    @Override
    public CompletableFuture<Map<String, TopicListing>> listTopics(AdminOptions options) {
        return metadata(null, deadline(options)).thenApply(resp -> {
            Map<String, TopicListing> out = new TreeMap<>();
            for (MetadataResponse.MetadataResponseTopic t : resp.topics()) {
                if (t.errorCode() == Errors.NONE.code() && t.name() != null && (options.listInternal() || !t.isInternal())) {
                    out.put(t.name(), new TopicListing(t.name(), t.topicId(), t.isInternal()));
                }
            }
            return out;
        });
    }

    @Override
    public AdminResult<String, TopicDescription> describeTopics(Collection<String> topics, AdminOptions options) {
        Map<String, CompletableFuture<TopicDescription>> fs = futures(new LinkedHashSet<>(topics));
        if (fs.isEmpty()) {
            return new AdminResult<>(fs);
        }
        metadata(new ArrayList<>(fs.keySet()), deadline(options)).whenComplete((resp, err) -> {
            if (err != null) {
                failAll(fs, err);
                return;
            }
            Map<Integer, Node> nodes = new HashMap<>();
            for (MetadataResponse.MetadataResponseBroker b : resp.brokers()) {
                nodes.put(b.nodeId(), new Node(b.nodeId(), b.host(), b.port(), b.rack()));
            }
            for (MetadataResponse.MetadataResponseTopic t : resp.topics()) {
                CompletableFuture<TopicDescription> f = t.name() == null ? null : fs.get(t.name());
                if (f == null) {
                    continue;
                }
                if (t.errorCode() != Errors.NONE.code()) {
                    f.completeExceptionally(AdminErrors.exception(t.errorCode(), null));
                    continue;
                }
                List<TopicPartitionInfo> parts = new ArrayList<>();
                for (MetadataResponse.MetadataResponsePartition p : t.partitions()) {
                    parts.add(new TopicPartitionInfo(p.partitionIndex(),
                        p.leaderId() < 0 ? null : node(nodes, p.leaderId()),
                        p.replicaNodes().stream().map(id -> node(nodes, id)).toList(),
                        p.isrNodes().stream().map(id -> node(nodes, id)).toList()));
                }
                parts.sort(Comparator.comparingInt(TopicPartitionInfo::partition));
                f.complete(new TopicDescription(t.name(), t.isInternal(), t.topicId(), parts));
            }
            failMissing(fs, "Metadata");
        });
        return new AdminResult<>(fs);
    }

    /** A replica on a broker that is not live has no endpoint; Kafka shows such nodes with only an id. */
    private static Node node(Map<Integer, Node> nodes, int id) {
        Node n = nodes.get(id);
        return n != null ? n : new Node(id, "", 0);
    }

    @Override
    public AdminResult<String, Void> createPartitions(Map<String, NewPartitions> newPartitions, AdminOptions options) {
        Map<String, CompletableFuture<Void>> fs = futures(newPartitions.keySet());
        if (fs.isEmpty()) {
            return new AdminResult<>(fs);
        }
        Map<String, NewPartitions> copy = new LinkedHashMap<>(newPartitions);
        int timeoutMs = timeoutMs(options);
        RequestBuilder b = builder(ApiKeys.CREATE_PARTITIONS, v -> {
            List<CreatePartitionsRequest.CreatePartitionsTopic> list = new ArrayList<>();
            copy.forEach((name, np) -> list.add(new CreatePartitionsRequest.CreatePartitionsTopic().setName(name)
                .setCount(np.totalCount()).setAssignments(null)));
            return new CreatePartitionsRequest().setTopics(list).setTimeoutMs(timeoutMs).setValidateOnly(options.validateOnly());
        }, r -> notControllerIn(((CreatePartitionsResponse) r).results().stream().map(t -> t.errorCode()).toList()));
        client.send(NodeSelector.controller(), b, deadline(options)).whenComplete((resp, err) -> {
            if (err != null) {
                failAll(fs, err);
                return;
            }
            for (CreatePartitionsResponse.CreatePartitionsTopicResult r : ((CreatePartitionsResponse) resp).results()) {
                CompletableFuture<Void> f = fs.get(r.name());
                if (f == null) {
                    continue;
                }
                settle(f, r.errorCode(), r.errorMessage(), () -> null);
            }
            failMissing(fs, "CreatePartitions");
        });
        return new AdminResult<>(fs);
    }

    // ------------------------------------------------------------------ configs

    /** Topic configs and the cluster-wide broker default go to any broker; a broker's own configs to it. */
    private static NodeSelector targetFor(ConfigResource r) {
        if (r.type() == ConfigResource.Type.BROKER || r.type() == ConfigResource.Type.BROKER_LOGGER) {
            if (!r.name().isEmpty()) {
                try {
                    return NodeSelector.node(Integer.parseInt(r.name()));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("broker config resource name must be a broker id: " + r.name());
                }
            }
        }
        return NodeSelector.leastLoaded();
    }

    /** Reads the answer for one resource into its future; false if the response did not mention it. */
    @FunctionalInterface
    private interface ResourceAnswer<T> {
        boolean settle(ApiMessage response, CompletableFuture<T> future);
    }

    /**
     * One request per config resource, each sent to the broker that owns it ({@link #targetFor}): the
     * shape DescribeConfigs, IncrementalAlterConfigs and AlterConfigs share.
     */
    private <T> AdminResult<ConfigResource, T> perResource(Collection<ConfigResource> resources, AdminOptions options,
                                                           ApiKeys api, String apiName,
                                                           Function<ConfigResource, ApiMessage> request,
                                                           ResourceAnswer<T> answer) {
        Map<ConfigResource, CompletableFuture<T>> fs = futures(new LinkedHashSet<>(resources));
        long deadlineMs = deadline(options);
        fs.forEach((res, f) -> {
            NodeSelector target;
            try {
                target = targetFor(res);
            } catch (IllegalArgumentException e) {
                f.completeExceptionally(e);
                return;
            }
            client.send(target, builder(api, v -> request.apply(res), null), deadlineMs).whenComplete((resp, err) -> {
                if (err != null) {
                    f.completeExceptionally(cause(err));
                } else if (!answer.settle(resp, f)) {
                    f.completeExceptionally(new IllegalStateException("the broker's " + apiName + " response omitted " + res));
                }
            });
        });
        return new AdminResult<>(fs);
    }

    @Override
    public AdminResult<ConfigResource, Config> describeConfigs(Collection<ConfigResource> resources, AdminOptions options) {
        return perResource(resources, options, ApiKeys.DESCRIBE_CONFIGS, "DescribeConfigs",
            res -> new DescribeConfigsRequest().setResources(List.of(
                new DescribeConfigsRequest.DescribeConfigsResource().setResourceType(res.type().id())
                    .setResourceName(res.name()).setConfigurationKeys(null))).setIncludeSynonyms(true),
            (resp, f) -> {
                for (DescribeConfigsResponse.DescribeConfigsResult r : ((DescribeConfigsResponse) resp).results()) {
                    if (r.errorCode() != Errors.NONE.code()) {
                        f.completeExceptionally(AdminErrors.exception(r.errorCode(), r.errorMessage()));
                        return true;
                    }
                    List<ConfigEntry> entries = new ArrayList<>();
                    for (DescribeConfigsResponse.DescribeConfigsResourceResult c : r.configs()) {
                        List<ConfigEntry.ConfigSynonym> synonyms = new ArrayList<>();
                        for (DescribeConfigsResponse.DescribeConfigsSynonym syn : c.synonyms()) {
                            synonyms.add(new ConfigEntry.ConfigSynonym(syn.name(), syn.value(),
                                ConfigEntry.ConfigSource.forId(syn.source())));
                        }
                        entries.add(new ConfigEntry(c.name(), c.value(), ConfigEntry.ConfigSource.forId(c.configSource()),
                            c.isSensitive(), c.readOnly(), synonyms));
                    }
                    f.complete(new Config(entries));
                    return true;
                }
                return false;
            });
    }

    @Override
    public AdminResult<ConfigResource, Void> incrementalAlterConfigs(Map<ConfigResource, Collection<AlterConfigOp>> ops,
                                                                     AdminOptions options) {
        return perResource(ops.keySet(), options, ApiKeys.INCREMENTAL_ALTER_CONFIGS, "IncrementalAlterConfigs", res -> {
            List<IncrementalAlterConfigsRequest.AlterableConfig> configs = new ArrayList<>();
            for (AlterConfigOp op : ops.get(res)) {
                configs.add(new IncrementalAlterConfigsRequest.AlterableConfig().setName(op.name())
                    .setConfigOperation(op.opType().id())
                    .setValue(op.opType() == AlterConfigOp.OpType.DELETE ? null : op.value()));
            }
            return new IncrementalAlterConfigsRequest().setValidateOnly(options.validateOnly())
                .setResources(List.of(new IncrementalAlterConfigsRequest.AlterConfigsResource()
                    .setResourceType(res.type().id()).setResourceName(res.name()).setConfigs(configs)));
        }, (resp, f) -> {
            for (IncrementalAlterConfigsResponse.AlterConfigsResourceResponse r
                : ((IncrementalAlterConfigsResponse) resp).responses()) {
                settle(f, r.errorCode(), r.errorMessage(), () -> null);
                return true;
            }
            return false;
        });
    }

    @Override
    public AdminResult<ConfigResource, Void> alterConfigs(Map<ConfigResource, Collection<ConfigEntry>> configs,
                                                          AdminOptions options) {
        return perResource(configs.keySet(), options, ApiKeys.ALTER_CONFIGS, "AlterConfigs", res -> {
            List<AlterConfigsRequest.AlterableConfig> entries = new ArrayList<>();
            for (ConfigEntry e : configs.get(res)) {
                entries.add(new AlterConfigsRequest.AlterableConfig().setName(e.name()).setValue(e.value()));
            }
            return new AlterConfigsRequest().setValidateOnly(options.validateOnly())
                .setResources(List.of(new AlterConfigsRequest.AlterConfigsResource()
                    .setResourceType(res.type().id()).setResourceName(res.name()).setConfigs(entries)));
        }, (resp, f) -> {
            for (AlterConfigsResponse.AlterConfigsResourceResponse r : ((AlterConfigsResponse) resp).responses()) {
                settle(f, r.errorCode(), r.errorMessage(), () -> null);
                return true;
            }
            return false;
        });
    }

    // ------------------------------------------------------------------ records and log dirs

    /**
     * Splits {@code partitions} by leader from {@code meta}, failing (in {@code fs}) those whose topic
     * has an error, that do not exist, or that have no reachable leader.
     */
    private static <V> Map<Node, List<TopicPartition>> byLeader(MetadataResponse meta, Collection<TopicPartition> partitions,
                                                                Map<TopicPartition, CompletableFuture<V>> fs) {
        Map<Integer, Node> nodes = new HashMap<>();
        for (MetadataResponse.MetadataResponseBroker b : meta.brokers()) {
            nodes.put(b.nodeId(), new Node(b.nodeId(), b.host(), b.port(), b.rack()));
        }
        Map<TopicPartition, Integer> leaders = new HashMap<>();
        Map<String, Short> topicErrors = new HashMap<>();
        for (MetadataResponse.MetadataResponseTopic t : meta.topics()) {
            if (t.errorCode() != Errors.NONE.code()) {
                topicErrors.put(t.name(), t.errorCode());
                continue;
            }
            for (MetadataResponse.MetadataResponsePartition p : t.partitions()) {
                leaders.put(new TopicPartition(t.name(), p.partitionIndex()), p.leaderId());
            }
        }
        Map<Node, List<TopicPartition>> out = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            Short topicError = topicErrors.get(tp.topic());
            Integer leader = leaders.get(tp);
            if (topicError != null) {
                fs.get(tp).completeExceptionally(AdminErrors.exception(topicError, null));
            } else if (leader == null) {
                fs.get(tp).completeExceptionally(new UnknownTopicOrPartitionException("Partition " + tp + " does not exist."));
            } else if (leader < 0 || !nodes.containsKey(leader)) {
                fs.get(tp).completeExceptionally(AdminErrors.exception(Errors.LEADER_NOT_AVAILABLE,
                    "Partition " + tp + " has no leader."));
            } else {
                out.computeIfAbsent(nodes.get(leader), k -> new ArrayList<>()).add(tp);
            }
        }
        return out;
    }

    @Override
    public AdminResult<TopicPartition, Long> deleteRecords(Map<TopicPartition, Long> beforeOffsets, AdminOptions options) {
        Map<TopicPartition, CompletableFuture<Long>> fs = futures(beforeOffsets.keySet());
        if (fs.isEmpty()) {
            return new AdminResult<>(fs);
        }
        Map<TopicPartition, Long> copy = new LinkedHashMap<>(beforeOffsets);
        long deadlineMs = deadline(options);
        int timeoutMs = timeoutMs(options);
        List<String> topics = copy.keySet().stream().map(TopicPartition::topic).distinct().toList();
        metadata(topics, deadlineMs).whenComplete((meta, err) -> {
            if (err != null) {
                failAll(fs, err);
                return;
            }
            byLeader(meta, copy.keySet(), fs).forEach((leader, parts) -> {
                RequestBuilder b = builder(ApiKeys.DELETE_RECORDS, v -> {
                    Map<String, List<DeleteRecordsRequest.DeleteRecordsPartition>> byTopic = new LinkedHashMap<>();
                    for (TopicPartition tp : parts) {
                        byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(
                            new DeleteRecordsRequest.DeleteRecordsPartition().setPartitionIndex(tp.partition())
                                .setOffset(copy.get(tp)));
                    }
                    List<DeleteRecordsRequest.DeleteRecordsTopic> list = new ArrayList<>();
                    byTopic.forEach((t, ps) -> list.add(new DeleteRecordsRequest.DeleteRecordsTopic().setName(t)
                        .setPartitions(ps)));
                    return new DeleteRecordsRequest().setTopics(list).setTimeoutMs(timeoutMs);
                }, null);
                client.send(NodeSelector.fixed(leader), b, deadlineMs).whenComplete((resp, e) -> {
                    if (e != null) {
                        parts.forEach(tp -> fs.get(tp).completeExceptionally(cause(e)));
                        return;
                    }
                    for (DeleteRecordsResponse.DeleteRecordsTopicResult t : ((DeleteRecordsResponse) resp).topics()) {
                        for (DeleteRecordsResponse.DeleteRecordsPartitionResult p : t.partitions()) {
                            CompletableFuture<Long> f = fs.get(new TopicPartition(t.name(), p.partitionIndex()));
                            if (f != null && !f.isDone()) {
                                settle(f, p.errorCode(), null, p::lowWatermark);
                            }
                        }
                    }
                    parts.forEach(tp -> {
                        if (!fs.get(tp).isDone()) {
                            fs.get(tp).completeExceptionally(new IllegalStateException(
                                "the broker's DeleteRecords response omitted " + tp));
                        }
                    });
                });
            });
        });
        return new AdminResult<>(fs);
    }

    @Override
    public CompletableFuture<Map<TopicPartition, Optional<Throwable>>> electLeaders(ElectionType type,
                                                                                   Set<TopicPartition> partitions,
                                                                                   AdminOptions options) {
        CompletableFuture<Map<TopicPartition, Optional<Throwable>>> out = new CompletableFuture<>();
        Map<String, List<Integer>> byTopic = null;
        if (partitions != null) {
            byTopic = new LinkedHashMap<>();
            for (TopicPartition tp : partitions) {
                byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
            }
        }
        Map<String, List<Integer>> asked = byTopic;
        int timeoutMs = timeoutMs(options);
        RequestBuilder b = builder(ApiKeys.ELECT_LEADERS, v -> {
            if (v == 0 && type != ElectionType.PREFERRED) {
                throw new UnsupportedVersionException("the broker supports only preferred leader elections");
            }
            List<ElectLeadersRequest.TopicPartitions> list = null;
            if (asked != null) {
                list = new ArrayList<>();
                for (Map.Entry<String, List<Integer>> e : asked.entrySet()) {
                    list.add(new ElectLeadersRequest.TopicPartitions().setTopic(e.getKey()).setPartitions(e.getValue()));
                }
            }
            return new ElectLeadersRequest().setElectionType(type.value).setTopicPartitions(list).setTimeoutMs(timeoutMs);
        }, r -> {
            ElectLeadersResponse resp = (ElectLeadersResponse) r;
            List<Short> codes = new ArrayList<>();
            codes.add(resp.errorCode());
            resp.replicaElectionResults().forEach(t -> t.partitionResult().forEach(p -> codes.add(p.errorCode())));
            return notControllerIn(codes);
        });
        client.send(NodeSelector.controller(), b, deadline(options)).whenComplete((resp, err) -> {
            if (err != null) {
                out.completeExceptionally(cause(err));
                return;
            }
            ElectLeadersResponse r = (ElectLeadersResponse) resp;
            if (r.errorCode() != Errors.NONE.code()) {
                out.completeExceptionally(AdminErrors.exception(r.errorCode(), null));
                return;
            }
            Map<TopicPartition, Optional<Throwable>> results = new LinkedHashMap<>();
            for (ElectLeadersResponse.ReplicaElectionResult t : r.replicaElectionResults()) {
                for (ElectLeadersResponse.PartitionResult p : t.partitionResult()) {
                    results.put(new TopicPartition(t.topic(), p.partitionId()), p.errorCode() == Errors.NONE.code()
                        ? Optional.empty() : Optional.of(AdminErrors.exception(p.errorCode(), p.errorMessage())));
                }
            }
            out.complete(results);
        });
        return out;
    }

    @Override
    public AdminResult<TopicPartition, Void> alterPartitionReassignments(
        Map<TopicPartition, Optional<List<Integer>>> reassignments, AdminOptions options) {
        Map<TopicPartition, CompletableFuture<Void>> fs = futures(reassignments.keySet());
        if (fs.isEmpty()) {
            return new AdminResult<>(fs);
        }
        Map<String, List<AlterPartitionReassignmentsRequest.ReassignablePartition>> byTopic = new LinkedHashMap<>();
        reassignments.forEach((tp, target) -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(
            new AlterPartitionReassignmentsRequest.ReassignablePartition().setPartitionIndex(tp.partition())
                .setReplicas(target.map(r -> (List<Integer>) new ArrayList<>(r)).orElse(null))));
        int timeoutMs = timeoutMs(options);
        RequestBuilder b = builder(ApiKeys.ALTER_PARTITION_REASSIGNMENTS, v -> {
            List<AlterPartitionReassignmentsRequest.ReassignableTopic> topics = new ArrayList<>();
            byTopic.forEach((t, parts) -> topics.add(new AlterPartitionReassignmentsRequest.ReassignableTopic()
                .setName(t).setPartitions(parts)));
            return new AlterPartitionReassignmentsRequest().setTopics(topics).setTimeoutMs(timeoutMs);
        }, r -> {
            AlterPartitionReassignmentsResponse resp = (AlterPartitionReassignmentsResponse) r;
            List<Short> codes = new ArrayList<>();
            codes.add(resp.errorCode());
            resp.responses().forEach(t -> t.partitions().forEach(p -> codes.add(p.errorCode())));
            return notControllerIn(codes);
        });
        client.send(NodeSelector.controller(), b, deadline(options)).whenComplete((resp, err) -> {
            if (err != null) {
                failAll(fs, err);
                return;
            }
            AlterPartitionReassignmentsResponse r = (AlterPartitionReassignmentsResponse) resp;
            if (r.errorCode() != Errors.NONE.code()) {
                failAll(fs, AdminErrors.exception(r.errorCode(), r.errorMessage()));
                return;
            }
            for (AlterPartitionReassignmentsResponse.ReassignableTopicResponse t : r.responses()) {
                for (AlterPartitionReassignmentsResponse.ReassignablePartitionResponse p : t.partitions()) {
                    CompletableFuture<Void> f = fs.get(new TopicPartition(t.name(), p.partitionIndex()));
                    if (f != null && !f.isDone()) {
                        settle(f, p.errorCode(), p.errorMessage(), () -> null);
                    }
                }
            }
            failMissing(fs, "AlterPartitionReassignments");
        });
        return new AdminResult<>(fs);
    }

    @Override
    public CompletableFuture<Map<TopicPartition, PartitionReassignment>> listPartitionReassignments(
        Set<TopicPartition> partitions, AdminOptions options) {
        CompletableFuture<Map<TopicPartition, PartitionReassignment>> out = new CompletableFuture<>();
        int timeoutMs = timeoutMs(options);
        RequestBuilder b = builder(ApiKeys.LIST_PARTITION_REASSIGNMENTS, v -> {
            List<ListPartitionReassignmentsRequest.ListPartitionReassignmentsTopics> topics = null;
            if (partitions != null) {
                Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
                partitions.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition()));
                topics = new ArrayList<>();
                for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
                    topics.add(new ListPartitionReassignmentsRequest.ListPartitionReassignmentsTopics().setName(e.getKey())
                        .setPartitionIndexes(e.getValue()));
                }
            }
            return new ListPartitionReassignmentsRequest().setTopics(topics).setTimeoutMs(timeoutMs);
        }, r -> notControllerIn(List.of(((ListPartitionReassignmentsResponse) r).errorCode())));
        client.send(NodeSelector.controller(), b, deadline(options)).whenComplete((resp, err) -> {
            if (err != null) {
                out.completeExceptionally(cause(err));
                return;
            }
            ListPartitionReassignmentsResponse r = (ListPartitionReassignmentsResponse) resp;
            if (r.errorCode() != Errors.NONE.code()) {
                out.completeExceptionally(AdminErrors.exception(r.errorCode(), r.errorMessage()));
                return;
            }
            Map<TopicPartition, PartitionReassignment> result = new LinkedHashMap<>();
            for (ListPartitionReassignmentsResponse.OngoingTopicReassignment t : r.topics()) {
                for (ListPartitionReassignmentsResponse.OngoingPartitionReassignment p : t.partitions()) {
                    result.put(new TopicPartition(t.name(), p.partitionIndex()),
                        new PartitionReassignment(p.replicas(), p.addingReplicas(), p.removingReplicas()));
                }
            }
            out.complete(result);
        });
        return out;
    }

    @Override
    public AdminResult<TopicPartition, Void> alterReplicaLogDirs(int broker, Map<TopicPartition, String> logDirs,
                                                                 AdminOptions options) {
        Map<TopicPartition, CompletableFuture<Void>> fs = futures(logDirs.keySet());
        if (fs.isEmpty()) {
            return new AdminResult<>(fs);
        }
        Map<String, Map<String, List<Integer>>> byDir = new LinkedHashMap<>();
        logDirs.forEach((tp, dir) -> byDir.computeIfAbsent(dir, d -> new LinkedHashMap<>())
            .computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition()));
        List<AlterReplicaLogDirsRequest.AlterReplicaLogDir> dirs = new ArrayList<>();
        byDir.forEach((dir, topics) -> {
            List<AlterReplicaLogDirsRequest.AlterReplicaLogDirTopic> ts = new ArrayList<>();
            topics.forEach((t, ps) -> ts.add(new AlterReplicaLogDirsRequest.AlterReplicaLogDirTopic().setName(t)
                .setPartitions(ps)));
            dirs.add(new AlterReplicaLogDirsRequest.AlterReplicaLogDir().setPath(dir).setTopics(ts));
        });
        RequestBuilder b = builder(ApiKeys.ALTER_REPLICA_LOG_DIRS, v -> new AlterReplicaLogDirsRequest().setDirs(dirs), null);
        client.send(NodeSelector.node(broker), b, deadline(options)).whenComplete((resp, err) -> {
            if (err != null) {
                fs.values().forEach(f -> f.completeExceptionally(cause(err)));
                return;
            }
            for (AlterReplicaLogDirsResponse.AlterReplicaLogDirTopicResult t : ((AlterReplicaLogDirsResponse) resp).results()) {
                for (AlterReplicaLogDirsResponse.AlterReplicaLogDirPartitionResult p : t.partitions()) {
                    CompletableFuture<Void> f = fs.get(new TopicPartition(t.topicName(), p.partitionIndex()));
                    if (f == null) {
                        continue;
                    }
                    if (p.errorCode() == Errors.NONE.code()) {
                        f.complete(null);
                    } else {
                        f.completeExceptionally(AdminErrors.exception(p.errorCode(), null));
                    }
                }
            }
            fs.values().forEach(f -> f.completeExceptionally(new IllegalStateException("broker " + broker
                + " did not answer for this partition")));
        });
        return new AdminResult<>(fs);
    }

    @Override
    public AdminResult<Integer, Map<String, LogDirDescription>> describeLogDirs(Collection<Integer> brokers,
                                                                                AdminOptions options) {
        Map<Integer, CompletableFuture<Map<String, LogDirDescription>>> fs = futures(new LinkedHashSet<>(brokers));
        long deadlineMs = deadline(options);
        fs.forEach((broker, f) -> {
            RequestBuilder b = builder(ApiKeys.DESCRIBE_LOG_DIRS, v -> new DescribeLogDirsRequest().setTopics(null), null);
            client.send(NodeSelector.node(broker), b, deadlineMs).whenComplete((resp, err) -> {
                if (err != null) {
                    f.completeExceptionally(cause(err));
                    return;
                }
                DescribeLogDirsResponse r = (DescribeLogDirsResponse) resp;
                if (r.errorCode() != Errors.NONE.code()) {
                    f.completeExceptionally(AdminErrors.exception(r.errorCode(), null));
                    return;
                }
                Map<String, LogDirDescription> dirs = new LinkedHashMap<>();
                for (DescribeLogDirsResponse.DescribeLogDirsResult d : r.results()) {
                    Map<TopicPartition, ReplicaInfo> replicas = new LinkedHashMap<>();
                    for (DescribeLogDirsResponse.DescribeLogDirsTopic t : d.topics()) {
                        for (DescribeLogDirsResponse.DescribeLogDirsPartition p : t.partitions()) {
                            replicas.put(new TopicPartition(t.name(), p.partitionIndex()),
                                new ReplicaInfo(p.partitionSize(), p.offsetLag(), p.isFutureKey()));
                        }
                    }
                    RuntimeException error = d.errorCode() == Errors.NONE.code() ? null
                        : AdminErrors.exception(d.errorCode(), null);
                    dirs.put(d.logDir(), new LogDirDescription(error, replicas, d.totalBytes(), d.usableBytes()));
                }
                f.complete(dirs);
            });
        });
        return new AdminResult<>(fs);
    }

    // ------------------------------------------------------------------ cluster

    @Override
    public CompletableFuture<ClusterDescription> describeCluster(AdminOptions options) {
        long deadlineMs = deadline(options);
        RequestBuilder b = builder(ApiKeys.DESCRIBE_CLUSTER, v -> new DescribeClusterRequest(), r -> {
            Errors e = Errors.forCode(((DescribeClusterResponse) r).errorCode());
            return e.isRetriable() ? e : Errors.NONE;
        });
        CompletableFuture<ClusterDescription> out = new CompletableFuture<>();
        client.send(NodeSelector.leastLoaded(), b, deadlineMs).whenComplete((resp, err) -> {
            if (err != null) {
                if (cause(err) instanceof UnsupportedVersionException) {
                    // brokers before DescribeCluster: Metadata carries the same facts
                    metadata(List.of(), deadlineMs).whenComplete((m, merr) -> {
                        if (merr != null) {
                            out.completeExceptionally(cause(merr));
                        } else {
                            List<Node> nodes = m.brokers().stream()
                                .map(x -> new Node(x.nodeId(), x.host(), x.port(), x.rack())).toList();
                            out.complete(new ClusterDescription(m.clusterId(), find(nodes, m.controllerId()), nodes));
                        }
                    });
                } else {
                    out.completeExceptionally(cause(err));
                }
                return;
            }
            DescribeClusterResponse r = (DescribeClusterResponse) resp;
            if (r.errorCode() != Errors.NONE.code()) {
                out.completeExceptionally(AdminErrors.exception(r.errorCode(), r.errorMessage()));
                return;
            }
            List<Node> nodes = r.brokers().stream()
                .map(x -> new Node(x.brokerId(), x.host(), x.port(), x.rack())).toList();
            out.complete(new ClusterDescription(r.clusterId(), find(nodes, r.controllerId()), nodes));
        });
        return out;
    }

    private static Node find(List<Node> nodes, int id) {
        for (Node n : nodes) {
            if (n.id() == id) {
                return n;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ offsets

    @Override
    public AdminResult<TopicPartition, ListOffsetsResultInfo> listOffsets(Map<TopicPartition, OffsetSpec> specs,
                                                                          AdminOptions options) {
        Map<TopicPartition, CompletableFuture<ListOffsetsResultInfo>> fs = futures(specs.keySet());
        if (fs.isEmpty()) {
            return new AdminResult<>(fs);
        }
        Map<TopicPartition, OffsetSpec> copy = new LinkedHashMap<>(specs);
        long deadlineMs = deadline(options);
        int timeoutMs = timeoutMs(options);
        List<String> topics = copy.keySet().stream().map(TopicPartition::topic).distinct().toList();
        metadata(topics, deadlineMs).whenComplete((meta, err) -> {
            if (err != null) {
                failAll(fs, err);
                return;
            }
            // each partition goes to its leader: one request per leader
            byLeader(meta, copy.keySet(), fs).forEach((node, tps) -> {
                Map<TopicPartition, OffsetSpec> parts = new LinkedHashMap<>();
                tps.forEach(tp -> parts.put(tp, copy.get(tp)));
                sendListOffsets(node, parts, fs, deadlineMs, timeoutMs);
            });
        });
        return new AdminResult<>(fs);
    }

    private void sendListOffsets(Node leader, Map<TopicPartition, OffsetSpec> parts,
                                 Map<TopicPartition, CompletableFuture<ListOffsetsResultInfo>> fs,
                                 long deadlineMs, int timeoutMs) {
        RequestBuilder b = builder(ApiKeys.LIST_OFFSETS, v -> {
            Map<String, List<ListOffsetsRequest.ListOffsetsPartition>> topics = new LinkedHashMap<>();
            parts.forEach((tp, spec) -> topics.computeIfAbsent(tp.topic(), k -> new ArrayList<>())
                .add(new ListOffsetsRequest.ListOffsetsPartition().setPartitionIndex(tp.partition())
                    .setCurrentLeaderEpoch(-1).setTimestamp(spec.wireTimestamp())));
            List<ListOffsetsRequest.ListOffsetsTopic> list = new ArrayList<>();
            topics.forEach((t, ps) -> list.add(new ListOffsetsRequest.ListOffsetsTopic().setName(t).setPartitions(ps)));
            return new ListOffsetsRequest().setReplicaId(-1).setIsolationLevel((byte) 0).setTopics(list)
                .setTimeoutMs(timeoutMs);
        }, null);
        client.send(NodeSelector.fixed(leader), b, deadlineMs).whenComplete((resp, err) -> {
            if (err != null) {
                parts.keySet().forEach(tp -> fs.get(tp).completeExceptionally(cause(err)));
                return;
            }
            for (ListOffsetsResponse.ListOffsetsTopicResponse t : ((ListOffsetsResponse) resp).topics()) {
                for (ListOffsetsResponse.ListOffsetsPartitionResponse p : t.partitions()) {
                    TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                    CompletableFuture<ListOffsetsResultInfo> f = parts.containsKey(tp) ? fs.get(tp) : null;
                    if (f == null) {
                        continue;
                    }
                    settle(f, p.errorCode(), null,
                        () -> new ListOffsetsResultInfo(p.offset(), p.timestamp(), p.leaderEpoch()));
                }
            }
            parts.keySet().forEach(tp -> {
                if (!fs.get(tp).isDone()) {
                    fs.get(tp).completeExceptionally(new IllegalStateException("the broker's ListOffsets response omitted " + tp));
                }
            });
        });
    }

    // ------------------------------------------------------------------ consumer groups

    @Override
    public CompletableFuture<List<ConsumerGroupListing>> listConsumerGroups(AdminOptions options) {
        return groups.listConsumerGroups(deadline(options));
    }

    @Override
    public AdminResult<String, ConsumerGroupDescription> describeConsumerGroups(Collection<String> groupIds,
                                                                               AdminOptions options) {
        return new AdminResult<>(groups.describeConsumerGroups(groupIds, deadline(options)));
    }

    @Override
    public AdminResult<String, Void> deleteConsumerGroups(Collection<String> groupIds, AdminOptions options) {
        return new AdminResult<>(groups.deleteConsumerGroups(groupIds, deadline(options)));
    }

    @Override
    public CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> listConsumerGroupOffsets(
        String groupId, Collection<TopicPartition> partitions, AdminOptions options) {
        return groups.listOffsets(groupId, partitions, deadline(options));
    }

    @Override
    public AdminResult<TopicPartition, Void> alterConsumerGroupOffsets(String groupId,
                                                                       Map<TopicPartition, OffsetAndMetadata> offsets,
                                                                       AdminOptions options) {
        return new AdminResult<>(groups.alterOffsets(groupId, offsets, deadline(options)));
    }

    @Override
    public AdminResult<TopicPartition, Void> deleteConsumerGroupOffsets(String groupId, Set<TopicPartition> partitions,
                                                                        AdminOptions options) {
        return new AdminResult<>(groups.deleteOffsets(groupId, partitions, deadline(options)));
    }

    // ------------------------------------------------------------------ transactions

    @Override
    public CompletableFuture<List<io.weir.admin.TransactionListing>> listTransactions(
        io.weir.admin.ListTransactionsOptions filters, AdminOptions options) {
        return transactions.listTransactions(filters, deadline(options));
    }

    @Override
    public AdminResult<String, io.weir.admin.TransactionDescription> describeTransactions(
        Collection<String> transactionalIds, AdminOptions options) {
        return new AdminResult<>(transactions.describeTransactions(transactionalIds, deadline(options)));
    }

    @Override
    public AdminResult<TopicPartition, List<io.weir.admin.ProducerState>> describeProducers(
        Collection<TopicPartition> partitions, AdminOptions options) {
        return new AdminResult<>(transactions.describeProducers(partitions, deadline(options)));
    }

    @Override
    public CompletableFuture<Void> abortTransaction(io.weir.admin.AbortTransactionSpec spec, AdminOptions options) {
        return transactions.abortTransaction(spec, deadline(options));
    }

    @Override
    public AdminResult<String, io.weir.admin.FenceProducersResult> fenceProducers(Collection<String> transactionalIds,
                                                                                  AdminOptions options) {
        return new AdminResult<>(transactions.fenceProducers(transactionalIds, deadline(options)));
    }

    @Override
    public void close(Duration timeout) {
        client.close(Math.max(0, timeout.toMillis()));
    }

    /** Completes {@code f} with {@code value} when {@code errorCode} is NONE, else with the error's exception. */
    private static <T> void settle(CompletableFuture<T> f, short errorCode, String message, Supplier<T> value) {
        if (errorCode != Errors.NONE.code()) {
            f.completeExceptionally(AdminErrors.exception(errorCode, message));
        } else {
            f.complete(value.get());
        }
    }
}
