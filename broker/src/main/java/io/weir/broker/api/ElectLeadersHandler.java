package io.weir.broker.api;

import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.LeaderElector;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicController;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ElectLeadersRequest;
import io.weir.protocol.message.ElectLeadersResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ElectLeaders ({@code kafka-leader-election.sh}, {@code Admin.electLeaders}): the controller's
 * preferred-replica (type 0) and unclean (type 1) elections through a {@link LeaderElector}. Each named
 * partition answers NONE (a new leader), ELECTION_NOT_NEEDED (the preferred replica leads; for unclean,
 * a live leader exists), PREFERRED_LEADER_NOT_AVAILABLE / ELIGIBLE_LEADERS_NOT_AVAILABLE, or
 * UNKNOWN_TOPIC_OR_PARTITION; a request for all partitions (null list) lists only the partitions whose
 * election did something or failed, as Kafka's controller does. A broker that is not the controller
 * hands the request to it and waits at most the request's {@code timeoutMs}: REQUEST_TIMED_OUT per
 * partition after that; NOT_CONTROLLER when the controller moved during the election.
 *
 * <p>Without an elector (tests of one broker on a local store) every hosted partition is led by its
 * only replica: ELECTION_NOT_NEEDED.
 *
 * <p>Thread-safe.
 */
public final class ElectLeadersHandler implements ApiHandler {
    private static final byte PREFERRED = 0;
    private static final byte UNCLEAN = 1;

    private final MetadataStore store;
    private final ReplicaManager replicaManager;
    private final LeaderElector elector;

    public ElectLeadersHandler(MetadataStore store, ReplicaManager replicaManager) {
        this(store, replicaManager, null);
    }

    public ElectLeadersHandler(MetadataStore store, ReplicaManager replicaManager, LeaderElector elector) {
        this.store = store;
        this.replicaManager = replicaManager;
        this.elector = elector;
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
        Set<TopicPartition> asked = null;
        if (req.topicPartitions() != null) {
            asked = new LinkedHashSet<>();
            for (ElectLeadersRequest.TopicPartitions t : req.topicPartitions()) {
                for (int p : t.partitions()) {
                    asked.add(new TopicPartition(t.topic(), p));
                }
            }
        }
        Map<TopicPartition, LeaderElector.Result> results;
        if (elector == null) {
            results = singleBroker(asked);
        } else {
            try {
                results = elector.electLeaders(LeaderElector.Type.of(req.electionType()), asked, req.timeoutMs());
            } catch (TopicController.NotCompletedException e) {
                ctx.respond(electionFailed(body, Errors.REQUEST_TIMED_OUT, e.getMessage()));
                return;
            } catch (TopicController.NotControllerException e) {
                ctx.respond(electionFailed(body, Errors.NOT_CONTROLLER, e.getMessage()));
                return;
            }
        }
        // one result per topic, in the request's order
        Map<String, List<ElectLeadersResponse.PartitionResult>> byTopic = new LinkedHashMap<>();
        Iterable<TopicPartition> order = asked != null ? asked : results.keySet();
        for (TopicPartition tp : order) {
            LeaderElector.Result r = results.get(tp);
            if (r == null) {
                continue;
            }
            byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(new ElectLeadersResponse.PartitionResult()
                .setPartitionId(tp.partition()).setErrorCode(r.error().code()).setErrorMessage(r.message()));
        }
        List<ElectLeadersResponse.ReplicaElectionResult> out = new ArrayList<>();
        for (Map.Entry<String, List<ElectLeadersResponse.PartitionResult>> e : byTopic.entrySet()) {
            out.add(new ElectLeadersResponse.ReplicaElectionResult().setTopic(e.getKey()).setPartitionResult(e.getValue()));
        }
        ctx.respond(new ElectLeadersResponse().setErrorCode(Errors.NONE.code()).setReplicaElectionResults(out));
    }

    /** One broker without a controller: its hosted partitions need no election. */
    private Map<TopicPartition, LeaderElector.Result> singleBroker(Set<TopicPartition> asked) {
        Map<TopicPartition, LeaderElector.Result> out = new LinkedHashMap<>();
        if (asked == null) {
            return out;
        }
        for (TopicPartition tp : asked) {
            TopicMetadata topic = store.topics().get(tp.topic());
            if (topic == null || tp.partition() < 0 || tp.partition() >= topic.partitionCount()
                || replicaManager.partition(tp) == null) {
                out.put(tp, new LeaderElector.Result(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                    "The partition " + tp + " does not exist."));
            } else {
                out.put(tp, new LeaderElector.Result(Errors.ELECTION_NOT_NEEDED,
                    "Leader election not needed for topic partition."));
            }
        }
        return out;
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        ElectLeadersResponse r = electionFailed(body, error, null);
        return r.setErrorCode(error.code());
    }

    /**
     * Every partition of the request failed with {@code error}: per partition when partitions were named
     * (as Kafka's controller answers a timed-out election), at the top level for "all partitions".
     */
    private static ElectLeadersResponse electionFailed(ApiMessage body, Errors error, String message) {
        ElectLeadersRequest req = (ElectLeadersRequest) body;
        List<ElectLeadersResponse.ReplicaElectionResult> out = new ArrayList<>();
        if (req.topicPartitions() != null) {
            for (ElectLeadersRequest.TopicPartitions t : req.topicPartitions()) {
                List<ElectLeadersResponse.PartitionResult> results = new ArrayList<>();
                for (int p : t.partitions()) {
                    results.add(new ElectLeadersResponse.PartitionResult().setPartitionId(p).setErrorCode(error.code())
                        .setErrorMessage(message));
                }
                out.add(new ElectLeadersResponse.ReplicaElectionResult().setTopic(t.topic()).setPartitionResult(results));
            }
        }
        short top = req.topicPartitions() == null ? error.code() : Errors.NONE.code();
        return new ElectLeadersResponse().setErrorCode(top).setReplicaElectionResults(out);
    }
}
