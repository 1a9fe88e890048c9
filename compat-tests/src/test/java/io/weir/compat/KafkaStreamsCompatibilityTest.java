package io.weir.compat;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Apache Kafka Streams 4.4 with {@code processing.guarantee=exactly_once_v2} against a Weir broker: a word
 * count with a repartition topic and a RocksDB store (so a changelog topic), run by one instance, closed, and
 * continued by a second instance on a fresh state directory (so it restores the store from the changelog).
 * The read_committed output must hold, per word, counts that only grow and end at exactly the true count: a
 * lost, doubled or aborted-but-visible record would change them.
 */
class KafkaStreamsCompatibilityTest {
    private static final String IN = "ks-words";
    private static final String OUT = "ks-counts";
    private static final List<String> WORDS = List.of("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta");
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS, "0"));

    @TempDir
    Path stateDir;

    @BeforeAll
    static void start() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(IN, 3, (short) 1), new NewTopic(OUT, 3, (short) 1)))
                .all().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void exactlyOnceV2WordCountSurvivesAnInstanceChange() throws Exception {
        Map<String, Long> expected = new HashMap<>();
        Random random = new Random(7);
        produceLines(600, random, expected);

        try (KafkaStreams first = startWordCount(stateDir.resolve("first"))) {
            awaitCounts(expected);
            first.close(Duration.ofSeconds(30));
        }

        // a second instance with an empty state directory: it must restore the counts from the changelog
        produceLines(400, random, expected);
        try (KafkaStreams second = startWordCount(stateDir.resolve("second"))) {
            awaitCounts(expected);
            second.close(Duration.ofSeconds(30));
        }
    }

    private static void produceLines(int lines, Random random, Map<String, Long> expected) throws Exception {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers(),
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
            for (int i = 0; i < lines; i++) {
                StringBuilder line = new StringBuilder();
                for (int w = 0, n = 1 + random.nextInt(6); w < n; w++) {
                    String word = WORDS.get(random.nextInt(WORDS.size()));
                    expected.merge(word, 1L, Long::sum);
                    line.append(w == 0 ? "" : " ").append(word.toUpperCase(Locale.ROOT));
                }
                producer.send(new ProducerRecord<>(IN, Integer.toString(i), line.toString()));
            }
            producer.flush();
        }
    }

    private KafkaStreams startWordCount(Path dir) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(IN, org.apache.kafka.streams.kstream.Consumed.with(Serdes.String(), Serdes.String()))
            .flatMapValues(line -> Arrays.asList(line.toLowerCase(Locale.ROOT).split(" ")))
            .groupBy((key, word) -> word, Grouped.with("by-word", Serdes.String(), Serdes.String()))
            .count(Materialized.as("word-counts"))
            .toStream()
            .to(OUT, Produced.with(Serdes.String(), Serdes.Long()));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "ks-wordcount");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // Kafka Streams does not leave the group on close: the next instance waits out the old member's session
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
        KafkaStreams streams = new KafkaStreams(builder.build(), props);
        streams.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        return streams;
    }

    /** Reads the whole read_committed output until every word's latest count is the expected one. */
    private static void awaitCounts(Map<String, Long> expected) {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers(),
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, LongDeserializer.class);
        Map<String, Long> latest = new HashMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(config)) {
            var partitions = consumer.partitionsFor(OUT).stream()
                .map(p -> new org.apache.kafka.common.TopicPartition(OUT, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (!latest.equals(expected)) {
                if (System.nanoTime() > deadline) {
                    fail("counts never reached " + expected + "; last seen " + latest);
                }
                for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(200))) {
                    assertTrue(Set.copyOf(WORDS).contains(r.key()), "unexpected key " + r.key());
                    Long before = latest.put(r.key(), r.value());
                    // a count only grows, and never past the truth: a doubled or aborted record would pass it
                    assertTrue(before == null || r.value() > before, r.key() + " went from " + before + " to " + r.value());
                    assertTrue(r.value() <= expected.get(r.key()), r.key() + " counted " + r.value()
                        + " > " + expected.get(r.key()));
                }
            }
        }
        assertEquals(expected, latest);
    }
}
