package io.weir.producer.internals;

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
 * Keyless records: the sticky partitioner, told by the accumulator what each append did, moves on exactly when
 * the batch it was filling can take no more, so no partition is left with a half-filled batch that waits out
 * {@code linger.ms} alone (it used to move on after {@code batch.size} bytes of estimates, ~90 records of 100 B
 * where a batch holds ~148).
 */
class StickyBatchFillTest {
    private static final String TOPIC = "t";
    private static final int PARTITIONS = 6;
    private static final int BATCH_SIZE = 16_384;

    /** Partition p is led by node p, so the accumulator's ready nodes name the partitions holding a full batch. */
    private static Cluster cluster() {
        List<Node> nodes = new ArrayList<>();
        List<Cluster.PartitionInfo> parts = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            nodes.add(new Node(p, "127.0.0.1", 9000 + p));
            parts.add(new Cluster.PartitionInfo(TOPIC, p, p, 0, List.of(p), List.of(p), List.of(), Errors.NONE));
        }
        return new Cluster("c", nodes, 0, Map.of(TOPIC, new Cluster.TopicInfo(TOPIC, null, false, parts)), Map.of());
    }

    /**
     * An accumulator (16 KiB batches, linger far away: a batch is ready only by size, 16 MiB of memory) and a sticky
     * partitioner over the six-partition topic, sharing one route cache as in a producer.
     */
    private static final class Producing {
        final MockTime time = new MockTime();
        final RecordAccumulator acc = new RecordAccumulator(BATCH_SIZE, CompressionType.NONE,
            CompressionType.NONE.defaultLevel, 60_000, 100, 120_000, new BufferPool(1 << 24, BATCH_SIZE, time));
        final Cluster cluster = cluster();
        final TopicRoutes routes = new TopicRoutes();
        final TopicRoutes.Route route = routes.route(TOPIC, cluster);
        final BuiltInPartitioner sticky = new BuiltInPartitioner(BATCH_SIZE, false, acc::queueSize, routes);

        /** Sends one keyless record as a producer does; returns the partition the partitioner moved on from, or -1. */
        int send(byte[] value, RecordAccumulator.AppendListener listener) throws InterruptedException {
            int p = sticky.partition(TOPIC, cluster, PARTITIONS);
            acc.append(route.key(p), 0L, null, value, new Header[0], null, 0, time.milliseconds(), listener);
            return sticky.partition(TOPIC, cluster, PARTITIONS) != p ? p : -1;
        }
    }

    @Test
    void shouldMoveOnExactlyWhenTheBatchItFilledCanTakeNoMore() throws Exception {
        Producing t = new Producing();
        RecordAccumulator.AppendListener tellPartitioner = t.sticky::onAppend;
        byte[] value = new byte[100];
        List<Integer> leftNotFull = new ArrayList<>();
        int switches = 0;
        for (int i = 0; i < 3_000; i++) {
            int p = t.send(value, tellPartitioner);
            if (p >= 0) {
                switches++;
                // left behind: one batch, full (not a part-filled one, nor a full one plus a new one-record batch)
                if (!t.acc.ready(t.cluster, t.time.milliseconds()).readyNodes().contains(p)
                    || t.acc.queueSize(t.route.key(p)) != 1) {
                    leftNotFull.add(p);
                }
                // send what it left, so the partition starts empty when the partitioner comes back
                t.acc.drain(t.cluster, Set.of(p), 1 << 20, t.time.milliseconds(), b -> true);
            }
        }
        assertTrue(switches >= 15, "3,000 records of 100 B make ~20 full batches: " + switches + " switches");
        assertEquals(List.of(), leftNotFull, "partitions left with a batch not yet full or a new one opened, of " + switches + " switches");
    }

    @Test
    void shouldMoveOnWhenTheBatchFillsAlsoBehindABacklogAndForAnyRecordSize() throws Exception {
        for (int valueSize : new int[] {100, 103, 200, 224, 1_000}) {
            // nothing is drained: every partition keeps a queue of full batches before the one being filled
            Producing t = new Producing();
            boolean[] opened = new boolean[1];
            RecordAccumulator.AppendListener listener = (tp, bytes, full, created) -> {
                opened[0] = created;
                t.sticky.onAppend(tp, bytes, full, created);
            };
            byte[] value = new byte[valueSize];
            int switches = 0;
            List<Integer> switchedAfterOpening = new ArrayList<>();
            for (int i = 0; i < 400_000 / valueSize; i++) {
                if (t.send(value, listener) >= 0) {
                    switches++;
                    // like-sized records: the move comes with the append that filled the batch, never with one that
                    // had to open a new batch (which would be left behind holding that one record)
                    if (opened[0]) {
                        switchedAfterOpening.add(i);
                    }
                }
            }
            assertTrue(switches >= 10, valueSize + " B: " + switches + " switches");
            assertEquals(List.of(), switchedAfterOpening, valueSize + " B records: moves made by an append that opened a batch");
        }
    }
}
