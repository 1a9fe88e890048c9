package io.weir.producer.internals;

import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.Header;
import io.weir.common.testing.MockTime;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.Node;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A batch that failed waits out {@code retry.backoff.ms} before its next attempt, unless metadata names
 * a newer leader epoch for its partition by then: the leader changed, so it goes to the new one at once
 * (issue 12, as kafka-clients since KIP-951).
 */
class RecordAccumulatorRetryTest {
    private static final long RETRY_BACKOFF_MS = 100;
    private final MockTime time = new MockTime();
    private final TopicPartition tp = new TopicPartition("t", 0);

    private static Cluster cluster(int leader, int leaderEpoch) {
        Cluster.PartitionInfo p = new Cluster.PartitionInfo("t", 0, leader, leaderEpoch, List.of(1, 2), List.of(1, 2),
            List.of(), Errors.NONE);
        return new Cluster("c", List.of(new Node(1, "127.0.0.1", 9001), new Node(2, "127.0.0.1", 9002)), 1,
            Map.of("t", new Cluster.TopicInfo("t", null, false, List.of(p))), Map.of());
    }

    /** One batch drained under leader 1 (epoch 5), failed, and re-enqueued at {@code failedAtMs}. */
    private ProducerBatch failedBatch(RecordAccumulator acc, long failedAtMs) throws InterruptedException {
        acc.append(tp, 1L, null, new byte[] {1}, new Header[0], null, 0, time.milliseconds());
        Map<Integer, List<ProducerBatch>> drained = acc.drain(cluster(1, 5), Set.of(1), 1 << 20,
            time.milliseconds(), b -> true);
        ProducerBatch b = drained.get(1).get(0);
        assertEquals(5, b.leaderEpochAtDrain);
        b.attempts++;
        acc.reenqueue(b, failedAtMs);
        return b;
    }

    private static RecordAccumulator accumulator(MockTime time) {
        return new RecordAccumulator(1024, CompressionType.NONE, CompressionType.NONE.defaultLevel, 0,
            RETRY_BACKOFF_MS, 120_000, new BufferPool(1 << 20, 1024, time));
    }

    @Test
    void shouldHoldARetryForItsBackoffWhileTheLeaderIsUnchanged() throws Exception {
        RecordAccumulator acc = accumulator(time);
        failedBatch(acc, 1_000);
        assertTrue(acc.ready(cluster(1, 5), 1_001).readyNodes().isEmpty());
        assertTrue(acc.drain(cluster(1, 5), Set.of(1), 1 << 20, 1_001, b -> true).isEmpty());
        assertEquals(Set.of(1), acc.ready(cluster(1, 5), 1_000 + RETRY_BACKOFF_MS).readyNodes());
    }

    @Test
    void shouldSendARetryToANewLeaderWithoutWaitingOutTheBackoff() throws Exception {
        RecordAccumulator acc = accumulator(time);
        ProducerBatch failed = failedBatch(acc, 1_000);
        assertEquals(Set.of(2), acc.ready(cluster(2, 6), 1_001).readyNodes());
        Map<Integer, List<ProducerBatch>> drained = acc.drain(cluster(2, 6), Set.of(2), 1 << 20, 1_001, b -> true);
        assertSame(failed, drained.get(2).get(0));
        assertEquals(6, failed.leaderEpochAtDrain);
    }
}
