package io.weir.broker;

import io.weir.broker.server.ReplicaManager;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.protocol.Errors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fetch read by an interrupted thread (a request handler or the purgatory's reaper being stopped, a
 * coordinator loader stopped with {@code shutdownNow}): it used to close the segment's shared file channel, fail
 * with an I/O error and take the whole log directory offline, as if its disk had failed, until a restart. Now
 * the read succeeds, the interrupt is kept, and consumers fetch on.
 */
class InterruptedFetchReadTest {
    private static final String TOPIC = "interrupted-reads";
    private static final int RECORDS = 20;
    private EmbeddedBroker broker;

    @BeforeEach
    void start() throws Exception {
        broker = new EmbeddedBroker(Map.of()).start();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers",
            broker.bootstrapServers(), "acks", "all"), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                p.send(new ProducerRecord<>(TOPIC, 0, null, "v" + i)).get(60, TimeUnit.SECONDS);
            }
        }
    }

    @AfterEach
    void stop() {
        Thread.interrupted();
        broker.close();
    }

    @Test
    void shouldServeAFetchReadByAnInterruptedThreadAndKeepTheLogDirectoryOnline() throws Exception {
        ReplicaManager replicas = broker.broker().replicaManager();
        io.weir.common.TopicPartition tp = new io.weir.common.TopicPartition(TOPIC, 0);
        Path dir = replicas.logManager().logDirOf(tp);

        ReplicaManager.ReadResult read;
        Thread.currentThread().interrupt(); // as a handler being stopped while it reads
        try {
            read = replicas.read(tp, 0, 1 << 20, true, false);
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept");
        } finally {
            Thread.interrupted();
        }
        assertEquals(Errors.NONE, read.error());
        assertTrue(read.sizeInBytes() > 0);
        assertFalse(replicas.logManager().isOffline(dir), "the log directory stays online");

        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of("bootstrap.servers",
            broker.bootstrapServers(), "auto.offset.reset", "earliest", "enable.auto.commit", false,
            "fetch.max.wait.ms", 10), new StringDeserializer(), new StringDeserializer())) {
            c.assign(List.of(new org.apache.kafka.common.TopicPartition(TOPIC, 0)));
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (values.size() < RECORDS && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    values.add(r.value());
                }
            }
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) {
                expected.add("v" + i);
            }
            assertEquals(expected, values, "a consumer fetches every record after the interrupted read");
        }
    }
}
