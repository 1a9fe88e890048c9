package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Batches larger than the consumer's {@code max.partition.fetch.bytes}: only the first partition of a fetch
 * response may exceed its limit (one whole batch); for the others a first batch that does not fit is left
 * out, never cut. A cut batch makes kafka-clients fail the poll ("Failed to make progress reading
 * messages ... no complete records were found").
 */
class IncompleteBatchFetchTest {
    private static final String TOPIC = "big-batches";
    private static final int PARTITIONS = 3;
    private static final int PER_PARTITION = 60;
    private EmbeddedBroker broker;

    @BeforeEach
    void start() throws Exception {
        broker = new EmbeddedBroker(Map.of()).start();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    @Test
    void shouldLeaveOutRatherThanCutABatchLargerThanAPartitionsFetchBytes() throws Exception {
        String value = "v".repeat(1000);
        // all records are sent before the first flush, so each partition holds ~16 KB batches
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers",
            broker.bootstrapServers(), "linger.ms", 1000, "batch.size", 16384, "compression.type", "none"),
            new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < PER_PARTITION; i++) {
                for (int part = 0; part < PARTITIONS; part++) {
                    p.send(new ProducerRecord<>(TOPIC, part, null, part + "-" + i + "-" + value));
                }
            }
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (int part = 0; part < PARTITIONS; part++) {
            partitions.add(new TopicPartition(TOPIC, part));
        }
        Map<String, Object> config = new HashMap<>(Map.of("bootstrap.servers", broker.bootstrapServers(),
            "max.partition.fetch.bytes", 4096, "fetch.max.wait.ms", 10, "auto.offset.reset", "earliest",
            "enable.auto.commit", false));
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(config, new StringDeserializer(),
            new StringDeserializer())) {
            c.assign(partitions);
            Map<Integer, List<Integer>> read = new HashMap<>();
            int total = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (total < PARTITIONS * PER_PARTITION && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    String[] parts = r.value().split("-", 3);
                    assertEquals(r.partition(), Integer.parseInt(parts[0]));
                    read.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(Integer.parseInt(parts[1]));
                    total++;
                }
            }
            for (int part = 0; part < PARTITIONS; part++) {
                List<Integer> expected = new ArrayList<>();
                for (int i = 0; i < PER_PARTITION; i++) {
                    expected.add(i);
                }
                assertEquals(expected, read.get(part), "partition " + part + " read whole and in order");
            }
        }
    }
}
