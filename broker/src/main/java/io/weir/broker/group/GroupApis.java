package io.weir.broker.group;

import io.weir.broker.coordinator.CoordinatorTopic;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.network.ByteBufferSend;
import io.weir.broker.network.RequestChannel;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.DeleteGroupsRequest;
import io.weir.protocol.message.DeleteGroupsResponse;
import io.weir.protocol.message.DescribeGroupsRequest;
import io.weir.protocol.message.DescribeGroupsResponse;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.FindCoordinatorResponse;
import io.weir.protocol.message.HeartbeatRequest;
import io.weir.protocol.message.HeartbeatResponse;
import io.weir.protocol.message.JoinGroupRequest;
import io.weir.protocol.message.JoinGroupResponse;
import io.weir.protocol.message.LeaveGroupRequest;
import io.weir.protocol.message.LeaveGroupResponse;
import io.weir.protocol.message.ListGroupsRequest;
import io.weir.protocol.message.ListGroupsResponse;
import io.weir.protocol.message.OffsetCommitRequest;
import io.weir.protocol.message.OffsetCommitResponse;
import io.weir.protocol.message.OffsetDeleteRequest;
import io.weir.protocol.message.OffsetDeleteResponse;
import io.weir.protocol.message.OffsetFetchRequest;
import io.weir.protocol.message.OffsetFetchResponse;
import io.weir.protocol.message.SyncGroupRequest;
import io.weir.protocol.message.SyncGroupResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Translates the group APIs between their wire messages (every supported version) and the
 * {@link GroupCoordinatorService}. Every request is answered when the coordinator's future completes
 * (from a coordinator thread; JoinGroup and SyncGroup possibly much later): the request thread never
 * waits.
 *
 * <p>Thread-safe (stateless apart from the coordinator).
 */
public final class GroupApis {
    /** The APIs this class answers. */
    public static final Set<ApiKeys> APIS = EnumSet.of(ApiKeys.FIND_COORDINATOR, ApiKeys.JOIN_GROUP,
        ApiKeys.SYNC_GROUP, ApiKeys.HEARTBEAT, ApiKeys.LEAVE_GROUP, ApiKeys.OFFSET_COMMIT, ApiKeys.OFFSET_FETCH,
        ApiKeys.LIST_GROUPS, ApiKeys.DESCRIBE_GROUPS, ApiKeys.DELETE_GROUPS, ApiKeys.OFFSET_DELETE);

    private static final Logger log = LoggerFactory.getLogger(GroupApis.class);

    private final GroupCoordinatorService coordinator;
    /** Answers FindCoordinator for transactional ids (key type 1); null when this broker has no transaction coordinator. */
    private final Function<String, CompletableFuture<CoordinatorTopic.Location>> transactionCoordinator;
    private final int brokerId;
    private final String host;
    private final int port;

    public GroupApis(GroupCoordinatorService coordinator, int brokerId, String advertisedHost, int advertisedPort) {
        this(coordinator, null, brokerId, advertisedHost, advertisedPort);
    }

    /**
     * @param transactionCoordinator which broker coordinates a transactional id (FindCoordinator key type
     *                               1 is routed there), or null
     */
    public GroupApis(GroupCoordinatorService coordinator,
                     Function<String, CompletableFuture<CoordinatorTopic.Location>> transactionCoordinator,
                     int brokerId, String advertisedHost, int advertisedPort) {
        this.coordinator = coordinator;
        this.transactionCoordinator = transactionCoordinator;
        this.brokerId = brokerId;
        this.host = advertisedHost;
        this.port = advertisedPort;
    }

