package io.weir.streams;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.Stores;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Task life cycle against a real in-JVM broker: processors are initialized only after their stores are
 * restored.
 */
@Timeout(300)
class StreamsTasksIntegrationTest {
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static EmbeddedBroker broker;
    private static Path root;

    @BeforeAll
    static void start() {
        broker = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3",
            "group.initial.rebalance.delay.ms", "0", "group.min.session.timeout.ms", "1000")).start();
        root = TempDirs.create("weir-streams-tasks");
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
        TempDirs.delete(root);
    }

    private static void createTopics(int partitions, String... names) throws Exception {
        List<NewTopic> topics = new ArrayList<>();
        for (String n : names) {
            topics.add(new NewTopic(n, partitions, (short) 1));
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
    }

    private static Properties props(String appId, Path stateDir) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put("consumer.session.timeout.ms", "3000");
        p.put("consumer.heartbeat.interval.ms", "500");
        return p;
    }

    private static void produce(String topic, int from, int to) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("linger.ms", 5);
        try (WeirProducer<String, String> producer = new WeirProducer<>(p, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            for (int i = from; i < to; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + (i % 50), "v" + i));
            }
            producer.flush();
        }
    }

    /** The last value per key in the read_committed topic. */
    private static Map<String, Long> readLatest(String topic, int partitions) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", broker.bootstrapServers());
        c.put("isolation.level", "read_committed");
        c.put("enable.auto.commit", false);
        try (WeirConsumer<String, Long> consumer = new WeirConsumer<>(c, new Deserializers.StringDeserializer(),
            new Deserializers.LongDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            Map<String, Long> out = new TreeMap<>();
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(100))) {
                    out.put(r.key(), r.value());
                }
            }
            return out;
        }
    }

    private static void awaitRunning(WeirStreams streams) throws InterruptedException {
        while (streams.state() != WeirStreams.State.RUNNING) {
            if (streams.state() == WeirStreams.State.ERROR || streams.state() == WeirStreams.State.NOT_RUNNING) {
                fail("the job stopped: " + streams.state());
            }
            Thread.sleep(50);
        }
    }

    /** Counts records into the store "tally" (one total per task) and records what init() read from it. */
    private static Topology tallyTopology(String input, String output, List<Long> seenAtInit) {
        Topology t = new Topology();
        t.addSource("in", new Deserializers.StringDeserializer(), new Deserializers.StringDeserializer(), input);
        t.addProcessor("tally", () -> new ContextualProcessor<String, String, String, Long>() {
            private KeyValueStore<String, Long> store;

            @Override
            public void init(ProcessorContext<String, Long> context) {
                super.init(context);
                store = context.getStateStore("tally");
                Long total = store.get("total");
                seenAtInit.add(total == null ? 0L : total);
            }

            @Override
            public void process(Record<String, String> record) {
                Long total = store.get("total");
                long next = (total == null ? 0 : total) + 1;
                store.put("total", next);
                context().forward(record.withKey("total").withValue(next));
            }
        }, "in");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("tally"), Serdes.String(), Serdes.Long()),
            "tally");
        t.addSink("out", output, new Serializers.StringSerializer(), new Serializers.LongSerializer(), "tally");
        return t;
    }

    /** A processor reading its store in init() sees the state restored from the changelog, not an empty store. */
    @Test
    void shouldInitializeProcessorsAfterTheirStoresAreRestored() throws Exception {
        int n = NAMES.incrementAndGet();
        String app = "init-after-restore-" + n;
        String input = "tally-in-" + n;
        String output = "tally-out-" + n;
        createTopics(1, input, output);
        produce(input, 0, 300);
        List<Long> firstRun = new CopyOnWriteArrayList<>();
        Properties a = props(app, root.resolve(app + "-a"));
        try (WeirStreams streams = new WeirStreams(tallyTopology(input, output, firstRun), a)) {
            streams.start();
            while (readLatest(output, 1).getOrDefault("total", 0L) < 300) {
                Thread.sleep(100);
            }
        }
        assertEquals(List.of(0L), firstRun, "a new store is empty at init");
        List<Long> secondRun = new CopyOnWriteArrayList<>();
        Properties b = props(app, root.resolve(app + "-b"));   // a new state dir: a full restore from the changelog
        try (WeirStreams streams = new WeirStreams(tallyTopology(input, output, secondRun), b)) {
            streams.start();
            awaitRunning(streams);
            assertTrue(streams.restoredRecords() > 0, "the new state directory was restored from the changelog");
            assertEquals(List.of(300L), secondRun, "init() ran after the restore and saw the restored total");
        }
    }
}
