package io.weir.producer;

import io.weir.broker.Broker;
import io.weir.broker.BrokerConfig;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.producer.internals.TransactionManager;
import io.weir.protocol.Errors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The producer's error kinds (KIP-1050), each driven by the error a real Weir broker answers: abortable (abort
 * and go on, with the same producer), application-recoverable (close; a new producer with the same
 * transactional.id works) and invalid configuration (close; a new producer with the same settings would fail too).
 * The broker runs on a mock clock: an idle transactional id expires when the test moves the clock past
 * {@code transactional.id.expiration.ms} and restarts the broker (the coordinator re-arms the expiry from the
 * log when it loads, and the timer thread sleeps in real time for a deadline it computes once).
 */
class TransactionErrorKindsTest {
    private static final long TRANSACTIONAL_ID_EXPIRATION_MS = 60_000;

    private final Path logDir = TempDirs.create("txn-error-kinds");
    private final MockTime time = new MockTime(System.currentTimeMillis());
    private Broker broker;

    @AfterEach
    void cleanUp() {
        if (broker != null) {
            broker.shutdown();
        }
        TempDirs.delete(logDir);
    }

    private String start(int transactionVersion) {
        return start(transactionVersion, 0);
    }

    private String start(int transactionVersion, int port) {
        Map<String, String> props = new HashMap<>();
        props.put(BrokerConfig.LISTENERS, "PLAINTEXT://127.0.0.1:" + port);
        props.put(BrokerConfig.LOG_DIRS, logDir.toString());
        props.put(BrokerConfig.NUM_NETWORK_THREADS, "2");
        props.put(BrokerConfig.NUM_IO_THREADS, "2");
        props.put(BrokerConfig.TRANSACTION_STATE_LOG_NUM_PARTITIONS, "1");
        props.put(BrokerConfig.TRANSACTIONAL_ID_EXPIRATION_MS, String.valueOf(TRANSACTIONAL_ID_EXPIRATION_MS));
        props.put("transaction.version", String.valueOf(transactionVersion));
        broker = new Broker(new BrokerConfig(props), time);
        broker.startup();
        return "127.0.0.1:" + broker.boundPort();
    }

