package io.weir.exactlyonce;

import io.weir.broker.testing.BrokerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Exactly-once end to end across SIGKILLs: a read-process-write copier (Apache kafka-clients, the consumer's
 * positions committed in each transaction with sendOffsetsToTransaction, a fifth of the transactions aborted)
 * copies an input topic while the broker process is killed at seeded random instants and restarted on its log
 * directory. After any error the copier starts over as a restarted application would: a new producer (whose
 * initTransactions finishes or aborts what was open) and a new consumer that resumes from the group's committed
 * offsets; every other kill also crashes the copier with its transaction (output records and offsets) open.
 * When the group's offsets reach the input's end, the read_committed output must hold every input
 * record exactly once. This exercises the transaction coordinator's and the group coordinator's reload of
 * prepared transactions and pending transactional offsets.
 *
 * <p>{@code weir.faults.rounds} kills per case (2 in the default build, more with {@code -Pfaults}).
 */
class CopierKill9CampaignTest {
    private static final int PARTITIONS = 3;
    private static final int KILLS = Integer.getInteger("weir.faults.rounds", 2);
    private static final int RECORDS = 1_500 * (KILLS + 1);
    private static final String IN = "copier-in";
    private static final String OUT = "copier-out";
    private static final String GROUP = "copier";

    @TempDir
    Path dir;

