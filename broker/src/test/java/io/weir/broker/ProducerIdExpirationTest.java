package io.weir.broker;

import io.weir.common.config.ConfigException;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code producer.id.expiration.ms} seen by Apache kafka-clients: the broker's expiration duty, on the
 * broker's (mock) clock, drops an idle idempotent producer from the partition, so DescribeProducers no
 * longer lists it, while a producer with an open transaction stays; the idle producer's next batch (a
 * non-zero sequence) is still accepted, as Kafka accepts any sequence from a producer it has no state for.
 */
class ProducerIdExpirationTest {
    private static final long EXPIRATION_MS = 60_000;

    private final Path logDir = TempDirs.create("pid-expiration");
    // record timestamps are the clients' wall clock: the broker's mock clock starts there and then only
    // moves when the test moves it
    private final MockTime time = new MockTime(System.currentTimeMillis());
    private Broker broker;

    @AfterEach
    void cleanUp() {
        if (broker != null) {
            broker.shutdown();
        }
        TempDirs.delete(logDir);
    }

    private static Properties producerProps(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        return p;
    }

    private static List<ProducerState> producers(Admin admin, TopicPartition tp) throws Exception {
        return admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers();
    }

    private void start(String checkIntervalMs) {
        Map<String, String> props = new HashMap<>();
        props.put(BrokerConfig.LISTENERS, "PLAINTEXT://127.0.0.1:0");
        props.put(BrokerConfig.LOG_DIRS, logDir.toString());
        props.put(BrokerConfig.NUM_NETWORK_THREADS, "2");
        props.put(BrokerConfig.NUM_IO_THREADS, "2");
        props.put(BrokerConfig.TRANSACTION_STATE_LOG_NUM_PARTITIONS, "1");
        props.put(BrokerConfig.PRODUCER_ID_EXPIRATION_MS, String.valueOf(EXPIRATION_MS));
        props.put(BrokerConfig.PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS, checkIntervalMs);
        broker = new Broker(new BrokerConfig(props), time);
        broker.startup();
    }

    private static Admin admin(Broker b) {
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + b.boundPort());
        return Admin.create(adminProps);
    }

    /** The producer state a restart loads may predate the idle time passing: it is expired at start, not an interval later. */
    @Test
    void shouldExpireIdleProducersWhenTheBrokerStarts() throws Exception {
        start("600000");
        TopicPartition tp = new TopicPartition("restart", 0);
        try (Admin admin = admin(broker);
             KafkaProducer<String, String> idle = new KafkaProducer<>(producerProps("127.0.0.1:" + broker.boundPort()))) {
            admin.createTopics(List.of(new NewTopic(tp.topic(), 1, (short) 1))).all().get();
            idle.send(new ProducerRecord<>(tp.topic(), "a")).get();
            assertEquals(1, producers(admin, tp).size());
        }
        broker.shutdown();
        time.advance(2 * EXPIRATION_MS);
        start("600000"); // the periodic check cannot run during the test
        try (Admin admin = admin(broker)) {
            assertEquals(List.of(), producers(admin, tp));
        }
    }

    @Test
    void shouldStopListingAnIdleProducerButKeepOneWithAnOpenTransaction() throws Exception {
        start("10");
        String bootstrap = "127.0.0.1:" + broker.boundPort();
        TopicPartition tp = new TopicPartition("idle", 0);
        Properties txnProps = producerProps(bootstrap);
        txnProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "open-txn");
        // longer than the clock will move: the coordinator must not abort it meanwhile
        txnProps.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600_000);
        try (Admin admin = admin(broker);
             KafkaProducer<String, String> idle = new KafkaProducer<>(producerProps(bootstrap));
             KafkaProducer<String, String> txn = new KafkaProducer<>(txnProps)) {
            admin.createTopics(List.of(new NewTopic(tp.topic(), 1, (short) 1))).all().get();
            idle.send(new ProducerRecord<>(tp.topic(), "a")).get();
            txn.initTransactions();
            txn.beginTransaction();
            txn.send(new ProducerRecord<>(tp.topic(), "t")).get();
            List<ProducerState> before = producers(admin, tp);
            assertEquals(2, before.size(), before.toString());
            long idleId = before.stream().filter(p -> p.currentTransactionStartOffset().isEmpty()).findFirst()
                .orElseThrow().producerId();
            long txnId = before.stream().filter(p -> p.currentTransactionStartOffset().isPresent()).findFirst()
                .orElseThrow().producerId();

            time.advance(2 * EXPIRATION_MS);
            // both producers are checked in one call under the partition's lock: once the idle one is gone,
            // the duty has looked at the transactional one too
            List<ProducerState> after = producers(admin, tp);
            long deadline = System.currentTimeMillis() + 30_000;
            while (after.stream().anyMatch(p -> p.producerId() == idleId)) {
                assertTrue(System.currentTimeMillis() < deadline, "the expiration duty never dropped " + idleId);
                Thread.sleep(10);
                after = producers(admin, tp);
            }
            assertEquals(1, after.size(), after.toString());
            assertEquals(txnId, after.get(0).producerId());
            assertEquals(java.util.OptionalLong.of(1), after.get(0).currentTransactionStartOffset());

            // the idle producer goes on at sequence 1; the partition knows it again (the record carries the
            // broker's clock as its time, else the next check would find it idle at once)
            idle.send(new ProducerRecord<>(tp.topic(), null, time.milliseconds(), null, "b")).get();
            ProducerState back = producers(admin, tp).stream().filter(p -> p.producerId() == idleId).findFirst()
                .orElseThrow();
            assertEquals(1, back.lastSequence());
            txn.commitTransaction();
        }
    }

    @Test
    void shouldDefaultToKafkasValuesAndRejectNonPositiveOnes() {
        BrokerConfig defaults = new BrokerConfig(Map.of());
        assertEquals(86_400_000L, defaults.getLong(BrokerConfig.PRODUCER_ID_EXPIRATION_MS));
        assertEquals(600_000L, defaults.getLong(BrokerConfig.PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS));
        for (String key : List.of(BrokerConfig.PRODUCER_ID_EXPIRATION_MS, BrokerConfig.PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS)) {
            ConfigException e = assertThrows(ConfigException.class, () -> new BrokerConfig(Map.of(key, "0")));
            assertTrue(e.getMessage().contains(key), e.getMessage());
        }
    }
}
