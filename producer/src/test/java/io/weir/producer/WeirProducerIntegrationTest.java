package io.weir.producer;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.common.record.Header;
import io.weir.protocol.client.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weir's producer against a real in-JVM broker, read back with Apache kafka-clients' consumer. */
class WeirProducerIntegrationTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();
    private static final AtomicInteger TOPICS = new AtomicInteger();

    static Map<String, Object> props(String bootstrap) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", Serializers.StringSerializer.class.getName());
        p.put("value.serializer", Serializers.StringSerializer.class.getName());
        return p;
    }

    private static String newTopic(int partitions) throws Exception {
        String t = "t" + TOPICS.incrementAndGet();
        KafkaInterop.createTopic(BROKER.bootstrapServers(), t, partitions);
        return t;
    }

    @Test
    void shouldWriteWhatKafkaConsumerReadsBackForEveryCodec() throws Exception {
        for (String codec : new String[] {"none", "gzip", "snappy", "lz4", "zstd"}) {
            String topic = newTopic(3);
            Map<String, Object> p = props(BROKER.bootstrapServers());
            p.put("compression.type", codec);
            p.put("linger.ms", "20");
            int n = 2_000;
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            try (WeirProducer<String, String> producer = new WeirProducer<>(p)) {
                for (int i = 0; i < n; i++) {
                    futures.add(producer.send(new ProducerRecord<>(topic, null, 1_000L + i, "key-" + i, "value-" + i,
                        List.of(new Header("h", ("x" + i).getBytes(StandardCharsets.UTF_8))))));
                }
                producer.flush();
                for (int i = 0; i < n; i++) {
                    RecordMetadata md = futures.get(i).get(10, TimeUnit.SECONDS);
                    assertTrue(md.offset() >= 0);
                    byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
                    assertEquals(Utils.toPositive(Utils.murmur2(key)) % 3, md.partition(), "same partition as Kafka's");
                }
            }
            List<ConsumerRecord<byte[], byte[]>> read = KafkaInterop.readAll(BROKER.bootstrapServers(), topic, 3, n,
                Duration.ofSeconds(30));
            assertEquals(n, read.size(), codec);
            Map<String, ConsumerRecord<byte[], byte[]>> byKey = new HashMap<>();
            read.forEach(r -> byKey.put(new String(r.key(), StandardCharsets.UTF_8), r));
            for (int i = 0; i < n; i++) {
                ConsumerRecord<byte[], byte[]> r = byKey.get("key-" + i);
                assertNotNull(r, codec + " key-" + i);
                assertEquals("value-" + i, new String(r.value(), StandardCharsets.UTF_8));
                assertEquals(1_000L + i, r.timestamp());
                assertArrayEquals(("x" + i).getBytes(StandardCharsets.UTF_8), r.headers().lastHeader("h").value());
            }
        }
    }

    @Test
    void shouldAcknowledgeWithAcksZeroAndOne() throws Exception {
        for (String acks : new String[] {"0", "1"}) {
            String topic = newTopic(1);
            Map<String, Object> p = props(BROKER.bootstrapServers());
            p.put("acks", acks);
            try (WeirProducer<String, String> producer = new WeirProducer<>(p)) {
                RecordMetadata md = null;
                for (int i = 0; i < 100; i++) {
                    md = producer.send(new ProducerRecord<>(topic, "v" + i)).get(10, TimeUnit.SECONDS);
                }
                assertEquals(acks.equals("0") ? -1 : 99, md.offset());
            }
            assertEquals(100, KafkaInterop.readAll(BROKER.bootstrapServers(), topic, 1, 100, Duration.ofSeconds(20)).size());
        }
    }

    /** Sends everything to the last partition. */
    public static final class LastPartitioner implements Partitioner {
        static final AtomicInteger CONFIGURED = new AtomicInteger();

        @Override
        public void configure(Map<String, ?> configs) {
            CONFIGURED.incrementAndGet();
        }

        @Override
        public int partition(String topic, Object key, byte[] keyBytes, Object value, byte[] valueBytes,
                             io.weir.protocol.client.Cluster cluster) {
            return cluster.partitionsFor(topic).size() - 1;
        }
    }

    @Test
    void shouldLoadAndUseCustomPartitioner() throws Exception {
        String topic = newTopic(4);
        Map<String, Object> p = props(BROKER.bootstrapServers());
        p.put("partitioner.class", LastPartitioner.class.getName());
        try (WeirProducer<String, String> producer = new WeirProducer<>(p)) {
            assertEquals(1, LastPartitioner.CONFIGURED.get());
            for (int i = 0; i < 50; i++) {
                assertEquals(3, producer.send(new ProducerRecord<>(topic, "k" + i, "v")).get().partition());
            }
            assertEquals(4, producer.partitionsFor(topic).size());
        }
    }

    @Test
    void shouldKeepCallbacksInSendOrderPerPartition() throws Exception {
        String topic = newTopic(2);
        Map<String, Object> p = props(BROKER.bootstrapServers());
        p.put("batch.size", "200"); // many small batches, several in flight
        List<Long>[] offsets = new List[] {new ArrayList<Long>(), new ArrayList<Long>()};
        try (WeirProducer<String, String> producer = new WeirProducer<>(p)) {
            for (int i = 0; i < 5_000; i++) {
                producer.send(new ProducerRecord<>(topic, i % 2, null, "v" + i), (md, e) -> {
                    assertEquals(null, e);
                    offsets[md.partition()].add(md.offset());
                });
            }
            producer.flush();
        }
        for (List<Long> l : offsets) {
            assertEquals(2_500, l.size());
            for (int i = 0; i < l.size(); i++) {
                assertEquals(i, l.get(i));
            }
        }
    }

    @Test
    void shouldAutoCreateAMissingTopicAsKafkasProducerDoes() throws Exception {
        String topic = "auto-created-" + TOPICS.incrementAndGet();
        Map<String, Object> p = props(BROKER.bootstrapServers());
        p.put("max.block.ms", "10000");
        try (WeirProducer<String, String> producer = new WeirProducer<>(p)) {
            RecordMetadata md = producer.send(new ProducerRecord<>(topic, "k", "v")).get(10, TimeUnit.SECONDS);
            assertEquals(0, md.offset());
            assertTrue(producer.partitionsFor(topic).size() >= 1, "the broker created it with num.partitions");
        }
    }

    @Test
    void shouldFailSendAfterMaxBlockMsWhenNoBrokerAnswers() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Map<String, Object> p = props("127.0.0.1:" + port);
        p.put("max.block.ms", "700");
        try (WeirProducer<String, String> producer = new WeirProducer<>(p)) {
            long start = System.nanoTime();
            TimeoutException e = assertThrows(TimeoutException.class,
                () -> producer.send(new ProducerRecord<>("nowhere", "v")));
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(e.getMessage().contains("not present in metadata after 700 ms"), e.getMessage());
            assertTrue(tookMs >= 600, "blocked " + tookMs + " ms");
        }
    }

    @Test
    void shouldExpireBatchesAfterDeliveryTimeoutWhenBrokerIsGone() throws Exception {
        EmbeddedBroker lonely = new EmbeddedBroker().start();
        try {
            KafkaInterop.createTopic(lonely.bootstrapServers(), "gone", 1);
            Map<String, Object> p = props(lonely.bootstrapServers());
            p.put("request.timeout.ms", "500");
            p.put("delivery.timeout.ms", "1500");
            p.put("linger.ms", "0");
            try (WeirProducer<String, String> producer = new WeirProducer<>(p)) {
                producer.send(new ProducerRecord<>("gone", "warm-up")).get(10, TimeUnit.SECONDS);
                lonely.broker().shutdown();
                CompletableFuture<Exception> seen = new CompletableFuture<>();
                Future<RecordMetadata> f = producer.send(new ProducerRecord<>("gone", "lost"),
                    (md, e) -> seen.complete(e));
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
                assertInstanceOf(TimeoutException.class, e.getCause());
                assertTrue(e.getCause().getMessage().contains("delivery.timeout.ms=1500"), e.getCause().getMessage());
                assertInstanceOf(TimeoutException.class, seen.get(1, TimeUnit.SECONDS));
            }
        } finally {
            lonely.close();
        }
    }

    @Test
    void shouldBlockOnFullBufferMemoryThenFailNamingIt() throws Exception {
        EmbeddedBroker lonely = new EmbeddedBroker().start();
        try {
            KafkaInterop.createTopic(lonely.bootstrapServers(), "full", 1);
            Map<String, Object> p = props(lonely.bootstrapServers());
            p.put("buffer.memory", "65536");
            p.put("batch.size", "16384");
            p.put("max.block.ms", "500");
            p.put("request.timeout.ms", "60000");
            try (WeirProducer<String, String> producer = new WeirProducer<>(p)) {
                producer.send(new ProducerRecord<>("full", "warm-up")).get(10, TimeUnit.SECONDS);
                lonely.broker().shutdown();
                String big = "x".repeat(10_000);
                TimeoutException e = assertThrows(TimeoutException.class, () -> {
                    for (int i = 0; i < 100; i++) {
                        producer.send(new ProducerRecord<>("full", big));
                    }
                });
                assertTrue(e.getMessage().contains("buffer.memory"), e.getMessage());
                producer.close(Duration.ZERO);
            }
        } finally {
            lonely.close();
        }
    }

    /**
     * A send reads its topic's partition count from a route cached per metadata version: once the metadata
     * names more partitions (here learnt while waiting for another topic), keyed records hash over the new
     * count, as kafka-clients' would.
     */
    @Test
    void shouldHashKeysOverPartitionsAddedOnceTheMetadataNamesThem() throws Exception {
        String grown = newTopic(2);
        try (WeirProducer<String, String> producer = new WeirProducer<>(props(BROKER.bootstrapServers()))) {
            producer.send(new ProducerRecord<>(grown, "first", "v")).get(10, TimeUnit.SECONDS);
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", BROKER.bootstrapServers()))) {
                admin.createPartitions(Map.of(grown, org.apache.kafka.clients.admin.NewPartitions.increaseTo(4)))
                    .all().get(10, TimeUnit.SECONDS);
                long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (admin.describeTopics(List.of(grown)).allTopicNames().get(10, TimeUnit.SECONDS).get(grown)
                    .partitions().size() < 4) {
                    assertTrue(System.nanoTime() < deadlineNs, "the broker never named 4 partitions");
                    Thread.onSpinWait();
                }
            }
            // a send to a topic the producer does not know yet refreshes the metadata of every known topic
            producer.send(new ProducerRecord<>(newTopic(1), "k", "v")).get(10, TimeUnit.SECONDS);
            int checked = 0;
            for (int i = 0; checked < 5; i++) {
                String key = "key-" + i;
                int expected = Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % 4;
                if (expected < 2) {
                    continue;
                }
                assertEquals(expected, producer.send(new ProducerRecord<>(grown, key, "v")).get(10, TimeUnit.SECONDS)
                    .partition(), key);
                checked++;
            }
        }
    }
}
