package io.weir.broker.zk;

import io.weir.broker.Broker;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.message.AlterPartitionReassignmentsRequest;
import io.weir.protocol.message.AlterPartitionReassignmentsResponse;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.NoReassignmentInProgressException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.weir.broker.zk.ZkTestCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Partition reassignment (KIP-455) on in-JVM brokers on one ZooKeeper, driven by Apache Kafka's Admin
 * client: a move under acks=all load, a replication-factor increase, list and cancel of a reassignment
 * held in progress, and invalid targets refused with the state unchanged.
 */
class ReassignmentTest {
    private ZkTestCluster cluster;

    @BeforeEach
    void startZooKeeper() throws Exception {
        cluster = new ZkTestCluster("/weir-reassign");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    private static String bootstrap(List<EmbeddedBroker> brokers) {
        StringBuilder sb = new StringBuilder();
        for (EmbeddedBroker b : brokers) {
            sb.append(sb.length() == 0 ? "" : ",").append(b.bootstrapServers());
        }
        return sb.toString();
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of("bootstrap.servers", bootstrap));
    }

    /** A broker that is not the controller (the request is forwarded through ZooKeeper). */
    private static EmbeddedBroker notController(List<EmbeddedBroker> brokers) {
        return brokers.stream().filter(b -> !b.broker().controller().isActive()).findFirst().orElseThrow();
    }

    private static void createTopic(List<EmbeddedBroker> brokers, String name, List<Integer> replicas,
                                    Map<String, String> configs) throws Exception {
        try (Admin admin = admin(bootstrap(brokers))) {
            admin.createTopics(List.of(new NewTopic(name, Map.of(0, replicas)).configs(configs)))
                .all().get(60, TimeUnit.SECONDS);
        }
        TopicPartition tp = new TopicPartition(name, 0);
        for (int id : replicas) {
            Broker b = brokers.get(id).broker();
            waitUntil(() -> b.replicaManager().partition(tp) != null && b.replicaManager().partition(tp).hasAppliedState(),
                "replica " + id + " has the partition's state");
        }
    }

    private static ZkMetadataStore.Image image(EmbeddedBroker b) {
        return ((ZkMetadataStore) b.broker().metadataStore()).image();
    }

    private static List<Integer> replicas(EmbeddedBroker b, TopicPartition tp) {
        return image(b).assignments().get(tp.topic()).get(tp.partition());
    }

