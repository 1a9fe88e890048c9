package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import io.weir.consumer.ConsumerProtocol;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The streams assignor's decisions, from encoded subscriptions to decoded assignments. */
class StreamsPartitionAssignorTest {
    /** Sub-topology 0 reads "a" and "b" (co-partitioned), sub-topology 1 reads "rep" and has a logged store. */
    private static final Map<Integer, List<String>> TOPOLOGY = Map.of(0, List.of("a", "b"), 1, List.of("rep"));
    private static final Map<String, Integer> COUNTS = Map.of("a", 4, "b", 4, "rep", 4);

    private static StreamsPartitionAssignor assignor(int standbys) {
        return new StreamsPartitionAssignor("leader", "h0:1", TOPOLOGY, Set.of(1), standbys, Map::of);
    }

    private static ConsumerProtocol.Subscription member(String process, String host, Set<TaskId> active,
                                                        Set<TaskId> standby, Map<TaskId, Long> local) {
        return new ConsumerProtocol.Subscription(List.of("a", "b", "rep"), StreamsPartitionAssignor.encodeSubscription(
            new StreamsPartitionAssignor.MemberInfo(process, host, active, standby, local, 0)), List.of(), 1, null);
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

    @Test
    void shouldKeepCoPartitionedTopicsTogetherAndBalanceEachSubtopology() {
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        subs.put("m1", member("p1", "h1:1", Set.of(), Set.of(), Map.of()));
        subs.put("m2", member("p2", "h2:1", Set.of(), Set.of(), Map.of()));
        Map<String, List<TopicPartition>> parts = new HashMap<>();
        Map<String, StreamsPartitionAssignor.AssignmentInfo> result = run(assignor(0), subs, parts);
        for (String m : List.of("m1", "m2")) {
            Set<TaskId> tasks = result.get(m).activeTasks();
            assertEquals(2, tasks.stream().filter(t -> t.subtopology() == 0).count(), m + " " + tasks);
            assertEquals(2, tasks.stream().filter(t -> t.subtopology() == 1).count(), m + " " + tasks);
            for (TaskId t : tasks) {
                if (t.subtopology() == 0) {
                    assertTrue(parts.get(m).contains(new TopicPartition("a", t.partition())), parts.toString());
                    assertTrue(parts.get(m).contains(new TopicPartition("b", t.partition())), parts.toString());
                }
            }
            assertEquals(6, parts.get(m).size(), parts.toString());
        }
        assertEquals(Set.copyOf(parts.get("m1")), result.get("m2").activeHosts().get("h1:1"), "every member knows the hosts");
        assertEquals(4, result.get("m1").partitionCounts().get("rep"));
    }

    @Test
    void shouldKeepTasksWhereTheyWereWhenAnInstanceJoins() {
        Set<TaskId> all = Set.of(new TaskId(0, 0), new TaskId(0, 1), new TaskId(0, 2), new TaskId(0, 3),
            new TaskId(1, 0), new TaskId(1, 1), new TaskId(1, 2), new TaskId(1, 3));
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        // m2 had everything; m1 is new but has a local directory of 1_3
        subs.put("m1", member("p1", "h1:1", Set.of(), Set.of(), Map.of(new TaskId(1, 3), 500L)));
        subs.put("m2", member("p2", "h2:1", all, Set.of(), Map.of()));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> result = run(assignor(0), subs, new HashMap<>());
        Set<TaskId> moved = result.get("m1").activeTasks();
        assertEquals(4, moved.size(), moved.toString());
        assertTrue(moved.contains(new TaskId(1, 3)), "the task whose state m1 has on disk moves there: " + moved);
        Set<TaskId> union = new HashSet<>(moved);
        union.addAll(result.get("m2").activeTasks());
        assertEquals(all, union);
    }

    @Test
    void shouldPlaceStandbysOfStatefulTasksOnOtherInstancesAndPreferThemOnFailover() {
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        subs.put("m1", member("p1", "h1:1", Set.of(), Set.of(), Map.of()));
        subs.put("m2a", member("p2", "h2:1", Set.of(), Set.of(), Map.of()));
        subs.put("m2b", member("p2", "h2:1", Set.of(), Set.of(), Map.of()));
        subs.put("m3", member("p3", "h3:1", Set.of(), Set.of(), Map.of()));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> result = run(assignor(1), subs, new HashMap<>());
        Map<TaskId, String> activeClient = new HashMap<>();
        Map<TaskId, List<String>> standbyClients = new HashMap<>();
        Map<String, String> process = Map.of("m1", "p1", "m2a", "p2", "m2b", "p2", "m3", "p3");
        result.forEach((m, info) -> {
            info.activeTasks().forEach(t -> activeClient.put(t, process.get(m)));
            info.standbyTasks().forEach(t -> standbyClients.computeIfAbsent(t, k -> new ArrayList<>()).add(process.get(m)));
        });
        assertEquals(8, activeClient.size());
        for (int p = 0; p < 4; p++) {
            TaskId stateful = new TaskId(1, p);
            List<String> sb = standbyClients.get(stateful);
            assertEquals(1, sb.size(), stateful + " " + standbyClients);
            assertFalse(sb.contains(activeClient.get(stateful)), "a standby never shares its active's instance");
            assertFalse(standbyClients.containsKey(new TaskId(0, p)), "stateless tasks get no standby");
        }
        // the instance of 1_0 dies: its standby's instance takes 1_0 over
        TaskId t = new TaskId(1, 0);
        String dead = activeClient.get(t);
        String heir = standbyClients.get(t).get(0);
        Map<String, ConsumerProtocol.Subscription> after = new TreeMap<>();
        result.forEach((m, info) -> {
            if (!process.get(m).equals(dead)) {
                after.put(m, member(process.get(m), "h:" + m.length(), info.activeTasks(), info.standbyTasks(), Map.of()));
            }
        });
        Map<String, StreamsPartitionAssignor.AssignmentInfo> next = run(assignor(1), after, new HashMap<>());
        String newOwner = next.entrySet().stream().filter(e -> e.getValue().activeTasks().contains(t))
            .map(e -> process.get(e.getKey())).findFirst().orElseThrow();
        assertEquals(heir, newOwner, "the standby's instance takes over");
        String heirThread = result.entrySet().stream().filter(e -> e.getValue().standbyTasks().contains(t))
            .map(Map.Entry::getKey).findFirst().orElseThrow();
        assertTrue(next.get(heirThread).activeTasks().contains(t), "on the thread that kept the standby open");
    }

    @Test
    void shouldTellEveryMemberToShutDownWhenOneAsks() {
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        subs.put("m1", member("p1", "h1:1", Set.of(), Set.of(), Map.of()));
        subs.put("m2", new ConsumerProtocol.Subscription(List.of("a", "b", "rep"), StreamsPartitionAssignor.encodeSubscription(
            new StreamsPartitionAssignor.MemberInfo("p2", "h2:1", Set.of(), Set.of(), Map.of(),
                StreamsPartitionAssignor.ERROR_SHUTDOWN_APPLICATION)), List.of(), 1, null));
        Map<String, List<TopicPartition>> parts = new HashMap<>();
        Map<String, StreamsPartitionAssignor.AssignmentInfo> result = run(assignor(1), subs, parts);
        for (String m : List.of("m1", "m2")) {
            assertEquals(StreamsPartitionAssignor.ERROR_SHUTDOWN_APPLICATION, result.get(m).errorCode());
            assertEquals(List.of(), parts.get(m));
        }
    }

    @Test
    void shouldSpreadTheRemainderOverInstancesNotPileItOnOne() {
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        subs.put("m1", member("p1", "h1:1", Set.of(), Set.of(), Map.of()));
        subs.put("m2", member("p2", "h2:1", Set.of(), Set.of(), Map.of()));
        subs.put("m3", member("p3", "h3:1", Set.of(), Set.of(), Map.of()));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> result = run(assignor(0), subs, new HashMap<>());
        List<Long> perSub1 = new ArrayList<>();
        result.values().forEach(info -> perSub1.add(info.activeTasks().stream().filter(t -> t.subtopology() == 1).count()));
        perSub1.sort(null);
        assertEquals(List.of(1L, 1L, 2L), perSub1, "4 tasks over 3 instances");
        // sticky through a rebalance with the same members: nothing moves
        Map<String, ConsumerProtocol.Subscription> again = new TreeMap<>();
        result.forEach((m, info) -> again.put(m, member("p" + m.substring(1), "h:1", info.activeTasks(), Set.of(), Map.of())));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> next = run(assignor(0), again, new HashMap<>());
        result.forEach((m, info) -> assertEquals(info.activeTasks(), next.get(m).activeTasks(), m));
    }

    @Test
    void shouldGiveAJoiningInstanceItsShareEvenWhenTheOthersCouldKeepEverything() {
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        subs.put("m1", member("p1", "h1:1", Set.of(new TaskId(1, 0), new TaskId(1, 1)), Set.of(), Map.of()));
        subs.put("m2", member("p2", "h2:1", Set.of(new TaskId(1, 2), new TaskId(1, 3)), Set.of(), Map.of()));
        subs.put("m3", member("p3", "h3:1", Set.of(), Set.of(), Map.of()));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> result = run(assignor(0), subs, new HashMap<>());
        long joined = result.get("m3").activeTasks().stream().filter(t -> t.subtopology() == 1).count();
        assertEquals(1, joined, result.toString());
        assertTrue(Set.of(new TaskId(1, 0), new TaskId(1, 1)).containsAll(
            result.get("m1").activeTasks().stream().filter(t -> t.subtopology() == 1).toList()), "m1 keeps only its own");
    }

    @Test
    void shouldWarmUpStateBeforeMovingAStatefulTask() {
        Set<TaskId> sub1 = Set.of(new TaskId(1, 0), new TaskId(1, 1), new TaskId(1, 2), new TaskId(1, 3));
        Map<TaskId, Long> ownerOffsets = new HashMap<>();
        sub1.forEach(t -> ownerOffsets.put(t, 5_000L));
        StreamsPartitionAssignor a = new StreamsPartitionAssignor("leader", "h0:1", TOPOLOGY, Set.of(1), 0, 10, 2, Map::of);
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        subs.put("m1", member("p1", "h1:1", sub1, Set.of(), ownerOffsets));
        subs.put("m2", member("p2", "h2:1", Set.of(), Set.of(), Map.of()));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> first = new TreeMap<>();
        a.assignWithUserData(COUNTS, subs).forEach((m, as) -> first.put(m, StreamsPartitionAssignor.decodeAssignment(as.userData(), 1)));
        assertTrue(first.get("m2").activeTasks().stream().noneMatch(t -> t.subtopology() == 1),
            "no stateful task moves to an instance without its state: " + first);
        assertEquals(2, first.get("m2").standbyTasks().size(), "it gets warm-up replicas instead: " + first);
        assertTrue(first.get("m1").probingRebalanceNeeded());
        // the warm-ups caught up to within the acceptable lag: those tasks move now
        Map<TaskId, Long> warmed = new HashMap<>();
        first.get("m2").standbyTasks().forEach(t -> warmed.put(t, 4_995L));
        subs.put("m1", member("p1", "h1:1", first.get("m1").activeTasks(), Set.of(), ownerOffsets));
        subs.put("m2", member("p2", "h2:1", first.get("m2").activeTasks(), first.get("m2").standbyTasks(), warmed));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> second = new TreeMap<>();
        a.assignWithUserData(COUNTS, subs).forEach((m, as) -> second.put(m, StreamsPartitionAssignor.decodeAssignment(as.userData(), 2)));
        Set<TaskId> moved = new HashSet<>(second.get("m2").activeTasks());
        moved.removeIf(t -> t.subtopology() != 1);
        assertEquals(first.get("m2").standbyTasks(), moved, second.toString());
        assertFalse(second.get("m1").probingRebalanceNeeded(), second.toString());
    }

    /**
     * An instance returns with its own stores of 1_0 and 1_2 (close to the owner's offsets) while the instance that
     * took every task over while it was away holds them all: the owner gives up exactly those two, so nothing is
     * held back for a warm-up and no probing rebalance is needed.
     */
    @Test
    void shouldGiveAReturningInstanceBackTheTasksItHoldsStateFor() {
        Set<TaskId> all = new HashSet<>();
        Map<TaskId, Long> ownerOffsets = new HashMap<>();
        for (int p = 0; p < 4; p++) {
            all.add(new TaskId(0, p));
            all.add(new TaskId(1, p));
            ownerOffsets.put(new TaskId(1, p), 50_000L);
        }
        Map<String, ConsumerProtocol.Subscription> subs = new TreeMap<>();
        subs.put("m1", member("p1", "h1:1", all, Set.of(), ownerOffsets));
        subs.put("m2", member("p2", "h2:1", Set.of(), Set.of(),
            Map.of(new TaskId(1, 0), 49_990L, new TaskId(1, 2), 49_995L)));
        Map<String, StreamsPartitionAssignor.AssignmentInfo> result = run(assignor(0), subs, new HashMap<>());
        Set<TaskId> returned = new HashSet<>(result.get("m2").activeTasks());
        returned.removeIf(t -> t.subtopology() != 1);
        assertEquals(Set.of(new TaskId(1, 0), new TaskId(1, 2)), returned, result.toString());
        assertFalse(result.get("m1").probingRebalanceNeeded(), "nothing was held back: " + result);
    }

    /**
     * A static follower's rejoin with an unchanged subscription gets no rebalance from the coordinator, so a member
     * asking for a follow-up rebalance must send a subscription that differs from the one it joined with.
     */
    @Test
    void shouldChangeTheSubscriptionWhenAFollowUpRebalanceIsRequested() {
        StreamsPartitionAssignor a = assignor(0);
        byte[] joined = bytes(a.subscriptionUserData(1));
        assertTrue(java.util.Arrays.equals(joined, bytes(a.subscriptionUserData(1))), "nothing changed, nor does the subscription");
        a.requestFollowUpRebalance();
        byte[] probing = bytes(a.subscriptionUserData(1));
        assertFalse(java.util.Arrays.equals(joined, probing), "a follow-up request changes the subscription");
        assertEquals(1, StreamsPartitionAssignor.decodeSubscription(java.nio.ByteBuffer.wrap(probing), "m").followUpRequests());
        a.requestFollowUpRebalance();
        assertFalse(java.util.Arrays.equals(probing, bytes(a.subscriptionUserData(1))), "and so does every later one");
    }

    private static byte[] bytes(java.nio.ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
