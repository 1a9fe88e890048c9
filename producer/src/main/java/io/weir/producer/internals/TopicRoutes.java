package io.weir.producer.internals;

import io.weir.common.TopicPartition;
import io.weir.protocol.client.Cluster;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A producer's one cache of each topic's {@link Route}: its partition count in a {@link Cluster} and its shared
 * {@link TopicPartition}s (made once per partition count, not per record), for {@code send()} and the sticky
 * partitioner alike. Thread-safe: a read is one map get, without a lock; a route is replaced, never changed, under
 * the map's lock for its topic, keeping every key made so far: a partition's key is one instance, keys only grow.
 */
public final class TopicRoutes {
    private final ConcurrentHashMap<String, Route> routes = new ConcurrentHashMap<>();

    /** One topic in one {@link Cluster}: its keys by partition, {@code partitionCount} of them or more. */
    public record Route(String topic, Cluster cluster, int partitionCount, TopicPartition[] partitions) {
        /** The shared key of {@code partition} (at least 0), or a new one past the keys (a gap in the metadata). */
        public TopicPartition key(int partition) {
            return partition < partitions.length ? partitions[partition] : new TopicPartition(topic, partition);
        }
    }

    /** The route of {@code topic} as last made, or null: the send path's one map read. */
    public Route get(String topic) {
        return routes.get(topic);
    }

    /** The route of {@code topic} in {@code cluster}, remembered for the next reads. */
    public Route route(String topic, Cluster cluster) {
        int count = cluster.partitionsFor(topic).size();
        return routes.compute(topic, (t, old) -> {
            TopicPartition[] made = old == null ? new TopicPartition[0] : old.partitions;
            TopicPartition[] keys = made.length >= count ? made : Arrays.copyOf(made, count);
            for (int i = made.length; i < keys.length; i++) { // past the published keys only: those are never written
                keys[i] = new TopicPartition(t, i);
            }
            return new Route(t, cluster, count, keys);
        });
    }
}
