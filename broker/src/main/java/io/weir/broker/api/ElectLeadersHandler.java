package io.weir.broker.api;

import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ElectLeadersRequest;
import io.weir.protocol.message.ElectLeadersResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ElectLeaders ({@code kafka-leader-election.sh}, {@code Admin.electLeaders}). On one broker every
 * hosted partition is already led by its preferred (and only) replica, so each named partition answers
 * ELECTION_NOT_NEEDED, and an unknown one UNKNOWN_TOPIC_OR_PARTITION. A request for all partitions
 * (null list) lists only partitions whose election did something or failed, as Kafka's controller does:
 * here, none. The cluster work replaces this with real elections.
 *
 * <p>Thread-safe.
 */
public final class ElectLeadersHandler implements ApiHandler {
    private static final byte PREFERRED = 0;
    private static final byte UNCLEAN = 1;

    private final MetadataStore store;
    private final ReplicaManager replicaManager;

    public ElectLeadersHandler(MetadataStore store, ReplicaManager replicaManager) {
        this.store = store;
        this.replicaManager = replicaManager;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.ELECT_LEADERS, VersionRange.all(ApiKeys.ELECT_LEADERS));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        ElectLeadersRequest req = (ElectLeadersRequest) body;
        if (req.electionType() != PREFERRED && req.electionType() != UNCLEAN) {
            ctx.respond(errorResponse(ctx.header(), body, Errors.INVALID_REQUEST));
            return;
        }
        List<ElectLeadersResponse.ReplicaElectionResult> out = new ArrayList<>();
        if (req.topicPartitions() != null) {
            // one result per topic, even if the request names a topic twice
            Map<String, List<ElectLeadersResponse.PartitionResult>> byTopic = new LinkedHashMap<>();
            for (ElectLeadersRequest.TopicPartitions t : req.topicPartitions()) {
                List<ElectLeadersResponse.PartitionResult> results = byTopic.computeIfAbsent(t.topic(), k -> new ArrayList<>());
                TopicMetadata topic = store.topics().get(t.topic());
                for (int p : t.partitions()) {
                    ElectLeadersResponse.PartitionResult r = new ElectLeadersResponse.PartitionResult().setPartitionId(p);
                    if (topic == null || p < 0 || p >= topic.partitionCount()
                        || replicaManager.partition(new TopicPartition(t.topic(), p)) == null) {
                        r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                            .setErrorMessage("The partition " + t.topic() + "-" + p + " does not exist.");
                    } else {
                        r.setErrorCode(Errors.ELECTION_NOT_NEEDED.code())
                            .setErrorMessage("Leader election not needed for topic partition.");
                    }
                    results.add(r);
                }
            }
            for (Map.Entry<String, List<ElectLeadersResponse.PartitionResult>> e : byTopic.entrySet()) {
                out.add(new ElectLeadersResponse.ReplicaElectionResult().setTopic(e.getKey()).setPartitionResult(e.getValue()));
            }
        }
        ctx.respond(new ElectLeadersResponse().setErrorCode(Errors.NONE.code()).setReplicaElectionResults(out));
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        ElectLeadersRequest req = (ElectLeadersRequest) body;
        List<ElectLeadersResponse.ReplicaElectionResult> out = new ArrayList<>();
        if (req.topicPartitions() != null) {
            for (ElectLeadersRequest.TopicPartitions t : req.topicPartitions()) {
                List<ElectLeadersResponse.PartitionResult> results = new ArrayList<>();
                for (int p : t.partitions()) {
                    results.add(new ElectLeadersResponse.PartitionResult().setPartitionId(p).setErrorCode(error.code()));
                }
                out.add(new ElectLeadersResponse.ReplicaElectionResult().setTopic(t.topic()).setPartitionResult(results));
            }
        }
        return new ElectLeadersResponse().setErrorCode(error.code()).setReplicaElectionResults(out);
    }
}
