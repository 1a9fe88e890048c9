package io.weir.broker.group;

import io.weir.broker.network.ByteBufferSend;
import io.weir.broker.network.RequestChannel;
import io.weir.log.TopicPartition;
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

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Translates the group APIs between their wire messages (every supported version) and the
 * {@link GroupCoordinator}; JoinGroup and SyncGroup are answered when the coordinator completes them,
 * possibly later and from another thread.
 *
 * <p>Thread-safe (stateless apart from the coordinator).
 */
public final class GroupApis {
    /** The APIs this class answers. */
    public static final Set<ApiKeys> APIS = EnumSet.of(ApiKeys.FIND_COORDINATOR, ApiKeys.JOIN_GROUP,
        ApiKeys.SYNC_GROUP, ApiKeys.HEARTBEAT, ApiKeys.LEAVE_GROUP, ApiKeys.OFFSET_COMMIT, ApiKeys.OFFSET_FETCH,
        ApiKeys.LIST_GROUPS, ApiKeys.DESCRIBE_GROUPS, ApiKeys.DELETE_GROUPS, ApiKeys.OFFSET_DELETE);

    private final GroupCoordinator coordinator;
    private final int brokerId;
    private final String host;
    private final int port;

    public GroupApis(GroupCoordinator coordinator, int brokerId, String advertisedHost, int advertisedPort) {
        this.coordinator = coordinator;
        this.brokerId = brokerId;
        this.host = advertisedHost;
        this.port = advertisedPort;
    }

    /** Answers one group API request (now, or later for JoinGroup and SyncGroup). */
    public void handle(RequestChannel.Request request, RequestHeader header, ApiMessage body) {
        short v = header.apiVersion();
        switch (ApiKeys.forId(header.apiKey())) {
            case FIND_COORDINATOR -> respond(request, header, findCoordinator((FindCoordinatorRequest) body, v));
            case JOIN_GROUP -> joinGroup(request, header, (JoinGroupRequest) body, v);
            case SYNC_GROUP -> syncGroup(request, header, (SyncGroupRequest) body);
            case HEARTBEAT -> {
                HeartbeatRequest r = (HeartbeatRequest) body;
                respond(request, header, new HeartbeatResponse().setErrorCode(coordinator.heartbeat(r.groupId(),
                    r.memberId(), r.groupInstanceId(), r.generationId()).code()));
            }
            case LEAVE_GROUP -> respond(request, header, leaveGroup((LeaveGroupRequest) body, v));
            case OFFSET_COMMIT -> respond(request, header, offsetCommit((OffsetCommitRequest) body));
            case OFFSET_FETCH -> respond(request, header, offsetFetch((OffsetFetchRequest) body, v));
            case LIST_GROUPS -> respond(request, header, listGroups((ListGroupsRequest) body));
            case DESCRIBE_GROUPS -> respond(request, header, describeGroups((DescribeGroupsRequest) body, v));
            case DELETE_GROUPS -> respond(request, header, deleteGroups((DeleteGroupsRequest) body));
            case OFFSET_DELETE -> respond(request, header, offsetDelete((OffsetDeleteRequest) body));
            default -> throw new IllegalArgumentException("not a group API: " + header.apiKey());
        }
    }

    private static void respond(RequestChannel.Request request, RequestHeader header, ApiMessage response) {
        request.respond(new ByteBufferSend(MessageCodec.serializeResponse(header, response)));
    }

    // ------------------------------------------------------------------------------ FindCoordinator

    private FindCoordinatorResponse findCoordinator(FindCoordinatorRequest req, short v) {
        if (v < 4) {
            FindCoordinatorResponse.Coordinator c = lookup(req.key(), req.keyType());
            return new FindCoordinatorResponse().setErrorCode(c.errorCode()).setErrorMessage(c.errorMessage())
                .setNodeId(c.nodeId()).setHost(c.host()).setPort(c.port());
        }
        List<FindCoordinatorResponse.Coordinator> out = new ArrayList<>();
        for (String key : req.coordinatorKeys()) {
            out.add(lookup(key, req.keyType()));
        }
        return new FindCoordinatorResponse().setCoordinators(out);
    }

