package io.weir.streams;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.common.TopicPartition;
import io.weir.common.testing.Wait;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.GlobalKTable;
import io.weir.streams.kstream.Produced;
import io.weir.streams.serialization.Serdes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stream–GlobalKTable join in {@link WeirStreams} against a real in-JVM broker: every instance holds the
 * whole global table, so each order is enriched whichever partition its user lives in, and a restart on
 * the same state directory reads no global record again (the global store committed its offsets).
 */
@Timeout(300)
class GlobalKTableIntegrationTest {
    private static final int USERS = 20;
    private static StreamsTestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = StreamsTestCluster.start("weir-global-it");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("users", 2, (short) 1), new NewTopic("orders", 2, (short) 1),
                new NewTopic("enriched", 2, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static WeirStreams streams(Path stateDir) {
        StreamsBuilder builder = new StreamsBuilder();
        GlobalKTable<String, String> users = builder.globalTable("users", Consumed.with(Serdes.String(), Serdes.String()));
        builder.stream("orders", Consumed.with(Serdes.String(), Serdes.String()))
            .join(users, (orderId, userId) -> userId, (userId, name) -> userId + ":" + name)
            .to("enriched", Produced.with(Serdes.String(), Serdes.String()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "global-join");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put("consumer.session.timeout.ms", "3000");
        p.put("consumer.heartbeat.interval.ms", "500");
        return new WeirStreams(builder.build(), p);
    }

    /** Sends to an explicit partition so users and their orders sit in different partitions. */
    private static void send(String topic, int partition, String key, String value) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", cluster.bootstrapServers());
        try (WeirProducer<String, String> producer = new WeirProducer<>(c, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, partition, key, value));
            producer.flush();
        }
    }

