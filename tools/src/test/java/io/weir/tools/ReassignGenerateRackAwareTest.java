package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.broker.testing.ThreeBrokerCluster;
import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import io.weir.tools.ReassignPartitionsCommand.CommandFailedException;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * weir-reassign-partitions.sh --generate's proposal: with {@code broker.rack} on every broker a partition's
 * replicas sit on as many racks as there are and leaders spread evenly; without racks (or with
 * --disable-rack-aware, which hands the proposal no racks) it is the plain round robin; a broker list where
 * only some brokers have a rack is refused with Kafka's message. One test runs the tool against three brokers
 * with {@code broker.rack} set, so the racks come from the cluster as Kafka's tool reads them.
 */
class ReassignGenerateRackAwareTest {

    private static Map<TopicPartition, List<Integer>> topic(String name, int partitions, int rf) {
        Map<TopicPartition, List<Integer>> current = new LinkedHashMap<>();
        for (int p = 0; p < partitions; p++) {
            List<Integer> replicas = new ArrayList<>();
            for (int j = 0; j < rf; j++) {
                replicas.add(100 + j); // where they are now does not matter
            }
            current.put(new TopicPartition(name, p), replicas);
        }
        return current;
    }

    private static Map<Integer, String> racks(Object... idThenRack) {
        Map<Integer, String> racks = new TreeMap<>();
        for (int i = 0; i < idThenRack.length; i += 2) {
            racks.put((Integer) idThenRack[i], (String) idThenRack[i + 1]);
        }
        return racks;
    }

    @Test
    void shouldPlaceEveryPartitionsReplicasOnDistinctRacksWithLeadersSpreadEvenly() throws Exception {
        // uneven racks: a round robin over the sorted ids would put 0,1,2 (all rack a) together
        Map<Integer, String> racks = racks(0, "a", 1, "a", 2, "a", 3, "a", 4, "b", 5, "b", 6, "c", 7, "c");
        for (int rf = 1; rf <= 4; rf++) {
            Map<TopicPartition, List<Integer>> proposed =
                ReassignPartitionsCommand.proposeAssignment(topic("t", 32, rf), racks);
            assertEquals(32, proposed.size());
            Map<Integer, Integer> leaders = new HashMap<>();
            for (Map.Entry<TopicPartition, List<Integer>> e : proposed.entrySet()) {
                List<Integer> replicas = e.getValue();
                assertEquals(rf, replicas.size(), e.getKey() + " keeps its replica count");
                assertEquals(rf, new HashSet<>(replicas).size(), e.getKey() + ": no broker twice in " + replicas);
                assertTrue(racks.keySet().containsAll(replicas), e.getKey() + ": only listed brokers " + replicas);
                Set<String> onRacks = new HashSet<>();
                for (int b : replicas) {
                    onRacks.add(racks.get(b));
                }
                assertEquals(Math.min(rf, 3), onRacks.size(), e.getKey() + " rf " + rf + ": replicas " + replicas
                    + " should cover " + Math.min(rf, 3) + " racks");
                leaders.merge(replicas.get(0), 1, Integer::sum);
            }
            for (int b : racks.keySet()) {
                assertEquals(4, leaders.getOrDefault(b, 0), "rf " + rf + ": broker " + b + " leads 32/8 partitions");
            }
        }
    }

    @Test
    void shouldProposeTheSamePlanForTheSameInput() throws Exception {
        Map<Integer, String> racks = racks(0, "a", 1, "a", 2, "b", 3, "b", 4, "c");
        assertEquals(ReassignPartitionsCommand.proposeAssignment(topic("t", 10, 3), racks),
            ReassignPartitionsCommand.proposeAssignment(topic("t", 10, 3), racks));
    }

