package io.weir.producer;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.FaultProxy;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
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
 * cuts requests at random points while 100,000 small records are sent; Apache kafka-clients'
 * consumer then reads the topic. Every acknowledged record must be there exactly once, in send order
 * per partition, and nothing may be there twice.
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
                proxy.setFaults(0.03, 0.02, 100);

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

                List<ConsumerRecord<byte[], byte[]>> read = KafkaInterop.readAll(broker.bootstrapServers(), topic,
                    PARTITIONS, records, Duration.ofSeconds(60));
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
            } finally {
                broker.close();
            }
        }
    }
}
