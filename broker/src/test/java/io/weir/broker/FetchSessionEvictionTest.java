package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.RawConnection;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broker with room for one incremental fetch session ({@code max.incremental.fetch.session.cache.slots=1}):
 * a second client's session evicts the first one's, whose next incremental fetch gets
 * FETCH_SESSION_ID_NOT_FOUND; the client falls back to a full fetch and reads on — kafka-clients consumers
 * taking turns read every record.
 */
class FetchSessionEvictionTest {
    private static final String TOPIC = "evict";
    private EmbeddedBroker broker;

    @BeforeEach
    void start() throws Exception {
        broker = new EmbeddedBroker(Map.of("max.incremental.fetch.session.cache.slots", "1")).start();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private static FetchResponse fetch(RawConnection c, int sessionId, int epoch, boolean withPartitions) throws IOException {
        List<FetchRequest.FetchTopic> topics = !withPartitions ? List.of() : List.of(new FetchRequest.FetchTopic()
            .setTopic(TOPIC).setPartitions(List.of(new FetchRequest.FetchPartition().setPartition(0).setFetchOffset(0)
                .setPartitionMaxBytes(1 << 20))));
        return (FetchResponse) c.call(ApiKeys.FETCH, (short) 12, new FetchRequest().setMaxWaitMs(0).setMinBytes(1)
            .setMaxBytes(1 << 20).setSessionId(sessionId).setSessionEpoch(epoch).setTopics(topics));
    }

    @Test
    void shouldAnswerAnEvictedSessionWithFetchSessionIdNotFound() throws IOException {
        try (RawConnection a = new RawConnection(broker.port()); RawConnection b = new RawConnection(broker.port())) {
            int first = fetch(a, 0, 0, true).sessionId();
            assertNotEquals(0, first);
            assertEquals(Errors.NONE.code(), fetch(a, first, 1, false).errorCode());

            int second = fetch(b, 0, 0, true).sessionId();
            assertNotEquals(0, second, "the only slot goes to the newer consumer session");
            assertEquals(1, broker.broker().fetchSessions().evictions());
            assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND.code(), fetch(a, first, 2, false).errorCode());

            // the evicted client's full fetch starts a new session (evicting the other in turn)
            FetchResponse again = fetch(a, 0, 0, true);
            assertEquals(Errors.NONE.code(), again.errorCode());
            assertNotEquals(0, again.sessionId());
            assertEquals(Errors.NONE.code(), fetch(a, again.sessionId(), 1, false).errorCode());
            assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND.code(), fetch(b, second, 1, false).errorCode());
        }
    }

    @Test
    void shouldLetConsumersWhoseSessionsAreEvictedReadEveryRecord() throws Exception {
        // ~100 KB a partition read 1 KB a fetch: neither consumer can read it all in one poll, so the two
        // take turns many times over whatever the machine's speed
        int records = 2000;
        String pad = "x".repeat(100);
        Map<String, Object> producerConfig = Map.of("bootstrap.servers", broker.bootstrapServers(), "linger.ms", 0,
            "batch.size", 512);
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerConfig, new StringSerializer(),
            new StringSerializer())) {
            for (int i = 0; i < records; i++) {
                p.send(new ProducerRecord<>(TOPIC, i % 2, null, "r" + i + pad));
            }
        }
        List<TopicPartition> partitions = List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1));
        Map<String, Object> consumerConfig = Map.of("bootstrap.servers", broker.bootstrapServers(),
            // above the producer's batch.size (no batch is cut), far below a partition's bytes: many fetches each
            "max.partition.fetch.bytes", 1024, "fetch.max.wait.ms", 10, "auto.offset.reset", "earliest",
            "enable.auto.commit", false);
        try (KafkaConsumer<String, String> c1 = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
                new StringDeserializer());
             KafkaConsumer<String, String> c2 = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
                 new StringDeserializer())) {
            c1.assign(partitions);
            c2.assign(partitions);
            List<String> read1 = new ArrayList<>();
            List<String> read2 = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            // taking turns, each consumer's session evicts the other's, many times over
            while ((read1.size() < records || read2.size() < records) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c1.poll(Duration.ofMillis(50))) {
                    read1.add(r.value());
                }
                for (ConsumerRecord<String, String> r : c2.poll(Duration.ofMillis(50))) {
                    read2.add(r.value());
                }
            }
            assertEquals(records, read1.size(), "consumer 1 read every record exactly once");
            assertEquals(records, read2.size(), "consumer 2 read every record exactly once");
            assertEquals(records, read1.stream().distinct().count());
            assertEquals(records, read2.stream().distinct().count());
        }
        assertTrue(broker.broker().fetchSessions().evictions() > 1, "sessions were evicted on the way");
    }
}
