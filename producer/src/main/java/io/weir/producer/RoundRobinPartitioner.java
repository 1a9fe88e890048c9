package io.weir.producer;

import io.weir.protocol.client.Cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Spreads records over a topic's partitions in turn, keys ignored. Partitions with a leader are
 * preferred; if none has one, all partitions take turns. Thread-safe.
 */
public final class RoundRobinPartitioner implements Partitioner {
    private final ConcurrentMap<String, AtomicInteger> counters = new ConcurrentHashMap<>();

    @Override
    public int partition(String topic, Object key, byte[] keyBytes, Object value, byte[] valueBytes, Cluster cluster) {
        List<Cluster.PartitionInfo> all = cluster.partitionsFor(topic);
        int next = counters.computeIfAbsent(topic, t -> new AtomicInteger()).getAndIncrement() & 0x7fffffff;
        List<Cluster.PartitionInfo> available = new ArrayList<>(all.size());
        for (Cluster.PartitionInfo p : all) {
            if (p.leaderId() >= 0) {
                available.add(p);
            }
        }
        if (!available.isEmpty()) {
            return available.get(next % available.size()).partition();
        }
        return next % all.size();
    }
}
