package io.weir.broker.testing;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.HashMap;
import java.util.Map;

/**
 * Test data for a running broker, written with Apache's producer (an outside client, so a test of Weir's own
 * clients does not lean on them to set up its data). Shared by the group tests of broker, consumer, admin and tools.
 */
public final class TestRecords {
    private TestRecords() {
    }

    /**
     * Produces {@code perPartition} records to each of partitions {@code 0 .. partitions-1}, with acks=all and
     * without idempotence, and waits until all are acknowledged. Values are {@code "p-i"}: partition p, i counting
     * from {@code from}; keys are null.
     */
    public static void produceToEachPartition(String bootstrapServers, String topic, int partitions, int from,
                                              int perPartition) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int part = 0; part < partitions; part++) {
                for (int i = from; i < from + perPartition; i++) {
                    producer.send(new ProducerRecord<>(topic, part, null, part + "-" + i));
                }
            }
            producer.flush();
        }
    }
}
