package io.weir.admin;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Admin's transaction calls against a Weir broker, with a transaction left open by Apache
 * kafka-clients' transactional producer: list, describe, describe producers, abort a hanging
 * transaction at the partition, fence a producer.
 */
class AdminTransactionsTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of("transaction.state.log.num.partitions", "3"));
    private static Admin admin;

    @BeforeAll
    static void start() {
        admin = Admin.create(Map.of("bootstrap.servers", BROKER.bootstrapServers(), "default.api.timeout.ms", "20000"));
    }

    @AfterAll
    static void stop() {
        admin.close(Duration.ofSeconds(5));
    }

    private static KafkaProducer<String, String> producer(String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        return new KafkaProducer<>(p);
    }

    private static long readCommittedEnd(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition(topic, 0);
            return c.endOffsets(List.of(tp)).get(tp);
        }
    }

    private static List<String> readCommittedValues(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            List<String> out = new java.util.ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (c.position(tp) < end) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach " + end);
                c.poll(Duration.ofMillis(100)).forEach(r -> out.add(r.value()));
            }
            return out;
        }
    }

    @Test
    void shouldListDescribeAndAbortAHangingTransaction() throws Exception {
        String topic = "hanging";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> p = producer("adm-hanging")) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "v")).get();
            assertEquals(0L, readCommittedEnd(topic), "the open transaction holds the LSO");

            List<TransactionListing> listed = admin.listTransactions().get();
            TransactionListing mine = listed.stream().filter(l -> l.transactionalId().equals("adm-hanging"))
                .findFirst().orElseThrow(() -> new AssertionError("not listed: " + listed));
            assertEquals("Ongoing", mine.state());
            assertTrue(admin.listTransactions(new ListTransactionsOptions(Set.of("Ongoing"), Set.of(), -1),
                AdminOptions.defaults()).get().contains(mine));
            assertFalse(admin.listTransactions(new ListTransactionsOptions(Set.of("CompleteCommit"), Set.of(), -1),
                AdminOptions.defaults()).get().contains(mine));

            TransactionDescription d = admin.describeTransactions(List.of("adm-hanging")).value("adm-hanging").get();
            assertEquals("Ongoing", d.state());
            assertEquals(mine.producerId(), d.producerId());
            assertEquals(Set.of(tp), d.topicPartitions());
            assertTrue(d.transactionStartTimeMs().isPresent());
            CompletionException unknown = assertThrows(CompletionException.class,
                () -> admin.describeTransactions(List.of("no-such-id")).value("no-such-id").join());
            assertEquals(Errors.TRANSACTIONAL_ID_NOT_FOUND, assertInstanceOf(ApiException.class, unknown.getCause()).error());

            List<ProducerState> producers = admin.describeProducers(List.of(tp)).value(tp).get();
            assertEquals(1, producers.size());
            ProducerState hanging = producers.get(0);
            assertEquals(mine.producerId(), hanging.producerId());
            assertEquals(0L, hanging.currentTransactionStartOffset().orElse(-1));

            // kafka-transactions abort: the ABORT marker goes straight to the partition
            admin.abortTransaction(new AbortTransactionSpec(tp, hanging.producerId(), (short) hanging.producerEpoch(),
                hanging.coordinatorEpoch().orElse(0))).get();
            assertEquals(2L, readCommittedEnd(topic), "the LSO moved past the aborted record and its marker");
            assertTrue(admin.describeProducers(List.of(tp)).value(tp).get().stream()
                .allMatch(s -> s.currentTransactionStartOffset().isEmpty()));
        }
    }

    @Test
    void shouldFenceTheCurrentProducerOfATransactionalId() throws Exception {
        String topic = "fenced";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        try (KafkaProducer<String, String> p = producer("adm-fence")) {
            p.initTransactions();
            short epoch = (short) admin.describeTransactions(List.of("adm-fence")).value("adm-fence").get()
                .producerEpoch();
            FenceProducersResult fenced = admin.fenceProducers(List.of("adm-fence")).value("adm-fence").get();
            assertTrue(fenced.producerEpoch() > epoch, "epoch bumped: " + fenced + " after " + epoch);
            p.beginTransaction();
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> p.send(new ProducerRecord<>(topic, 0, "k", "zombie")).get());
            assertInstanceOf(org.apache.kafka.common.errors.InvalidProducerEpochException.class, e.getCause(),
                "the fenced epoch is refused");
            assertThrows(KafkaException.class, p::commitTransaction);
        }
        assertEquals(List.of(), readCommittedValues(topic), "nothing of the fenced producer became visible");
    }
}