    private FindCoordinatorResponse.Coordinator lookup(String key, byte keyType) {
        FindCoordinatorResponse.Coordinator c = new FindCoordinatorResponse.Coordinator().setKey(key);
        Errors e;
        String message = null;
        if (keyType == 0) {
            e = key == null ? Errors.INVALID_REQUEST : coordinator.findCoordinator(key);
        } else if (keyType == 1) {
            e = Errors.COORDINATOR_NOT_AVAILABLE;
            message = "This broker has no transaction coordinator yet";
        } else {
            e = Errors.INVALID_REQUEST;
            message = "Unknown coordinator key type " + keyType;
        }
        if (e != Errors.NONE) {
            return c.setErrorCode(e.code()).setErrorMessage(message != null ? message : e.message()).setNodeId(-1)
                .setHost("").setPort(-1);
        }
        return c.setErrorCode(Errors.NONE.code()).setNodeId(brokerId).setHost(host).setPort(port);
    }

    // ------------------------------------------------------------------------------ JoinGroup, SyncGroup

    private void joinGroup(RequestChannel.Request request, RequestHeader header, JoinGroupRequest req, short v) {
        List<Member.Protocol> protocols = new ArrayList<>(req.protocols().size());
        for (JoinGroupRequest.JoinGroupRequestProtocol p : req.protocols()) {
            protocols.add(new Member.Protocol(p.name(), p.metadata()));
        }
        int rebalanceTimeoutMs = v == 0 ? req.sessionTimeoutMs() : req.rebalanceTimeoutMs();
        GroupCoordinator.JoinRequest jr = new GroupCoordinator.JoinRequest(req.groupId(), req.memberId(),
            req.groupInstanceId(), v >= 4, header.clientId() == null ? "" : header.clientId(),
            hostOf(request.clientAddress()), rebalanceTimeoutMs, req.sessionTimeoutMs(), req.protocolType(), protocols);
        coordinator.joinGroup(jr, r -> {
            List<JoinGroupResponse.JoinGroupResponseMember> members = new ArrayList<>(r.members().size());
            for (GroupCoordinator.JoinedMember m : r.members()) {
                members.add(new JoinGroupResponse.JoinGroupResponseMember().setMemberId(m.memberId())
                    .setGroupInstanceId(m.groupInstanceId()).setMetadata(m.metadata()));
            }
            String protocolName = r.protocolName() != null || v >= 7 ? r.protocolName() : "";
            respond(request, header, new JoinGroupResponse().setErrorCode(r.error().code())
                .setGenerationId(r.generationId()).setProtocolType(r.protocolType()).setProtocolName(protocolName)
                .setLeader(r.leaderId() == null ? "" : r.leaderId()).setSkipAssignment(r.skipAssignment())
                .setMemberId(r.memberId() == null ? "" : r.memberId()).setMembers(members));
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

    private void syncGroup(RequestChannel.Request request, RequestHeader header, SyncGroupRequest req) {
        Map<String, byte[]> assignments = new HashMap<>();
        for (SyncGroupRequest.SyncGroupRequestAssignment a : req.assignments()) {
            assignments.put(a.memberId(), a.assignment());
        }
        coordinator.syncGroup(req.groupId(), req.generationId(), req.memberId(), req.groupInstanceId(),
            req.protocolType(), req.protocolName(), assignments, r -> respond(request, header,
                new SyncGroupResponse().setErrorCode(r.error().code()).setProtocolType(r.protocolType())
                    .setProtocolName(r.protocolName()).setAssignment(r.assignment())));
    }

    // ------------------------------------------------------------------------------ LeaveGroup

    private LeaveGroupResponse leaveGroup(LeaveGroupRequest req, short v) {
        List<GroupCoordinator.MemberIdentity> who = new ArrayList<>();
        if (v < 3) {
            who.add(new GroupCoordinator.MemberIdentity(req.memberId(), null));
        } else {
            for (LeaveGroupRequest.MemberIdentity m : req.members()) {
                who.add(new GroupCoordinator.MemberIdentity(m.memberId(), m.groupInstanceId()));
            }
        }
        GroupCoordinator.LeaveResult r = coordinator.leaveGroup(req.groupId(), who);
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
    }

    // ------------------------------------------------------------------------------ offsets

    private OffsetCommitResponse offsetCommit(OffsetCommitRequest req) {
        Map<TopicPartition, CommittedOffset> offsets = new LinkedHashMap<>();
        for (OffsetCommitRequest.OffsetCommitRequestTopic t : req.topics()) {
            for (OffsetCommitRequest.OffsetCommitRequestPartition p : t.partitions()) {
                offsets.put(new TopicPartition(t.name(), p.partitionIndex()), new CommittedOffset(p.committedOffset(),
                    p.committedLeaderEpoch(), p.committedMetadata(), -1));
            }
        }
        Map<TopicPartition, Errors> results = coordinator.commitOffsets(req.groupId(), req.memberId(),
            req.groupInstanceId(), req.generationIdOrMemberEpoch(), offsets);
        Map<String, OffsetCommitResponse.OffsetCommitResponseTopic> byTopic = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, Errors> e : results.entrySet()) {
            byTopic.computeIfAbsent(e.getKey().topic(), n -> new OffsetCommitResponse.OffsetCommitResponseTopic()
                    .setName(n).setPartitions(new ArrayList<>())).partitions()
                .add(new OffsetCommitResponse.OffsetCommitResponsePartition().setPartitionIndex(e.getKey().partition())
                    .setErrorCode(e.getValue().code()));
        }
        return new OffsetCommitResponse().setTopics(new ArrayList<>(byTopic.values()));
    }

    private OffsetFetchResponse offsetFetch(OffsetFetchRequest req, short v) {
        if (v < 8) {
            List<TopicPartition> wanted = null;
            if (req.topics() != null) {
                wanted = new ArrayList<>();
                for (OffsetFetchRequest.OffsetFetchRequestTopic t : req.topics()) {
                    for (int p : t.partitionIndexes()) {
                        wanted.add(new TopicPartition(t.name(), p));
                    }
                }
            }
            GroupCoordinator.FetchResult r = coordinator.fetchOffsets(req.groupId(), wanted);
            Map<String, OffsetFetchResponse.OffsetFetchResponseTopic> byTopic = new LinkedHashMap<>();
            Map<TopicPartition, CommittedOffset> found = r.offsets();
            if (r.error() != Errors.NONE && wanted != null) {
                found = new LinkedHashMap<>();
                for (TopicPartition tp : wanted) {
                    found.put(tp, null);
                }
            }
            for (Map.Entry<TopicPartition, CommittedOffset> e : found.entrySet()) {
                CommittedOffset c = e.getValue();
                byTopic.computeIfAbsent(e.getKey().topic(), n -> new OffsetFetchResponse.OffsetFetchResponseTopic()
                        .setName(n).setPartitions(new ArrayList<>())).partitions()
                    .add(new OffsetFetchResponse.OffsetFetchResponsePartition().setPartitionIndex(e.getKey().partition())
                        .setCommittedOffset(c == null ? -1 : c.offset()).setCommittedLeaderEpoch(c == null ? -1 : c.leaderEpoch())
                        .setMetadata(c == null ? "" : c.metadata()).setErrorCode(r.error().code()));
            }
            return new OffsetFetchResponse().setErrorCode(r.error().code()).setTopics(new ArrayList<>(byTopic.values()));
        }
        List<OffsetFetchResponse.OffsetFetchResponseGroup> groups = new ArrayList<>();
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
            GroupCoordinator.FetchResult r = coordinator.fetchOffsets(g.groupId(), wanted);
            Map<String, OffsetFetchResponse.OffsetFetchResponseTopics> byTopic = new LinkedHashMap<>();
            if (r.error() == Errors.NONE) {
                for (Map.Entry<TopicPartition, CommittedOffset> e : r.offsets().entrySet()) {
                    CommittedOffset c = e.getValue();
                    byTopic.computeIfAbsent(e.getKey().topic(), n -> new OffsetFetchResponse.OffsetFetchResponseTopics()
                            .setName(n).setPartitions(new ArrayList<>())).partitions()
                        .add(new OffsetFetchResponse.OffsetFetchResponsePartitions().setPartitionIndex(e.getKey().partition())
                            .setCommittedOffset(c == null ? -1 : c.offset())
                            .setCommittedLeaderEpoch(c == null ? -1 : c.leaderEpoch())
                            .setMetadata(c == null ? "" : c.metadata()).setErrorCode(Errors.NONE.code()));
                }
            }
            groups.add(new OffsetFetchResponse.OffsetFetchResponseGroup().setGroupId(g.groupId())
                .setErrorCode(r.error().code()).setTopics(new ArrayList<>(byTopic.values())));
        }
        return new OffsetFetchResponse().setGroups(groups);
    }

    // ------------------------------------------------------------------------------ admin

    private ListGroupsResponse listGroups(ListGroupsRequest req) {
        Set<String> states = lower(req.statesFilter());
        Set<String> types = lower(req.typesFilter());
        Errors[] error = new Errors[1];
        List<ListGroupsResponse.ListedGroup> out = new ArrayList<>();
        for (GroupCoordinator.Overview o : coordinator.listGroups(states, types, error)) {
            out.add(new ListGroupsResponse.ListedGroup().setGroupId(o.groupId()).setProtocolType(o.protocolType())
                .setGroupState(o.state()).setGroupType("classic"));
        }
        return new ListGroupsResponse().setErrorCode(error[0].code()).setGroups(out);
    }

    private static Set<String> lower(List<String> in) {
        Set<String> out = new HashSet<>();
        if (in != null) {
            in.forEach(s -> out.add(s.toLowerCase(Locale.ROOT)));
        }
        return out;
    }

    private DescribeGroupsResponse describeGroups(DescribeGroupsRequest req, short v) {
        List<DescribeGroupsResponse.DescribedGroup> out = new ArrayList<>();
        for (String id : req.groups()) {
            GroupCoordinator.Described d = coordinator.describeGroup(id);
            DescribeGroupsResponse.DescribedGroup g = new DescribeGroupsResponse.DescribedGroup().setGroupId(id)
                .setMembers(new ArrayList<>());
            if (d == null) {
                if (v >= 6) {
                    g.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("Group " + id + " not found.");
                }
                out.add(g.setGroupState(GroupState.DEAD.wireName()).setProtocolType("").setProtocolData(""));
                continue;
            }
            g.setErrorCode(d.error().code()).setGroupState(d.state()).setProtocolType(d.protocolType())
                .setProtocolData(d.protocolData());
            for (GroupCoordinator.DescribedMember m : d.members()) {
                g.members().add(new DescribeGroupsResponse.DescribedGroupMember().setMemberId(m.memberId())
                    .setGroupInstanceId(m.groupInstanceId()).setClientId(m.clientId()).setClientHost(m.clientHost())
                    .setMemberMetadata(m.metadata()).setMemberAssignment(m.assignment()));
            }
            out.add(g);
        }
        return new DescribeGroupsResponse().setGroups(out);
    }

    private DeleteGroupsResponse deleteGroups(DeleteGroupsRequest req) {
        List<DeleteGroupsResponse.DeletableGroupResult> out = new ArrayList<>();
        for (String id : req.groupsNames()) {
            out.add(new DeleteGroupsResponse.DeletableGroupResult().setGroupId(id)
                .setErrorCode(coordinator.deleteGroup(id).code()));
        }
        return new DeleteGroupsResponse().setResults(out);
    }

    private OffsetDeleteResponse offsetDelete(OffsetDeleteRequest req) {
        List<TopicPartition> tps = new ArrayList<>();
        for (OffsetDeleteRequest.OffsetDeleteRequestTopic t : req.topics()) {
            for (OffsetDeleteRequest.OffsetDeleteRequestPartition p : t.partitions()) {
                tps.add(new TopicPartition(t.name(), p.partitionIndex()));
            }
        }
        GroupCoordinator.OffsetDeleteResult r = coordinator.deleteOffsets(req.groupId(), tps);
        Map<String, OffsetDeleteResponse.OffsetDeleteResponseTopic> byTopic = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, Errors> e : r.partitions().entrySet()) {
            byTopic.computeIfAbsent(e.getKey().topic(), n -> new OffsetDeleteResponse.OffsetDeleteResponseTopic()
                    .setName(n).setPartitions(new ArrayList<>())).partitions()
                .add(new OffsetDeleteResponse.OffsetDeleteResponsePartition().setPartitionIndex(e.getKey().partition())
                    .setErrorCode(e.getValue().code()));
        }
        return new OffsetDeleteResponse().setErrorCode(r.error().code()).setTopics(new ArrayList<>(byTopic.values()));
    }
}
