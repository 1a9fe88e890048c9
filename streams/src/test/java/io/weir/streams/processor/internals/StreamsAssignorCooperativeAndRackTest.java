package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import io.weir.common.config.ConfigException;
import io.weir.consumer.ConsumerProtocol;
import io.weir.consumer.internals.PartitionAssignor;
import io.weir.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The streams assignor's cooperative rounds (KIP-429: a task another member still owns is handed over only in the
 * follow-up round, after its owner revoked it) and its rack-aware standby placement (KIP-708).
 */
class StreamsAssignorCooperativeAndRackTest {
    /** Sub-topology 0 reads "a" and "b" (co-partitioned), sub-topology 1 reads "rep" and has a logged store. */
    private static final Map<Integer, List<String>> TOPOLOGY = Map.of(0, List.of("a", "b"), 1, List.of("rep"));
    private static final Map<String, Integer> COUNTS = Map.of("a", 4, "b", 4, "rep", 4);

    private static StreamsPartitionAssignor assignor(int standbys, StreamsPartitionAssignor.Options options) {
        return new StreamsPartitionAssignor("leader", "h0:1", TOPOLOGY, Set.of(1), standbys,
            StreamsPartitionAssignor.DEFAULT_ACCEPTABLE_RECOVERY_LAG, StreamsPartitionAssignor.DEFAULT_MAX_WARMUP_REPLICAS,
            Map::of, options);
    }

    /** A member as its consumer joins: its last assignment's tasks, the partitions it owns (cooperative) and tags. */
    private static ConsumerProtocol.Subscription member(String process, Set<TaskId> active, Set<TaskId> standby,
                                                        Map<String, String> tags, int generation) {
        return new ConsumerProtocol.Subscription(List.of("a", "b", "rep"), StreamsPartitionAssignor.encodeSubscription(
            new StreamsPartitionAssignor.MemberInfo(process, "h-" + process + ":1", active, standby, Map.of(), 0, 0, tags)),
            partitionsOf(active), generation, null);
    }

    private static List<TopicPartition> partitionsOf(Set<TaskId> tasks) {
        List<TopicPartition> out = new ArrayList<>();
        for (TaskId t : tasks) {
            for (String topic : TOPOLOGY.get(t.subtopology())) {
                out.add(new TopicPartition(topic, t.partition()));
            }
        }
        return out;
    }

    private static Map<String, StreamsPartitionAssignor.AssignmentInfo> run(StreamsPartitionAssignor a,
                                                                            Map<String, ConsumerProtocol.Subscription> subs,
                                                                            Map<String, List<TopicPartition>> partitions) {
        Map<String, StreamsPartitionAssignor.AssignmentInfo> out = new TreeMap<>();
        a.assignWithUserData(COUNTS, subs).forEach((m, as) -> {
            out.put(m, StreamsPartitionAssignor.decodeAssignment(as.userData(), 1));
            partitions.put(m, as.partitions());
        });
        return out;
    }

    private static Set<TaskId> allTasks() {
        Set<TaskId> all = new HashSet<>();
        for (int p = 0; p < 4; p++) {
            all.add(new TaskId(0, p));
            all.add(new TaskId(1, p));
        }
        return all;
    }

    @Test
    void shouldOfferCooperativeByDefaultAndEagerOnlyForAnUpgradeFromBefore24() {
        assertEquals(List.of(PartitionAssignor.RebalanceProtocol.COOPERATIVE, PartitionAssignor.RebalanceProtocol.EAGER),
            assignor(0, StreamThread.assignorOptions(Map.of())).supportedProtocols());
        assertEquals(List.of(PartitionAssignor.RebalanceProtocol.EAGER),
            assignor(0, StreamThread.assignorOptions(Map.of("upgrade.from", "2.3"))).supportedProtocols());
        assertEquals(List.of(PartitionAssignor.RebalanceProtocol.EAGER),
            assignor(0, StreamThread.assignorOptions(Map.of("upgrade.from", "0.10.2"))).supportedProtocols());
        assertTrue(assignor(0, StreamThread.assignorOptions(Map.of("upgrade.from", "3.9"))).supportedProtocols()
            .contains(PartitionAssignor.RebalanceProtocol.COOPERATIVE));
        StreamsPartitionAssignor.Options o = StreamThread.assignorOptions(Map.of("rack.aware.assignment.tags", "zone, rack",
            "client.tag.zone", "z1", "client.tag.rack", "r7", "client.id", "x"));
        assertEquals(List.of("zone", "rack"), o.rackAwareTags());
        assertEquals(Map.of("zone", "z1", "rack", "r7"), o.clientTags());
        assertThrows(ConfigException.class, () -> StreamThread.assignorOptions(Map.of("upgrade.from", "two")));
    }

