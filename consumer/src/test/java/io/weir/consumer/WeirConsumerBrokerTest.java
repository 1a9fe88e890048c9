package io.weir.consumer;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.common.TopicPartition;
import io.weir.consumer.errors.NoOffsetForPartitionException;
import io.weir.consumer.errors.WakeupException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weir's consumer against a real broker in the JVM, reading what kafka-clients' producer wrote. */
@Timeout(120)
class WeirConsumerBrokerTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

    static void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    /** Produces {@code n} records (key k-i, value v-i with a header) to partition {@code partition}. */
    static List<ProducerRecord<byte[], byte[]>> produce(String topic, int partition, int n, String codec,
                                                       Map<String, Object> extra) throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 16384);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false); // the broker has no InitProducerId yet
        props.putAll(extra);
        List<ProducerRecord<byte[], byte[]>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < n; i++) {
                byte[] key = i % 7 == 0 ? null : ("k-" + i).getBytes(StandardCharsets.UTF_8);
                byte[] value = i % 11 == 5 ? null : ("v-" + i + "-" + "x".repeat(i % 50)).getBytes(StandardCharsets.UTF_8);
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, partition, 1_700_000_000_000L + i, key, value,
                    List.of(new RecordHeader("h", ("hv" + i).getBytes(StandardCharsets.UTF_8))));
                sent.add(r);
                p.send(r);
            }
            p.flush();
        }
        return sent;
    }

    static Map<String, Object> consumerProps() {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, Deserializers.ByteArrayDeserializer.class.getName());
        return props;
    }

    static <K, V> List<ConsumerRecord<K, V>> pollUntil(Consumer<K, V> c, int n, Duration max) {
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        long end = System.currentTimeMillis() + max.toMillis();
        while (out.size() < n && System.currentTimeMillis() < end) {
            for (ConsumerRecord<K, V> r : c.poll(Duration.ofMillis(200))) {
                out.add(r);
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void shouldReadBackEveryRecordForEveryCodec(String codec) throws Exception {
        String topic = "codec-" + codec;
        createTopic(topic, 1);
        List<ProducerRecord<byte[], byte[]>> sent = produce(topic, 0, 2000, codec, Map.of());
        Map<String, Object> props = consumerProps();
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 333);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 10_000); // many fetches, partial batches at the end
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(props)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seek(tp, 0);
            List<ConsumerRecord<byte[], byte[]>> got = pollUntil(c, sent.size(), Duration.ofSeconds(30));
            assertEquals(sent.size(), got.size());
            for (int i = 0; i < sent.size(); i++) {
                ProducerRecord<byte[], byte[]> s = sent.get(i);
                ConsumerRecord<byte[], byte[]> r = got.get(i);
                assertEquals(i, r.offset());
                assertEquals(topic, r.topic());
                assertEquals(0, r.partition());
                assertEquals(s.timestamp(), r.timestamp());
                assertEquals(io.weir.common.record.TimestampType.CREATE_TIME, r.timestampType());
                assertArrayEquals(s.key(), r.key());
                assertArrayEquals(s.value(), r.value());
                assertEquals(s.key() == null ? -1 : s.key().length, r.serializedKeySize());
                assertEquals(1, r.headers().length);
                assertEquals("h", r.headers()[0].key());
                assertArrayEquals(s.headers().lastHeader("h").value(), r.headers()[0].value());
            }
            assertEquals(sent.size(), c.position(tp));
        }
    }

    @Test
    void shouldSeekToBeginningAndEndAndReportOffsets() throws Exception {
        String topic = "seeks";
        createTopic(topic, 1);
        produce(topic, 0, 100, "none", Map.of());
        TopicPartition tp = new TopicPartition(topic, 0);
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(consumerProps())) {
            c.assign(List.of(tp));
            assertEquals(Map.of(tp, 0L), c.beginningOffsets(List.of(tp)));
            assertEquals(Map.of(tp, 100L), c.endOffsets(List.of(tp)));
            c.seekToEnd(List.of(tp));
            assertEquals(100, c.position(tp));
            assertTrue(c.poll(Duration.ofMillis(300)).isEmpty());
            c.seekToBeginning(List.of(tp));
            assertEquals(0, c.position(tp));
            List<ConsumerRecord<byte[], byte[]>> got = pollUntil(c, 100, Duration.ofSeconds(20));
            assertEquals(100, got.size());
            assertEquals(0, got.get(0).offset());
            c.seek(tp, 42);
            ConsumerRecords<byte[], byte[]> after = c.poll(Duration.ofSeconds(5));
            assertEquals(42, after.iterator().next().offset());
        }
    }

    @Test
    void shouldReportGroupMetadataOnlyWithAGroupId() {
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(consumerProps())) {
            IllegalStateException e = assertThrows(IllegalStateException.class, c::groupMetadata);
            assertTrue(e.getMessage().contains("group.id"), e.getMessage());
        }
        Map<String, Object> props = consumerProps();
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "metadata-group");
        props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "instance-1");
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(props)) {
            // not joined yet: no generation, no member id
            assertEquals(new ConsumerGroupMetadata("metadata-group", -1, "", java.util.Optional.of("instance-1")),
                c.groupMetadata());
        }
    }

    @Test
    void shouldApplyAutoOffsetReset() throws Exception {
        String topic = "resets";
        createTopic(topic, 1);
        produce(topic, 0, 10, "none", Map.of());
        TopicPartition tp = new TopicPartition(topic, 0);
        Map<String, Object> props = consumerProps();
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(props)) {
            c.assign(List.of(tp));
            assertEquals(10, pollUntil(c, 10, Duration.ofSeconds(20)).size());
            // out of range: back to earliest
            c.seek(tp, 1_000);
            List<ConsumerRecord<byte[], byte[]>> again = pollUntil(c, 10, Duration.ofSeconds(20));
            assertEquals(10, again.size());
            assertEquals(0, again.get(0).offset());
        }
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(props)) {
            c.assign(List.of(tp));
            assertEquals(10, c.position(tp));
        }
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(props)) {
            c.assign(List.of(tp));
            assertThrows(NoOffsetForPartitionException.class, () -> c.poll(Duration.ofSeconds(1)));
            c.seek(tp, 5_000);
            assertThrows(io.weir.consumer.errors.OffsetOutOfRangeException.class, () -> {
                for (int i = 0; i < 50; i++) {
                    c.poll(Duration.ofMillis(200));
                }
            });
        }
    }

    @Test
    void shouldPauseAndResumePartitions() throws Exception {
        String topic = "pauses";
        createTopic(topic, 2);
        produce(topic, 0, 50, "lz4", Map.of());
        produce(topic, 1, 50, "lz4", Map.of());
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        Map<String, Object> props = consumerProps();
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(props)) {
            c.assign(List.of(p0, p1));
            c.pause(List.of(p1));
            assertEquals(Set.of(p1), c.paused());
            List<ConsumerRecord<byte[], byte[]>> first = pollUntil(c, 50, Duration.ofSeconds(20));
            assertEquals(50, first.size());
            assertTrue(first.stream().allMatch(r -> r.partition() == 0));
            assertTrue(c.poll(Duration.ofMillis(500)).isEmpty());
            c.resume(List.of(p1));
            List<ConsumerRecord<byte[], byte[]>> second = pollUntil(c, 50, Duration.ofSeconds(20));
            assertEquals(50, second.size());
            assertTrue(second.stream().allMatch(r -> r.partition() == 1));
            assertEquals(0, second.get(0).offset());
        }
    }

    @Test
    void shouldReadEverythingUnderReadCommittedWithoutTransactions() throws Exception {
        String topic = "rc-plain";
        createTopic(topic, 1);
        produce(topic, 0, 300, "gzip", Map.of());
        Map<String, Object> props = consumerProps();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(props)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            List<ConsumerRecord<byte[], byte[]>> got = pollUntil(c, 300, Duration.ofSeconds(20));
            assertEquals(300, got.size());
            for (int i = 0; i < 300; i++) {
                assertEquals(i, got.get(i).offset());
            }
        }
    }

    @Test
    void shouldDeserializeWithBuiltInDeserializers() throws Exception {
        String topic = "typed";
        createTopic(topic, 1);
        Map<String, Object> pp = new HashMap<>();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        java.util.UUID uuid = java.util.UUID.randomUUID();
        try (KafkaProducer<Long, String> p = new KafkaProducer<>(pp, new org.apache.kafka.common.serialization.LongSerializer(),
            new org.apache.kafka.common.serialization.StringSerializer())) {
            p.send(new ProducerRecord<>(topic, 0, 42L, "héllo wörld"));
            p.send(new ProducerRecord<>(topic, 0, null, null));
            p.send(new ProducerRecord<>(topic, 0, -7L, uuid.toString()));
            p.flush();
        }
        Map<String, Object> props = consumerProps();
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (WeirConsumer<Long, String> c = new WeirConsumer<>(props, new Deserializers.LongDeserializer(),
            new Deserializers.StringDeserializer())) {
            c.assign(List.of(new TopicPartition(topic, 0)));
            List<ConsumerRecord<Long, String>> got = pollUntil(c, 3, Duration.ofSeconds(20));
            assertEquals(42L, got.get(0).key());
            assertEquals("héllo wörld", got.get(0).value());
            assertNull(got.get(1).key());
            assertNull(got.get(1).value());
            assertEquals(-7L, got.get(2).key());
            assertEquals(uuid, new Deserializers.UUIDDeserializer().deserialize(topic,
                got.get(2).value().getBytes(StandardCharsets.UTF_8)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "lz4"})
    void shouldDecodeTextAndViewedValuesWithAndWithoutHeaders(String codec) throws Exception {
        String topic = "views-" + codec;
        createTopic(topic, 1);
        Map<String, Object> pp = new HashMap<>();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        pp.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        pp.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        int n = 300;
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new org.apache.kafka.common.serialization.StringSerializer(),
            new org.apache.kafka.common.serialization.StringSerializer())) {
            for (int i = 0; i < n; i++) {
                List<org.apache.kafka.common.header.Header> headers = i % 2 == 0 ? List.of()
                    : List.of(new RecordHeader("a", ("x" + i).getBytes(StandardCharsets.UTF_8)), new RecordHeader("b", null));
                p.send(new ProducerRecord<>(topic, 0, 1_700_000_000_000L + i, i % 3 == 0 ? null : "kä-" + i,
                    i % 5 == 0 ? null : "vö-" + i, headers));
            }
            p.flush();
        }
        Map<String, Object> props = consumerProps();
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 37);
        try (WeirConsumer<String, java.nio.ByteBuffer> c = new WeirConsumer<>(props, new Deserializers.StringDeserializer(),
            new Deserializers.ByteBufferDeserializer())) {
            c.assign(List.of(new TopicPartition(topic, 0)));
            List<ConsumerRecord<String, java.nio.ByteBuffer>> got = pollUntil(c, n, Duration.ofSeconds(30));
            assertEquals(n, got.size());
            for (int i = 0; i < n; i++) {
                ConsumerRecord<String, java.nio.ByteBuffer> r = got.get(i);
                assertEquals(i, r.offset());
                assertEquals(i % 3 == 0 ? null : "kä-" + i, r.key());
                if (i % 5 == 0) {
                    assertNull(r.value());
                    assertEquals(-1, r.serializedValueSize());
                } else {
                    assertTrue(r.value().isReadOnly());
                    assertEquals(java.nio.ByteBuffer.wrap(("vö-" + i).getBytes(StandardCharsets.UTF_8)), r.value());
                    assertEquals(("vö-" + i).getBytes(StandardCharsets.UTF_8).length, r.serializedValueSize());
                }
                if (i % 2 == 0) {
                    assertEquals(0, r.headers().length);
                } else {
                    assertEquals(2, r.headers().length);
                    assertArrayEquals(("x" + i).getBytes(StandardCharsets.UTF_8), r.lastHeader("a").value());
                    assertNull(r.lastHeader("b").value());
                }
            }
        }
    }

    @Test
    void shouldFailOnTheSameUndeserializableRecordUntilTheApplicationSeeksPastIt() throws Exception {
        String topic = "bad-record";
        createTopic(topic, 1);
        Map<String, Object> pp = new HashMap<>();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new org.apache.kafka.common.serialization.StringSerializer(),
            new org.apache.kafka.common.serialization.StringSerializer())) {
            for (String v : List.of("1", "2", "three", "4", "5")) {
                p.send(new ProducerRecord<>(topic, 0, null, v));
            }
            p.flush();
        }
        Deserializer<Integer> strict = (t, data) -> Integer.parseInt(new String(data, StandardCharsets.UTF_8));
        Map<String, Object> props = consumerProps();
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (WeirConsumer<byte[], Integer> c = new WeirConsumer<>(props, new Deserializers.ByteArrayDeserializer(), strict)) {
            c.assign(List.of(tp));
            List<Integer> values = new ArrayList<>();
            io.weir.consumer.errors.RecordDeserializationException first = null;
            long end = System.currentTimeMillis() + 20_000;
            while (first == null && System.currentTimeMillis() < end) {
                try {
                    c.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
                } catch (io.weir.consumer.errors.RecordDeserializationException e) {
                    first = e;
                }
            }
            assertEquals(List.of(1, 2), values);
            assertEquals(2, first.offset());
            assertEquals(2, c.position(tp));
            // polling again without a seek fails on the same record: it is never skipped silently
            for (int i = 0; i < 2; i++) {
                io.weir.consumer.errors.RecordDeserializationException again = assertThrows(
                    io.weir.consumer.errors.RecordDeserializationException.class, () -> c.poll(Duration.ofMillis(200)));
                assertEquals(2, again.offset());
                assertEquals(2, c.position(tp));
            }
            c.seek(tp, 3);
            pollUntil(c, 2, Duration.ofSeconds(20)).forEach(r -> values.add(r.value()));
            assertEquals(List.of(1, 2, 4, 5), values);
        }
    }

    @Test
    void shouldWakeUpABlockedPoll() throws Exception {
        String topic = "wakeups";
        createTopic(topic, 1);
        Map<String, Object> props = consumerProps();
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(props)) {
            c.assign(List.of(new TopicPartition(topic, 0)));
            ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor();
            try {
                ex.schedule(c::wakeup, 300, TimeUnit.MILLISECONDS);
                assertThrows(WakeupException.class, () -> c.poll(Duration.ofSeconds(30)));
            } finally {
                ex.shutdownNow();
            }
            c.poll(Duration.ofMillis(10)); // usable afterwards
        }
    }

    /**
     * A caught-up partition must not hold up one that still has data: with a long fetch.max.wait.ms,
     * a fetch of only the caught-up partition would be parked by the broker for that long while the
     * other partition, buffered at that moment, could not be fetched (one fetch per leader). Reading
     * many small fetches' worth of partition 0 must therefore take nowhere near one wait per fetch.
     */
    @Test
    void shouldNotStallOnACaughtUpPartitionWhileAnotherHasData() throws Exception {
        String topic = "no-stall";
        createTopic(topic, 2);
        int n = 3_000;
        produce(topic, 0, n, "none", Map.of());
        produce(topic, 1, 1, "none", Map.of());
        Map<String, Object> props = consumerProps();
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "60000");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "8192"); // partition 0 needs many fetches
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "50");
        int read = 0;
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(props)) {
            TopicPartition p0 = new TopicPartition(topic, 0);
            TopicPartition p1 = new TopicPartition(topic, 1);
            c.assign(List.of(p0, p1));
            c.seekToBeginning(List.of(p0, p1));
            // each stall would cost 60 s; the deadline allows none
            long deadline = System.currentTimeMillis() + 30_000;
            while (read < n + 1 && System.currentTimeMillis() < deadline) {
                read += c.poll(Duration.ofMillis(200)).count();
            }
        }
        assertEquals(n + 1, read, "records read before the deadline");
    }
}