    /** Answers one group API request, once the coordinator has (now or later, from another thread). */
    public void handle(RequestChannel.Request request, RequestHeader header, ApiMessage body) {
        short v = header.apiVersion();
        CompletableFuture<? extends ApiMessage> response = switch (ApiKeys.forId(header.apiKey())) {
            case FIND_COORDINATOR -> findCoordinator((FindCoordinatorRequest) body, v);
            case JOIN_GROUP -> joinGroup(request, header, (JoinGroupRequest) body, v);
            case SYNC_GROUP -> syncGroup((SyncGroupRequest) body);
            case HEARTBEAT -> {
                HeartbeatRequest r = (HeartbeatRequest) body;
                yield coordinator.heartbeat(r.groupId(), r.memberId(), r.groupInstanceId(), r.generationId())
                    .thenApply(e -> new HeartbeatResponse().setErrorCode(e.code()));
            }
            case LEAVE_GROUP -> leaveGroup((LeaveGroupRequest) body, v);
            case OFFSET_COMMIT -> offsetCommit((OffsetCommitRequest) body);
            case OFFSET_FETCH -> offsetFetch((OffsetFetchRequest) body, v);
            case LIST_GROUPS -> listGroups((ListGroupsRequest) body);
            case DESCRIBE_GROUPS -> describeGroups((DescribeGroupsRequest) body, v);
            case DELETE_GROUPS -> deleteGroups((DeleteGroupsRequest) body);
            case OFFSET_DELETE -> offsetDelete((OffsetDeleteRequest) body);
            default -> throw new IllegalArgumentException("not a group API: " + header.apiKey());
        };
        response.whenComplete((message, failure) -> {
            if (failure != null) {
                // the coordinator maps its own errors; this is a bug, and the client will time out
                log.error("group API {} failed", ApiKeys.forId(header.apiKey()), failure);
            } else {
                respond(request, header, message);
            }
        });
    }

    private static void respond(RequestChannel.Request request, RequestHeader header, ApiMessage response) {
        request.respond(new ByteBufferSend(MessageCodec.serializeResponse(header, response)));
    }

    /** The futures' values, in order, once all have completed. */
    private static <T> CompletableFuture<List<T>> all(List<CompletableFuture<T>> futures) {
        return CompletableFuture.allOf(futures.toArray(new CompletableFuture[0]))
            .thenApply(x -> futures.stream().map(CompletableFuture::join).toList());
    }

    // ------------------------------------------------------------------------------ FindCoordinator

    private CompletableFuture<FindCoordinatorResponse> findCoordinator(FindCoordinatorRequest req, short v) {
        if (v < 4) {
            return lookup(req.key(), req.keyType()).thenApply(c -> new FindCoordinatorResponse()
                .setErrorCode(c.errorCode()).setErrorMessage(c.errorMessage()).setNodeId(c.nodeId()).setHost(c.host())
                .setPort(c.port()));
        }
        List<CompletableFuture<FindCoordinatorResponse.Coordinator>> out = new ArrayList<>();
        for (String key : req.coordinatorKeys()) {
            out.add(lookup(key, req.keyType()));
        }
        return all(out).thenApply(cs -> new FindCoordinatorResponse().setCoordinators(new ArrayList<>(cs)));
    }

    private CompletableFuture<FindCoordinatorResponse.Coordinator> lookup(String key, byte keyType) {
        if (keyType == 0 && key != null) {
            return coordinator.locateCoordinator(key).thenApply(l -> coordinatorFor(key, l));
        }
        if (keyType == 0) {
            return CompletableFuture.completedFuture(coordinatorFor(key, Errors.INVALID_REQUEST, null));
        }
        if (keyType == 1 && transactionCoordinator != null && key != null) {
            return transactionCoordinator.apply(key).thenApply(l -> coordinatorFor(key, l));
        }
        if (keyType == 1) {
            return CompletableFuture.completedFuture(coordinatorFor(key, key == null ? Errors.INVALID_REQUEST
                : Errors.COORDINATOR_NOT_AVAILABLE, key == null ? null : "This broker has no transaction coordinator"));
        }
        return CompletableFuture.completedFuture(coordinatorFor(key, Errors.INVALID_REQUEST,
            "Unknown coordinator key type " + keyType));
    }

