package io.weir.broker.api;

import io.weir.broker.server.LeaderElector;
import io.weir.broker.server.PartitionReassigner;
import io.weir.broker.server.TopicController;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.AlterPartitionReassignmentsRequest;
import io.weir.protocol.message.AlterPartitionReassignmentsResponse;
import io.weir.protocol.message.ListPartitionReassignmentsRequest;
import io.weir.protocol.message.ListPartitionReassignmentsResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AlterPartitionReassignments and ListPartitionReassignments (KIP-455; {@code kafka-reassign-partitions.sh},
 * {@code Admin.alterPartitionReassignments}): through the controller's {@link PartitionReassigner}. Alter
 * answers per partition once the controller has written the reassignment (not when it completes):
 * NONE, UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT, INVALID_REPLICATION_FACTOR,
 * NO_REASSIGNMENT_IN_PROGRESS; a partition named twice in one request is INVALID_REPLICA_ASSIGNMENT
 * (both entries, nothing written for it); REQUEST_TIMED_OUT per partition when the controller did not
 * answer within the request's {@code timeoutMs}, NOT_CONTROLLER when it moved meanwhile. List answers
 * from this broker's metadata (the reassignments in progress live in the topic znodes).
 *
 * <p>Thread-safe.
 */
public final class PartitionReassignmentsHandler implements ApiHandler {
    private final PartitionReassigner reassigner;

    public PartitionReassignmentsHandler(PartitionReassigner reassigner) {
        this.reassigner = reassigner;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.ALTER_PARTITION_REASSIGNMENTS, VersionRange.all(ApiKeys.ALTER_PARTITION_REASSIGNMENTS),
            ApiKeys.LIST_PARTITION_REASSIGNMENTS, VersionRange.all(ApiKeys.LIST_PARTITION_REASSIGNMENTS));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        if (body instanceof AlterPartitionReassignmentsRequest req) {
            ctx.respond(alter(req));
        } else {
            ctx.respond(list((ListPartitionReassignmentsRequest) body));
        }
    }

    private AlterPartitionReassignmentsResponse alter(AlterPartitionReassignmentsRequest req) {
        Map<TopicPartition, List<Integer>> targets = new LinkedHashMap<>();
        Set<TopicPartition> duplicates = new LinkedHashSet<>();
        for (AlterPartitionReassignmentsRequest.ReassignableTopic t : req.topics()) {
            for (AlterPartitionReassignmentsRequest.ReassignablePartition p : t.partitions()) {
                TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                if (targets.containsKey(tp)) {
                    duplicates.add(tp);
                }
                targets.put(tp, p.replicas() == null ? null : List.copyOf(p.replicas()));
            }
        }
        targets.keySet().removeAll(duplicates);
        Map<TopicPartition, LeaderElector.Result> results;
        try {
            results = targets.isEmpty() ? Map.of()
                : reassigner.alterPartitionReassignments(targets, req.allowReplicationFactorChange(), req.timeoutMs());
        } catch (TopicController.NotCompletedException e) {
            return failed(req, Errors.REQUEST_TIMED_OUT, e.getMessage());
        } catch (TopicController.NotControllerException e) {
            return failed(req, Errors.NOT_CONTROLLER, e.getMessage());
        }
        Map<String, List<AlterPartitionReassignmentsResponse.ReassignablePartitionResponse>> byTopic = new LinkedHashMap<>();
        for (AlterPartitionReassignmentsRequest.ReassignableTopic t : req.topics()) {
            for (AlterPartitionReassignmentsRequest.ReassignablePartition p : t.partitions()) {
                TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                LeaderElector.Result r = duplicates.contains(tp)
                    ? new LeaderElector.Result(Errors.INVALID_REPLICA_ASSIGNMENT, "The partition " + tp
                        + " appears more than once in the request.")
                    : results.getOrDefault(tp, new LeaderElector.Result(Errors.UNKNOWN_SERVER_ERROR, null));
                byTopic.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(
                    new AlterPartitionReassignmentsResponse.ReassignablePartitionResponse()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(r.error().code())
                        .setErrorMessage(r.error() == Errors.NONE ? null : r.message()));
            }
        }
        List<AlterPartitionReassignmentsResponse.ReassignableTopicResponse> out = new ArrayList<>();
        byTopic.forEach((name, parts) -> out.add(new AlterPartitionReassignmentsResponse.ReassignableTopicResponse()
            .setName(name).setPartitions(parts)));
        return new AlterPartitionReassignmentsResponse().setAllowReplicationFactorChange(req.allowReplicationFactorChange())
            .setErrorCode(Errors.NONE.code()).setResponses(out);
    }

    /** Every partition of the request failed with {@code error}. */
    private static AlterPartitionReassignmentsResponse failed(AlterPartitionReassignmentsRequest req, Errors error,
                                                              String message) {
        List<AlterPartitionReassignmentsResponse.ReassignableTopicResponse> out = new ArrayList<>();
        for (AlterPartitionReassignmentsRequest.ReassignableTopic t : req.topics()) {
            List<AlterPartitionReassignmentsResponse.ReassignablePartitionResponse> parts = new ArrayList<>();
            for (AlterPartitionReassignmentsRequest.ReassignablePartition p : t.partitions()) {
                parts.add(new AlterPartitionReassignmentsResponse.ReassignablePartitionResponse()
                    .setPartitionIndex(p.partitionIndex()).setErrorCode(error.code()).setErrorMessage(message));
            }
            out.add(new AlterPartitionReassignmentsResponse.ReassignableTopicResponse().setName(t.name()).setPartitions(parts));
        }
        return new AlterPartitionReassignmentsResponse().setAllowReplicationFactorChange(req.allowReplicationFactorChange())
            .setErrorCode(Errors.NONE.code()).setResponses(out);
    }

    private ListPartitionReassignmentsResponse list(ListPartitionReassignmentsRequest req) {
        Set<TopicPartition> asked = null;
        if (req.topics() != null) {
            asked = new LinkedHashSet<>();
            for (ListPartitionReassignmentsRequest.ListPartitionReassignmentsTopics t : req.topics()) {
                for (int p : t.partitionIndexes()) {
                    asked.add(new TopicPartition(t.name(), p));
                }
            }
        }
        Map<String, List<ListPartitionReassignmentsResponse.OngoingPartitionReassignment>> byTopic = new LinkedHashMap<>();
        reassigner.listPartitionReassignments(asked).forEach((tp, o) -> byTopic.computeIfAbsent(tp.topic(),
            k -> new ArrayList<>()).add(new ListPartitionReassignmentsResponse.OngoingPartitionReassignment()
                .setPartitionIndex(tp.partition()).setReplicas(new ArrayList<>(o.replicas()))
                .setAddingReplicas(new ArrayList<>(o.adding())).setRemovingReplicas(new ArrayList<>(o.removing()))));
        List<ListPartitionReassignmentsResponse.OngoingTopicReassignment> out = new ArrayList<>();
        byTopic.forEach((name, parts) -> out.add(new ListPartitionReassignmentsResponse.OngoingTopicReassignment()
            .setName(name).setPartitions(parts)));
        return new ListPartitionReassignmentsResponse().setErrorCode(Errors.NONE.code()).setTopics(out);
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        if (body instanceof AlterPartitionReassignmentsRequest req) {
            return failed(req, error, null).setErrorCode(error.code());
        }
        return new ListPartitionReassignmentsResponse().setErrorCode(error.code());
    }
}