    /** Waits until every broker's image shows {@code tp} on {@code expected} with no reassignment in progress. */
    private static void awaitReplicas(List<EmbeddedBroker> brokers, TopicPartition tp, List<Integer> expected)
        throws InterruptedException {
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> expected.equals(replicas(b, tp)) && !image(b).reassignments().containsKey(tp),
                "broker " + b.broker().config().brokerId() + " sees " + tp + " on " + expected);
        }
    }

    private static Map<org.apache.kafka.common.TopicPartition, Optional<NewPartitionReassignment>> move(String topic,
                                                                                                       List<Integer> to) {
        Map<org.apache.kafka.common.TopicPartition, Optional<NewPartitionReassignment>> m = new HashMap<>();
        m.put(new org.apache.kafka.common.TopicPartition(topic, 0),
            to == null ? Optional.empty() : Optional.of(new NewPartitionReassignment(to)));
        return m;
    }

    @Test
    void shouldMoveAPartitionUnderAcksAllLoadWithoutLosingAnAcknowledgedRecord() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        String topic = "moving";
        TopicPartition tp = new TopicPartition(topic, 0);
        createTopic(brokers, topic, List.of(0, 1), Map.of("min.insync.replicas", "1"));
        int leaderBefore = image(brokers.get(2)).states().get(tp).leader();

        ConcurrentLinkedQueue<String> acked = new ConcurrentLinkedQueue<>();
        AtomicBoolean stopLoad = new AtomicBoolean();
        Map<String, Object> props = Map.of("bootstrap.servers", bootstrap(brokers), "acks", "all", "linger.ms", 2,
            "key.serializer", ByteArraySerializer.class.getName(), "value.serializer", ByteArraySerializer.class.getName());
        Thread load = new Thread(() -> {
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
                for (int i = 0; !stopLoad.get(); i++) {
                    String v = "value-" + i;
                    producer.send(new ProducerRecord<>(topic, 0, null, v.getBytes(StandardCharsets.UTF_8)), (md, e) -> {
                        if (e == null) {
                            acked.add(v);
                        }
                    });
                    if (i % 50 == 49) {
                        producer.flush();
                    }
                }
            }
        }, "reassign-load");
        load.start();
        try {
            waitUntil(() -> acked.size() >= 200, "records acknowledged before the move");
            try (Admin admin = admin(notController(brokers).bootstrapServers())) {
                admin.alterPartitionReassignments(move(topic, List.of(1, 2))).all().get(60, TimeUnit.SECONDS);
            }
            awaitReplicas(brokers, tp, List.of(1, 2));
            int before = acked.size();
            waitUntil(() -> acked.size() >= before + 200, "records acknowledged after the move");
        } finally {
            stopLoad.set(true);
            load.join(60_000);
        }
        assertFalse(load.isAlive(), "the producer stopped");

        PartitionState state = image(brokers.get(0)).states().get(tp);
        assertTrue(List.of(1, 2).contains(state.leader()), "leader " + state.leader() + " is a target replica");
        if (leaderBefore == 0) {
            assertTrue(state.leader() != 0, "the leader moved off broker 0");
        }
        // the replica goes first, its files after (stopReplica deletes the log once the partition is dropped)
        waitUntil(() -> brokers.get(0).broker().replicaManager().partition(tp) == null
            && !Files.exists(brokers.get(0).logDir().resolve(topic + "-0")), "broker 0 dropped its replica and its log");
        assertNotNull(brokers.get(2).broker().replicaManager().partition(tp), "broker 2 hosts the partition");

        try (Admin admin = admin(bootstrap(brokers))) {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(60, TimeUnit.SECONDS).get(topic);
            List<Integer> shown = d.partitions().get(0).replicas().stream().map(Node::id).toList();
            assertEquals(List.of(1, 2), shown, "Metadata lists the new replicas");
            assertTrue(admin.listPartitionReassignments().reassignments().get(60, TimeUnit.SECONDS).isEmpty());
        }

        Set<String> read = new HashSet<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap(brokers),
            "key.deserializer", ByteArrayDeserializer.class.getName(),
            "value.deserializer", ByteArrayDeserializer.class.getName()))) {
            org.apache.kafka.common.TopicPartition ktp = new org.apache.kafka.common.TopicPartition(topic, 0);
            consumer.assign(List.of(ktp));
            consumer.seekToBeginning(List.of(ktp));
            long end = consumer.endOffsets(List.of(ktp)).get(ktp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (consumer.position(ktp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    read.add(new String(r.value(), StandardCharsets.UTF_8));
                }
            }
        }
        List<String> missing = acked.stream().filter(v -> !read.contains(v)).toList();
        assertTrue(missing.isEmpty(), missing.size() + " acknowledged records are missing, e.g. "
            + missing.subList(0, Math.min(5, missing.size())));
    }

    @Test
    void shouldDeleteTheLogOfAReplicaMovedAwayWhileItsBrokerWasDown() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        TopicPartition tp = new TopicPartition("away", 0);
        createTopic(brokers, "away", List.of(0, 1), Map.of());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap(brokers),
            "acks", "all", "key.serializer", ByteArraySerializer.class.getName(),
            "value.serializer", ByteArraySerializer.class.getName()))) {
            producer.send(new ProducerRecord<>("away", 0, null, new byte[100])).get(60, TimeUnit.SECONDS);
        }
        assertTrue(Files.exists(brokers.get(0).logDir().resolve("away-0")));
        brokers.get(0).broker().shutdown();
        try (Admin admin = admin(brokers.get(1).bootstrapServers() + "," + brokers.get(2).bootstrapServers())) {
            admin.alterPartitionReassignments(move("away", List.of(1, 2))).all().get(60, TimeUnit.SECONDS);
        }
        awaitReplicas(brokers.subList(1, 3), tp, List.of(1, 2));
        brokers.get(0).start();
        waitUntil(() -> !Files.exists(brokers.get(0).logDir().resolve("away-0")), "broker 0 deleted its stray log");
        assertNull(brokers.get(0).broker().replicaManager().partition(tp));
    }

    @Test
    void shouldIncreaseTheReplicationFactorByReassignment() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        TopicPartition tp = new TopicPartition("growing", 0);
        createTopic(brokers, "growing", List.of(0), Map.of());
        try (Admin admin = admin(bootstrap(brokers))) {
            admin.alterPartitionReassignments(move("growing", List.of(0, 1, 2))).all().get(60, TimeUnit.SECONDS);
        }
        awaitReplicas(brokers, tp, List.of(0, 1, 2));
        PartitionState s = image(brokers.get(1)).states().get(tp);
        assertEquals(Set.of(0, 1, 2), new HashSet<>(s.isr()), "every new replica joined the ISR");
        for (EmbeddedBroker b : brokers) {
            assertNotNull(b.broker().replicaManager().partition(tp));
        }
    }

    @Test
    void shouldPassTheNewReplicasFetchesThroughTheFollowerThrottle() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        TopicPartition tp = new TopicPartition("throttled", 0);
        createTopic(brokers, "throttled", List.of(0), Map.of("follower.replication.throttled.replicas", "0:1"));
        Map<String, Object> props = Map.of("bootstrap.servers", bootstrap(brokers), "acks", "all",
            "key.serializer", ByteArraySerializer.class.getName(), "value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>("throttled", 0, null, new byte[1000]));
            }
            producer.flush();
        }
        long logBytes = brokers.get(0).broker().replicaManager().partition(tp).log().sizeInBytes();
        try (Admin admin = admin(bootstrap(brokers))) {
            org.apache.kafka.common.config.ConfigResource broker1 =
                new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.BROKER, "1");
            admin.incrementalAlterConfigs(Map.of(broker1, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                new org.apache.kafka.clients.admin.ConfigEntry("follower.replication.throttled.rate", "40000"),
                org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get(60, TimeUnit.SECONDS);
            assertEquals("40000", admin.describeConfigs(List.of(broker1)).all().get(60, TimeUnit.SECONDS).get(broker1)
                .get("follower.replication.throttled.rate").value());
            admin.alterPartitionReassignments(move("throttled", List.of(0, 1))).all().get(60, TimeUnit.SECONDS);
        }
        awaitReplicas(brokers, tp, List.of(0, 1));
        long throttledBytes = brokers.get(1).broker().replicaManager().replicationThrottle().throttledBytes();
        assertTrue(throttledBytes >= logBytes, "the new replica's " + throttledBytes + " fetched bytes of "
            + logBytes + " went through the throttle");
        assertEquals(0, brokers.get(2).broker().replicaManager().replicationThrottle().throttledBytes());
    }

    @Test
    void shouldPassTheBytesTheLeaderSendsTheNewReplicaThroughTheLeaderThrottle() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        TopicPartition tp = new TopicPartition("leader-throttled", 0);
        createTopic(brokers, "leader-throttled", List.of(0), Map.of("leader.replication.throttled.replicas", "0:0"));
        Map<String, Object> props = Map.of("bootstrap.servers", bootstrap(brokers), "acks", "all",
            "key.serializer", ByteArraySerializer.class.getName(), "value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>("leader-throttled", 0, null, new byte[1000]));
            }
            producer.flush();
        }
        long logBytes = brokers.get(0).broker().replicaManager().partition(tp).log().sizeInBytes();
        try (Admin admin = admin(bootstrap(brokers))) {
            org.apache.kafka.common.config.ConfigResource broker0 =
                new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.BROKER, "0");
            admin.incrementalAlterConfigs(Map.of(broker0, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                new org.apache.kafka.clients.admin.ConfigEntry("leader.replication.throttled.rate", "40000"),
                org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get(60, TimeUnit.SECONDS);
            waitUntil(() -> brokers.get(0).broker().replicaManager().leaderReplicationThrottle().rate() == 40000,
                "the leader applies the rate");
            admin.alterPartitionReassignments(move("leader-throttled", List.of(0, 1))).all().get(60, TimeUnit.SECONDS);
        }
        awaitReplicas(brokers, tp, List.of(0, 1));
        long throttledBytes = brokers.get(0).broker().replicaManager().leaderReplicationThrottle().throttledBytes();
        assertTrue(throttledBytes >= logBytes, "the " + throttledBytes + " bytes the leader sent of " + logBytes
            + " went through its throttle");
        assertEquals(0, brokers.get(1).broker().replicaManager().leaderReplicationThrottle().throttledBytes());
    }

    @Test
    void shouldListAndCancelAReassignmentInProgress() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        TopicPartition tp = new TopicPartition("held", 0);
        createTopic(brokers, "held", List.of(0), Map.of());
        // the leader's ISR changes never reach the controller: the new replicas cannot join, the move stays open
        brokers.get(0).broker().setAlterPartitionSender((p, leaderEpoch, partitionEpoch, isr) -> new CompletableFuture<>());
        org.apache.kafka.common.TopicPartition ktp = new org.apache.kafka.common.TopicPartition("held", 0);
        try (Admin admin = admin(bootstrap(brokers))) {
            admin.alterPartitionReassignments(move("held", List.of(1, 2))).all().get(60, TimeUnit.SECONDS);
            waitUntil(() -> brokers.get(1).broker().replicaManager().partition(tp) != null
                && brokers.get(2).broker().replicaManager().partition(tp) != null, "the new replicas are hosted");

            Map<org.apache.kafka.common.TopicPartition, PartitionReassignment> listed =
                admin.listPartitionReassignments().reassignments().get(60, TimeUnit.SECONDS);
            assertEquals(Set.of(ktp), listed.keySet());
            assertEquals(List.of(1, 2, 0), listed.get(ktp).replicas());
            assertEquals(List.of(1, 2), listed.get(ktp).addingReplicas());
            assertEquals(List.of(0), listed.get(ktp).removingReplicas());
            assertEquals(List.of(0), image(brokers.get(0)).states().get(tp).isr(), "the new replicas are not in sync");

            admin.alterPartitionReassignments(move("held", null)).all().get(60, TimeUnit.SECONDS);
            awaitReplicas(brokers, tp, List.of(0));
            assertTrue(admin.listPartitionReassignments().reassignments().get(60, TimeUnit.SECONDS).isEmpty());
            waitUntil(() -> brokers.get(1).broker().replicaManager().partition(tp) == null
                && brokers.get(2).broker().replicaManager().partition(tp) == null, "the added replicas are removed");
            assertEquals(0, image(brokers.get(0)).states().get(tp).leader());

            ExecutionException none = assertThrows(ExecutionException.class,
                () -> admin.alterPartitionReassignments(move("held", null)).all().get(60, TimeUnit.SECONDS));
            assertInstanceOf(NoReassignmentInProgressException.class, none.getCause());
        }
    }

    @Test
    void shouldRefuseCreatePartitionsForATopicUnderReassignment() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        TopicPartition tp = new TopicPartition("moving", 0);
        createTopic(brokers, "moving", List.of(0), Map.of());
        // the leader's ISR changes never reach the controller: the new replica cannot join, the move stays open
        brokers.get(0).broker().setAlterPartitionSender((p, leaderEpoch, partitionEpoch, isr) -> new CompletableFuture<>());
        try (Admin admin = admin(bootstrap(brokers))) {
            admin.alterPartitionReassignments(move("moving", List.of(0, 1))).all().get(60, TimeUnit.SECONDS);
            for (EmbeddedBroker b : brokers) {
                waitUntil(() -> image(b).reassignments().containsKey(tp), "every broker sees the reassignment");
            }
            for (boolean validateOnly : List.of(true, false)) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> admin.createPartitions(
                    Map.of("moving", org.apache.kafka.clients.admin.NewPartitions.increaseTo(3)),
                    new org.apache.kafka.clients.admin.CreatePartitionsOptions().validateOnly(validateOnly))
                    .all().get(60, TimeUnit.SECONDS));
                assertInstanceOf(org.apache.kafka.common.errors.ReassignmentInProgressException.class, e.getCause(),
                    "validateOnly " + validateOnly);
            }
            for (EmbeddedBroker b : brokers) {
                assertEquals(1, image(b).assignments().get("moving").size(), "no partition was added");
            }

            // once the reassignment is cancelled the topic grows
            admin.alterPartitionReassignments(move("moving", null)).all().get(60, TimeUnit.SECONDS);
            awaitReplicas(brokers, tp, List.of(0));
            admin.createPartitions(Map.of("moving", org.apache.kafka.clients.admin.NewPartitions.increaseTo(3)))
                .all().get(60, TimeUnit.SECONDS);
            waitUntil(() -> image(brokers.get(0)).assignments().get("moving").size() == 3, "the topic has 3 partitions");
        }
    }

    @Test
    void shouldCompleteAReassignmentUnderTheNextControllerAfterAFailover() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        EmbeddedBroker controller = brokers.stream().filter(b -> b.broker().controller().isActive()).findFirst().orElseThrow();
        List<EmbeddedBroker> others = brokers.stream().filter(b -> b != controller).toList();
        int leader = others.get(0).broker().config().brokerId();
        int added = others.get(1).broker().config().brokerId();
        TopicPartition tp = new TopicPartition("survivor", 0);
        createTopic(brokers, "survivor", List.of(leader), Map.of());
        // the leader's ISR changes fail (and are retried) until the test lets them through
        others.get(0).broker().setAlterPartitionSender((p, leaderEpoch, partitionEpoch, isr) -> CompletableFuture.failedFuture(
            new io.weir.protocol.ApiException(Errors.NOT_CONTROLLER, "held by the test")));
        try (Admin admin = admin(others.get(1).bootstrapServers())) {
            admin.alterPartitionReassignments(move("survivor", List.of(leader, added))).all().get(60, TimeUnit.SECONDS);
        }
        waitUntil(() -> image(others.get(1)).reassignments().containsKey(tp), "the reassignment is in progress");

        controller.close();
        waitUntil(() -> others.stream().anyMatch(b -> b.broker().controller().isActive()), "another controller took over");
        assertTrue(image(others.get(1)).reassignments().containsKey(tp), "the reassignment survived the failover");
        others.get(0).broker().setAlterPartitionSender(null);
        awaitReplicas(others, tp, List.of(leader, added));
        assertEquals(Set.of(leader, added), new HashSet<>(image(others.get(1)).states().get(tp).isr()));
    }

    @Test
    void shouldRefuseInvalidTargetsAndLeaveTheStateUnchanged() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        TopicPartition tp = new TopicPartition("fixed", 0);
        createTopic(brokers, "fixed", List.of(0, 1), Map.of());
        PartitionState before = image(brokers.get(0)).states().get(tp);
        try (Admin admin = admin(notController(brokers).bootstrapServers())) {
            for (List<Integer> bad : List.of(List.of(1, 1), List.of(1, 7))) {
                ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.alterPartitionReassignments(move("fixed", bad)).all().get(60, TimeUnit.SECONDS));
                assertInstanceOf(InvalidReplicaAssignmentException.class, e.getCause(), "target " + bad);
            }
            ExecutionException unknown = assertThrows(ExecutionException.class,
                () -> admin.alterPartitionReassignments(move("no-such-topic", List.of(0))).all().get(60, TimeUnit.SECONDS));
            assertInstanceOf(UnknownTopicOrPartitionException.class, unknown.getCause());
        }
        // what Kafka's Admin refuses to send: an empty target, and one partition named twice
        AlterPartitionReassignmentsRequest raw = new AlterPartitionReassignmentsRequest().setTopics(List.of(
            new AlterPartitionReassignmentsRequest.ReassignableTopic().setName("fixed").setPartitions(List.of(
                new AlterPartitionReassignmentsRequest.ReassignablePartition().setPartitionIndex(0).setReplicas(List.of())))));
        AlterPartitionReassignmentsRequest twice = new AlterPartitionReassignmentsRequest().setTopics(List.of(
            new AlterPartitionReassignmentsRequest.ReassignableTopic().setName("fixed").setPartitions(List.of(
                new AlterPartitionReassignmentsRequest.ReassignablePartition().setPartitionIndex(0).setReplicas(List.of(1, 2)),
                new AlterPartitionReassignmentsRequest.ReassignablePartition().setPartitionIndex(0).setReplicas(List.of(2, 1))))));
        AlterPartitionReassignmentsRequest keepRf = new AlterPartitionReassignmentsRequest().setAllowReplicationFactorChange(false)
            .setTopics(List.of(new AlterPartitionReassignmentsRequest.ReassignableTopic().setName("fixed").setPartitions(List.of(
                new AlterPartitionReassignmentsRequest.ReassignablePartition().setPartitionIndex(0).setReplicas(List.of(0, 1, 2))))));
        AlterPartitionReassignmentsResponse rf = (AlterPartitionReassignmentsResponse) ZkTestCluster.call(
            brokers.get(0).port(), ApiKeys.ALTER_PARTITION_REASSIGNMENTS, (short) 1, keepRf);
        assertEquals(Errors.INVALID_REPLICATION_FACTOR.code(), rf.responses().get(0).partitions().get(0).errorCode());
        assertFalse(rf.allowReplicationFactorChange(), "v1 echoes allowReplicationFactorChange");
        for (AlterPartitionReassignmentsRequest req : List.of(raw, twice)) {
            AlterPartitionReassignmentsResponse r = (AlterPartitionReassignmentsResponse) ZkTestCluster.call(
                brokers.get(0).port(), ApiKeys.ALTER_PARTITION_REASSIGNMENTS, (short) 0, req);
            for (AlterPartitionReassignmentsResponse.ReassignablePartitionResponse p : r.responses().get(0).partitions()) {
                assertEquals(Errors.INVALID_REPLICA_ASSIGNMENT.code(), p.errorCode(), req.toString());
            }
        }
        for (EmbeddedBroker b : brokers) {
            assertEquals(List.of(0, 1), replicas(b, tp));
            assertNull(image(b).reassignments().get(tp));
        }
        assertEquals(before, image(brokers.get(0)).states().get(tp), "the partition state is unchanged");
        assertNull(brokers.get(2).broker().replicaManager().partition(tp));
    }
}