    @Test
    void shouldRoundRobinOverTheSortedBrokersWithoutRacks() throws Exception {
        Map<Integer, String> none = racks(2, null, 0, null, 1, null);
        Map<TopicPartition, List<Integer>> proposed = ReassignPartitionsCommand.proposeAssignment(topic("t", 3, 2), none);
        assertEquals(List.of(0, 1), proposed.get(new TopicPartition("t", 0)));
        assertEquals(List.of(1, 2), proposed.get(new TopicPartition("t", 1)));
        assertEquals(List.of(2, 0), proposed.get(new TopicPartition("t", 2)));
    }

    @Test
    void shouldRefuseABrokerListWhereOnlySomeBrokersHaveARack() {
        CommandFailedException e = assertThrows(CommandFailedException.class,
            () -> ReassignPartitionsCommand.proposeAssignment(topic("t", 2, 2), racks(0, "a", 1, null, 2, "b")));
        assertEquals("Not all brokers have rack information. Add --disable-rack-aware in command line to make replica"
            + " assignment without rack information.", e.getMessage());
    }

    @Test
    void shouldRefuseAReplicationFactorLargerThanTheBrokerList() {
        CommandFailedException e = assertThrows(CommandFailedException.class,
            () -> ReassignPartitionsCommand.proposeAssignment(topic("t", 1, 3), racks(0, "a", 1, "b")));
        assertEquals("Replication factor: 3 larger than available brokers: 2.", e.getMessage());
    }

    @Test
    void shouldGenerateARackAwarePlanFromTheBrokersRacksUnlessDisabled() throws Exception {
        Path dir = TempDirs.create("reassign-racks");
        try (ThreeBrokerCluster cluster = ThreeBrokerCluster.start("/weir-reassign-racks", Map.of(),
            List.of(Map.of("broker.rack", "a"), Map.of("broker.rack", "a"), Map.of("broker.rack", "b")))) {
            String bootstrap = cluster.brokers().get(0).bootstrapServers();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("r", 3, (short) 2))).all().get(60, TimeUnit.SECONDS);
            }
            Path topics = dir.resolve("topics.json");
            Files.writeString(topics, "{\"version\":1,\"topics\":[{\"topic\":\"r\"}]}");
            // racks a: 0, 1 and b: 2 alternate as 0, 2, 1; every partition gets one replica on each rack
            Result aware = ToolRun.capture((out, err) -> ReassignPartitionsCommand.run(new String[] {"--bootstrap-server",
                bootstrap, "--generate", "--topics-to-move-json-file", topics.toString(), "--broker-list", "0,1,2"},
                out, err, Admin::create));
            assertEquals(0, aware.status(), aware.toString());
            assertEquals("{\"version\":1,\"partitions\":["
                + "{\"topic\":\"r\",\"partition\":0,\"replicas\":[0,2],\"log_dirs\":[\"any\",\"any\"]},"
                + "{\"topic\":\"r\",\"partition\":1,\"replicas\":[2,1],\"log_dirs\":[\"any\",\"any\"]},"
                + "{\"topic\":\"r\",\"partition\":2,\"replicas\":[1,2],\"log_dirs\":[\"any\",\"any\"]}]}",
                aware.lines().get(4));
            // --disable-rack-aware: the plain round robin, which puts partition 0 on rack a twice
            Result plain = ToolRun.capture((out, err) -> ReassignPartitionsCommand.run(new String[] {"--bootstrap-server",
                bootstrap, "--generate", "--topics-to-move-json-file", topics.toString(), "--broker-list", "0,1,2",
                "--disable-rack-aware"}, out, err, Admin::create));
            assertEquals(0, plain.status(), plain.toString());
            assertEquals("{\"version\":1,\"partitions\":["
                + "{\"topic\":\"r\",\"partition\":0,\"replicas\":[0,1],\"log_dirs\":[\"any\",\"any\"]},"
                + "{\"topic\":\"r\",\"partition\":1,\"replicas\":[1,2],\"log_dirs\":[\"any\",\"any\"]},"
                + "{\"topic\":\"r\",\"partition\":2,\"replicas\":[2,0],\"log_dirs\":[\"any\",\"any\"]}]}",
                plain.lines().get(4));
        } finally {
            TempDirs.delete(dir);
        }
    }
}
