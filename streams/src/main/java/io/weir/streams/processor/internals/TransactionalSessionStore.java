package io.weir.streams.processor.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.kstream.Windowed;
import io.weir.streams.kstream.internals.SessionWindow;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.SessionBytesStoreSupplier;
import io.weir.streams.state.SessionStore;
import io.weir.streams.state.internals.BytesIterator;
import io.weir.streams.state.internals.TransactionalBytesStore;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The typed session store over a {@link TransactionalBytesStore}. Byte key layout:
 *
 * <pre>
 *   0          4                 4+n     12+n    20+n
 *   +----------+-----------------+-------+-------+
 *   | n (int)  | serialized key  | end   | start |
 *   +----------+-----------------+-------+-------+
 *   big-endian; end and start are non-negative ms, so byte order is time order
 * </pre>
 *
 * The length prefix makes one key's sessions one contiguous range (no key is a prefix of another's
 * range), ordered by end: finding the sessions a new record may join is one range scan. Sessions that
 * ended more than the retention before the largest end written are hidden from reads and deleted
 * (with changelog tombstones) by a scan once per retention period of stream time. With caching on, writes
 * (merged sessions' removals included) wait in the record cache (see {@link AbstractTransactionalStore}):
 * each session's latest value goes to the changelog and the {@link CacheFlushListener} once per flush, and
 * a session made and merged away between two flushes never leaves the cache. Used by the task's thread.
 */
public final class TransactionalSessionStore<K, V> extends AbstractWindowedStore<K, V>
    implements SessionStore<K, V> {
    private final SessionBytesStoreSupplier supplier;
    private long observedMaxEndMs = -1;
    private long lastExpiryCutoffMs = Long.MIN_VALUE;

    TransactionalSessionStore(SessionBytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde, boolean logging) {
        this(supplier, keySerde, valueSerde, logging, false);
    }

    TransactionalSessionStore(SessionBytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde, boolean logging,
                              boolean caching) {
        super(supplier.engine(), keySerde, valueSerde, logging, caching);
        this.supplier = supplier;
    }

    @Override
    protected boolean expiredKey(byte[] storeKey) {
        return end(storeKey) < retainedFromMs();
    }

    @Override
    public void put(Windowed<K> session, V value) {
        long end = session.window().end();
        observedMaxEndMs = Math.max(observedMaxEndMs, end);
        if (end < retainedFromMs()) {
            return; // already expired
        }
        byte[] k = storeKey(keyBytes(session.key()), end, session.window().start());
        byte[] v = value == null ? null : valueSerde.serializer().serialize(changelogTopic, value);
        if (cache != null) {
            cachePut(k, v);   // sessions it expired are deleted at the flush, after the cached writes
            return;
        }
        open().put(k, v);
        changelog.logChange(k, v);
        expire();
    }

    @Override
    public void remove(Windowed<K> session) {
        put(session, null);
    }

    /** A changelog record, applied without logging it again; re-derives the newest session end seen. */
    @Override
    public void restore(byte[] key, byte[] value) {
        if (key.length >= 4 + 16) {
            observedMaxEndMs = Math.max(observedMaxEndMs, end(key));
        }
        open().put(key, value);
    }

    @Override
    public KeyValueIterator<Windowed<K>, V> findSessions(K key, long earliestSessionEndMs, long latestSessionStartMs) {
        byte[] k = keyBytes(key);
        long fromEnd = Math.max(Math.max(earliestSessionEndMs, 0), retainedFromMs());
        byte[] from = storeKey(k, fromEnd, 0);
        byte[] to = storeKey(k, Long.MAX_VALUE, Long.MAX_VALUE);
        BytesIterator it = withCache(open().range(from, to), from, to);
        return new SessionIterator(it, latestSessionStartMs);
    }

    @Override
    public KeyValueIterator<Windowed<K>, V> fetch(K key) {
        return findSessions(key, 0, Long.MAX_VALUE);
    }

    @Override
    public V fetchSession(K key, long sessionStartMs, long sessionEndMs) {
        if (sessionEndMs < retainedFromMs()) {
            return null;
        }
        byte[] k = storeKey(keyBytes(key), sessionEndMs, sessionStartMs);
        ThreadCache.Entry cached = cached(k);
        return value(cached != null ? cached.value() : open().get(k));
    }

    private long retainedFromMs() {
        return observedMaxEndMs - supplier.retentionPeriodMs() + 1;
    }

    /** A full scan, but at most once per retention period of stream time. */
    @Override
    protected void expire() {
        long cutoff = retainedFromMs();
        boolean due = lastExpiryCutoffMs == Long.MIN_VALUE || cutoff - lastExpiryCutoffMs >= supplier.retentionPeriodMs();
        if (cutoff <= 0 || !due) {
            return;
        }
        List<byte[]> expired = new ArrayList<>();
        try (BytesIterator it = open().all()) {
            while (it.hasNext()) {
                byte[] key = it.next().key();
                if (end(key) < cutoff) {
                    expired.add(key);
                }
            }
        }
        for (byte[] key : expired) {
            open().delete(key);
            changelog.logChange(key, null);
        }
        lastExpiryCutoffMs = cutoff;
    }

    private final class SessionIterator implements KeyValueIterator<Windowed<K>, V> {
        private final BytesIterator inner;
        private final long latestStartMs;
        private BytesIterator.Entry next;

        SessionIterator(BytesIterator inner, long latestStartMs) {
            this.inner = inner;
            this.latestStartMs = latestStartMs;
        }

        private BytesIterator.Entry peekEntry() {
            while (next == null && inner.hasNext()) {
                BytesIterator.Entry e = inner.next();
                if (start(e.key()) <= latestStartMs) {
                    next = e;
                }
            }
            return next;
        }

        @Override
        public Windowed<K> peekNextKey() {
            BytesIterator.Entry e = peekEntry();
            if (e == null) {
                throw new NoSuchElementException();
            }
            return windowed(e.key());
        }

        @Override
        public boolean hasNext() {
            return peekEntry() != null;
        }

        @Override
        public KeyValue<Windowed<K>, V> next() {
            BytesIterator.Entry e = peekEntry();
            if (e == null) {
                throw new NoSuchElementException();
            }
            next = null;
            return KeyValue.pair(windowed(e.key()), valueSerde.deserializer().deserialize(changelogTopic, e.value()));
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    @Override
    protected Windowed<K> windowed(byte[] storeKey) {
        int n = ByteBuffer.wrap(storeKey).getInt();
        K key = keySerde.deserializer().deserialize(changelogTopic, Arrays.copyOfRange(storeKey, 4, 4 + n));
        return new Windowed<>(key, new SessionWindow(start(storeKey), end(storeKey)));
    }

    private static byte[] storeKey(byte[] key, long endMs, long startMs) {
        return ByteBuffer.allocate(4 + key.length + 16).putInt(key.length).put(key).putLong(endMs).putLong(startMs).array();
    }

    private static long end(byte[] storeKey) {
        return ByteBuffer.wrap(storeKey, storeKey.length - 16, 8).getLong();
    }

    private static long start(byte[] storeKey) {
        return ByteBuffer.wrap(storeKey, storeKey.length - 8, 8).getLong();
    }
}
