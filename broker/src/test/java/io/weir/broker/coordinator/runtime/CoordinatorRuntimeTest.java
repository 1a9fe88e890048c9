package io.weir.broker.coordinator.runtime;

import io.weir.common.TopicPartition;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.MockTimerService;
import io.weir.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runtime with a small key/value shard, an in-memory writer and a mock timer: no sockets, no sleeping. */
class CoordinatorRuntimeTest {
    private static final TopicPartition TP = new TopicPartition("__test", 0);
    private static final TopicPartition TP1 = new TopicPartition("__test", 1);

    /** A record: set {@code key} to {@code value}, or delete it when value is null. */
    record Put(String key, String value) {
    }

    /** A shard holding a map; it also counts how many operations overlap (must never exceed one). */
    static final class KvShard implements CoordinatorShard<Put> {
        final Map<String, String> state = new TreeMap<>();
        final List<Long> replayedOffsets = new ArrayList<>();
        final CoordinatorTimer<Put> timer;
        final AtomicInteger inside = new AtomicInteger();
        volatile boolean overlapped;

        KvShard(CoordinatorTimer<Put> timer) {
            this.timer = timer;
        }

        @Override
        public void replay(long offset, long producerId, short producerEpoch, Put record) {
            replayedOffsets.add(offset);
            if (record.value() == null) {
                state.remove(record.key());
            } else {
                state.put(record.key(), record.value());
            }
        }

        CoordinatorResult<String, Put> put(String key, String value) {
            return CoordinatorResult.of(List.of(new Put(key, value)), "ok " + key);
        }

        /** An operation that reads, then writes based on what it read: a lost update shows overlap. */
        CoordinatorResult<Void, Put> increment() {
            if (inside.incrementAndGet() != 1) {
                overlapped = true;
            }
            int n = Integer.parseInt(state.getOrDefault("n", "0"));
            Thread.yield();
            inside.decrementAndGet();
            return CoordinatorResult.of(List.of(new Put("n", Integer.toString(n + 1))), null);
        }
    }

    static final CoordinatorSerde<Put> SERDE = new CoordinatorSerde<>() {
        @Override
        public SerializedRecord serialize(Put r) {
            return new SerializedRecord(utf8(r.key()), r.value() == null ? null : utf8(r.value()));
        }

        @Override
        public Put deserialize(ByteBuffer key, ByteBuffer value) {
            return new Put(str(key), value == null ? null : str(value));
        }
    };

    private final MockTime time = new MockTime(1_000);
    private final MockTimerService timers = new MockTimerService(time);
    private final InMemoryPartitionWriter writer = new InMemoryPartitionWriter();
    private final List<KvShard> created = new ArrayList<>();
    private ExecutorService pool;

    @AfterEach
    void tearDown() throws InterruptedException {
        if (pool != null) {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private CoordinatorRuntime<KvShard, Put> runtime(java.util.concurrent.Executor executor) {
        return new CoordinatorRuntime<>("test", time, executor, timers, writer, writer, SERDE, (tp, timer) -> {
            KvShard s = new KvShard(timer);
            synchronized (created) {
                created.add(s);
            }
            return s;
        });
    }

    private CoordinatorRuntime<KvShard, Put> loaded() {
        CoordinatorRuntime<KvShard, Put> rt = runtime(Runnable::run);
        assertTrue(rt.scheduleLoad(TP, 0).isDone());
        return rt;
    }

    private static Errors errorOf(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, f::get);
        return assertInstanceOf(CoordinatorException.class, e.getCause()).error();
    }

    @Test
    void shouldNeverRunOperationsOfOneShardConcurrently() throws Exception {
        pool = Executors.newFixedThreadPool(4);
        CoordinatorRuntime<KvShard, Put> rt = runtime(pool);
        rt.scheduleLoad(TP, 0).get(60, TimeUnit.SECONDS);
        rt.scheduleLoad(TP1, 0).get(60, TimeUnit.SECONDS);
        int ops = 2_000;
        List<CompletableFuture<Void>> all = new ArrayList<>();
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<CompletableFuture<CompletableFuture<Void>>> submitted = new ArrayList<>();
            for (int i = 0; i < ops; i++) {
                TopicPartition tp = i % 2 == 0 ? TP : TP1;
                submitted.add(CompletableFuture.supplyAsync(
                    () -> rt.scheduleWriteOperation("inc", tp, KvShard::increment), callers));
            }
            for (CompletableFuture<CompletableFuture<Void>> s : submitted) {
                all.add(s.get(30, TimeUnit.SECONDS));
            }
            CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
        } finally {
            callers.shutdownNow();
        }
        assertEquals(Integer.toString(ops / 2), rt.scheduleReadOperation("n", TP, s -> s.state.get("n")).get());
        assertEquals(Integer.toString(ops / 2), rt.scheduleReadOperation("n", TP1, s -> s.state.get("n")).get());
        for (KvShard s : created) {
            assertFalse(s.overlapped, "two operations of one shard ran at once");
        }
    }