    /**
     * An instance joins an instance that runs every task: the first round moves nothing (the joiner gets the moving
     * stateful tasks as standbys only) and the owner keeps exactly what it will keep; after the owner revoked the rest,
     * the follow-up round hands those to the joiner and leaves the kept tasks where they are.
     */
    @Test
    void shouldHandOverATaskOnlyAfterItsOwnerRevokedIt() {
        Set<TaskId> all = allTasks();
        StreamsPartitionAssignor a = assignor(0, StreamsPartitionAssignor.Options.DEFAULT);
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        subs.put("m1", member("p1", all, Set.of(), Map.of(), 5));
        subs.put("m2", member("p2", Set.of(), Set.of(), Map.of(), -1));
        Map<String, List<TopicPartition>> parts = new HashMap<>();
        Map<String, StreamsPartitionAssignor.AssignmentInfo> first = run(a, subs, parts);
        assertEquals(Set.of(), first.get("m2").activeTasks(), "nothing another member owns moves in the first round");
        assertEquals(List.of(), parts.get("m2"));
        Set<TaskId> kept = first.get("m1").activeTasks();
        assertEquals(4, kept.size(), first.toString());
        Set<TaskId> moving = new HashSet<>(all);
        moving.removeAll(kept);
        Set<TaskId> movingStateful = new HashSet<>(moving);
        movingStateful.removeIf(t -> t.subtopology() != 1);
        assertEquals(movingStateful, first.get("m2").standbyTasks(), "the moving stateful tasks warm up meanwhile");
        assertTrue(first.get("m1").activeHosts().get("h-p2:1").isEmpty(),
            "no host claims a task it does not run yet: " + first.get("m1").activeHosts());

        // the owner revoked the moving tasks (its new owned partitions) and rejoined: the follow-up round
        subs.put("m1", member("p1", kept, Set.of(), Map.of(), 6));
        subs.put("m2", member("p2", Set.of(), first.get("m2").standbyTasks(), Map.of(), 6));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> second = run(a, subs, new HashMap<>());
        assertEquals(kept, second.get("m1").activeTasks(), "the kept tasks never move");
        assertEquals(moving, second.get("m2").activeTasks(), "the revoked tasks reach the joiner");

        // and a round with nothing changed moves nothing
        subs.put("m2", member("p2", second.get("m2").activeTasks(), Set.of(), Map.of(), 7));
        subs.put("m1", member("p1", kept, Set.of(), Map.of(), 7));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> third = run(a, subs, new HashMap<>());
        assertEquals(kept, third.get("m1").activeTasks());
        assertEquals(moving, third.get("m2").activeTasks());
    }

    /** A second thread of the same instance: the task moves between threads in two rounds, with no standby copy. */
    @Test
    void shouldMoveATaskBetweenThreadsOfOneInstanceWithoutAStandbyCopy() {
        Set<TaskId> all = allTasks();
        StreamsPartitionAssignor a = assignor(1, StreamsPartitionAssignor.Options.DEFAULT);
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        subs.put("t1", member("p1", all, Set.of(), Map.of(), 3));
        subs.put("t2", member("p1", Set.of(), Set.of(), Map.of(), -1));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> first = run(a, subs, new HashMap<>());
        assertEquals(Set.of(), first.get("t2").activeTasks());
        assertEquals(Set.of(), first.get("t2").standbyTasks(), "its store is the other thread's directory");
        assertEquals(Set.of(), first.get("t1").standbyTasks());
    }

    /** Two members claim one task at the same generation: neither claim holds it back. */
    @Test
    void shouldNotHoldBackATaskWhoseOwnershipIsDisputed() {
        StreamsPartitionAssignor a = assignor(0, StreamsPartitionAssignor.Options.DEFAULT);
        Set<TaskId> all = allTasks();
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        subs.put("m1", member("p1", all, Set.of(), Map.of(), 4));
        subs.put("m2", member("p2", all, Set.of(), Map.of(), 4));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> result = run(a, subs, new HashMap<>());
        Set<TaskId> union = new HashSet<>(result.get("m1").activeTasks());
        union.addAll(result.get("m2").activeTasks());
        assertEquals(all, union);
        // the stale claim (older generation) loses to the newer: m1's tasks that move to m2 wait a round
        subs.put("m2", member("p2", all, Set.of(), Map.of(), 3));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> next = run(a, subs, new HashMap<>());
        assertEquals(Set.of(), next.get("m2").activeTasks(), next.toString());
    }

