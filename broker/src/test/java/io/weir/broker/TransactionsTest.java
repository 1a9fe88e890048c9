package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
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
            List<String> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach the end of " + topic + ": " + end);
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
}
