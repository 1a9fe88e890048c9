package io.weir.broker.api;

import io.weir.broker.group.GroupApis;
import io.weir.broker.network.RequestChannel;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.DeleteGroupsRequest;
import io.weir.protocol.message.DeleteGroupsResponse;
import io.weir.protocol.message.DescribeGroupsRequest;
import io.weir.protocol.message.DescribeGroupsResponse;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.FindCoordinatorResponse;
import io.weir.protocol.message.HeartbeatResponse;
import io.weir.protocol.message.JoinGroupResponse;
import io.weir.protocol.message.LeaveGroupResponse;
import io.weir.protocol.message.ListGroupsResponse;
import io.weir.protocol.message.OffsetCommitRequest;
import io.weir.protocol.message.OffsetCommitResponse;
import io.weir.protocol.message.OffsetDeleteResponse;
import io.weir.protocol.message.OffsetFetchRequest;
import io.weir.protocol.message.OffsetFetchResponse;
import io.weir.protocol.message.SyncGroupResponse;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The group APIs ({@link GroupApis#APIS}, every version) as one registry entry: the only class here
 * that knows {@link GroupApis}, which answers through the network request itself (JoinGroup and
 * SyncGroup later, from the coordinator). Error responses are built here from the request, per group
 * or partition.
 *
 * <p>Thread-safe.
 */
public final class GroupApisHandler implements ApiHandler {
    private final GroupApis groupApis;

    public GroupApisHandler(GroupApis groupApis) {
        this.groupApis = groupApis;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        Map<ApiKeys, VersionRange> apis = new EnumMap<>(ApiKeys.class);
        for (ApiKeys api : GroupApis.APIS) {
            apis.put(api, VersionRange.all(api));
        }
        return apis;
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        RequestChannel.Request request = ctx.request();
        if (request == null) {
            throw new IllegalStateException("the group APIs answer through a network request");
        }
        // GroupApis answers through the request; if it throws it has not answered (answering is its last
        // step), so the dispatcher's error response goes out instead
        groupApis.handle(request, ctx.header(), body);
        ctx.claimForDelegate();
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        short code = error.code();
        short version = header.apiVersion();
        return switch (ApiKeys.forId(header.apiKey())) {
            case FIND_COORDINATOR -> {
                FindCoordinatorRequest req = (FindCoordinatorRequest) body;
                List<FindCoordinatorResponse.Coordinator> coordinators = new ArrayList<>();
                if (version >= 4) {
                    for (String key : req.coordinatorKeys()) {
                        coordinators.add(new FindCoordinatorResponse.Coordinator().setKey(key).setNodeId(-1)
                            .setHost("").setPort(-1).setErrorCode(code));
                    }
                }
                yield new FindCoordinatorResponse().setErrorCode(code).setNodeId(-1).setHost("").setPort(-1)
                    .setCoordinators(coordinators);
            }
            case JOIN_GROUP -> new JoinGroupResponse().setErrorCode(code).setGenerationId(-1).setProtocolName("")
                .setLeader("").setMemberId("");
            case SYNC_GROUP -> new SyncGroupResponse().setErrorCode(code).setAssignment(new byte[0]);
            case HEARTBEAT -> new HeartbeatResponse().setErrorCode(code);
            case LEAVE_GROUP -> new LeaveGroupResponse().setErrorCode(code);
            case LIST_GROUPS -> new ListGroupsResponse().setErrorCode(code);
            case OFFSET_DELETE -> new OffsetDeleteResponse().setErrorCode(code);
            case OFFSET_COMMIT -> {
                List<OffsetCommitResponse.OffsetCommitResponseTopic> topics = new ArrayList<>();
                for (OffsetCommitRequest.OffsetCommitRequestTopic t : ((OffsetCommitRequest) body).topics()) {
                    List<OffsetCommitResponse.OffsetCommitResponsePartition> parts = new ArrayList<>();
                    for (OffsetCommitRequest.OffsetCommitRequestPartition p : t.partitions()) {
                        parts.add(new OffsetCommitResponse.OffsetCommitResponsePartition()
                            .setPartitionIndex(p.partitionIndex()).setErrorCode(code));
                    }
                    topics.add(new OffsetCommitResponse.OffsetCommitResponseTopic().setName(t.name())
                        .setPartitions(parts));
                }
                yield new OffsetCommitResponse().setTopics(topics);
            }
            case OFFSET_FETCH -> {
                OffsetFetchRequest req = (OffsetFetchRequest) body;
                OffsetFetchResponse resp = new OffsetFetchResponse().setErrorCode(code);
                if (version >= 8) {
                    List<OffsetFetchResponse.OffsetFetchResponseGroup> groups = new ArrayList<>();
                    for (OffsetFetchRequest.OffsetFetchRequestGroup g : req.groups()) {
                        groups.add(new OffsetFetchResponse.OffsetFetchResponseGroup().setGroupId(g.groupId())
                            .setErrorCode(code));
                    }
                    resp.setGroups(groups);
                } else if (req.topics() != null) {
                    // v0-1 have no top-level code: each requested partition carries it
                    List<OffsetFetchResponse.OffsetFetchResponseTopic> topics = new ArrayList<>();
                    for (OffsetFetchRequest.OffsetFetchRequestTopic t : req.topics()) {
                        List<OffsetFetchResponse.OffsetFetchResponsePartition> parts = new ArrayList<>();
                        for (int p : t.partitionIndexes()) {
                            parts.add(new OffsetFetchResponse.OffsetFetchResponsePartition().setPartitionIndex(p)
                                .setCommittedOffset(-1).setMetadata("").setErrorCode(code));
                        }
                        topics.add(new OffsetFetchResponse.OffsetFetchResponseTopic().setName(t.name())
                            .setPartitions(parts));
                    }
                    resp.setTopics(topics);
                }
                yield resp;
            }
            case DESCRIBE_GROUPS -> {
                List<DescribeGroupsResponse.DescribedGroup> groups = new ArrayList<>();
                for (String g : ((DescribeGroupsRequest) body).groups()) {
                    groups.add(new DescribeGroupsResponse.DescribedGroup().setGroupId(g).setErrorCode(code)
                        .setGroupState("").setProtocolType("").setProtocolData(""));
                }
                yield new DescribeGroupsResponse().setGroups(groups);
            }
            case DELETE_GROUPS -> {
                List<DeleteGroupsResponse.DeletableGroupResult> results = new ArrayList<>();
                for (String g : ((DeleteGroupsRequest) body).groupsNames()) {
                    results.add(new DeleteGroupsResponse.DeletableGroupResult().setGroupId(g).setErrorCode(code));
                }
                yield new DeleteGroupsResponse().setResults(results);
            }
            default -> throw new IllegalStateException("not a group API: " + header.apiKey());
        };
    }
}