    private static WeirProducer<String, String> producer(String bootstrap, String transactionalId, int timeoutMs) {
        Map<String, Object> p = WeirProducerIntegrationTest.props(bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, timeoutMs);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000L);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5L);
        return new WeirProducer<>(p);
    }

    /**
     * The coordinator expires a transactional id left idle past {@code transactional.id.expiration.ms}; the
     * producer's next transaction meets INVALID_PRODUCER_ID_MAPPING (V2: the partition leader's implicit add,
     * V1: AddPartitionsToTxn). As in Kafka (KIP-360) that is abortable: the commit fails abortable, the abort
     * skips the EndTxn the coordinator cannot accept and gets a new producer id, and the same producer goes on.
     */
    @ParameterizedTest(name = "transactions V{0}")
    @ValueSource(ints = {1, 2})
    void shouldAbortAndGoOnAfterTheCoordinatorExpiredTheIdleTransactionalId(int version) throws Exception {
        String bootstrap = start(version);
        String topic = "expired-id";
        String id = "idle-producer";
        KafkaInterop.createTopic(bootstrap, topic, 1);
        // longer than the clock moves here: the coordinator must not time the transactions out
        try (WeirProducer<String, String> producer = producer(bootstrap, id, 600_000)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "before"));
            producer.commitTransaction();

            // the producer stays idle past the expiration; the restarted broker keeps the port it reconnects to
            int port = broker.boundPort();
            broker.shutdown();
            broker = null;
            time.advance(2 * TRANSACTIONAL_ID_EXPIRATION_MS);
            assertEquals(bootstrap, start(version, port));
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                long deadline = System.currentTimeMillis() + 30_000;
                while (listed(admin, id)) {
                    assertTrue(System.currentTimeMillis() < deadline, "the coordinator never expired " + id);
                    Thread.sleep(10);
                }
            }

            producer.beginTransaction();
            Future<RecordMetadata> lost = producer.send(new ProducerRecord<>(topic, 0, "k", "lost"));
            TransactionAbortableException e = assertThrows(TransactionAbortableException.class,
                producer::commitTransaction);
            assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, e.error(), e.getMessage());
            assertThrows(ExecutionException.class, () -> lost.get(30, TimeUnit.SECONDS));
            producer.abortTransaction();
            assertEquals(TransactionManager.State.READY, producer.transactionState());

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "after")).get(30, TimeUnit.SECONDS);
            producer.commitTransaction();
        }
        assertEquals(List.of("before", "after"),
            readCommitted(bootstrap, topic));
    }

    /**
     * The topic's partition 0 as a read_committed consumer sees it, up to its end offset once the ended
     * transactions' markers are written. Fetches do not wait on
     * the broker: a long poll would wait on its mock clock, which does not move on its own.
     */
    private static List<String> readCommitted(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 0);
        TopicPartition tp = new TopicPartition(topic, 0);
        List<String> out = new ArrayList<>();
        Properties uncommitted = new Properties();
        uncommitted.putAll(p);
        uncommitted.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(),
            new StringDeserializer());
             KafkaConsumer<String, String> u = new KafkaConsumer<>(uncommitted, new StringDeserializer(),
                 new StringDeserializer())) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = KafkaInterop.stableEndOffsets(() -> c.endOffsets(List.of(tp)), () -> u.endOffsets(List.of(tp)))
                .get(tp);
            long deadline = System.currentTimeMillis() + 30_000;
            while (c.position(tp) < end) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach the end of " + topic);
                c.poll(Duration.ofMillis(100)).forEach(r -> out.add(r.value()));
            }
        }
        return out;
    }

    private static boolean listed(Admin admin, String transactionalId) throws Exception {
        return admin.listTransactions().all().get().stream().map(TransactionListing::transactionalId)
            .anyMatch(transactionalId::equals);
    }

    /**
     * A fenced producer is application-recoverable: it fails with {@link ProducerFencedException}, an
     * {@link ApplicationRecoverableException}, from every call, and a new producer with the same transactional.id
     * (here the one that fenced it) carries on.
     */
    @Test
    void shouldFailAFencedProducerAsApplicationRecoverable() throws Exception {
        String bootstrap = start(2);
        String topic = "fenced";
        String id = "fenced-producer";
        KafkaInterop.createTopic(bootstrap, topic, 1);
        try (WeirProducer<String, String> zombie = producer(bootstrap, id, 60_000)) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>(topic, 0, "k", "zombie")).get(30, TimeUnit.SECONDS);
            try (WeirProducer<String, String> successor = producer(bootstrap, id, 60_000)) {
                successor.initTransactions();
                ApplicationRecoverableException e = assertThrows(ApplicationRecoverableException.class,
                    zombie::commitTransaction);
                assertInstanceOf(ProducerFencedException.class, e);
                assertEquals(Errors.PRODUCER_FENCED, e.error());
                assertSame(e, assertThrows(ApplicationRecoverableException.class, zombie::beginTransaction));

                successor.beginTransaction();
                successor.send(new ProducerRecord<>(topic, 0, "k", "successor"));
                successor.commitTransaction();
            }
        }
        assertEquals(List.of("successor"),
            readCommitted(bootstrap, topic));
    }

    /**
     * A {@code transaction.timeout.ms} above the broker's {@code transaction.max.timeout.ms}: the coordinator
     * answers INVALID_TRANSACTION_TIMEOUT, an {@link InvalidConfigurationException} (fatal, and not
     * application-recoverable: a new producer with this configuration fails the same way).
     */
    @Test
    void shouldFailATransactionTimeoutAboveTheBrokersMaximumAsInvalidConfiguration() {
        String bootstrap = start(2);
        int aboveMaximum = 900_001; // transaction.max.timeout.ms defaults to 15 minutes
        try (WeirProducer<String, String> producer = producer(bootstrap, "too-long", aboveMaximum)) {
            InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
                producer::initTransactions);
            assertEquals(Errors.INVALID_TRANSACTION_TIMEOUT, e.error());
            assertEquals(TransactionManager.State.FATAL_ERROR, producer.transactionState());
            assertSame(e, assertThrows(InvalidConfigurationException.class, producer::beginTransaction));
        }
    }
}
