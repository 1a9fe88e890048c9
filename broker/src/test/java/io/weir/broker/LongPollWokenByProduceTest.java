package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A consumer's fetch parked in the purgatory (nothing to read, {@code fetch.max.wait.ms} a minute) is
 * answered when a produce appends, over real sockets: the fetch response is then written by the thread
 * that completed it (the producer's request handler, issue 14), including a file region larger than a
 * socket buffer that the network thread finishes.
 */
class LongPollWokenByProduceTest {
    @Test
    void shouldAnswerAParkedFetchWhenAProduceAppends() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker().start()) {
            Properties a = new Properties();
            a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            try (Admin admin = Admin.create(a)) {
                admin.createTopics(List.of(new NewTopic("long-poll", 1, (short) 1))).all().get();
            }
            Properties c = new Properties();
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            // one fetch in flight per broker: while it is parked the consumer sends no other, so the records can
            // only arrive through the parked fetch being woken (its deadline is far beyond the test's patience)
            c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "60000");
            c.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1");
            c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "90000");
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            p.put(ProducerConfig.ACKS_CONFIG, "1");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
            KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                     new ByteArraySerializer())) {
                TopicPartition tp = new TopicPartition("long-poll", 0);
                consumer.assign(List.of(tp));
                consumer.seek(tp, 0);
                for (int i = 0; i < 3; i++) {
                    assertTrue(consumer.poll(Duration.ofMillis(200)).isEmpty()); // its fetch is sent and parks
                }
                byte[] small = "woken".getBytes();
                producer.send(new ProducerRecord<>("long-poll", small)).get();
                List<ConsumerRecord<byte[], byte[]>> got = pollFor(consumer, 1);
                assertEquals("woken", new String(got.get(0).value()));

                byte[] large = new byte[900_000]; // a file region more than a fresh socket takes in one write
                new Random(7).nextBytes(large);
                assertTrue(consumer.poll(Duration.ofMillis(200)).isEmpty());
                producer.send(new ProducerRecord<>("long-poll", large)).get();
                got = pollFor(consumer, 1);
                assertTrue(Arrays.equals(large, got.get(0).value()), "the large record arrived whole");
                assertEquals(1, got.get(0).offset());
            } finally {
                consumer.close(Duration.ZERO); // its next fetch is parked: do not wait for it
            }
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> pollFor(KafkaConsumer<byte[], byte[]> consumer, int n) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        // at most 30 s: well inside fetch.max.wait.ms, so only a woken fetch can deliver them
        for (int i = 0; i < 150 && out.size() < n; i++) {
            consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        assertEquals(n, out.size(), "records delivered by the woken fetch");
        return out;
    }
}
