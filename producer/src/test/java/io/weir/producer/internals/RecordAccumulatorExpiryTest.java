package io.weir.producer.internals;

import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.Header;
import io.weir.common.testing.MockTime;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.Node;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The accumulator keeps a lower bound of its queued batches' delivery deadlines instead of scanning every
 * deque on every sender loop: {@link RecordAccumulator#expire} and {@link RecordAccumulator#nextExpiryMs}
 * must still expire every queued batch at its deadline, whatever entered or left the deques since the
 * last scan (a new batch, a drain, a retry put back, an abort that took batches out).
 */
class RecordAccumulatorExpiryTest {
    private static final long TIMEOUT_MS = 120_000;
    private final MockTime time = new MockTime();
    private final TopicPartition tp0 = new TopicPartition("t", 0);
    private final TopicPartition tp1 = new TopicPartition("t", 1);

    private RecordAccumulator accumulator() {
        return new RecordAccumulator(1024, CompressionType.NONE, CompressionType.NONE.defaultLevel, 0, 100,
            TIMEOUT_MS, new BufferPool(1 << 20, 1024, time));
    }

    private static Cluster cluster() {
        List<Cluster.PartitionInfo> parts = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            parts.add(new Cluster.PartitionInfo("t", p, 1, 0, List.of(1), List.of(1), List.of(), Errors.NONE));
        }
        return new Cluster("c", List.of(new Node(1, "127.0.0.1", 9001)), 1,
            Map.of("t", new Cluster.TopicInfo("t", null, false, parts)), Map.of());
    }

    private static void append(RecordAccumulator acc, TopicPartition tp, long nowMs) throws InterruptedException {
        acc.append(tp, nowMs, null, new byte[] {1}, new Header[0], null, 0, nowMs);
    }

    /** Drains every queued head (both partitions lead by node 1). */
    private static List<ProducerBatch> drainAll(RecordAccumulator acc, long nowMs) {
        List<ProducerBatch> out = acc.drain(cluster(), Set.of(1), 1 << 20, nowMs, b -> true).get(1);
        return out == null ? List.of() : out;
    }

    @Test
    void shouldExpireABatchQueuedAfterAScanThatFoundNothing() throws Exception {
        RecordAccumulator acc = accumulator();
        assertTrue(acc.expire(0).isEmpty());
        assertEquals(Long.MAX_VALUE, acc.nextExpiryMs());
        append(acc, tp0, 1_000);
        assertEquals(1_000 + TIMEOUT_MS, acc.nextExpiryMs());
        assertTrue(acc.expire(1_000 + TIMEOUT_MS - 1).isEmpty());
        List<ProducerBatch> expired = acc.expire(1_000 + TIMEOUT_MS);
        assertEquals(1, expired.size());
        assertEquals(tp0, expired.get(0).tp);
        assertEquals(Long.MAX_VALUE, acc.nextExpiryMs());
    }

    @Test
    void shouldKeepTheEarliestDeadlineAcrossPartitionsAndRecomputeItWhenTheEarliestExpires() throws Exception {
        RecordAccumulator acc = accumulator();
        append(acc, tp0, 1_200);
        append(acc, tp1, 1_500); // later: must not raise the bound
        assertEquals(1_200 + TIMEOUT_MS, acc.nextExpiryMs());
        List<ProducerBatch> expired = acc.expire(1_200 + TIMEOUT_MS);
        assertEquals(1, expired.size());
        assertEquals(tp0, expired.get(0).tp);
        // the scan set it to the remaining head exactly
        assertEquals(1_500 + TIMEOUT_MS, acc.nextExpiryMs());
        assertTrue(acc.expire(1_500 + TIMEOUT_MS - 1).isEmpty());
        assertEquals(tp1, acc.expire(1_500 + TIMEOUT_MS).get(0).tp);
    }

    @Test
    void shouldExpireAHeadLeftAfterADrainTookTheEarlierOne() throws Exception {
        RecordAccumulator acc = accumulator();
        append(acc, tp0, 1_000);
        assertEquals(1, drainAll(acc, 1_000).size());
        append(acc, tp0, 2_000);
        // the drained batch's deadline is still the bound: a scan then expires nothing and moves it on
        assertTrue(acc.nextExpiryMs() <= 2_000 + TIMEOUT_MS);
        assertTrue(acc.expire(1_000 + TIMEOUT_MS).isEmpty());
        assertEquals(2_000 + TIMEOUT_MS, acc.nextExpiryMs());
        assertEquals(1, acc.expire(2_000 + TIMEOUT_MS).size());
    }

    @Test
    void shouldExpireARetryPutBackAfterAScanFoundTheDequesEmpty() throws Exception {
        RecordAccumulator acc = accumulator();
        append(acc, tp0, 1_000);
        append(acc, tp1, 2_000);
        List<ProducerBatch> inFlight = drainAll(acc, 2_000);
        assertEquals(2, inFlight.size());
        ProducerBatch retried = inFlight.get(0).tp.equals(tp1) ? inFlight.get(0) : inFlight.get(1);
        // a scan with both batches out: nothing queued any more
        assertTrue(acc.expire(1_000 + TIMEOUT_MS).isEmpty());
        assertEquals(Long.MAX_VALUE, acc.nextExpiryMs());
        retried.attempts++;
        acc.reenqueue(retried, 1_000 + TIMEOUT_MS + 1);
        assertEquals(2_000 + TIMEOUT_MS, acc.nextExpiryMs());
        assertTrue(acc.expire(2_000 + TIMEOUT_MS - 1).isEmpty());
        assertEquals(List.of(retried), acc.expire(2_000 + TIMEOUT_MS));
    }

    @Test
    void shouldForgetBatchesAnAbortTookOut() throws Exception {
        RecordAccumulator acc = accumulator();
        append(acc, tp0, 1_000);
        append(acc, tp1, 1_000);
        assertEquals(2, acc.takeQueued(tp -> true).size());
        assertTrue(acc.expire(1_000 + TIMEOUT_MS).isEmpty());
        assertEquals(Long.MAX_VALUE, acc.nextExpiryMs());
        append(acc, tp1, 5_000);
        assertEquals(5_000 + TIMEOUT_MS, acc.nextExpiryMs());
    }

    @Test
    void shouldWakeTheSenderOnlyWhenAnAppendMadeSomethingSendable() throws Exception {
        RecordAccumulator acc = accumulator();
        List<String> told = new ArrayList<>();
        RecordAccumulator.AppendListener listener = (tp, bytes, becameFull, created) -> told.add(becameFull + "/" + created);
        byte[] value = new byte[400];
        // 400-byte records, 1 KiB batches: two fit in one (and the second fills it: a third would not fit), the
        // third opens a second batch, the fourth fills that one (said although the first is still queued: the
        // sticky partitioner moves on when the batch it fills is full, whatever waits before it)
        for (int i = 0; i < 5; i++) {
            acc.append(tp0, 1_000, null, value, new Header[0], null, 0, 1_000, listener);
        }
        assertEquals(List.of("false/true", "true/false", "false/true", "true/false", "false/true"), told);
        assertEquals(3, acc.queueSize(tp0));
        // the result-object form still says the partition has a full batch
        assertTrue(acc.append(tp0, 1_000, null, new byte[1], new Header[0], null, 0, 1_000).batchIsFull());
    }
}
