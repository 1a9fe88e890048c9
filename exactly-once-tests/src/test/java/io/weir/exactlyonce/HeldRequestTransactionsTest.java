package io.weir.exactlyonce;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.HoldingProxy;
import io.weir.broker.testing.TransactionWaits;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Jepsen scenario (the 2024 analysis that found lost writes and aborted reads in Kafka's transaction
 * protocol): a {@link HoldingProxy} between a transactional producer (Apache kafka-clients 4.4, or Weir's) and a
 * Weir broker
 * holds one request of transaction N (its EndTxn, or a Produce); the producer times out, retries on a new
 * connection, finishes N and begins N+1; then the held bytes reach the broker, late. Whatever N+1 then does
 * (commit or abort, in turn), the read_committed history must show every committed transaction whole and
 * once, and nothing of an aborted one: nothing acknowledged lost, nothing aborted visible, nothing landed in
 * the wrong transaction.
 *
 * <p>transaction.version=2: the client speaks V2 and the epoch bumped at N's end fences the late request.
 * transaction.version=0 (kafka-clients) or 1 (Weir's producer, whose V2 threshold is 2): the client stays on V1; a late Produce carries the epoch of N+1 too, so partition
 * verification and the idempotent sequence are what keep it out. A late V1 EndTxn is the protocol hole
 * KIP-890 closed and is not tested on V1: it carries the same producer id and epoch as N+1's EndTxn, so the
 * coordinator commits N+1 early (this test, run with it, fails on V1 with INVALID_TXN_STATE when N+1 then aborts).
 *
 * <p>{@code weir.faults.rounds} rounds per case (2 in the default build, more with {@code -Pfaults}).
 */
class HeldRequestTransactionsTest {
    private static final int PRODUCE = 0;
    private static final int END_TXN = 26;
    private static final int TXN_OFFSET_COMMIT = 28;
    private static final int PARTITIONS = 2;
    private static final int RECORDS_PER_TRANSACTION = 20;
    private static final int ROUNDS = Integer.getInteger("weir.faults.rounds", 2);

    enum Outcome { COMMITTED, ABORTED }

    /** The transactional calls of one producer: Apache kafka-clients' or Weir's. */
    private interface TxnProducer extends AutoCloseable {
        void initTransactions();

        void beginTransaction();

        void send(String topic, int partition, String value);

        void flush();

        /** sendOffsetsToTransaction of one partition's offset for a group (no member: generation -1). */
        void sendOffsets(String group, String topic, int partition, long offset);

        void commitTransaction();

        void abortTransaction();

        @Override
        void close();
    }

    @ParameterizedTest(name = "{0} client, transaction.version={1}, hold {2}")
    @CsvSource({"kafka, 2, END_TXN", "kafka, 2, PRODUCE", "kafka, 0, PRODUCE", "weir, 2, END_TXN", "weir, 2, PRODUCE",
        "weir, 1, PRODUCE"})
    void shouldKeepTheHistoryExactWhenARequestArrivesAfterTheNextTransactionBegan(String client, int transactionVersion,
                                                                                  String held) throws Exception {
        int apiKey = held.equals("END_TXN") ? END_TXN : PRODUCE;
        String topic = "held-" + client + "-" + transactionVersion + "-" + held.toLowerCase();
        Map<Integer, Outcome> outcomes = new HashMap<>();
        try (HoldingProxy proxy = new HoldingProxy();
             EmbeddedBroker broker = new EmbeddedBroker(Map.of("advertised.listeners", "PLAINTEXT://127.0.0.1:"
                 + proxy.port(), "transaction.version", Integer.toString(transactionVersion),
                 "transaction.state.log.num.partitions", "1")).start()) {
            proxy.setTarget(broker.port());
            Properties ap = new Properties();
            ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, proxy.bootstrapServers());
            try (Admin admin = Admin.create(ap)) {
                admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
            }
            int txn = 0;
            try (TxnProducer p = client.equals("weir") ? weirProducer(proxy, topic) : kafkaProducer(proxy, topic)) {
                p.initTransactions();
                for (int round = 0; round < ROUNDS; round++) {
                    // transaction N: one of its requests is held
                    int n = txn++;
                    p.beginTransaction();
                    HoldingProxy.Hold hold = apiKey == PRODUCE ? proxy.holdNext(PRODUCE) : null;
                    send(p, topic, n);
                    p.flush(); // a held Produce: answered only by its retry on a new connection
                    if (apiKey == END_TXN) {
                        hold = proxy.holdNext(END_TXN);
                    }
                    p.commitTransaction(); // a held EndTxn: answered only by its retry on a new connection
                    outcomes.put(n, Outcome.COMMITTED);
                    assertTrue(hold.awaitHeld(0), "round " + round + ": nothing was held");

                    // transaction N+1 is under way (its partitions added) when the held bytes arrive
                    int next = txn++;
                    p.beginTransaction();
                    send(p, topic, next);
                    p.flush();
                    assertTrue(hold.release(), "round " + round + ": the broker did not answer the released request");
                    if (round % 2 == 0) { // commit and abort in turn: each shows a different anomaly
                        p.commitTransaction();
                        outcomes.put(next, Outcome.COMMITTED);
                    } else {
                        p.abortTransaction();
                        outcomes.put(next, Outcome.ABORTED);
                    }
                }
            }
            check(broker, topic, outcomes);
            // which protocol the client spoke shows in the epoch: V2 bumps it at every transaction end, V1 never here
            try (Admin admin = Admin.create(ap)) {
                TopicPartition tp = new TopicPartition(topic, 0);
                List<ProducerState> producers = admin.describeProducers(List.of(tp)).partitionResult(tp).get()
                    .activeProducers();
                assertEquals(1, producers.size(), producers.toString());
                if (transactionVersion == 2) {
                    assertTrue(producers.get(0).producerEpoch() >= 2 * ROUNDS, "V2: " + producers);
                } else {
                    assertEquals(0, producers.get(0).producerEpoch(), "V1: " + producers);
                }
            }
        }
    }

    /**
     * The offsets side of the scenario: transaction N's TxnOffsetCommit is held until N committed (through its
     * retry) and N+1 sent its own, later offset; the late request must not land in N+1, or the group's committed
     * offset would move back when N+1 commits (input read twice). Transactions V2 only: on V1 the late request
     * carries N+1's epoch, the hole KIP-890 closed (run on a transaction.version=0 broker, this test fails for both
     * clients: the offset goes from 8 back to 5).
     */
    @ParameterizedTest(name = "{0} client")
    @ValueSource(strings = {"kafka", "weir"})
    void shouldNotMoveTheGroupsOffsetBackWhenATxnOffsetCommitArrivesLate(String client) throws Exception {
        String topic = "held-offsets-" + client;
        String group = "held-offsets-group-" + client;
        TopicPartition tp = new TopicPartition(topic, 0);
        try (HoldingProxy proxy = new HoldingProxy();
             EmbeddedBroker broker = new EmbeddedBroker(Map.of("advertised.listeners", "PLAINTEXT://127.0.0.1:"
                 + proxy.port(), "transaction.state.log.num.partitions", "1", "offsets.topic.num.partitions", "1"))
                 .start()) {
            proxy.setTarget(broker.port());
            Properties ap = new Properties();
            ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, proxy.bootstrapServers());
            try (Admin admin = Admin.create(ap);
                 TxnProducer p = client.equals("weir") ? weirProducer(proxy, topic) : kafkaProducer(proxy, topic)) {
                admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
                p.initTransactions();
                for (int round = 0; round < ROUNDS; round++) {
                    long late = 10L * round + 5;
                    long latest = 10L * round + 8;
                    p.beginTransaction();
                    send(p, topic, 2 * round);
                    HoldingProxy.Hold hold = proxy.holdNext(TXN_OFFSET_COMMIT);
                    p.sendOffsets(group, topic, 0, late); // answered only by its retry on a new connection
                    p.commitTransaction();
                    assertTrue(hold.awaitHeld(0), "round " + round + ": nothing was held");

                    p.beginTransaction();
                    send(p, topic, 2 * round + 1);
                    p.sendOffsets(group, topic, 0, latest);
                    assertTrue(hold.release(), "round " + round + ": the broker did not answer the released request");
                    p.commitTransaction();
                    TransactionWaits.awaitEnded(admin, topic); // the admin leaves out a pending (unstable) offset
                    Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(group, new ListConsumerGroupOffsetsOptions().requireStable(true))
                            .partitionsToOffsetAndMetadata().get();
                    assertEquals(latest, committed.get(tp).offset(), "round " + round + ": the group's offset");
                }
            }
        }
    }

    private static void send(TxnProducer p, String topic, int txn) {
        for (int i = 0; i < RECORDS_PER_TRANSACTION; i++) {
            p.send(topic, i % PARTITIONS, txn + "-" + i);
        }
    }

    /** The history as read_committed shows it against what the producer was told. */
    private static void check(EmbeddedBroker broker, String topic, Map<Integer, Outcome> outcomes) {
        Map<String, Integer> seen = new HashMap<>();
        for (String v : readCommitted(broker, topic)) {
            seen.merge(v, 1, Integer::sum);
        }
        List<String> problems = new ArrayList<>();
        seen.forEach((v, count) -> {
            if (count > 1) {
                problems.add(v + " is there " + count + " times");
            }
            Outcome o = outcomes.get(Integer.parseInt(v.substring(0, v.indexOf('-'))));
            if (o != Outcome.COMMITTED) {
                problems.add(v + " is visible but its transaction was " + o);
            }
        });
        outcomes.forEach((txn, o) -> {
            if (o == Outcome.COMMITTED) {
                for (int i = 0; i < RECORDS_PER_TRANSACTION; i++) {
                    if (!seen.containsKey(txn + "-" + i)) {
                        problems.add(txn + "-" + i + " of committed transaction " + txn + " is lost");
                    }
                }
            }
        });
        if (!problems.isEmpty()) {
            fail(problems.size() + " anomalies, e.g. " + problems.subList(0, Math.min(10, problems.size())));
        }
        assertEquals(outcomes.values().stream().filter(o -> o == Outcome.COMMITTED).count() * RECORDS_PER_TRANSACTION,
            seen.size());
    }

    /** The producer settings both clients share: a held request times out soon and is retried on a new connection. */
    private static Map<String, Object> producerConfig(HoldingProxy proxy, String transactionalId) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", proxy.bootstrapServers());
        p.put("transactional.id", transactionalId);
        p.put("linger.ms", 5);
        p.put("request.timeout.ms", 1_000);
        p.put("delivery.timeout.ms", 30_000);
        p.put("max.block.ms", 30_000);
        p.put("transaction.timeout.ms", 60_000);
        return p;
    }

    private static TxnProducer kafkaProducer(HoldingProxy proxy, String transactionalId) {
        KafkaProducer<String, String> p = new KafkaProducer<>(producerConfig(proxy, transactionalId),
            new StringSerializer(), new StringSerializer());
        return new TxnProducer() {
            public void initTransactions() {
                p.initTransactions();
            }

            public void beginTransaction() {
                p.beginTransaction();
            }

            public void send(String topic, int partition, String value) {
                p.send(new ProducerRecord<>(topic, partition, null, value));
            }

            public void flush() {
                p.flush();
            }

            public void sendOffsets(String group, String topic, int partition, long offset) {
                p.sendOffsetsToTransaction(Map.of(new TopicPartition(topic, partition),
                    new org.apache.kafka.clients.consumer.OffsetAndMetadata(offset)),
                    new org.apache.kafka.clients.consumer.ConsumerGroupMetadata(group));
            }

            public void commitTransaction() {
                p.commitTransaction();
            }

            public void abortTransaction() {
                p.abortTransaction();
            }

            public void close() {
                p.close();
            }
        };
    }

    private static TxnProducer weirProducer(HoldingProxy proxy, String transactionalId) {
        Map<String, Object> config = producerConfig(proxy, transactionalId);
        config.put("key.serializer", Serializers.StringSerializer.class.getName());
        config.put("value.serializer", Serializers.StringSerializer.class.getName());
        WeirProducer<String, String> p = new WeirProducer<>(config);
        return new TxnProducer() {
            public void initTransactions() {
                p.initTransactions();
            }

            public void beginTransaction() {
                p.beginTransaction();
            }

            public void send(String topic, int partition, String value) {
                p.send(new io.weir.producer.ProducerRecord<>(topic, partition, null, value));
            }

            public void flush() {
                p.flush();
            }

            public void sendOffsets(String group, String topic, int partition, long offset) {
                p.sendOffsetsToTransaction(Map.of(new io.weir.common.TopicPartition(topic, partition),
                    new io.weir.consumer.OffsetAndMetadata(offset)), new io.weir.consumer.ConsumerGroupMetadata(group));
            }

            public void commitTransaction() {
                p.commitTransaction();
            }

            public void abortTransaction() {
                p.abortTransaction();
            }

            public void close() {
                p.close();
            }
        };
    }

    /** Every value read_committed shows, from the beginning to the high watermark (waiting for LSO = HW). */
    private static List<String> readCommitted(EmbeddedBroker broker, String topic) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) {
            tps.add(new TopicPartition(topic, i));
        }
        try (KafkaConsumer<String, String> c = consumer(broker, true); KafkaConsumer<String, String> u = consumer(broker, false)) {
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + 120_000;
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            while (!end.equals(u.endOffsets(tps))) {
                assertTrue(System.currentTimeMillis() < deadline, "the LSO of " + topic + " stays at " + end);
                end = c.endOffsets(tps);
            }
            Map<TopicPartition, Long> last = end;
            List<String> out = new ArrayList<>();
            while (tps.stream().anyMatch(tp -> c.position(tp) < last.get(tp))) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach the end of " + topic + ": " + last);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    out.add(r.value());
                }
            }
            return out;
        }
    }

    private static KafkaConsumer<String, String> consumer(EmbeddedBroker broker, boolean readCommitted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }
}
