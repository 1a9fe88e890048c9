package io.weir.compat;

import io.weir.broker.Broker;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.ThreeBrokerCluster;
import io.weir.broker.zk.ZkMetadataStore;
import io.weir.common.TopicPartition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.weir.broker.testing.ThreeBrokerCluster.waitUntil;
import static io.weir.compat.KafkaTool.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Apache Kafka's {@code kafka-reassign-partitions.sh} (kafka-tools, in a JVM of its own) against three Weir
 * brokers on one real ZooKeeper: --generate proposes, --execute --throttle starts a move (and sets Kafka's
 * throttle configs), --list shows moves in progress, --verify reports them in progress or completed (then clears
 * the throttles), and --cancel reverts a move in progress.
 */
class KafkaReassignPartitionsClusterTest {
    private static final String REASSIGN = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";

    private ThreeBrokerCluster cluster;
    private List<EmbeddedBroker> brokers;
    private Path dir;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private String startCluster() throws Exception {
        dir = Files.createTempDirectory("kafka-reassign");
        cluster = ThreeBrokerCluster.start("/weir-compat-reassign", Map.of());
        brokers = cluster.brokers();
        return brokers.get(0).bootstrapServers();
    }

    @Test
    void kafkaReassignPartitionsShouldListAndCancelAMoveInProgress() throws Exception {
        String bootstrap = startCluster();
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic("kheld", Map.of(0, List.of(0))))).all().get();
        }
        TopicPartition tp = new TopicPartition("kheld", 0);
        ZkMetadataStore store = (ZkMetadataStore) brokers.get(1).broker().metadataStore();
        waitUntil(() -> store.image().states().containsKey(tp), "the partition has a state");
        // the leader's ISR changes fail: the new replica never joins and the move stays in progress
        brokers.get(0).broker().setAlterPartitionSender((p, leaderEpoch, partitionEpoch, isr) ->
            java.util.concurrent.CompletableFuture.failedFuture(
                new io.weir.protocol.ApiException(io.weir.protocol.Errors.NOT_CONTROLLER, "held by the test")));
        Path plan = dir.resolve("held.json");
        Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"kheld\",\"partition\":0,\"replicas\":[1]}]}");
        String exec = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--execute", "--reassignment-json-file",
            plan.toString()).stdout();
        assertTrue(exec.contains("Successfully started partition reassignment for kheld-0"), exec);
        String list = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--list").stdout();
        assertTrue(list.contains("Current partition reassignments:") && list.contains("kheld-0: replicas: 1,0. adding: 1."
            + " removing: 0."), list);
        String verify = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--verify", "--reassignment-json-file",
            plan.toString()).stdout();
        assertTrue(verify.contains("Reassignment of partition kheld-0 is still in progress."), verify);
        String cancel = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--cancel", "--reassignment-json-file",
            plan.toString()).stdout();
        assertTrue(cancel.contains("Successfully cancelled partition reassignment for: kheld-0"), cancel);
        waitUntil(() -> List.of(0).equals(store.replicas(tp)) && store.image().reassignments().isEmpty(), "the move is reverted");
        waitUntil(() -> brokers.get(1).broker().replicaManager().partition(tp) == null, "broker 1 dropped the added replica");
    }

    @Test
    void kafkaReassignPartitionsShouldMoveAPartitionAndVerifyIt() throws Exception {
        String bootstrap = startCluster();
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic("kre", Map.of(0, List.of(0, 1))))).all().get();
        }
        TopicPartition tp = new TopicPartition("kre", 0);
        ZkMetadataStore store = (ZkMetadataStore) brokers.get(2).broker().metadataStore();
        waitUntil(() -> store.image().states().containsKey(tp), "the partition has a state");

        Path topics = dir.resolve("topics.json");
        Files.writeString(topics, "{\"version\":1,\"topics\":[{\"topic\":\"kre\"}]}");
        String gen = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--generate", "--topics-to-move-json-file",
            topics.toString(), "--broker-list", "1,2").stdout();
        assertTrue(gen.contains("Current partition replica assignment") && gen.contains(
            "{\"version\":1,\"partitions\":[{\"topic\":\"kre\",\"partition\":0,\"replicas\":[0,1]"), gen);
        assertTrue(gen.contains("Proposed partition reassignment configuration"), gen);

        Path plan = dir.resolve("plan.json");
        Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"kre\",\"partition\":0,\"replicas\":[1,2]}]}");
        String exec = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--execute", "--reassignment-json-file",
            plan.toString(), "--throttle", "50000000").stdout();
        assertTrue(exec.contains("The inter-broker throttle limit was set to 50000000 B/s"), exec);
        assertTrue(exec.contains("Successfully started partition reassignment for kre-0"), exec);

        waitUntil(() -> List.of(1, 2).equals(store.replicas(tp)) && store.image().reassignments().isEmpty(),
            "the move completed");
        Broker zero = brokers.get(0).broker();
        waitUntil(() -> zero.replicaManager().partition(tp) == null, "broker 0 dropped its replica");

        String list = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--list").stdout();
        assertTrue(list.contains("No partition reassignments found."), list);
        String verify = ok(REASSIGN, null, "--bootstrap-server", bootstrap, "--verify", "--reassignment-json-file",
            plan.toString()).stdout();
        assertTrue(verify.contains("Reassignment of partition kre-0 is completed."), verify);
        assertTrue(verify.contains("Clearing broker-level throttles on brokers 0,1,2"), verify);
        assertTrue(verify.contains("Clearing topic-level throttles on topic kre"), verify);
        assertNull(store.image().topics().get("kre").configs().get("follower.replication.throttled.replicas"),
            "the topic throttle is cleared");
    }
}
