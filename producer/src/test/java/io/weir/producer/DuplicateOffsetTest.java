package io.weir.producer;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.FaultProxy;
import io.weir.protocol.Errors;
import io.weir.protocol.client.FakeBroker;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The offset an idempotent producer reports for a batch the broker had already appended when its response
 * was lost: the producer sends it again with the same sequence, the broker finds it among the producer's
 * last five batches and answers with the original batch's offsets (Kafka's behaviour), and the producer
 * reports that offset, never -1. A {@link FaultProxy} between producer and broker swallows a response and
 * cuts the connection, so the broker acted on a request whose answer the producer never saw. A broker that
 * answers DUPLICATE_SEQUENCE_NUMBER instead (older Kafka brokers) has its answer's offset reported as it is.
 */
class DuplicateOffsetTest {
    private FaultProxy proxy;
    private EmbeddedBroker broker;

    @BeforeEach
    void start() throws Exception {
        proxy = new FaultProxy(0, 0x0FF5E7);
        broker = new EmbeddedBroker(Map.of(BrokerConfig.ADVERTISED_LISTENERS, "PLAINTEXT://127.0.0.1:" + proxy.port()))
            .start();
        proxy.setTarget(broker.port());
    }

    @AfterEach
    void stop() throws Exception {
        if (broker != null) {
            broker.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    private Map<String, Object> props() {
        Map<String, Object> p = WeirProducerIntegrationTest.props(proxy.bootstrapServers());
        p.put("key.serializer", Serializers.IntegerSerializer.class.getName());
        p.put("value.serializer", Serializers.IntegerSerializer.class.getName());
        p.put("retry.backoff.ms", "20");
        p.put("reconnect.backoff.ms", "20");
        return p;
    }

    @Test
    void shouldReportTheOriginalOffsetOfABatchResentAfterItsResponseWasLost() throws Exception {
        String topic = "lost-response";
        KafkaInterop.createTopic(broker.bootstrapServers(), topic, 1);
        int value = 1;
        try (WeirProducer<Integer, Integer> producer = new WeirProducer<>(props())) {
            assertEquals(0, producer.send(new ProducerRecord<>(topic, 0, null, 0)).get(60, TimeUnit.SECONDS).offset());
            // the next bytes from the broker are swallowed: nearly always this produce's answer, but a background
            // metadata refresh may answer first and take the fault instead; then the round is repeated (at most 5)
            for (int round = 0; round < 5 && producer.metrics().get("record-retry-total") == 0; round++) {
                proxy.setFaults(1.0, 0, 1);
                RecordMetadata resent = producer.send(new ProducerRecord<>(topic, 0, null, value)).get(60, TimeUnit.SECONDS);
                assertEquals(1, proxy.faultsInjected(), "a response was lost");
                assertEquals(value, resent.offset(), "the offset the broker gave the batch the first time");
                value++;
            }
            assertTrue(producer.metrics().get("record-retry-total") > 0, "the batch was sent again: " + producer.metrics());
            assertEquals(value, producer.send(new ProducerRecord<>(topic, 0, null, value)).get(60, TimeUnit.SECONDS).offset());
            value++;
        }
        int sent = value; // values 0..value-1, each at its offset
        List<ConsumerRecord<byte[], byte[]>> read = KafkaInterop.readAll(broker.bootstrapServers(), topic, 1, sent,
            Duration.ofSeconds(60));
        assertEquals(sent, read.size(), "appended once");
        for (ConsumerRecord<byte[], byte[]> r : read) {
            assertEquals(r.offset(), ByteBuffer.wrap(r.value()).getInt(), "value " + r.offset() + " at its offset");
        }
    }

    @Test
    void shouldReportEveryRecordsOffsetDespiteDroppedResponsesAndCutConnections() throws Exception {
        String topic = "faults";
        int partitions = 2;
        int records = 20_000;
        KafkaInterop.createTopic(broker.bootstrapServers(), topic, partitions);
        Map<String, Object> p = props();
        p.put("batch.size", "512"); // many batches, several in flight when a fault hits
        p.put("linger.ms", "2");
        Map<Integer, Long> reported = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Exception> errors = new ConcurrentLinkedQueue<>();
        // faults at fixed chunk counts, so the count below is certain: one batch per partition per request makes
        // 20,000 records (~540 batches of 512 bytes) >= 270 requests and responses, >= 54 chunks each way even when
        // five in flight share a read: >= 5 dropped responses
        proxy.setPeriodicFaults(10, 15, 60);
        try (WeirProducer<Integer, Integer> producer = new WeirProducer<>(p)) {
            for (int i = 0; i < records; i++) {
                int value = i;
                producer.send(new ProducerRecord<>(topic, i % partitions, null, value), (md, e) -> {
                    if (e == null) {
                        reported.put(value, md.offset());
                    } else {
                        errors.add(e);
                    }
                });
            }
            producer.flush();
        }
        assertTrue(proxy.faultsInjected() >= 5, "faults injected: " + proxy.faultsInjected());
        proxy.setFaults(0, 0, 0);
        assertTrue(errors.isEmpty(), "with unlimited retries nothing fails: " + errors.peek());
        List<ConsumerRecord<byte[], byte[]>> read = KafkaInterop.readAll(broker.bootstrapServers(), topic, partitions,
            records, Duration.ofSeconds(60));
        assertEquals(records, read.size());
        Map<Integer, Long> actual = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : read) {
            actual.put(ByteBuffer.wrap(r.value()).getInt(), r.offset());
        }
        int unknown = 0;
        int wrong = 0;
        for (int i = 0; i < records; i++) {
            long got = reported.get(i);
            if (got < 0) {
                unknown++;
            } else if (got != actual.get(i)) {
                wrong++;
            }
        }
        assertEquals(0, wrong, "reported offsets that differ from the log");
        assertEquals(0, unknown, "records acknowledged without their offset (faults: " + proxy.faultsInjected() + ")");
    }

    @Test
    void shouldReportTheOffsetADuplicateSequenceNumberAnswerCarries() throws Exception {
        FakeBroker[] self = new FakeBroker[1];
        try (FakeBroker b = new FakeBroker((header, req, conn) -> {
            if (req instanceof MetadataRequest) {
                return new MetadataResponse().setClusterId("fake").setControllerId(1).setBrokers(List.of(
                    new MetadataResponse.MetadataResponseBroker().setNodeId(1).setHost("127.0.0.1")
                        .setPort(self[0].port()))).setTopics(List.of(new MetadataResponse.MetadataResponseTopic()
                    .setName("t").setPartitions(List.of(new MetadataResponse.MetadataResponsePartition()
                        .setPartitionIndex(0).setLeaderId(1).setReplicaNodes(List.of(1)).setIsrNodes(List.of(1))))));
            }
            if (req instanceof InitProducerIdRequest) {
                return new InitProducerIdResponse().setProducerId(42).setProducerEpoch((short) 0);
            }
            if (req instanceof ProduceRequest) {
                return new ProduceResponse().setResponses(List.of(new ProduceResponse.TopicProduceResponse()
                    .setName("t").setPartitionResponses(List.of(new ProduceResponse.PartitionProduceResponse()
                        .setIndex(0).setErrorCode(Errors.DUPLICATE_SEQUENCE_NUMBER.code()).setBaseOffset(17)
                        .setLogAppendTimeMs(-1).setLogStartOffset(0)))));
            }
            return null;
        })) {
            self[0] = b;
            Map<String, Object> p = WeirProducerIntegrationTest.props("127.0.0.1:" + b.port());
            p.put("key.serializer", Serializers.IntegerSerializer.class.getName());
            p.put("value.serializer", Serializers.IntegerSerializer.class.getName());
            try (WeirProducer<Integer, Integer> producer = new WeirProducer<>(p)) {
                RecordMetadata md = producer.send(new ProducerRecord<>("t", 0, null, 1)).get(60, TimeUnit.SECONDS);
                assertEquals(17, md.offset(), "the duplicate's offset as the broker answered it");
            }
        }
    }
}
