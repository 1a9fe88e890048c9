package io.weir.exactlyonce;

import io.weir.broker.testing.EmbeddedBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
 * protocol): a {@link HoldingProxy} between Apache kafka-clients' transactional producer and a Weir broker
 * holds one request of transaction N (its EndTxn, or a Produce); the producer times out, retries on a new
 * connection, finishes N and begins N+1; then the held bytes reach the broker, late. Whatever N+1 then does
 * (commit or abort, in turn), the read_committed history must show every committed transaction whole and
 * once, and nothing of an aborted one: nothing acknowledged lost, nothing aborted visible, nothing landed in
 * the wrong transaction.
 *
 * <p>transaction.version=2: the client speaks V2 and the epoch bumped at N's end fences the late request.
 * transaction.version=0: the client stays on V1; a late Produce carries the epoch of N+1 too, so partition
 * verification and the idempotent sequence are what keep it out. A late V1 EndTxn is the protocol hole
 * KIP-890 closed and is not tested on V1: it carries the same producer id and epoch as N+1's EndTxn, so the
 * coordinator commits N+1 early (this test, run with it, fails on V1 with INVALID_TXN_STATE when N+1 then aborts).
 *
 * <p>{@code weir.faults.rounds} rounds per case (3 in the default build, more with {@code -Pfaults}).
 */
class HeldRequestTransactionsTest {
    private static final int PRODUCE = 0;
    private static final int END_TXN = 26;
    private static final int PARTITIONS = 2;
    private static final int RECORDS_PER_TRANSACTION = 20;
    private static final int ROUNDS = Integer.getInteger("weir.faults.rounds", 3);

    enum Outcome { COMMITTED, ABORTED }

    @ParameterizedTest(name = "transaction.version={0}, hold {1}")
    @CsvSource({"2, END_TXN", "2, PRODUCE", "0, PRODUCE"})
    void shouldKeepTheHistoryExactWhenARequestArrivesAfterTheNextTransactionBegan(int transactionVersion,
                                                                                  String held) throws Exception {
        int apiKey = held.equals("END_TXN") ? END_TXN : PRODUCE;
        String topic = "held-" + transactionVersion + "-" + held.toLowerCase();
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
            try (KafkaProducer<String, String> p = producer(proxy, "held-" + transactionVersion + "-" + held)) {
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
        }
    }

    private static void send(KafkaProducer<String, String> p, String topic, int txn) {
        for (int i = 0; i < RECORDS_PER_TRANSACTION; i++) {
            p.send(new ProducerRecord<>(topic, i % PARTITIONS, null, txn + "-" + i));
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

    private static KafkaProducer<String, String> producer(HoldingProxy proxy, String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, proxy.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        // a held request times out soon and is retried on a new connection
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 1_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
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
            long deadline = System.currentTimeMillis() + 30_000;
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