    /**
     * Two zones: p1 and p2 in z1, p3 in z2, and p2 has local state for every stateful task (without rack awareness
     * the standbys of p1's tasks would go there). With {@code rack.aware.assignment.tags=zone} every standby is in
     * the other zone from its active.
     */
    @Test
    void shouldPlaceStandbysInAnotherZoneThanTheirActive() {
        StreamsPartitionAssignor.Options rackAware = new StreamsPartitionAssignor.Options(true, List.of("zone"), Map.of());
        Map<String, String> zone = Map.of("p1", "z1", "p2", "z1", "p3", "z2");
        Map<TaskId, Long> p2State = new HashMap<>();
        for (int p = 0; p < 4; p++) {
            p2State.put(new TaskId(1, p), 100L);
        }
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        for (String p : List.of("p1", "p2", "p3")) {
            subs.put("m" + p, new ConsumerProtocol.Subscription(List.of("a", "b", "rep"),
                StreamsPartitionAssignor.encodeSubscription(new StreamsPartitionAssignor.MemberInfo(p, "h-" + p + ":1",
                    Set.of(), Set.of(), p.equals("p2") ? p2State : Map.of(), 0, 0, Map.of("zone", zone.get(p)))),
                List.of(), -1, null));
        }
        for (boolean aware : List.of(false, true)) {
            Map<String, StreamsPartitionAssignor.AssignmentInfo> result = run(
                assignor(1, aware ? rackAware : StreamsPartitionAssignor.Options.DEFAULT), subs, new HashMap<>());
            Map<TaskId, String> activeZone = new HashMap<>();
            Map<TaskId, String> standbyZone = new HashMap<>();
            result.forEach((m, info) -> {
                info.activeTasks().forEach(t -> activeZone.put(t, zone.get(m.substring(1))));
                info.standbyTasks().forEach(t -> standbyZone.put(t, zone.get(m.substring(1))));
            });
            long sameZone = 0;
            for (int p = 0; p < 4; p++) {
                TaskId t = new TaskId(1, p);
                assertTrue(standbyZone.containsKey(t), t + " has a standby: " + result);
                if (standbyZone.get(t).equals(activeZone.get(t))) {
                    sameZone++;
                }
            }
            if (aware) {
                assertEquals(0, sameZone, "every standby is in another zone than its active: " + result);
            } else {
                assertNotEquals(0, sameZone, "the scenario puts some standby in its active's zone without the tags");
            }
        }
    }

    /**
     * Two tag dimensions: the standby goes to the client differing from the active in both (another zone and another
     * cluster) over one differing only in one; with only same-zone clients left, a standby is still placed.
     */
    @Test
    void shouldPreferTheClientDifferingInMostTagsAndStillPlaceAStandbyWhereNoneDiffers() {
        StreamsPartitionAssignor.Options rackAware = new StreamsPartitionAssignor.Options(true, List.of("zone", "cluster"),
            Map.of());
        Map<String, Map<String, String>> tags = Map.of(
            "p1", Map.of("zone", "z1", "cluster", "k1"),
            "p2", Map.of("zone", "z1", "cluster", "k2"),
            "p3", Map.of("zone", "z2", "cluster", "k1"),
            "p4", Map.of("zone", "z2", "cluster", "k2"));
        Set<TaskId> p1Tasks = Set.of(new TaskId(1, 0), new TaskId(0, 0));
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        for (String p : List.of("p1", "p2", "p3", "p4")) {
            Set<TaskId> active = p.equals("p1") ? p1Tasks : Set.of();
            subs.put("m" + p, member(p, active, Set.of(), tags.get(p), 2));
        }
        Map<String, StreamsPartitionAssignor.AssignmentInfo> result = run(assignor(1, rackAware), subs, new HashMap<>());
        assertTrue(result.get("mp1").activeTasks().contains(new TaskId(1, 0)), result.toString());
        assertTrue(result.get("mp4").standbyTasks().contains(new TaskId(1, 0)),
            "1_0's standby is on p4 (other zone, other cluster): " + result);

        // all in one zone, no cluster tag: a standby is still placed
        Map<String, ConsumerProtocol.Subscription> oneZone = new TreeMap<>();
        oneZone.put("mp1", member("p1", p1Tasks, Set.of(), Map.of("zone", "z1"), 2));
        oneZone.put("mp2", member("p2", Set.of(), Set.of(), Map.of("zone", "z1"), 2));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> same = run(assignor(1, rackAware), oneZone, new HashMap<>());
        int standbys = same.values().stream().mapToInt(i -> i.standbyTasks().size()).sum();
        assertEquals(4, standbys, "one standby per stateful task, zones or not: " + same);
    }
}
