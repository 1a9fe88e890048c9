package io.weir.consumer;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.common.TopicPartition;
import io.weir.common.record.Header;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fetch responses read into the array of an earlier response (the consumer's frame pool, used when the
 * deserializers copy everything out): every record comes out intact, in order, once, even when it is looked at
 * only after many later responses were read into reused arrays; with a deserializer that keeps a view of the
 * fetched bytes nothing is reused.
 */
@Timeout(120)
class FetchFrameReuseTest {
    private static final int PARTITIONS = 3;
    private static final int PER_PARTITION = 6_000;

    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

    /** The value of record {@code i} of a partition: random letters (lz4 leaves them large), the same every call. */
    private static String value(int partition, int i) {
        java.util.Random random = new java.util.Random(partition * 1_000_003L + i);
        StringBuilder b = new StringBuilder("p" + partition + "-v" + i + "-");
        for (int n = 60 + i % 90; n > 0; n--) {
            b.append((char) ('a' + random.nextInt(26)));
        }
        return b.toString();
    }

    private static void produce(String topic, String codec) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
        }
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (KafkaProducer<String, String> p = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < PER_PARTITION; i++) {
                for (int partition = 0; partition < PARTITIONS; partition++) {
                    p.send(new ProducerRecord<>(topic, partition, "k" + i, value(partition, i),
                        List.of(new RecordHeader("h", ("hv" + i).getBytes(StandardCharsets.UTF_8)))));
                }
            }
            p.flush();
        }
    }

    /** Every record of the topic, polled a few at a time (responses keep arriving while one is read out). */
    private static <V> List<ConsumerRecord<String, V>> readAll(WeirConsumer<String, V> consumer, String topic) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            tps.add(new TopicPartition(topic, p));
        }
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        List<ConsumerRecord<String, V>> out = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 60_000;
        while (out.size() < PARTITIONS * PER_PARTITION) {
            assertTrue(System.currentTimeMillis() < deadline, "read " + out.size());
            consumer.poll(Duration.ofMillis(100)).forEach(out::add);
        }
        consumer.poll(Duration.ofMillis(200)).forEach(out::add); // nothing beyond
        return out;
    }

    private static Map<String, Object> consumerProps() {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", BROKER.bootstrapServers());
        // many responses of a few hundred KiB each (pooled frames), read out a few records per poll
        props.put("max.partition.fetch.bytes", 96 * 1024);
        props.put("max.poll.records", 37);
        return props;
    }

    /** The records are those produced: each once, in offset order per partition, values, keys and headers intact. */
    private static void assertIntact(List<? extends ConsumerRecord<String, ?>> records, java.util.function.Function<Object,
            String> text) {
        assertEquals(PARTITIONS * PER_PARTITION, records.size());
        int[] next = new int[PARTITIONS];
        Set<String> seen = new HashSet<>();
        for (ConsumerRecord<String, ?> r : records) {
            int i = (int) r.offset();
            assertEquals(next[r.partition()], i, "partition " + r.partition() + " in order, each offset once");
            next[r.partition()]++;
            assertEquals(value(r.partition(), i), text.apply(r.value()), "value at " + r.partition() + "/" + i);
            assertEquals("k" + i, r.key());
            Header[] headers = r.headers();
            assertEquals(1, headers.length);
            assertEquals("hv" + i, new String(headers[0].value(), StandardCharsets.UTF_8));
            assertTrue(seen.add(r.partition() + "/" + i));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "lz4"})
    void shouldHandOutEveryRecordIntactWhileResponsesAreReadIntoReusedArrays(String codec) throws Exception {
        String topic = "reuse-" + codec;
        produce(topic, codec);
        Map<String, Object> props = consumerProps();
        try (WeirConsumer<String, String> consumer = new WeirConsumer<>(props, new Deserializers.StringDeserializer(),
                new Deserializers.StringDeserializer())) {
            List<ConsumerRecord<String, String>> records = readAll(consumer, topic);
            assertIntact(records, v -> (String) v);
            assertTrue(consumer.reusedFetchFrames() > 0, "fetch responses were read into reused arrays");
        }
    }

    @Test
    void shouldNotReuseAnythingWhenADeserializerKeepsAViewOfTheFetchedBytes() throws Exception {
        String topic = "views";
        produce(topic, "none");
        try (WeirConsumer<String, ByteBuffer> consumer = new WeirConsumer<>(consumerProps(),
                // its values are read-only views of the fetched bytes: they must stay as they were
                new Deserializers.StringDeserializer(), new Deserializers.ByteBufferDeserializer())) {
            List<ConsumerRecord<String, ByteBuffer>> records = readAll(consumer, topic);
            assertIntact(records, v -> StandardCharsets.UTF_8.decode(((ByteBuffer) v).duplicate()).toString());
            assertEquals(0, consumer.reusedFetchFrames());
        }
    }
}
