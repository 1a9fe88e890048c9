package io.weir.producer;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.consumer.ConsumerGroupMetadata;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.Deserializers;
import io.weir.consumer.OffsetAndMetadata;
import io.weir.consumer.WeirConsumer;
import io.weir.common.TopicPartition;
import io.weir.producer.internals.TransactionManager;
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
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Weir's transactional producer and read_committed consumer against a Weir broker: one broker
 * finalizes {@code transaction.version}=2 (the producer speaks transactions V2), the other 1 (the
 * producer stays on V1: AddPartitionsToTxn, AddOffsetsToTxn, Produce up to v11).
 */
class TransactionsIntegrationTest {
    private static final Map<Integer, EmbeddedBroker> BROKERS = new HashMap<>();
    private static final AtomicInteger NAMES = new AtomicInteger();

    @BeforeAll
    static void start() {
        for (int version : new int[] {1, 2}) {
            BROKERS.put(version, new EmbeddedBroker(Map.of("transaction.version", version == 2 ? "2" : "1",
                "transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3",
                "group.initial.rebalance.delay.ms", "0")).start());
        }
    }

    @AfterAll
    static void stop() {
        BROKERS.values().forEach(EmbeddedBroker::close);
    }

    private static String name(String prefix) {
        return prefix + "-" + NAMES.incrementAndGet();
    }

    private static String topic(EmbeddedBroker b, int partitions) throws Exception {
        String t = name("t");
        KafkaInterop.createTopic(b.bootstrapServers(), t, partitions);
        return t;
    }