    /** This broker, the other broker that leads the key's partition, or the error. */
    private FindCoordinatorResponse.Coordinator coordinatorFor(String key, CoordinatorTopic.Location location) {
        BrokerRegistration other = location.broker();
        if (location.error() != Errors.NONE || other == null) {
            return coordinatorFor(key, location.error(), null);
        }
        return new FindCoordinatorResponse.Coordinator().setKey(key).setErrorCode(Errors.NONE.code())
            .setNodeId(other.id()).setHost(other.host()).setPort(other.port());
    }

    private FindCoordinatorResponse.Coordinator coordinatorFor(String key, Errors e, String message) {
        FindCoordinatorResponse.Coordinator c = new FindCoordinatorResponse.Coordinator().setKey(key);
        if (e != Errors.NONE) {
            return c.setErrorCode(e.code()).setErrorMessage(message != null ? message : e.message()).setNodeId(-1)
                .setHost("").setPort(-1);
        }
        return c.setErrorCode(Errors.NONE.code()).setNodeId(brokerId).setHost(host).setPort(port);
    }

    // ------------------------------------------------------------------------------ JoinGroup, SyncGroup

    private CompletableFuture<JoinGroupResponse> joinGroup(RequestChannel.Request request, RequestHeader header,
                                                           JoinGroupRequest req, short v) {
        List<Member.Protocol> protocols = new ArrayList<>(req.protocols().size());
        for (JoinGroupRequest.JoinGroupRequestProtocol p : req.protocols()) {
            protocols.add(new Member.Protocol(p.name(), p.metadata()));
        }
        int rebalanceTimeoutMs = v == 0 ? req.sessionTimeoutMs() : req.rebalanceTimeoutMs();
        GroupCoordinatorShard.JoinRequest jr = new GroupCoordinatorShard.JoinRequest(req.groupId(), req.memberId(),
            req.groupInstanceId(), v >= 4, header.clientId() == null ? "" : header.clientId(),
            hostOf(request.clientAddress()), rebalanceTimeoutMs, req.sessionTimeoutMs(), req.protocolType(), protocols);
        return coordinator.joinGroup(jr).thenApply(r -> {
            List<JoinGroupResponse.JoinGroupResponseMember> members = new ArrayList<>(r.members().size());
            for (GroupCoordinatorShard.JoinedMember m : r.members()) {
                members.add(new JoinGroupResponse.JoinGroupResponseMember().setMemberId(m.memberId())
                    .setGroupInstanceId(m.groupInstanceId()).setMetadata(m.metadata()));
            }
            String protocolName = r.protocolName() != null || v >= 7 ? r.protocolName() : "";
            return new JoinGroupResponse().setErrorCode(r.error().code())
                .setGenerationId(r.generationId()).setProtocolType(r.protocolType()).setProtocolName(protocolName)
                .setLeader(r.leaderId() == null ? "" : r.leaderId()).setSkipAssignment(r.skipAssignment())
                .setMemberId(r.memberId() == null ? "" : r.memberId()).setMembers(members);
        });
    }

    /** Kafka shows the client host without the port. */
    private static String hostOf(String address) {
        if (address == null) {
            return "";
        }
        int colon = address.lastIndexOf(':');
        return colon > 0 ? address.substring(0, colon) : address;
    }

    private CompletableFuture<SyncGroupResponse> syncGroup(SyncGroupRequest req) {
        Map<String, byte[]> assignments = new HashMap<>();
        for (SyncGroupRequest.SyncGroupRequestAssignment a : req.assignments()) {
            assignments.put(a.memberId(), a.assignment());
        }
        return coordinator.syncGroup(req.groupId(), req.generationId(), req.memberId(), req.groupInstanceId(),
            req.protocolType(), req.protocolName(), assignments).thenApply(r -> new SyncGroupResponse()
                .setErrorCode(r.error().code()).setProtocolType(r.protocolType()).setProtocolName(r.protocolName())
                .setAssignment(r.assignment()));
    }

