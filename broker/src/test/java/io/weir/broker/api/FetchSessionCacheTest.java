package io.weir.broker.api;

import io.weir.common.TopicPartition;
import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A full session cache evicts an idle session first, whoever owns it, then consumers' sessions before
 * followers'; a cache of 0 slots keeps none.
 */
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

    @Test
    void shouldLetAnyNewSessionTakeTheSlotOfASessionIdleLongerThanTheEvictionTime() {
        MockTime time = new MockTime();
        FetchSessionCache cache = new FetchSessionCache(2, 120_000, time);
        FetchSessionCache.Session gone = cache.create(one(), true); // a follower whose broker died
        time.sleep(60_000);
        FetchSessionCache.Session busy = cache.create(one(), true);
        // both followers fetched within the eviction time: a consumer finds no room
        time.sleep(60_000);
        assertNull(cache.create(one(), false));
        assertNotNull(cache.get(busy.id())); // the busy follower keeps fetching

        time.sleep(1);
        FetchSessionCache.Session consumer = cache.create(one(), false);
        assertNotNull(consumer, "the follower session idle for 120001 ms gives its slot to a consumer");
        assertNull(cache.get(gone.id()), "its next incremental fetch: FETCH_SESSION_ID_NOT_FOUND");
        assertNotNull(cache.get(busy.id()));
        assertEquals(1, cache.evictions());
        assertEquals(2, cache.size());
    }

    @Test
    void shouldKeepNoSessionsWithZeroSlots() {
        FetchSessionCache cache = new FetchSessionCache(0, 120_000, new MockTime());
        assertNull(cache.create(one(), true));
        assertNull(cache.create(one(), false));
        assertEquals(0, cache.size());
    }
}
