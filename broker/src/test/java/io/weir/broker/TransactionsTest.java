package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.TransactionWaits;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Apache kafka-clients' transactional producer and read_committed consumer against a Weir broker: one
 * broker finalizes {@code transaction.version}=2 (the clients speak transactions V2), the other 0 (the
 * clients stay on V1: AddPartitionsToTxn, and the broker verifies every transactional batch's partition).
 */
class TransactionsTest {
    private static final Map<Integer, EmbeddedBroker> BROKERS = new HashMap<>();
    private static final Map<Integer, Admin> ADMINS = new HashMap<>();
    /**
     * Offsets as a read_committed consumer asks for them. While a transactional commit of a partition is
     * pending the broker answers UNSTABLE_OFFSET_COMMIT for it, and the admin client (unlike a consumer)
     * does not retry: it leaves the partition out of its answer. Tests therefore wait for the transaction
     * to complete ({@link TransactionWaits#awaitEnded}) before they list its offsets.
     */
    private static final org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions STABLE =
        new org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions().requireStable(true);

    @BeforeAll
    static void start() {
        for (int version : new int[] {1, 2}) {
            EmbeddedBroker b = new EmbeddedBroker(Map.of("transaction.version", version == 2 ? "2" : "0",
                "transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3",
                "group.initial.rebalance.delay.ms", "0")).start();
            BROKERS.put(version, b);
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
            ADMINS.put(version, Admin.create(p));
        }
    }

    @AfterAll
    static void stop() {
        ADMINS.values().forEach(Admin::close);
        BROKERS.values().forEach(EmbeddedBroker::close);
    }

    static void createTopic(Admin admin, String name, int partitions) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
    }

    static KafkaProducer<String, String> producer(EmbeddedBroker b, String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        return new KafkaProducer<>(p);
    }

    static KafkaConsumer<String, String> consumer(EmbeddedBroker b, boolean readCommitted, String groupId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        if (groupId != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        }
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        return new KafkaConsumer<>(p);
    }

    /** Every value of the topic a consumer of that isolation level sees, reading to the (stable) end. */
    static List<String> readAll(EmbeddedBroker b, String topic, int partitions, boolean readCommitted) {
        try (KafkaConsumer<String, String> c = consumer(b, readCommitted, null)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            if (readCommitted) {
                // every transaction the test ended is decided, but its markers are written after EndTxn is
                // answered: wait until the LSO reaches the high watermark
                try (KafkaConsumer<String, String> u = consumer(b, false, null)) {
                    long deadline = System.currentTimeMillis() + 30_000;
                    while (!end.equals(u.endOffsets(tps))) {
                        assertTrue(System.currentTimeMillis() < deadline, "the LSO of " + topic + " stays at " + end);
                        end = c.endOffsets(tps); // a round trip each: waits without spinning
                    }
                }
            }
            Map<TopicPartition, Long> last = end;
            List<String> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (tps.stream().anyMatch(tp -> c.position(tp) < last.get(tp))) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach the end of " + topic + ": " + last);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    out.add(r.value());
                }
            }
            return out;
        }
    }

    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldShowCommittedAndHideAbortedRecordsFromReadCommitted(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        String topic = "visibility-v" + version;
        createTopic(ADMINS.get(version), topic, 2);
        try (KafkaProducer<String, String> p = producer(b, "visibility-" + version)) {
            p.initTransactions();
            p.beginTransaction();
            for (int i = 0; i < 10; i++) {
                p.send(new ProducerRecord<>(topic, i % 2, null, "c" + i));
            }
            p.commitTransaction();
            p.beginTransaction();
            for (int i = 0; i < 10; i++) {
                p.send(new ProducerRecord<>(topic, i % 2, null, "a" + i));
            }
            p.flush();
            p.abortTransaction();
            p.beginTransaction();
            for (int i = 10; i < 15; i++) {
                p.send(new ProducerRecord<>(topic, i % 2, null, "c" + i));
            }
            p.commitTransaction();
        }
        List<String> committed = readAll(b, topic, 2, true);
        assertEquals(15, committed.size(), committed.toString());
        assertTrue(committed.stream().allMatch(v -> v.startsWith("c")), committed.toString());
        List<String> uncommitted = readAll(b, topic, 2, false);
        assertEquals(25, uncommitted.size(), uncommitted.toString());
    }

    /** Which transactions protocol the clients spoke shows in the epoch: V2 bumps it at every end. */
    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldBumpTheEpochAtEveryEndOnlyWithTransactionsV2(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        String topic = "epochs-v" + version;
        createTopic(ADMINS.get(version), topic, 1);
        try (KafkaProducer<String, String> p = producer(b, "epochs-" + version)) {
            p.initTransactions();
            for (int i = 0; i < 3; i++) {
                p.beginTransaction();
                p.send(new ProducerRecord<>(topic, "x" + i));
                p.commitTransaction();
            }
        }
        var described = ADMINS.get(version).describeTransactions(List.of("epochs-" + version)).all().get()
            .get("epochs-" + version);
        assertEquals(version == 2 ? 3 : 0, described.producerEpoch());
        assertEquals(3, readAll(b, topic, 1, true).size());
    }

    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldMoveTheGroupsOffsetsOnlyWhenTheTransactionCommits(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        Admin admin = ADMINS.get(version);
        String topic = "offsets-v" + version;
        String group = "offsets-group-v" + version;
        createTopic(admin, topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> p = producer(b, "offsets-" + version)) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "r"));
            p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(5)), new ConsumerGroupMetadata(group));
            p.abortTransaction();
            TransactionWaits.awaitEnded(admin, "offsets-" + version); // else a pending offset is just left out
            assertNull(admin.listConsumerGroupOffsets(group, STABLE).partitionsToOffsetAndMetadata().get().get(tp),
                "an aborted transaction's offsets are never committed");

            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "r"));
            p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(7, "m")), new ConsumerGroupMetadata(group));
            p.commitTransaction();
        }
        TransactionWaits.awaitEnded(admin, "offsets-" + version);
        OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group, STABLE).partitionsToOffsetAndMetadata().get()
            .get(tp);
        assertEquals(7, committed.offset());
        assertEquals("m", committed.metadata());
    }

    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldFenceTheZombieWhenASecondProducerInitsTheSameTransactionalId(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        String topic = "zombie-v" + version;
        createTopic(ADMINS.get(version), topic, 2);
        String id = "zombie-" + version;
        try (KafkaProducer<String, String> zombie = producer(b, id);
             KafkaProducer<String, String> successor = producer(b, id)) {
            zombie.initTransactions();
            zombie.beginTransaction();
            for (int i = 0; i < 5; i++) {
                zombie.send(new ProducerRecord<>(topic, i % 2, null, "zombie" + i)).get();
            }
            successor.initTransactions(); // aborts the zombie's transaction and fences its epoch
            successor.beginTransaction();
            for (int i = 0; i < 3; i++) {
                successor.send(new ProducerRecord<>(topic, i % 2, null, "successor" + i));
            }
            successor.commitTransaction();
            KafkaException e = assertThrows(KafkaException.class, zombie::commitTransaction);
            assertTrue(causedBy(e, ProducerFencedException.class), "fenced, got " + e);
        }
        List<String> visible = readAll(b, topic, 2, true);
        assertEquals(Set.of("successor0", "successor1", "successor2"), new HashSet<>(visible));
        assertEquals(3, visible.size());
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A read-process-write copier: 20,000 records from 4 input partitions to 4 output partitions in
     * transactions of up to 750 records, a third of them aborted (and the input rewound): every input
     * record appears exactly once in the read_committed output, and the group's offsets end at the end.
     */
    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldCopyEveryRecordExactlyOnceThroughCommitsAndAborts(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        Admin admin = ADMINS.get(version);
        String in = "copier-in-v" + version;
        String out = "copier-out-v" + version;
        String group = "copier-v" + version;
        int total = 20_000;
        createTopic(admin, in, 4);
        createTopic(admin, out, 4);
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
        pp.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (KafkaProducer<String, String> seed = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < total; i++) {
                seed.send(new ProducerRecord<>(in, i % 4, null, Integer.toString(i)));
            }
        }
        List<TopicPartition> inputs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            inputs.add(new TopicPartition(in, i));
        }
        Random random = new Random(20261128L);
        int aborts = 0;
        int commits = 0;
        Map<TopicPartition, Long> committed = new HashMap<>();
        inputs.forEach(tp -> committed.put(tp, 0L));
        Properties cp = new Properties();
        cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 750);
        try (KafkaConsumer<String, String> c = consumer(b, true, group);
             KafkaProducer<String, String> p = producer(b, "copier-" + version)) {
            c.assign(inputs);
            c.seekToBeginning(inputs);
            p.initTransactions();
            long deadline = System.currentTimeMillis() + 120_000;
            while (committed.values().stream().mapToLong(Long::longValue).sum() < total) {
                assertTrue(System.currentTimeMillis() < deadline, "copier stalled at " + committed);
                ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(100));
                if (records.isEmpty()) {
                    continue;
                }
                p.beginTransaction();
                for (ConsumerRecord<String, String> r : records) {
                    p.send(new ProducerRecord<>(out, r.partition(), null, r.value()));
                }
                Map<TopicPartition, OffsetAndMetadata> positions = new HashMap<>();
                inputs.forEach(tp -> positions.put(tp, new OffsetAndMetadata(c.position(tp))));
                p.sendOffsetsToTransaction(positions, c.groupMetadata());
                if (random.nextInt(3) == 0) {
                    p.flush(); // the aborted copies reach the log (else the producer may drop them unsent)
                    p.abortTransaction();
                    aborts++;
                    inputs.forEach(tp -> c.seek(tp, committed.get(tp)));
                } else {
                    p.commitTransaction();
                    commits++;
                    positions.forEach((tp, o) -> committed.put(tp, o.offset()));
                }
            }
        }
        assertTrue(aborts > 0 && commits > 0, "aborts " + aborts + ", commits " + commits);
        List<String> copied = readAll(b, out, 4, true);
        Set<String> distinct = new HashSet<>(copied);
        assertEquals(total, distinct.size(), "every input record is in the output");
        assertEquals(total, copied.size(), "and only once");
        assertTrue(readAll(b, out, 4, false).size() > total, "the aborted copies are in the log, hidden");
        TransactionWaits.awaitEnded(admin, "copier-" + version);
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group, STABLE)
            .partitionsToOffsetAndMetadata().get();
        inputs.forEach(tp -> assertEquals(total / 4, offsets.get(tp).offset(), "committed offset of " + tp));
    }

    /**
     * The coordinator stops after its PrepareCommit record is durable but before any marker is written:
     * the LSO stays at the transaction's first record; after a restart the coordinator finishes the
     * commit, the LSO moves past the marker and read_committed consumers see the records.
     */
    @Test
    void shouldCompleteAPreparedCommitAfterTheCoordinatorRestarts() throws Exception {
        try (EmbeddedBroker b = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "2")).start()) {
            Properties ap = new Properties();
            ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
            try (Admin admin = Admin.create(ap)) {
                createTopic(admin, "restart", 1);
            }
            try (KafkaProducer<String, String> p = producer(b, "restart-txn")) {
                p.initTransactions();
                p.beginTransaction();
                for (int i = 0; i < 3; i++) {
                    p.send(new ProducerRecord<>("restart", "r" + i));
                }
                p.flush();
                b.broker().transactionCoordinator().dropMarkersForTesting(true);
                p.commitTransaction(); // answered once PrepareCommit is committed
            }
            TopicPartition tp = new TopicPartition("restart", 0);
            try (KafkaConsumer<String, String> c = consumer(b, true, null)) {
                assertEquals(0L, c.endOffsets(List.of(tp)).get(tp), "the LSO waits for the markers");
            }
            b.restart();
            try (KafkaConsumer<String, String> c = consumer(b, true, null)) {
                c.assign(List.of(tp));
                long deadline = System.currentTimeMillis() + 30_000;
                while (c.endOffsets(List.of(tp)).get(tp) != 4L) {
                    assertTrue(System.currentTimeMillis() < deadline, "the restarted coordinator did not commit");
                    c.poll(Duration.ofMillis(50)); // waits for the markers without spinning
                }
            }
            assertEquals(List.of("r0", "r1", "r2"), readAll(b, "restart", 1, true));
        }
    }

    /** What {@code kafka-transactions list / describe / describe-producers} see of an open transaction. */
    @Test
    void shouldShowAnOpenTransactionToTheAdminTools() throws Exception {
        EmbeddedBroker b = BROKERS.get(2);
        Admin admin = ADMINS.get(2);
        createTopic(admin, "hanging", 1);
        TopicPartition tp = new TopicPartition("hanging", 0);
        try (KafkaProducer<String, String> p = producer(b, "hanging-txn")) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>("hanging", "x")).get();
            p.send(new ProducerRecord<>("hanging", "y")).get();

            var producers = admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers();
            assertEquals(1, producers.size());
            assertEquals(java.util.OptionalLong.of(0), producers.get(0).currentTransactionStartOffset());
            var listed = admin.listTransactions(new org.apache.kafka.clients.admin.ListTransactionsOptions()
                .filterStates(List.of(org.apache.kafka.clients.admin.TransactionState.ONGOING))).all().get();
            assertTrue(listed.stream().anyMatch(t -> t.transactionalId().equals("hanging-txn")), listed.toString());
            var described = admin.describeTransactions(List.of("hanging-txn")).all().get().get("hanging-txn");
            assertEquals(org.apache.kafka.clients.admin.TransactionState.ONGOING, described.state());
            assertEquals(Set.of(tp), described.topicPartitions());

            // kafka-transactions abort: the admin writes the ABORT marker to the partition (WriteTxnMarkers)
            var hanging = producers.get(0);
            admin.abortTransaction(new org.apache.kafka.clients.admin.AbortTransactionSpec(tp, hanging.producerId(),
                (short) hanging.producerEpoch(), hanging.coordinatorEpoch().orElse(0))).all().get();
            var after = admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers();
            assertTrue(after.get(0).currentTransactionStartOffset().isEmpty(), "the abort marker closed it");
            try (KafkaConsumer<String, String> c = consumer(b, true, null)) {
                assertEquals(3L, c.endOffsets(List.of(tp)).get(tp), "the LSO moved past the marker");
            }
            assertEquals(List.of(), readAll(b, "hanging", 1, true));
        }
    }

    /** The group coordinator reloads transactional offsets with their markers: committed stay, aborted stay out. */
    @Test
    void shouldKeepCommittedTransactionalOffsetsAndDropAbortedOnesAcrossARestart() throws Exception {
        try (EmbeddedBroker b = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "1",
            "offsets.topic.num.partitions", "1")).start()) {
            TopicPartition tp = new TopicPartition("reload", 0);
            Properties ap = new Properties();
            ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
            try (Admin admin = Admin.create(ap)) {
                createTopic(admin, "reload", 1);
            }
            try (KafkaProducer<String, String> p = producer(b, "reload-txn")) {
                p.initTransactions();
                p.beginTransaction();
                p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(7)), new ConsumerGroupMetadata("reload-g"));
                p.commitTransaction();
                p.beginTransaction();
                p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(9)), new ConsumerGroupMetadata("reload-g"));
                p.abortTransaction();
            }
            b.restart();
            ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
            try (Admin admin = Admin.create(ap)) {
                TransactionWaits.awaitEnded(admin, "reload-txn"); // the restarted coordinator writes pending markers
                assertEquals(7, admin.listConsumerGroupOffsets("reload-g", STABLE).partitionsToOffsetAndMetadata().get()
                    .get(tp).offset());
            }
        }
    }

    /** Several transactional producers at once on the same partitions: each one's commits visible, aborts not. */
    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldKeepConcurrentProducersTransactionsApart(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        String topic = "concurrent-v" + version;
        createTopic(ADMINS.get(version), topic, 3);
        int producers = 4;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(producers);
        List<java.util.concurrent.Future<Set<String>>> results = new ArrayList<>();
        for (int n = 0; n < producers; n++) {
            int id = n;
            results.add(pool.submit(() -> {
                Set<String> committed = new HashSet<>();
                Random random = new Random(id);
                try (KafkaProducer<String, String> p = producer(b, "concurrent-" + version + "-" + id)) {
                    p.initTransactions();
                    for (int t = 0; t < 25; t++) {
                        p.beginTransaction();
                        List<String> sent = new ArrayList<>();
                        for (int i = 0; i < 40; i++) {
                            String v = id + "/" + t + "/" + i;
                            p.send(new ProducerRecord<>(topic, i % 3, null, v));
                            sent.add(v);
                        }
                        if (random.nextInt(3) == 0) {
                            p.flush();
                            p.abortTransaction();
                        } else {
                            p.commitTransaction();
                            committed.addAll(sent);
                        }
                    }
                }
                return committed;
            }));
        }
        Set<String> expected = new HashSet<>();
        for (var f : results) {
            expected.addAll(f.get());
        }
        pool.shutdown();
        List<String> visible = readAll(b, topic, 3, true);
        assertEquals(expected.size(), visible.size(), "no duplicates, no aborted records");
        assertEquals(expected, new HashSet<>(visible));
    }
}