    @Test
    void shouldAnswerAWriteOnlyOnceItsRecordsAreCommitted() throws Exception {
        CoordinatorRuntime<KvShard, Put> rt = loaded();
        writer.autoCommit(false);
        CompletableFuture<String> a = rt.scheduleWriteOperation("put", TP, s -> s.put("a", "1"));
        CompletableFuture<String> b = rt.scheduleWriteOperation("put", TP, s -> s.put("b", "2"));
        CompletableFuture<String> read = rt.scheduleReadOperation("get", TP, s -> s.state.get("a"));
        assertFalse(a.isDone(), "appended, not committed");
        assertFalse(read.isDone(), "a read waits for the writes before it");
        assertEquals(2, writer.log(TP).size(), "both appended at once");
        writer.commitUpTo(TP, 1);
        assertEquals("ok a", a.getNow(null));
        assertFalse(b.isDone());
        assertFalse(read.isDone());
        writer.commitUpTo(TP, 2);
        assertEquals("ok b", b.getNow(null));
        assertEquals("1", read.getNow(null));
    }

    @Test
    void shouldAnswerAFailedAppendWithItsErrorAndLeaveTheStateAsItWas() throws Exception {
        CoordinatorRuntime<KvShard, Put> rt = loaded();
        rt.scheduleWriteOperation("put", TP, s -> s.put("a", "1")).get();
        writer.failAppends(Errors.NOT_LEADER_OR_FOLLOWER);
        CompletableFuture<String> failed = rt.scheduleWriteOperation("put", TP, s -> s.put("a", "2"));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, errorOf(failed));
        assertInstanceOf(CoordinatorException.AppendFailed.class, assertThrows(ExecutionException.class, failed::get).getCause());
        assertEquals(Map.of("a", "1"), rt.scheduleReadOperation("state", TP, s -> Map.copyOf(s.state)).get());

