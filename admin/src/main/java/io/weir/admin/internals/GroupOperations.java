package io.weir.admin.internals;

import io.weir.admin.ConsumerGroupDescription;
import io.weir.admin.ConsumerGroupListing;
import io.weir.admin.MemberDescription;
import io.weir.admin.errors.AdminErrors;
import io.weir.admin.errors.GroupIdNotFoundException;
import io.weir.admin.errors.GroupNotEmptyException;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.consumer.OffsetAndMetadata;
import io.weir.consumer.ConsumerProtocol;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.TimeoutException;
import io.weir.protocol.message.DeleteGroupsRequest;
import io.weir.protocol.message.DeleteGroupsResponse;
import io.weir.protocol.message.DescribeGroupsRequest;
import io.weir.protocol.message.DescribeGroupsResponse;
import io.weir.protocol.message.ListGroupsRequest;
import io.weir.protocol.message.ListGroupsResponse;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.OffsetCommitRequest;
import io.weir.protocol.message.OffsetCommitResponse;
import io.weir.protocol.message.OffsetDeleteRequest;
import io.weir.protocol.message.OffsetDeleteResponse;
import io.weir.protocol.message.OffsetFetchRequest;
import io.weir.protocol.message.OffsetFetchResponse;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * The consumer-group half of the admin client. Every group call goes to the group's coordinator,
 * found with FindCoordinator; a coordinator that moved (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE)
 * sends the call back to the lookup after {@code retry.backoff.ms}, and one still loading
 * (COORDINATOR_LOAD_IN_PROGRESS) is asked again by the network client, both until the call's
 * deadline. ListGroups is the exception: every broker answers for the groups it coordinates, so it
 * goes to all of them.
 *
 * <p>Thread-safe; callbacks run on the network client's I/O thread (or the backoff timer's) and
 * never block.
 */
final class GroupOperations {
    private static final String CONSUMER_PROTOCOL = ConsumerProtocol.PROTOCOL_TYPE;

    private final NetworkClient client;
    private final Time time;
    private final Function<Long, CompletableFuture<MetadataResponse>> brokers;

    GroupOperations(NetworkClient client, Time time, Function<Long, CompletableFuture<MetadataResponse>> brokers) {
        this.client = client;
        this.time = time;
        this.brokers = brokers;
    }

    // ------------------------------------------------------------------ coordinator routing

    private static boolean coordinatorMoved(Errors e) {
        return e == Errors.NOT_COORDINATOR || e == Errors.COORDINATOR_NOT_AVAILABLE;
    }

    /** The coordinator of {@code groupId}; the lookup is retried while the answer is retriable. */
    CompletableFuture<Node> findCoordinator(String groupId, long deadlineMs) {
        return CoordinatorLookup.find(client, CoordinatorLookup.GROUP, groupId, deadlineMs);
    }

    /**
     * Sends one request to the coordinator of {@code groupId} and maps the answer with
     * {@code handle}. {@code groupError} extracts the error that says whether the coordinator is
     * the right one; the request is re-routed while it says the coordinator moved.
     */
    private <T> CompletableFuture<T> coordinatorCall(String groupId, ApiKeys api, IntFunction<ApiMessage> build,
                                                     Function<ApiMessage, Errors> groupError,
                                                     BiFunction<Node, ApiMessage, T> handle, long deadlineMs) {
        CompletableFuture<T> out = new CompletableFuture<>();
        attempt(groupId, api, build, groupError, handle, deadlineMs, 0, out);
        return out;
    }

