package io.weir.broker.api;

import io.weir.common.Time;
import io.weir.common.TopicPartition;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Incremental fetch sessions (Kafka's KIP-227): a consumer's first fetch (session id 0, epoch 0)
 * creates a session holding its partitions and offsets; later fetches (that id, the next epoch) name
 * only partitions whose offsets changed, plus partitions to forget, and the response carries only
 * partitions with news (data, an error, or a moved high watermark / log start). Epoch -1 means a
 * full fetch without a session.
 *
 * <p>Bounded: at most {@code maxSessions} ({@code max.incremental.fetch.session.cache.slots}, 1000 by default
 * as in Kafka; 0 turns sessions off). When a new session finds the cache full, the least recently used session
 * goes if it has been idle longer than {@code evictionIdleMs} (Kafka's 2 minutes), whoever owns it: a client
 * that stopped fetching (a consumer that left without closing its session, a follower whose broker died)
 * frees its slot for one that fetches. Otherwise follower replicas' sessions outrank consumers' (as in Kafka,
 * where they are "privileged"): a full cache evicts its least recently used consumer session; a follower
 * evicts the least recently used follower session only when no consumer session is left; a consumer finding
 * only busy follower sessions gets none (it fetches in full without a session). An evicted session's client
 * gets FETCH_SESSION_ID_NOT_FOUND at its next incremental fetch and falls back to a full fetch, which starts a
 * new session. Time comes from the injected clock. Thread-safe: the cache is synchronized, and each session is
 * used by one fetch at a time (a client has at most one fetch in flight per broker).
 */
public final class FetchSessionCache {
    /** One partition of a session, with what the client last learned about it. */
    public static final class CachedPartition {
        final TopicPartition tp;
        final UUID topicId;
        long fetchOffset;
        int maxBytes;
        long lastHighWatermark = -1;
        long lastLastStableOffset = -1;
        long lastLogStartOffset = -1;
        /** The fetcher's idea of the leader epoch (-1: not given). */
        int currentLeaderEpoch = -1;
        /** A follower's log start offset (-1 for consumers). */
        long fetcherLogStartOffset = -1;
        /** The epoch of the last batch a follower fetched (Fetch v12+, KIP-595's divergence check; -1: none). */
        int lastFetchedEpoch = -1;

        CachedPartition(TopicPartition tp, UUID topicId, long fetchOffset, int maxBytes) {
            this.tp = tp;
            this.topicId = topicId;
            this.fetchOffset = fetchOffset;
            this.maxBytes = maxBytes;
        }

        CachedPartition(TopicPartition tp, UUID topicId, long fetchOffset, int maxBytes, int currentLeaderEpoch,
                        long fetcherLogStartOffset) {
            this(tp, topicId, fetchOffset, maxBytes);
            this.currentLeaderEpoch = currentLeaderEpoch;
            this.fetcherLogStartOffset = fetcherLogStartOffset;
        }

        CachedPartition(TopicPartition tp, UUID topicId, long fetchOffset, int maxBytes, int currentLeaderEpoch,
                        long fetcherLogStartOffset, int lastFetchedEpoch) {
            this(tp, topicId, fetchOffset, maxBytes, currentLeaderEpoch, fetcherLogStartOffset);
            this.lastFetchedEpoch = lastFetchedEpoch;
        }

        public TopicPartition topicPartition() {
            return tp;
        }

        public UUID topicId() {
            return topicId;
        }

        public long fetchOffset() {
            return fetchOffset;
        }

        public int maxBytes() {
            return maxBytes;
        }

        /**
         * Whether an incremental response must carry this partition, remembering what it carries.
         * Full responses carry every partition and also record what was sent.
         */
        boolean markSent(boolean hasData, boolean hasError, long hw, long lso, long logStart, boolean full) {
            boolean changed = hasData || hasError || hw != lastHighWatermark || lso != lastLastStableOffset
                || logStart != lastLogStartOffset;
            lastHighWatermark = hw;
            lastLastStableOffset = lso;
            lastLogStartOffset = logStart;
            return full || changed;
        }
    }

    public static final class Session {
        final int id;
        /** A follower replica's session, evicted only after every consumer session. */
        final boolean follower;
        int epoch;
        final LinkedHashMap<TopicPartition, CachedPartition> partitions = new LinkedHashMap<>();
        /** When a fetch last used it (guarded by the cache). */
        long lastUsedMs;

        Session(int id, boolean follower, long nowMs) {
            this.id = id;
            this.follower = follower;
            this.epoch = 1;
            this.lastUsedMs = nowMs;
        }

        public int id() {
            return id;
        }

        public List<CachedPartition> partitions() {
            return new ArrayList<>(partitions.values());
        }
    }

    /** Kafka's default for {@code max.incremental.fetch.session.cache.slots}. */
    public static final int DEFAULT_MAX_SESSIONS = 1000;
    /** How long a session must go unused before any new session may take its slot (Kafka's 2 minutes). */
    public static final long DEFAULT_EVICTION_IDLE_MS = 120_000L;

    private final int maxSessions;
    private final long evictionIdleMs;
    private final Time time;
    /** Access order: least recently used first. */
    private final LinkedHashMap<Integer, Session> sessions = new LinkedHashMap<>(16, 0.75f, true);
    private long evictions;

    /** A cache of at most {@code maxSessions} on the system clock, idle sessions evictable after 2 minutes. */
    public FetchSessionCache(int maxSessions) {
        this(maxSessions, DEFAULT_EVICTION_IDLE_MS, Time.SYSTEM);
    }

    public FetchSessionCache(int maxSessions, long evictionIdleMs, Time time) {
        if (maxSessions < 0 || evictionIdleMs < 0) {
            throw new IllegalArgumentException("maxSessions and evictionIdleMs must be at least 0, got " + maxSessions
                + " and " + evictionIdleMs);
        }
        this.maxSessions = maxSessions;
        this.evictionIdleMs = evictionIdleMs;
        this.time = time;
    }

    /** A new consumer session holding these partitions (in request order), or null when the cache has no room. */
    public Session create(List<CachedPartition> partitions) {
        return create(partitions, false);
    }

    /**
     * A new session holding these partitions (in request order), evicting one if the cache is full; null
     * when only sessions that outrank it are left (see the class comment).
     */
    public Session create(List<CachedPartition> partitions, boolean follower) {
        long nowMs = time.milliseconds(); // read outside the lock
        synchronized (this) {
            return createLocked(partitions, follower, nowMs);
        }
    }

    private Session createLocked(List<CachedPartition> partitions, boolean follower, long nowMs) {
        if (maxSessions == 0) {
            return null;
        }
        if (sessions.size() >= maxSessions && !evictIdle(nowMs) && !evictOne(follower)) {
            return null;
        }
        int id;
        do {
            id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
        } while (sessions.containsKey(id));
        Session s = new Session(id, follower, nowMs);
        for (CachedPartition p : partitions) {
            s.partitions.put(p.tp, p);
        }
        sessions.put(id, s);
        return s;
    }

    /** Evicts the least recently used session if it has been idle longer than {@code evictionIdleMs}. */
    private boolean evictIdle(long nowMs) {
        Iterator<Session> it = sessions.values().iterator();
        if (it.hasNext() && nowMs - it.next().lastUsedMs > evictionIdleMs) {
            it.remove();
            evictions++;
            return true;
        }
        return false;
    }

    /** Evicts the least recently used consumer session, else (for a follower) the least recently used follower's. */
    private boolean evictOne(boolean forFollower) {
        for (int pass = 0; pass < (forFollower ? 2 : 1); pass++) {
            boolean followers = pass == 1;
            Iterator<Session> it = sessions.values().iterator(); // access order: least recently used first
            while (it.hasNext()) {
                if (it.next().follower == followers) {
                    it.remove();
                    evictions++;
                    return true;
                }
            }
        }
        return false;
    }

    /** The session (now its most recently used), or null when there is none of that id (never was, or evicted). */
    public Session get(int id) {
        long nowMs = time.milliseconds();
        synchronized (this) {
            Session s = sessions.get(id);
            if (s != null) {
                s.lastUsedMs = Math.max(s.lastUsedMs, nowMs);
            }
            return s;
        }
    }

    /** How many sessions were evicted to make room for new ones (tests and diagnostics). */
    public synchronized long evictions() {
        return evictions;
    }

    /** The ids of the follower replicas' sessions, least recently used first (tests and diagnostics). */
    public synchronized List<Integer> followerSessionIds() {
        List<Integer> out = new ArrayList<>();
        sessions.values().forEach(s -> {
            if (s.follower) {
                out.add(s.id);
            }
        });
        return out;
    }

    public synchronized void remove(int id) {
        sessions.remove(id);
    }

    public synchronized int size() {
        return sessions.size();
    }

    /** Applies an incremental request to a session: updated/added partitions, then forgotten ones. */
    static void update(Session s, List<CachedPartition> changed, List<TopicPartition> forgotten) {
        for (CachedPartition p : changed) {
            CachedPartition existing = s.partitions.get(p.tp);
            if (existing == null) {
                s.partitions.put(p.tp, p);
            } else {
                existing.fetchOffset = p.fetchOffset;
                existing.maxBytes = p.maxBytes;
                existing.currentLeaderEpoch = p.currentLeaderEpoch;
                existing.fetcherLogStartOffset = p.fetcherLogStartOffset;
                existing.lastFetchedEpoch = p.lastFetchedEpoch;
            }
        }
        for (TopicPartition tp : forgotten) {
            s.partitions.remove(tp);
        }
        s.epoch++;
    }

    static Map<TopicPartition, CachedPartition> index(List<CachedPartition> list) {
        Map<TopicPartition, CachedPartition> m = new LinkedHashMap<>();
        for (CachedPartition p : list) {
            m.put(p.tp, p);
        }
        return m;
    }
}
