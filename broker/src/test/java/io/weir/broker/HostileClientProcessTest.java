package io.weir.broker;

import io.weir.broker.testing.BrokerProcess;
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

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile client against a broker process with its default heap, while a healthy kafka-clients
 * producer and consumer run: 20 connections each declaring a 100 MB request and sending 10 bytes,
 * held open, plus JoinGroup length bombs (a protocol metadata field declaring 2 GiB or 200 MB in a
 * 60-byte request). ApiVersions and Metadata on fresh connections are answered throughout, the
 * healthy producer's records are all acknowledged and the consumer reads every one of them.
 */
class HostileClientProcessTest {
    private static final int STALLED_CONNECTIONS = 20;
    private static final int DECLARED_FRAME_BYTES = 100 << 20;
    private static final long ATTACK_MS = 3_000;

    @TempDir
    Path dir;

    @Test
    void shouldKeepAnsweringAndLoseNothingUnderStalledFramesAndLengthBombs() throws Exception {
        try (BrokerProcess broker = new BrokerProcess(dir)) {
            broker.start();
            String bootstrap = broker.bootstrapServers();
            assertEquals(0, apiVersionsError(broker.port(), 1));

            AtomicBoolean producing = new AtomicBoolean(true);
            AtomicInteger sent = new AtomicInteger();
            AtomicReference<Throwable> producerFailure = new AtomicReference<>();
            List<String> acked = new CopyOnWriteArrayList<>();
            Thread producer = new Thread(() -> produce(bootstrap, producing, sent, acked, producerFailure), "healthy-producer");
            producer.start();
            List<String> consumed = new CopyOnWriteArrayList<>();
            AtomicBoolean consuming = new AtomicBoolean(true);
            AtomicReference<Throwable> consumerFailure = new AtomicReference<>();
            Thread consumer = new Thread(() -> consume(bootstrap, consuming, consumed, consumerFailure), "healthy-consumer");
            consumer.start();
            awaitAtLeast(sent, 200, "the healthy producer got going");

            List<Socket> attack = new ArrayList<>();
            try {
                for (int i = 0; i < STALLED_CONNECTIONS; i++) {
                    Socket s = new Socket("127.0.0.1", broker.port());
                    attack.add(s);
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    out.writeInt(DECLARED_FRAME_BYTES);
                    out.write(new byte[10]);
                    out.flush();
                }
                for (int i = 0; i < 12; i++) {
                    Socket s = new Socket("127.0.0.1", broker.port());
                    attack.add(s);
                    OutputStream out = s.getOutputStream();
                    out.write(joinGroupLengthBomb(i, i % 2 == 0 ? Integer.MAX_VALUE : 200 << 20));
                    out.flush();
                }
                int probes = 0;
                long end = System.nanoTime() + ATTACK_MS * 1_000_000;
                while (System.nanoTime() < end || probes < 10) {
                    assertEquals(0, apiVersionsError(broker.port(), 100 + probes),
                        "ApiVersions answered during the attack; broker output:\n" + broker.output());
                    assertTrue(metadataAnswered(broker.port(), 1_000 + probes),
                        "Metadata answered during the attack; broker output:\n" + broker.output());
                    probes++;
                }
            } finally {
                for (Socket s : attack) {
                    s.close();
                }
            }

            int sentDuringAttack = sent.get();
            awaitAtLeast(sent, sentDuringAttack + 200, "the healthy producer goes on after the attack");
            producing.set(false);
            producer.join(120_000);
            assertNull(producerFailure.get(), "the healthy producer failed");
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (consumed.size() < acked.size() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            consuming.set(false);
            consumer.join(30_000);
            assertNull(consumerFailure.get(), "the healthy consumer failed");
            assertEquals(acked, consumed.subList(0, Math.min(consumed.size(), acked.size())),
                "the consumer reads every acknowledged record, in order");
            assertEquals(acked.size(), consumed.size());
            assertEquals(0, apiVersionsError(broker.port(), 2), "still answering after the attack");
        }
    }

    private static void produce(String bootstrap, AtomicBoolean producing, AtomicInteger sent, List<String> acked,
                                AtomicReference<Throwable> failure) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("linger.ms", "1");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            int i = 0;
            while (producing.get()) {
                List<Future<RecordMetadata>> batch = new ArrayList<>();
                List<String> values = new ArrayList<>();
                for (int j = 0; j < 20; j++, i++) {
                    values.add("value-" + i);
                    batch.add(producer.send(new ProducerRecord<>("healthy", 0, "k", "value-" + i)));
                }
                for (int j = 0; j < batch.size(); j++) {
                    batch.get(j).get();
                    acked.add(values.get(j));
                    sent.incrementAndGet();
                }
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    private static void consume(String bootstrap, AtomicBoolean consuming, List<String> consumed,
                                AtomicReference<Throwable> failure) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition("healthy", 0);
            c.assign(List.of(tp));
            c.seek(tp, 0);
            while (consuming.get()) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    if (r.offset() != consumed.size()) {
                        throw new AssertionError("offset " + r.offset() + " after " + consumed.size() + " records");
                    }
                    consumed.add(r.value());
                }
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    private static void awaitAtLeast(AtomicInteger counter, int n, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (counter.get() < n) {
            assertTrue(System.nanoTime() < deadline, "never happened: " + what);
            Thread.sleep(10);
        }
    }

    private static ByteBuffer header(int apiKey, int version, int correlationId, String clientId) {
        byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1024);
        b.putInt(0); // size, set when done
        b.putShort((short) apiKey).putShort((short) version).putInt(correlationId).putShort((short) id.length).put(id);
        return b;
    }

    private static byte[] finish(ByteBuffer b) {
        b.putInt(0, b.position() - 4);
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putShort((short) bytes.length).put(bytes);
    }

    /** JoinGroup v0 whose one protocol's metadata declares {@code declaredBytes} and carries 4. */
    private static byte[] joinGroupLengthBomb(int correlationId, int declaredBytes) {
        ByteBuffer b = header(11, 0, correlationId, "bomb");
        putString(b, "bombed-group");
        b.putInt(10_000); // session timeout
        putString(b, ""); // member id
        putString(b, "consumer");
        b.putInt(1); // one protocol
        putString(b, "range");
        b.putInt(declaredBytes).putInt(0);
        return finish(b);
    }

    /** Sends one request on a fresh connection and returns the response body after the correlation id. */
    private static ByteBuffer roundTrip(int port, byte[] request, int correlationId) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] response = new byte[in.readInt()];
            in.readFully(response);
            ByteBuffer b = ByteBuffer.wrap(response);
            assertEquals(correlationId, b.getInt(), "correlation id");
            return b;
        }
    }

    private static short apiVersionsError(int port, int correlationId) throws IOException {
        return roundTrip(port, finish(header(18, 0, correlationId, "probe")), correlationId).getShort();
    }

    private static boolean metadataAnswered(int port, int correlationId) throws IOException {
        ByteBuffer request = header(3, 1, correlationId, "probe");
        request.putInt(-1); // all topics
        ByteBuffer response = roundTrip(port, finish(request), correlationId);
        return response.getInt() >= 1; // at least this broker in the brokers array
    }
}