    // ------------------------------------------------------------------------------ LeaveGroup

    private CompletableFuture<LeaveGroupResponse> leaveGroup(LeaveGroupRequest req, short v) {
        List<GroupCoordinatorShard.MemberIdentity> who = new ArrayList<>();
        if (v < 3) {
            who.add(new GroupCoordinatorShard.MemberIdentity(req.memberId(), null));
        } else {
            for (LeaveGroupRequest.MemberIdentity m : req.members()) {
                who.add(new GroupCoordinatorShard.MemberIdentity(m.memberId(), m.groupInstanceId()));
            }
        }
        return coordinator.leaveGroup(req.groupId(), who).thenApply(r -> {
            if (v < 3) {
                Errors e = r.error() != Errors.NONE ? r.error() : r.memberErrors().get(0);
                return new LeaveGroupResponse().setErrorCode(e.code());
            }
            List<LeaveGroupResponse.MemberResponse> members = new ArrayList<>();
            if (r.error() == Errors.NONE) {
                for (int i = 0; i < who.size(); i++) {
                    members.add(new LeaveGroupResponse.MemberResponse().setMemberId(who.get(i).memberId())
                        .setGroupInstanceId(who.get(i).groupInstanceId()).setErrorCode(r.memberErrors().get(i).code()));
                }
            }
            return new LeaveGroupResponse().setErrorCode(r.error().code()).setMembers(members);
        });
    }

    // ------------------------------------------------------------------------------ offsets

    private CompletableFuture<OffsetCommitResponse> offsetCommit(OffsetCommitRequest req) {
        Map<TopicPartition, CommittedOffset> offsets = new LinkedHashMap<>();
        for (OffsetCommitRequest.OffsetCommitRequestTopic t : req.topics()) {
            for (OffsetCommitRequest.OffsetCommitRequestPartition p : t.partitions()) {
                offsets.put(new TopicPartition(t.name(), p.partitionIndex()), new CommittedOffset(p.committedOffset(),
                    p.committedLeaderEpoch(), p.committedMetadata(), -1));
            }
        }
        return coordinator.commitOffsets(req.groupId(), req.memberId(), req.groupInstanceId(),
            req.generationIdOrMemberEpoch(), offsets).thenApply(results -> {
                Map<String, OffsetCommitResponse.OffsetCommitResponseTopic> byTopic = new LinkedHashMap<>();
                for (Map.Entry<TopicPartition, Errors> e : results.entrySet()) {
                    byTopic.computeIfAbsent(e.getKey().topic(), n -> new OffsetCommitResponse.OffsetCommitResponseTopic()
                            .setName(n).setPartitions(new ArrayList<>())).partitions()
                        .add(new OffsetCommitResponse.OffsetCommitResponsePartition()
                            .setPartitionIndex(e.getKey().partition()).setErrorCode(e.getValue().code()));
                }
                return new OffsetCommitResponse().setTopics(new ArrayList<>(byTopic.values()));
            });
    }

