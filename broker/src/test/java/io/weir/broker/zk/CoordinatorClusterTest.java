package io.weir.broker.zk;

import io.weir.broker.Broker;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.LeadershipListener;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.FindCoordinatorResponse;
import io.weir.protocol.message.OffsetFetchRequest;
import io.weir.protocol.message.OffsetFetchResponse;
import io.weir.protocol.message.WriteTxnMarkersRequest;
import io.weir.protocol.message.WriteTxnMarkersResponse;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static io.weir.broker.zk.ZkTestCluster.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coordinators in a three-broker cluster ({@link ZkTestCluster}): a group's or a transactional id's
 * coordinator is the leader of its internal-topic partition, FindCoordinator names that broker, other
 * brokers answer NOT_COORDINATOR, shards follow leadership events, and a transaction's markers reach
 * partitions led by other brokers.
 */
class CoordinatorClusterTest {
    private static final String CHROOT = "/weir-coord";
    private static final String OFFSETS = "__consumer_offsets";
    private static final int OFFSETS_PARTITIONS = 6;

    private ZkTestCluster cluster;
    private List<EmbeddedBroker> brokers;

    @BeforeEach
    void setUp() {
        try {
            cluster = new ZkTestCluster(CHROOT);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        brokers = cluster.brokers();
    }

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private void startCluster() throws InterruptedException {
        // min ISR 1: these tests are about where coordinators and markers go, not about replication
        cluster.startBrokers(3, Map.of("offsets.topic.num.partitions", Integer.toString(OFFSETS_PARTITIONS),
            "transaction.state.log.num.partitions", "3", "transaction.state.log.min.isr", "1"));
    }

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        ZkTestCluster.waitUntil(condition, what);
    }

    private EmbeddedBroker brokerWithId(int id) {
        return brokers.stream().filter(b -> b.broker().config().brokerId() == id).findFirst().orElseThrow();
    }

    private static int partitionFor(String key, int partitions) {
        int h = key.hashCode();
        return (h == Integer.MIN_VALUE ? 0 : Math.abs(h)) % partitions;
    }

    /** The leader of the partition as every broker's metadata names it (waits until they agree). */
    private int agreedLeader(TopicPartition tp) throws InterruptedException {
        int[] leader = new int[1];
        waitUntil(() -> {
            Set<Integer> seen = new HashSet<>();
            for (EmbeddedBroker b : brokers) {
                seen.add(b.broker().metadataStore().partitionState(tp).map(PartitionState::leader).orElse(-9));
            }
            leader[0] = seen.iterator().next();
            return seen.size() == 1 && leader[0] >= 0;
        }, "every broker knows the leader of " + tp);
        return leader[0];
    }

    @Test
    void shouldServeEachGroupFromTheBrokerLeadingItsOffsetsPartitionAndFollowLeadershipEvents() throws Exception {
        startCluster();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", brokers.get(0).bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("events", 3, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
        List<String> groups = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            groups.add("group-" + i);
        }
        // the first FindCoordinator creates __consumer_offsets: replication factor min(3, live brokers)
        waitUntil(() -> findCoordinators(brokers.get(1).port(), (byte) 0, groups).stream()
            .allMatch(c -> c.errorCode() == Errors.NONE.code()), "every group has a coordinator");
        TopicMetadata offsets = brokers.get(0).broker().metadataStore().topic(OFFSETS).orElseThrow();
        assertEquals(3, offsets.replicationFactor());
        assertEquals(OFFSETS_PARTITIONS, offsets.partitionCount());
        assertEquals("1", offsets.configs().get("min.insync.replicas"), "min(broker min.insync.replicas, rf)");

