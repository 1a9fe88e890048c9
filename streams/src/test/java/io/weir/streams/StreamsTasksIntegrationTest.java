package io.weir.streams;

import io.weir.common.TopicPartition;
import io.weir.common.testing.Wait;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.errors.InvalidStateStoreException;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.QueryableStoreTypes;
import io.weir.streams.state.internals.RestoreProgress;
import io.weir.streams.state.Stores;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Task life cycle, interactive queries and standby replicas against a real in-JVM broker: processors are
 * initialized only after their stores are restored; two instances each answer queries for the keys of their own
 * partitions, and the metadata names the right one; a standby replica takes over a closed instance's tasks with
 * (almost) nothing to restore, and the counts stay exact.
 */
@Timeout(300)
class StreamsTasksIntegrationTest {
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static StreamsTestCluster cluster;

    @BeforeAll
    static void start() {
        cluster = StreamsTestCluster.start("weir-streams-tasks");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void produce(String topic, int from, int to) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        p.put("linger.ms", 5);
        try (WeirProducer<String, String> producer = new WeirProducer<>(p, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            for (int i = from; i < to; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + (i % 50), "v" + i));
            }
            producer.flush();
        }
    }

    /** Counts records into the store "tally" (one total per task) and records what init() read from it. */
    private static Topology tallyTopology(String input, String output, List<Long> seenAtInit) {
        return tallyTopology(input, output, seenAtInit, false);
    }

    /** {@link #tallyTopology(String, String, List)}; with {@code perKey}, also counts per key in a second store "per-key". */
    private static Topology tallyTopology(String input, String output, List<Long> seenAtInit, boolean perKey) {
        Topology t = new Topology();
        t.addSource("in", new Deserializers.StringDeserializer(), new Deserializers.StringDeserializer(), input);
        t.addProcessor("tally", () -> new ContextualProcessor<String, String, String, Long>() {
            private KeyValueStore<String, Long> store;
            private KeyValueStore<String, Long> perKeyCounts;

            @Override
            public void init(ProcessorContext<String, Long> context) {
                super.init(context);
                store = context.getStateStore("tally");
                perKeyCounts = perKey ? context.getStateStore("per-key") : null;
                Long total = store.get("total");
                seenAtInit.add(total == null ? 0L : total);
            }

            @Override
            public void process(Record<String, String> record) {
                Long total = store.get("total");
                long next = (total == null ? 0 : total) + 1;
                store.put("total", next);
                if (perKeyCounts != null) {
                    Long count = perKeyCounts.get(record.key());
                    perKeyCounts.put(record.key(), (count == null ? 0 : count) + 1);
                }
                context().forward(record.withKey("total").withValue(next));
            }
        }, "in");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("tally"), Serdes.String(), Serdes.Long()),
            "tally");
        if (perKey) {
            t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("per-key"), Serdes.String(), Serdes.Long()),
                "tally");
        }
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
        cluster.createTopics(1, input, output);
        produce(input, 0, 300);
        List<Long> firstRun = new CopyOnWriteArrayList<>();
        Properties a = cluster.props(app, cluster.root().resolve(app + "-a"));
        try (WeirStreams streams = new WeirStreams(tallyTopology(input, output, firstRun), a)) {
            streams.start();
            long[] total = {0};
            StreamsTestCluster.await(() -> (total[0] = cluster.readLatest(output, 1).getOrDefault("total", 0L)) >= 300,
                () -> "the first run's total to reach 300, it is " + total[0] + " (" + streams.state() + ")");
        }
        assertEquals(List.of(0L), firstRun, "a new store is empty at init");
        List<Long> secondRun = new CopyOnWriteArrayList<>();
        Properties b = cluster.props(app, cluster.root().resolve(app + "-b"));   // a new state dir: a full restore from the changelog
        try (WeirStreams streams = new WeirStreams(tallyTopology(input, output, secondRun), b)) {
            streams.start();
            StreamsTestCluster.awaitRunning(streams);
            assertTrue(streams.restoredRecords() > 0, "the new state directory was restored from the changelog");
            assertEquals(List.of(300L), secondRun, "init() ran after the restore and saw the restored total");
        }
    }

    // ---- two instances of the word count job

    /** Both instances RUNNING and the group's assignment names both hosts. */
    private static void awaitBothAssigned(WeirStreams a, WeirStreams b) throws InterruptedException {
        Wait.until(() -> {
            for (WeirStreams s : List.of(a, b)) {
                if (s.state() == WeirStreams.State.ERROR || s.state() == WeirStreams.State.NOT_RUNNING) {
                    fail("an instance stopped: " + s.state());
                }
            }
            return a.state() == WeirStreams.State.RUNNING && b.state() == WeirStreams.State.RUNNING
                && a.metadataForAllStreamsClients().size() >= 2 && b.metadataForAllStreamsClients().size() >= 2
                && a.metadataForAllStreamsClients().stream().noneMatch(m -> m.topicPartitions().isEmpty());
        }, StreamsTestCluster.WAIT, () -> "both instances RUNNING with partitions each, saw " + a.state() + " " + b.state()
            + ", metadata " + a.metadataForAllStreamsClients());
    }

    /**
     * Two instances: every word's count is answered by exactly the instance the metadata names (from the committed
     * state), the other has no value for it, and the metadata splits the partitions between the two hosts.
     */
    @Test
    void shouldAnswerInteractiveQueriesFromTheInstanceThatHoldsTheKey() throws Exception {
        int n = NAMES.incrementAndGet();
        String app = "iq-" + n;
        String input = "iq-lines-" + n;
        String output = "iq-counts-" + n;
        cluster.createTopics(4, input, output);
        Map<String, Long> expected = new TreeMap<>();
        cluster.produceLines(input, 0, 1000, expected);
        Properties pa = cluster.wordCountProps(app, input, output, cluster.root().resolve(app + "-a"), 7001);
        Properties pb = cluster.wordCountProps(app, input, output, cluster.root().resolve(app + "-b"), 7002);
        WeirStreams b;
        try (WeirStreams a = new WeirStreams(new WordCountJob().topology(pa), pa)) {
            a.start();
            b = new WeirStreams(new WordCountJob().topology(pb), pb);
            try (WeirStreams bb = b) {
                bb.start();
                awaitBothAssigned(a, bb);
                cluster.awaitCounts(output, 4, expected);
                Map<String, WeirStreams> byPort = Map.of("7001", a, "7002", bb);
                StoreQueryParameters<io.weir.streams.state.ReadOnlyKeyValueStore<String, Long>> params =
                    StoreQueryParameters.fromNameAndType("counts", QueryableStoreTypes.keyValueStore());
                // retried while a rebalance or a commit in flight makes the answer not yet final
                long deadline = System.nanoTime() + StreamsTestCluster.WAIT.toNanos();
                while (true) {
                    if (System.nanoTime() - deadline > 0) {
                        fail("the two instances' stores did not settle on " + expected + " in " + StreamsTestCluster.WAIT
                            + "; metadata " + a.metadataForAllStreamsClients());
                    }
                    try {
                        boolean allRight = true;
                        for (Map.Entry<String, Long> e : expected.entrySet()) {
                            KeyQueryMetadata md = a.queryMetadataForKey("counts", e.getKey(), new Serializers.StringSerializer());
                            if (!md.equals(bb.queryMetadataForKey("counts", e.getKey(), new Serializers.StringSerializer()))) {
                                allRight = false;   // a rebalance is reaching the instances one after the other
                                break;
                            }
                            WeirStreams owner = byPort.get(String.valueOf(md.activeHost().port()));
                            assertTrue(owner != null, "metadata for " + e.getKey() + ": " + md);
                            WeirStreams other = owner == a ? bb : a;
                            Long wrong = other.store(params).get(e.getKey());
                            Long right = owner.store(params).get(e.getKey());
                            if (!md.equals(a.queryMetadataForKey("counts", e.getKey(), new Serializers.StringSerializer()))) {
                                allRight = false;   // the key moved while it was read: ask again
                                break;
                            }
                            assertEquals(null, wrong, "the instance that does not hold " + e.getKey() + " has no value for it");
                            allRight &= e.getValue().equals(right);
                        }
                        long entries = a.store(params).approximateNumEntries() + bb.store(params).approximateNumEntries();
                        if (allRight && entries == expected.size()) {
                            break;
                        }
                    } catch (InvalidStateStoreException retry) {
                        // rebalancing: ask again
                    }
                    Thread.sleep(100);
                }
                Map<String, Long> all = new TreeMap<>();
                for (WeirStreams s : List.of(a, bb)) {
                    try (KeyValueIterator<String, Long> it = s.store(params).all()) {
                        it.forEachRemaining(kv -> assertEquals(null, all.put(kv.key, kv.value), "one owner per key"));
                    }
                }
                assertEquals(expected, all);
                List<StreamsMetadata> hosts = new ArrayList<>(a.streamsMetadataForStore("counts"));
                assertEquals(2, hosts.size(), hosts.toString());
                Set<TopicPartition> union = new HashSet<>();
                for (StreamsMetadata m : hosts) {
                    assertTrue(m.stateStoreNames().contains("counts"), m.toString());
                    for (TopicPartition tp : m.topicPartitions()) {
                        assertTrue(union.add(tp), "partition " + tp + " held twice: " + hosts);
                    }
                }
                assertEquals(8, union.size(), "4 partitions of the input and of the repartition topic: " + hosts);
            }
        }
        assertThrows(InvalidStateStoreException.class,
            () -> b.store(StoreQueryParameters.fromNameAndType("counts", QueryableStoreTypes.keyValueStore())));
    }

    /** The read_committed end (last stable offset) of a partition. */
    private static long committedEnd(String topic, int partition) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", cluster.bootstrapServers());
        c.put("isolation.level", "read_committed");
        try (WeirConsumer<byte[], byte[]> consumer = new WeirConsumer<>(c, new Deserializers.ByteArrayDeserializer(),
            new Deserializers.ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, partition);
            return consumer.endOffsets(List.of(tp)).get(tp);
        }
    }

    /** Records in the read_committed changelog partitions (markers and aborted records are not records). */
    private static long changelogRecords(String topic, Set<Integer> partitions) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", cluster.bootstrapServers());
        c.put("isolation.level", "read_committed");
        c.put("enable.auto.commit", false);
        try (WeirConsumer<byte[], byte[]> consumer = new WeirConsumer<>(c, new Deserializers.ByteArrayDeserializer(),
            new Deserializers.ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            partitions.forEach(p -> tps.add(new TopicPartition(topic, p)));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            long count = 0;
            long deadline = System.nanoTime() + StreamsTestCluster.WAIT.toNanos();
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() - deadline > 0) {
                    fail("reading " + tps + " did not reach its end offsets " + end + " in " + StreamsTestCluster.WAIT);
                }
                count += consumer.poll(Duration.ofMillis(100)).count();
            }
            return count;
        }
    }

    /**
     * Two instances with one standby replica each: one instance closes, the other takes its tasks over from its
     * standby stores and restores at most the tail its standbys had not read (here nothing: they caught up), far
     * less than the changelog; the counts stay exact.
     */
    @Test
    void shouldTakeOverFromAStandbyWithOnlyTheTailToRestore() throws Exception {
        int n = NAMES.incrementAndGet();
        String app = "standby-" + n;
        String input = "sb-lines-" + n;
        String output = "sb-counts-" + n;
        cluster.createTopics(2, input, output);
        Map<String, Long> expected = new TreeMap<>();
        cluster.produceLines(input, 0, 2000, expected);
        Properties pa = cluster.wordCountProps(app, input, output, cluster.root().resolve(app + "-a"), 7101);
        Properties pb = cluster.wordCountProps(app, input, output, cluster.root().resolve(app + "-b"), 7102);
        pa.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, "1");
        pb.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, "1");
        String changelog = app + "-counts-changelog";
        String repartition = app + "-by-word-repartition";
        try (WeirStreams b = new WeirStreams(new WordCountJob().topology(pb), pb)) {
            b.start();
            Set<Integer> takenOver = new HashSet<>();
            long standbyFollowed;
            int before;
            try (WeirStreams a = new WeirStreams(new WordCountJob().topology(pa), pa)) {
                a.start();
                awaitBothAssigned(a, b);
                cluster.awaitCounts(output, 2, expected);
                // the counts partitions a holds actively and b keeps as standby
                StreamsMetadata bMeta = b.metadataForAllStreamsClients().stream()
                    .filter(m -> m.port() == 7102).findFirst().orElseThrow();
                StreamsMetadata aMeta = b.metadataForAllStreamsClients().stream()
                    .filter(m -> m.port() == 7101).findFirst().orElseThrow();
                for (TopicPartition tp : aMeta.topicPartitions()) {
                    if (tp.topic().equals(repartition)) {
                        takenOver.add(tp.partition());
                        assertTrue(bMeta.standbyTopicPartitions().contains(tp), "b keeps a standby of " + tp + ": " + bMeta);
                    }
                }
                assertEquals(1, takenOver.size(), "a holds one of the two counts tasks: " + aMeta);
                standbyFollowed = changelogRecords(changelog, takenOver);
                assertTrue(standbyFollowed > 100, standbyFollowed + " changelog records");
                int p = takenOver.iterator().next();
                long end = committedEnd(changelog, p);
                String metric = "standby-changelog-position." + changelog + "-" + p;
                // the standby reads the changelog as a commits
                Wait.until(() -> b.metrics().getOrDefault(metric, -1L) >= end, StreamsTestCluster.WAIT,
                    () -> metric + " to reach " + end + ", saw " + b.metrics().get(metric));
                before = b.restoreProgress().size();
            }   // a closes: b takes its tasks over
            Wait.until(() -> b.state() == WeirStreams.State.RUNNING && b.metadataForAllStreamsClients().size() == 1
                && b.metadataForAllStreamsClients().iterator().next().topicPartitions().size() == 4, StreamsTestCluster.WAIT,
                () -> "b RUNNING alone with all 4 partitions, saw " + b.state() + " " + b.metadataForAllStreamsClients());
            List<RestoreProgress> takeover = new ArrayList<>();
            for (RestoreProgress p : b.restoreProgress().subList(before, b.restoreProgress().size())) {
                if (p.storeName().equals("counts") && takenOver.contains(p.changelog().partition())) {
                    takeover.add(p);
                }
            }
            // one entry per opening of the task (a later rebalance reopens it, restoring nothing)
            assertFalse(takeover.isEmpty(), b.restoreProgress().toString());
            long restored = 0;
            for (RestoreProgress p : takeover) {
                assertEquals(RestoreProgress.Origin.LOCAL_STORE, p.origin(), "the standby store was promoted: " + p);
                restored += p.recordsRestored();
            }
            // the standby had read everything a committed: what is left is a's last (empty) commit at most
            assertTrue(restored <= 10, "restored " + restored + " of " + standbyFollowed + ": " + takeover);
            cluster.produceLines(input, 2000, 2600, expected);
            cluster.awaitCounts(output, 2, expected);
            StoreQueryParameters<io.weir.streams.state.ReadOnlyKeyValueStore<String, Long>> params =
                StoreQueryParameters.fromNameAndType("counts", QueryableStoreTypes.keyValueStore());
            Wait.until(() -> {
                try {
                    return b.store(params).approximateNumEntries() == expected.size()
                        && expected.entrySet().stream().allMatch(e -> e.getValue().equals(b.store(params).get(e.getKey())));
                } catch (InvalidStateStoreException retry) {
                    return false;   // still rebalancing
                }
            }, StreamsTestCluster.WAIT, () -> "b's store to hold " + expected + " (" + b.state() + ")");
        }
    }

    /**
     * SHUTDOWN_APPLICATION: one instance's thread fails and its handler asks the whole application to stop; the
     * other instance, which did not fail, hears it through the group's assignment and shuts down too.
     */
    @Test
    void shouldShutDownEveryInstanceWhenOneAsksToShutDownTheApplication() throws Exception {
        int n = NAMES.incrementAndGet();
        String app = "shutdown-app-" + n;
        String input = "sd-lines-" + n;
        String output = "sd-counts-" + n;
        cluster.createTopics(2, input, output);
        Map<String, Long> expected = new TreeMap<>();
        cluster.produceLines(input, 0, 200, expected);
        Properties pa = cluster.wordCountProps(app, input, output, cluster.root().resolve(app + "-a"), 7201);
        Properties pb = cluster.wordCountProps(app, input, output, cluster.root().resolve(app + "-b"), 7202);
        java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean(false);
        List<Throwable> handledByA = new CopyOnWriteArrayList<>();
        try (WeirStreams a = new WeirStreams(WordCountJob.topology(pa, (k, word) -> {
                if (word.equals("boom") && armed.get()) {
                    throw new IllegalStateException("boom");
                }
            }), pa);
             WeirStreams b = new WeirStreams(new WordCountJob().topology(pb), pb)) {
            a.setUncaughtExceptionHandler(e -> {
                handledByA.add(e);
                return WeirStreams.StreamThreadExceptionResponse.SHUTDOWN_APPLICATION;
            });
            List<WeirStreams.State> statesOfB = new CopyOnWriteArrayList<>();
            b.setStateListener((now, old) -> statesOfB.add(now));
            a.start();
            b.start();
            awaitBothAssigned(a, b);
            cluster.awaitCounts(output, 2, expected);
            // "boom" goes to the instance that holds the word's counts task: key the line so each instance gets one
            armed.set(true);
            Map<String, Object> p = new HashMap<>();
            p.put("bootstrap.servers", cluster.bootstrapServers());
            try (WeirProducer<String, String> producer = new WeirProducer<>(p, new Serializers.StringSerializer(),
                new Serializers.StringSerializer())) {
                for (int partition = 0; partition < 2; partition++) {
                    producer.send(new ProducerRecord<>(input, partition, null, "boom-" + partition, "boom"));
                }
                producer.flush();
            }
            Wait.until(() -> a.state() == WeirStreams.State.ERROR && b.state() == WeirStreams.State.ERROR, StreamsTestCluster.WAIT,
                () -> "both instances in ERROR, saw a " + a.state() + " b " + b.state() + ", b went through " + statesOfB
                    + ", a handled " + handledByA);
            assertEquals(1, handledByA.size(), handledByA.toString());
            assertTrue(statesOfB.contains(WeirStreams.State.PENDING_ERROR), statesOfB.toString());
        }
    }

    /**
     * Warm-up: a second instance joins a job whose stores hold far more than {@code acceptable.recovery.lag}; the
     * counts task it is due stays with the first instance while a warm-up replica on the new one reads the changelog,
     * and a probing rebalance moves it once caught up, so the new instance restores only a tail, never the whole
     * changelog. The counts stay exact.
     */
    @Test
    void shouldWarmUpStateBeforeMovingATaskToANewInstance() throws Exception {
        int n = NAMES.incrementAndGet();
        String app = "warmup-" + n;
        String input = "wu-lines-" + n;
        String output = "wu-counts-" + n;
        cluster.createTopics(2, input, output);
        Map<String, Long> expected = new TreeMap<>();
        cluster.produceLines(input, 0, 2000, expected);
        Properties pa = cluster.wordCountProps(app, input, output, cluster.root().resolve(app + "-a"), 7301);
        Properties pb = cluster.wordCountProps(app, input, output, cluster.root().resolve(app + "-b"), 7302);
        for (Properties p : List.of(pa, pb)) {
            p.put("acceptable.recovery.lag", "10");
            p.put("probing.rebalance.interval.ms", "300");
        }
        String repartition = app + "-by-word-repartition";
        try (WeirStreams a = new WeirStreams(new WordCountJob().topology(pa), pa)) {
            a.start();
            cluster.awaitCounts(output, 2, expected);
            try (WeirStreams b = new WeirStreams(new WordCountJob().topology(pb), pb)) {
                b.start();
                // b ends up holding one counts task (after its warm-up caught up)
                Wait.until(() -> {
                    if (b.state() == WeirStreams.State.ERROR || a.state() == WeirStreams.State.ERROR) {
                        fail("an instance failed");
                    }
                    return b.state() == WeirStreams.State.RUNNING && b.metadataForAllStreamsClients().stream()
                        .filter(m -> m.port() == 7302).anyMatch(m -> m.topicPartitions().stream()
                            .anyMatch(tp -> tp.topic().equals(repartition)));
                }, StreamsTestCluster.WAIT, () -> "b RUNNING with a counts task, saw " + b.state() + " " + b.metadataForAllStreamsClients()
                    + ", restores " + b.restoreProgress());
                List<RestoreProgress> counts = new ArrayList<>();
                for (RestoreProgress p : b.restoreProgress()) {
                    if (p.storeName().equals("counts")) {
                        counts.add(p);
                    }
                }
                assertFalse(counts.isEmpty(), b.restoreProgress().toString());
                for (RestoreProgress p : counts) {
                    assertEquals(RestoreProgress.Origin.LOCAL_STORE, p.origin(), "the warm-up copy was promoted: " + p);
                    assertTrue(p.recordsRestored() <= 20, "only a tail is restored: " + p);
                }
                long warmedUp = b.metrics().get("standby-records-total");
                assertTrue(warmedUp > 300, "the warm-up replica read the changelog: " + warmedUp);
                cluster.produceLines(input, 2000, 2400, expected);
                cluster.awaitCounts(output, 2, expected);
            }
        }
    }

    /**
     * Warm-up of a task with two stores: once the new instance's warm-up copy has read both changelogs, a probing
     * rebalance moves the task to it. Every store of an active task records the end offsets of all the task's
     * changelogs at each commit, a standby store only its own; the offset sums the assignor compares counted a
     * changelog once per store, so an owner of a two-store task looked twice as far ahead as any warm-up copy, the
     * task never moved and the group stayed unbalanced, asking for a probing rebalance at every interval.
     */
    @Test
    void shouldMoveATaskOfSeveralStoresOnceItsWarmUpCaughtUp() throws Exception {
        int n = NAMES.incrementAndGet();
        String app = "warmup-stores-" + n;
        String input = "wus-in-" + n;
        String output = "wus-out-" + n;
        cluster.createTopics(2, input, output);
        produce(input, 0, 2000);
        Properties pa = cluster.props(app, cluster.root().resolve(app + "-a"));
        Properties pb = cluster.props(app, cluster.root().resolve(app + "-b"));
        pa.put(StreamsConfig.APPLICATION_SERVER_CONFIG, "localhost:7311");
        pb.put(StreamsConfig.APPLICATION_SERVER_CONFIG, "localhost:7312");
        for (Properties p : List.of(pa, pb)) {
            p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
            p.put("acceptable.recovery.lag", "10");
            p.put("probing.rebalance.interval.ms", "300");
        }
        try (WeirStreams a = new WeirStreams(tallyTopology(input, output, new CopyOnWriteArrayList<>(), true), pa)) {
            a.start();
            int[] totals = {0};
            StreamsTestCluster.await(() -> (totals[0] = cluster.readAll(output, 2).values().stream().mapToInt(List::size).sum()) >= 2000,
                () -> "the first instance to count 2000 records, it counted " + totals[0]);
            try (WeirStreams b = new WeirStreams(tallyTopology(input, output, new CopyOnWriteArrayList<>(), true), pb)) {
                b.start();
                StreamsTestCluster.awaitShare(List.of(a, b), 7312, input, 1, "the second instance, after its warm-up");
                assertTrue(b.metrics().get("standby-records-total") > 0, "the task moved after a warm-up: " + b.metrics());
            }
        }
    }
}
