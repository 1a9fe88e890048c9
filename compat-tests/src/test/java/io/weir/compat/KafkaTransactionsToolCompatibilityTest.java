package io.weir.compat;

import io.weir.broker.testing.EmbeddedBroker;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;

import static io.weir.compat.KafkaTool.TOPICS;
import static io.weir.compat.KafkaTool.TRANSACTIONS;
import static io.weir.compat.KafkaTool.ok;
import static io.weir.compat.KafkaToolsCompatibilityTest.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Apache Kafka 4.4's own {@code kafka-transactions} tool (TransactionsCommand, in a forked JVM) against a
 * Weir broker, on transactions left open by kafka-clients' transactional producer: list, describe,
 * describe-producers and find-hanging show what they show against Kafka, abort clears an open
 * transaction, forceTerminateTransaction ends and fences a transactional id, and a transaction whose coordinator state was lost is found as hanging and aborted.
 */
class KafkaTransactionsToolCompatibilityTest {
    /** Weir's weir-transactions.sh, run like Kafka's tools in a JVM of its own. */
    private static final String WEIR_TRANSACTIONS = "io.weir.tools.TransactionsCommand";

    private static KafkaProducer<String, String> producer(String bootstrap, String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        return new KafkaProducer<>(p);
    }

    /** The last stable offset of partition 0 as a read_committed consumer sees it. */
    private static long readCommittedEnd(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            return c.endOffsets(List.of(tp)).get(tp);
        }
    }

    @Test
    void kafkaTransactionsShouldListDescribeAndAbortAnOpenTransaction() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "3")).start()) {
            String bootstrap = broker.bootstrapServers();
            ok(TOPICS, null, "--bootstrap-server", bootstrap, "--create", "--topic", "kt-txn",
                    "--partitions", "1", "--replication-factor", "1");
            KafkaProducer<String, String> p = producer(bootstrap, "kt-open");
            try {
                p.initTransactions();
                p.beginTransaction();
                p.send(new ProducerRecord<>("kt-txn", 0, "k", "open")).get();

                ForkedProcess.Result list = ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "list");
                assertTrue(list.stdoutLines().get(0).matches("TransactionalId\\s+Coordinator\\s+ProducerId\\s+"
                        + "TransactionState\\s*"), list.toString());
                List<String> listed = row(list.stdoutLines(), "TransactionalId");
                assertEquals("kt-open", listed.get(0), list.toString());
                assertEquals("0", listed.get(1), list.toString());
                assertEquals("Ongoing", listed.get(3), list.toString());
                String producerId = listed.get(2);

                ForkedProcess.Result described = ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "describe",
                        "--transactional-id", "kt-open");
                List<String> d = row(described.stdoutLines(), "CoordinatorId");
                assertEquals(List.of("0", "kt-open", producerId), d.subList(0, 3), described.toString());
                assertEquals("Ongoing", d.get(4), described.toString());
                assertEquals("kt-txn-0", d.get(8), described.toString());

                ForkedProcess.Result producers = ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap,
                        "describe-producers", "--topic", "kt-txn", "--partition", "0");
                List<String> ps = row(producers.stdoutLines(), "ProducerId");
                assertEquals(producerId, ps.get(0), producers.toString());
                assertEquals("0", ps.get(5), "the open transaction starts at offset 0: " + producers);

                // the coordinator holds the partition in kt-open's transaction: not hanging
                ForkedProcess.Result hanging = ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap,
                        "find-hanging", "--topic", "kt-txn", "--max-transaction-timeout", "0");
                assertEquals(1, hanging.stdoutLines().size(), hanging.toString());
                assertTrue(hanging.stdoutLines().get(0).startsWith("Topic"), hanging.toString());

                assertEquals(0L, readCommittedEnd(bootstrap, "kt-txn"), "the open transaction holds the LSO");
                ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "abort", "--topic", "kt-txn",
                        "--partition", "0", "--start-offset", "0");
                assertEquals(2L, readCommittedEnd(bootstrap, "kt-txn"), "the LSO moved past the record and its marker");

                // the coordinator still has kt-open's transaction open; Kafka's force-terminate ends it and fences
                ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "forceTerminateTransaction",
                        "--transactionalId", "kt-open");
                ForkedProcess.Result after = ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "describe",
                        "--transactional-id", "kt-open");
                List<String> a = row(after.stdoutLines(), "CoordinatorId");
                assertFalse(a.get(4).equals("Ongoing"), after.toString());
                assertTrue(Integer.parseInt(a.get(3)) > Integer.parseInt(d.get(3)), "epoch bumped: " + after);
            } finally {
                p.close(Duration.ZERO);
            }
        }
    }

    /**
     * A hanging transaction: the producer stopped mid-transaction and its coordinator's state was lost
     * ({@code __transaction_state} removed while the broker was down). Kafka's find-hanging reports it,
     * its abort clears it, and read_committed reaches the end.
     */
    @Test
    void kafkaTransactionsShouldFindAndAbortAHangingTransaction() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "1")).start()) {
            ok(TOPICS, null, "--bootstrap-server", broker.bootstrapServers(), "--create", "--topic", "kt-hanging",
                    "--partitions", "1", "--replication-factor", "1");
            KafkaProducer<String, String> p = producer(broker.bootstrapServers(), "kt-stuck");
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>("kt-hanging", 0, "k", "never-ended")).get();
            p.close(Duration.ZERO);

            broker.broker().shutdown();
            deleteTransactionStateDirs(broker.logDir());
            broker.start();
            String bootstrap = broker.bootstrapServers();
            assertEquals(0L, readCommittedEnd(bootstrap, "kt-hanging"), "the open transaction holds the LSO");

            ForkedProcess.Result found = ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "find-hanging",
                    "--topic", "kt-hanging", "--max-transaction-timeout", "0");
            assertTrue(found.stdoutLines().get(0).matches("Topic\\s+Partition\\s+ProducerId\\s+ProducerEpoch\\s+"
                    + "CoordinatorEpoch\\s+StartOffset\\s+LastTimestamp\\s+Duration\\(min\\)\\s*"), found.toString());
            List<String> hanging = row(found.stdoutLines(), "Topic");
            assertEquals(List.of("kt-hanging", "0"), hanging.subList(0, 2), found.toString());
            assertEquals("0", hanging.get(5), "starts at offset 0: " + found);
            ForkedProcess.Result byBroker = ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "find-hanging",
                    "--broker-id", "0", "--max-transaction-timeout", "0");
            assertEquals(hanging.subList(0, 6), row(byBroker.stdoutLines(), "Topic").subList(0, 6), byBroker.toString());
            // Weir's tool finds the same hanging transaction and prints the same table
            List<String> weirFound = row(ok(WEIR_TRANSACTIONS, null, "--bootstrap-server", bootstrap, "find-hanging",
                    "--topic", "kt-hanging", "--max-transaction-timeout", "0").stdoutLines(), "Topic");
            assertEquals(hanging.subList(0, 7), weirFound.subList(0, 7), "all but the duration");
            String[] producers = {"--bootstrap-server", bootstrap, "describe-producers", "--topic", "kt-hanging",
                    "--partition", "0"};
            assertEquals(ok(TRANSACTIONS, null, producers).stdout(), ok(WEIR_TRANSACTIONS, null, producers).stdout());

            ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "abort", "--topic", "kt-hanging",
                    "--partition", "0", "--start-offset", "0");
            assertEquals(2L, readCommittedEnd(bootstrap, "kt-hanging"), "the LSO moved past the record and its marker");
            ForkedProcess.Result gone = ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "find-hanging",
                    "--topic", "kt-hanging", "--max-transaction-timeout", "0");
            assertEquals(1, gone.stdoutLines().size(), gone.toString());
        }
    }

    /**
     * Weir's weir-transactions.sh and Kafka's kafka-transactions, run on the same broker state, print the
     * same tables: list (rows in any order), describe (every column but the duration, which moves with
     * the clock), describe-producers and find-hanging.
     */
    @Test
    void weirTransactionsShouldPrintWhatKafkaTransactionsPrints() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "3")).start()) {
            String bootstrap = broker.bootstrapServers();
            ok(TOPICS, null, "--bootstrap-server", bootstrap, "--create", "--topic", "kt-same",
                    "--partitions", "1", "--replication-factor", "1");
            try (KafkaProducer<String, String> done = producer(bootstrap, "kt-done")) {
                done.initTransactions();
                done.beginTransaction();
                done.send(new ProducerRecord<>("kt-same", 0, "k", "committed")).get();
                done.commitTransaction();
            }
            KafkaProducer<String, String> p = producer(bootstrap, "kt-same-open");
            try {
                p.initTransactions();
                p.beginTransaction();
                p.send(new ProducerRecord<>("kt-same", 0, "k", "open")).get();

                List<String> kafkaList = ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "list").stdoutLines();
                List<String> weirList = ok(WEIR_TRANSACTIONS, null, "--bootstrap-server", bootstrap, "list")
                        .stdoutLines();
                assertEquals(3, kafkaList.size(), kafkaList.toString());
                assertEquals(kafkaList.get(0), weirList.get(0));
                assertEquals(Set.copyOf(kafkaList), Set.copyOf(weirList));

                List<String> kafkaDescribe = row(ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "describe",
                        "--transactional-id", "kt-same-open").stdoutLines(), "CoordinatorId");
                List<String> weirDescribe = row(ok(WEIR_TRANSACTIONS, null, "--bootstrap-server", bootstrap,
                        "describe", "--transactional-id", "kt-same-open").stdoutLines(), "CoordinatorId");
                assertEquals(kafkaDescribe.subList(0, 7), weirDescribe.subList(0, 7));
                assertEquals(kafkaDescribe.get(8), weirDescribe.get(8));

                for (List<String> args : List.of(
                        List.of("describe-producers", "--topic", "kt-same", "--partition", "0"),
                        List.of("find-hanging", "--topic", "kt-same", "--max-transaction-timeout", "0"),
                        List.of("find-hanging", "--broker-id", "0"))) {
                    String[] full = Stream.concat(Stream.of("--bootstrap-server", bootstrap), args.stream())
                            .toArray(String[]::new);
                    assertEquals(ok(TRANSACTIONS, null, full).stdout(), ok(WEIR_TRANSACTIONS, null, full).stdout(),
                            String.join(" ", args));
                }
            } finally {
                p.close(Duration.ZERO);
            }
        }
    }

    private static void deleteTransactionStateDirs(Path logDir) throws IOException {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(logDir)) {
            dirs = s.filter(d -> d.getFileName().toString().startsWith("__transaction_state-")).toList();
        }
        assertFalse(dirs.isEmpty(), "the coordinator's log exists");
        for (Path dir : dirs) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
