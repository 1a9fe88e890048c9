package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.Config;
import io.weir.admin.ConfigResource;
import io.weir.admin.NewTopic;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.ThreeBrokerCluster;
import io.weir.broker.zk.ZkMetadataStore;
import io.weir.common.TopicPartition;
import io.weir.common.testing.Wait;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import static io.weir.broker.testing.ThreeBrokerCluster.waitUntil;
import static io.weir.tools.ToolRun.assertUsageError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * weir-reassign-partitions.sh: Kafka's flags (a bad one prints usage and exits 1), and a --generate,
 * --execute --throttle, --verify round trip with Kafka's JSON files and output lines against three brokers
 * on one real ZooKeeper; --verify clears the throttles once the move is done.
 */
class ReassignPartitionsCommandTest {
    @RegisterExtension
    static final AdminToolCluster TOOLS =
        new AdminToolCluster(ReassignPartitionsCommand::run, "reassign", "/weir-reassign-tool", Map.of());

    private static Result reassign(String... args) {
        return TOOLS.run(args);
    }

    private static Result noServer(String... args) {
        return TOOLS.runWithoutServer(args);
    }

    @Test
    void shouldRejectBadFlagsWithUsage() {
        assertUsageError(noServer("--list"), "bootstrap-server");
        assertUsageError(noServer("--bootstrap-server", "h:1"), "exactly one action");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--list", "--verify"), "exactly one action");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--execute"), "reassignment-json-file");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--generate", "--broker-list", "0,1"),
            "topics-to-move-json-file");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--list", "--throttle", "100"), "only allowed with --execute");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--list", "--preserve-throttles"),
            "only allowed with --verify or --cancel");
        assertUsageError(noServer("--bootstrap-server", "h:1", "--list", "--nope"), "--nope");
    }

    @Test
    void shouldRefuseDuplicateReplicasInTheFileAsKafkasTool() throws Exception {
        Path file = TOOLS.dir().resolve("dup.json");
        Files.writeString(file, "{\"version\":1,\"partitions\":[{\"topic\":\"x\",\"partition\":0,\"replicas\":[1,1]}]}");
        String bootstrap = TOOLS.brokers().get(0).bootstrapServers();
        Result r = reassign("--bootstrap-server", bootstrap, "--execute", "--reassignment-json-file", file.toString());
        assertEquals(1, r.status());
        assertEquals("Partition replica lists may not contain duplicate entries: x-0 contains multiple entries for 1",
            r.out().trim());
    }

    @Test
    void shouldListAndCancelAMoveInProgress() throws Exception {
        String bootstrap = TOOLS.brokers().get(0).bootstrapServers();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic("held", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
        TopicPartition tp = new TopicPartition("held", 0);
        ZkMetadataStore store = (ZkMetadataStore) TOOLS.brokers().get(0).broker().metadataStore();
        waitUntil(() -> store.image().states().containsKey(tp), "the partition has a state");
        int leader = store.replicas(tp).get(0);
        int added = (leader + 1) % 3;
        // the leader's ISR changes fail until the test ends: the new replica never joins, the move stays open
        EmbeddedBroker leaderBroker = TOOLS.brokers().get(leader);
        leaderBroker.broker().setAlterPartitionSender((p, leaderEpoch, partitionEpoch, isr) ->
            java.util.concurrent.CompletableFuture.failedFuture(
                new io.weir.protocol.ApiException(io.weir.protocol.Errors.NOT_CONTROLLER, "held by the test")));
        try {
            Path plan = TOOLS.dir().resolve("held.json");
            Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"held\",\"partition\":0,\"replicas\":["
                + leader + "," + added + "]}]}");
            Result exec = reassign("--bootstrap-server", bootstrap, "--execute", "--reassignment-json-file", plan.toString());
            assertEquals(0, exec.status(), exec.toString());
            Result list = reassign("--bootstrap-server", bootstrap, "--list");
            assertEquals(List.of("Current partition reassignments:", "held-0: replicas: " + leader + "," + added
                + ". adding: " + added + "."), list.lines());
            Result again = reassign("--bootstrap-server", bootstrap, "--execute", "--reassignment-json-file", plan.toString());
            assertEquals(1, again.status());
            assertTrue(again.out().startsWith("Cannot execute because there is an existing partition assignment."), again.out());
            Result verify = reassign("--bootstrap-server", bootstrap, "--verify", "--reassignment-json-file", plan.toString());
            assertEquals(List.of("Status of partition reassignment:", "Reassignment of partition held-0 is still in progress."),
                verify.lines(), "no throttle is cleared while a move runs");

            Result cancel = reassign("--bootstrap-server", bootstrap, "--cancel", "--reassignment-json-file", plan.toString(),
                "--preserve-throttles");
            assertEquals(0, cancel.status(), cancel.toString());
            assertEquals(List.of("Successfully cancelled partition reassignment for: held-0",
                "None of the specified partition moves are active."), cancel.lines());
            waitUntil(() -> List.of(leader).equals(store.replicas(tp)) && store.image().reassignments().isEmpty(),
                "the move is reverted");
            assertEquals("No partition reassignments found.", reassign("--bootstrap-server", bootstrap, "--list").out().trim());
        } finally {
            leaderBroker.broker().setAlterPartitionSender(null);
        }
    }

    @Test
    void shouldGenerateExecuteAndVerifyAMoveWithAThrottle() throws Exception {
        String bootstrap = TOOLS.brokers().get(0).bootstrapServers();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic("mv", 2, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
        ZkMetadataStore store = (ZkMetadataStore) TOOLS.brokers().get(0).broker().metadataStore();
        waitUntil(() -> store.image().states().containsKey(new TopicPartition("mv", 1)), "the partitions have states");

        Path topics = TOOLS.dir().resolve("topics.json");
        Files.writeString(topics, "{\"version\":1,\"topics\":[{\"topic\":\"mv\"}]}");
        Result gen = reassign("--bootstrap-server", bootstrap, "--generate", "--topics-to-move-json-file", topics.toString(),
            "--broker-list", "1,2");
        assertEquals(0, gen.status(), gen.toString());
        List<String> lines = gen.lines();
        assertEquals("Current partition replica assignment", lines.get(0));
        assertEquals("Proposed partition reassignment configuration", lines.get(3));
        String proposed = lines.get(4);
        assertEquals("{\"version\":1,\"partitions\":[{\"topic\":\"mv\",\"partition\":0,\"replicas\":[1],\"log_dirs\":[\"any\"]},"
            + "{\"topic\":\"mv\",\"partition\":1,\"replicas\":[2],\"log_dirs\":[\"any\"]}]}", proposed);

        // the topic's first placement is random: move each partition one broker on, so both really move
        int to0 = (store.replicas(new TopicPartition("mv", 0)).get(0) + 1) % 3;
        int to1 = (store.replicas(new TopicPartition("mv", 1)).get(0) + 1) % 3;
        Path plan = TOOLS.dir().resolve("plan.json");
        Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"mv\",\"partition\":0,\"replicas\":[" + to0
            + "]},{\"topic\":\"mv\",\"partition\":1,\"replicas\":[" + to1 + "]}]}");
        Result exec = reassign("--bootstrap-server", bootstrap, "--execute", "--reassignment-json-file", plan.toString(),
            "--throttle", "50000000");
        assertEquals(0, exec.status(), exec.toString());
        assertTrue(exec.out().startsWith("Current partition replica assignment"), exec.out());
        assertTrue(exec.out().contains("Save this to use as the --reassignment-json-file option during rollback"), exec.out());
        assertTrue(exec.out().contains("The inter-broker throttle limit was set to 50000000 B/s"), exec.out());
        assertTrue(exec.out().contains("Successfully started partition reassignments for mv-0,mv-1"), exec.out());

        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            awaitConfig(admin, new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(to1)),
                "follower.replication.throttled.rate", "50000000", "the throttle is set");
            awaitConfig(admin, new ConfigResource(ConfigResource.Type.TOPIC, "mv"), "follower.replication.throttled.replicas",
                "0:" + to0 + ",1:" + to1, "the new replicas are follower-throttled");
        }
        waitUntil(() -> List.of(to0).equals(store.replicas(new TopicPartition("mv", 0)))
            && List.of(to1).equals(store.replicas(new TopicPartition("mv", 1))) && store.image().reassignments().isEmpty(),
            "the moves completed");
        Result verify = reassign("--bootstrap-server", bootstrap, "--verify", "--reassignment-json-file", plan.toString());
        assertEquals(0, verify.status(), verify.toString());
        assertEquals(List.of("Status of partition reassignment:", "Reassignment of partition mv-0 is completed.",
            "Reassignment of partition mv-1 is completed.", "Clearing broker-level throttles on brokers 0,1,2",
            "Clearing topic-level throttles on topic mv"), verify.lines());
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            awaitConfig(admin, new ConfigResource(ConfigResource.Type.TOPIC, "mv"), "leader.replication.throttled.replicas",
                "", "the topic throttle is cleared");
            for (int id : List.of(1, 2)) {
                awaitConfig(admin, new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(id)),
                    "leader.replication.throttled.rate", null, "broker " + id + "'s throttle is cleared");
            }
        }
        Result list = reassign("--bootstrap-server", bootstrap, "--list");
        assertEquals("No partition reassignments found.", list.out().trim());
    }

    /**
     * Waits until {@code key} of {@code resource} reads {@code expected} ({@code null}: not set). A config change is
     * written to ZooKeeper and reaches each broker's view through a watch, so the broker a describe goes to may
     * still show the old value for a moment after the tool returned.
     */
    private static void awaitConfig(Admin admin, ConfigResource resource, String key, String expected, String what)
        throws InterruptedException {
        String[] seen = {"(not read)"};
        Wait.until(() -> {
            try {
                Config c = admin.describeConfigs(List.of(resource)).all().get(60, TimeUnit.SECONDS).get(resource);
                seen[0] = c.get(key) == null ? null : c.get(key).value();
                return Objects.equals(expected, seen[0]);
            } catch (Exception e) {
                seen[0] = e.toString();
                return false;
            }
        }, Duration.ofSeconds(60), () -> what + ": " + key + " of " + resource + " is " + expected + " (last read: " + seen[0]
            + ")");
    }
}
