package io.weir.broker.zk;

import org.junit.jupiter.api.RepeatedTest;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The controller's replica assignment: leaders even over the brokers, replicas on distinct brokers and racks. */
class ReplicaAssignmentTest {

    @RepeatedTest(5) // the start broker is random
    void shouldSpreadLeadersEvenlyAndPutEachReplicaOnAnotherRack() {
        Map<Integer, String> racks = Map.of(1, "a", 2, "a", 3, "b", 4, "b", 5, "c", 6, "c");
        Map<Integer, List<Integer>> a = ZkController.assign(0, 12, 3, racks);
        assertEquals(12, a.size());
        Map<Integer, Integer> leaders = new HashMap<>();
        for (List<Integer> replicas : a.values()) {
            assertEquals(3, replicas.size());
            assertEquals(3, new HashSet<>(replicas).size(), "distinct brokers: " + replicas);
            Set<String> used = new HashSet<>();
            for (int b : replicas) {
                used.add(racks.get(b));
            }
            assertEquals(3, used.size(), "one replica per rack: " + replicas);
            leaders.merge(replicas.get(0), 1, Integer::sum);
        }
        assertEquals(6, leaders.size(), "every broker leads some partitions: " + leaders);
        assertTrue(leaders.values().stream().allMatch(n -> n == 2), "two leaders each: " + leaders);
    }

    @RepeatedTest(3)
    void shouldAssignWithoutRacksAndContinueForAddedPartitions() {
        Map<Integer, String> racks = new HashMap<>();
        racks.put(0, null);
        racks.put(1, null);
        Map<Integer, List<Integer>> a = ZkController.assign(4, 8, 1, racks);
        assertEquals(Set.of(4, 5, 6, 7), a.keySet());
        Map<Integer, Integer> leaders = new HashMap<>();
        a.values().forEach(r -> leaders.merge(r.get(0), 1, Integer::sum));
        assertEquals(Map.of(0, 2, 1, 2), leaders);
    }
}
