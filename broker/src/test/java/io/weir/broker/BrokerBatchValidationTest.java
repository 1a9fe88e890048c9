package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.utils.Crc32c;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.Records;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ApiVersionsRequest;
import io.weir.protocol.message.ApiVersionsResponse;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.ListOffsetsResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15 items 3-4 and issue 10 bug 4 over the wire: CRC-valid but inconsistent batches answer
 * INVALID_RECORD with nothing appended (a kafka-clients consumer still reads every good record);
 * keyless records on a compacted topic are named in Produce v8+'s recordErrors; negative partition
 * indexes answer UNKNOWN_TOPIC_OR_PARTITION and keep the connection; partition counts above
 * {@code topic.max.partitions} and bad topic names answer their error codes.
 */
class BrokerBatchValidationTest {
    private static final int MAX_PARTITIONS = 4;

    private EmbeddedBroker broker;
    private Admin admin;

    @BeforeEach
    void start() throws Exception {
        broker = new EmbeddedBroker(Map.of(BrokerConfig.TOPIC_MAX_PARTITIONS, Integer.toString(MAX_PARTITIONS))).start();
        Properties ap = new Properties();
        ap.put("bootstrap.servers", broker.bootstrapServers());
        admin = Admin.create(ap);
        admin.createTopics(List.of(new NewTopic("victim", 1, (short) 1),
            new NewTopic("compacted", 1, (short) 1).configs(Map.of("cleanup.policy", "compact")))).all().get();
    }

    @AfterEach
    void stop() {
        admin.close();
        broker.close();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", broker.port());
        s.setSoTimeout(10_000);
        return s;
    }