    @ParameterizedTest(name = "transaction.version={0}")
    @ValueSource(strings = {"2", "0"})
    void shouldCopyEveryRecordExactlyOnceAcrossSigkills(String transactionVersion) throws Exception {
        String[] overrides = {"transaction.state.log.num.partitions=1", "offsets.topic.num.partitions=1",
            "group.initial.rebalance.delay.ms=0", "transaction.version=" + transactionVersion};
        List<TopicPartition> inputs = partitions(IN);
        AtomicInteger commits = new AtomicInteger();
        AtomicInteger restarts = new AtomicInteger();
        AtomicBoolean done = new AtomicBoolean();
        AtomicBoolean crashCopier = new AtomicBoolean();
        AtomicReference<Throwable> copierFailure = new AtomicReference<>();
        Random random = new Random(0xC0DE + Integer.parseInt(transactionVersion));
        try (BrokerProcess broker = new BrokerProcess(dir)) {
            broker.start(overrides);
            Properties ap = new Properties();
            ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            try (Admin admin = Admin.create(ap)) {
                admin.createTopics(List.of(new NewTopic(IN, PARTITIONS, (short) 1), new NewTopic(OUT, PARTITIONS,
                    (short) 1))).all().get();
            }
            Properties sp = new Properties();
            sp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            sp.put(ProducerConfig.LINGER_MS_CONFIG, 5);
            try (KafkaProducer<String, String> seed = new KafkaProducer<>(sp, new StringSerializer(),
                new StringSerializer())) {
                for (int i = 0; i < RECORDS; i++) {
                    seed.send(new ProducerRecord<>(IN, i % PARTITIONS, null, Integer.toString(i)));
                }
            }

            long copierSeed = random.nextLong();
            Thread copier = new Thread(() -> {
                try {
                    copy(broker, inputs, commits, restarts, crashCopier, new Random(copierSeed));
                    done.set(true);
                } catch (Throwable t) {
                    copierFailure.set(t);
                }
            }, "kill9-copier");
            copier.start();
            int kills = 0;
            try {
                for (; kills < KILLS && !done.get(); kills++) {
                    int target = commits.get() + 1 + random.nextInt(4);
                    long deadline = System.currentTimeMillis() + 120_000;
                    while (commits.get() < target && !done.get()) {
                        assertNull(copierFailure.get(), () -> "the copier failed: " + copierFailure.get());
                        assertTrue(System.currentTimeMillis() < deadline, "the copier made no progress; broker output:\n"
                            + broker.output());
                        Thread.sleep(20);
                    }
                    Thread.sleep(random.nextInt(200)); // a random instant inside the next transaction
                    crashCopier.set(kills % 2 == 1); // every other kill takes the copier down too
                    broker.kill();
                    broker.start(overrides);
                }
                copier.join(300_000);
            } finally {
                done.set(true);
                copier.join(30_000);
            }
            assertNull(copierFailure.get(), () -> "the copier failed: " + copierFailure.get());
            assertTrue(kills > 0, "the copier finished before the first kill");
            System.out.println("transaction.version=" + transactionVersion + ": " + kills + " kills, " + commits.get()
                + " commits, " + restarts.get() + " copier restarts, " + RECORDS + " records");

            Map<String, Integer> copies = new HashMap<>();
            for (String v : readCommitted(broker)) {
                copies.merge(v, 1, Integer::sum);
            }
            List<String> problems = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) {
                int n = copies.getOrDefault(Integer.toString(i), 0);
                if (n != 1) {
                    problems.add(i + " copied " + n + " times");
                }
            }
            if (!problems.isEmpty() || copies.size() != RECORDS) {
                fail(problems.size() + " input records not copied exactly once (output holds " + copies.size()
                    + " distinct values), e.g. " + problems.subList(0, Math.min(10, problems.size())));
            }
        }
    }

    /** The copier, restarted from the group's committed offsets after any error, until they reach the end. */
    private static void copy(BrokerProcess broker, List<TopicPartition> inputs, AtomicInteger commits,
                             AtomicInteger restarts, AtomicBoolean crash, Random random) {
        long deadline = System.currentTimeMillis() + 300_000;
        while (true) {
            assertTrue(System.currentTimeMillis() < deadline, "the copier did not finish");
            KafkaConsumer<String, String> c = null;
            KafkaProducer<String, String> p = null;
            try {
                // the producer first: its initTransactions ends the previous incarnation's transaction, whose
                // pending offsets a read_committed consumer's committed() would otherwise wait for
                p = producer(broker);
                p.initTransactions();
                c = consumer(broker, true, GROUP);
                c.assign(inputs);
                Map<TopicPartition, Long> committed = committed(c, inputs);
                if (committed.values().stream().mapToLong(Long::longValue).sum() == RECORDS) {
                    return;
                }
                committed.forEach(c::seek);
                while (committed.values().stream().mapToLong(Long::longValue).sum() < RECORDS) {
                    assertTrue(System.currentTimeMillis() < deadline, "the copier did not finish");
                    ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(100));
                    if (records.isEmpty()) {
                        continue;
                    }
                    p.beginTransaction();
                    for (ConsumerRecord<String, String> r : records) {
                        p.send(new ProducerRecord<>(OUT, r.partition(), null, r.value()));
                    }
                    Map<TopicPartition, OffsetAndMetadata> positions = new HashMap<>();
                    for (TopicPartition tp : inputs) {
                        positions.put(tp, new OffsetAndMetadata(c.position(tp)));
                    }
                    p.sendOffsetsToTransaction(positions, c.groupMetadata());
                    if (crash.getAndSet(false)) {
                        throw new IllegalStateException("the copier crashes with its transaction open");
                    }
                    if (random.nextInt(5) == 0) {
                        p.flush();
                        p.abortTransaction();
                        committed.forEach(c::seek);
                    } else {
                        p.commitTransaction();
                        commits.incrementAndGet();
                        positions.forEach((tp, o) -> committed.put(tp, o.offset()));
                    }
                }
                return;
            } catch (RuntimeException e) {
                restarts.incrementAndGet(); // as a restarted application: new clients, the group's offsets
            } finally {
                if (p != null) {
                    p.close(Duration.ZERO);
                }
                if (c != null) {
                    c.close(Duration.ZERO);
                }
            }
        }
    }

    /** The group's committed offsets (0 where none); a read_committed consumer waits out pending ones. */
    private static Map<TopicPartition, Long> committed(KafkaConsumer<String, String> c, List<TopicPartition> tps) {
        Map<TopicPartition, OffsetAndMetadata> got = c.committed(Set.copyOf(tps), Duration.ofSeconds(30));
        Map<TopicPartition, Long> out = new HashMap<>();
        for (TopicPartition tp : tps) {
            OffsetAndMetadata o = got.get(tp);
            out.put(tp, o == null ? 0L : o.offset());
        }
        return out;
    }

    private static List<TopicPartition> partitions(String topic) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) {
            tps.add(new TopicPartition(topic, i));
        }
        return tps;
    }

    private static KafkaProducer<String, String> producer(BrokerProcess broker) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "copier-txn");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(BrokerProcess broker, boolean readCommitted, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
        p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** Every value read_committed shows of the output, to the high watermark (waiting for LSO = HW). */
    private static List<String> readCommitted(BrokerProcess broker) {
        List<TopicPartition> tps = partitions(OUT);
        try (KafkaConsumer<String, String> c = consumer(broker, true, null);
             KafkaConsumer<String, String> u = consumer(broker, false, null)) {
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + 60_000;
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            while (!end.equals(u.endOffsets(tps))) {
                assertTrue(System.currentTimeMillis() < deadline, "the LSO stays at " + end);
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
            assertEquals(last, u.endOffsets(tps));
            return out;
        }
    }
}