    private CompletableFuture<OffsetFetchResponse> offsetFetch(OffsetFetchRequest req, short v) {
        if (v < 8) {
            List<TopicPartition> wanted;
            if (req.topics() != null) {
                wanted = new ArrayList<>();
                for (OffsetFetchRequest.OffsetFetchRequestTopic t : req.topics()) {
                    for (int p : t.partitionIndexes()) {
                        wanted.add(new TopicPartition(t.name(), p));
                    }
                }
            } else {
                wanted = null;
            }
            return coordinator.fetchOffsets(req.groupId(), wanted, v >= 7 && req.requireStable()).thenApply(r -> {
                Map<String, OffsetFetchResponse.OffsetFetchResponseTopic> byTopic = new LinkedHashMap<>();
                Map<TopicPartition, CommittedOffset> found = r.offsets();
                if (r.error() != Errors.NONE && wanted != null) {
                    found = new LinkedHashMap<>();
                    for (TopicPartition tp : wanted) {
                        found.put(tp, null);
                    }
                }
                for (Map.Entry<TopicPartition, CommittedOffset> e : found.entrySet()) {
                    boolean unstable = r.unstable().contains(e.getKey());
                    CommittedOffset c = unstable ? null : e.getValue();
                    byTopic.computeIfAbsent(e.getKey().topic(), n -> new OffsetFetchResponse.OffsetFetchResponseTopic()
                            .setName(n).setPartitions(new ArrayList<>())).partitions()
                        .add(new OffsetFetchResponse.OffsetFetchResponsePartition().setPartitionIndex(e.getKey().partition())
                            .setCommittedOffset(c == null ? -1 : c.offset())
                            .setCommittedLeaderEpoch(c == null ? -1 : c.leaderEpoch())
                            .setMetadata(c == null ? "" : c.metadata())
                            .setErrorCode(unstable ? Errors.UNSTABLE_OFFSET_COMMIT.code() : r.error().code()));
                }
                return new OffsetFetchResponse().setErrorCode(r.error().code())
                    .setTopics(new ArrayList<>(byTopic.values()));
            });
        }
        List<CompletableFuture<OffsetFetchResponse.OffsetFetchResponseGroup>> groups = new ArrayList<>();
        for (OffsetFetchRequest.OffsetFetchRequestGroup g : req.groups()) {
            List<TopicPartition> wanted = null;
            if (g.topics() != null) {
                wanted = new ArrayList<>();
                for (OffsetFetchRequest.OffsetFetchRequestTopics t : g.topics()) {
                    for (int p : t.partitionIndexes()) {
                        wanted.add(new TopicPartition(t.name(), p));
                    }
                }
            }
            groups.add(coordinator.fetchOffsets(g.groupId(), wanted, req.requireStable()).thenApply(r -> {
                Map<String, OffsetFetchResponse.OffsetFetchResponseTopics> byTopic = new LinkedHashMap<>();
                if (r.error() == Errors.NONE) {
                    for (Map.Entry<TopicPartition, CommittedOffset> e : r.offsets().entrySet()) {
                        boolean unstable = r.unstable().contains(e.getKey());
                        CommittedOffset c = unstable ? null : e.getValue();
                        byTopic.computeIfAbsent(e.getKey().topic(), n -> new OffsetFetchResponse.OffsetFetchResponseTopics()
                                .setName(n).setPartitions(new ArrayList<>())).partitions()
                            .add(new OffsetFetchResponse.OffsetFetchResponsePartitions()
                                .setPartitionIndex(e.getKey().partition())
                                .setCommittedOffset(c == null ? -1 : c.offset())
                                .setCommittedLeaderEpoch(c == null ? -1 : c.leaderEpoch())
                                .setMetadata(c == null ? "" : c.metadata())
                                .setErrorCode(unstable ? Errors.UNSTABLE_OFFSET_COMMIT.code() : Errors.NONE.code()));
                    }
                }
                return new OffsetFetchResponse.OffsetFetchResponseGroup().setGroupId(g.groupId())
                    .setErrorCode(r.error().code()).setTopics(new ArrayList<>(byTopic.values()));
            }));
        }
        return all(groups).thenApply(gs -> new OffsetFetchResponse().setGroups(new ArrayList<>(gs)));
    }

    // ------------------------------------------------------------------------------ admin

    private CompletableFuture<ListGroupsResponse> listGroups(ListGroupsRequest req) {
        return coordinator.listGroups(lower(req.statesFilter()), lower(req.typesFilter())).thenApply(r -> {
            List<ListGroupsResponse.ListedGroup> out = new ArrayList<>();
            for (GroupCoordinatorShard.Overview o : r.groups()) {
                out.add(new ListGroupsResponse.ListedGroup().setGroupId(o.groupId()).setProtocolType(o.protocolType())
                    .setGroupState(o.state()).setGroupType("classic"));
            }
            return new ListGroupsResponse().setErrorCode(r.error().code()).setGroups(out);
        });
    }

