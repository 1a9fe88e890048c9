package io.weir.broker.server;

import io.weir.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The follower replication throttle: which replicas it names, and its token bucket on an explicit clock. */
class ReplicationThrottleTest {
    private final TopicPartition t0 = new TopicPartition("t", 0);
    private final TopicPartition t1 = new TopicPartition("t", 1);
    private final TopicPartition u0 = new TopicPartition("u", 0);

    @Test
    void shouldThrottleOnlyTheReplicasOfThisBrokerThatTheTopicConfigNames() {
        ReplicationThrottle throttle = new ReplicationThrottle(2);
        throttle.setThrottledReplicas(Map.of("t", "0:2,1:1", "u", "*"));
        assertFalse(throttle.isThrottled(t0), "no rate: nothing is throttled");
        throttle.setRate(1000);
        assertTrue(throttle.isThrottled(t0));
        assertFalse(throttle.isThrottled(t1), "partition 1's throttled replica is on broker 1");
        assertTrue(throttle.isThrottled(u0), "* names every replica");
        throttle.setThrottledReplicas(Map.of());
        assertFalse(throttle.isThrottled(u0));
    }

    @Test
    void shouldHoldFetchesWhileTheBucketIsEmptyAndRefillAtTheRate() {
        ReplicationThrottle throttle = new ReplicationThrottle(0);
        throttle.setRate(1000);
        assertEquals(0, throttle.delayMs(10_000), "a full bucket: fetch now");
        throttle.record(1500, 10_000);
        assertEquals(501, throttle.delayMs(10_000), "500 bytes over at 1000 B/s: 501 ms until a byte is available");
        assertEquals(251, throttle.delayMs(10_250));
        assertEquals(0, throttle.delayMs(10_501));
        throttle.record(10_000, 10_501);
        throttle.setRate(ReplicationThrottle.UNLIMITED);
        assertEquals(0, throttle.delayMs(10_501), "no rate: never held");
        throttle.setRate(0);
        assertTrue(throttle.delayMs(10_501) > 0, "a zero rate holds throttled fetches");
        assertEquals(11_500, throttle.throttledBytes());
    }
}
