package io.weir.exactlyonce;

import io.weir.broker.testing.BrokerProcess;
import io.weir.broker.transaction.TransactionCoordinatorService;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionDescription;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The coordinator's broker process is killed with SIGKILL between PrepareCommit and the markers. The
 * broker runs in its own JVM with the test-only fault seam
 * {@link TransactionCoordinatorService#FAULT_MARKERS_DELAY_PROPERTY} (markers an hour late), so the window
 * is held open and observed: the commit was answered, the transaction is PrepareCommit, no marker is in
 * the log and the LSO stays at the transaction's first offset. Then SIGKILL, and a restart on the same log
 * directory without the seam: the restarted coordinator finishes the commit (CompleteCommit), the markers
 * land, the LSO reaches the high watermark and a read_committed consumer sees every record of it.
 */
class PrepareCommitKill9Test {
    private static final String TOPIC = "prepared";
    private static final int PARTITIONS = 2;
    private static final int RECORDS = 200;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "transaction.version={0}")
    @ValueSource(strings = {"2", "0"})
    void shouldCompleteAPrepareCommitAfterSigkillBeforeTheMarkers(String transactionVersion) throws Exception {
        String[] overrides = {"transaction.state.log.num.partitions=1", "transaction.version=" + transactionVersion};
        String id = "prepared-" + transactionVersion;
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            tps.add(new TopicPartition(TOPIC, p));
        }
        Set<String> sent = new HashSet<>();
        try (BrokerProcess broker = new BrokerProcess(dir)) {
            broker.startWithJvmArgs(List.of("-D" + TransactionCoordinatorService.FAULT_MARKERS_DELAY_PROPERTY
                + "=3600000"), overrides);
            try (Admin admin = admin(broker)) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
                try (KafkaProducer<String, String> p = producer(broker, id)) {
                    p.initTransactions();
                    p.beginTransaction();
                    for (int i = 0; i < RECORDS; i++) {
                        p.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, "r" + i));
                        sent.add("r" + i);
                    }
                    p.commitTransaction(); // answered once PrepareCommit is durable in __transaction_state
                }
                assertEquals(TransactionState.PREPARE_COMMIT, describe(admin, id).state());
                try (KafkaConsumer<String, String> committed = consumer(broker, true);
                     KafkaConsumer<String, String> uncommitted = consumer(broker, false)) {
                    Map<TopicPartition, Long> highWatermarks = uncommitted.endOffsets(tps);
                    for (TopicPartition tp : tps) {
                        assertEquals(RECORDS / PARTITIONS, highWatermarks.get(tp), "records and no marker in " + tp);
                    }
                    assertEquals(Map.of(tps.get(0), 0L, tps.get(1), 0L), committed.endOffsets(tps),
                        "the LSO stays at the prepared transaction's first offset");
                }
            }
            broker.kill(); // SIGKILL: PrepareCommit is in the log, the markers are not

            broker.start(overrides); // same log dir, no fault seam
            try (Admin admin = admin(broker);
                 KafkaConsumer<String, String> committed = consumer(broker, true);
                 KafkaConsumer<String, String> uncommitted = consumer(broker, false)) {
                long deadline = System.currentTimeMillis() + 60_000;
                while (describe(admin, id).state() != TransactionState.COMPLETE_COMMIT) {
                    assertTrue(System.currentTimeMillis() < deadline, "the restarted coordinator did not complete "
                        + "the commit: " + describe(admin, id) + "\n" + broker.output());
                    Thread.sleep(50);
                }
                Map<TopicPartition, Long> highWatermarks = uncommitted.endOffsets(tps);
                for (TopicPartition tp : tps) {
                    assertEquals(RECORDS / PARTITIONS + 1, highWatermarks.get(tp), "the records and one marker in " + tp);
                }
                assertEquals(highWatermarks, committed.endOffsets(tps), "the LSO moved to the high watermark");

                committed.assign(tps);
                committed.seekToBeginning(tps);
                List<String> seen = new ArrayList<>();
                while (seen.size() < RECORDS) {
                    assertTrue(System.currentTimeMillis() < deadline, "read_committed saw " + seen.size() + " of "
                        + RECORDS);
                    for (ConsumerRecord<String, String> r : committed.poll(Duration.ofMillis(100))) {
                        seen.add(r.value());
                    }
                }
                assertEquals(RECORDS, seen.size());
                assertEquals(sent, new HashSet<>(seen));
            }
            // the id goes on: a new producer with it commits (its init finds the transaction complete)
            try (KafkaProducer<String, String> p = producer(broker, id)) {
                p.initTransactions();
                p.beginTransaction();
                p.send(new ProducerRecord<>(TOPIC, 0, null, "after")).get();
                p.commitTransaction();
            }
        }
    }

    private static TransactionDescription describe(Admin admin, String id) throws Exception {
        return admin.describeTransactions(List.of(id)).description(id).get();
    }

    private static Admin admin(BrokerProcess broker) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return Admin.create(p);
    }

    private static KafkaProducer<String, String> producer(BrokerProcess broker, String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(BrokerProcess broker, boolean readCommitted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }
}
