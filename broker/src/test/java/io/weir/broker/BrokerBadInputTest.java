package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.Records;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ApiVersionsRequest;
import io.weir.protocol.message.ApiVersionsResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile and malformed requests: each gets its error code or a closed connection, nothing is
 * appended, and a healthy kafka-clients producer keeps working during and after every case.
 */
class BrokerBadInputTest {
    private static final int MAX_REQUEST = 1 << 20;

    private EmbeddedBroker broker;
    private Thread healthy;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger acked = new AtomicInteger();
    private final AtomicReference<Exception> healthyFailure = new AtomicReference<>();
    /** Notified on each acknowledgement or failure of the healthy producer (no busy-waiting on 2 shared cores). */
    private final Object progress = new Object();

    @BeforeEach
    void start() {
        broker = new EmbeddedBroker(Map.of(BrokerConfig.SOCKET_REQUEST_MAX_BYTES, Integer.toString(MAX_REQUEST))).start();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        healthy = new Thread(() -> {
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                int i = 0;
                while (running.get() && i < 100_000) {
                    producer.send(new ProducerRecord<>("healthy", "k", "v" + i++)).get();
                    acked.incrementAndGet();
                    synchronized (progress) {
                        progress.notifyAll();
                    }
                }
            } catch (Exception e) {
                healthyFailure.set(e);
                synchronized (progress) {
                    progress.notifyAll();
                }
            }
        });
        healthy.start();
        awaitAcked(1);
    }

    @AfterEach
    void stop() throws InterruptedException {
        running.set(false);
        healthy.join(30_000);
        broker.close();
    }

    private void awaitAcked(int atLeast) {
        long deadline = System.currentTimeMillis() + 30_000;
        synchronized (progress) {
            long left;
            while (acked.get() < atLeast && (left = deadline - System.currentTimeMillis()) > 0
                    && healthyFailure.get() == null) {
                try {
                    progress.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        assertNull(healthyFailure.get(), "the healthy producer failed");
        assertTrue(acked.get() >= atLeast, "the healthy producer stalled at " + acked.get());
    }

    /** The healthy client must make progress after each hostile case. */
    private void healthyStillWorks() {
        awaitAcked(acked.get() + 20);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", broker.port());
        s.setSoTimeout(10_000);
        return s;
    }

    /** True when the broker closed the connection (EOF or reset) instead of answering. */
    private static boolean closedByBroker(Socket s) {
        try {
            return s.getInputStream().read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    private static ByteBuffer roundTrip(Socket s, ByteBuffer frame) throws IOException {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
        out.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] resp = new byte[in.readInt()];
        in.readFully(resp);
        return ByteBuffer.wrap(resp);
    }

    @Test
    void shouldCloseConnectionOnGarbageBytes() throws IOException {
        byte[] garbage = new byte[64];
        new Random(7).nextBytes(garbage);
        try (Socket s = connect()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(garbage.length);
            out.write(garbage);
            out.flush();
            assertTrue(closedByBroker(s));
        }
        healthyStillWorks();
    }

    @Test
    void shouldCloseConnectionOnNegativeOrOversizedFrameWithoutAllocating() throws IOException {
        for (int size : new int[] {-5, MAX_REQUEST + 1, Integer.MAX_VALUE}) {
            try (Socket s = connect()) {
                new DataOutputStream(s.getOutputStream()).writeInt(size);
                assertTrue(closedByBroker(s), "size " + size);
            }
            healthyStillWorks();
        }
    }

    @Test
    void shouldSurviveATruncatedFrame() throws IOException {
        try (Socket s = connect()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(1000);
            out.write(new byte[100]);
            out.flush();
        }
        healthyStillWorks();
    }

    @Test
    void shouldCloseConnectionOnUnknownApiKeyOrUnsupportedVersion() throws IOException {
        for (short[] keyVersion : new short[][] {{999, 0}, {ApiKeys.PRODUCE.id(), 99}, {ApiKeys.PRODUCE.id(), 0}}) {
            ByteBuffer frame = ByteBuffer.allocate(64);
            frame.putInt(0).putShort(keyVersion[0]).putShort(keyVersion[1]).putInt(42).putShort((short) 1).put((byte) 'c');
            frame.putInt(0, frame.position() - 4).flip();
            try (Socket s = connect()) {
                s.getOutputStream().write(frame.array(), 0, frame.limit());
                assertTrue(closedByBroker(s), "api " + keyVersion[0] + " v" + keyVersion[1]);
            }
        }
        healthyStillWorks();
    }

    @Test
    void shouldAnswerTooNewApiVersionsWithUnsupportedVersionInV0() throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(64);
        frame.putInt(0).putShort(ApiKeys.API_VERSIONS.id()).putShort((short) 77).putInt(5).putShort((short) -1);
        frame.putInt(0, frame.position() - 4).flip();
        try (Socket s = connect()) {
            ByteBuffer resp = roundTrip(s, frame);
            MessageCodec.ParsedResponse parsed = MessageCodec.parseResponse(ApiKeys.API_VERSIONS, (short) 0, resp);
            assertEquals(5, parsed.correlationId());
            ApiVersionsResponse body = (ApiVersionsResponse) parsed.body();
            assertEquals(Errors.UNSUPPORTED_VERSION.code(), body.errorCode());
            assertTrue(body.apiKeys().stream().anyMatch(k -> k.apiKey() == ApiKeys.PRODUCE.id()));
            // the connection stays usable: a supported ApiVersions now succeeds
            ByteBuffer ok = MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.API_VERSIONS, (short) 3, 6, "t"),
                new ApiVersionsRequest().setClientSoftwareName("t").setClientSoftwareVersion("1"));
            ApiVersionsResponse good = (ApiVersionsResponse) MessageCodec.parseResponse(ApiKeys.API_VERSIONS, (short) 3,
                roundTrip(s, ok)).body();
            assertEquals(Errors.NONE.code(), good.errorCode());
        }
    }

    private ProduceResponse.PartitionProduceResponse produce(Socket s, String topic, ByteBuffer records, short acks)
        throws IOException {
        ProduceRequest req = new ProduceRequest().setAcks(acks).setTimeoutMs(5_000)
            .setTopicData(List.of(new ProduceRequest.TopicProduceData().setName(topic)
                .setPartitionData(List.of(new ProduceRequest.PartitionProduceData().setIndex(0)
                    .setRecords(Records.wrap(records))))));
        ByteBuffer frame = MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.PRODUCE, (short) 9, 11, "t"), req);
        ApiMessage body = MessageCodec.parseResponse(ApiKeys.PRODUCE, (short) 9, roundTrip(s, frame)).body();
        return ((ProduceResponse) body).responses().get(0).partitionResponses().get(0);
    }

    private static ByteBuffer batch(int count) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.LZ4);
        for (int i = 0; i < count; i++) {
            b.append(1L, ("k" + i).getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
        }
        return b.build();
    }

    private long logEnd(String topic) {
        return broker.broker().replicaManager().partition(new TopicPartition(topic, 0)).log().logEndOffset();
    }

    @Test
    void shouldRejectCorruptBatchesWithCorruptMessageAndAppendNothing() throws Exception {
        Properties ap = new Properties();
        ap.put("bootstrap.servers", broker.bootstrapServers());
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(ap)) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("victim", 1, (short) 1))).all().get();
        }
        try (Socket s = connect()) {
            assertEquals(Errors.NONE.code(), produce(s, "victim", batch(3), (short) 1).errorCode());
            assertEquals(3, logEnd("victim"));

            ByteBuffer badCrc = batch(3);
            badCrc.put(badCrc.limit() - 1, (byte) (badCrc.get(badCrc.limit() - 1) ^ 0x01));
            assertEquals(Errors.CORRUPT_MESSAGE.code(), produce(s, "victim", badCrc, (short) 1).errorCode());

            ByteBuffer hostileLength = batch(3);
            hostileLength.putInt(RecordBatch.LENGTH_OFFSET, Integer.MAX_VALUE);
            assertEquals(Errors.CORRUPT_MESSAGE.code(), produce(s, "victim", hostileLength, (short) -1).errorCode());

            // a good batch followed by a torn one: the whole request is refused
            ByteBuffer good = batch(2);
            ByteBuffer torn = batch(2);
            ByteBuffer both = ByteBuffer.allocate(good.remaining() + torn.remaining() - 5);
            both.put(good).put(torn.limit(torn.limit() - 5)).flip();
            assertEquals(Errors.CORRUPT_MESSAGE.code(), produce(s, "victim", both, (short) 1).errorCode());

            ByteBuffer wrongMagic = batch(1);
            wrongMagic.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
            assertEquals(Errors.CORRUPT_MESSAGE.code(), produce(s, "victim", wrongMagic, (short) 1).errorCode());

            assertEquals(Errors.INVALID_REQUIRED_ACKS.code(), produce(s, "victim", batch(1), (short) 5).errorCode());
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), produce(s, "no-such-topic", batch(1), (short) 1).errorCode());
            assertEquals(3, logEnd("victim"), "nothing of the bad requests was appended");
            assertEquals(Errors.NONE.code(), produce(s, "victim", batch(1), (short) 1).errorCode());
            assertEquals(4, logEnd("victim"));
        }
        healthyStillWorks();
    }

}
