package io.weir.broker.server;

import io.weir.common.TopicPartition;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * One side of Kafka's replication throttle ({@code kafka-reassign-partitions.sh --throttle}): the
 * partitions whose replica on this broker a topic's {@code follower.replication.throttled.replicas} (or,
 * on the leader side, {@code leader.replication.throttled.replicas}) names ({@code partition:broker}
 * pairs, or {@code *} for all) share one token bucket of {@code follower.replication.throttled.rate} (or
 * {@code leader.replication.throttled.rate}) bytes per second (a dynamic broker config). The replica
 * fetchers leave a throttled partition out of their fetches while the follower bucket is empty; a leader
 * answers a throttled partition without records to a follower outside the ISR while the leader bucket is
 * empty. Each side takes the bytes that went through it for throttled partitions out of its bucket; a
 * bucket holds at most one second's worth.
 *
 * <p>Thread-safe: the rate and the topic configs change from the metadata and config threads; the fetchers
 * of this broker share the bucket.
 */
public final class ReplicationThrottle {
    /** No rate set: nothing is throttled. */
    public static final long UNLIMITED = -1;

    private final int brokerId;
    private volatile long rateBytesPerSec = UNLIMITED;
    /** Per topic, its throttled replicas on this broker: partition numbers, or null for every one ({@code *}). */
    private volatile Map<String, Set<Integer>> throttled = Map.of();
    // guarded by this
    private double availableBytes;
    private long lastRefillMs = -1;
    private long throttledBytes;

    public ReplicationThrottle(int brokerId) {
        this.brokerId = brokerId;
    }

    /** Sets {@code follower.replication.throttled.rate} ({@link #UNLIMITED} or negative: none). */
    public synchronized void setRate(long bytesPerSec) {
        rateBytesPerSec = bytesPerSec < 0 ? UNLIMITED : bytesPerSec;
        availableBytes = Math.min(availableBytes, Math.max(0, rateBytesPerSec));
    }

    public long rate() {
        return rateBytesPerSec;
    }

    /** Takes every topic's {@code follower.replication.throttled.replicas} (topic name to the config's value). */
    public void setThrottledReplicas(Map<String, String> byTopic) {
        Map<String, Set<Integer>> next = new HashMap<>();
        byTopic.forEach((topic, value) -> {
            if (value == null || value.isBlank()) {
                return;
            }
            if (value.trim().equals("*")) {
                next.put(topic, null);
                return;
            }
            Set<Integer> parts = new HashSet<>();
            for (String pair : value.split(",")) {
                String[] pb = pair.trim().split(":");
                if (pb.length == 2) {
                    try {
                        if (Integer.parseInt(pb[1].trim()) == brokerId) {
                            parts.add(Integer.parseInt(pb[0].trim()));
                        }
                    } catch (NumberFormatException e) {
                        // not a partition:broker pair: ignored, as Kafka's quota manager ignores it
                    }
                }
            }
            if (!parts.isEmpty()) {
                next.put(topic, parts);
            }
        });
        throttled = next.isEmpty() ? Map.of() : next;
    }

    /** Whether fetches of {@code tp} for this broker's replica count against the rate. */
    public boolean isThrottled(TopicPartition tp) {
        if (rateBytesPerSec < 0) {
            return false;
        }
        Map<String, Set<Integer>> t = throttled;
        if (!t.containsKey(tp.topic())) {
            return false;
        }
        Set<Integer> parts = t.get(tp.topic());
        return parts == null || parts.contains(tp.partition());
    }

    /** How long until the bucket has bytes again: 0 when a throttled partition may be fetched now. */
    public synchronized long delayMs(long nowMs) {
        long rate = rateBytesPerSec;
        if (rate < 0) {
            return 0;
        }
        refill(nowMs, rate);
        if (availableBytes > 0) {
            return 0;
        }
        if (rate == 0) {
            return 1_000; // a zero rate: look again in a second (the rate may change)
        }
        return Math.max(1, (long) Math.ceil((1 - availableBytes) * 1000.0 / rate));
    }

    /** Takes {@code bytes} a fetch brought for throttled partitions out of the bucket (it may go below 0). */
    public synchronized void record(long bytes, long nowMs) {
        long rate = rateBytesPerSec;
        if (rate < 0 || bytes <= 0) {
            return;
        }
        refill(nowMs, rate);
        availableBytes -= bytes;
        throttledBytes += bytes;
    }

    /** The bytes fetched for throttled partitions so far. */
    public synchronized long throttledBytes() {
        return throttledBytes;
    }

    private void refill(long nowMs, long rate) {
        if (lastRefillMs < 0) {
            lastRefillMs = nowMs;
            availableBytes = rate;
            return;
        }
        long elapsed = nowMs - lastRefillMs;
        if (elapsed > 0) {
            availableBytes = Math.min(rate, availableBytes + elapsed * (double) rate / 1000.0);
            lastRefillMs = nowMs;
        }
    }
}
