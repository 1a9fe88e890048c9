package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.RawConnection;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.FindCoordinatorResponse;
import io.weir.protocol.message.JoinGroupRequest;
import io.weir.protocol.message.JoinGroupResponse;
import io.weir.protocol.message.OffsetCommitRequest;
import io.weir.protocol.message.OffsetCommitResponse;
import io.weir.protocol.message.OffsetFetchRequest;
import io.weir.protocol.message.OffsetFetchResponse;
import io.weir.protocol.message.SyncGroupRequest;
import io.weir.protocol.message.SyncGroupResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Bad group input on the wire gets Kafka's error codes, and the connection keeps serving. */
class GroupProtocolErrorsTest {
    private EmbeddedBroker broker;
    private RawConnection connection;

    @BeforeEach
    void start() throws IOException {
        broker = new EmbeddedBroker(Map.of("group.initial.rebalance.delay.ms", "0", "offsets.topic.num.partitions", "2"))
            .start();
        connection = new RawConnection(broker.port());
        call(ApiKeys.CREATE_TOPICS, (short) 7, new CreateTopicsRequest().setTimeoutMs(5_000).setTopics(List.of(
            new CreateTopicsRequest.CreatableTopic().setName("e").setNumPartitions(1).setReplicationFactor((short) 1))));
    }

    @AfterEach
    void stop() throws IOException {
        connection.close();
        broker.close();
    }

    private ApiMessage call(ApiKeys api, short version, ApiMessage body) throws IOException {
        return connection.call(api, version, body);
    }

    private JoinGroupResponse join(String memberId) throws IOException {
        return (JoinGroupResponse) call(ApiKeys.JOIN_GROUP, (short) 5, new JoinGroupRequest().setGroupId("raw-g")
            .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000).setMemberId(memberId).setProtocolType("consumer")
            .setProtocols(List.of(new JoinGroupRequest.JoinGroupRequestProtocol().setName("range")
                .setMetadata(new byte[] {0, 0}))));
    }

    private short commit(String memberId, int generation, int partition) throws IOException {
        OffsetCommitResponse r = (OffsetCommitResponse) call(ApiKeys.OFFSET_COMMIT, (short) 8, new OffsetCommitRequest()
            .setGroupId("raw-g").setMemberId(memberId).setGenerationIdOrMemberEpoch(generation)
            .setTopics(List.of(new OffsetCommitRequest.OffsetCommitRequestTopic().setName("e").setPartitions(List.of(
                new OffsetCommitRequest.OffsetCommitRequestPartition().setPartitionIndex(partition)
                    .setCommittedOffset(3).setCommittedMetadata("meta"))))));
        return r.topics().get(0).partitions().get(0).errorCode();
    }

    @Test
    void shouldAnswerBadCommitsWithKafkasErrorCodes() throws IOException {
        FindCoordinatorResponse fc = (FindCoordinatorResponse) call(ApiKeys.FIND_COORDINATOR, (short) 4,
            new FindCoordinatorRequest().setKeyType((byte) 0).setCoordinatorKeys(List.of("raw-g")));
        assertEquals(Errors.NONE.code(), fc.coordinators().get(0).errorCode());
        assertEquals(broker.port(), fc.coordinators().get(0).port());

        JoinGroupResponse first = join("");
        assertEquals(Errors.MEMBER_ID_REQUIRED.code(), first.errorCode());
        JoinGroupResponse joined = join(first.memberId());
        assertEquals(Errors.NONE.code(), joined.errorCode());
        assertEquals(joined.memberId(), joined.leader());
        int generation = joined.generationId();
        SyncGroupResponse synced = (SyncGroupResponse) call(ApiKeys.SYNC_GROUP, (short) 3, new SyncGroupRequest()
            .setGroupId("raw-g").setGenerationId(generation).setMemberId(joined.memberId()).setAssignments(List.of(
                new SyncGroupRequest.SyncGroupRequestAssignment().setMemberId(joined.memberId())
                    .setAssignment(new byte[] {4, 2}))));
        assertEquals(Errors.NONE.code(), synced.errorCode());

        assertEquals(Errors.ILLEGAL_GENERATION.code(), commit(joined.memberId(), generation + 1, 0));
        assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), commit("not-a-member", generation, 0));
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), commit(joined.memberId(), generation, 7));
        assertEquals(Errors.NONE.code(), commit(joined.memberId(), generation, 0));

        OffsetFetchResponse fetched = (OffsetFetchResponse) call(ApiKeys.OFFSET_FETCH, (short) 8, new OffsetFetchRequest()
            .setGroups(List.of(new OffsetFetchRequest.OffsetFetchRequestGroup().setGroupId("raw-g").setTopics(List.of(
                new OffsetFetchRequest.OffsetFetchRequestTopics().setName("e").setPartitionIndexes(List.of(0, 5)))),
                new OffsetFetchRequest.OffsetFetchRequestGroup().setGroupId("other").setTopics(null))));
        OffsetFetchResponse.OffsetFetchResponseGroup g = fetched.groups().get(0);
        assertEquals(3, g.topics().get(0).partitions().get(0).committedOffset());
        assertEquals("meta", g.topics().get(0).partitions().get(0).metadata());
        assertEquals(-1, g.topics().get(0).partitions().get(1).committedOffset(), "no commit is -1");
        assertEquals(List.of(), fetched.groups().get(1).topics());
    }
}
