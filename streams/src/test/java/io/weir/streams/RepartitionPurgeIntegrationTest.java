package io.weir.streams;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.admin.OffsetSpec;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import io.weir.common.testing.Wait;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Grouped;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Produced;
import io.weir.streams.serialization.Serdes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Purging repartition topics in {@link WeirStreams} against a real in-JVM broker: after records went through
 * a repartition topic and were committed, the topic's log start offset (ListOffsets earliest) moves up to the
 * committed offset, and the counts downstream stay exact, before and after a restart.
 */
@Timeout(300)
class RepartitionPurgeIntegrationTest {
    private static final String REPARTITION = "purge-by-word-repartition";
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of("transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3",
            "group.initial.rebalance.delay.ms", "0", "group.min.session.timeout.ms", "1000"));
    private static Path root;

    @BeforeAll
    static void start() throws Exception {
        root = TempDirs.create("weir-purge-it");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", BROKER.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("words", 1, (short) 1), new NewTopic("word-counts", 1, (short) 1)))
                .all().get(60, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        TempDirs.delete(root);
    }

    private static WeirStreams job(long purgeIntervalMs) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("words", Consumed.with(Serdes.String(), Serdes.String()))
            .groupBy((k, word) -> word, Grouped.with("by-word", Serdes.String(), Serdes.String()))
            .count(Materialized.as("counts"))
            .toStream()
            .to("word-counts", Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "purge");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(StreamsConfig.STATE_DIR_CONFIG, root.resolve("state").toString());
        p.put(StreamsConfig.REPARTITION_PURGE_INTERVAL_MS_CONFIG, String.valueOf(purgeIntervalMs));
        p.put("consumer.session.timeout.ms", "3000");
        p.put("consumer.heartbeat.interval.ms", "500");
        return new WeirStreams(builder.build(), p);
    }

    private static void sendWords(int from, int to) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", BROKER.bootstrapServers());
        try (WeirProducer<String, String> producer = new WeirProducer<>(c, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            for (int i = from; i < to; i++) {
                producer.send(new ProducerRecord<>("words", 0, "line" + i, "w" + (i % 5)));
            }
            producer.flush();
        }
    }

    /** The latest committed count per word, once every word reached its expected count (bounded wait). */
    private static Map<String, Long> awaitCounts(Map<String, Long> expected) throws InterruptedException {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", BROKER.bootstrapServers());
        c.put("isolation.level", "read_committed");
        c.put("enable.auto.commit", false);
        Map<String, Long> latest = new TreeMap<>();
        try (WeirConsumer<String, Long> consumer = new WeirConsumer<>(c, new Deserializers.StringDeserializer(),
            new Deserializers.LongDeserializer())) {
            List<TopicPartition> tps = List.of(new TopicPartition("word-counts", 0));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Wait.until(() -> {
                for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(100))) {
                    latest.put(r.key(), r.value());
                }
                return latest.equals(expected);
            }, Duration.ofSeconds(120), () -> "committed counts to be " + expected + ", they are " + latest);
        }
        return latest;
    }

    private static long logStartOffset(Admin admin) {
        return offset(admin, OffsetSpec.earliest());
    }

    private static long endOffset(Admin admin) {
        return offset(admin, OffsetSpec.latest());
    }

    private static long offset(Admin admin, OffsetSpec spec) {
        TopicPartition tp = new TopicPartition(REPARTITION, 0);
        try {
            return admin.listOffsets(Map.of(tp, spec)).all().get(30, TimeUnit.SECONDS).get(tp).offset();
        } catch (Exception e) {
            throw new AssertionError("ListOffsets " + spec + " of " + tp + " failed", e);
        }
    }

    @Test
    void shouldDeleteCommittedRepartitionRecordsAndKeepCountsExact() throws Exception {
        Map<String, Long> expected = new TreeMap<>();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", BROKER.bootstrapServers()))) {
            try (WeirStreams streams = job(0)) {
                streams.start();
                sendWords(0, 100);
                for (int w = 0; w < 5; w++) {
                    expected.put("w" + w, 20L);
                }
                assertEquals(expected, awaitCounts(expected));
                // the 100 records (plus transaction markers) went through the repartition topic and were committed
                Wait.until(() -> logStartOffset(admin) >= 100, Duration.ofSeconds(120), () -> "the repartition topic's log start offset to pass 100 (purged), it is " + logStartOffset(admin)
                    + " of end offset " + endOffset(admin));
            }
            long purgedTo = logStartOffset(admin);
            try (WeirStreams streams = job(0)) {
                streams.start();
                sendWords(100, 150);
                for (int w = 0; w < 5; w++) {
                    expected.put("w" + w, 30L);
                }
                assertEquals(expected, awaitCounts(expected));
                Wait.until(() -> logStartOffset(admin) >= purgedTo + 50, Duration.ofSeconds(120), () -> "the log start offset to pass " + (purgedTo + 50) + " after the restart, it is "
                    + logStartOffset(admin));
            }
        }
    }
}