    private static Set<String> lower(List<String> in) {
        Set<String> out = new HashSet<>();
        if (in != null) {
            in.forEach(s -> out.add(s.toLowerCase(Locale.ROOT)));
        }
        return out;
    }

    private CompletableFuture<DescribeGroupsResponse> describeGroups(DescribeGroupsRequest req, short v) {
        List<CompletableFuture<DescribeGroupsResponse.DescribedGroup>> out = new ArrayList<>();
        for (String id : req.groups()) {
            out.add(coordinator.describeGroup(id).thenApply(d -> {
                DescribeGroupsResponse.DescribedGroup g = new DescribeGroupsResponse.DescribedGroup().setGroupId(id)
                    .setMembers(new ArrayList<>());
                if (d == null) {
                    if (v >= 6) {
                        g.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("Group " + id + " not found.");
                    }
                    return g.setGroupState(GroupState.DEAD.wireName()).setProtocolType("").setProtocolData("");
                }
                g.setErrorCode(d.error().code()).setGroupState(d.state()).setProtocolType(d.protocolType())
                    .setProtocolData(d.protocolData());
                for (GroupCoordinatorShard.DescribedMember m : d.members()) {
                    g.members().add(new DescribeGroupsResponse.DescribedGroupMember().setMemberId(m.memberId())
                        .setGroupInstanceId(m.groupInstanceId()).setClientId(m.clientId()).setClientHost(m.clientHost())
                        .setMemberMetadata(m.metadata()).setMemberAssignment(m.assignment()));
                }
                return g;
            }));
        }
        return all(out).thenApply(gs -> new DescribeGroupsResponse().setGroups(new ArrayList<>(gs)));
    }

    private CompletableFuture<DeleteGroupsResponse> deleteGroups(DeleteGroupsRequest req) {
        List<CompletableFuture<DeleteGroupsResponse.DeletableGroupResult>> out = new ArrayList<>();
        for (String id : req.groupsNames()) {
            out.add(coordinator.deleteGroup(id).thenApply(e -> new DeleteGroupsResponse.DeletableGroupResult()
                .setGroupId(id).setErrorCode(e.code())));
        }
        return all(out).thenApply(rs -> new DeleteGroupsResponse().setResults(new ArrayList<>(rs)));
    }

    private CompletableFuture<OffsetDeleteResponse> offsetDelete(OffsetDeleteRequest req) {
        List<TopicPartition> tps = new ArrayList<>();
        for (OffsetDeleteRequest.OffsetDeleteRequestTopic t : req.topics()) {
            for (OffsetDeleteRequest.OffsetDeleteRequestPartition p : t.partitions()) {
                tps.add(new TopicPartition(t.name(), p.partitionIndex()));
            }
        }
        return coordinator.deleteOffsets(req.groupId(), tps).thenApply(r -> {
            Map<String, OffsetDeleteResponse.OffsetDeleteResponseTopic> byTopic = new LinkedHashMap<>();
            for (Map.Entry<TopicPartition, Errors> e : r.partitions().entrySet()) {
                byTopic.computeIfAbsent(e.getKey().topic(), n -> new OffsetDeleteResponse.OffsetDeleteResponseTopic()
                        .setName(n).setPartitions(new ArrayList<>())).partitions()
                    .add(new OffsetDeleteResponse.OffsetDeleteResponsePartition().setPartitionIndex(e.getKey().partition())
                        .setErrorCode(e.getValue().code()));
            }
            return new OffsetDeleteResponse().setErrorCode(r.error().code()).setTopics(new ArrayList<>(byTopic.values()));
        });
    }
}
