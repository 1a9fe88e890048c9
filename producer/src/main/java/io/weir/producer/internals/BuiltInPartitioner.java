package io.weir.producer.internals;

import io.weir.common.TopicPartition;
import io.weir.protocol.client.Cluster;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.ToIntFunction;

/**
 * The uniform sticky partitioner for keyless records: a topic's records go to one partition until its
 * batch is full (or {@code batch.size} bytes went there), then to another, so batches fill up instead of trickling out
 * one record per partition. The next partition is drawn among those with a leader; with adaptive
 * partitioning a partition's chance shrinks with its queue of unsent batches, so partitions whose
 * leaders keep up get more records. Thread-safe.
 */
public final class BuiltInPartitioner {
    private final int stickyBatchSize;
    private final boolean adaptive;
    private final ToIntFunction<TopicPartition> queueSize;
    private final TopicRoutes routes;
    private final ConcurrentMap<String, Sticky> topics = new ConcurrentHashMap<>();

    /**
     * A topic's current partition and the bytes sent to it since it was chosen; written under its own
     * lock, the partition also read without it (volatile) on a send's fast path.
     */
    private static final class Sticky {
        volatile int partition = -1;
        long bytes;
    }

    public BuiltInPartitioner(int stickyBatchSize, boolean adaptive, ToIntFunction<TopicPartition> queueSize) {
        this(stickyBatchSize, adaptive, queueSize, new TopicRoutes());
    }

    /** {@code routes}: the producer's, whose keys the queue-size lookups use. */
    public BuiltInPartitioner(int stickyBatchSize, boolean adaptive, ToIntFunction<TopicPartition> queueSize,
                              TopicRoutes routes) {
        this.stickyBatchSize = Math.max(1, stickyBatchSize);
        this.adaptive = adaptive;
        this.queueSize = queueSize;
        this.routes = routes;
    }

    /** The partition a keyless record of {@code topic} goes to now. */
    public int partition(String topic, Cluster cluster) {
        return partition(topic, cluster, cluster.partitionsFor(topic).size());
    }

    /** {@link #partition(String, Cluster)} when the caller already knows the topic's {@code count} partitions in {@code cluster}. */
    public int partition(String topic, Cluster cluster, int count) {
        Sticky s = topics.get(topic);
        if (s == null) {
            s = topics.computeIfAbsent(topic, t -> new Sticky());
        }
        // the fast path takes no lock: a partition chosen by another thread just now is as good an answer
        int current = s.partition;
        if (current >= 0 && current < count) {
            return current;
        }
        synchronized (s) {
            if (s.partition < 0 || s.partition >= count) {
                s.partition = next(topic, cluster, -1);
                s.bytes = 0;
            }
            return s.partition;
        }
    }

    /**
     * Counts {@code bytes} appended to {@code partition}; moves on once {@code batch.size} bytes went there. For a
     * caller that does not know where its batches end; a producer uses {@link #onAppend(TopicPartition, int,
     * boolean, boolean)}.
     */
    public void onAppend(String topic, int partition, int bytes, Cluster cluster) {
        onAppend(topic, partition, bytes, false, true, cluster);
    }

    /**
     * What an append of a keyless record did to its partition's batch (the accumulator's {@link
     * RecordAccumulator.AppendListener}): moves on when the batch it filled can take no more, so the next record
     * opens no batch there to wait {@code linger.ms} alone; else once {@code batch.size} bytes went there and a new
     * batch was opened (Kafka's rule, for records too different in size for "full" to be foreseen), or at twice
     * that in any case. The topic's route in {@link TopicRoutes} (made by the producer's send) gives the cluster.
     */
    public void onAppend(TopicPartition tp, int bytes, boolean batchBecameFull, boolean newBatchCreated) {
        onAppend(tp.topic(), tp.partition(), bytes, batchBecameFull, newBatchCreated, null);
    }

    /** {@code cluster}: null to take the topic's route's, looked up only when the partitioner moves on. */
    private void onAppend(String topic, int partition, int bytes, boolean batchBecameFull, boolean newBatchCreated,
                          Cluster cluster) {
        Sticky s = topics.get(topic);
        if (s == null) {
            return;
        }
        synchronized (s) {
            if (s.partition != partition) {
                return;
            }
            s.bytes += bytes;
            if (batchBecameFull || newBatchCreated && s.bytes >= stickyBatchSize || s.bytes >= 2L * stickyBatchSize) {
                Cluster c = cluster;
                if (c == null) {
                    TopicRoutes.Route route = routes.get(topic);
                    if (route == null) {
                        return; // no send made a route for the topic: nothing to draw the next partition from
                    }
                    c = route.cluster();
                }
                s.partition = next(topic, c, partition);
                s.bytes = 0;
            }
        }
    }

    private int next(String topic, Cluster cluster, int current) {
        List<Cluster.PartitionInfo> all = cluster.partitionsFor(topic);
        int n = all.size();
        int[] candidates = new int[n];
        int c = 0;
        for (Cluster.PartitionInfo p : all) {
            if (p.leaderId() >= 0 && (p.partition() != current || n == 1)) {
                candidates[c++] = p.partition();
            }
        }
        if (c == 0) {
            for (Cluster.PartitionInfo p : all) {
                candidates[c++] = p.partition();
            }
        }
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        if (!adaptive || c == 1) {
            return candidates[rnd.nextInt(c)];
        }
        // weight = (longest queue + 1 - own queue): an idle partition is most likely, a backed-up one least
        int[] sizes = new int[c];
        int max = 0;
        TopicRoutes.Route route = routes.get(topic); // in a producer, send() made it (for this cluster or a newer one)
        route = route != null && route.partitions().length >= n ? route : routes.route(topic, cluster); // used alone
        for (int i = 0; i < c; i++) {
            sizes[i] = queueSize.applyAsInt(route.key(candidates[i]));
            max = Math.max(max, sizes[i]);
        }
        long total = 0;
        for (int i = 0; i < c; i++) {
            total += max + 1 - sizes[i];
        }
        long pick = rnd.nextLong(total);
        for (int i = 0; i < c; i++) {
            pick -= max + 1 - sizes[i];
            if (pick < 0) {
                return candidates[i];
            }
        }
        return candidates[c - 1];
    }
}
