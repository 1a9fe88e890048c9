package io.weir.broker;

import io.weir.broker.testing.BrokerProcess;
import io.weir.common.testing.Wait;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A broker process stopped by SIGTERM or killed by SIGKILL serves every acknowledged record after restart. */
class BrokerProcessRestartTest {
    /** Bounds the reads of a restarted broker: a hung test's guard, generous for a loaded machine. */
    private static final long WAIT_MS = 120_000;

    @TempDir
    Path dir;

    private static List<String> produce(String bootstrap, String topic, int from, int n) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "1");
        p.put("enable.idempotence", "false");
        p.put("linger.ms", "2");
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        List<String> acked = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < from + n; i++) {
                futures.add(producer.send(new ProducerRecord<>(topic, 0, "k" + i, "value-" + i)));
            }
            producer.flush();
            for (int i = 0; i < n; i++) {
                futures.get(i).get();
                acked.add("value-" + (from + i));
            }
        }
        return acked;
    }

    private static List<String> readAll(String bootstrap, String topic, int expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seek(tp, 0);
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (out.size() < expected && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    assertEquals(out.size(), r.offset());
                    out.add(r.value());
                }
            }
        }
        return out;
    }

    @Test
    void shouldServeEveryAcknowledgedRecordAfterKill9() throws Exception {
        try (BrokerProcess broker = new BrokerProcess(dir)) {
            broker.start();
            List<String> acked = new ArrayList<>(produce(broker.bootstrapServers(), "crash", 0, 5_000));
            broker.kill();
            assertFalse(Files.exists(broker.logDir().resolve(".clean_shutdown")));
            broker.start();
            assertTrue(broker.output().contains("recovered after an unclean stop"), broker.output());
            acked.addAll(produce(broker.bootstrapServers(), "crash", 5_000, 1_000));
            assertEquals(acked, readAll(broker.bootstrapServers(), "crash", acked.size()));
        }
    }

    @Test
    void shouldStopCleanlyOnSigtermAndSkipRecoveryOnRestart() throws Exception {
        try (BrokerProcess broker = new BrokerProcess(dir)) {
            broker.start();
            List<String> acked = produce(broker.bootstrapServers(), "clean", 0, 3_000);
            broker.terminate();
            assertTrue(broker.output().contains("shut down cleanly"), broker.output());
            assertTrue(Files.exists(broker.logDir().resolve(".clean_shutdown")));
            broker.start();
            assertTrue(broker.output().contains("clean shutdown: recovery skipped"), broker.output());
            assertEquals(acked, readAll(broker.bootstrapServers(), "clean", acked.size()));
        }
    }

    @Test
    void committedOffsetsShouldSurviveKill9() throws Exception {
        try (BrokerProcess broker = new BrokerProcess(dir)) {
            broker.start("group.initial.rebalance.delay.ms=0");
            produce(broker.bootstrapServers(), "commits", 0, 100);
            Properties p = new Properties();
            p.put("bootstrap.servers", broker.bootstrapServers());
            p.put("group.id", "survivors");
            p.put("enable.auto.commit", "false");
            p.put("auto.offset.reset", "earliest");
            TopicPartition tp = new TopicPartition("commits", 0);
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
                c.subscribe(List.of("commits"));
                int seen = 0;
                long deadline = System.currentTimeMillis() + WAIT_MS;
                while (seen < 60 && System.currentTimeMillis() < deadline) {
                    seen += c.poll(Duration.ofMillis(200)).count();
                }
                assertTrue(seen >= 60, "consumed " + seen);
                c.commitSync(java.util.Map.of(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(60, "sixty")));
            }
            broker.kill();
            broker.start("group.initial.rebalance.delay.ms=0");
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
                org.apache.kafka.clients.consumer.OffsetAndMetadata committed =
                    c.committed(java.util.Set.of(tp), Duration.ofMillis(WAIT_MS)).get(tp);
                assertEquals(60, committed.offset());
                assertEquals("sixty", committed.metadata());
                c.subscribe(List.of("commits"));
                ConsumerRecord<String, String> first = null;
                long deadline = System.currentTimeMillis() + WAIT_MS;
                while (first == null && System.currentTimeMillis() < deadline) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                        first = first == null ? r : first;
                    }
                }
                assertEquals("value-60", first == null ? null : first.value(), "resumes at the committed offset");
            }
        }
    }

    /**
     * The fixture's restart: something took the broker's port while it was down (here a plain listening socket),
     * so the restart's bind fails; the fixture starts it again until the port is free, on that same port, which
     * its clients were given.
     */
    @Test
    void shouldRestartOnItsOwnPortOnceWhatTookItLetsGo() throws Exception {
        try (BrokerProcess broker = new BrokerProcess(dir)) {
            broker.start();
            int port = broker.port();
            List<String> acked = new ArrayList<>(produce(broker.bootstrapServers(), "taken", 0, 100));
            broker.kill();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread restart;
            try (ServerSocket taker = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                restart = new Thread(() -> {
                    try {
                        broker.start();
                    } catch (Throwable t) {
                        failed.set(t);
                    }
                }, "restart");
                restart.start();
                Wait.until(() -> broker.output().contains("cannot listen on 127.0.0.1:" + port) || !restart.isAlive(),
                    Duration.ofMillis(WAIT_MS), () -> "a restart that could not bind: " + broker.output());
            }
            Wait.join(restart, Duration.ofMillis(2 * WAIT_MS), broker::output);
            assertNull(failed.get(), () -> "the restart failed: " + failed.get());
            assertEquals(port, broker.port(), "the same port");
            acked.addAll(produce(broker.bootstrapServers(), "taken", 100, 100));
            assertEquals(acked, readAll(broker.bootstrapServers(), "taken", acked.size()));
        }
    }
}
