package io.weir.broker.group;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.LocalMetadataStore;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicConfigs;
import io.weir.broker.server.TopicService;
import io.weir.common.TopicPartition;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.MockTimerService;
import io.weir.log.LogManager;
import io.weir.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The group coordinator over a real {@code __consumer_offsets} log, driven on the test's thread (a
 * direct executor) with a mock clock and a mock timer: timers without sleeping. The test methods and
 * their assertions are those written for the coordinator before it moved onto the coordinator
 * runtime; the helpers at the top adapt the calls to the futures of {@link GroupCoordinatorService}.
 */
class GroupCoordinatorTest {
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;

    @TempDir
    Path dir;
    private final MockTime time = new MockTime(1_000_000);
    private BrokerConfig config;
    private LocalMetadataStore store;
    private LogManager logs;
    private ReplicaManager replicas;
    private TopicService topics;
    private MockTimerService timers;
    private Coordinator coordinator;

    /** The calls the tests make, answered synchronously (everything runs on this thread). */
    private final class Coordinator {
        final GroupCoordinatorService service;

        Coordinator() {
            service = new GroupCoordinatorService(config, replicas, topics, store, time, Runnable::run, timers);
        }

        Errors findCoordinator(String groupId) {
            return service.findCoordinator(groupId).join();
        }

        void joinGroup(GroupCoordinatorShard.JoinRequest req, java.util.function.Consumer<GroupCoordinatorShard.JoinResult> cb) {
            service.joinGroup(req).thenAccept(cb);
        }

        void syncGroup(String groupId, int generation, String memberId, String instanceId, String protocolType,
                       String protocolName, Map<String, byte[]> assignments,
                       java.util.function.Consumer<GroupCoordinatorShard.SyncResult> cb) {
            service.syncGroup(groupId, generation, memberId, instanceId, protocolType, protocolName, assignments)
                .thenAccept(cb);
        }

        Errors heartbeat(String groupId, String memberId, String instanceId, int generation) {
            return service.heartbeat(groupId, memberId, instanceId, generation).join();
        }

        Map<TopicPartition, Errors> commitOffsets(String groupId, String memberId, String instanceId, int generation,
                                                  Map<TopicPartition, CommittedOffset> offsets) {
            return service.commitOffsets(groupId, memberId, instanceId, generation, offsets).join();
        }

        GroupCoordinatorShard.FetchResult fetchOffsets(String groupId, List<TopicPartition> partitions) {
            return service.fetchOffsets(groupId, partitions).join();
        }

        /** The timers due by the mock clock fire (the coordinator once scanned for them here). */
        void doWork(long nowMs) {
            assertEquals(nowMs, time.milliseconds());
            timers.poll();
        }

        int expireOffsets(long nowMs) {
            assertEquals(nowMs, time.milliseconds());
            return service.expireOffsets().join();
        }

        void loadAll(long nowMs) {
            assertEquals(nowMs, time.milliseconds());
            service.startup();
        }

        GroupState groupState(String groupId) {
            return service.groupState(groupId).join();
        }

        int memberCount(String groupId) {
            return service.memberCount(groupId).join();
        }
    }

    @BeforeEach
    void setUp() {
        Map<String, String> props = new HashMap<>();
        props.put(BrokerConfig.LOG_DIRS, dir.toString());
        props.put(BrokerConfig.OFFSETS_TOPIC_NUM_PARTITIONS, "3");
        props.put(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS, "0");
        props.put(BrokerConfig.OFFSETS_RETENTION_MINUTES, "60");
        config = new BrokerConfig(props);
        store = new LocalMetadataStore(dir, null);
        TopicConfigs tc = new TopicConfigs(config);
        logs = LogManager.open(dir, tc.defaultLogConfig(), Map.of(), time);
        replicas = new ReplicaManager(0, logs, tc);
        topics = new TopicService(config, store, replicas, tc);
        topics.create("t", 2, (short) 1, Map.of(), Map.of(), false);
        timers = new MockTimerService(time);
        coordinator = new Coordinator();
        assertEquals(Errors.NONE, coordinator.findCoordinator("g"));
    }

    @AfterEach
    void tearDown() {
        coordinator.service.shutdown();
        logs.close();
        store.close();
    }