    private <T> void attempt(String groupId, ApiKeys api, IntFunction<ApiMessage> build,
                             Function<ApiMessage, Errors> groupError, BiFunction<Node, ApiMessage, T> handle,
                             long deadlineMs, int attempts, CompletableFuture<T> out) {
        findCoordinator(groupId, deadlineMs).thenCompose(node -> {
            var b = WeirAdminClient.builder(api, build, r -> {
                Errors e = groupError.apply(r);
                return e == Errors.COORDINATOR_LOAD_IN_PROGRESS ? e : Errors.NONE;
            });
            return client.send(NodeSelector.fixed(node), b, deadlineMs).thenApply(resp -> Map.entry(node, resp));
        }).whenComplete((answer, err) -> {
            if (err != null) {
                out.completeExceptionally(WeirAdminClient.cause(err));
                return;
            }
            Errors e = groupError.apply(answer.getValue());
            if (coordinatorMoved(e)) {
                long backoffMs = Math.min(client.settings().retryBackoffMaxMs(),
                    client.settings().retryBackoffMs() << Math.min(attempts, 10));
                if (time.milliseconds() + backoffMs >= deadlineMs) {
                    out.completeExceptionally(new TimeoutException("the coordinator of group " + groupId
                        + " kept moving until the deadline; last answer: " + e));
                    return;
                }
                CompletableFuture.delayedExecutor(backoffMs, TimeUnit.MILLISECONDS).execute(() ->
                    attempt(groupId, api, build, groupError, handle, deadlineMs, attempts + 1, out));
                return;
            }
            try {
                out.complete(handle.apply(answer.getKey(), answer.getValue()));
            } catch (RuntimeException ex) {
                out.completeExceptionally(ex);
            }
        });
    }

    // ------------------------------------------------------------------ groups

