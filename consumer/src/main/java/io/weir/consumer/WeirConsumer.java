package io.weir.consumer;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.config.ConfigException;
import io.weir.consumer.errors.NoOffsetForPartitionException;
import io.weir.consumer.errors.WakeupException;
import io.weir.consumer.internals.ConsumerCoordinator;
import io.weir.consumer.internals.Fetcher;
import io.weir.consumer.internals.OffsetsLookup;
import io.weir.consumer.internals.PartitionAssignor;
import io.weir.consumer.internals.SubscriptionState;
import io.weir.consumer.internals.Waker;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.CommonClientConfigs;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.ConcurrentModificationException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Weir's {@link Consumer}. It owns a {@link NetworkClient} for fetches, metadata and offset lookups, a
 * {@link Fetcher} with one incremental fetch session per leader, and (with a {@code group.id}) a
 * {@link ConsumerCoordinator} with its own connection to the group coordinator and a heartbeat thread.
 *
 * <p>Not thread-safe: a second thread calling in while one is inside fails with
 * {@link ConcurrentModificationException}; only {@link #wakeup()} may be called from any thread.
 */
public final class WeirConsumer<K, V> implements Consumer<K, V> {
    private static final Logger log = LoggerFactory.getLogger(WeirConsumer.class);
    private static final AtomicInteger CLIENT_IDS = new AtomicInteger(1);
    private static final long NO_THREAD = -1L;

    private final ConsumerConfig config;
    private final Time time;
    private final String clientId;
    private final NetworkClient client;
    private final NetworkClient groupClient;
    private final SubscriptionState subscriptions;
    private final Waker waker = new Waker();
    private final Fetcher<K, V> fetcher;
    private final OffsetsLookup offsetsLookup;
    private final ConsumerCoordinator coordinator;
    private final Deserializer<K> keyDeserializer;
    private final Deserializer<V> valueDeserializer;
    private final int maxPollRecords;
    private final int defaultApiTimeoutMs;
    private final long retryBackoffMs;
    private final AtomicBoolean wakeup = new AtomicBoolean();
    private final AtomicLong currentThread = new AtomicLong(NO_THREAD);
    private final Supplier<Boolean> woken = () -> wakeup.getAndSet(false);
    private int refCount;
    private volatile boolean closed;

    public WeirConsumer(Map<String, ?> configs) {
        this(configs, null, null);
    }

    public WeirConsumer(Properties properties) {
        this(propsToMap(properties), null, null);
    }

    public WeirConsumer(Properties properties, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this(propsToMap(properties), keyDeserializer, valueDeserializer);
    }

    public WeirConsumer(Map<String, ?> configs, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this(configs, keyDeserializer, valueDeserializer, Time.SYSTEM);
    }

    /**
     * A consumer whose group members are assigned by the given assignor instances (in preference order)
     * instead of those named by {@code partition.assignment.strategy}: how a framework (Weir streams) plugs
     * in an assignor that carries its own subscription and assignment userData.
     */
    public WeirConsumer(Map<String, ?> configs, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer,
                        List<PartitionAssignor> assignors) {
        this(configs, keyDeserializer, valueDeserializer, Time.SYSTEM, assignors);
    }

    WeirConsumer(Map<String, ?> configs, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer, Time time) {
        this(configs, keyDeserializer, valueDeserializer, time, null);
    }

    @SuppressWarnings("unchecked")
    private WeirConsumer(Map<String, ?> configs, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer,
                         Time time, List<PartitionAssignor> customAssignors) {
        this.config = new ConsumerConfig(configs);
        this.time = time;
        String id = config.getString(ConsumerConfig.CLIENT_ID_CONFIG);
        this.clientId = id == null || id.isEmpty() ? "consumer-" + (config.groupId() == null ? "" : config.groupId() + "-")
            + CLIENT_IDS.getAndIncrement() : id;
        if (keyDeserializer == null) {
            String name = config.getString(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG);
            if (name == null) {
                throw new ConfigException("Missing required configuration " + ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG
                    + " which has no default value.");
            }
            keyDeserializer = (Deserializer<K>) Deserializers.forName(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, name);
            keyDeserializer.configure(configs, true);
        }
        if (valueDeserializer == null) {
            String name = config.getString(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG);
            if (name == null) {
                throw new ConfigException("Missing required configuration " + ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG
                    + " which has no default value.");
            }
            valueDeserializer = (Deserializer<V>) Deserializers.forName(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, name);
            valueDeserializer.configure(configs, false);
        }
        this.keyDeserializer = keyDeserializer;
        this.valueDeserializer = valueDeserializer;
        this.maxPollRecords = config.getInt(ConsumerConfig.MAX_POLL_RECORDS_CONFIG);
        this.defaultApiTimeoutMs = config.getInt(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG);
        this.retryBackoffMs = config.getLong(ConsumerConfig.RETRY_BACKOFF_MS_CONFIG);
        String groupId = config.groupId();
        if (groupId == null && config.originals().containsKey(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG)
            && config.getBoolean(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG)) {
            throw new ConfigException(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, true,
                "cannot be true without a " + ConsumerConfig.GROUP_ID_CONFIG);
        }
        SubscriptionState.ResetStrategy reset = SubscriptionState.ResetStrategy.valueOf(
            config.getString(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG).toUpperCase(java.util.Locale.ROOT));
        this.subscriptions = new SubscriptionState(reset);
        int fetchMaxBytes = config.getInt(ConsumerConfig.FETCH_MAX_BYTES_CONFIG);
        NetworkClient.Settings base = CommonClientConfigs.networkSettings(config, 5);
        int maxResponse = (int) Math.min(Integer.MAX_VALUE - 1L,
            Math.max(NetworkClient.Settings.DEFAULT_MAX_RESPONSE_BYTES, 2L * fetchMaxBytes + (1 << 20)));
        NetworkClient.Settings net = new NetworkClient.Settings(base.bootstrapNodes(), clientId, base.requestTimeoutMs(),
            base.reconnectBackoffMs(), base.reconnectBackoffMaxMs(), base.retryBackoffMs(), base.retryBackoffMaxMs(),
            base.metadataMaxAgeMs(), base.connectionsMaxIdleMs(), base.connectionSetupTimeoutMs(),
            base.sendBufferBytes(), base.receiveBufferBytes(), base.maxInFlightPerConnection(), maxResponse,
            base.maxQueuedCalls());
        this.client = new NetworkClient(net, time);
        client.allowAutoTopicCreation(config.getBoolean(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG));
        boolean readCommitted = config.readCommitted();
        this.fetcher = new Fetcher<>(client, time, subscriptions, waker, new Fetcher.Settings(
            config.getInt(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), fetchMaxBytes,
            config.getInt(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG),
            config.getInt(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
            config.getBoolean(ConsumerConfig.CHECK_CRCS_CONFIG), readCommitted, base.requestTimeoutMs(),
            config.getString(ConsumerConfig.CLIENT_RACK_CONFIG)), keyDeserializer, valueDeserializer);
        this.offsetsLookup = new OffsetsLookup(client, time, readCommitted);
        if (groupId != null) {
            int rebalanceTimeoutMs = config.getInt(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
            NetworkClient.Settings groupNet = new NetworkClient.Settings(base.bootstrapNodes(), clientId + "-group",
                Math.max(base.requestTimeoutMs(), rebalanceTimeoutMs + 5_000), base.reconnectBackoffMs(),
                base.reconnectBackoffMaxMs(), base.retryBackoffMs(), base.retryBackoffMaxMs(),
                base.metadataMaxAgeMs(), base.connectionsMaxIdleMs(), base.connectionSetupTimeoutMs(),
                base.sendBufferBytes(), base.receiveBufferBytes(), base.maxInFlightPerConnection(),
                NetworkClient.Settings.DEFAULT_MAX_RESPONSE_BYTES, base.maxQueuedCalls());
            this.groupClient = new NetworkClient(groupNet, time);
            this.coordinator = new ConsumerCoordinator(groupClient, client, time, subscriptions, waker,
                new ConsumerCoordinator.Settings(groupId, config.getString(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG),
                    config.getInt(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), rebalanceTimeoutMs,
                    config.getInt(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG),
                    config.getBoolean(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG),
                    config.getInt(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG), retryBackoffMs, readCommitted,
                    config.getString(ConsumerConfig.CLIENT_RACK_CONFIG),
                    customAssignors != null && !customAssignors.isEmpty() ? List.copyOf(customAssignors)
                        : config.assignorNames().stream().map(PartitionAssignor::forName).toList()));
        } else {
            this.groupClient = null;
            this.coordinator = null;
        }
        log.debug("consumer {} started", clientId);
    }

    private static Map<String, Object> propsToMap(Properties p) {
        Map<String, Object> m = new HashMap<>();
        for (String k : p.stringPropertyNames()) {
            m.put(k, p.getProperty(k));
        }
        p.forEach((k, v) -> m.put(String.valueOf(k), v));
        return m;
    }

    // ------------------------------------------------------------------ single-thread guard

    private void acquire() {
        if (closed) {
            throw new IllegalStateException("This consumer has already been closed.");
        }
        acquireAllowClosed();
    }

    private void acquireAllowClosed() {
        long tid = Thread.currentThread().getId();
        if (tid != currentThread.get() && !currentThread.compareAndSet(NO_THREAD, tid)) {
            throw new ConcurrentModificationException("WeirConsumer is not safe for multi-threaded access");
        }
        refCount++;
    }

    private void release() {
        if (--refCount == 0) {
            currentThread.set(NO_THREAD);
        }
    }

    private ConsumerCoordinator requireGroup(String what) {
        if (coordinator == null) {
            throw new IllegalStateException("To use " + what + ", set " + ConsumerConfig.GROUP_ID_CONFIG);
        }
        return coordinator;
    }

    @Override
    public ConsumerGroupMetadata groupMetadata() {
        acquire();
        try {
            return requireGroup("groupMetadata()").groupMetadata();
        } finally {
            release();
        }
    }

    // ------------------------------------------------------------------ subscription

    /**
     * Asks the group for a rebalance at the next poll (as Kafka's {@code enforceRebalance}): how an assignor that
     * placed warm-up replicas has the group look again once they may have caught up.
     */
    public void enforceRebalance() {
        acquire();
        try {
            if (coordinator == null) {
                throw new IllegalStateException("enforceRebalance needs a group.id");
            }
            coordinator.requestRejoin();
        } finally {
            release();
        }
    }

    @Override
    public Set<TopicPartition> assignment() {
        acquire();
        try {
            return subscriptions.assignedPartitions();
        } finally {
            release();
        }
    }

    @Override
    public Set<String> subscription() {
        acquire();
        try {
            return subscriptions.subscription();
        } finally {
            release();
        }
    }

    @Override
    public void subscribe(Collection<String> topics) {
        subscribe(topics, ConsumerRebalanceListener.NO_OP);
    }

    @Override
    public void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
        acquire();
        try {
            requireGroup("subscribe()");
            if (topics == null) {
                throw new IllegalArgumentException("Topic collection to subscribe to cannot be null");
            }
            if (topics.isEmpty()) {
                unsubscribe();
                return;
            }
            for (String t : topics) {
                if (t == null || t.isBlank()) {
                    throw new IllegalArgumentException("Topic collection to subscribe to cannot contain null or empty topic");
                }
            }
            if (subscriptions.subscribe(new HashSet<>(topics), listener == null ? ConsumerRebalanceListener.NO_OP : listener)) {
                coordinator.requestRejoin();
            }
            client.metadata().setTopics(topics);
        } finally {
            release();
        }
    }

    @Override
    public void subscribe(Pattern pattern) {
        subscribe(pattern, ConsumerRebalanceListener.NO_OP);
    }

    @Override
    public void subscribe(Pattern pattern, ConsumerRebalanceListener listener) {
        acquire();
        try {
            requireGroup("subscribe()");
            if (pattern == null || pattern.toString().isEmpty()) {
                throw new IllegalArgumentException("Topic pattern to subscribe to cannot be " + (pattern == null ? "null" : "empty"));
            }
            subscriptions.subscribe(pattern, listener == null ? ConsumerRebalanceListener.NO_OP : listener);
            client.metadata().setAllTopics(true);
            coordinator.requestRejoin();
        } finally {
            release();
        }
    }

    @Override
    public void unsubscribe() {
        acquire();
        try {
            if (coordinator != null && subscriptions.hasAutoAssignment()) {
                coordinator.leaveGroup("the consumer unsubscribed", true);
            }
            subscriptions.unsubscribe();
            fetcher.clearBufferedDataForUnassigned();
            client.metadata().setAllTopics(false);
            client.metadata().setTopics(List.of());
        } finally {
            release();
        }
    }

    @Override
    public void assign(Collection<TopicPartition> partitions) {
        acquire();
        try {
            if (partitions == null) {
                throw new IllegalArgumentException("Topic partition collection to assign to cannot be null");
            }
            if (partitions.isEmpty()) {
                unsubscribe();
                return;
            }
            if (coordinator != null) {
                coordinator.autoCommitOnClose(time.milliseconds() + defaultApiTimeoutMs); // commit what is dropped
            }
            subscriptions.assignFromUser(partitions);
            fetcher.clearBufferedDataForUnassigned();
            Set<String> topics = new HashSet<>();
            partitions.forEach(tp -> topics.add(tp.topic()));
            client.metadata().setTopics(topics);
        } finally {
            release();
        }
    }

    // ------------------------------------------------------------------ poll

    /** How many fetch responses were read into the array of an earlier one (tests). */
    long reusedFetchFrames() {
        return fetcher.reusedFrames();
    }

    @Override
    public ConsumerRecords<K, V> poll(Duration timeout) {
        acquire();
        try {
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("Timeout must not be negative");
            }
            if (subscriptions.type() == SubscriptionState.Type.NONE) {
                throw new IllegalStateException("Consumer is not subscribed to any topics or assigned any partitions");
            }
            long startMs = time.milliseconds();
            long deadlineMs = saturatedAdd(startMs, timeout.toMillis());
            do {
                if (woken.get()) {
                    throw new WakeupException();
                }
                long nowMs = time.milliseconds();
                if (coordinator != null) {
                    // never block on a rebalance: partitions kept through a cooperative one go on
                    // being fetched, and the join's completion wakes the wait below
                    coordinator.poll(nowMs, nowMs, woken);
                }
                updatePositions(deadlineMs);
                long seen = waker.count();
                Map<TopicPartition, List<ConsumerRecord<K, V>>> records = fetcher.collect(maxPollRecords);
                // prefetch: the next responses travel while the application handles these records
                fetcher.sendFetches();
                if (!records.isEmpty()) {
                    return new ConsumerRecords<>(records);
                }
                if (fetcher.hasAvailableFetches()) {
                    continue;
                }
                long left = deadlineMs - time.milliseconds();
                if (left <= 0) {
                    break;
                }
                // wake at least every retry backoff to retry metadata-blocked partitions and group work
                waker.await(seen, Math.min(left, Math.max(retryBackoffMs, 50)));
            } while (time.milliseconds() < deadlineMs);
            return ConsumerRecords.empty();
        } finally {
            release();
        }
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    /**
     * Gives every assigned partition without a position one: its committed offset (with a group),
     * else the reset strategy through ListOffsets. Returns whether all have one.
     */
    private boolean updatePositions(long deadlineMs) {
        Set<TopicPartition> missing = subscriptions.missingPositions();
        if (!missing.isEmpty()) {
            if (coordinator != null) {
                Map<TopicPartition, OffsetAndMetadata> committed = coordinator.fetchCommittedOffsets(missing, deadlineMs, woken);
                if (committed == null) {
                    return false;
                }
                for (TopicPartition tp : missing) {
                    OffsetAndMetadata om = committed.get(tp);
                    if (om != null) {
                        subscriptions.seek(tp, om.offset(), om.leaderEpoch().orElse(null));
                    }
                }
                missing = subscriptions.missingPositions();
            }
            Set<TopicPartition> noReset = new LinkedHashSet<>();
            for (TopicPartition tp : missing) {
                if (subscriptions.defaultReset() == SubscriptionState.ResetStrategy.NONE) {
                    noReset.add(tp);
                } else {
                    subscriptions.requestReset(tp, subscriptions.defaultReset());
                }
            }
            if (!noReset.isEmpty()) {
                throw new NoOffsetForPartitionException(noReset);
            }
        }
        Map<TopicPartition, SubscriptionState.ResetStrategy> resets = subscriptions.resetsPending();
        if (resets.isEmpty()) {
            return true;
        }
        Map<TopicPartition, Long> timestamps = new LinkedHashMap<>();
        resets.forEach((tp, s) -> timestamps.put(tp, s == SubscriptionState.ResetStrategy.EARLIEST
            ? OffsetsLookup.EARLIEST_TIMESTAMP : OffsetsLookup.LATEST_TIMESTAMP));
        Map<TopicPartition, Long> found = listOffsets(timestamps, deadlineMs, false);
        found.forEach((tp, offset) -> {
            if (subscriptions.isAssigned(tp) && resets.get(tp) != null && subscriptions.position(tp) == null) {
                subscriptions.seek(tp, offset, null);
            }
        });
        return found.size() == timestamps.size();
    }

    /** ListOffsets with retries until the deadline; returns what it found (all, or throws, if {@code required}). */
    private Map<TopicPartition, Long> listOffsets(Map<TopicPartition, Long> timestamps, long deadlineMs, boolean required) {
        Map<TopicPartition, Long> found = new HashMap<>();
        Map<TopicPartition, Long> todo = new LinkedHashMap<>(timestamps);
        Set<String> topics = new HashSet<>();
        todo.keySet().forEach(tp -> topics.add(tp.topic()));
        client.metadata().addTopics(topics);
        while (!todo.isEmpty()) {
            CompletableFuture<OffsetsLookup.Result> f = offsetsLookup.list(todo, deadlineMs);
            OffsetsLookup.Result r = awaitFuture(f, deadlineMs);
            if (r == null) {
                break;
            }
            found.putAll(r.offsets());
            r.offsets().keySet().forEach(todo::remove);
            if (!r.failed().isEmpty()) {
                Map.Entry<TopicPartition, Errors> e = r.failed().entrySet().iterator().next();
                throw new io.weir.consumer.errors.ConsumerException(e.getValue(),
                    "listing offsets of " + e.getKey() + " failed: " + e.getValue().message());
            }
            if (todo.isEmpty() || time.milliseconds() + retryBackoffMs >= deadlineMs) {
                break;
            }
            if (client.metadata().cluster().isBootstrap() || !r.retry().isEmpty()) {
                awaitFuture(client.refreshMetadata(Math.min(deadlineMs, time.milliseconds() + retryBackoffMs * 10)),
                    deadlineMs);
            }
        }
        if (required && !todo.isEmpty()) {
            throw new TimeoutException("Failed to get offsets by times for " + todo.keySet() + " before the timeout");
        }
        return found;
    }

    private <T> T awaitFuture(CompletableFuture<T> f, long deadlineMs) {
        f.whenComplete((v, e) -> waker.signal());
        while (!f.isDone()) {
            if (woken.get()) {
                throw new WakeupException();
            }
            long seen = waker.count();
            if (f.isDone()) {
                break;
            }
            long left = deadlineMs - time.milliseconds();
            if (left <= 0) {
                return null;
            }
            waker.await(seen, left);
        }
        try {
            return f.isCompletedExceptionally() ? null : f.join();
        } catch (RuntimeException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ commits

    @Override
    public void commitSync() {
        commitSync(Duration.ofMillis(defaultApiTimeoutMs));
    }

    @Override
    public void commitSync(Duration timeout) {
        acquire();
        try {
            requireGroup("commitSync()").commitSync(subscriptions.allConsumedAsOffsets(),
                saturatedAdd(time.milliseconds(), timeout.toMillis()), woken);
        } finally {
            release();
        }
    }

    @Override
    public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        commitSync(offsets, Duration.ofMillis(defaultApiTimeoutMs));
    }

    @Override
    public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
        acquire();
        try {
            requireGroup("commitSync()").commitSync(offsets, saturatedAdd(time.milliseconds(), timeout.toMillis()), woken);
        } finally {
            release();
        }
    }

    @Override
    public void commitAsync() {
        commitAsync(null);
    }

    @Override
    public void commitAsync(OffsetCommitCallback callback) {
        acquire();
        try {
            requireGroup("commitAsync()").commitAsync(subscriptions.allConsumedAsOffsets(), callback);
        } finally {
            release();
        }
    }

    @Override
    public void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback) {
        acquire();
        try {
            requireGroup("commitAsync()").commitAsync(offsets, callback);
        } finally {
            release();
        }
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions) {
        return committed(partitions, Duration.ofMillis(defaultApiTimeoutMs));
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions, Duration timeout) {
        acquire();
        try {
            Map<TopicPartition, OffsetAndMetadata> r = requireGroup("committed()").fetchCommittedOffsets(partitions,
                saturatedAdd(time.milliseconds(), timeout.toMillis()), woken);
            if (r == null) {
                throw new TimeoutException("Timeout of " + timeout.toMillis() + "ms expired before the last committed "
                    + "offset for partitions " + partitions + " could be determined");
            }
            Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
            for (TopicPartition tp : partitions) {
                out.put(tp, r.get(tp)); // null: nothing committed, as in Kafka
            }
            return out;
        } finally {
            release();
        }
    }

    // ------------------------------------------------------------------ positions

    @Override
    public void seek(TopicPartition partition, long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("seek offset must not be a negative number");
        }
        acquire();
        try {
            subscriptions.seek(partition, offset, null);
        } finally {
            release();
        }
    }

    @Override
    public void seek(TopicPartition partition, OffsetAndMetadata offsetAndMetadata) {
        acquire();
        try {
            subscriptions.seek(partition, offsetAndMetadata.offset(), offsetAndMetadata.leaderEpoch().orElse(null));
        } finally {
            release();
        }
    }

    @Override
    public void seekToBeginning(Collection<TopicPartition> partitions) {
        seekTo(partitions, SubscriptionState.ResetStrategy.EARLIEST);
    }

    @Override
    public void seekToEnd(Collection<TopicPartition> partitions) {
        seekTo(partitions, SubscriptionState.ResetStrategy.LATEST);
    }

    private void seekTo(Collection<TopicPartition> partitions, SubscriptionState.ResetStrategy strategy) {
        acquire();
        try {
            Collection<TopicPartition> parts = partitions.isEmpty() ? subscriptions.assignedPartitions() : partitions;
            for (TopicPartition tp : parts) {
                subscriptions.requestReset(tp, strategy);
            }
        } finally {
            release();
        }
    }

    @Override
    public long position(TopicPartition partition) {
        return position(partition, Duration.ofMillis(defaultApiTimeoutMs));
    }

    @Override
    public long position(TopicPartition partition, Duration timeout) {
        acquire();
        try {
            if (!subscriptions.isAssigned(partition)) {
                throw new IllegalStateException("You can only check the position for partitions assigned to this consumer.");
            }
            long deadlineMs = saturatedAdd(time.milliseconds(), timeout.toMillis());
            while (true) {
                if (subscriptions.hasValidPosition(partition)) {
                    return subscriptions.position(partition);
                }
                updatePositions(deadlineMs);
                if (subscriptions.hasValidPosition(partition)) {
                    return subscriptions.position(partition);
                }
                if (time.milliseconds() >= deadlineMs) {
                    throw new TimeoutException("Timeout of " + timeout.toMillis()
                        + "ms expired before the position for partition " + partition + " could be determined");
                }
            }
        } finally {
            release();
        }
    }

    @Override
    public Map<TopicPartition, Long> beginningOffsets(Collection<TopicPartition> partitions) {
        return beginningOffsets(partitions, Duration.ofMillis(defaultApiTimeoutMs));
    }

    @Override
    public Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions) {
        return endOffsets(partitions, Duration.ofMillis(defaultApiTimeoutMs));
    }

    @Override
    public Map<TopicPartition, Long> beginningOffsets(Collection<TopicPartition> partitions, Duration timeout) {
        return offsetsAt(partitions, OffsetsLookup.EARLIEST_TIMESTAMP, timeout);
    }

    @Override
    public Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions, Duration timeout) {
        return offsetsAt(partitions, OffsetsLookup.LATEST_TIMESTAMP, timeout);
    }

    private Map<TopicPartition, Long> offsetsAt(Collection<TopicPartition> partitions, long ts, Duration timeout) {
        acquire();
        try {
            Map<TopicPartition, Long> req = new LinkedHashMap<>();
            partitions.forEach(tp -> req.put(tp, ts));
            return listOffsets(req, saturatedAdd(time.milliseconds(), timeout.toMillis()), true);
        } finally {
            release();
        }
    }

    @Override
    public List<Cluster.PartitionInfo> partitionsFor(String topic) {
        return partitionsFor(topic, Duration.ofMillis(defaultApiTimeoutMs));
    }

    @Override
    public List<Cluster.PartitionInfo> partitionsFor(String topic, Duration timeout) {
        acquire();
        try {
            long deadlineMs = saturatedAdd(time.milliseconds(), timeout.toMillis());
            client.metadata().addTopics(List.of(topic));
            while (true) {
                Cluster c = client.metadata().cluster();
                if (!c.isBootstrap() && (c.topic(topic) != null || c.topicError(topic) == Errors.UNKNOWN_TOPIC_OR_PARTITION)) {
                    List<Cluster.PartitionInfo> parts = c.partitionsFor(topic);
                    if (!parts.isEmpty() || c.topicError(topic) == Errors.UNKNOWN_TOPIC_OR_PARTITION) {
                        return parts;
                    }
                }
                if (time.milliseconds() >= deadlineMs) {
                    throw new TimeoutException("Timeout expired while fetching topic metadata for " + topic);
                }
                awaitFuture(client.refreshMetadata(deadlineMs), deadlineMs);
            }
        } finally {
            release();
        }
    }

    @Override
    public Set<TopicPartition> paused() {
        acquire();
        try {
            return subscriptions.pausedPartitions();
        } finally {
            release();
        }
    }

    @Override
    public void pause(Collection<TopicPartition> partitions) {
        acquire();
        try {
            partitions.forEach(subscriptions::pause);
        } finally {
            release();
        }
    }

    @Override
    public void resume(Collection<TopicPartition> partitions) {
        acquire();
        try {
            partitions.forEach(subscriptions::resume);
        } finally {
            release();
        }
    }

    @Override
    public void wakeup() {
        wakeup.set(true);
        waker.signal();
    }

    /** The member id in the group (for tests and tools); "" when not in a group. */
    public String groupMemberId() {
        return coordinator == null ? "" : coordinator.memberId();
    }

    /** The generation of the group this member last joined (for tests and tools); -1 when not in one. */
    public int groupGeneration() {
        return coordinator == null ? -1 : coordinator.generation();
    }

    /**
     * For tests: what a crashed process looks like to the broker. Stops heartbeats and drops the
     * connections without committing or sending LeaveGroup, so the coordinator only notices when
     * the session times out. The consumer is closed afterwards.
     */
    void abandonForTest() {
        acquireAllowClosed();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (coordinator != null) {
                coordinator.close();
            }
            client.close(0);
            if (groupClient != null) {
                groupClient.close(0);
            }
        } finally {
            release();
        }
    }

    @Override
    public void close() {
        close(Duration.ofMillis(30_000));
    }

    @Override
    public void close(Duration timeout) {
        close(timeout, false);
    }

    /**
     * {@link #close(Duration)}, and a static member ({@code group.instance.id} set) also leaves the group: it
     * sends LeaveGroup with its instance id, as a dynamic member always does on close, so the coordinator
     * hands its partitions to the other members at once instead of after {@code session.timeout.ms}. For a
     * member going away for good (a scale-down); a member about to restart closes with {@link #close(Duration)}
     * and comes back under its instance id without a rebalance (Kafka's
     * {@code close(CloseOptions.groupMembershipOperation(LEAVE_GROUP))}).
     */
    public void closeAndLeaveGroup(Duration timeout) {
        close(timeout, true);
    }

    private void close(Duration timeout, boolean leaveEvenIfStatic) {
        acquireAllowClosed();
        try {
            if (closed) {
                return;
            }
            long deadlineMs = saturatedAdd(time.milliseconds(), timeout.toMillis());
            wakeup.set(false);
            if (coordinator != null) {
                try {
                    coordinator.autoCommitOnClose(deadlineMs);
                    coordinator.runCompletedCallbacks();
                    if (subscriptions.hasAutoAssignment()) {
                        coordinator.leaveGroup("the consumer is being closed", true, leaveEvenIfStatic);
                    }
                } catch (RuntimeException e) {
                    log.warn("consumer {}: leaving the group on close failed: {}", clientId, e.toString());
                }
                coordinator.close();
            }
            fetcher.closeSessions(deadlineMs);
            closed = true;
            long left = Math.max(0, deadlineMs - time.milliseconds());
            client.close(Math.min(left, 1_000));
            if (groupClient != null) {
                groupClient.close(Math.min(left, 1_000));
            }
            keyDeserializer.close();
            valueDeserializer.close();
        } finally {
            release();
        }
    }
}
