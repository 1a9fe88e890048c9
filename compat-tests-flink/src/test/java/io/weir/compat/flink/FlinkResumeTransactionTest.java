package io.weir.compat.flink;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The recovery step of Flink's exactly-once KafkaSink, without Flink's scheduling in the way: after a restart the
 * sink's committer builds a new producer for a checkpointed transactional id, sets the checkpointed producer id
 * and epoch into it by reflection ({@code resumeTransaction}, no InitProducerId) and commits. That producer never
 * began a transaction, so kafka-clients sends a transactions-V1 EndTxn (v4) for a transaction its first producer
 * ran with V2 (partitions added implicitly by Produce v12). Which case a restart of a real job meets depends on
 * timing; here each is driven on purpose.
 */
class FlinkResumeTransactionTest {
    private static final String TOPIC = "flink-resume";
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS, "0",
            "transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3"));

    @BeforeAll
    static void start() throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
        }
    }

    /** A checkpointed transaction whose commit never happened (the job died first) is committed on recovery. */
    @Test
    void aResumedProducerShouldCommitThePreparedTransactionOfADeadOne() {
        String id = "flink-resume-prepared";
        long producerId;
        short epoch;
        FlinkKafkaInternalProducer<byte[], byte[]> first = new FlinkKafkaInternalProducer<>(props(), id);
        try {
            first.initTransactions();
            first.beginTransaction();
            send(first, id + "-a");
            send(first, id + "-b");
            first.flush();
            first.precommitTransaction();
            producerId = first.getProducerId();
            epoch = first.getEpoch();
        } finally {
            first.close(); // Duration.ZERO: the job died, nothing is committed or aborted
        }
        assertEquals(List.of(), committedWithPrefix(id));

        try (FlinkKafkaInternalProducer<byte[], byte[]> recovered = new FlinkKafkaInternalProducer<>(props(), id)) {
            recovered.resumeTransaction(producerId, epoch);
            recovered.commitTransaction();
        }
        assertEquals(List.of(id + "-a", id + "-b"), committedWithPrefix(id));
    }

    /**
     * The commit had happened before the job died: under transactions V2 it bumped the epoch, so the resumed
     * producer's V1 EndTxn with the checkpointed epoch is fenced, as Apache Kafka 4.x answers it (Flink's committer
     * logs it and drops the committable); the data stays committed once.
     */
    @Test
    void aResumedCommitOfAnAlreadyCommittedTransactionShouldBeFencedAndChangeNothing() {
        String id = "flink-resume-committed";
        long producerId;
        short epoch;
        try (FlinkKafkaInternalProducer<byte[], byte[]> first = new FlinkKafkaInternalProducer<>(props(), id)) {
            first.initTransactions();
            first.beginTransaction();
            send(first, id + "-a");
            first.flush();
            first.precommitTransaction();
            producerId = first.getProducerId();
            epoch = first.getEpoch();
            first.commitTransaction();
            assertEquals(epoch + 1, first.getEpoch(), "a V2 commit bumps the epoch");
        }
        try (FlinkKafkaInternalProducer<byte[], byte[]> recovered = new FlinkKafkaInternalProducer<>(props(), id)) {
            recovered.resumeTransaction(producerId, epoch);
            assertThrows(ProducerFencedException.class, recovered::commitTransaction);
        }
        assertEquals(List.of(id + "-a"), committedWithPrefix(id));
    }

    private static void send(FlinkKafkaInternalProducer<byte[], byte[]> producer, String value) {
        producer.send(new ProducerRecord<>(TOPIC, 0, null, value.getBytes(StandardCharsets.UTF_8)));
    }

    private static Properties props() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000");
        return p;
    }

    /** The read_committed values of the topic that start with the prefix, read up to the LSO. */
    private static List<String> committedWithPrefix(String prefix) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        TopicPartition tp = new TopicPartition(TOPIC, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(),
            new StringDeserializer())) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            List<String> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (c.position(tp) < end) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach the LSO " + end);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    if (r.value().startsWith(prefix)) {
                        out.add(r.value());
                    }
                }
            }
            return out;
        }
    }
}
