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
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A batch damaged on disk below the recovery point (where recovery never looks): with
 * {@code log.verify.on.start} the broker quarantines it, a kafka-clients consumer gets a clear error at
 * that offset instead of stalling, and reads on both sides of it work.
 */
class QuarantineTest {
    @Test
    void shouldAnswerCorruptMessageForAQuarantinedBatchAndServeAroundIt() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(Map.of(BrokerConfig.LOG_VERIFY_ON_START, "true")).start()) {
            Properties ap = new Properties();
            ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            try (Admin admin = Admin.create(ap)) {
                admin.createTopics(List.of(new NewTopic("q", 1, (short) 1).configs(Map.of("segment.bytes", "1000"))))
                    .all().get();
            }
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            pp.put(ProducerConfig.LINGER_MS_CONFIG, "0");
            try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 40; i++) {
                    p.send(new ProducerRecord<>("q", 0, "k" + i, "value-" + i)).get();
                }
            }
            broker.broker().shutdown(); // clean: the next start skips recovery
            // damage the third batch of the first segment, inside its records (the CRC no longer matches)
            try (RandomAccessFile f = new RandomAccessFile(broker.logDir().resolve("q-0")
                    .resolve("00000000000000000000.log").toFile(), "rw")) {
                long pos = 0;
                for (int i = 0; i < 2; i++) {
                    f.seek(pos + 8);
                    pos += 12 + f.readInt();
                }
                f.seek(pos + 70);
                int b = f.read();
                f.seek(pos + 70);
                f.write(b ^ 0xff);
            }
            broker.start();

            Properties cp = new Properties();
            cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
                TopicPartition tp = new TopicPartition("q", 0);
                c.assign(List.of(tp));
                c.seek(tp, 0);
                List<Long> before = new ArrayList<>();
                KafkaException e = null;
                long deadline = System.currentTimeMillis() + 30_000;
                while (e == null && System.currentTimeMillis() < deadline) {
                    try {
                        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                            before.add(r.offset());
                        }
                    } catch (KafkaException ex) {
                        e = ex;
                    }
                }
                assertTrue(e != null, "the consumer got an error instead of stalling");
                assertEquals(List.of(0L, 1L), before);
                assertTrue(String.valueOf(e.getMessage()).contains("offset 2") || String.valueOf(e.getMessage()).contains("corrupt"),
                    e.toString());
                c.seek(tp, 3);
                List<Long> after = new ArrayList<>();
                deadline = System.currentTimeMillis() + 30_000;
                while (after.size() < 37 && System.currentTimeMillis() < deadline) {
                    c.poll(Duration.ofMillis(200)).forEach(r -> after.add(r.offset()));
                }
                assertEquals(37, after.size());
                assertEquals(3L, after.get(0));
            }
        }
    }
}