    /** Waits (bounded by the test's timeout) for {@code count} committed output records, keyed by order id. */
    private static Map<String, String> awaitOutput(int count) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", cluster.bootstrapServers());
        c.put("isolation.level", "read_committed");
        c.put("enable.auto.commit", false);
        Map<String, String> out = new TreeMap<>();
        try (WeirConsumer<String, String> consumer = new WeirConsumer<>(c, new Deserializers.StringDeserializer(),
            new Deserializers.StringDeserializer())) {
            List<TopicPartition> tps = List.of(new TopicPartition("enriched", 0), new TopicPartition("enriched", 1));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            int seen = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (seen < count) {
                if (System.nanoTime() - deadline > 0) {
                    assertEquals(count, seen, "committed output records in 120 s: " + out);
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    out.put(r.key(), r.value());
                    seen++;
                }
            }
            assertEquals(count, seen, "output records");
        }
        return out;
    }

    @Test
    void enrichesFromTheWholeGlobalTableAndRestartsWithoutRereadingIt() throws Exception {
        for (int u = 0; u < USERS; u++) {
            send("users", u % 2, "u" + u, "name" + u);
        }
        Path stateDir = cluster.root().resolve("state");
        Map<String, String> expected = new TreeMap<>();
        try (WeirStreams streams = streams(stateDir)) {
            streams.start();
            assertEquals(USERS, streams.globalRecordsRestored(), "the first start reads the whole global topic");
            for (int o = 0; o < USERS; o++) {
                // the order lands in the partition its user is NOT in
                send("orders", (o + 1) % 2, "o" + o, "u" + o);
                expected.put("o" + o, "u" + o + ":name" + o);
            }
            assertEquals(expected, awaitOutput(USERS));
        }
        try (WeirStreams streams = streams(stateDir)) {
            streams.start();
            assertEquals(0, streams.globalRecordsRestored(), "the restart finds the global store up to date");
            send("users", 1, "u100", "late");   // applied by the running global thread
            Wait.until(() -> streams.globalCommittedOffsets().getOrDefault(new TopicPartition("users", 1), 0L) >= USERS / 2 + 1,
                Duration.ofSeconds(120), () -> "the global thread to commit users-1 past " + USERS / 2 + ", it committed "
                    + streams.globalCommittedOffsets());
            for (int o = USERS; o < 2 * USERS; o++) {
                send("orders", o % 2, "o" + o, "u" + (o - USERS));
                expected.put("o" + o, "u" + (o - USERS) + ":name" + (o - USERS));
            }
            assertEquals(expected, awaitOutput(2 * USERS));
            send("orders", 0, "late-order", "u100");
            expected.put("late-order", "u100:late");
            Map<String, String> out = awaitOutput(2 * USERS + 1);
            assertTrue(out.containsKey("late-order"), "the running global thread applied the new user: " + out);
            assertEquals(expected, out);
        }
    }

    /** A job joining {@code orders-<n>} with the global table of {@code prices-<n>} (long values), with a handler and listener. */
    private static WeirStreams pricedJob(int n, List<Throwable> handled, WeirStreams.StreamThreadExceptionResponse response,
                                         List<WeirStreams.State> states) {
        StreamsBuilder builder = new StreamsBuilder();
        GlobalKTable<String, Long> prices = builder.globalTable("prices-" + n, Consumed.with(Serdes.String(), Serdes.Long()));
        builder.stream("orders-" + n, Consumed.with(Serdes.String(), Serdes.String()))
            .join(prices, (orderId, sku) -> sku, (sku, price) -> sku + "=" + price)
            .to("priced-" + n, Produced.with(Serdes.String(), Serdes.String()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "global-fail-" + n);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(StreamsConfig.STATE_DIR_CONFIG, cluster.root().resolve("global-fail-" + n).toString());
        p.put("consumer.session.timeout.ms", "3000");
        p.put("consumer.heartbeat.interval.ms", "500");
        WeirStreams streams = new WeirStreams(builder.build(), p);
        streams.setUncaughtExceptionHandler(e -> {
            handled.add(e);
            return response;
        });
        streams.setStateListener((newState, oldState) -> states.add(newState));
        return streams;
    }

    private static void createTopics(String... names) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            List<NewTopic> topics = new java.util.ArrayList<>();
            for (String name : names) {
                topics.add(new NewTopic(name, 1, (short) 1));
            }
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
    }

    private static void awaitState(WeirStreams streams, WeirStreams.State state) throws InterruptedException {
        Wait.until(() -> streams.state() == state, Duration.ofSeconds(120),
            () -> "the job to be " + state + ", it is " + streams.state());
    }

    private static void sendBytes(String topic, String key, byte[] value) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", cluster.bootstrapServers());
        try (WeirProducer<String, byte[]> producer = new WeirProducer<>(c, new Serializers.StringSerializer(),
            new Serializers.ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, 0, key, value));
            producer.flush();
        }
    }

    /**
     * A global record that cannot be deserialized, with the default log-and-fail handler, kills the global thread:
     * the client goes to ERROR and the uncaught-exception handler hears of it (asking to replace the thread does not
     * help: the global thread cannot be replaced), instead of serving global stores that silently stopped updating.
     */
    @Test
    void shouldMoveTheClientToErrorWhenTheGlobalThreadFails() throws Exception {
        createTopics("prices-1", "orders-1", "priced-1");
        sendBytes("prices-1", "a", Serdes.Long().serializer().serialize("prices-1", 5L));
        List<Throwable> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<WeirStreams.State> states = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (WeirStreams streams = pricedJob(1, handled, WeirStreams.StreamThreadExceptionResponse.REPLACE_THREAD, states)) {
            streams.start();
            awaitState(streams, WeirStreams.State.RUNNING);
            sendBytes("prices-1", "b", "not a long".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            awaitState(streams, WeirStreams.State.ERROR);
            assertEquals(1, handled.size(), "the handler was told once: " + handled);
            Throwable cause = handled.get(0);
            assertTrue(cause.getMessage().contains("prices-1") && cause.getMessage().contains("deserialization"),
                cause.getMessage());
            assertEquals(List.of(WeirStreams.State.PENDING_ERROR, WeirStreams.State.ERROR),
                states.subList(states.size() - 2, states.size()), states.toString());
            assertTrue(streams.threads().stream().noneMatch(Thread::isAlive), "the stream threads stopped");
        }
    }

    /** The global topic deleted under a running job: the global thread fails, the client goes to ERROR. */
    @Test
    void shouldMoveTheClientToErrorWhenAGlobalTopicIsDeleted() throws Exception {
        createTopics("prices-2", "orders-2", "priced-2");
        sendBytes("prices-2", "a", Serdes.Long().serializer().serialize("prices-2", 5L));
        List<Throwable> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<WeirStreams.State> states = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (WeirStreams streams = pricedJob(2, handled, WeirStreams.StreamThreadExceptionResponse.SHUTDOWN_CLIENT, states)) {
            streams.start();
            awaitState(streams, WeirStreams.State.RUNNING);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
                admin.deleteTopics(List.of("prices-2")).all().get(60, TimeUnit.SECONDS);
            }
            awaitState(streams, WeirStreams.State.ERROR);
            assertEquals(1, handled.size(), "the handler was told once: " + handled);
            assertTrue(handled.get(0).getMessage().contains("global topic prices-2 no longer exists"), handled.get(0).getMessage());
        }
    }
}
