package io.weir.producer;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.BrokerProcess;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.FaultProxy;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Idempotence under faults: a {@link FaultProxy} between producer and broker swallows responses and
 * cuts requests (at fixed chunk counts, or by chance in the kill -9 run) while 100,000 small records are
 * sent; Apache kafka-clients' consumer then reads the topic. Every acknowledged record must be there
 * exactly once, in send order per partition, and nothing may be there twice.
 */
class IdempotenceFaultTest {
    private static final int PARTITIONS = 4;

    @Test
    void shouldWriteEveryAcknowledgedRecordOnceInOrderDespiteDroppedResponsesAndCutConnections() throws Exception {
        run(100_000, 0xC0FFEE, false);
    }

    @Test
    void shouldWriteEveryAcknowledgedRecordOnceInOrderAcrossBrokerRestart() throws Exception {
        run(100_000, 0xBEEF, true);
    }

    @Test
    void shouldWriteEveryAcknowledgedRecordOnceInOrderAcrossBrokerKill9(@TempDir Path dir) throws Exception {
        int records = 50_000;
        try (FaultProxy proxy = new FaultProxy(0, 0xDEAD); BrokerProcess broker = new BrokerProcess(dir)) {
            String advertised = "advertised.listeners=PLAINTEXT://127.0.0.1:" + proxy.port();
            broker.start(advertised);
            proxy.setTarget(broker.port());
            String topic = "kill9";
            KafkaInterop.createTopic(broker.bootstrapServers(), topic, PARTITIONS);
            Map<String, Object> p = WeirProducerIntegrationTest.props(proxy.bootstrapServers());
            p.put("key.serializer", Serializers.IntegerSerializer.class.getName());
            p.put("value.serializer", Serializers.IntegerSerializer.class.getName());
            p.put("batch.size", "1024");
            p.put("linger.ms", "2");
            p.put("retry.backoff.ms", "20");
            p.put("reconnect.backoff.ms", "20");
            proxy.setFaults(0.02, 0.01, 100);
            List<List<Integer>> acked = new ArrayList<>();
            for (int i = 0; i < PARTITIONS; i++) {
                acked.add(new ArrayList<>());
            }
            ConcurrentLinkedQueue<Exception> errors = new ConcurrentLinkedQueue<>();
            try (WeirProducer<Integer, Integer> producer = new WeirProducer<>(p)) {
                for (int i = 0; i < records; i++) {
                    int value = i;
                    producer.send(new ProducerRecord<>(topic, i % PARTITIONS, null, value), (md, e) -> {
                        if (e == null) {
                            acked.get(md.partition()).add(value);
                        } else {
                            errors.add(e);
                        }
                    });
                    if (i == records / 2) {
                        broker.kill(); // SIGKILL: no flush, no clean-shutdown marker
                        broker.start(advertised);
                    }
                }
                producer.flush();
            }
            proxy.setFaults(0, 0, 0);
            assertTrue(errors.isEmpty(), "with unlimited retries nothing fails: " + errors.peek());
            assertEquals(records, assertExactlyOnceInOrder(broker.bootstrapServers(), topic, acked, records));
        }
    }

    /**
     * Reads the topic back with kafka-clients' consumer: no value twice, and per partition exactly
     * the acknowledged values in acknowledgement order. Returns how many distinct values were read.
     */
    private static int assertExactlyOnceInOrder(String bootstrap, String topic, List<List<Integer>> acked, int records)
        throws Exception {
        List<ConsumerRecord<byte[], byte[]>> read = KafkaInterop.readAll(bootstrap, topic, PARTITIONS, records,
            Duration.ofSeconds(60));
        List<List<Integer>> logged = new ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) {
            logged.add(new ArrayList<>());
        }
        Set<Integer> seen = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : read) {
            int v = ByteBuffer.wrap(r.value()).getInt();
            assertTrue(seen.add(v), "record " + v + " was written twice");
            logged.get(r.partition()).add(v);
        }
        for (int i = 0; i < PARTITIONS; i++) {
            assertEquals(acked.get(i), logged.get(i), "partition " + i + ": acknowledged records, in order");
        }
        return seen.size();
    }

    private void run(int records, long seed, boolean restart) throws Exception {
        try (FaultProxy proxy = new FaultProxy(0, seed)) {
            EmbeddedBroker broker = new EmbeddedBroker(Map.of(BrokerConfig.ADVERTISED_LISTENERS,
                "PLAINTEXT://127.0.0.1:" + proxy.port())).start();
            try {
                proxy.setTarget(broker.port());
                String topic = "faults";
                KafkaInterop.createTopic(broker.bootstrapServers(), topic, PARTITIONS);

                Map<String, Object> p = WeirProducerIntegrationTest.props(proxy.bootstrapServers());
                p.put("key.serializer", Serializers.IntegerSerializer.class.getName());
                p.put("value.serializer", Serializers.IntegerSerializer.class.getName());
                p.put("batch.size", "512"); // many batches, so faults hit batches at all stages
                p.put("linger.ms", "2");
                p.put("retry.backoff.ms", "20");
                p.put("reconnect.backoff.ms", "20");
                // faults at fixed chunk counts, so the count below is certain: at most one batch per partition per
                // request makes 100,000 records (~2,700 batches of 512 bytes) >= 675 requests and as many responses,
                // >= 135 chunks each way even when five in flight share a read: >= 6 dropped responses
                proxy.setPeriodicFaults(20, 30, 100);

                List<List<Integer>> acked = new ArrayList<>();
                for (int i = 0; i < PARTITIONS; i++) {
                    acked.add(new ArrayList<>());
                }
                ConcurrentLinkedQueue<Exception> errors = new ConcurrentLinkedQueue<>();
                AtomicInteger done = new AtomicInteger();
                try (WeirProducer<Integer, Integer> producer = new WeirProducer<>(p)) {
                    for (int i = 0; i < records; i++) {
                        int value = i;
                        producer.send(new ProducerRecord<>(topic, i % PARTITIONS, null, value), (md, e) -> {
                            if (e == null) {
                                acked.get(md.partition()).add(value); // callbacks run on one thread, in order
                            } else {
                                errors.add(e);
                            }
                            done.incrementAndGet();
                        });
                        if (restart && i == records / 2) {
                            broker.restart();
                            proxy.setTarget(broker.port());
                        }
                    }
                    producer.flush();
                    assertEquals(records, done.get());
                    assertTrue(producer.metrics().get("record-retry-total") > 0, "faults caused retries: "
                        + producer.metrics());
                }
                System.out.println("faults injected: " + proxy.faultsInjected());
                assertTrue(proxy.faultsInjected() >= 5, "faults injected: " + proxy.faultsInjected());
                proxy.setFaults(0, 0, 0);
                assertTrue(errors.isEmpty(), "with unlimited retries nothing fails: " + errors.peek());

                assertExactlyOnceInOrder(broker.bootstrapServers(), topic, acked, records);
            } finally {
                broker.close();
            }
        }
    }
}
