package io.weir.broker.coordinator;

import io.weir.broker.coordinator.runtime.CoordinatorRuntime;
import io.weir.broker.coordinator.runtime.CoordinatorShard;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.TopicService;
import io.weir.common.TopicPartition;
import io.weir.log.LogConfig;
import io.weir.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The internal compacted topic a coordinator keeps its state in ({@code __consumer_offsets},
 * {@code __transaction_state}) and its shards on the {@link CoordinatorRuntime}: which partition owns a
 * key (Kafka's hash, so a key lands on the partition number it would on Kafka), creating the topic on
 * first need, loading its partitions, and the error a request gets while its shard is missing or
 * loading. Both coordinators route through here, so the cluster's "shards follow partition leadership"
 * changes one place.
 *
 * <p>Thread-safe.
 */
public final class CoordinatorTopic<S extends CoordinatorShard<R>, R> {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorTopic.class);

    /** What a read over every loaded shard gathered, and COORDINATOR_LOAD_IN_PROGRESS if one was still loading. */
    public record Gathered<T>(Errors error, List<T> items) {
    }

    private final String name;
    private final int configuredPartitions;
    private final int segmentBytes;
    private final MetadataStore store;
    private final TopicService topics;
    private final CoordinatorRuntime<S, R> runtime;
    private volatile int partitionCount;

    /**
     * @param configuredPartitions the partition count used when this broker creates the topic
     * @param segmentBytes         the topic's segment size when this broker creates it
     */
    public CoordinatorTopic(String name, int configuredPartitions, int segmentBytes, MetadataStore store,
                            TopicService topics, CoordinatorRuntime<S, R> runtime) {
        this.name = name;
        this.configuredPartitions = configuredPartitions;
        this.segmentBytes = segmentBytes;
        this.store = store;
        this.topics = topics;
        this.runtime = runtime;
        this.partitionCount = store.topic(name).map(TopicMetadata::partitionCount).orElse(configuredPartitions);
    }

    public String name() {
        return name;
    }

    public int partitionCount() {
        return partitionCount;
    }

    public boolean exists() {
        return store.topic(name).isPresent();
    }

    /** Kafka's mapping of a coordinator key (group id, transactional id) to its partition number. */
    public int partitionFor(String key) {
        int h = key.hashCode();
        return (h == Integer.MIN_VALUE ? 0 : Math.abs(h)) % partitionCount;
    }

    public TopicPartition partitionOf(String key) {
        return new TopicPartition(name, partitionFor(key));
    }

    /** Whether {@code tp} is a partition of this topic that exists. */
    public boolean contains(TopicPartition tp) {
        return name.equals(tp.topic()) && exists() && tp.partition() >= 0 && tp.partition() < partitionCount;
    }

    /** Schedules the load of every partition (at broker start; requests meanwhile: LOAD_IN_PROGRESS). */
    public void loadAll() {
        if (exists()) {
            for (int p = 0; p < partitionCount; p++) {
                runtime.scheduleLoad(new TopicPartition(name, p), 0);
            }
        }
    }

    /**
     * Creates the topic (compacted) if it does not exist and loads its new, empty partitions; completes
     * once they are loaded. Null if the topic cannot be created.
     */
    public synchronized CompletableFuture<Void> ensureCreated() {
        if (exists()) {
            return CompletableFuture.completedFuture(null);
        }
        Map<String, String> configs = Map.of(LogConfig.CLEANUP_POLICY, "compact",
            LogConfig.SEGMENT_BYTES, Integer.toString(segmentBytes));
        TopicService.Result r = topics.create(name, configuredPartitions, (short) 1, Map.of(), configs, false);
        if (r.error() != Errors.NONE && r.error() != Errors.TOPIC_ALREADY_EXISTS
            && !(r.error() == Errors.REQUEST_TIMED_OUT && exists())) { // timed out: the controller still completes it
            log.error("cannot create {}: {} {}", name, r.error(), r.message());
            return null;
        }
        partitionCount = store.topic(name).map(TopicMetadata::partitionCount).orElse(configuredPartitions);
        List<CompletableFuture<Void>> loads = new ArrayList<>();
        for (int p = 0; p < partitionCount; p++) {
            loads.add(runtime.scheduleLoad(new TopicPartition(name, p), 0));
        }
        if (r.error() == Errors.NONE) {
            log.info("created {} with {} partitions", name, partitionCount);
        }
        return CompletableFuture.allOf(loads.toArray(new CompletableFuture[0]));
    }

    /**
     * FindCoordinator's answer for the key: NONE if this broker coordinates it (creating the topic on
     * first use), COORDINATOR_NOT_AVAILABLE if it cannot.
     */
    public CompletableFuture<Errors> findCoordinator(String key) {
        CompletableFuture<Void> ready = ensureCreated();
        if (ready == null) {
            return CompletableFuture.completedFuture(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        return ready.handle((v, t) -> runtime.shardState(partitionOf(key)) == null
            ? Errors.COORDINATOR_NOT_AVAILABLE : Errors.NONE);
    }

    /** NONE when the key's shard is active here; NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS otherwise. */
    public Errors shardError(String key) {
        if (!exists()) {
            return Errors.NOT_COORDINATOR;
        }
        CoordinatorRuntime.ShardState state = runtime.shardState(partitionOf(key));
        if (state == null || state == CoordinatorRuntime.ShardState.CLOSED) {
            return Errors.NOT_COORDINATOR;
        }
        return state == CoordinatorRuntime.ShardState.LOADING ? Errors.COORDINATOR_LOAD_IN_PROGRESS : Errors.NONE;
    }

    /**
     * Runs {@code op} on every active shard and gathers the results (ListGroups, ListTransactions); a
     * shard whose read fails contributes nothing.
     */
    public <T> CompletableFuture<Gathered<T>> readAll(String opName, Function<S, List<T>> op) {
        Errors error = Errors.NONE;
        List<CompletableFuture<List<T>>> parts = new ArrayList<>();
        for (int p = 0; exists() && p < partitionCount; p++) {
            TopicPartition tp = new TopicPartition(name, p);
            CoordinatorRuntime.ShardState state = runtime.shardState(tp);
            if (state == CoordinatorRuntime.ShardState.LOADING) {
                error = Errors.COORDINATOR_LOAD_IN_PROGRESS;
            } else if (state == CoordinatorRuntime.ShardState.ACTIVE) {
                parts.add(runtime.scheduleReadOperation(opName, tp, op).exceptionally(t -> List.of()));
            }
        }
        Errors gatheredError = error;
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture[0])).thenApply(v -> {
            List<T> out = new ArrayList<>();
            parts.forEach(f -> out.addAll(f.join()));
            return new Gathered<>(gatheredError, out);
        });
    }
}
