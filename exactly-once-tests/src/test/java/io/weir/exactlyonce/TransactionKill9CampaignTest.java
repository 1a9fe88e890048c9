package io.weir.exactlyonce;

import io.weir.broker.testing.BrokerProcess;
import io.weir.common.testing.Wait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A broker process killed with SIGKILL at random instants (seeded) while an Apache kafka-clients transactional
 * producer runs transactions against it, committing most and aborting some; after each kill the broker
 * restarts on the same log directory. The producer records what it was told about each transaction: committed,
 * aborted, or unknown (an error, after which it starts a new producer with the same transactional id, whose
 * initTransactions finishes or aborts what was open). Every other kill also takes the client down: the producer is
 * closed with its transaction open and a new one takes over the transactional id. The read_committed history is
 * then checked: every committed transaction whole and once, nothing of an aborted or abandoned one, an unknown
 * one all or nothing.
 *
 * <p>{@code weir.faults.rounds} kills per case (2 in the default build, more with {@code -Pfaults}).
 */
class TransactionKill9CampaignTest {
    private static final String TOPIC = "campaign";
    private static final String ID = "campaign-txn";
    private static final int PARTITIONS = 3;
    private static final int RECORDS_PER_TRANSACTION = 30;
    private static final int KILLS = Integer.getInteger("weir.faults.rounds", 2);

    /** What the producer was told; ABANDONED: its client "crashed" (closed) with the transaction open. */
    enum Outcome { COMMITTED, ABORTED, UNKNOWN, ABANDONED }

    @TempDir
    Path dir;

