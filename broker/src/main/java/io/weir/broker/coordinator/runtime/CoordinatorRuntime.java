package io.weir.broker.coordinator.runtime;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.utils.TimerService;
import io.weir.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The engine every coordinator with state in an internal compacted topic runs on: one
 * {@link CoordinatorShard} per partition of that topic, each with its own event queue.
 *
 * <p><b>Threads.</b> Every operation of a shard (writes, reads, timeouts, load, unload, commit
 * notifications) is an event on that shard's queue; a queue is drained by at most one thread of the
 * shared {@link Executor} at a time, so one shard's operations never run concurrently and need no
 * lock, while different shards run in parallel. Request threads only enqueue and get a
 * {@link CompletableFuture}; nothing here blocks them.
 *
 * <p><b>Writes.</b> A write operation returns records and a response. The runtime appends the records
 * through the {@link PartitionWriter} from the shard's queue (holding no lock), and only after the
 * append succeeded replays them into the shard. The response is parked until the writer reports the
 * records committed ({@link PartitionWriter.Listener}), then given. <i>Rollback:</i> a failed append
 * is never replayed, so the durable state is as before the operation and the response carries the
 * error; because the next event of the queue starts only after the append returned, no later
 * operation ever saw the failed records. (Kafka's runtime applies records before the append and
 * reverts a snapshot registry to the last committed offset on failure; appending before applying
 * gives the same guarantee without snapshots, at the price of one shard's appends not overlapping —
 * they are local appends; waiting for replication happens after, in the parked response.)
 *
 * <p><b>Reads</b> run on the queue against the shard's state, which may include appended records
 * that are not committed yet (with replication); their answer is parked, like a write's, until every
 * record appended so far is committed, so no answer reveals state that is not committed. A write with
 * no records is answered the same way. If the partition is unloaded first, parked answers fail with
 * NOT_COORDINATOR.
 *
 * <p><b>Lifecycle.</b> {@link #scheduleLoad} creates the shard and replays the partition's log into it
 * (operations meanwhile fail fast with COORDINATOR_LOAD_IN_PROGRESS); then it is active.
 * {@link #scheduleUnload} (leadership moved away) cancels its timers and fails whatever is parked
 * with NOT_COORDINATOR; later operations fail with NOT_COORDINATOR. Loads and unloads carry the
 * partition's leader epoch and are ordered by it: a newer load replaces an older shard, and a load no
 * newer than the last resignation ({@link #scheduleUnload(TopicPartition, int)}) is refused.
 *
 * <p>Thread-safe.
 *
 * @param <S> the shard type
 * @param <R> the record type
 */
public final class CoordinatorRuntime<S extends CoordinatorShard<R>, R> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorRuntime.class);
    /** Events one drain runs before yielding its thread to other shards. */
    private static final int MAX_EVENTS_PER_DRAIN = 64;
    private static final long NO_PRODUCER_ID = -1;
    private static final short NO_PRODUCER_EPOCH = -1;

    /** Where a partition's shard is in its life. */
    public enum ShardState { LOADING, ACTIVE, CLOSED }

    /** Builds the (empty) shard of a partition, before its log is replayed into it. */
    @FunctionalInterface
    public interface ShardFactory<S, R> {
        S create(TopicPartition tp, CoordinatorTimer<R> timer);
    }

    /** A write: inspects the shard, returns records and a response; runs on the shard's queue. */
    @FunctionalInterface
    public interface WriteOperation<S, T, R> {
        CoordinatorResult<T, R> run(S shard);
    }

    private final String name;
    private final Time time;
    private final Executor executor;
    private final TimerService timers;
    private final PartitionWriter writer;
    private final CoordinatorLoader loader;
    private final CoordinatorSerde<R> serde;
    private final ShardFactory<S, R> factory;
    /** Written under {@link #lifecycleLock} (reads need no lock). */
    private final Map<TopicPartition, Shard> shards = new ConcurrentHashMap<>();
    /** Orders loads and unloads of a partition; guards {@link #unloadedAt}. Held only for map updates. */
    private final Object lifecycleLock = new Object();
    /** The newest leader epoch each partition was unloaded at (resigned): loads at it or older are stale. */
    private final Map<TopicPartition, Integer> unloadedAt = new HashMap<>();
    private final PartitionWriter.Listener committedListener = this::onCommitted;

    /**
     * @param name     names the coordinator in logs ("group")
     * @param executor the threads shards run on (shared by all shards; a direct executor in tests)
     */
    public CoordinatorRuntime(String name, Time time, Executor executor, TimerService timers, PartitionWriter writer,
                              CoordinatorLoader loader, CoordinatorSerde<R> serde, ShardFactory<S, R> factory) {
        this.name = name;
        this.time = time;
        this.executor = executor;
        this.timers = timers;
        this.writer = writer;
        this.loader = loader;
        this.serde = serde;
        this.factory = factory;
    }

    // ------------------------------------------------------------------------------ operations

    /**
     * Runs a write on the partition's shard; the future gets the response once the records are
     * committed, or fails with a {@link CoordinatorException} (NOT_COORDINATOR, LOAD_IN_PROGRESS, or an
     * {@link CoordinatorException.AppendFailed}) — or whatever the operation threw.
     */
    public <T> CompletableFuture<T> scheduleWriteOperation(String opName, TopicPartition tp,
                                                           WriteOperation<S, T, R> op) {
        CompletableFuture<T> response = new CompletableFuture<>();
        Shard shard = activeShard(tp, response);
        if (shard != null) {
            shard.enqueue(() -> shard.write(opName, op, response));
        }
        return response;
    }

    /**
     * Like {@link #scheduleWriteOperation}, but the records are appended as one transactional batch of
     * {@code producerId}/{@code producerEpoch} (a transactional offset commit) and replayed with them, so
     * the shard keeps them pending until the transaction's marker
     * ({@link #scheduleTransactionCompletion}). A fenced epoch fails the append (INVALID_PRODUCER_EPOCH).
     */
    public <T> CompletableFuture<T> scheduleTransactionalWriteOperation(String opName, TopicPartition tp,
                                                                        long producerId, short producerEpoch,
                                                                        WriteOperation<S, T, R> op) {
        CompletableFuture<T> response = new CompletableFuture<>();
        Shard shard = activeShard(tp, response);
        if (shard != null) {
            shard.enqueue(() -> shard.write(opName, op, response, producerId, producerEpoch));
        }
        return response;
    }

    /**
     * Appends the COMMIT or ABORT marker of {@code producerId}'s transaction to the partition and replays
     * it into the shard ({@link CoordinatorShard#replayEndTransactionMarker}); completes once the marker
     * is committed. This is how a transaction coordinator's marker reaches a coordinator partition (the
     * marker must pass through the shard's queue so that state and log keep one order).
     */
    public CompletableFuture<Void> scheduleTransactionCompletion(String opName, TopicPartition tp, long producerId,
                                                                 short producerEpoch, int coordinatorEpoch,
                                                                 boolean commit) {
        CompletableFuture<Void> response = new CompletableFuture<>();
        Shard shard = activeShard(tp, response);
        if (shard != null) {
            shard.enqueue(() -> shard.completeTransaction(opName, producerId, producerEpoch, coordinatorEpoch, commit,
                response));
        }
        return response;
    }

    /** Runs a read on the partition's shard; answered once everything appended before it is committed. */
    public <T> CompletableFuture<T> scheduleReadOperation(String opName, TopicPartition tp, Function<S, T> op) {
        CompletableFuture<T> response = new CompletableFuture<>();
        Shard shard = activeShard(tp, response);
        if (shard != null) {
            shard.enqueue(() -> shard.read(opName, op, response));
        }
        return response;
    }

    private Shard activeShard(TopicPartition tp, CompletableFuture<?> response) {
        Shard shard = shards.get(tp);
        CoordinatorException e = shard == null ? notCoordinator(tp) : shard.unavailable();
        if (e != null) {
            response.completeExceptionally(e);
            return null;
        }
        return shard;
    }

    private static CoordinatorException notCoordinator(TopicPartition tp) {
        return new CoordinatorException(Errors.NOT_COORDINATOR, "This broker does not coordinate " + tp);
    }

    /** The state of the partition's shard, or null when this runtime has none for it. */
    public ShardState shardState(TopicPartition tp) {
        Shard shard = shards.get(tp);
        return shard == null ? null : shard.state.get();
    }

    /** Partitions with a shard here (loading or active). */
    public Set<TopicPartition> partitions() {
        return Set.copyOf(shards.keySet());
    }

    // ------------------------------------------------------------------------------ lifecycle

    /**
     * Creates the partition's shard and replays its log into it, on the shard's queue. A load for an
     * epoch not newer than the current shard's is ignored (returns that shard's load), and so is one not
     * newer than the epoch the partition was last unloaded at ({@link #scheduleUnload(TopicPartition, int)}):
     * that load is stale, and its future fails with NOT_COORDINATOR.
     */
    public CompletableFuture<Void> scheduleLoad(TopicPartition tp, int leaderEpoch) {
        Shard replaced = null;
        Shard shard;
        synchronized (lifecycleLock) {
            Integer fence = unloadedAt.get(tp);
            if (fence != null && leaderEpoch <= fence) {
                return CompletableFuture.failedFuture(new CoordinatorException(Errors.NOT_COORDINATOR,
                    "a load of " + tp + " at leader epoch " + leaderEpoch + " after its unload at epoch " + fence));
            }
            Shard current = shards.get(tp);
            if (current != null && current.leaderEpoch >= leaderEpoch) {
                shard = current;
            } else {
                replaced = current;
                shard = new Shard(tp, leaderEpoch);
                shards.put(tp, shard);
            }
        }
        if (replaced != null) {
            replaced.close();
        }
        if (shard.loadStarted.compareAndSet(false, true)) {
            shard.enqueue(shard::load);
        }
        return shard.loaded;
    }

    /** Stops coordinating the partition: timers cancelled, parked answers fail with NOT_COORDINATOR. */
    public CompletableFuture<Void> scheduleUnload(TopicPartition tp) {
        Shard shard;
        synchronized (lifecycleLock) {
            shard = shards.remove(tp);
        }
        return shard == null ? CompletableFuture.completedFuture(null) : shard.close();
    }

    /**
     * Stops coordinating the partition because this broker stopped leading it at {@code leaderEpoch}
     * (it became a follower at that epoch), as {@link #scheduleUnload(TopicPartition)}; a shard loaded at
     * a newer epoch stays, and later loads at {@code leaderEpoch} or older are refused, so a load that
     * was overtaken by the resignation cannot bring back a shard this broker no longer owns.
     * {@code leaderEpoch} -1 (the partition was deleted) unloads whatever is there and forgets the
     * partition's epochs (a topic created again under the name starts over at epoch 0).
     */
    public CompletableFuture<Void> scheduleUnload(TopicPartition tp, int leaderEpoch) {
        Shard shard;
        synchronized (lifecycleLock) {
            if (leaderEpoch < 0) {
                unloadedAt.remove(tp);
            } else {
                unloadedAt.merge(tp, leaderEpoch, Math::max);
            }
            Shard current = shards.get(tp);
            if (current == null || leaderEpoch >= 0 && current.leaderEpoch > leaderEpoch) {
                return CompletableFuture.completedFuture(null);
            }
            shard = shards.remove(tp);
        }
        return shard.close();
    }

    /** Unloads every shard and waits (a bounded time) until they are closed. */
    @Override
    public void close() {
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (TopicPartition tp : partitions()) {
            closing.add(scheduleUnload(tp));
        }
        try {
            CompletableFuture.allOf(closing.toArray(new CompletableFuture[0])).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("{} coordinator shards did not all close: {}", name, e.toString());
        }
    }

    private void onCommitted(TopicPartition tp, long committedOffset) {
        Shard shard = shards.get(tp);
        if (shard != null) {
            shard.enqueue(() -> shard.advanceCommitted(committedOffset));
        }
    }

    // ------------------------------------------------------------------------------ one shard

    /** An answer parked until the records below {@code endOffset} are committed. */
    private record Parked(long endOffset, Runnable onCommitted, Runnable onUnloaded) {
    }

    /** A scheduled timeout of a shard. */
    private final class Timeout {
        final String key;
        final CoordinatorTimer.TimeoutOperation<R> operation;
        TimerService.Handle handle;

        Timeout(String key, CoordinatorTimer.TimeoutOperation<R> operation) {
            this.key = key;
            this.operation = operation;
        }
    }

    /**
     * One partition: its shard, event queue, offsets and timers. Fields other than the state, the
     * queue and the load future are touched only by events of its queue.
     */
    private final class Shard implements CoordinatorTimer<R> {
        final TopicPartition tp;
        final int leaderEpoch;
        final CompletableFuture<Void> loaded = new CompletableFuture<>();
        final AtomicBoolean loadStarted = new AtomicBoolean();
        final AtomicReference<ShardState> state = new AtomicReference<>(ShardState.LOADING);
        private final ConcurrentLinkedQueue<Runnable> events = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean draining = new AtomicBoolean();
        private S shard;
        /** End (exclusive) of the records appended so far. */
        private long writtenOffset;
        /** End (exclusive) of the records known to be committed. */
        private long committedOffset;
        private final ArrayDeque<Parked> parked = new ArrayDeque<>();
        private final Map<String, Timeout> timeouts = new HashMap<>();

        Shard(TopicPartition tp, int leaderEpoch) {
            this.tp = tp;
            this.leaderEpoch = leaderEpoch;
        }

        CoordinatorException unavailable() {
            return switch (state.get()) {
                case ACTIVE -> null;
                case LOADING -> new CoordinatorException(Errors.COORDINATOR_LOAD_IN_PROGRESS, tp + " is being loaded");
                case CLOSED -> notCoordinator(tp);
            };
        }

        void enqueue(Runnable event) {
            events.add(event);
            if (draining.compareAndSet(false, true)) {
                executor.execute(this::drain);
            }
        }

        private void drain() {
            int n = 0;
            Runnable event;
            while (n++ < MAX_EVENTS_PER_DRAIN && (event = events.poll()) != null) {
                try {
                    event.run();
                } catch (RuntimeException | AssertionError e) {
                    log.error("{} coordinator event for {} failed", name, tp, e);
                }
            }
            draining.set(false);
            if (!events.isEmpty() && draining.compareAndSet(false, true)) {
                executor.execute(this::drain);
            }
        }

        void load() {
            if (state.get() != ShardState.LOADING) {
                return; // unloaded before it started
            }
            long startNs = time.nanoseconds();
            try {
                S s = factory.create(tp, this);
                int[] records = new int[1];
                long end = loader.load(tp, new CoordinatorLoader.RecordSink() {
                    @Override
                    public void accept(long offset, long producerId, short producerEpoch, ByteBuffer key,
                                       ByteBuffer value) {
                        R record;
                        try {
                            record = serde.deserialize(key, value);
                        } catch (CorruptRecordException e) {
                            log.warn("skipping unreadable record at {} offset {}: {}", tp, offset, e.getMessage());
                            return;
                        }
                        if (record != null) {
                            s.replay(offset, producerId, producerEpoch, record);
                            records[0]++;
                        }
                    }

                    @Override
                    public void endMarker(long offset, long producerId, short producerEpoch, boolean commit) {
                        s.replayEndTransactionMarker(offset, producerId, producerEpoch, commit);
                    }
                });
                shard = s;
                writtenOffset = end;
                committedOffset = end;
                writer.registerListener(tp, committedListener);
                s.onLoaded();
                if (!state.compareAndSet(ShardState.LOADING, ShardState.ACTIVE)) {
                    return; // unloaded meanwhile: the close event (next on this queue) cleans up
                }
                log.info("{} coordinator loaded {} ({} records up to offset {}) in {} ms", name, tp, records[0], end,
                    (time.nanoseconds() - startNs) / 1_000_000);
                loaded.complete(null);
            } catch (RuntimeException e) {
                log.error("{} coordinator cannot load {}", name, tp, e);
                state.set(ShardState.CLOSED);
                shards.remove(tp, this);
                cancelTimeouts();
                loaded.completeExceptionally(e);
            }
        }

        CompletableFuture<Void> close() {
            boolean wasLoading = state.getAndSet(ShardState.CLOSED) == ShardState.LOADING;
            CompletableFuture<Void> closed = new CompletableFuture<>();
            enqueue(() -> {
                writer.deregisterListener(tp, committedListener);
                cancelTimeouts();
                while (!parked.isEmpty()) {
                    parked.poll().onUnloaded().run();
                }
                if (shard != null) {
                    shard.onUnloaded();
                    shard = null;
                }
                if (wasLoading) {
                    loaded.completeExceptionally(notCoordinator(tp));
                }
                log.info("{} coordinator unloaded {}", name, tp);
                closed.complete(null);
            });
            return closed;
        }

        <T> void write(String opName, WriteOperation<S, T, R> op, CompletableFuture<T> response) {
            write(opName, op, response, NO_PRODUCER_ID, NO_PRODUCER_EPOCH);
        }

        <T> void write(String opName, WriteOperation<S, T, R> op, CompletableFuture<T> response, long producerId,
                       short producerEpoch) {
            CoordinatorException e = unavailable();
            if (e != null) {
                response.completeExceptionally(e);
                return;
            }
            CoordinatorResult<T, R> result;
            try {
                result = op.run(shard);
            } catch (RuntimeException | AssertionError t) {
                log.error("{} coordinator operation {} on {} failed", name, opName, tp, t);
                response.completeExceptionally(t);
                return;
            }
            appendAndPark(opName, result, response, producerId, producerEpoch);
        }

        void completeTransaction(String opName, long producerId, short producerEpoch, int coordinatorEpoch,
                                 boolean commit, CompletableFuture<Void> response) {
            CoordinatorException e = unavailable();
            if (e != null) {
                response.completeExceptionally(e);
                return;
            }
            long offset;
            try {
                offset = writer.appendEndMarker(tp, time.milliseconds(), producerId, producerEpoch, coordinatorEpoch,
                    commit);
            } catch (CoordinatorException ce) {
                log.info("{} coordinator could not append the marker of {} to {}: {} {}", name, opName, tp,
                    ce.error(), ce.getMessage());
                response.completeExceptionally(ce);
                return;
            } catch (RuntimeException re) {
                log.error("{} coordinator append of {} to {} failed", name, opName, tp, re);
                response.completeExceptionally(
                    new CoordinatorException.AppendFailed(Errors.UNKNOWN_SERVER_ERROR, re.toString()));
                return;
            }
            writtenOffset = Math.max(writtenOffset, offset + 1);
            try {
                shard.replayEndTransactionMarker(offset, producerId, producerEpoch, commit);
            } catch (RuntimeException | AssertionError t) {
                log.error("{} coordinator cannot replay the marker of {} on {}", name, opName, tp, t);
                response.completeExceptionally(t);
                return;
            }
            park(writtenOffset, () -> response.complete(null), () -> response.completeExceptionally(notCoordinator(tp)));
        }

        <T> void read(String opName, Function<S, T> op, CompletableFuture<T> response) {
            CoordinatorException e = unavailable();
            if (e != null) {
                response.completeExceptionally(e);
                return;
            }
            T value;
            try {
                value = op.apply(shard);
            } catch (RuntimeException | AssertionError t) {
                log.error("{} coordinator read {} on {} failed", name, opName, tp, t);
                response.completeExceptionally(t);
                return;
            }
            park(writtenOffset, () -> response.complete(value), () -> response.completeExceptionally(notCoordinator(tp)));
        }

        /** Appends the result's records, replays them once appended, and parks the answer until committed. */
        private <T> void appendAndPark(String opName, CoordinatorResult<T, R> result, CompletableFuture<T> response,
                                       long producerId, short producerEpoch) {
            List<R> records = result.records();
            if (!records.isEmpty()) {
                long baseOffset;
                try {
                    List<SerializedRecord> bytes = new ArrayList<>(records.size());
                    for (R r : records) {
                        bytes.add(serde.serialize(r));
                    }
                    baseOffset = producerId == NO_PRODUCER_ID ? writer.append(tp, time.milliseconds(), bytes)
                        : writer.appendTransactional(tp, time.milliseconds(), producerId, producerEpoch, bytes);
                } catch (CoordinatorException.AppendFailed e) {
                    log.info("{} coordinator could not append the records of {} to {}: {} {}", name, opName, tp,
                        e.error(), e.getMessage());
                    finish(result, e, response);
                    return;
                } catch (RuntimeException e) {
                    log.error("{} coordinator append of {} to {} failed", name, opName, tp, e);
                    finish(result, new CoordinatorException.AppendFailed(Errors.UNKNOWN_SERVER_ERROR, e.toString()),
                        response);
                    return;
                }
                writtenOffset = Math.max(writtenOffset, baseOffset + records.size());
                try {
                    for (int i = 0; i < records.size(); i++) {
                        shard.replay(baseOffset + i, producerId, producerEpoch, records.get(i));
                    }
                } catch (RuntimeException | AssertionError e) {
                    // a bug in the shard: its state may now lag its log; a reload (unload + load) repairs it
                    log.error("{} coordinator cannot replay the records of {} on {}", name, opName, tp, e);
                    response.completeExceptionally(e);
                    return;
                }
            }
            park(writtenOffset, () -> finish(result, null, response),
                () -> finish(result, notCoordinator(tp), response));
        }

        private <T> void finish(CoordinatorResult<T, R> result, CoordinatorException failure, CompletableFuture<T> response) {
            try {
                response.complete(result.complete(failure));
            } catch (RuntimeException | AssertionError t) {
                response.completeExceptionally(t);
            }
        }

        private void park(long endOffset, Runnable onCommitted, Runnable onUnloaded) {
            if (endOffset <= committedOffset && parked.isEmpty()) {
                onCommitted.run();
            } else {
                parked.add(new Parked(endOffset, onCommitted, onUnloaded));
            }
        }

        void advanceCommitted(long offset) {
            if (state.get() == ShardState.CLOSED || offset <= committedOffset) {
                return;
            }
            committedOffset = offset;
            while (!parked.isEmpty() && parked.peek().endOffset() <= committedOffset) {
                parked.poll().onCommitted().run();
            }
        }

        // -------------------------------------------------------------------------- CoordinatorTimer

        @Override
        public void scheduleAt(String key, long deadlineMs, TimeoutOperation<R> operation) {
            cancel(key);
            Timeout t = new Timeout(key, operation);
            timeouts.put(key, t);
            t.handle = timers.schedule(deadlineMs, () -> enqueue(() -> fire(t)));
        }

        @Override
        public void schedule(String key, long delayMs, TimeoutOperation<R> operation) {
            scheduleAt(key, time.milliseconds() + delayMs, operation);
        }

        @Override
        public void cancel(String key) {
            Timeout t = timeouts.remove(key);
            if (t != null) {
                t.handle.cancel();
            }
        }

        @Override
        public boolean isScheduled(String key) {
            return timeouts.containsKey(key);
        }

        private void cancelTimeouts() {
            for (Timeout t : timeouts.values()) {
                t.handle.cancel();
            }
            timeouts.clear();
        }

        private void fire(Timeout t) {
            if (timeouts.get(t.key) != t || state.get() != ShardState.ACTIVE) {
                return; // cancelled or replaced after it fired, or unloaded
            }
            timeouts.remove(t.key);
            CompletableFuture<Void> done = new CompletableFuture<>();
            done.whenComplete((v, e) -> {
                if (e != null) {
                    log.warn("{} coordinator timeout {} on {} failed: {}", name, t.key, tp, e.toString());
                }
            });
            write("timeout " + t.key, s -> t.operation.run(), done);
        }
    }
}