        writer.failAppends(null);
        assertEquals("ok b", rt.scheduleWriteOperation("put", TP, s -> s.put("b", "3")).get());
        assertEquals(List.of(0L, 1L), created.get(0).replayedOffsets, "offsets follow the log: the failure took none");
    }

    @Test
    void shouldLetTheOperationDecideTheResponseWhenTheAppendFails() throws Exception {
        CoordinatorRuntime<KvShard, Put> rt = loaded();
        writer.failAppends(Errors.KAFKA_STORAGE_ERROR);
        CompletableFuture<String> f = rt.scheduleWriteOperation("put", TP, s -> CoordinatorResult.of(
            List.of(new Put("a", "1")), "fine", (resp, failure) -> failure == null ? resp : "failed: " + failure.error()));
        assertEquals("failed: KAFKA_STORAGE_ERROR", f.get());
    }

    @Test
    void shouldLoadTheSameStateTheWritePathBuilt() throws Exception {
        CoordinatorRuntime<KvShard, Put> rt = loaded();
        rt.scheduleWriteOperation("put", TP, s -> s.put("a", "1")).get();
        rt.scheduleWriteOperation("put", TP, s -> s.put("b", "2")).get();
        rt.scheduleWriteOperation("del", TP, s -> s.put("a", null)).get();
        rt.scheduleWriteOperation("put", TP, s -> s.put("c", "3")).get();
        Map<String, String> written = rt.scheduleReadOperation("state", TP, s -> Map.copyOf(s.state)).get();

        CoordinatorRuntime<KvShard, Put> reloaded = runtime(Runnable::run);
        reloaded.scheduleLoad(TP, 0).get();
        assertEquals(written, reloaded.scheduleReadOperation("state", TP, s -> Map.copyOf(s.state)).get());
        assertEquals(Map.of("b", "2", "c", "3"), written);
        assertEquals(created.get(0).replayedOffsets, created.get(1).replayedOffsets);
    }

    @Test
    void shouldAnswerLoadInProgressWhileLoadingAndNotCoordinatorAfterUnload() throws Exception {
        List<Runnable> queued = new ArrayList<>();
        CoordinatorRuntime<KvShard, Put> rt = runtime(queued::add);
        assertEquals(Errors.NOT_COORDINATOR, errorOf(rt.scheduleWriteOperation("put", TP, s -> s.put("a", "1"))));
        CompletableFuture<Void> load = rt.scheduleLoad(TP, 0);
        assertEquals(CoordinatorRuntime.ShardState.LOADING, rt.shardState(TP));
        assertEquals(Errors.COORDINATOR_LOAD_IN_PROGRESS, errorOf(rt.scheduleReadOperation("get", TP, s -> s.state)));
        queued.remove(0).run();
        assertTrue(load.isDone());
        assertEquals(CoordinatorRuntime.ShardState.ACTIVE, rt.shardState(TP));

        writer.autoCommit(false);
        CompletableFuture<String> parked = rt.scheduleWriteOperation("put", TP, s -> s.put("a", "1"));
        queued.remove(0).run();
        assertFalse(parked.isDone());
        CompletableFuture<Void> unload = rt.scheduleUnload(TP);
        assertEquals(Errors.NOT_COORDINATOR, errorOf(rt.scheduleWriteOperation("put", TP, s -> s.put("b", "1"))));
        queued.remove(0).run();
        assertTrue(unload.isDone());
        assertEquals(Errors.NOT_COORDINATOR, errorOf(parked), "a parked answer fails when the shard goes away");
    }

    @Test
    void shouldNotActivateAShardUnloadedWhileItWasLoading() {
        List<Runnable> queued = new ArrayList<>();
        CoordinatorRuntime<KvShard, Put> rt = runtime(queued::add);
        CompletableFuture<Void> load = rt.scheduleLoad(TP, 0);
        CompletableFuture<Void> unload = rt.scheduleUnload(TP);
        while (!queued.isEmpty()) {
            queued.remove(0).run();
        }
        assertTrue(unload.isDone());
        assertEquals(Errors.NOT_COORDINATOR, errorOf(load));
        assertEquals(null, rt.shardState(TP));
        assertEquals(Errors.NOT_COORDINATOR, errorOf(rt.scheduleWriteOperation("put", TP, s -> s.put("a", "1"))));
    }

    @Test
    void shouldReplaceAShardWhenLoadedAgainWithANewerLeaderEpoch() throws Exception {
        CoordinatorRuntime<KvShard, Put> rt = loaded();
        rt.scheduleWriteOperation("put", TP, s -> s.put("a", "1")).get();
        assertTrue(rt.scheduleLoad(TP, 0) == rt.scheduleLoad(TP, 0), "the same epoch does not load again");
        rt.scheduleLoad(TP, 1).get();
        assertEquals(2, created.size());
        assertEquals(Map.of("a", "1"), rt.scheduleReadOperation("state", TP, s -> Map.copyOf(s.state)).get());
    }

    @Test
    void shouldRefuseALoadOverlappedByANewerResignationAndKeepAShardNewerThanAResignation() throws Exception {
        CoordinatorRuntime<KvShard, Put> rt = loaded();
        rt.scheduleWriteOperation("put", TP, s -> s.put("a", "1")).get();
        // became a follower at epoch 3: the shard (epoch 0) goes, and a load at epoch 3 or older arriving
        // late (it was decided before the resignation) does not bring it back
        rt.scheduleUnload(TP, 3).get();
        assertEquals(null, rt.shardState(TP));
        assertEquals(Errors.NOT_COORDINATOR, errorOf(rt.scheduleLoad(TP, 2)));
        assertEquals(Errors.NOT_COORDINATOR, errorOf(rt.scheduleLoad(TP, 3)));
        assertEquals(null, rt.shardState(TP));
        assertEquals(Errors.NOT_COORDINATOR, errorOf(rt.scheduleReadOperation("state", TP, s -> Map.copyOf(s.state))));

        // leader again at epoch 4: loaded from the log, with what was written before
        rt.scheduleLoad(TP, 4).get();
        assertEquals(Map.of("a", "1"), rt.scheduleReadOperation("state", TP, s -> Map.copyOf(s.state)).get());
        // a resignation older than the shard's epoch is stale and leaves it
        rt.scheduleUnload(TP, 3).get();
        assertEquals(CoordinatorRuntime.ShardState.ACTIVE, rt.shardState(TP));

        // deleted (epoch -1): unloaded, and the epochs forgotten (a topic made again starts at epoch 0)
        rt.scheduleUnload(TP, -1).get();
        assertEquals(null, rt.shardState(TP));
        rt.scheduleLoad(TP, 0).get();
        assertEquals(CoordinatorRuntime.ShardState.ACTIVE, rt.shardState(TP));
    }

    @Test
    void shouldRunTimeoutsOnTheShardAtTheirDeadlineAndNotBefore() throws Exception {
        CoordinatorRuntime<KvShard, Put> rt = loaded();
        rt.scheduleWriteOperation("arm", TP, s -> {
            s.timer.schedule("t", 100, () -> CoordinatorResult.of(List.of(new Put("fired", "yes")), null));
            s.timer.schedule("gone", 50, () -> CoordinatorResult.of(List.of(new Put("cancelled", "fired")), null));
            s.timer.cancel("gone");
            return CoordinatorResult.response("armed");
        }).get();
        time.advance(99);
        timers.poll();
        assertEquals(Map.of(), rt.scheduleReadOperation("state", TP, s -> Map.copyOf(s.state)).get());
        time.advance(1);
        timers.poll();
        assertEquals(Map.of("fired", "yes"), rt.scheduleReadOperation("state", TP, s -> Map.copyOf(s.state)).get());
        assertFalse(rt.scheduleReadOperation("t", TP, s -> s.timer.isScheduled("t")).get());
    }

    @Test
    void shouldReplaceATimeoutScheduledAgainUnderTheSameKey() throws Exception {
        CoordinatorRuntime<KvShard, Put> rt = loaded();
        AtomicInteger fired = new AtomicInteger();
        CoordinatorTimer.TimeoutOperation<Put> op = () -> {
            fired.incrementAndGet();
            return CoordinatorResult.response(null);
        };
        rt.scheduleWriteOperation("arm", TP, s -> {
            s.timer.schedule("session", 100, op);
            return CoordinatorResult.response(null);
        }).get();
        time.advance(60);
        rt.scheduleWriteOperation("push back", TP, s -> {
            s.timer.schedule("session", 100, op);
            return CoordinatorResult.response(null);
        }).get();
        time.advance(60);
        timers.poll();
        assertEquals(0, fired.get(), "the first deadline was replaced");
        time.advance(40);
        timers.poll();
        assertEquals(1, fired.get());
    }

    @Test
    void shouldCancelTimeoutsOnUnload() throws Exception {
        CoordinatorRuntime<KvShard, Put> rt = loaded();
        rt.scheduleWriteOperation("arm", TP, s -> {
            s.timer.schedule("t", 100, () -> CoordinatorResult.of(List.of(new Put("fired", "yes")), null));
            return CoordinatorResult.response(null);
        }).get();
        rt.scheduleUnload(TP).get();
        assertEquals(0, timers.size());
        assertEquals(0, writer.appends());
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String str(ByteBuffer b) {
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