    @ParameterizedTest(name = "transaction.version={0}")
    @ValueSource(strings = {"2", "0"})
    void shouldKeepTheTransactionalHistoryExactAcrossSigkills(String transactionVersion) throws Exception {
        String[] overrides = {"transaction.state.log.num.partitions=1", "transaction.version=" + transactionVersion};
        Map<Integer, Outcome> outcomes = new ConcurrentHashMap<>();
        AtomicInteger ended = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicBoolean crashClient = new AtomicBoolean();
        AtomicReference<Throwable> producerFailure = new AtomicReference<>();
        Random random = new Random(0xC0FFEE + Integer.parseInt(transactionVersion));
        try (BrokerProcess broker = new BrokerProcess(dir)) {
            broker.start(overrides);
            try (Admin admin = admin(broker)) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
            }
            Thread producer = new Thread(() -> {
                try {
                    produce(broker, outcomes, ended, running, crashClient, new Random(random.nextLong()));
                } catch (Throwable t) {
                    producerFailure.set(t);
                }
            }, "campaign-producer");
            producer.start();
            try {
                for (int kill = 0; kill < KILLS; kill++) {
                    awaitProgress(ended, 1 + random.nextInt(4), producerFailure, broker);
                    Thread.sleep(random.nextInt(300)); // a random instant inside the next transaction
                    crashClient.set(kill % 2 == 1); // every other kill takes the client's process down too
                    broker.kill();
                    broker.start(overrides);
                }
                awaitProgress(ended, 2, producerFailure, broker); // the producer works again after the last kill
            } finally {
                running.set(false);
                producer.join(120_000);
            }
            assertNull(producerFailure.get(), () -> "the producer failed: " + producerFailure.get());
            assertTrue(outcomes.containsValue(Outcome.COMMITTED), outcomes.toString());
            Map<Outcome, Long> counts = new java.util.EnumMap<>(Outcome.class);
            outcomes.values().forEach(o -> counts.merge(o, 1L, Long::sum));
            System.out.println("transaction.version=" + transactionVersion + ", " + KILLS + " kills: " + counts);
            check(broker, outcomes);
            try (Admin admin = admin(broker)) {
                // check() saw the markers; the coordinator writes CompleteCommit/CompleteAbort after them
                EnumSet<TransactionState> over = EnumSet.of(TransactionState.EMPTY, TransactionState.COMPLETE_COMMIT,
                    TransactionState.COMPLETE_ABORT);
                AtomicReference<TransactionState> state = new AtomicReference<>();
                Wait.until(() -> {
                    try {
                        state.set(admin.describeTransactions(List.of(ID)).description(ID).get().state());
                    } catch (Exception e) {
                        throw new AssertionError("describing " + ID, e);
                    }
                    return over.contains(state.get());
                }, Duration.ofSeconds(60), () -> "left " + state.get() + "\n" + broker.output());
            }
        }
    }

    /** Waits until the producer ended {@code transactions} more transactions (bounded). */
    private static void awaitProgress(AtomicInteger ended, int transactions, AtomicReference<Throwable> failure,
                                      BrokerProcess broker) throws InterruptedException {
        int target = ended.get() + transactions;
        long deadline = System.currentTimeMillis() + 120_000;
        while (ended.get() < target) {
            assertNull(failure.get(), () -> "the producer failed: " + failure.get());
            assertTrue(System.currentTimeMillis() < deadline, "the producer made no progress after a restart; "
                + "broker output:\n" + broker.output());
            Thread.sleep(20);
        }
    }

    /** Runs transactions until told to stop; each one's outcome as the producer was told it. */
    private static void produce(BrokerProcess broker, Map<Integer, Outcome> outcomes, AtomicInteger ended,
                                AtomicBoolean running, AtomicBoolean crashClient, Random random) {
        KafkaProducer<String, String> p = newProducer(broker);
        try {
            for (int txn = 0; running.get(); txn++) {
                outcomes.put(txn, Outcome.UNKNOWN);
                boolean abort = random.nextInt(4) == 0;
                try {
                    p.beginTransaction();
                    for (int i = 0; i < RECORDS_PER_TRANSACTION; i++) {
                        p.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, txn + "-" + i));
                    }
                    if (crashClient.getAndSet(false)) {
                        // the client dies with its transaction open; the next one's initTransactions must abort it
                        outcomes.put(txn, Outcome.ABANDONED);
                        p.close(Duration.ZERO);
                        p = newProducer(broker);
                    } else if (abort) {
                        p.flush(); // the aborted records reach the log
                        p.abortTransaction();
                        outcomes.put(txn, Outcome.ABORTED);
                    } else {
                        p.commitTransaction();
                        outcomes.put(txn, Outcome.COMMITTED);
                    }
                } catch (RuntimeException e) {
                    // a kill or a restart in the middle: try an abort, else a new producer finishes what was open
                    try {
                        p.abortTransaction();
                        outcomes.put(txn, Outcome.ABORTED);
                    } catch (RuntimeException notAbortable) {
                        p.close(Duration.ZERO);
                        p = newProducer(broker);
                    }
                }
                ended.incrementAndGet();
            }
        } finally {
            p.close(Duration.ofSeconds(5));
        }
    }

    /** A producer whose initTransactions succeeded (retried while the broker restarts). */
    private static KafkaProducer<String, String> newProducer(BrokerProcess broker) {
        long deadline = System.currentTimeMillis() + 120_000;
        while (true) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, ID);
            p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
            p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000);
            p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
            KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer());
            try {
                producer.initTransactions();
                return producer;
            } catch (RuntimeException e) {
                producer.close(Duration.ZERO);
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
            }
        }
    }

    private static void check(BrokerProcess broker, Map<Integer, Outcome> outcomes) {
        Map<Integer, Map<Integer, Integer>> seen = new HashMap<>();
        for (String v : readCommitted(broker)) {
            int dash = v.indexOf('-');
            seen.computeIfAbsent(Integer.parseInt(v.substring(0, dash)), t -> new HashMap<>())
                .merge(Integer.parseInt(v.substring(dash + 1)), 1, Integer::sum);
        }
        List<String> problems = new ArrayList<>();
        seen.forEach((txn, records) -> {
            Outcome o = outcomes.get(txn);
            records.forEach((i, n) -> {
                if (n > 1) {
                    problems.add(txn + "-" + i + " is there " + n + " times");
                }
            });
            if (o == null || o == Outcome.ABORTED || o == Outcome.ABANDONED) {
                problems.add("transaction " + txn + " (" + o + ") shows " + records.size() + " records");
            } else if (records.size() != RECORDS_PER_TRANSACTION) {
                problems.add("transaction " + txn + " (" + o + ") shows " + records.size() + " of "
                    + RECORDS_PER_TRANSACTION + " records");
            }
        });
        outcomes.forEach((txn, o) -> {
            if (o == Outcome.COMMITTED && !seen.containsKey(txn)) {
                problems.add("committed transaction " + txn + " is lost");
            }
        });
        if (!problems.isEmpty()) {
            fail(problems.size() + " anomalies in " + outcomes.size() + " transactions, e.g. "
                + problems.subList(0, Math.min(10, problems.size())));
        }
    }

    /** Every value read_committed shows, from the beginning to the high watermark (waiting for LSO = HW). */
    private static List<String> readCommitted(BrokerProcess broker) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) {
            tps.add(new TopicPartition(TOPIC, i));
        }
        try (KafkaConsumer<String, String> c = consumer(broker, true);
             KafkaConsumer<String, String> u = consumer(broker, false)) {
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + 60_000;
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            while (!end.equals(u.endOffsets(tps))) {
                assertTrue(System.currentTimeMillis() < deadline, "the LSO stays at " + end + ", the high watermark "
                    + u.endOffsets(tps));
                end = c.endOffsets(tps);
            }
            Map<TopicPartition, Long> last = end;
            List<String> out = new ArrayList<>();
            while (tps.stream().anyMatch(tp -> c.position(tp) < last.get(tp))) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach the end: " + last);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    out.add(r.value());
                }
            }
            assertEquals(last, u.endOffsets(tps), "the log grew after the producer stopped");
            return out;
        }
    }

    private static Admin admin(BrokerProcess broker) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return Admin.create(p);
    }

    private static KafkaConsumer<String, String> consumer(BrokerProcess broker, boolean readCommitted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }
}
