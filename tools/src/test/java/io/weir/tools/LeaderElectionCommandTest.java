package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.broker.Broker;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.ThreeBrokerCluster;
import io.weir.broker.zk.ZkMetadataStore;
import io.weir.common.TopicPartition;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.weir.broker.testing.ThreeBrokerCluster.waitUntil;
import static io.weir.tools.ToolRun.assertUsageError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * weir-leader-election.sh: Kafka's flags (a bad one prints usage and exits 1), its partition file, and
 * its output lines, end to end against three brokers on one real ZooKeeper where a returning broker
 * gets the leadership of its preferred partition back.
 */
class LeaderElectionCommandTest {
    @RegisterExtension
    static final AdminToolCluster TOOLS = new AdminToolCluster(LeaderElectionCommand::run, "leader-election",
        "/weir-tools", Map.of("auto.leader.rebalance.enable", "false"));

    private static Result elect(String... args) {
        return TOOLS.run(args);
    }

    private static Result noServer(String... args) {
        return TOOLS.runWithoutServer(args);
    }

    @Test
    void shouldRejectBadFlagsWithUsage() {
        assertUsageError(noServer("--election-type", "preferred", "--all-topic-partitions"), "bootstrap-server");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--all-topic-partitions"), "election-type");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--election-type", "dirty", "--all-topic-partitions"),
            "Unknown election type: dirty");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--election-type", "preferred"),
            "One and only one of the following options is required");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--election-type", "preferred", "--all-topic-partitions",
            "--topic", "t", "--partition", "0"), "One and only one of the following options is required");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--election-type", "preferred", "--topic", "t"),
            "[partition]");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--election-type", "preferred", "--all-topic-partitions",
            "--partition", "0"), "Option partition is only allowed if topic is used");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--election-type", "preferred", "--nope"), "--nope");
    }

    @Test
    void shouldReadKafkasPartitionFileAndRefuseDuplicates() {
        assertEquals(Set.of(new TopicPartition("foo", 1), new TopicPartition("bar", 2)), LeaderElectionCommand.parsePartitionsJson(
            "{\"partitions\": [{\"topic\": \"foo\", \"partition\": 1}, {\"topic\": \"bar\", \"partition\": 2}]}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LeaderElectionCommand.parsePartitionsJson(
            "{\"partitions\": [{\"topic\": \"foo\", \"partition\": 1}, {\"topic\": \"foo\", \"partition\": 1}]}"));
        assertTrue(e.getMessage().contains("duplicate partitions: foo-1"), e.getMessage());
    }

    @Test
    void shouldElectTheReturningPreferredReplicaAndReportNoOpsAndFailuresAsKafkasTool() throws Exception {
        Broker c = TOOLS.cluster().controller();
        String bootstrap = "127.0.0.1:" + c.boundPort();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic("le", 3, (short) 3))).all().join();
        }
        ZkMetadataStore store = (ZkMetadataStore) c.metadataStore();
        waitUntil(() -> store.image().states().size() >= 3, "the partitions have states");
        EmbeddedBroker victim = TOOLS.brokers().stream().filter(b -> b.broker() != c).findFirst().orElseThrow();
        int victimId = victim.broker().config().brokerId();
        TopicPartition tp = null;
        for (int p = 0; p < 3; p++) {
            if (store.replicas(new TopicPartition("le", p)).get(0) == victimId) {
                tp = new TopicPartition("le", p);
            }
        }
        TopicPartition target = tp;
        victim.broker().shutdown();
        waitUntil(() -> store.partitionState(target).orElseThrow().leader() != victimId, "failover");
        victim.start();
        // the leader's ISR expansion (AlterPartition) brings the returning broker back in sync
        waitUntil(() -> {
            PartitionState s = store.readPartitionState(target).orElseThrow();
            if (s.isr().contains(victimId)) {
                return true;
            }
            List<Integer> isr = new ArrayList<>(s.isr());
            isr.add(victimId);
            try {
                c.controller().updatePartitionState(target, s, s.leader(), s.leaderEpoch(), isr);
            } catch (RuntimeException e) {
                // read again
            }
            return false;
        }, "the victim is back in the ISR");

        Result r = elect("--bootstrap-server", bootstrap, "--election-type", "Preferred", "--topic", "le",
            "--partition", Integer.toString(target.partition()));
        assertEquals(0, r.status(), r.err());
        assertEquals("Successfully completed leader election (PREFERRED) for partitions " + target, r.out().trim());
        assertEquals(victimId, store.partitionState(target).orElseThrow().leader());

        Path file = TOOLS.dir().resolve("partitions.json");
        Files.writeString(file, "{\"partitions\": [{\"topic\": \"le\", \"partition\": " + target.partition()
            + "}, {\"topic\": \"le\", \"partition\": 9}]}");
        Result again = elect("--bootstrap-server", bootstrap, "--election-type", "PREFERRED", "--path-to-json-file",
            file.toString());
        assertEquals(1, again.status(), again.toString());
        List<String> lines = again.lines();
        assertEquals("Valid replica already elected for partitions " + target, lines.get(0));
        assertTrue(lines.get(1).startsWith("Error completing leader election (PREFERRED) for partition: le-9: "), lines.get(1));
        assertTrue(lines.get(1).contains("UnknownTopicOrPartition"), lines.get(1));
        assertEquals("1 replica(s) could not be elected", lines.get(2));

        Result all = elect("--bootstrap-server", bootstrap, "--election-type", "unclean", "--all-topic-partitions");
        assertEquals(0, all.status(), all.toString());
        assertEquals("", all.out().trim(), "no partition needed an unclean election");
    }
}