    static WeirProducer<String, String> producer(EmbeddedBroker b, String transactionalId) {
        Map<String, Object> p = WeirProducerIntegrationTest.props(b.bootstrapServers());
        if (transactionalId != null) {
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        }
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000L);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5L);
        return new WeirProducer<>(p);
    }

    static WeirConsumer<String, String> consumer(EmbeddedBroker b, boolean readCommitted, String groupId) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", b.bootstrapServers());
        p.put("isolation.level", readCommitted ? "read_committed" : "read_uncommitted");
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", false);
        if (groupId != null) {
            p.put("group.id", groupId);
        }
        p.put("key.deserializer", Deserializers.StringDeserializer.class.getName());
        p.put("value.deserializer", Deserializers.StringDeserializer.class.getName());
        return new WeirConsumer<>(p);
    }

    private static List<TopicPartition> partitions(String topic, int n) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            tps.add(new TopicPartition(topic, i));
        }
        return tps;
    }

    /**
     * Every value a consumer of that isolation level sees, reading to the end it was told at the start; read_committed
     * reads once the markers of every ended transaction are written (no transaction may be open).
     */
    static List<String> readAll(EmbeddedBroker b, String topic, int partitions, boolean readCommitted) {
        try (WeirConsumer<String, String> c = consumer(b, readCommitted, null);
             WeirConsumer<String, String> u = consumer(b, false, null)) {
            List<TopicPartition> tps = partitions(topic, partitions);
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = readCommitted
                ? KafkaInterop.stableEndOffsets(() -> c.endOffsets(tps), () -> u.endOffsets(tps)) : c.endOffsets(tps);
            List<String> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 60_000;
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach the end of " + topic + ": " + end);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    out.add(r.value());
                }
            }
            return out;
        }
    }

    /**
     * The read-process-write copier: ~20,000 records from 4 input partitions to 4 output partitions in
     * transactions of ~500 with ~1/3 random aborts (the consumer rewinds to the transaction's start).
     * Every input record appears exactly once in the read_committed output, and a read_committed
     * consumer reading while the copier runs never sees a record of an aborted transaction.
     */
    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldCopyEveryRecordExactlyOnceDespiteRandomAborts(int version) throws Exception {
        copy(version, 4, 20_000);
    }

    /** The 1-partition copier: the read_committed output holds the input in its order. */
    @Test
    void shouldKeepTheOrderOfASinglePartitionThroughAbortsAndCommits() throws Exception {
        List<String> copied = copy(2, 1, 5_000);
        for (int i = 0; i < copied.size(); i++) {
            assertEquals("v" + i, copied.get(i), "position " + i);
        }
    }

    /** Runs the copier and checks it; returns the read_committed output's input values in output order. */
    private static List<String> copy(int version, int partitions, int records) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        String input = topic(b, partitions);
        String output = topic(b, partitions);
        try (WeirProducer<String, String> p = producer(b, null)) {
            for (int i = 0; i < records; i++) {
                p.send(new ProducerRecord<>(input, i % partitions, "k" + i, "v" + i));
            }
            p.flush();
        }
        Set<Integer> aborted = ConcurrentHashMap.newKeySet();
        AtomicBoolean copying = new AtomicBoolean(true);
        AtomicReference<Throwable> watcherFailure = new AtomicReference<>();
        List<String> seenByWatcher = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread watcher = new Thread(() -> {
            try (WeirConsumer<String, String> c = consumer(b, true, null)) {
                c.assign(partitions(output, partitions));
                while (copying.get()) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(50))) {
                        seenByWatcher.add(r.value());
                    }
                }
            } catch (Throwable t) {
                watcherFailure.set(t);
            }
        }, "read-committed-watcher");
        watcher.start();

        Random random = new Random(version * 31L);
        String group = name("copier");
        int committedRecords = 0;
        int transactions = 0;
        try (WeirConsumer<String, String> in = consumer(b, true, group);
             WeirProducer<String, String> out = producer(b, name("copier-txn"))) {
            out.initTransactions();
            assertEquals(version == 2, out.usesTransactionsV2());
            in.subscribe(List.of(input));
            long deadline = System.currentTimeMillis() + 120_000;
            while (committedRecords < records) {
                assertTrue(System.currentTimeMillis() < deadline, "copied only " + committedRecords);
                int txn = transactions++;
                out.beginTransaction();
                Map<TopicPartition, Long> start = new HashMap<>();
                int inTxn = 0;
                int target = 400 + random.nextInt(200);
                while (inTxn < target && committedRecords + inTxn < records) {
                    for (ConsumerRecord<String, String> r : in.poll(Duration.ofMillis(100))) {
                        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                        start.putIfAbsent(tp, r.offset());
                        out.send(new ProducerRecord<>(output, r.partition(), r.key(), txn + ":" + r.value()));
                        inTxn++;
                    }
                    assertTrue(System.currentTimeMillis() < deadline, "stalled after " + committedRecords);
                }
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (TopicPartition tp : in.assignment()) {
                    offsets.put(tp, new OffsetAndMetadata(in.position(tp)));
                }
                out.sendOffsetsToTransaction(offsets, in.groupMetadata());
                if (random.nextInt(3) == 0) {
                    aborted.add(txn);
                    out.abortTransaction();
                    start.forEach(in::seek);
                } else {
                    out.commitTransaction();
                    committedRecords += inTxn;
                }
            }
            OffsetAndMetadata committed0 = in.committed(Set.of(new TopicPartition(input, 0)))
                .get(new TopicPartition(input, 0));
            assertEquals(records / partitions, committed0.offset(), "the group's offsets moved with the commits");
        } finally {
            copying.set(false);
            watcher.join(30_000);
        }
        assertNull(watcherFailure.get(), () -> "watcher failed: " + watcherFailure.get());
        assertTrue(aborted.size() > 3, "aborted only " + aborted.size() + " of " + transactions);

        List<String> copied = readAll(b, output, partitions, true);
        // the outside check: Apache's read_committed consumer sees exactly the same records
        List<String> byKafka = KafkaInterop.readCommittedValues(b.bootstrapServers(), output, partitions,
            Duration.ofSeconds(60));
        assertEquals(new java.util.TreeSet<>(copied), new java.util.TreeSet<>(byKafka));
        assertEquals(copied.size(), byKafka.size());
        Map<String, Integer> copies = new HashMap<>();
        for (String v : copied) {
            int txn = Integer.parseInt(v.substring(0, v.indexOf(':')));
            assertFalse(aborted.contains(txn), "read_committed output holds a record of aborted transaction " + txn);
            copies.merge(v.substring(v.indexOf(':') + 1), 1, Integer::sum);
        }
        assertEquals(records, copies.size(), "every input record was copied");
        copies.forEach((v, n) -> assertEquals(1, n, v + " copied " + n + " times"));
        for (String v : seenByWatcher) {
            int txn = Integer.parseInt(v.substring(0, v.indexOf(':')));
            assertFalse(aborted.contains(txn), "the concurrent read_committed consumer saw aborted transaction " + txn);
        }
        // read_uncommitted sees the aborted copies too: the aborts really wrote data
        assertTrue(readAll(b, output, partitions, false).size() > records);
        List<String> inputValues = new ArrayList<>();
        for (String v : copied) {
            inputValues.add(v.substring(v.indexOf(':') + 1));
        }
        return inputValues;
    }

    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldFenceTheOlderProducerWithTheSameTransactionalId(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        String t = topic(b, 2);
        String id = name("zombie");
        try (WeirProducer<String, String> zombie = producer(b, id)) {
            zombie.initTransactions();
            zombie.beginTransaction();
            Future<RecordMetadata> sent = zombie.send(new ProducerRecord<>(t, 0, "k", "zombie"));
            zombie.flush();
            sent.get(10, TimeUnit.SECONDS);
            try (WeirProducer<String, String> successor = producer(b, id)) {
                successor.initTransactions(); // aborts the zombie's open transaction and bumps the epoch
                ProducerFencedException e = assertThrows(ProducerFencedException.class, zombie::commitTransaction);
                assertTrue(e.getMessage().contains(id), e.getMessage());
                assertEquals(TransactionManager.State.FATAL_ERROR, zombie.transactionState());
                assertThrows(ProducerFencedException.class, () -> zombie.send(new ProducerRecord<>(t, 0, "k", "late")));
                assertThrows(ProducerFencedException.class, zombie::beginTransaction);

                successor.beginTransaction();
                successor.send(new ProducerRecord<>(t, 1, "k", "successor"));
                successor.commitTransaction();
            }
        }
        assertEquals(List.of("successor"), readAll(b, t, 2, true));
    }

    /** A zombie that keeps sending after it was fenced: its sends fail fenced (fatal), and so does its commit. */
    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldFailTheSendsOfAFencedProducerFatally(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        String t = topic(b, 2);
        String id = name("zombie-sends");
        try (WeirProducer<String, String> zombie = producer(b, id)) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>(t, 0, "k", "before")).get(10, TimeUnit.SECONDS);
            try (WeirProducer<String, String> successor = producer(b, id)) {
                successor.initTransactions();
                Future<RecordMetadata> samePartition = zombie.send(new ProducerRecord<>(t, 0, "k", "same"));
                ExecutionException e = assertThrows(ExecutionException.class,
                    () -> samePartition.get(10, TimeUnit.SECONDS));
                assertInstanceOf(ProducerFencedException.class, e.getCause());
                assertThrows(ProducerFencedException.class, zombie::commitTransaction);
                assertEquals(TransactionManager.State.FATAL_ERROR, zombie.transactionState());
            }
        }
        assertEquals(List.of(), readAll(b, t, 2, true));
    }

    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldMoveCommittedOffsetsOnlyWhenTheTransactionCommits(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        String t = topic(b, 1);
        TopicPartition tp = new TopicPartition(t, 0);
        String group = name("offsets");
        try (WeirProducer<String, String> p = producer(b, null)) {
            for (int i = 0; i < 10; i++) {
                p.send(new ProducerRecord<>(t, 0, "k", "v" + i));
            }
            p.flush();
        }
        try (WeirConsumer<String, String> c = consumer(b, true, group);
             WeirProducer<String, String> p = producer(b, name("offsets-txn"))) {
            c.subscribe(List.of(t));
            long deadline = System.currentTimeMillis() + 30_000;
            while (c.assignment().isEmpty()) {
                assertTrue(System.currentTimeMillis() < deadline, "never joined the group");
                c.poll(Duration.ofMillis(100));
            }
            ConsumerGroupMetadata meta = c.groupMetadata();
            assertEquals(group, meta.groupId());
            assertTrue(meta.generationId() > 0, "in a generation: " + meta);
            assertFalse(meta.memberId().isEmpty());

            p.initTransactions();
            p.beginTransaction();
            p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(5)), meta);
            p.abortTransaction();
            assertNull(c.committed(Set.of(tp)).get(tp), "an aborted transaction commits no offsets");

            p.beginTransaction();
            p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(7, "meta")), meta);
            // a read_committed consumer's committed() waits for a pending transactional commit (requireStable);
            // a read_uncommitted one answers at once with what is committed so far
            try (WeirConsumer<String, String> observer = consumer(b, false, group)) {
                assertNull(observer.committed(Set.of(tp)).get(tp), "offsets of an open transaction are not committed");
            }
            p.commitTransaction();
            OffsetAndMetadata committed = c.committed(Set.of(tp)).get(tp);
            assertEquals(7, committed.offset());
            assertEquals("meta", committed.metadata());

            // a stale generation is refused (KIP-447): abortable, and the producer goes on after the abort
            ConsumerGroupMetadata stale = new ConsumerGroupMetadata(group, meta.generationId() + 5, meta.memberId(),
                meta.groupInstanceId());
            p.beginTransaction();
            p.send(new ProducerRecord<>(t, 0, "k", "in-refused-transaction"));
            assertThrows(TransactionAbortableException.class,
                () -> p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(9)), stale));
            assertEquals(TransactionManager.State.ABORTABLE_ERROR, p.transactionState());
            assertThrows(TransactionAbortableException.class, p::commitTransaction);
            p.abortTransaction();
            assertEquals(7, c.committed(Set.of(tp)).get(tp).offset());

            p.beginTransaction();
            p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(10)), c.groupMetadata());
            p.commitTransaction();
            assertEquals(10, c.committed(Set.of(tp)).get(tp).offset());
        }
        assertFalse(readAll(b, t, 1, true).contains("in-refused-transaction"));
    }

    /** Offsets of two groups in one transaction: both commit (V1 adds each group with AddOffsetsToTxn). */
    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldCommitTheOffsetsOfEveryGroupInTheTransaction(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        String t = topic(b, 1);
        TopicPartition tp = new TopicPartition(t, 0);
        String groupA = name("group-a");
        String groupB = name("group-b");
        try (WeirProducer<String, String> p = producer(b, name("two-groups"))) {
            p.initTransactions();
            p.beginTransaction();
            p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(3)), new ConsumerGroupMetadata(groupA));
            p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(4)), new ConsumerGroupMetadata(groupB));
            p.commitTransaction();
        }
        for (String g : List.of(groupA, groupB)) {
            try (WeirConsumer<String, String> c = consumer(b, true, g)) {
                assertEquals(g.equals(groupA) ? 3 : 4, c.committed(Set.of(tp)).get(tp).offset(), g);
            }
        }
    }

    /**
     * read_committed: endOffsets and seekToEnd stop at the last stable offset while a transaction is
     * open; once it commits, "read to the end" finishes although the end is a control batch.
     */
    @Test
    void shouldBoundReadCommittedEndOffsetsByTheLastStableOffset() throws Exception {
        EmbeddedBroker b = BROKERS.get(2);
        String t = topic(b, 1);
        TopicPartition tp = new TopicPartition(t, 0);
        try (WeirProducer<String, String> plain = producer(b, null);
             WeirProducer<String, String> txn = producer(b, name("lso"))) {
            plain.send(new ProducerRecord<>(t, 0, "k", "before")).get(10, TimeUnit.SECONDS);
            txn.initTransactions();
            txn.beginTransaction();
            txn.send(new ProducerRecord<>(t, 0, "k", "open-1"));
            txn.send(new ProducerRecord<>(t, 0, "k", "open-2"));
            txn.flush();
            plain.send(new ProducerRecord<>(t, 0, "k", "after")).get(10, TimeUnit.SECONDS);
            try (WeirConsumer<String, String> committed = consumer(b, true, null);
                 WeirConsumer<String, String> uncommitted = consumer(b, false, null)) {
                assertEquals(1L, committed.endOffsets(List.of(tp)).get(tp), "the LSO: the open transaction's start");
                assertEquals(4L, uncommitted.endOffsets(List.of(tp)).get(tp), "the high watermark");
                committed.assign(List.of(tp));
                committed.seekToEnd(List.of(tp));
                assertEquals(1L, committed.position(tp));
            }
            txn.commitTransaction();
        }
        try (WeirConsumer<String, String> c = consumer(b, true, null);
             WeirConsumer<String, String> u = consumer(b, false, null)) {
            // the marker is written after the commit returns: the LSO reaches the high watermark, past it
            assertEquals(5L, KafkaInterop.stableEndOffsets(() -> c.endOffsets(List.of(tp)),
                () -> u.endOffsets(List.of(tp))).get(tp), "past the commit marker");
        }
        assertEquals(List.of("before", "open-1", "open-2", "after"), readAll(b, t, 1, true));
    }

    /**
     * A send the broker refuses makes the transaction abortable: commit throws
     * TransactionAbortableException, abort succeeds (V1: with an epoch bump, as the failed batch may be a
     * sequence gap) and the next transaction commits. Nothing of the aborted one becomes visible.
     */
    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldAbortAndGoOnAfterASendFailsInTheTransaction(int version) throws Exception {
        EmbeddedBroker b = BROKERS.get(version);
        String ok = topic(b, 1);
        String small = name("small");
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
            Map.of("bootstrap.servers", b.bootstrapServers()))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(small, 1, (short) 1)
                .configs(Map.of("max.message.bytes", "200")))).all().get();
        }
        try (WeirProducer<String, String> p = producer(b, name("refused"))) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(ok, 0, "k", "in-aborted-transaction"));
            Future<RecordMetadata> tooLarge = p.send(new ProducerRecord<>(small, 0, "k", "x".repeat(1_000)));
            TransactionAbortableException e = assertThrows(TransactionAbortableException.class, p::commitTransaction);
            assertTrue(e.getMessage().contains(small), e.getMessage());
            assertThrows(ExecutionException.class, () -> tooLarge.get(10, TimeUnit.SECONDS));
            assertThrows(TransactionAbortableException.class, () -> p.send(new ProducerRecord<>(ok, 0, "k", "no")));
            p.abortTransaction();
            assertEquals(TransactionManager.State.READY, p.transactionState());

            p.beginTransaction();
            p.send(new ProducerRecord<>(ok, 0, "k", "committed"));
            p.send(new ProducerRecord<>(small, 0, "k", "small"));
            p.commitTransaction();
        }
        assertEquals(List.of("committed"), readAll(b, ok, 1, true));
        assertEquals(List.of("small"), readAll(b, small, 1, true));
    }

    /**
     * Explicit timeouts: a commit that cannot reach the coordinator within max.block.ms throws the
     * retriable TimeoutException and stays COMMITTING_TRANSACTION; called again once the broker is
     * reachable, it resumes and commits.
     */
    @Test
    void shouldTimeOutACommitThatCannotReachTheCoordinatorAndResumeItLater() throws Exception {
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        try (io.weir.broker.testing.FaultProxy proxy = new io.weir.broker.testing.FaultProxy(0, 7);
             EmbeddedBroker b = new EmbeddedBroker(Map.of("advertised.listeners", "PLAINTEXT://127.0.0.1:"
                 + proxy.port(), "transaction.state.log.num.partitions", "1")).start()) {
            proxy.setTarget(b.port());
            String t = topic(b, 1);
            Map<String, Object> props = WeirProducerIntegrationTest.props(proxy.bootstrapServers());
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, name("timeout"));
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000L);
            props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 1_000);
            props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
            try (WeirProducer<String, String> p = new WeirProducer<>(props)) {
                p.initTransactions();
                p.beginTransaction();
                p.send(new ProducerRecord<>(t, 0, "k", "v")).get(10, TimeUnit.SECONDS);
                proxy.setTarget(deadPort);
                proxy.cutAll();
                assertThrows(io.weir.protocol.client.TimeoutException.class, p::commitTransaction);
                assertEquals(TransactionManager.State.COMMITTING_TRANSACTION, p.transactionState());
                assertThrows(IllegalStateException.class, p::beginTransaction);
                proxy.setTarget(b.port());
                p.commitTransaction();
                assertEquals(TransactionManager.State.READY, p.transactionState());
            }
            assertEquals(List.of("v"), readAll(b, t, 1, true));
        }
    }

    @Test
    void shouldFailTransactionalCallsWithClearMessagesInTheWrongState() throws Exception {
        EmbeddedBroker b = BROKERS.get(2);
        String t = topic(b, 1);
        try (WeirProducer<String, String> plain = producer(b, null)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, plain::initTransactions);
            assertTrue(e.getMessage().contains("transactional.id"), e.getMessage());
        }
        try (WeirProducer<String, String> p = producer(b, name("states"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, p::beginTransaction);
            assertTrue(e.getMessage().contains("initTransactions()"), e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> p.send(new ProducerRecord<>(t, 0, "k", "v")));
            assertTrue(e.getMessage().contains("initTransactions()"), e.getMessage());
            // checked before the topic's metadata: an invalid topic name gets the state error, not the topic's
            e = assertThrows(IllegalStateException.class, () -> p.send(new ProducerRecord<>("bad topic!", "v")));
            assertTrue(e.getMessage().contains("initTransactions()"), e.getMessage());
            p.initTransactions();
            assertThrows(IllegalStateException.class, p::initTransactions);
            e = assertThrows(IllegalStateException.class, p::commitTransaction);
            assertTrue(e.getMessage().contains("beginTransaction()"), e.getMessage());
            assertThrows(IllegalStateException.class, p::abortTransaction);
            e = assertThrows(IllegalStateException.class, () -> p.send(new ProducerRecord<>(t, 0, "k", "v")));
            assertTrue(e.getMessage().contains("beginTransaction()"), e.getMessage());
            p.beginTransaction();
            assertThrows(IllegalStateException.class, p::beginTransaction);
            // an empty transaction commits without asking the coordinator
            p.commitTransaction();
            assertEquals(TransactionManager.State.READY, p.transactionState());
        }
    }

    @Test
    void shouldFailTheRecordsOfAnAbortedTransactionThatWereNeverSent() throws Exception {
        EmbeddedBroker b = BROKERS.get(1);
        String t = topic(b, 1);
        try (WeirProducer<String, String> p = producer(b, name("queued"))) {
            p.initTransactions();
            p.beginTransaction();
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                futures.add(p.send(new ProducerRecord<>(t, 0, "k", "aborted-" + i)));
            }
            p.abortTransaction();
            for (Future<RecordMetadata> f : futures) {
                try {
                    f.get(10, TimeUnit.SECONDS); // sent before the abort: written, then hidden by the marker
                } catch (ExecutionException e) {
                    assertInstanceOf(TransactionAbortableException.class, e.getCause());
                }
            }
            p.beginTransaction();
            p.send(new ProducerRecord<>(t, 0, "k", "committed"));
            p.commitTransaction();
        }
        assertEquals(List.of("committed"), readAll(b, t, 1, true));
    }
}
