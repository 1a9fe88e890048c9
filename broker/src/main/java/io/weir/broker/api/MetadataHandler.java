package io.weir.broker.api;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicService;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Metadata: the brokers, the controller and each topic's partitions with their leaders, creating
 * topics on the fly when the client allows it and {@code auto.create.topics.enable} is set. When asked,
 * the authorized operations of each topic and of the cluster are all of them (there is no authorizer).
 *
 * <p>Thread-safe.
 */
public final class MetadataHandler implements ApiHandler {
    private final BrokerConfig config;
    private final MetadataStore store;
    private final ReplicaManager replicaManager;
    private final TopicService topics;
    private final BrokerConfig.Endpoint advertised;
    /** The brokers holding a partition offline with a failed log directory (none by default). */
    private volatile java.util.function.Function<TopicPartition, java.util.Set<Integer>> dirOfflineReplicas =
        tp -> java.util.Set.of();

    public MetadataHandler(BrokerConfig config, MetadataStore store, ReplicaManager replicaManager, TopicService topics,
                           BrokerConfig.Endpoint advertised) {
        this.config = config;
        this.store = store;
        this.replicaManager = replicaManager;
        this.topics = topics;
        this.advertised = advertised;
    }

    /**
     * Sets where the replicas taken offline by a failed log directory are read (listed among a partition's
     * offline replicas, as Kafka lists them); by default there are none.
     */
    public MetadataHandler withDirOfflineReplicas(java.util.function.Function<TopicPartition, java.util.Set<Integer>> f) {
        this.dirOfflineReplicas = f;
        return this;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.METADATA, VersionRange.all(ApiKeys.METADATA));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        ctx.respond(metadata((MetadataRequest) body));
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        MetadataRequest req = (MetadataRequest) body;
        List<MetadataResponse.MetadataResponseTopic> out = new ArrayList<>();
        if (req.topics() != null) {
            for (MetadataRequest.MetadataRequestTopic rt : req.topics()) {
                MetadataResponse.MetadataResponseTopic t = new MetadataResponse.MetadataResponseTopic()
                    .setTopicId(rt.topicId()).setErrorCode(error.code());
                out.add(rt.name() == null ? t : t.setName(rt.name()));
            }
        }
        // no broker list: a client retries on another broker or after a metadata refresh
        return new MetadataResponse().setBrokers(List.of()).setClusterId(store.clusterId()).setControllerId(-1)
            .setTopics(out).setErrorCode(error.code());
    }

    private MetadataResponse metadata(MetadataRequest req) {
        MetadataResponse resp = topicsMetadata(req);
        if (req.includeTopicAuthorizedOperations()) {
            // no authorizer: every topic operation is allowed, as Kafka answers without one
            for (MetadataResponse.MetadataResponseTopic t : resp.topics()) {
                if (t.errorCode() == Errors.NONE.code()) {
                    t.setTopicAuthorizedOperations(AuthorizedOperations.TOPIC);
                }
            }
        }
        if (req.includeClusterAuthorizedOperations()) {
            resp.setClusterAuthorizedOperations(AuthorizedOperations.CLUSTER);
        }
        return resp;
    }

    private MetadataResponse topicsMetadata(MetadataRequest req) {
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
                    TopicMetadata byId = TopicLookup.byId(store, rt.topicId());
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
        List<MetadataResponse.MetadataResponseBroker> brokers = new ArrayList<>();
        boolean self = false;
        for (BrokerRegistration b : store.liveBrokers()) {
            self |= b.id() == config.brokerId();
            brokers.add(new MetadataResponse.MetadataResponseBroker().setNodeId(b.id()).setHost(b.host())
                .setPort(b.port()).setRack(b.rack()));
        }
        if (!self) {
            // this broker answers, so it is alive even if its registration is not visible yet
            brokers.add(new MetadataResponse.MetadataResponseBroker().setNodeId(config.brokerId())
                .setHost(advertised.host()).setPort(advertised.port())
                .setRack(config.getString(BrokerConfig.BROKER_RACK)));
        }
        int controllerId = store.controllerId();
        return new MetadataResponse()
            .setBrokers(brokers)
            .setClusterId(store.clusterId())
            .setControllerId(controllerId >= 0 ? controllerId : config.brokerId())
            .setTopics(out);
    }

    private static MetadataResponse.MetadataResponseTopic errorTopic(String name, Errors error) {
        return new MetadataResponse.MetadataResponseTopic().setName(name).setErrorCode(error.code());
    }

    private MetadataResponse.MetadataResponseTopic topicMetadata(TopicMetadata t, Errors error) {
        List<MetadataResponse.MetadataResponsePartition> parts = new ArrayList<>(t.partitionCount());
        List<Integer> self = List.of(config.brokerId());
        java.util.Set<Integer> live = new java.util.HashSet<>(self);
        for (BrokerRegistration b : store.liveBrokers()) {
            live.add(b.id());
        }
        for (int p = 0; p < t.partitionCount(); p++) {
            TopicPartition tp = new TopicPartition(t.name(), p);
            List<Integer> replicas = store.replicas(tp);
            PartitionState state = store.partitionState(tp).orElse(null);
            if (replicas.isEmpty()) {
                replicas = self;
            }
            int leader = state != null ? state.leader() : replicas.get(0);
            java.util.Set<Integer> dirFailed = dirOfflineReplicas.apply(tp);
            List<Integer> offline = replicas.stream().filter(r -> !live.contains(r) || dirFailed.contains(r)).toList();
            MetadataResponse.MetadataResponsePartition out = new MetadataResponse.MetadataResponsePartition()
                .setPartitionIndex(p).setReplicaNodes(replicas).setOfflineReplicas(offline);
            if (leader == config.brokerId()) {
                Partition partition = replicaManager.partition(tp);
                boolean online = partition != null && partition.isLeader();
                out.setErrorCode(online ? Errors.NONE.code() : Errors.LEADER_NOT_AVAILABLE.code())
                    .setLeaderId(online ? leader : -1)
                    .setLeaderEpoch(online ? partition.leaderEpoch() : -1)
                    .setIsrNodes(online ? partition.isr() : List.of());
            } else if (leader >= 0 && live.contains(leader)) {
                out.setErrorCode(Errors.NONE.code())
                    .setLeaderId(leader)
                    .setLeaderEpoch(state != null ? state.leaderEpoch() : -1)
                    .setIsrNodes(state != null ? state.isr() : List.of());
            } else {
                // the leader's broker is not registered (stopped or dead): nothing serves the partition
                // until it returns (electing another leader comes with replication)
                out.setErrorCode(Errors.LEADER_NOT_AVAILABLE.code()).setLeaderId(-1)
                    .setLeaderEpoch(state != null ? state.leaderEpoch() : -1)
                    .setIsrNodes(state != null ? state.isr().stream().filter(live::contains).toList() : List.of());
            }
            parts.add(out);
        }
        return new MetadataResponse.MetadataResponseTopic().setErrorCode(error.code()).setName(t.name())
            .setTopicId(t.topicId()).setIsInternal(TopicMetadata.isInternal(t.name())).setPartitions(parts);
    }
}
