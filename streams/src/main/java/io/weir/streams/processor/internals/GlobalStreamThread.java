package io.weir.streams.processor.internals;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.ConsumerRecords;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import io.weir.consumer.errors.WakeupException;
import io.weir.protocol.client.Cluster;
import io.weir.streams.errors.StreamsException;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.TaskId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Fills the global stores (GlobalKTable, {@code Topology.addGlobalStore}) of one instance: a consumer
 * without a group reads every partition of the global topics, so each instance holds the whole table
 * whatever partition a key lives in. {@link #restore()} brings the stores up to the topics' end offsets
 * (from the offsets the stores last committed) before the stream threads start; the thread then keeps
 * applying new records and commits the stores with the offsets reached every {@code commit.interval.ms}.
 *
 * <p>A failure (a record the deserialization handler will not skip, a store error, a global topic that was
 * deleted) ends the thread and is handed to the failure listener, so the instance can stop instead of
 * serving global stores that no longer update. A topic counts as deleted once the consumer's metadata has
 * said it does not exist for {@link #MISSING_TOPIC_GRACE_MS} (the consumer never re-creates it).
 */
public final class GlobalStreamThread extends Thread {
    private static final Logger log = LoggerFactory.getLogger(GlobalStreamThread.class);
    /** How long the metadata must keep saying a global topic does not exist before the thread fails. */
    static final long MISSING_TOPIC_GRACE_MS = 1_000;

    private final StreamTask task;
    private final Set<String> topics;
    private final Map<String, Object> consumerConfigs;
    private final long commitIntervalMs;
    private final Time time;
    private WeirConsumer<byte[], byte[]> consumer;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private long restoredRecords;
    private volatile Map<TopicPartition, Long> committedOffsets = Map.of();
    private final Consumer<Throwable> failureListener;
    /** When the metadata first said each global topic does not exist (cleared when it is seen again). */
    private final Map<String, Long> missingSinceMs = new HashMap<>();

    /**
     * @param consumerConfigs the clients' configs; group settings are removed and read_committed is forced
     */
    public GlobalStreamThread(String applicationId, InternalTopologyBuilder builder, Map<String, Object> configs,
                              Map<String, Object> consumerConfigs, Path appStateDir, long commitIntervalMs, Time time) {
        this(applicationId, builder, configs, consumerConfigs, appStateDir, commitIntervalMs, time, failure -> { });
    }

    /**
     * @param failureListener told of the failure that ended the thread, on this thread, after it closed its
     *                        stores and consumer (it must not join this thread)
     */
    public GlobalStreamThread(String applicationId, InternalTopologyBuilder builder, Map<String, Object> configs,
                              Map<String, Object> consumerConfigs, Path appStateDir, long commitIntervalMs, Time time,
                              Consumer<Throwable> failureListener) {
        super(applicationId + "-GlobalStreamThread");
        this.failureListener = failureListener;
        Path dir = appStateDir.resolve("global");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the global state directory " + dir, e);
        }
        this.task = new StreamTask(new TaskId(-1, 0), applicationId, builder.buildGlobal(), configs, new NoOutput(), dir, time);
        this.topics = builder.globalTopics();
        Map<String, Object> c = new HashMap<>(consumerConfigs);
        c.remove("group.id");
        c.remove("group.instance.id");
        c.put("enable.auto.commit", false);
        c.put("isolation.level", "read_committed");
        c.put("allow.auto.create.topics", false);   // a deleted global topic must fail the thread, not come back empty
        c.put("client.id", getName() + "-consumer");
        this.consumerConfigs = c;
        this.commitIntervalMs = commitIntervalMs;
        this.time = time;
    }

    /**
     * Opens the stores and reads every global partition up to its end offset (from the offsets the stores
     * committed), then commits the stores; returns the stores for the stream tasks (key-value stores as
     * read-only views of their committed state, safe while this thread writes). Runs on the caller.
     */
    public Map<String, StateStore> restore() {
        task.initialize();
        consumer = new WeirConsumer<>(consumerConfigs, new Deserializers.ByteArrayDeserializer(),
            new Deserializers.ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            List<Cluster.PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(60));
            if (infos == null || infos.isEmpty()) {
                throw new StreamsException("global topic " + topic + " does not exist");
            }
            infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        }
        consumer.assign(partitions);
        Map<TopicPartition, Long> committed = new HashMap<>();
        for (StateStore s : task.stores().values()) {
            if (s instanceof TransactionalStateStore ts) {
                committed.putAll(ts.committedOffsets());
            }
        }
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
        for (TopicPartition tp : partitions) {
            Long from = committed.get(tp);
            consumer.seek(tp, from == null ? begin.getOrDefault(tp, 0L) : Math.max(from, begin.getOrDefault(tp, 0L)));
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        while (!caughtUp(end)) {
            restoredRecords += apply(consumer.poll(Duration.ofMillis(100)));
        }
        commit();
        log.info("Global stores {} restored: {} records read up to {}", task.stores().keySet(), restoredRecords, end);
        return GlobalKeyValueStoreView.forStreamTasks(task.stores());
    }

    private boolean caughtUp(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private int apply(ConsumerRecords<byte[], byte[]> records) {
        int n = 0;
        for (ConsumerRecord<byte[], byte[]> r : records) {
            task.process(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value(), Arrays.asList(r.headers()));
            n++;
        }
        return n;
    }

    private void commit() {
        task.commitStores(Map.of());
        committedOffsets = task.consumedOffsets();
    }

    /** The next offset of each global partition the stores have committed up to (safe from any thread). */
    public Map<TopicPartition, Long> committedOffsets() {
        return committedOffsets;
    }

    /** Records read by {@link #restore()} (0 when the stores were already up to date). */
    /**
     * The global store {@code name} itself (not the stream tasks' view), for interactive queries, which read
     * only its committed state; null if there is none of that name.
     */
    public StateStore queryableStore(String name) {
        return task.stores().get(name);
    }

    public long restoredRecords() {
        return restoredRecords;
    }

    /** The failure that stopped the thread, or null. */
    public Throwable failure() {
        return failure;
    }

    @Override
    public void run() {
        long lastCommit = time.milliseconds();
        try {
            while (running) {
                apply(consumer.poll(Duration.ofMillis(100)));
                long now = time.milliseconds();
                if (now - lastCommit >= commitIntervalMs) {
                    commit();
                    lastCommit = now;
                }
                checkTopicsExist(now);
            }
            commit();
        } catch (WakeupException e) {
            if (running) {
                failure = e;
            } else {
                commit();
            }
        } catch (Throwable t) {
            failure = t;
            log.error("Global stream thread failed; global stores stop updating", t);
        } finally {
            closeQuietly();
        }
        Throwable failed = failure;
        if (failed != null) {
            try {
                failureListener.accept(failed);
            } catch (RuntimeException e) {
                log.error("The global stream thread's failure listener failed", e);
            }
        }
    }

    /** Fails once the metadata has said some global topic does not exist for {@link #MISSING_TOPIC_GRACE_MS}. */
    private void checkTopicsExist(long nowMs) {
        for (String topic : topics) {
            List<Cluster.PartitionInfo> parts;
            try {
                parts = consumer.partitionsFor(topic, Duration.ZERO);   // the cached metadata: no wait
            } catch (io.weir.protocol.client.TimeoutException e) {
                continue;   // not known either way yet
            }
            if (parts != null && !parts.isEmpty()) {
                missingSinceMs.remove(topic);
                continue;
            }
            long since = missingSinceMs.computeIfAbsent(topic, t -> nowMs);
            if (nowMs - since >= MISSING_TOPIC_GRACE_MS) {
                throw new StreamsException("global topic " + topic + " no longer exists (deleted?): global stores "
                    + task.stores().keySet() + " cannot be kept up to date");
            }
        }
    }

    /** Stops the thread (after a last commit) and waits for it; closes everything if it never ran. */
    public void shutdown() {
        running = false;
        if (isAlive()) {
            if (consumer != null) {
                consumer.wakeup();
            }
            try {
                join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else if (getState() == State.NEW) {
            closeQuietly();
        }
    }

    private void closeQuietly() {
        try {
            task.close();
        } catch (RuntimeException e) {
            log.warn("Closing the global task failed", e);
        }
        if (consumer != null) {
            try {
                consumer.close();
            } catch (RuntimeException e) {
                log.warn("Closing the global consumer failed", e);
            }
            consumer = null;
        }
    }

    /** Global processors write only to their stores; anything they forward to a sink is a bug. */
    private static final class NoOutput implements RecordCollector {
        @Override
        public void send(String topic, Integer partition, long timestamp, byte[] key, byte[] value,
                         List<io.weir.common.record.Header> headers) {
            throw new StreamsException("global store processors must not send records (to topic " + topic + ")");
        }

        @Override
        public int partitionCount(String topic) {
            throw new StreamsException("global store processors must not send records (to topic " + topic + ")");
        }
    }
}
