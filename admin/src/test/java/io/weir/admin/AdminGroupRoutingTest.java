package io.weir.admin;

import io.weir.common.TopicPartition;
import io.weir.consumer.ConsumerProtocol;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.client.FakeBroker;
import io.weir.protocol.client.TimeoutException;
import io.weir.protocol.message.DescribeGroupsRequest;
import io.weir.protocol.message.DescribeGroupsResponse;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.FindCoordinatorResponse;
import io.weir.protocol.message.OffsetFetchRequest;
import io.weir.protocol.message.OffsetFetchResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How group calls find and follow the coordinator, against a scripted broker: FindCoordinator is
 * retried while the coordinator is not available, a NOT_COORDINATOR answer sends the call back to
 * the lookup, COORDINATOR_LOAD_IN_PROGRESS is asked again, and a coordinator that never settles
 * ends in a timeout.
 */
class AdminGroupRoutingTest {
    private final AtomicInteger coordinatorNotAvailable = new AtomicInteger();
    private final AtomicInteger notCoordinator = new AtomicInteger();
    private final AtomicInteger loading = new AtomicInteger();
    private FakeBroker broker;
    private Admin admin;

    @BeforeEach
    void setUp() throws Exception {
        broker = new FakeBroker(this::handle);
        admin = Admin.create(Map.of("bootstrap.servers", "127.0.0.1:" + broker.port(), "default.api.timeout.ms", "10000",
            "retry.backoff.ms", "5", "retry.backoff.max.ms", "20"));
    }

    @AfterEach
    void tearDown() throws Exception {
        admin.close(Duration.ZERO);
        broker.close();
    }

    private ApiMessage handle(RequestHeader h, ApiMessage req, int conn) {
        if (req instanceof FindCoordinatorRequest f) {
            String key = h.apiVersion() >= 4 ? f.coordinatorKeys().get(0) : f.key();
            short error = coordinatorNotAvailable.getAndDecrement() > 0 ? Errors.COORDINATOR_NOT_AVAILABLE.code() : 0;
            if (h.apiVersion() >= 4) {
                return new FindCoordinatorResponse().setCoordinators(new ArrayList<>(List.of(
                    new FindCoordinatorResponse.Coordinator().setKey(key).setNodeId(0).setHost("127.0.0.1")
                        .setPort(broker.port()).setErrorCode(error))));
            }
            return new FindCoordinatorResponse().setErrorCode(error).setNodeId(0).setHost("127.0.0.1").setPort(broker.port());
        }
        if (req instanceof DescribeGroupsRequest d) {
            String id = d.groups().get(0);
            DescribeGroupsResponse.DescribedGroup g = new DescribeGroupsResponse.DescribedGroup().setGroupId(id);
            if (notCoordinator.getAndDecrement() > 0) {
                g.setErrorCode(Errors.NOT_COORDINATOR.code()).setGroupState("").setProtocolType("").setProtocolData("")
                    .setMembers(new ArrayList<>());
            } else {
                ByteBuffer a = ConsumerProtocol.serializeAssignment(new ConsumerProtocol.Assignment(
                    List.of(new TopicPartition("t", 0), new TopicPartition("t", 2), new TopicPartition("u", 1)), null));
                byte[] bytes = new byte[a.remaining()];
                a.get(bytes);
                g.setGroupState("Stable").setProtocolType("consumer").setProtocolData("range")
                    .setMembers(new ArrayList<>(List.of(new DescribeGroupsResponse.DescribedGroupMember()
                        .setMemberId("m-1").setGroupInstanceId("static-1").setClientId("c").setClientHost("/10.1.2.3")
                        .setMemberMetadata(new byte[0]).setMemberAssignment(bytes))));
            }
            return new DescribeGroupsResponse().setGroups(new ArrayList<>(List.of(g)));
        }
        if (req instanceof OffsetFetchRequest) {
            short error = loading.getAndDecrement() > 0 ? Errors.COORDINATOR_LOAD_IN_PROGRESS.code() : 0;
            OffsetFetchResponse.OffsetFetchResponsePartitions p = new OffsetFetchResponse.OffsetFetchResponsePartitions()
                .setPartitionIndex(0).setCommittedOffset(42).setMetadata("");
            OffsetFetchResponse.OffsetFetchResponsePartitions none = new OffsetFetchResponse.OffsetFetchResponsePartitions()
                .setPartitionIndex(1).setCommittedOffset(-1).setMetadata("");
            return new OffsetFetchResponse().setGroups(new ArrayList<>(List.of(new OffsetFetchResponse.OffsetFetchResponseGroup()
                .setGroupId("g").setErrorCode(error).setTopics(new ArrayList<>(List.of(
                    new OffsetFetchResponse.OffsetFetchResponseTopics().setName("t")
                        .setPartitions(new ArrayList<>(List.of(p, none)))))))));
        }
        return null;
    }

    @Test
    void shouldFollowTheCoordinatorAndDecodeTheAssignment() {
        coordinatorNotAvailable.set(2);
        notCoordinator.set(2);
        ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("g")).value("g").join();
        assertEquals("Stable", d.state());
        assertEquals("range", d.partitionAssignor());
        assertEquals(0, d.coordinator().id());
        MemberDescription m = d.members().get(0);
        assertEquals("static-1", m.groupInstanceId());
        assertEquals("/10.1.2.3", m.host());
        assertEquals(List.of(new TopicPartition("t", 0), new TopicPartition("t", 2), new TopicPartition("u", 1)),
            m.assignment());
        // two lookups refused, then one per DescribeGroups attempt (two NOT_COORDINATOR answers, one real)
        assertEquals(5, broker.received(ApiKeys.FIND_COORDINATOR).size());
        assertEquals(3, broker.received(ApiKeys.DESCRIBE_GROUPS).size());
    }

    @Test
    void shouldRetryWhileTheCoordinatorLoads() {
        loading.set(2);
        var offsets = admin.listConsumerGroupOffsets("g").join();
        assertEquals(List.of(new TopicPartition("t", 0)), List.copyOf(offsets.keySet())); // t-1 has no offset
        assertEquals(42, offsets.get(new TopicPartition("t", 0)).offset());
        assertEquals(3, broker.received(ApiKeys.OFFSET_FETCH).size());
        assertEquals(1, broker.received(ApiKeys.FIND_COORDINATOR).size());
    }

    @Test
    void shouldTimeOutWhenTheCoordinatorNeverSettles() {
        // one answered call first, so the connection and metadata are up before the timed call starts: the
        // timed call's attempts are then lookups only (a cold start under load once took the whole 2 s
        // deadline before the first answer, and the timeout then had no last answer to name)
        admin.describeConsumerGroups(List.of("g")).value("g").join();
        notCoordinator.set(Integer.MAX_VALUE);
        Throwable t = assertThrows(CompletionException.class, () -> admin.describeConsumerGroups(List.of("g"),
            AdminOptions.defaults().timeoutMs(3_000)).value("g").join()).getCause();
        assertInstanceOf(TimeoutException.class, t);
        assertTrue(t.getMessage().contains("NOT_COORDINATOR"), t.getMessage());
    }
}
