package io.weir.broker.zk;

import io.weir.broker.Broker;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.server.Partition;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.log.Log;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.weir.broker.zk.ZkTestCluster.call;
import static io.weir.broker.zk.ZkTestCluster.partition;
import static io.weir.broker.zk.ZkTestCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replication between in-JVM brokers on one ZooKeeper: followers fetch from leaders and converge byte
 * for byte, acks=all waits for the ISR, a returning old leader truncates its divergent tail (KIP-279),
 * followers refuse clients, stale epochs are fenced, and the ISR shrinks and expands. ISR changes reach
 * the controller by AlterPartition (each broker's own manager); the controller's elections and controlled
 * shutdowns are the real ones.
 */
class ReplicationTest {
    private static final String CHROOT = "/weir-repl";

    private ZkTestCluster cluster;

    @BeforeEach
    void startZooKeeper() throws Exception {
        cluster = new ZkTestCluster(CHROOT);
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    // ------------------------------------------------------------------------------------ harness

    private static Admin admin(EmbeddedBroker b) {
        return Admin.create(Map.of("bootstrap.servers", b.bootstrapServers()));
    }

    private static String bootstrap(List<EmbeddedBroker> brokers) {
        StringBuilder sb = new StringBuilder();
        for (EmbeddedBroker b : brokers) {
            if (b.broker() != null && isRunning(b)) {
                sb.append(sb.length() == 0 ? "" : ",").append(b.bootstrapServers());
            }
        }
        return sb.toString();
    }

    private static boolean isRunning(EmbeddedBroker b) {
        try {
            b.port();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Creates a one-partition rf-3 topic with min.insync.replicas 2 and waits until every replica hosts it. */
    private TopicPartition createTopic(List<EmbeddedBroker> brokers, String name) throws Exception {
        try (Admin admin = admin(brokers.get(0))) {
            admin.createTopics(List.of(new NewTopic(name, 1, (short) 3).configs(Map.of("min.insync.replicas", "2"))))
                .all().get(60, TimeUnit.SECONDS);
        }
        TopicPartition tp = new TopicPartition(name, 0);
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> b.broker().replicaManager().partition(tp) != null
                && b.broker().replicaManager().partition(tp).hasAppliedState(), "every replica has the partition's state");
        }
        return tp;
    }

    private static EmbeddedBroker leaderOf(List<EmbeddedBroker> brokers, TopicPartition tp) {
        for (EmbeddedBroker b : brokers) {
            Partition p = partition(b, tp);
            if (p != null && p.isLeader()) {
                return b;
            }
        }
        throw new AssertionError("no leader of " + tp);
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap, String acks, Map<String, Object> extra) {
        Map<String, Object> props = new HashMap<>(Map.of("bootstrap.servers", bootstrap, "acks", acks,
            "key.serializer", ByteArraySerializer.class.getName(),
            "value.serializer", ByteArraySerializer.class.getName()));
        props.putAll(extra);
        return new KafkaProducer<>(props);
    }

    private static void produce(String bootstrap, String acks, String topic, int from, int count) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, acks, Map.of("linger.ms", 5))) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, 0, ("k" + i).getBytes(StandardCharsets.UTF_8),
                    ("value-" + i).getBytes(StandardCharsets.UTF_8))));
            }
            for (java.util.concurrent.Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
    }

    /** The bytes of the partition's whole log on one broker (every batch, as stored). */
    private static byte[] logBytes(EmbeddedBroker b, TopicPartition tp) throws IOException {
        Log log = partition(b, tp).log();
        var info = log.read(log.logStartOffset(), Integer.MAX_VALUE, Long.MAX_VALUE, true);
        ByteBuffer buf = info.records().readRecords().buffer();
        byte[] out = new byte[buf.remaining()];
        buf.duplicate().get(out);
        return out;
    }

    private static List<String> consumeAll(String bootstrap, TopicPartition tp, int expected) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap,
            "key.deserializer", ByteArrayDeserializer.class.getName(),
            "value.deserializer", ByteArrayDeserializer.class.getName(), "auto.offset.reset", "earliest"))) {
            org.apache.kafka.common.TopicPartition ktp = new org.apache.kafka.common.TopicPartition(tp.topic(), tp.partition());
            consumer.assign(List.of(ktp));
            consumer.seekToBeginning(List.of(ktp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(new String(r.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return values;
    }

    private static short fetchError(int port, TopicPartition tp, int replicaId, int currentLeaderEpoch) throws IOException {
        FetchRequest req = new FetchRequest().setReplicaId(replicaId).setMaxWaitMs(0).setMinBytes(1)
            .setMaxBytes(1 << 20).setTopics(List.of(new FetchRequest.FetchTopic().setTopic(tp.topic())
                .setPartitions(List.of(new FetchRequest.FetchPartition().setPartition(tp.partition())
                    .setCurrentLeaderEpoch(currentLeaderEpoch).setFetchOffset(0).setPartitionMaxBytes(1 << 20)))));
        FetchResponse resp = (FetchResponse) call(port, ApiKeys.FETCH, (short) 12, req);
        return resp.responses().get(0).partitions().get(0).errorCode();
    }

    // ------------------------------------------------------------------------------------ tests

    @Test
    void shouldReplicateAcksAllRecordsToEveryReplicaByteForByte() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        TopicPartition tp = createTopic(brokers, "replicated");
        EmbeddedBroker leader = leaderOf(brokers, tp);
        assertEquals(List.of(0, 1, 2), partition(leader, tp).isr().stream().sorted().toList());

        int n = 300;
        produce(bootstrap(brokers), "all", tp.topic(), 0, n);
        for (EmbeddedBroker b : brokers) {
            assertTrue(partition(b, tp).log().logEndOffset() >= n, "acks=all answered once every ISR member had the"
                + " records: broker " + b.broker().config().brokerId());
        }
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> partition(b, tp).log().logEndOffset() == n && partition(b, tp).highWatermark() == n,
                "broker " + b.broker().config().brokerId() + " has every record and the high watermark at the end");
        }
        byte[] leaderBytes = logBytes(leader, tp);
        for (EmbeddedBroker b : brokers) {
            assertArrayEquals(leaderBytes, logBytes(b, tp), "replica " + b.broker().config().brokerId());
            assertEquals(partition(leader, tp).log().leaderEpochEntries(), partition(b, tp).log().leaderEpochEntries());
        }
        int leaderId = leader.broker().config().brokerId();
        for (EmbeddedBroker b : brokers) {
            try (Admin admin = admin(b)) { // every broker, follower or leader, names the leader and the ISR
                var d = admin.describeTopics(List.of(tp.topic())).allTopicNames().get().get(tp.topic()).partitions().get(0);
                assertEquals(leaderId, d.leader().id());
                assertEquals(3, d.isr().size());
            }
        }
        List<String> read = consumeAll(bootstrap(brokers), tp, n);
        assertEquals(n, read.size());
        for (int i = 0; i < n; i++) {
            assertEquals("value-" + i, read.get(i));
        }
    }

    @Test
    void shouldTruncateTheDivergentTailOfAnOldLeaderThatReturnsAsFollower() throws Exception {
        // no ISR shrink for lag while the test runs: the followers below stay in the ISR without fetching; no
        // controlled shutdown: it would change the ISR while the old leader still leads, and a follower told of
        // that change fetches from the old leader again (and takes the tail this test wants never committed)
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of("replica.lag.time.max.ms", "600000",
            "controlled.shutdown.enable", "false"));
        TopicPartition tp = createTopic(brokers, "diverge");
        EmbeddedBroker oldLeader = leaderOf(brokers, tp);
        List<EmbeddedBroker> followers = brokers.stream().filter(b -> b != oldLeader).toList();
        produce(bootstrap(brokers), "all", tp.topic(), 0, 50);
        for (EmbeddedBroker f : followers) {
            waitUntil(() -> partition(f, tp).log().logEndOffset() == 50, "the followers have the committed records");
        }

        // the leader stays, at a new epoch: the tail below is written in an epoch the next leader never knew,
        // so its OffsetForLeaderEpoch answers an older epoch than the returning replica asks about (KIP-279)
        Broker firstController = cluster.controller().broker();
        PartitionState first = ((ZkMetadataStore) firstController.metadataStore()).readPartitionState(tp).orElseThrow();
        firstController.controller().updatePartitionState(tp, first, first.leader(), first.leaderEpoch() + 1, first.isr());
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> partition(b, tp).leaderEpoch() == first.leaderEpoch() + 1, "every replica at the new epoch");
        }

        // the followers stay live and in the ISR but stop fetching (cut off from the leader): the leader takes
        // records nobody else ever fetches, which the ISR never has. (Stopping the followers instead would make
        // the controller drop them from the ISR, and the leader alone would then commit the tail, as in Kafka.)
        for (EmbeddedBroker f : followers) {
            f.broker().replicaManager().fetcherManager().removePartition(tp);
        }
        produce(oldLeader.bootstrapServers(), "1", tp.topic(), 1000, 20);
        assertEquals(70, partition(oldLeader, tp).log().logEndOffset());
        assertEquals(50, partition(oldLeader, tp).highWatermark(), "the tail was never committed");
        assertEquals(3, partition(oldLeader, tp).isr().size(), "the followers are still in the ISR");
        assertEquals(first.leaderEpoch() + 1, partition(oldLeader, tp).log().latestLeaderEpoch());

        // the old leader stops (its registration goes with it): the controller moves leadership to a follower
        // of the ISR, at a bumped epoch
        var firstRun = oldLeader.broker().replicaManager().fetcherManager();
        oldLeader.broker().shutdown();
        waitUntil(() -> followers.stream().anyMatch(f -> partition(f, tp).isLeader()), "a follower leads");
        EmbeddedBroker newLeader = leaderOf(followers, tp);
        assertTrue(partition(newLeader, tp).leaderEpoch() > first.leaderEpoch() + 1);
        assertFalse(partition(newLeader, tp).log().leaderEpochEntries().containsKey(first.leaderEpoch() + 1),
            "the new leader never saw the old leader's last epoch");
        produce(bootstrap(followers), "all", tp.topic(), 2000, 30);
        assertEquals(80, partition(newLeader, tp).log().logEndOffset());

        // the old leader returns as a follower: it cuts its divergent tail and converges
        oldLeader.start();
        waitUntil(() -> partition(oldLeader, tp).role() == Partition.Role.FOLLOWER, "the old leader follows");
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> partition(b, tp).log().logEndOffset() == 80 && partition(b, tp).highWatermark() == 80,
                "broker " + b.broker().config().brokerId() + " converged");
        }
        byte[] expected = logBytes(newLeader, tp);
        for (EmbeddedBroker b : brokers) {
            assertArrayEquals(expected, logBytes(b, tp), "replica " + b.broker().config().brokerId());
        }
        List<String> read = consumeAll(bootstrap(brokers), tp, 80);
        assertEquals(80, read.size());
        assertTrue(read.stream().noneMatch(v -> v.matches("value-10[0-9][0-9]")), "no divergent record survived: " + read);
        assertEquals("value-2029", read.get(79));
        // KIP-595: the new leader's fetch answer named where the logs diverge, no OffsetForLeaderEpoch round trip
        // (the old leader may already follow, and truncate, while its controlled shutdown completes)
        var returned = oldLeader.broker().replicaManager().fetcherManager();
        assertTrue(firstRun.truncationsOnFetch() + returned.truncationsOnFetch() >= 1,
            "the old leader truncated on a diverging epoch");
        assertEquals(0, firstRun.offsetForLeaderEpochRequests() + returned.offsetForLeaderEpochRequests());
    }

    @Test
    void shouldDropAnEpochItOpenedAsLeaderWithoutWritingWhenItFollowsAgain() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of("replica.lag.time.max.ms", "600000"));
        TopicPartition tp = createTopic(brokers, "empty-epoch");
        EmbeddedBroker first = leaderOf(brokers, tp);
        produce(bootstrap(brokers), "all", tp.topic(), 0, 10);

        // the leader opens a new epoch and writes nothing in it: no other replica ever has that epoch
        Broker controller = cluster.controller().broker();
        ZkMetadataStore store = (ZkMetadataStore) controller.metadataStore();
        PartitionState s0 = store.readPartitionState(tp).orElseThrow();
        controller.controller().updatePartitionState(tp, s0, s0.leader(), s0.leaderEpoch() + 1, s0.isr());
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> partition(b, tp).leaderEpoch() == s0.leaderEpoch() + 1, "every replica at the new epoch");
        }
        assertEquals(s0.leaderEpoch() + 1, partition(first, tp).log().latestLeaderEpoch());

        // another replica leads; the old leader's last epoch (empty) is unknown to it: the old leader drops it
        EmbeddedBroker next = brokers.stream().filter(b -> b != first).findFirst().orElseThrow();
        PartitionState s1 = store.readPartitionState(tp).orElseThrow();
        controller.controller().updatePartitionState(tp, s1, next.broker().config().brokerId(), s1.leaderEpoch() + 1,
            s1.isr());
        waitUntil(() -> partition(next, tp).isLeader() && partition(first, tp).role() == Partition.Role.FOLLOWER
            && partition(first, tp).leaderEpoch() == s1.leaderEpoch() + 1, "leadership moved");
        produce(bootstrap(brokers), "all", tp.topic(), 10, 10);
        for (EmbeddedBroker b : brokers) {
            waitUntil(() -> partition(b, tp).log().logEndOffset() == 20, "broker " + b.broker().config().brokerId()
                + " has every record");
        }
        assertArrayEquals(logBytes(next, tp), logBytes(first, tp));
        assertEquals(partition(next, tp).log().leaderEpochEntries(), partition(first, tp).log().leaderEpochEntries());
    }

    @Test
    void shouldSendTheFollowersBrokerEpochAndRefuseAFetchNamingAStaleOne() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        TopicPartition tp = createTopic(brokers, "broker-epochs");
        EmbeddedBroker leader = leaderOf(brokers, tp);
        EmbeddedBroker follower = brokers.stream().filter(b -> b != leader).findFirst().orElseThrow();
        int followerId = follower.broker().config().brokerId();
        long registered = leader.broker().metadataStore().liveBrokers().stream().filter(b -> b.id() == followerId)
            .findFirst().orElseThrow().epoch();
        assertTrue(registered > 0);
        produce(bootstrap(brokers), "all", tp.topic(), 0, 5);
        Partition p = partition(leader, tp);
        waitUntil(() -> p.followerBrokerEpoch(followerId) == registered, "the follower's fetches name its broker epoch");

        // a fetch naming the follower's id at an older broker epoch (a previous incarnation of it): refused
        long before = p.followerLogEndOffset(followerId);
        FetchRequest stale = new FetchRequest().setReplicaState(new FetchRequest.ReplicaState().setReplicaId(followerId)
                .setReplicaEpoch(registered - 1)).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20)
            .setTopics(List.of(new FetchRequest.FetchTopic().setTopicId(p.topicId()).setPartitions(List.of(
                new FetchRequest.FetchPartition().setPartition(tp.partition()).setCurrentLeaderEpoch(p.leaderEpoch())
                    .setFetchOffset(0).setLastFetchedEpoch(-1).setLogStartOffset(0).setPartitionMaxBytes(1 << 20)))));
        FetchResponse resp = (FetchResponse) call(leader.port(), ApiKeys.FETCH, (short) 15, stale);
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), resp.responses().get(0).partitions().get(0).errorCode());
        assertTrue(p.followerLogEndOffset(followerId) >= before, "the stale fetch did not move the follower back to 0");
        assertEquals(registered, p.followerBrokerEpoch(followerId));
    }

    @Test
    void shouldRefuseClientsOnAFollowerFenceOldEpochsAndRefuseUnknownReplicas() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of());
        TopicPartition tp = createTopic(brokers, "refusals");
        EmbeddedBroker leader = leaderOf(brokers, tp);
        EmbeddedBroker follower = brokers.stream().filter(b -> b != leader).findFirst().orElseThrow();
        produce(bootstrap(brokers), "all", tp.topic(), 0, 5);

        ProduceRequest produce = new ProduceRequest().setAcks((short) 1).setTimeoutMs(5_000).setTopicData(List.of(
            new ProduceRequest.TopicProduceData().setName(tp.topic()).setPartitionData(List.of(
                new ProduceRequest.PartitionProduceData().setIndex(0).setRecords(Records.wrap(
                    new RecordBatchBuilder(CompressionType.NONE).append(1L, null, new byte[3]).build()))))));
        ProduceResponse pr = (ProduceResponse) call(follower.port(), ApiKeys.PRODUCE, (short) 8, produce);
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), pr.responses().get(0).partitionResponses().get(0).errorCode());
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), fetchError(follower.port(), tp, -1, -1));

        // leadership stays, at a bumped epoch: an older epoch is fenced, a newer one unknown
        Broker controller = cluster.controller().broker();
        PartitionState current = ((ZkMetadataStore) controller.metadataStore()).readPartitionState(tp).orElseThrow();
        int epoch = current.leaderEpoch() + 1;
        controller.controller().updatePartitionState(tp, current, current.leader(), epoch, current.isr());
        waitUntil(() -> partition(leader, tp).leaderEpoch() == epoch, "the leader is at the new epoch");
        assertEquals(Errors.FENCED_LEADER_EPOCH.code(), fetchError(leader.port(), tp, -1, epoch - 1));
        assertEquals(Errors.UNKNOWN_LEADER_EPOCH.code(), fetchError(leader.port(), tp, -1, epoch + 1));
        assertEquals(Errors.NONE.code(), fetchError(leader.port(), tp, -1, epoch));

        // a fetch from a broker that is no replica of the partition: refused, and nothing recorded for it
        Partition p = partition(leader, tp);
        long hw = p.highWatermark();
        List<Integer> isr = p.isr();
        assertEquals(Errors.UNKNOWN_LEADER_EPOCH.code(), fetchError(leader.port(), tp, 42, epoch));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), fetchError(leader.port(), tp, 42, -1));
        assertEquals(-1, p.followerLogEndOffset(42));
        assertEquals(hw, p.highWatermark());
        assertEquals(isr, p.isr());
        assertNull(p.pendingIsrChange());
    }

    @Test
    void shouldShrinkTheIsrWhenFollowersStopRefuseAcksAllBelowMinIsrAndExpandWhenOneReturns() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(3, Map.of("replica.lag.time.max.ms", "1500"));
        TopicPartition tp = createTopic(brokers, "shrink");
        EmbeddedBroker leader = leaderOf(brokers, tp);
        int leaderId = leader.broker().config().brokerId();
        List<EmbeddedBroker> followers = brokers.stream().filter(b -> b != leader).toList();
        produce(bootstrap(brokers), "all", tp.topic(), 0, 10);

        followers.get(1).broker().shutdown();
        int stillIn = followers.get(0).broker().config().brokerId();
        waitUntil(() -> partition(leader, tp).isr().stream().sorted().toList()
            .equals(List.of(leaderId, stillIn).stream().sorted().toList()), "the ISR drops the stopped follower");
        produce(leader.bootstrapServers(), "all", tp.topic(), 10, 5); // two in sync: still enough

        followers.get(0).broker().shutdown();
        waitUntil(() -> partition(leader, tp).isr().equals(List.of(leaderId)), "the ISR is the leader alone");
        try (KafkaProducer<byte[], byte[]> producer = producer(leader.bootstrapServers(), "all",
            Map.of("retries", 0, "enable.idempotence", false))) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> producer.send(
                new ProducerRecord<>(tp.topic(), 0, null, "refused".getBytes(StandardCharsets.UTF_8))).get(60, TimeUnit.SECONDS));
            assertInstanceOf(NotEnoughReplicasException.class, e.getCause());
        }
        assertEquals(15, partition(leader, tp).log().logEndOffset(), "nothing was appended");

        followers.get(0).start();
        waitUntil(() -> partition(leader, tp).isr().contains(stillIn), "the returned follower rejoins the ISR");
        produce(leader.bootstrapServers(), "all", tp.topic(), 15, 5);
        waitUntil(() -> partition(followers.get(0), tp).log().logEndOffset() == 20, "the returned follower has it all");
        assertArrayEquals(logBytes(leader, tp), logBytes(followers.get(0), tp));
    }
}
