package io.weir.streams.test;

import io.weir.common.Time;
import io.weir.common.record.Header;
import io.weir.consumer.Deserializer;
import io.weir.producer.Serializer;
import io.weir.streams.StreamsConfig;
import io.weir.streams.Topology;
import io.weir.streams.errors.StreamsException;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.TaskId;
import io.weir.streams.processor.internals.InternalTopologyBuilder;
import io.weir.streams.processor.internals.RecordCollector;
import io.weir.streams.processor.internals.StreamTask;
import io.weir.streams.processor.internals.ThreadCache;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.WindowStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Runs a {@link Topology} synchronously, without a broker, for unit tests of stream jobs (shaped like
 * Kafka Streams' driver). The whole topology runs as one task on partition 0 of every topic, through
 * the same {@link StreamTask} and processor graph the runtime runs: each piped record is deserialized
 * by its source, processed, stream-time punctuations fire, and the stores commit before the pipe
 * returns. Record caches ({@code statestore.cache.max.bytes}, as in the runtime) flush after each record
 * the driver processes (as Kafka's driver, which commits after each), so the updates of one key made while
 * processing one record come out once, as the latest value. Records written to a topic the topology reads (repartition topics included) are processed
 * in turn. Wall-clock time moves only through {@link #advanceWallClockTime}. If processing fails, the
 * exception reaches the caller and, as with an aborted transaction, the stores' writes and the output
 * of that pipe are dropped.
 *
 * <p>Output (sink and changelog records) is kept per topic for {@link TestOutputTopic}s. Close the
 * driver to close the stores and delete its state directory. Not thread-safe.
 */
public final class TopologyTestDriver implements AutoCloseable {
    /** The application id used when the properties name none. */
    public static final String DEFAULT_APPLICATION_ID = "topology-test-driver";

    /** One captured output record. */
    record Captured(long timestamp, byte[] key, byte[] value, java.util.List<Header> headers) {
    }

    private final StreamTask task;
    /** Fills the global stores; null when the topology has none. */
    private final StreamTask globalTask;
    private final Set<String> globalTopics;
    private final DriverTime time;
    private final Path stateRoot;
    private final boolean deleteStateRoot;
    private final Map<String, ArrayDeque<Captured>> outputs = new LinkedHashMap<>();
    /** Output of the unit of work in progress: published on commit, dropped on abort (as a transaction). */
    private final java.util.List<Map.Entry<String, Captured>> uncommittedOutput = new java.util.ArrayList<>();
    private final Map<String, Long> nextOffsets = new HashMap<>();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final Set<String> sourceTopics;

    private record Pending(String topic, long offset, long timestamp, byte[] key, byte[] value, java.util.List<Header> headers) {
    }

    public TopologyTestDriver(Topology topology) {
        this(topology, new Properties());
    }

    public TopologyTestDriver(Topology topology, Properties config) {
        this(topology, config, Instant.now());
    }

    /** A driver whose wall clock starts at {@code initialWallClockTime}. */
    public TopologyTestDriver(Topology topology, Properties config, Instant initialWallClockTime) {
        Map<String, Object> configs = StreamsConfig.toMap(config);
        configs.putIfAbsent(StreamsConfig.APPLICATION_ID_CONFIG, DEFAULT_APPLICATION_ID);
        String applicationId = StreamsConfig.applicationId(configs);
        this.time = new DriverTime(initialWallClockTime.toEpochMilli());
        Object dir = configs.get(StreamsConfig.STATE_DIR_CONFIG);
        try {
            if (dir == null) {
                stateRoot = Files.createTempDirectory("weir-streams-driver");
                deleteStateRoot = true;
            } else {
                stateRoot = Path.of(dir.toString());
                deleteStateRoot = false;
            }
            TaskId id = new TaskId(0, 0);
            Path taskDir = Files.createDirectories(stateRoot.resolve(applicationId).resolve(id.toString()));
            InternalTopologyBuilder builder = topology.internalTopologyBuilder();
            builder.setApplicationId(applicationId);
            Map<String, StateStore> globalStores = Map.of();
            if (builder.hasGlobalStores()) {
                Path globalDir = Files.createDirectories(stateRoot.resolve(applicationId).resolve("global"));
                globalTask = new StreamTask(new TaskId(-1, 0), applicationId, builder.buildGlobal(), configs, new Collector(), globalDir, time);
                globalTask.initialize();
                globalStores = globalTask.stores();
            } else {
                globalTask = null;
            }
            globalTopics = builder.globalTopics();
            task = new StreamTask(id, applicationId, builder.build(null), configs, new Collector(), taskDir, time, globalStores,
                new ThreadCache(StreamsConfig.cacheMaxBytes(configs)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the driver's state directory", e);
        }
        sourceTopics = task.sourceTopics();
        try {
            task.initialize();
        } catch (RuntimeException e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    public <K, V> TestInputTopic<K, V> createInputTopic(String topic, Serializer<K> keySerializer, Serializer<V> valueSerializer) {
        return createInputTopic(topic, keySerializer, valueSerializer, Instant.ofEpochMilli(time.milliseconds()), Duration.ZERO);
    }

    public <K, V> TestInputTopic<K, V> createInputTopic(String topic, Serializer<K> keySerializer, Serializer<V> valueSerializer,
                                                        Instant startTimestamp, Duration autoAdvance) {
        if (!sourceTopics.contains(topic) && !globalTopics.contains(topic)) {
            throw new IllegalArgumentException("the topology does not read topic " + topic + " (it reads " + sourceTopics
                + (globalTopics.isEmpty() ? "" : " and, for global stores, " + globalTopics) + ")");
        }
        return new TestInputTopic<>(this, topic, keySerializer, valueSerializer, startTimestamp, autoAdvance);
    }

    public <K, V> TestOutputTopic<K, V> createOutputTopic(String topic, Deserializer<K> keyDeserializer,
                                                          Deserializer<V> valueDeserializer) {
        return new TestOutputTopic<>(this, topic, keyDeserializer, valueDeserializer);
    }

    /** Moves the wall clock, fires the wall-clock punctuations that became due, and commits. */
    public void advanceWallClockTime(Duration advance) {
        if (advance.isNegative()) {
            throw new IllegalArgumentException("advance must be >= 0, got " + advance);
        }
        time.advance(advance.toMillis());
        task.maybePunctuateSystemTime();
        completeWork();
    }

    /** The store of that name, or null if the topology has none. Reads see every piped record. */
    public StateStore getStateStore(String name) {
        StateStore store = task.store(name);
        return store != null || globalTask == null ? store : globalTask.store(name);
    }

    /** The key-value store of that name, or null if the topology has none of that name and kind. */
    @SuppressWarnings("unchecked")
    public <K, V> KeyValueStore<K, V> getKeyValueStore(String name) {
        StateStore store = getStateStore(name);
        return store instanceof KeyValueStore<?, ?> kv ? (KeyValueStore<K, V>) kv : null;
    }

    /** The window store of that name, or null if the topology has none of that name and kind. */
    @SuppressWarnings("unchecked")
    public <K, V> WindowStore<K, V> getWindowStore(String name) {
        StateStore store = getStateStore(name);
        return store instanceof WindowStore<?, ?> w ? (WindowStore<K, V>) w : null;
    }

    /** The session store of that name, or null if the topology has none of that name and kind. */
    @SuppressWarnings("unchecked")
    public <K, V> io.weir.streams.state.SessionStore<K, V> getSessionStore(String name) {
        StateStore store = getStateStore(name);
        return store instanceof io.weir.streams.state.SessionStore<?, ?> s ? (io.weir.streams.state.SessionStore<K, V>) s : null;
    }

    public Map<String, StateStore> getAllStateStores() {
        Map<String, StateStore> all = new LinkedHashMap<>(task.stores());
        if (globalTask != null) {
            all.putAll(globalTask.stores());
        }
        return all;
    }

    /** Every topic the topology has written to so far (sinks and changelogs). */
    public Set<String> producedTopicNames() {
        return Set.copyOf(outputs.keySet());
    }

    @Override
    public void close() {
        try {
            try {
                task.close();
            } finally {
                if (globalTask != null) {
                    globalTask.close();
                }
            }
        } finally {
            if (deleteStateRoot) {
                deleteRecursively(stateRoot);
            }
        }
    }

    void pipeRecord(String topic, byte[] key, byte[] value, java.util.List<Header> headers, long timestampMs) {
        if (timestampMs < 0) {
            throw new IllegalArgumentException("timestamp must be >= 0, got " + timestampMs);
        }
        pending.add(new Pending(topic, nextOffset(topic), timestampMs, key, value, headers));
        completeWork();
    }

    Captured readOutput(String topic) {
        ArrayDeque<Captured> q = outputs.get(topic);
        return q == null ? null : q.poll();
    }

    long outputSize(String topic) {
        ArrayDeque<Captured> q = outputs.get(topic);
        return q == null ? 0 : q.size();
    }

    /** Processes every pending record (output fed back to the topology's own topics included), then commits. */
    private void completeWork() {
        try {
            while (!pending.isEmpty()) {
                Pending p = pending.poll();
                if (globalTopics.contains(p.topic())) {
                    globalTask.process(p.topic(), 0, p.offset(), p.timestamp(), p.key(), p.value(), p.headers());
                    globalTask.commitStores(Map.of());
                    continue;
                }
                task.process(p.topic(), 0, p.offset(), p.timestamp(), p.key(), p.value(), p.headers());
                task.maybePunctuateStreamTime();
                task.flushCaches();   // as Kafka's driver, which commits after each record
            }
            task.flushCaches();   // what a wall-clock punctuation cached
            if (!pending.isEmpty()) {
                completeWork();   // records the flush fed back to the topology's own topics
                return;
            }
            // the driver has no broker: it commits as if each transaction succeeded at once
            task.commitStores(Map.of());
            for (Map.Entry<String, Captured> e : uncommittedOutput) {
                outputs.computeIfAbsent(e.getKey(), t -> new ArrayDeque<>()).add(e.getValue());
            }
            uncommittedOutput.clear();
        } catch (RuntimeException e) {
            // as an aborted transaction: the stores and the output of the failed unit of work are dropped
            pending.clear();
            uncommittedOutput.clear();
            task.abortStores();
            if (globalTask != null) {
                globalTask.abortStores();
            }
            throw e;
        }
    }

    private long nextOffset(String topic) {
        long offset = nextOffsets.getOrDefault(topic, 0L);
        nextOffsets.put(topic, offset + 1);
        return offset;
    }

    private static void deleteRecursively(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the driver's state directory " + root, e);
        }
    }

    private final class Collector implements RecordCollector {
        @Override
        public void send(String topic, Integer partition, long timestamp, byte[] key, byte[] value, java.util.List<Header> headers) {
            long offset = nextOffset(topic);
            uncommittedOutput.add(Map.entry(topic, new Captured(timestamp, key, value, headers)));
            if (sourceTopics.contains(topic)) {
                pending.add(new Pending(topic, offset, timestamp, key, value, headers));
            }
        }

        @Override
        public int partitionCount(String topic) {
            return 1;
        }
    }

    /** The driver's wall clock: moves only when the test moves it. */
    private static final class DriverTime implements Time {
        private volatile long nowMs;

        DriverTime(long startMs) {
            this.nowMs = startMs;
        }

        void advance(long ms) {
            nowMs += ms;
        }

        @Override
        public long milliseconds() {
            return nowMs;
        }

        @Override
        public long nanoseconds() {
            return nowMs * 1_000_000L;
        }

        @Override
        public void sleep(long ms) {
            advance(ms);
        }
    }
}
