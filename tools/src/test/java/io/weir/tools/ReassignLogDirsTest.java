package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.broker.server.LogDirMoverTesting;
import io.weir.broker.testing.ThreeBrokerCluster;
import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static io.weir.broker.testing.ThreeBrokerCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code weir-reassign-partitions.sh} with a plan's {@code log_dirs}: brokers with two log directories each; the
 * plan keeps a partition on its broker and names the other directory; {@code --execute} starts the move there
 * (AlterReplicaLogDirs) and {@code --verify} follows it (held under way by pausing the broker's mover) to its end.
 */
class ReassignLogDirsTest {
    private final Path root = TempDirs.create("reassign-log-dirs");
    private ThreeBrokerCluster cluster;

    @AfterEach
    void cleanUp() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        TempDirs.delete(root);
    }

    private String run(int expectedExit, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = ReassignPartitionsCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8), Admin::create);
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(expectedExit, exit, text + err.toString(StandardCharsets.UTF_8));
        return text;
    }

    @Test
    void shouldMoveAReplicaToTheLogDirectoryOfThePlanAndVerifyItsProgress() throws Exception {
        List<Map<String, String>> perBroker = new ArrayList<>();
        for (int id = 0; id < 3; id++) {
            perBroker.add(Map.of("log.dirs", root.resolve("b" + id + "-x") + "," + root.resolve("b" + id + "-y")));
        }
        cluster = ThreeBrokerCluster.start("/weir-reassign-log-dirs", Map.of(), perBroker);
        String bootstrap = cluster.brokers().get(0).bootstrapServers();
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        TopicPartition tp = new TopicPartition("jb", 0);
        int broker;
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(List.of(new NewTopic("jb", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            waitUntil(() -> cluster.brokers().stream().anyMatch(b -> b.broker().replicaManager().partition(tp) != null),
                "the partition hosted");
        }
        broker = 0;
        while (cluster.brokers().get(broker).broker().replicaManager().partition(tp) == null) {
            broker++;
        }
        var replicaManager = cluster.brokers().get(broker).broker().replicaManager();
        Path from = replicaManager.logManager().logDirOf(tp);
        Path to = replicaManager.logManager().logDirs().stream().filter(d -> !d.equals(from)).findFirst().orElseThrow();
        String target = to.toAbsolutePath().normalize().toString();
        Path plan = root.resolve("plan.json");
        Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"jb\",\"partition\":0,\"replicas\":[" + broker
            + "],\"log_dirs\":[\"" + target + "\"]}]}");
        LogDirMoverTesting.setPaused(cluster.brokers().get(broker).broker(), true);

        String executed = run(0, "--bootstrap-server", bootstrap, "--reassignment-json-file", plan.toString(), "--execute");
        String replica = broker + "-jb-0";
        assertTrue(executed.contains("Successfully started log directory move for: " + replica), executed);
        assertEquals(1, replicaManager.logDirMover().movesInProgress());
        String verifying = run(0, "--bootstrap-server", bootstrap, "--reassignment-json-file", plan.toString(), "--verify");
        assertTrue(verifying.contains("Reassignment of replica " + replica + " is still in progress."), verifying);

        LogDirMoverTesting.setPaused(cluster.brokers().get(broker).broker(), false);
        waitUntil(() -> to.equals(replicaManager.logManager().logDirOf(tp)), "the replica moved to " + to);
        String verified = run(0, "--bootstrap-server", bootstrap, "--reassignment-json-file", plan.toString(), "--verify");
        assertTrue(verified.contains("Reassignment of replica " + replica + " completed successfully."), verified);
        assertTrue(verified.contains("Reassignment of partition jb-0 is completed."), verified);

        // a directory no broker has: the broker's error, exit 1
        Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"jb\",\"partition\":0,\"replicas\":[" + broker
            + "],\"log_dirs\":[\"" + root.resolve("nowhere") + "\"]}]}");
        String refused = run(1, "--bootstrap-server", bootstrap, "--reassignment-json-file", plan.toString(), "--execute");
        assertTrue(refused.contains("Error moving replica(s) between log directories"), refused);
    }

    @Test
    void shouldStartTheLogDirectoryMoveOfANewReplicaOnceTheReassignmentCreatedIt() throws Exception {
        List<Map<String, String>> perBroker = new ArrayList<>();
        for (int id = 0; id < 3; id++) {
            perBroker.add(Map.of("log.dirs", root.resolve("b" + id + "-x") + "," + root.resolve("b" + id + "-y")));
        }
        cluster = ThreeBrokerCluster.start("/weir-reassign-new-log-dirs", Map.of(), perBroker);
        String bootstrap = cluster.brokers().get(0).bootstrapServers();
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        TopicPartition tp = new TopicPartition("jn", 0);
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(List.of(new NewTopic("jn", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            waitUntil(() -> cluster.brokers().stream().anyMatch(b -> b.broker().replicaManager().partition(tp) != null),
                "the partition hosted");
        }
        int hosting = 0;
        while (cluster.brokers().get(hosting).broker().replicaManager().partition(tp) == null) {
            hosting++;
        }
        int from = hosting;
        int to = (from + 1) % 3;
        var replicaManager = cluster.brokers().get(to).broker().replicaManager();
        // a new replica goes to the first directory (both are empty): the plan names the second
        Path target = root.resolve("b" + to + "-y");
        Path plan = root.resolve("plan.json");
        Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"jn\",\"partition\":0,\"replicas\":[" + to
            + "],\"log_dirs\":[\"" + target.toAbsolutePath().normalize() + "\"]}]}");

        String executed = run(0, "--bootstrap-server", bootstrap, "--reassignment-json-file", plan.toString(),
            "--execute", "--timeout", "60000");
        assertTrue(executed.contains("Successfully started log directory move for: " + to + "-jn-0"), executed);
        waitUntil(() -> target.equals(replicaManager.logManager().logDirOf(tp))
            && cluster.brokers().get(from).broker().replicaManager().partition(tp) == null, "jn-0 moved to " + target);
        String verified = run(0, "--bootstrap-server", bootstrap, "--reassignment-json-file", plan.toString(), "--verify");
        assertTrue(verified.contains("Reassignment of replica " + to + "-jn-0 completed successfully."), verified);
    }
}
