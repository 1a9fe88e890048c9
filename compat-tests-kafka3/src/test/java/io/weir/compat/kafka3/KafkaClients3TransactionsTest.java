package io.weir.compat.kafka3;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ProducerState;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Apache kafka-clients 3.9's transactional producer and read_committed consumer against a Weir broker that
 * advertises {@code transaction.version}=2: the 3.9 client knows only transactions V1 (AddPartitionsToTxn,
 * AddOffsetsToTxn, one producer epoch for the producer's life), so every transactional batch it sends goes
 * through the broker's partition verification.
 */
class KafkaClients3TransactionsTest {
    /** Kafka's transactions system test copies 100,000; 20,000 keeps the default build short (about 10 s). */
    private static final int RECORDS = Integer.getInteger("weir.copier.records", 20_000);
    private static final int PARTITIONS = 4;
    private static final int TRANSACTION_RECORDS = 750;
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS, "0",
            "transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3"));

    private static Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        return Admin.create(p);
    }

    private static KafkaConsumer<String, String> consumer(boolean readCommitted, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, TRANSACTION_RECORDS);
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static List<TopicPartition> partitions(String topic) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) {
            tps.add(new TopicPartition(topic, i));
        }
        return tps;
    }

    /** Every value a consumer of that isolation level reads from the beginning to the topic's end. */
    private static List<String> readAll(String topic, boolean readCommitted) {
        List<TopicPartition> tps = partitions(topic);
        try (KafkaConsumer<String, String> c = consumer(readCommitted, null)) {
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            if (readCommitted) {
                // the markers of the last commit are written after EndTxn is answered: wait for LSO = high watermark
                try (KafkaConsumer<String, String> u = consumer(false, null)) {
                    long deadline = System.currentTimeMillis() + 30_000;
                    while (!end.equals(u.endOffsets(tps))) {
                        assertTrue(System.currentTimeMillis() < deadline, "the LSO of " + topic + " stays at " + end);
                        end = c.endOffsets(tps);
                    }
                }
            }
            Map<TopicPartition, Long> last = end;
            List<String> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 60_000;
            while (tps.stream().anyMatch(tp -> c.position(tp) < last.get(tp))) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach the end of " + topic + ": " + last);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    out.add(r.value());
                }
            }
            return out;
        }
    }

    /**
     * The read-process-write copier of Kafka's transactions system test: records from a 4-partition input
     * to a 4-partition output in transactions of up to 750 records, about a third aborted at random (seeded;
     * the input is rewound to the transaction's start). Each output value names its transaction. Every input
     * record appears exactly once in the read_committed output, nothing of an aborted transaction is in it,
     * a read_committed consumer reading while the copier runs never sees an aborted record, the group's
     * offsets end at the input's end, and the producer kept one epoch throughout (V1, verified partitions).
     */
    @Test
    void theCopierShouldCopyEveryRecordExactlyOnceThroughRandomAborts() throws Exception {
        String in = "k3-copier-in";
        String out = "k3-copier-out";
        String group = "k3-copier";
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(in, PARTITIONS, (short) 1),
                new NewTopic(out, PARTITIONS, (short) 1))).all().get();
        }
        Properties seedProps = new Properties();
        seedProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        seedProps.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (KafkaProducer<String, String> seed = new KafkaProducer<>(seedProps, new StringSerializer(),
            new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                seed.send(new ProducerRecord<>(in, i % PARTITIONS, null, Integer.toString(i)));
            }
        }

        Set<Integer> aborted = ConcurrentHashMap.newKeySet();
        AtomicBoolean copying = new AtomicBoolean(true);
        AtomicReference<Throwable> watcherFailure = new AtomicReference<>();
        List<String> seenByWatcher = Collections.synchronizedList(new ArrayList<>());
        Thread watcher = new Thread(() -> {
            try (KafkaConsumer<String, String> c = consumer(true, null)) {
                c.assign(partitions(out));
                c.seekToBeginning(partitions(out));
                while (copying.get()) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(50))) {
                        seenByWatcher.add(r.value());
                    }
                }
            } catch (Throwable t) {
                watcherFailure.set(t);
            }
        }, "k3-read-committed-watcher");
        watcher.start();

        List<TopicPartition> inputs = partitions(in);
        Random random = new Random(20261128L);
        int transactions = 0;
        long copied = 0;
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "k3-copier-txn");
        pp.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (KafkaConsumer<String, String> c = consumer(true, group);
             KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            c.assign(inputs);
            p.initTransactions();
            long deadline = System.currentTimeMillis() + 120_000;
            while (copied < RECORDS) {
                int txn = transactions++;
                Map<TopicPartition, Long> start = new HashMap<>();
                inputs.forEach(tp -> start.put(tp, c.position(tp)));
                p.beginTransaction();
                int inTxn = 0;
                while (inTxn < TRANSACTION_RECORDS && copied + inTxn < RECORDS) {
                    assertTrue(System.currentTimeMillis() < deadline, "the copier stalled at " + copied);
                    ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(100));
                    for (ConsumerRecord<String, String> r : records) {
                        p.send(new ProducerRecord<>(out, r.partition(), null, txn + ":" + r.value()));
                        inTxn++;
                    }
                }
                Map<TopicPartition, OffsetAndMetadata> positions = new HashMap<>();
                inputs.forEach(tp -> positions.put(tp, new OffsetAndMetadata(c.position(tp))));
                p.sendOffsetsToTransaction(positions, c.groupMetadata());
                if (random.nextInt(3) == 0) {
                    p.flush(); // the aborted copies reach the log (unsent ones would just be dropped)
                    aborted.add(txn);
                    p.abortTransaction();
                    start.forEach(c::seek);
                } else {
                    p.commitTransaction();
                    copied += inTxn;
                }
            }
        } finally {
            copying.set(false);
            watcher.join(30_000);
        }
        assertNull(watcherFailure.get(), () -> "the watcher failed: " + watcherFailure.get());
        assertTrue(aborted.size() >= 3 && aborted.size() < transactions, "aborted " + aborted + " of " + transactions);

        List<String> output = readAll(out, true);
        Map<String, Integer> copies = new HashMap<>();
        for (String v : output) {
            int txn = Integer.parseInt(v.substring(0, v.indexOf(':')));
            assertFalse(aborted.contains(txn), "the read_committed output holds a record of aborted transaction " + txn);
            copies.merge(v.substring(v.indexOf(':') + 1), 1, Integer::sum);
        }
        assertEquals(RECORDS, copies.size(), "every input record is in the output");
        copies.forEach((v, n) -> assertEquals(1, n, "input record " + v + " copied " + n + " times"));
        assertEquals(RECORDS, output.size());
        for (String v : seenByWatcher) {
            int txn = Integer.parseInt(v.substring(0, v.indexOf(':')));
            assertFalse(aborted.contains(txn), "the concurrent read_committed consumer saw aborted transaction " + txn);
        }
        assertEquals(new HashSet<>(seenByWatcher).size(), seenByWatcher.size(), "the watcher saw a record twice");
        assertTrue(readAll(out, false).size() > RECORDS, "the aborted copies are in the log, hidden");

        try (Admin admin = admin()) {
            // until the last commit's markers are written the fetch answers UNSTABLE_OFFSET_COMMIT for a partition,
            // which the admin client does not retry (it leaves the partition out): list again until all are there
            Map<TopicPartition, OffsetAndMetadata> offsets = Map.of();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (!offsets.keySet().containsAll(inputs) && System.nanoTime() < deadline) {
                offsets = admin.listConsumerGroupOffsets(group, new ListConsumerGroupOffsetsOptions().requireStable(true))
                    .partitionsToOffsetAndMetadata().get();
                if (!offsets.keySet().containsAll(inputs)) {
                    Thread.sleep(50);
                }
            }
            assertTrue(offsets.keySet().containsAll(inputs), "stable committed offsets of every input: " + offsets);
            Map<TopicPartition, OffsetAndMetadata> committed = offsets;
            inputs.forEach(tp -> assertEquals(RECORDS / PARTITIONS, committed.get(tp).offset(), "committed offset of " + tp));
            // V1: the 3.9 producer's epoch never moved (V2 bumps it at every transaction end)
            List<ProducerState> producers = admin.describeProducers(List.of(new TopicPartition(out, 0)))
                .partitionResult(new TopicPartition(out, 0)).get().activeProducers();
            assertEquals(1, producers.size(), producers.toString());
            assertEquals(0, producers.get(0).producerEpoch(), "the 3.9 client stays on transactions V1");
        }
    }
}