        // FindCoordinator (batched v4+ and single-key v3), asked of any broker, names the partition's leader
        Map<String, Integer> coordinatorOf = new HashMap<>();
        for (String g : groups) {
            coordinatorOf.put(g, agreedLeader(new TopicPartition(OFFSETS, partitionFor(g, OFFSETS_PARTITIONS))));
        }
        assertTrue(new HashSet<>(coordinatorOf.values()).size() >= 2,
            "the groups' coordinators are spread over brokers: " + coordinatorOf);
        for (EmbeddedBroker asked : brokers) {
            // (a broker answers COORDINATOR_NOT_AVAILABLE for its own partitions until it has hosted them)
            waitUntil(() -> findCoordinators(asked.port(), (byte) 0, groups).stream()
                .allMatch(c -> c.errorCode() == Errors.NONE.code()), "broker " + asked.broker().config().brokerId()
                + " knows every group's coordinator");
            List<FindCoordinatorResponse.Coordinator> found = findCoordinators(asked.port(), (byte) 0, groups);
            for (int i = 0; i < groups.size(); i++) {
                FindCoordinatorResponse.Coordinator c = found.get(i);
                assertEquals(Errors.NONE.code(), c.errorCode(), c.errorMessage());
                assertEquals(groups.get(i), c.key());
                int expected = coordinatorOf.get(groups.get(i));
                assertEquals(expected, c.nodeId(), groups.get(i) + " asked of broker " + asked.broker().config().brokerId());
                assertEquals(brokerWithId(expected).port(), c.port());
            }
            FindCoordinatorResponse single = (FindCoordinatorResponse) call(asked.port(), ApiKeys.FIND_COORDINATOR,
                (short) 3, new FindCoordinatorRequest().setKey(groups.get(0)).setKeyType((byte) 0));
            assertEquals(Errors.NONE.code(), single.errorCode());
            assertEquals((int) coordinatorOf.get(groups.get(0)), single.nodeId());
        }

        // kafka-clients groups commit and read back offsets, each through a broker that is not (always) its coordinator
        for (int i = 0; i < groups.size(); i++) {
            String g = groups.get(i);
            EmbeddedBroker via = brokers.get(i % 3);
            Map<org.apache.kafka.common.TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
            for (int p = 0; p < 3; p++) {
                commit.put(new org.apache.kafka.common.TopicPartition("events", p), new OffsetAndMetadata(10L * i + p, g));
            }
            try (KafkaConsumer<byte[], byte[]> consumer = consumer(via, g)) {
                if (i < 2) { // a few join the group for real (JoinGroup/SyncGroup on the remote coordinator)
                    consumer.subscribe(List.of("events"));
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (consumer.assignment().isEmpty() && System.nanoTime() < deadline) {
                        consumer.poll(Duration.ofMillis(100));
                    }
                    assertEquals(3, consumer.assignment().size(), g + " got its assignment");
                }
                consumer.commitSync(commit, Duration.ofSeconds(60));
            }
            try (KafkaConsumer<byte[], byte[]> reader = consumer(brokers.get((i + 1) % 3), g)) {
                assertEquals(commit, reader.committed(commit.keySet(), Duration.ofSeconds(60)), g);
            }
        }

        // a broker that does not lead a group's partition refuses it
        String g = groups.get(0);
        int coordinator = coordinatorOf.get(g);
        EmbeddedBroker other = brokers.stream().filter(b -> b.broker().config().brokerId() != coordinator)
            .findFirst().orElseThrow();
        assertEquals(Errors.NOT_COORDINATOR, offsetFetch(other.port(), g).error);