    private GroupCoordinatorShard.JoinResult join(String member, String instanceId, byte[] metadata) {
        AtomicReference<GroupCoordinatorShard.JoinResult> out = new AtomicReference<>();
        coordinator.joinGroup(new GroupCoordinatorShard.JoinRequest("g", member, instanceId, false, "c", "h", REBALANCE_MS,
            SESSION_MS, "consumer", List.of(new Member.Protocol("range", metadata))), out::set);
        return out.get();
    }

    private GroupCoordinatorShard.SyncResult sync(String member, int generation, Map<String, byte[]> assignments) {
        AtomicReference<GroupCoordinatorShard.SyncResult> out = new AtomicReference<>();
        coordinator.syncGroup("g", generation, member, null, null, null, assignments, out::set);
        return out.get();
    }

    @Test
    void shouldRemoveAMemberThatMissesItsSessionTimeoutAndRebalance() {
        GroupCoordinatorShard.JoinResult a = join("", null, new byte[] {1});
        assertEquals(Errors.NONE, a.error());
        assertEquals(1, a.generationId());
        assertEquals(Errors.NONE, sync(a.memberId(), 1, Map.of(a.memberId(), new byte[] {9})).error());

        // b joins: the group waits for a to rejoin (a learns of it through its heartbeat)
        AtomicReference<GroupCoordinatorShard.JoinResult> b = new AtomicReference<>();
        coordinator.joinGroup(new GroupCoordinatorShard.JoinRequest("g", "", null, false, "c", "h", REBALANCE_MS, SESSION_MS,
            "consumer", List.of(new Member.Protocol("range", new byte[] {2}))), b::set);
        assertNull(b.get());
        assertEquals(Errors.REBALANCE_IN_PROGRESS, coordinator.heartbeat("g", a.memberId(), null, 1));
        GroupCoordinatorShard.JoinResult a2 = join(a.memberId(), null, new byte[] {1});
        assertEquals(2, a2.generationId());
        assertEquals(2, a2.members().size(), "the leader sees every member");
        assertEquals(2, b.get().generationId());
        assertEquals(List.of(), b.get().members());
        sync(a.memberId(), 2, Map.of(a.memberId(), new byte[] {1}, b.get().memberId(), new byte[] {2}));
        assertEquals(new byte[] {2}[0], sync(b.get().memberId(), 2, Map.of()).assignment()[0]);
        assertEquals(GroupState.STABLE, coordinator.groupState("g"));

        // b falls silent; a keeps heartbeating
        for (int i = 0; i < 4; i++) {
            time.advance(SESSION_MS / 3);
            assertEquals(Errors.NONE, coordinator.heartbeat("g", a.memberId(), null, 2));
            coordinator.doWork(time.milliseconds());
        }
        assertEquals(1, coordinator.memberCount("g"));
        assertEquals(Errors.REBALANCE_IN_PROGRESS, coordinator.heartbeat("g", a.memberId(), null, 2));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, coordinator.heartbeat("g", b.get().memberId(), null, 2));
        assertEquals(3, join(a.memberId(), null, new byte[] {1}).generationId());
    }

    @Test
    void shouldDropMembersThatDoNotRejoinBeforeTheRebalanceTimeout() {
        GroupCoordinatorShard.JoinResult a = join("", null, new byte[] {1});
        sync(a.memberId(), 1, Map.of());
        AtomicReference<GroupCoordinatorShard.JoinResult> b = new AtomicReference<>();
        coordinator.joinGroup(new GroupCoordinatorShard.JoinRequest("g", "", null, false, "c", "h", REBALANCE_MS, SESSION_MS * 10,
            "consumer", List.of(new Member.Protocol("range", new byte[] {2}))), b::set);
        // a heartbeats (so its session holds) but never rejoins
        for (long t = 0; t <= REBALANCE_MS; t += 2_000) {
            time.advance(2_000);
            coordinator.heartbeat("g", a.memberId(), null, 1);
            coordinator.doWork(time.milliseconds());
        }
        assertNotNull(b.get());
        assertEquals(2, b.get().generationId());
        assertEquals(b.get().memberId(), b.get().leaderId(), "the only member left leads");
        assertEquals(Errors.UNKNOWN_MEMBER_ID, coordinator.heartbeat("g", a.memberId(), null, 1));
    }

    @Test
    void staticMemberShouldReplaceItsOldIdWithoutARebalance() {
        GroupCoordinatorShard.JoinResult first = join("", "instance-1", new byte[] {1});
        sync(first.memberId(), 1, Map.of(first.memberId(), new byte[] {7}));
        GroupCoordinatorShard.JoinResult again = join("", "instance-1", new byte[] {1});
        assertEquals(Errors.NONE, again.error());
        assertNotEquals(first.memberId(), again.memberId());
        assertEquals(1, again.generationId(), "no new generation");
        assertEquals(GroupState.STABLE, coordinator.groupState("g"));
        assertEquals(7, sync(again.memberId(), 1, Map.of()).assignment()[0], "the assignment is kept");
        assertEquals(Errors.FENCED_INSTANCE_ID, coordinator.heartbeat("g", first.memberId(), "instance-1", 1));
        assertEquals(Errors.NONE, coordinator.heartbeat("g", again.memberId(), "instance-1", 1));
    }

    @Test
    void shouldCheckGenerationAndMemberOnCommit() {
        GroupCoordinatorShard.JoinResult a = join("", null, new byte[] {1});
        sync(a.memberId(), 1, Map.of());
        TopicPartition tp = new TopicPartition("t", 0);
        Map<TopicPartition, CommittedOffset> offsets = Map.of(tp, new CommittedOffset(5, -1, "", -1));
        assertEquals(Errors.ILLEGAL_GENERATION, coordinator.commitOffsets("g", a.memberId(), null, 7, offsets).get(tp));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, coordinator.commitOffsets("g", "nobody", null, 1, offsets).get(tp));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, coordinator.commitOffsets("g", "", null, -1, offsets).get(tp),
            "a group with members takes no simple commits");
        TopicPartition missing = new TopicPartition("t", 9);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION, coordinator.commitOffsets("g", a.memberId(), null, 1,
            Map.of(missing, new CommittedOffset(1, -1, "", -1))).get(missing));
        assertEquals(Errors.OFFSET_METADATA_TOO_LARGE, coordinator.commitOffsets("g", a.memberId(), null, 1,
            Map.of(tp, new CommittedOffset(1, -1, "x".repeat(5000), -1))).get(tp));
        assertEquals(Errors.NONE, coordinator.commitOffsets("g", a.memberId(), null, 1, offsets).get(tp));
        assertEquals(5, coordinator.fetchOffsets("g", List.of(tp)).offsets().get(tp).offset());
    }

    @Test
    void shouldReloadGroupsAndOffsetsFromTheLog() {
        GroupCoordinatorShard.JoinResult a = join("", null, new byte[] {1});
        sync(a.memberId(), 1, Map.of(a.memberId(), new byte[] {3}));
        TopicPartition tp = new TopicPartition("t", 1);
        coordinator.commitOffsets("g", a.memberId(), null, 1, Map.of(tp, new CommittedOffset(41, 0, "m", -1)));
        coordinator.commitOffsets("g", a.memberId(), null, 1, Map.of(tp, new CommittedOffset(42, 0, "m", -1)));
        coordinator.commitOffsets("simple", "", null, -1, Map.of(tp, new CommittedOffset(7, -1, "", -1)));

        Coordinator reloaded = new Coordinator();
        reloaded.loadAll(time.milliseconds());
        assertEquals(42, reloaded.fetchOffsets("g", null).offsets().get(tp).offset());
        assertEquals("m", reloaded.fetchOffsets("g", null).offsets().get(tp).metadata());
        assertEquals(7, reloaded.fetchOffsets("simple", List.of(tp)).offsets().get(tp).offset());
        assertEquals(GroupState.STABLE, reloaded.groupState("g"));
        assertEquals(Errors.NONE, reloaded.heartbeat("g", a.memberId(), null, 1), "members carry on after a reload");
    }

    @Test
    void shouldExpireOffsetsOfEmptyGroupsAfterTheRetention() {
        TopicPartition tp = new TopicPartition("t", 0);
        coordinator.commitOffsets("g", "", null, -1, Map.of(tp, new CommittedOffset(3, -1, "", -1)));
        time.advance(59 * 60_000L);
        assertEquals(0, coordinator.expireOffsets(time.milliseconds()));
        time.advance(60_000L);
        assertEquals(1, coordinator.expireOffsets(time.milliseconds()));
        assertNull(coordinator.fetchOffsets("g", List.of(tp)).offsets().get(tp));
        assertNull(coordinator.groupState("g"));

        Coordinator reloaded = new Coordinator();
        reloaded.loadAll(time.milliseconds());
        assertNull(reloaded.fetchOffsets("g", List.of(tp)).offsets().get(tp), "the tombstone wins on reload");
    }
}
