package io.weir.broker;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Apache kafka-clients (an outside implementation) against a real Weir broker. */
class KafkaClientsCompatibilityTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

    static Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        return Admin.create(p);
    }

    static KafkaProducer<byte[], byte[]> producer(String acks, String codec) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, acks);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    static KafkaConsumer<byte[], byte[]> consumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int partition, int expected) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer()) {
            TopicPartition tp = new TopicPartition(topic, partition);
            c.assign(List.of(tp));
            c.seek(tp, 0);
            long deadline = System.currentTimeMillis() + 30_000;
            while (out.size() < expected && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    @Test
    void adminShouldCreateListDescribeAlterAndDeleteTopics() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("admin-a", 3, (short) 1).configs(Map.of("retention.ms", "3600000"))))
                .all().get();
            ExecutionException dup = assertThrows(ExecutionException.class,
                () -> admin.createTopics(List.of(new NewTopic("admin-a", 1, (short) 1))).all().get());
            assertInstanceOf(TopicExistsException.class, dup.getCause());
            assertTrue(admin.listTopics().names().get().contains("admin-a"));

            TopicDescription d = admin.describeTopics(List.of("admin-a")).allTopicNames().get().get("admin-a");
            assertEquals(3, d.partitions().size());
            assertEquals(0, d.partitions().get(2).leader().id());

            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, "admin-a");
            Config cfg = admin.describeConfigs(List.of(res)).all().get().get(res);
            assertEquals("3600000", cfg.get("retention.ms").value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, cfg.get("retention.ms").source());
            admin.incrementalAlterConfigs(Map.of(res, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                new ConfigEntry("cleanup.policy", "compact"), org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET))))
                .all().get();
            assertEquals("compact", admin.describeConfigs(List.of(res)).all().get().get(res).get("cleanup.policy").value());

            admin.createPartitions(Map.of("admin-a", NewPartitions.increaseTo(5))).all().get();
            assertEquals(5, admin.describeTopics(List.of("admin-a")).allTopicNames().get().get("admin-a").partitions().size());

            assertEquals(1, admin.describeCluster().nodes().get().size());
            assertFalse(admin.describeCluster().clusterId().get().isEmpty());

            admin.deleteTopics(List.of("admin-a")).all().get();
            assertFalse(admin.listTopics().names().get().contains("admin-a"));
            ExecutionException gone = assertThrows(ExecutionException.class,
                () -> admin.deleteTopics(List.of("admin-a")).all().get());
            assertInstanceOf(UnknownTopicOrPartitionException.class, gone.getCause());
        }
    }

    @ParameterizedTest
    @CsvSource({"0,none", "1,gzip", "all,snappy", "1,lz4", "all,zstd", "1,none"})
    void producerAndConsumerShouldRoundTripEveryRecord(String acks, String codec) throws Exception {
        String topic = "rt-" + acks + "-" + codec;
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        }
        int n = 2_000;
        List<Future<RecordMetadata>> acked = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> p = producer(acks, codec)) {
            for (int i = 0; i < n; i++) {
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, i % 2, 1_700_000_000_000L + i,
                    ("k" + i).getBytes(StandardCharsets.UTF_8), ("value-" + i).getBytes(StandardCharsets.UTF_8));
                r.headers().add("idx", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                acked.add(p.send(r));
            }
            p.flush();
        }
        for (int i = 0; i < n; i++) {
            RecordMetadata md = acked.get(i).get();
            if (!acks.equals("0")) {
                assertEquals(i / 2, md.offset(), "offset of record " + i);
            }
        }
        for (int partition = 0; partition < 2; partition++) {
            List<ConsumerRecord<byte[], byte[]>> got = readAll(topic, partition, n / 2);
            assertEquals(n / 2, got.size());
            for (int j = 0; j < got.size(); j++) {
                int i = j * 2 + partition;
                ConsumerRecord<byte[], byte[]> r = got.get(j);
                assertEquals(j, r.offset());
                assertEquals(1_700_000_000_000L + i, r.timestamp());
                assertArrayEquals(("k" + i).getBytes(StandardCharsets.UTF_8), r.key());
                assertArrayEquals(("value-" + i).getBytes(StandardCharsets.UTF_8), r.value());
                assertArrayEquals(Integer.toString(i).getBytes(StandardCharsets.UTF_8), r.headers().lastHeader("idx").value());
            }
        }
    }

    @Test
    void consumerShouldFindOffsetsByTimestampAndEnds() throws Exception {
        String topic = "times";
        try (KafkaProducer<byte[], byte[]> p = producer("1", "none")) {
            for (int i = 0; i < 10; i++) {
                p.send(new ProducerRecord<>(topic, 0, 1_000L * (i + 1), null, new byte[] {(byte) i})).get();
            }
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer()) {
            TopicPartition tp = new TopicPartition(topic, 0);
            assertEquals(0L, c.beginningOffsets(List.of(tp)).get(tp));
            assertEquals(10L, c.endOffsets(List.of(tp)).get(tp));
            assertEquals(4L, c.offsetsForTimes(Map.of(tp, 4_500L)).get(tp).offset());
            assertEquals(null, c.offsetsForTimes(Map.of(tp, 99_000L)).get(tp));
        }
    }

    @Test
    void longPollShouldReturnRecordsProducedWhileTheConsumerWaits() throws Exception {
        String topic = "longpoll";
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(); KafkaProducer<byte[], byte[]> p = producer("1", "lz4")) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(Set.of(tp));
            c.seekToEnd(Set.of(tp));
            assertEquals(0, c.poll(Duration.ofMillis(300)).count());
            p.send(new ProducerRecord<>(topic, 0, null, "late".getBytes(StandardCharsets.UTF_8))).get();
            Collection<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 60_000;
            while (got.isEmpty() && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(500)).forEach(got::add);
            }
            assertEquals(1, got.size());
            assertEquals("late", new String(got.iterator().next().value(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void idempotentProducerWithKafkaDefaultsShouldWork() throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        String topic = "idem-defaults";
        int n = 3_000;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> acked = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                acked.add(producer.send(new ProducerRecord<>(topic, 0, null, ("v" + i).getBytes(StandardCharsets.UTF_8))));
            }
            for (int i = 0; i < n; i++) {
                assertEquals(i, acked.get(i).get().offset());
            }
        }
        List<ConsumerRecord<byte[], byte[]>> got = readAll(topic, 0, n);
        assertEquals(n, got.size());
        assertArrayEquals(("v" + (n - 1)).getBytes(StandardCharsets.UTF_8), got.get(n - 1).value());
    }
}
