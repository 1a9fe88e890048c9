package io.weir.compat;

import io.weir.broker.BrokerConfig;
import io.weir.broker.server.LogDirMoverTesting;
import io.weir.broker.testing.EmbeddedBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartitionReplica;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.weir.compat.KafkaTool.LOG_DIRS;
import static io.weir.compat.KafkaTool.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Apache Kafka's {@code kafka-log-dirs.sh} and {@code kafka-reassign-partitions.sh} (kafka-tools, in a JVM
 * of their own) against a Weir broker with two {@code log.dirs}: describe lists both directories with their
 * partitions, and a reassignment JSON naming a log directory moves the replica there: {@code --verify} says
 * "still in progress" while the copy runs in the background (held by pausing the mover) and "completed" after.
 */
class KafkaLogDirsJbodCompatibilityTest {
    private static final String REASSIGN = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";

    private final Path root = tempDir();
    private final Path dirA = root.resolve("a").toAbsolutePath().normalize();
    private final Path dirB = root.resolve("b").toAbsolutePath().normalize();
    private EmbeddedBroker broker;

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("kafka-jbod");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }

    @Test
    void kafkaToolsShouldDescribeBothDirectoriesAndMoveAReplicaBetweenThem() throws Exception {
        broker = new EmbeddedBroker(Map.of(BrokerConfig.LOG_DIRS, dirA + "," + dirB)).start();
        String bootstrap = broker.bootstrapServers();
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic("jbod", 2, (short) 1))).all().get();
        }
        String json = ok(LOG_DIRS, null, "--bootstrap-server", bootstrap, "--describe", "--topic-list", "jbod")
            .stdoutLines().get(2);
        for (String part : List.of("\"logDir\":\"" + dirA + "\"", "\"logDir\":\"" + dirB + "\"",
                "\"partition\":\"jbod-0\"", "\"partition\":\"jbod-1\"")) {
            assertTrue(json.contains(part), part + " not in " + json);
        }
        assertTrue(Files.isDirectory(dirA.resolve("jbod-0")));

        Path plan = root.resolve("plan.json");
        Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"jbod\",\"partition\":0,\"replicas\":[0],"
            + "\"log_dirs\":[\"" + dirB + "\"]}]}");
        // the move runs in the background: paused, it stays in progress until let go
        LogDirMoverTesting.setPaused(broker.broker(), true);
        String exec = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--execute", "--reassignment-json-file",
            plan.toString()).stdout();
        assertTrue(exec.contains("\"log_dirs\":[\"" + dirA + "\"]"), "the current assignment names the directory: " + exec);
        assertTrue(exec.contains("Successfully started moving log directory to " + dirB + " for replica jbod-0 with broker 0"),
            exec);
        String verify = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--verify", "--reassignment-json-file",
            plan.toString()).stdout();
        assertTrue(verify.contains("Reassignment of replica jbod-0-0 is still in progress."), verify);
        assertTrue(Files.isDirectory(dirA.resolve("jbod-0")));
        LogDirMoverTesting.setPaused(broker.broker(), false);
        for (int attempt = 0; attempt < 100 && !verify.contains("completed successfully"); attempt++) {
            verify = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--verify", "--reassignment-json-file",
                plan.toString()).stdout();
        }
        assertTrue(verify.contains("Reassignment of replica jbod-0-0 completed successfully."), verify);
        assertTrue(Files.isDirectory(dirB.resolve("jbod-0")));
        assertFalse(Files.exists(dirA.resolve("jbod-0")));
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
            TopicPartitionReplica r = new TopicPartitionReplica("jbod", 0, 0);
            assertEquals(dirB.toString(), admin.describeReplicaLogDirs(List.of(r)).all().get().get(r)
                .getCurrentReplicaLogDir());
        }
    }
}
