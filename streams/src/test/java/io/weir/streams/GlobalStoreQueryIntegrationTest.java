package io.weir.streams;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.common.testing.TempDirs;
import io.weir.common.testing.Wait;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.errors.InvalidStateStoreException;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Produced;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.QueryableStoreTypes;
import io.weir.streams.state.ReadOnlyKeyValueStore;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Interactive queries of a GlobalKTable's store in {@link WeirStreams} against a real in-JVM broker: every
 * instance answers from its whole copy of the table (read-only), and sees what the global thread applies later.
 */
@Timeout(300)
class GlobalStoreQueryIntegrationTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of("transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3",
            "group.initial.rebalance.delay.ms", "0", "group.min.session.timeout.ms", "1000"));
    private static Path root;

    @BeforeAll
    static void start() throws Exception {
        root = TempDirs.create("weir-global-iq-it");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", BROKER.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("users", 2, (short) 1), new NewTopic("orders", 2, (short) 1),
                new NewTopic("enriched", 2, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        TempDirs.delete(root);
    }

    private static void send(String topic, int partition, String key, String value) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", BROKER.bootstrapServers());
        try (WeirProducer<String, String> producer = new WeirProducer<>(c, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, partition, key, value));
            producer.flush();
        }
    }

    @Test
    void shouldAnswerQueriesFromTheWholeGlobalStore() throws Exception {
        for (int u = 0; u < 10; u++) {
            send("users", u % 2, "u" + u, "name" + u);
        }
        StreamsBuilder builder = new StreamsBuilder();
        builder.globalTable("users", Consumed.with(Serdes.String(), Serdes.String()), Materialized.as("users-store"));
        builder.stream("orders", Consumed.with(Serdes.String(), Serdes.String()))
            .to("enriched", Produced.with(Serdes.String(), Serdes.String()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "global-iq");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(StreamsConfig.STATE_DIR_CONFIG, root.resolve("state").toString());
        p.put("consumer.session.timeout.ms", "3000");
        p.put("consumer.heartbeat.interval.ms", "500");
        ReadOnlyKeyValueStore<String, String> users;
        try (WeirStreams streams = new WeirStreams(builder.build(), p)) {
            streams.start();
            Wait.until(() -> streams.state() == WeirStreams.State.RUNNING, Duration.ofSeconds(120),
                () -> "the job to be RUNNING, it is " + streams.state());
            users = streams.store(
                StoreQueryParameters.fromNameAndType("users-store", QueryableStoreTypes.<String, String>keyValueStore()));
            Map<String, String> all = new TreeMap<>();
            try (KeyValueIterator<String, String> it = users.all()) {
                it.forEachRemaining(kv -> all.put(kv.key, kv.value));
            }
            Map<String, String> expected = new TreeMap<>();
            for (int u = 0; u < 10; u++) {
                expected.put("u" + u, "name" + u);
            }
            assertEquals(expected, all, "both partitions of the global topic are in the one store");
            assertEquals("name3", users.get("u3"));
            assertNull(users.get("nobody"));
            assertEquals(10, users.approximateNumEntries());
            assertFalse(users instanceof io.weir.streams.state.KeyValueStore<?, ?>, "the view is read-only");

            send("users", 1, "u42", "late");
            ReadOnlyKeyValueStore<String, String> view = users;
            Wait.until(() -> "late".equals(view.get("u42")), Duration.ofSeconds(120),
                () -> "the query to see the user the global thread applied later, it sees " + view.get("u42"));
        }
        assertInstanceOf(InvalidStateStoreException.class, assertThrows(RuntimeException.class, () -> users.get("u3")),
            "a closed job's global store is not queryable");
    }
}