        // leadership events: resigned, the coordinator answers NOT_COORDINATOR; a late load at the
        // resignation's epoch does not bring the shard back; leader again at a newer epoch, it serves the
        // offsets it reloads from the log
        EmbeddedBroker leader = brokerWithId(coordinator);
        TopicPartition tp = new TopicPartition(OFFSETS, partitionFor(g, OFFSETS_PARTITIONS));
        Fetched before = offsetFetch(leader.port(), g);
        assertEquals(Errors.NONE, before.error);
        assertEquals(Map.of(0, 0L, 1, 1L, 2, 2L), before.offsets);
        int epoch = leader.broker().metadataStore().partitionState(tp).orElseThrow().leaderEpoch();
        LeadershipListener listener = leader.broker().groupCoordinator().leadershipListener();
        listener.onResign(tp, epoch + 1);
        waitUntil(() -> offsetFetch(leader.port(), g).error == Errors.NOT_COORDINATOR, "the resigned shard is gone");
        listener.onBecomeLeader(tp, epoch + 1);
        assertEquals(Errors.NOT_COORDINATOR, offsetFetch(leader.port(), g).error,
            "a load no newer than the resignation is stale");
        listener.onBecomeLeader(tp, epoch + 2);
        waitUntil(() -> offsetFetch(leader.port(), g).error == Errors.NONE, "the shard is loaded again");
        assertEquals(before.offsets, offsetFetch(leader.port(), g).offsets);
    }

    @Test
    void shouldCommitAndAbortTransactionsOverPartitionsLedByOtherBrokers() throws Exception {
        startCluster();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", brokers.get(0).bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("txn-out", 3, (short) 1), new NewTopic("txn-in", 1, (short) 1)))
                .all().get(60, TimeUnit.SECONDS);
        }
        Set<Integer> leaders = new HashSet<>();
        for (int p = 0; p < 3; p++) {
            leaders.add(agreedLeader(new TopicPartition("txn-out", p)));
        }
        assertEquals(Set.of(0, 1, 2), leaders, "one partition led by each broker");

        String txnId = "copier-1";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers.get(0).bootstrapServers(),
            ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()))) {
            producer.initTransactions();
            producer.beginTransaction();
            sendToEveryPartition(producer, "committed-1");
            producer.sendOffsetsToTransaction(Map.of(new org.apache.kafka.common.TopicPartition("txn-in", 0),
                new OffsetAndMetadata(42)), new ConsumerGroupMetadata("txn-group"));
            producer.commitTransaction();

            producer.beginTransaction();
            sendToEveryPartition(producer, "aborted");
            producer.abortTransaction();

            producer.beginTransaction();
            sendToEveryPartition(producer, "committed-2");
            producer.commitTransaction();
        }
        int txnCoordinator = findCoordinators(brokers.get(0).port(), (byte) 1, List.of(txnId)).get(0).nodeId();
        TopicPartition stateTp = new TopicPartition("__transaction_state", partitionFor(txnId, 3));
        assertEquals(agreedLeader(stateTp), txnCoordinator, "the transaction's coordinator leads its partition");

        // every partition got a marker per transaction (two of the three from another broker, by RPC)
        for (int p = 0; p < 3; p++) {
            TopicPartition tp = new TopicPartition("txn-out", p);
            Broker leader = brokerWithId(agreedLeader(tp)).broker();
            waitUntil(() -> leader.replicaManager().partition(tp).log().logEndOffset() == 3 * (2 + 1),
                "three transactions of two records and a marker each on " + tp);
            waitUntil(() -> leader.replicaManager().partition(tp).lastStableOffset() == 9, "the LSO of " + tp + " moved");
        }

        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers.get(1).bootstrapServers(),
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            List<org.apache.kafka.common.TopicPartition> all = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                all.add(new org.apache.kafka.common.TopicPartition("txn-out", p));
            }
            consumer.assign(all);
            consumer.seekToBeginning(all);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!all.stream().allMatch(tp -> consumer.position(tp) >= 9) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    seen.add(r.value());
                }
            }
            assertTrue(all.stream().allMatch(tp -> consumer.position(tp) >= 9), "read to the end of every partition");
        }
        List<String> expected = new ArrayList<>();
        for (String prefix : List.of("committed-1", "committed-2")) {
            for (int p = 0; p < 3; p++) {
                for (int i = 0; i < 2; i++) {
                    expected.add(prefix + "-" + p + "-" + i);
                }
            }
        }
        assertEquals(new HashSet<>(expected), new HashSet<>(seen), "every committed record, no aborted one");
        assertEquals(expected.size(), seen.size(), "each once");

        try (KafkaConsumer<byte[], byte[]> reader = consumer(brokers.get(2), "txn-group")) {
            var tp = new org.apache.kafka.common.TopicPartition("txn-in", 0);
            assertEquals(42L, reader.committed(Set.of(tp), Duration.ofSeconds(60)).get(tp).offset(),
                "the transaction's offset commit became visible with its marker");
        }

        // a broker that does not lead a partition writes no marker to it (data and __consumer_offsets alike)
        TopicPartition data = new TopicPartition("txn-out", 0);
        TopicPartition offsets = new TopicPartition(OFFSETS, partitionFor("txn-group", OFFSETS_PARTITIONS));
        int dataLeader = agreedLeader(data);
        int offsetsLeader = agreedLeader(offsets);
        for (EmbeddedBroker b : brokers) {
            int id = b.broker().config().brokerId();
            List<TopicPartition> notLed = new ArrayList<>();
            if (id != dataLeader) {
                notLed.add(data);
            }
            if (id != offsetsLeader) {
                notLed.add(offsets);
            }
            for (TopicPartition tp : notLed) {
                WriteTxnMarkersResponse r = (WriteTxnMarkersResponse) call(b.port(), ApiKeys.WRITE_TXN_MARKERS,
                    (short) 1, new WriteTxnMarkersRequest().setMarkers(List.of(new WriteTxnMarkersRequest.WritableTxnMarker()
                        .setProducerId(4242).setProducerEpoch((short) 0).setTransactionResult(false).setCoordinatorEpoch(0)
                        .setTopics(List.of(new WriteTxnMarkersRequest.WritableTxnMarkerTopic().setName(tp.topic())
                            .setPartitionIndexes(List.of(tp.partition())))))));
                assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(),
                    r.markers().get(0).topics().get(0).partitions().get(0).errorCode(), tp + " on broker " + id);
            }
        }
        assertEquals(9, brokerWithId(dataLeader).broker().replicaManager().partition(data).log().logEndOffset());
    }

    private static void sendToEveryPartition(KafkaProducer<String, String> producer, String prefix) throws Exception {
        for (int p = 0; p < 3; p++) {
            for (int i = 0; i < 2; i++) {
                producer.send(new ProducerRecord<>("txn-out", p, null, prefix + "-" + p + "-" + i));
            }
        }
        producer.flush();
    }

    private static KafkaConsumer<byte[], byte[]> consumer(EmbeddedBroker via, String group) {
        return new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, via.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, group,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName(),
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName()));
    }

    private static List<FindCoordinatorResponse.Coordinator> findCoordinators(int port, byte keyType, List<String> keys) {
        try {
            FindCoordinatorResponse r = (FindCoordinatorResponse) call(port, ApiKeys.FIND_COORDINATOR, (short) 4,
                new FindCoordinatorRequest().setKeyType(keyType).setCoordinatorKeys(keys));
            return r.coordinators();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A group's committed offsets of topic "events" by partition, and the group-level error. */
    private record Fetched(Errors error, Map<Integer, Long> offsets) {
    }

    private static Fetched offsetFetch(int port, String group) {
        try {
            OffsetFetchResponse r = (OffsetFetchResponse) call(port, ApiKeys.OFFSET_FETCH, (short) 8,
                new OffsetFetchRequest().setGroups(List.of(new OffsetFetchRequest.OffsetFetchRequestGroup()
                    .setGroupId(group).setTopics(List.of(new OffsetFetchRequest.OffsetFetchRequestTopics()
                        .setName("events").setPartitionIndexes(List.of(0, 1, 2)))))));
            OffsetFetchResponse.OffsetFetchResponseGroup out = r.groups().get(0);
            Map<Integer, Long> offsets = new HashMap<>();
            for (var t : out.topics()) {
                for (var p : t.partitions()) {
                    if (p.errorCode() == Errors.NONE.code()) {
                        offsets.put(p.partitionIndex(), p.committedOffset());
                    }
                }
            }
            return new Fetched(Errors.forCode(out.errorCode()), offsets);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
