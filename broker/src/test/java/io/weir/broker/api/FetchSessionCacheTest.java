package io.weir.broker.api;

import io.weir.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** A full session cache evicts consumers' sessions before followers'. */
class FetchSessionCacheTest {
    private static List<FetchSessionCache.CachedPartition> one() {
        return List.of(new FetchSessionCache.CachedPartition(new TopicPartition("t", 0), new UUID(1, 1), 0, 100));
    }

    @Test
    void shouldEvictConsumerSessionsBeforeFollowerSessions() {
        FetchSessionCache cache = new FetchSessionCache(2);
        FetchSessionCache.Session follower = cache.create(one(), true);
        FetchSessionCache.Session consumer = cache.create(one(), false);
        cache.get(consumer.id()); // the consumer's is the most recently used, yet it goes first
        FetchSessionCache.Session follower2 = cache.create(one(), true);
        assertNull(cache.get(consumer.id()));
        assertNotNull(cache.get(follower.id())); // now the most recently used
        assertEquals(List.of(follower2.id(), follower.id()), cache.followerSessionIds());

        // only followers left: a consumer gets no session, a follower evicts the least recently used follower
        assertNull(cache.create(one(), false));
        assertEquals(2, cache.size());
        FetchSessionCache.Session follower3 = cache.create(one(), true);
        assertEquals(List.of(follower.id(), follower3.id()), cache.followerSessionIds());
    }

    @Test
    void shouldEvictTheLeastRecentlyUsedConsumerSession() {
        FetchSessionCache cache = new FetchSessionCache(2);
        FetchSessionCache.Session a = cache.create(one());
        FetchSessionCache.Session b = cache.create(one());
        cache.get(a.id());
        cache.create(one());
        assertNull(cache.get(b.id()));
        assertNotNull(cache.get(a.id()));
    }
}
