package io.weir.streams.processor.internals;

import io.weir.admin.Admin;
import io.weir.common.TopicPartition;
import io.weir.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Deletes what a stream thread has consumed and committed of its repartition topics (DeleteRecords up to the
 * committed offset), at most every {@code repartition.purge.interval.ms}, so those topics do not grow forever:
 * a repartition topic is the job's own hand-off between sub-topologies, and once its offset is committed no
 * task reads those records again. Requests are asynchronous; a failed one is logged and retried with the next
 * commit's offsets. Owned by one stream thread, not thread-safe.
 */
final class RepartitionPurger implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RepartitionPurger.class);

    private final Set<String> repartitionTopics;
    private final long intervalMs;
    private final Supplier<Admin> adminFactory;
    /** Committed offsets not yet purged up to, by repartition partition. */
    private final Map<TopicPartition, Long> pending = new HashMap<>();
    /** What a request already asked for (a partition is not asked again for the same offset). */
    private final Map<TopicPartition, Long> purged = new java.util.concurrent.ConcurrentHashMap<>();
    private Admin admin;
    private long lastPurgeMs;

    RepartitionPurger(Set<String> repartitionTopics, long intervalMs, Supplier<Admin> adminFactory, long nowMs) {
        this.repartitionTopics = Set.copyOf(repartitionTopics);
        this.intervalMs = intervalMs;
        this.adminFactory = adminFactory;
        this.lastPurgeMs = nowMs;
    }

    /** The repartition topics (full names) of the job, from its topology. */
    static Set<String> repartitionTopics(InternalTopologyBuilder builder) {
        Set<String> topics = new java.util.HashSet<>();
        for (InternalTopologyBuilder.InternalTopic t : builder.internalTopics()) {
            if (t.kind() == InternalTopologyBuilder.InternalTopic.Kind.REPARTITION) {
                topics.add(t.name());
            }
        }
        return topics;
    }

    /** The interval of {@code configs}' {@code repartition.purge.interval.ms}. */
    static long intervalMs(Map<String, Object> configs) {
        return StreamsConfig.repartitionPurgeIntervalMs(configs);
    }

    /**
     * After a successful commit of {@code committed} (next offsets to consume): remembers the repartition
     * partitions' offsets and, when the interval has passed, asks the brokers to delete the records before them.
     * Returns how many partitions a request was sent for.
     */
    int onCommit(Map<TopicPartition, Long> committed, long nowMs) {
        if (repartitionTopics.isEmpty()) {
            return 0;
        }
        committed.forEach((tp, offset) -> {
            if (repartitionTopics.contains(tp.topic())) {
                pending.merge(tp, offset, Math::max);
            }
        });
        if (nowMs - lastPurgeMs < intervalMs || pending.isEmpty()) {
            return 0;
        }
        lastPurgeMs = nowMs;
        Map<TopicPartition, Long> request = new HashMap<>();
        pending.forEach((tp, offset) -> {
            if (offset > purged.getOrDefault(tp, -1L)) {
                request.put(tp, offset);
            }
        });
        pending.clear();
        if (request.isEmpty()) {
            return 0;
        }
        if (admin == null) {
            admin = adminFactory.get();
        }
        purged.putAll(request);
        admin.deleteRecords(request).all().whenComplete((lowWatermarks, error) -> {
            if (error != null) {
                log.warn("Purging repartition topics up to {} failed (retried after the next commit): {}", request, error.toString());
                request.forEach(purged::remove);
            } else {
                log.debug("Purged repartition topics: low watermarks now {}", lowWatermarks);
            }
        });
        return request.size();
    }

    @Override
    public void close() {
        if (admin != null) {
            admin.close();
            admin = null;
        }
    }
}