    private static ByteBuffer roundTrip(Socket s, ByteBuffer frame) throws IOException {
        s.getOutputStream().write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
        s.getOutputStream().flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] resp = new byte[in.readInt()];
        in.readFully(resp);
        return ByteBuffer.wrap(resp);
    }

    private static ProduceResponse.PartitionProduceResponse produce(Socket s, String topic, int partition, ByteBuffer records)
        throws IOException {
        ProduceRequest req = new ProduceRequest().setAcks((short) 1).setTimeoutMs(5_000)
            .setTopicData(List.of(new ProduceRequest.TopicProduceData().setName(topic)
                .setPartitionData(List.of(new ProduceRequest.PartitionProduceData().setIndex(partition)
                    .setRecords(Records.wrap(records))))));
        ByteBuffer frame = MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.PRODUCE, (short) 9, 11, "t"), req);
        ApiMessage body = MessageCodec.parseResponse(ApiKeys.PRODUCE, (short) 9, roundTrip(s, frame)).body();
        return ((ProduceResponse) body).responses().get(0).partitionResponses().get(0);
    }

    private static ByteBuffer batch(CompressionType codec, int count) {
        RecordBatchBuilder b = new RecordBatchBuilder(codec);
        for (int i = 0; i < count; i++) {
            b.append(1L, ("k" + i).getBytes(StandardCharsets.UTF_8), ("v" + i).getBytes(StandardCharsets.UTF_8));
        }
        return b.build();
    }

    /** A copy of a batch with {@code edit} applied and its CRC recomputed: only deeper checks can catch it. */
    private static ByteBuffer crcValid(ByteBuffer batch, Consumer<ByteBuffer> edit) {
        ByteBuffer b = ByteBuffer.allocate(batch.remaining()).put(batch.duplicate()).flip();
        edit.accept(b);
        int size = RecordBatch.LOG_OVERHEAD + b.getInt(RecordBatch.LENGTH_OFFSET);
        b.putInt(RecordBatch.CRC_OFFSET, (int) Crc32c.compute(b, RecordBatch.ATTRIBUTES_OFFSET, size - RecordBatch.ATTRIBUTES_OFFSET));
        return b;
    }

    private long logEnd(String topic) {
        return broker.broker().replicaManager().partition(new TopicPartition(topic, 0)).log().logEndOffset();
    }

    private List<String> consumeAll(String topic, int expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            c.assign(List.of(new org.apache.kafka.common.TopicPartition(topic, 0)));
            List<String> out = new ArrayList<>();
            for (int polls = 0; polls < 100 && out.size() < expected; polls++) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    out.add(r.offset() + ":" + r.value());
                }
            }
            return out;
        }
    }

    @Test
    void shouldRefuseCrcValidCorruptBatchesAndKeepTheLogReadable() throws Exception {
        List<ByteBuffer> hostile = List.of(
            crcValid(batch(CompressionType.NONE, 10), b -> b.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, Integer.MAX_VALUE)),
            crcValid(batch(CompressionType.NONE, 4), b -> b.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 0)),
            crcValid(batch(CompressionType.NONE, 4), b -> b.put(RecordBatch.RECORDS_OFFSET, (byte) 0x7e)),
            crcValid(batch(CompressionType.NONE, 4), b -> b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) CompressionType.ZSTD.id)),
            crcValid(batch(CompressionType.GZIP, 4), b -> b.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 5).putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 4)),
            new RecordBatchBuilder(CompressionType.NONE).producer(1L, (short) 0, -1).transactional(true)
                .appendControl(1L, ControlRecordType.ABORT, 0).build());
        try (Socket s = connect()) {
            assertEquals(Errors.NONE.code(), produce(s, "victim", 0, batch(CompressionType.NONE, 3)).errorCode());
            for (int i = 0; i < hostile.size(); i++) {
                ProduceResponse.PartitionProduceResponse r = produce(s, "victim", 0, hostile.get(i));
                assertEquals(Errors.INVALID_RECORD.code(), r.errorCode(), "hostile batch " + i + ": " + r.errorMessage());
                assertNotNull(r.errorMessage());
                assertEquals(3, logEnd("victim"), "hostile batch " + i + " moved the log end");
            }
            assertEquals(Errors.NONE.code(), produce(s, "victim", 0, batch(CompressionType.SNAPPY, 2)).errorCode());
        }
        assertEquals(List.of("0:v0", "1:v1", "2:v2", "3:v0", "4:v1"), consumeAll("victim", 5));
    }

    @Test
    void shouldNameKeylessRecordsOfACompactedTopicInRecordErrors() throws Exception {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.LZ4);
        for (int i = 0; i < 10; i++) {
            b.append(1L, i == 2 || i == 7 ? null : ("k" + i).getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
        }
        try (Socket s = connect()) {
            ProduceResponse.PartitionProduceResponse r = produce(s, "compacted", 0, b.build());
            assertEquals(Errors.INVALID_RECORD.code(), r.errorCode());
            assertEquals(List.of(2, 7), r.recordErrors().stream().map(ProduceResponse.BatchIndexAndErrorMessage::batchIndex).toList());
            assertTrue(r.recordErrors().get(0).batchIndexErrorMessage().contains("without a key"));
            assertTrue(r.errorMessage().contains("2 of 10 records"), r.errorMessage());
        }
        assertEquals(0, logEnd("compacted"));
    }

    @Test
    void shouldFailAKafkaClientsSendOfAKeylessRecordWithInvalidRecordException() throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("compacted", "a", "1")).get();
            Future<?> keyless = producer.send(new ProducerRecord<>("compacted", null, "2"));
            ExecutionException e = assertThrows(ExecutionException.class, keyless::get);
            assertInstanceOf(org.apache.kafka.common.InvalidRecordException.class, e.getCause());
            producer.send(new ProducerRecord<>("compacted", "b", "3")).get();
        }
        assertEquals(2, logEnd("compacted"));
    }

    @Test
    void shouldAnswerNegativePartitionIndexesWithAnErrorCodeAndKeepTheConnection() throws Exception {
        try (Socket s = connect()) {
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), produce(s, "victim", -1, batch(CompressionType.NONE, 1)).errorCode());
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), produce(s, "victim", Integer.MIN_VALUE, batch(CompressionType.NONE, 1)).errorCode());
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), produce(s, "", 0, batch(CompressionType.NONE, 1)).errorCode());

            FetchRequest fetch = new FetchRequest().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20)
                .setSessionId(0).setSessionEpoch(-1)
                .setTopics(List.of(new FetchRequest.FetchTopic().setTopic("victim").setPartitions(List.of(
                    new FetchRequest.FetchPartition().setPartition(-3).setFetchOffset(0).setPartitionMaxBytes(1 << 16)))))
                .setForgottenTopicsData(List.of());
            FetchResponse fr = (FetchResponse) MessageCodec.parseResponse(ApiKeys.FETCH, (short) 12, roundTrip(s,
                MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.FETCH, (short) 12, 12, "t"), fetch))).body();
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), fr.responses().get(0).partitions().get(0).errorCode());

            ListOffsetsRequest lo = new ListOffsetsRequest().setReplicaId(-1).setTopics(List.of(
                new ListOffsetsRequest.ListOffsetsTopic().setName("victim").setPartitions(List.of(
                    new ListOffsetsRequest.ListOffsetsPartition().setPartitionIndex(-1).setTimestamp(-1)))));
            ListOffsetsResponse lr = (ListOffsetsResponse) MessageCodec.parseResponse(ApiKeys.LIST_OFFSETS, (short) 5,
                roundTrip(s, MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.LIST_OFFSETS, (short) 5, 13, "t"), lo))).body();
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), lr.topics().get(0).partitions().get(0).errorCode());

            // the same connection still answers
            ApiVersionsResponse av = (ApiVersionsResponse) MessageCodec.parseResponse(ApiKeys.API_VERSIONS, (short) 3,
                roundTrip(s, MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.API_VERSIONS, (short) 3, 14, "t"),
                    new ApiVersionsRequest().setClientSoftwareName("t").setClientSoftwareVersion("1")))).body();
            assertEquals(Errors.NONE.code(), av.errorCode());
        }
    }

    @Test
    void shouldCapPartitionCountsAndRefuseBadTopicNames() throws Exception {
        ExecutionException tooMany = assertThrows(ExecutionException.class, () -> admin.createTopics(
            List.of(new NewTopic("wide", MAX_PARTITIONS + 1, (short) 1))).all().get());
        assertInstanceOf(InvalidPartitionsException.class, tooMany.getCause());
        assertTrue(tooMany.getCause().getMessage().contains(BrokerConfig.TOPIC_MAX_PARTITIONS));

        admin.createTopics(List.of(new NewTopic("wide", MAX_PARTITIONS, (short) 1))).all().get();
        admin.createTopics(List.of(new NewTopic("narrow", 1, (short) 1))).all().get();
        ExecutionException grow = assertThrows(ExecutionException.class, () -> admin.createPartitions(
            Map.of("narrow", NewPartitions.increaseTo(MAX_PARTITIONS + 1))).all().get());
        assertInstanceOf(InvalidPartitionsException.class, grow.getCause());
        admin.createPartitions(Map.of("narrow", NewPartitions.increaseTo(MAX_PARTITIONS))).all().get();

        for (String bad : List.of("a".repeat(250), "bad name", "..", ".", "caf\u00e9")) {
            ExecutionException e = assertThrows(ExecutionException.class,
                () -> admin.createTopics(List.of(new NewTopic(bad, 1, (short) 1))).all().get(), bad);
            assertInstanceOf(InvalidTopicException.class, e.getCause(), bad);
        }
    }
}