    /** Consumer groups (protocol type "consumer" or "") of every broker, sorted by id. */
    CompletableFuture<List<ConsumerGroupListing>> listConsumerGroups(long deadlineMs) {
        return brokers.apply(deadlineMs).thenCompose(meta -> {
            List<CompletableFuture<ListGroupsResponse>> calls = new ArrayList<>();
            for (MetadataResponse.MetadataResponseBroker br : meta.brokers()) {
                Node node = new Node(br.nodeId(), br.host(), br.port(), br.rack());
                var b = WeirAdminClient.builder(ApiKeys.LIST_GROUPS, v -> new ListGroupsRequest(), r -> {
                    Errors e = Errors.forCode(((ListGroupsResponse) r).errorCode());
                    return e.isRetriable() ? e : Errors.NONE;
                });
                calls.add(client.send(NodeSelector.fixed(node), b, deadlineMs).thenApply(r -> (ListGroupsResponse) r));
            }
            return CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
                Map<String, ConsumerGroupListing> out = new TreeMap<>();
                for (CompletableFuture<ListGroupsResponse> c : calls) {
                    ListGroupsResponse r = c.join();
                    if (r.errorCode() != Errors.NONE.code()) {
                        throw AdminErrors.exception(r.errorCode(), null);
                    }
                    for (ListGroupsResponse.ListedGroup g : r.groups()) {
                        String type = g.protocolType() == null ? "" : g.protocolType();
                        if (type.isEmpty() || type.equals(CONSUMER_PROTOCOL)) {
                            out.put(g.groupId(), new ConsumerGroupListing(g.groupId(), type,
                                g.groupState() == null ? "" : g.groupState()));
                        }
                    }
                }
                return new ArrayList<>(out.values());
            });
        });
    }

    Map<String, CompletableFuture<ConsumerGroupDescription>> describeConsumerGroups(Collection<String> groupIds,
                                                                                     long deadlineMs) {
        Map<String, CompletableFuture<ConsumerGroupDescription>> out = new LinkedHashMap<>();
        for (String id : new LinkedHashSet<>(groupIds)) {
            out.put(id, coordinatorCall(id, ApiKeys.DESCRIBE_GROUPS,
                v -> new DescribeGroupsRequest().setGroups(new ArrayList<>(List.of(id))),
                r -> describedGroup((DescribeGroupsResponse) r, id) == null ? Errors.NONE
                    : Errors.forCode(describedGroup((DescribeGroupsResponse) r, id).errorCode()),
                (node, r) -> toDescription(id, describedGroup((DescribeGroupsResponse) r, id), node), deadlineMs));
        }
        return out;
    }

    private static DescribeGroupsResponse.DescribedGroup describedGroup(DescribeGroupsResponse r, String id) {
        for (DescribeGroupsResponse.DescribedGroup g : r.groups()) {
            if (id.equals(g.groupId())) {
                return g;
            }
        }
        return null;
    }

    private static ConsumerGroupDescription toDescription(String id, DescribeGroupsResponse.DescribedGroup g, Node node) {
        if (g == null) {
            throw new IllegalStateException("the broker's DescribeGroups response omitted " + id);
        }
        if (g.errorCode() != Errors.NONE.code()) {
            throw AdminErrors.exception(g.errorCode(), g.errorMessage());
        }
        if ("Dead".equals(g.groupState())) {
            // brokers before DescribeGroups v6 describe a missing group as Dead instead of failing
            throw new GroupIdNotFoundException("Group " + id + " not found.");
        }
        String type = g.protocolType() == null ? "" : g.protocolType();
        if (!type.isEmpty() && !type.equals(CONSUMER_PROTOCOL)) {
            throw new IllegalArgumentException("Group " + id + " is not a consumer group (protocol type " + type + ")");
        }
        List<MemberDescription> members = new ArrayList<>();
        for (DescribeGroupsResponse.DescribedGroupMember m : g.members()) {
            List<TopicPartition> assignment = List.of();
            byte[] bytes = m.memberAssignment();
            if (bytes != null && bytes.length > 0) {
                try {
                    assignment = ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(bytes)).partitions();
                } catch (RuntimeException e) {
                    throw new IllegalStateException("member " + m.memberId() + " of group " + id
                        + " has an assignment that is not in the consumer protocol's layout: " + e, e);
                }
            }
            members.add(new MemberDescription(m.memberId(), m.groupInstanceId(), m.clientId(), m.clientHost(), assignment));
        }
        return new ConsumerGroupDescription(id, type, g.groupState(), g.protocolData() == null ? "" : g.protocolData(),
            members, node);
    }

    Map<String, CompletableFuture<Void>> deleteConsumerGroups(Collection<String> groupIds, long deadlineMs) {
        Map<String, CompletableFuture<Void>> out = new LinkedHashMap<>();
        for (String id : new LinkedHashSet<>(groupIds)) {
            out.put(id, coordinatorCall(id, ApiKeys.DELETE_GROUPS,
                v -> new DeleteGroupsRequest().setGroupsNames(new ArrayList<>(List.of(id))),
                r -> deleteError((DeleteGroupsResponse) r, id),
                (node, r) -> {
                    Errors e = deleteError((DeleteGroupsResponse) r, id);
                    if (e != Errors.NONE) {
                        throw AdminErrors.exception(e, e == Errors.NON_EMPTY_GROUP
                            ? "Group " + id + " has active members; stop its consumers before deleting it." : null);
                    }
                    return null;
                }, deadlineMs));
        }
        return out;
    }

    private static Errors deleteError(DeleteGroupsResponse r, String id) {
        for (DeleteGroupsResponse.DeletableGroupResult g : r.results()) {
            if (id.equals(g.groupId())) {
                return Errors.forCode(g.errorCode());
            }
        }
        return Errors.UNKNOWN_SERVER_ERROR;
    }

    // ------------------------------------------------------------------ offsets

    /** Committed offsets of the group, for {@code partitions} or all when null; partitions without one are left out. */
    CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> listOffsets(String groupId, Collection<TopicPartition> partitions,
                                                                          long deadlineMs) {
        Map<String, List<Integer>> byTopic = partitions == null ? null : byTopic(partitions);
        return coordinatorCall(groupId, ApiKeys.OFFSET_FETCH, v -> {
            OffsetFetchRequest r = new OffsetFetchRequest();
            if (v >= 8) {
                List<OffsetFetchRequest.OffsetFetchRequestTopics> topics = null;
                if (byTopic != null) {
                    topics = new ArrayList<>();
                    for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
                        topics.add(new OffsetFetchRequest.OffsetFetchRequestTopics().setName(e.getKey())
                            .setPartitionIndexes(new ArrayList<>(e.getValue())));
                    }
                }
                r.setGroups(new ArrayList<>(List.of(new OffsetFetchRequest.OffsetFetchRequestGroup()
                    .setGroupId(groupId).setTopics(topics))));
            } else {
                List<OffsetFetchRequest.OffsetFetchRequestTopic> topics = null;
                if (byTopic != null) {
                    topics = new ArrayList<>();
                    for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
                        topics.add(new OffsetFetchRequest.OffsetFetchRequestTopic().setName(e.getKey())
                            .setPartitionIndexes(new ArrayList<>(e.getValue())));
                    }
                }
                r.setGroupId(groupId).setTopics(topics);
            }
            return r;
        }, r -> offsetFetchError((OffsetFetchResponse) r), (node, resp) -> {
            OffsetFetchResponse r = (OffsetFetchResponse) resp;
            Errors e = offsetFetchError(r);
            if (e != Errors.NONE) {
                throw AdminErrors.exception(e, null);
            }
            Map<TopicPartition, OffsetAndMetadata> out = new LinkedHashMap<>();
            if (!r.groups().isEmpty()) {
                for (OffsetFetchResponse.OffsetFetchResponseTopics t : r.groups().get(0).topics()) {
                    for (OffsetFetchResponse.OffsetFetchResponsePartitions p : t.partitions()) {
                        add(out, t.name(), p.partitionIndex(), p.committedOffset(), p.committedLeaderEpoch(),
                            p.metadata(), p.errorCode());
                    }
                }
            } else {
                for (OffsetFetchResponse.OffsetFetchResponseTopic t : r.topics()) {
                    for (OffsetFetchResponse.OffsetFetchResponsePartition p : t.partitions()) {
                        add(out, t.name(), p.partitionIndex(), p.committedOffset(), p.committedLeaderEpoch(),
                            p.metadata(), p.errorCode());
                    }
                }
            }
            return out;
        }, deadlineMs);
    }

    private static void add(Map<TopicPartition, OffsetAndMetadata> out, String topic, int partition, long offset,
                            int epoch, String metadata, short errorCode) {
        if (errorCode != Errors.NONE.code()) {
            // an unknown partition has no committed offset; any other per-partition error is a real failure
            if (errorCode == Errors.UNKNOWN_TOPIC_OR_PARTITION.code()) {
                return;
            }
            throw AdminErrors.exception(errorCode, "cannot read the committed offset of " + topic + "-" + partition
                + ": " + Errors.forCode(errorCode).message());
        }
        if (offset >= 0) {
            out.put(new TopicPartition(topic, partition), new OffsetAndMetadata(offset, epoch < 0 ? Optional.empty() : Optional.of(epoch), metadata));
        }
    }

    private static Errors offsetFetchError(OffsetFetchResponse r) {
        if (!r.groups().isEmpty()) {
            return Errors.forCode(r.groups().get(0).errorCode());
        }
        return Errors.forCode(r.errorCode());
    }

    /**
     * Commits offsets as an outsider (generation -1, no member id). The coordinator only accepts
     * that for a group without members; a live group answers UNKNOWN_MEMBER_ID (or a rebalance
     * error), which becomes a {@link GroupNotEmptyException}.
     */
    Map<TopicPartition, CompletableFuture<Void>> alterOffsets(String groupId, Map<TopicPartition, OffsetAndMetadata> offsets,
                                                             long deadlineMs) {
        Map<TopicPartition, CompletableFuture<Void>> fs = WeirAdminClient.futures(offsets.keySet());
        if (fs.isEmpty()) {
            return fs;
        }
        Map<TopicPartition, OffsetAndMetadata> copy = new LinkedHashMap<>(offsets);
        coordinatorCall(groupId, ApiKeys.OFFSET_COMMIT, v -> {
            Map<String, List<OffsetCommitRequest.OffsetCommitRequestPartition>> topics = new LinkedHashMap<>();
            copy.forEach((tp, om) -> topics.computeIfAbsent(tp.topic(), k -> new ArrayList<>())
                .add(new OffsetCommitRequest.OffsetCommitRequestPartition().setPartitionIndex(tp.partition())
                    .setCommittedOffset(om.offset()).setCommittedLeaderEpoch(om.leaderEpoch().orElse(-1))
                    .setCommittedMetadata(om.metadata())));
            List<OffsetCommitRequest.OffsetCommitRequestTopic> list = new ArrayList<>();
            topics.forEach((t, ps) -> list.add(new OffsetCommitRequest.OffsetCommitRequestTopic().setName(t).setPartitions(ps)));
            return new OffsetCommitRequest().setGroupId(groupId).setGenerationIdOrMemberEpoch(-1).setMemberId("")
                .setGroupInstanceId(null).setTopics(list);
        }, r -> {
            for (OffsetCommitResponse.OffsetCommitResponseTopic t : ((OffsetCommitResponse) r).topics()) {
                for (OffsetCommitResponse.OffsetCommitResponsePartition p : t.partitions()) {
                    Errors e = Errors.forCode(p.errorCode());
                    if (coordinatorMoved(e) || e == Errors.COORDINATOR_LOAD_IN_PROGRESS) {
                        return e;
                    }
                }
            }
            return Errors.NONE;
        }, (node, r) -> r, deadlineMs).whenComplete((resp, err) -> {
            if (err != null) {
                WeirAdminClient.failAll(fs, err);
                return;
            }
            for (OffsetCommitResponse.OffsetCommitResponseTopic t : ((OffsetCommitResponse) resp).topics()) {
                for (OffsetCommitResponse.OffsetCommitResponsePartition p : t.partitions()) {
                    CompletableFuture<Void> f = fs.get(new TopicPartition(t.name(), p.partitionIndex()));
                    if (f == null) {
                        continue;
                    }
                    Errors e = Errors.forCode(p.errorCode());
                    if (e == Errors.NONE) {
                        f.complete(null);
                    } else if (e == Errors.UNKNOWN_MEMBER_ID || e == Errors.ILLEGAL_GENERATION
                        || e == Errors.REBALANCE_IN_PROGRESS || e == Errors.FENCED_INSTANCE_ID) {
                        f.completeExceptionally(new GroupNotEmptyException(e, "Group " + groupId
                            + " has active members; its offsets can only be altered when the group is empty"
                            + " (stop its consumers first). The coordinator answered " + e + "."));
                    } else {
                        f.completeExceptionally(AdminErrors.exception(e, null));
                    }
                }
            }
            fs.forEach((tp, f) -> {
                if (!f.isDone()) {
                    f.completeExceptionally(new IllegalStateException("the broker's OffsetCommit response omitted " + tp));
                }
            });
        });
        return fs;
    }

    Map<TopicPartition, CompletableFuture<Void>> deleteOffsets(String groupId, Set<TopicPartition> partitions,
                                                              long deadlineMs) {
        Map<TopicPartition, CompletableFuture<Void>> fs = WeirAdminClient.futures(partitions);
        if (fs.isEmpty()) {
            return fs;
        }
        Map<String, List<Integer>> byTopic = byTopic(partitions);
        coordinatorCall(groupId, ApiKeys.OFFSET_DELETE, v -> {
            List<OffsetDeleteRequest.OffsetDeleteRequestTopic> topics = new ArrayList<>();
            byTopic.forEach((t, ps) -> {
                List<OffsetDeleteRequest.OffsetDeleteRequestPartition> list = new ArrayList<>();
                ps.forEach(p -> list.add(new OffsetDeleteRequest.OffsetDeleteRequestPartition().setPartitionIndex(p)));
                topics.add(new OffsetDeleteRequest.OffsetDeleteRequestTopic().setName(t).setPartitions(list));
            });
            return new OffsetDeleteRequest().setGroupId(groupId).setTopics(topics);
        }, r -> Errors.forCode(((OffsetDeleteResponse) r).errorCode()), (node, r) -> r, deadlineMs)
            .whenComplete((resp, err) -> {
                if (err != null) {
                    WeirAdminClient.failAll(fs, err);
                    return;
                }
                OffsetDeleteResponse r = (OffsetDeleteResponse) resp;
                if (r.errorCode() != Errors.NONE.code()) {
                    WeirAdminClient.failAll(fs, AdminErrors.exception(r.errorCode(), null));
                    return;
                }
                for (OffsetDeleteResponse.OffsetDeleteResponseTopic t : r.topics()) {
                    for (OffsetDeleteResponse.OffsetDeleteResponsePartition p : t.partitions()) {
                        CompletableFuture<Void> f = fs.get(new TopicPartition(t.name(), p.partitionIndex()));
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
                fs.forEach((tp, f) -> {
                    if (!f.isDone()) {
                        f.completeExceptionally(new IllegalStateException("the broker's OffsetDelete response omitted " + tp));
                    }
                });
            });
        return fs;
    }

    private static Map<String, List<Integer>> byTopic(Collection<TopicPartition> partitions) {
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            out.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition());
        }
        return out;
    }
}
