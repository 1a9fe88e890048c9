package io.weir.streams.processor.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.kstream.Windowed;
import io.weir.streams.kstream.internals.TimeWindow;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.ReadOnlyWindowStore;
import io.weir.streams.state.WindowBytesStoreSupplier;
import io.weir.streams.state.WindowStore;
import io.weir.streams.state.WindowStoreIterator;
import io.weir.streams.state.internals.BytesIterator;
import io.weir.streams.state.internals.TransactionalBytesStore;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.NoSuchElementException;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The typed window store over a {@link TransactionalBytesStore}. Byte key layout:
 *
 * <pre>
 *   0       8
 *   +-------+-------------------+
 *   | start | serialized key... |
 *   +-------+-------------------+
 *   start: window start ms, big-endian (non-negative, so byte order is time order)
 * </pre>
 *
 * Start first makes the aggregation's lookup one exact get, and expiry one scan of the oldest prefix;
 * a key's time range is a scan of that range filtered by key. Windows whose start is more than the
 * retention behind the largest start written are expired: deleted (with changelog tombstones) when the
 * next write moves that bound, and hidden from reads at once. With caching on, writes wait in the record
 * cache (see {@link AbstractTransactionalStore}) and each window's latest aggregate goes to the changelog and
 * the {@link CacheFlushListener} once per flush; a cached window that expired before its flush is still
 * handed downstream (a suppression waiting for it to close needs its final value) but not written. Used by
 * the task's thread.
 */
public final class TransactionalWindowStore<K, V> extends AbstractWindowedStore<K, V>
    implements WindowStore<K, V> {
    private static final int START_BYTES = 8;

    private final WindowBytesStoreSupplier supplier;
    private volatile long observedMaxStartMs = -1;   // volatile: committed views read it from query threads
    private long expiredBeforeMs;

    TransactionalWindowStore(WindowBytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde, boolean logging) {
        this(supplier, keySerde, valueSerde, logging, false);
    }

    TransactionalWindowStore(WindowBytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde, boolean logging,
                             boolean caching) {
        super(supplier.engine(), keySerde, valueSerde, logging, caching);
        this.supplier = supplier;
    }

    @Override
    protected boolean expiredKey(byte[] storeKey) {
        return start(storeKey) < retainedFromMs();
    }

    @Override
    public void put(K key, V value, long windowStartMs) {
        if (windowStartMs < 0) {
            throw new IllegalArgumentException("window start must be >= 0, got " + windowStartMs);
        }
        observedMaxStartMs = Math.max(observedMaxStartMs, windowStartMs);
        if (windowStartMs < retainedFromMs()) {
            return; // already expired: writing it would only resurrect a window the store dropped
        }
        byte[] k = storeKey(keyBytes(key), windowStartMs);
        byte[] v = value == null ? null : valueSerde.serializer().serialize(changelogTopic, value);
        if (cache != null) {
            cachePut(k, v);   // windows it expired are deleted at the flush, after the cached writes
            return;
        }
        open().put(k, v);
        changelog.logChange(k, v);
        expire();
    }

    @Override
    public V fetch(K key, long windowStartMs) {
        if (windowStartMs < retainedFromMs()) {
            return null;
        }
        byte[] k = storeKey(keyBytes(key), windowStartMs);
        ThreadCache.Entry cached = cached(k);
        return value(cached != null ? cached.value() : open().get(k));
    }

    @Override
    public WindowStoreIterator<V> fetch(K key, long timeFromMs, long timeToMs) {
        byte[] wanted = keyBytes(key);
        Scan<Long, V> scan = scan(timeFromMs, timeToMs,
            e -> Arrays.equals(e.key(), START_BYTES, e.key().length, wanted, 0, wanted.length),
            e -> KeyValue.pair(start(e.key()), value(e.value())));
        return new WindowIterator<>(scan);
    }

    @Override
    public KeyValueIterator<Windowed<K>, V> fetchAll(long timeFromMs, long timeToMs) {
        return scan(timeFromMs, timeToMs, e -> true, e -> KeyValue.pair(windowed(e.key()), value(e.value())));
    }

    @Override
    public KeyValueIterator<Windowed<K>, V> all() {
        return fetchAll(0, Long.MAX_VALUE);
    }

    @Override
    public void restore(byte[] key, byte[] value) {
        if (key.length >= START_BYTES) {
            observedMaxStartMs = Math.max(observedMaxStartMs, start(key));
        }
        open().put(key, value);
    }

    /**
     * Reads of committed state only (what the last commit applied): what interactive queries see; safe from
     * other threads.
     */
    public ReadOnlyWindowStore<K, V> committedView() {
        TransactionalBytesStore store = open();
        return new ReadOnlyWindowStore<>() {
            @Override
            public V fetch(K key, long windowStartMs) {
                if (windowStartMs < retainedFromMs()) {
                    return null;
                }
                return value(store.getCommitted(storeKey(keyBytes(key), windowStartMs)));
            }

            @Override
            public WindowStoreIterator<V> fetch(K key, long timeFromMs, long timeToMs) {
                byte[] wanted = keyBytes(key);
                Scan<Long, V> scan = scan(store::rangeCommitted, timeFromMs, timeToMs,
                    e -> Arrays.equals(e.key(), START_BYTES, e.key().length, wanted, 0, wanted.length),
                    e -> KeyValue.pair(start(e.key()), value(e.value())));
                return new WindowIterator<>(scan);
            }

            @Override
            public KeyValueIterator<Windowed<K>, V> fetchAll(long timeFromMs, long timeToMs) {
                return scan(store::rangeCommitted, timeFromMs, timeToMs, e -> true,
                    e -> KeyValue.pair(windowed(e.key()), value(e.value())));
            }

            @Override
            public KeyValueIterator<Windowed<K>, V> all() {
                return fetchAll(0, Long.MAX_VALUE);
            }
        };
    }

    /** The oldest window start still retained. */
    private long retainedFromMs() {
        return observedMaxStartMs - supplier.retentionPeriodMs() + 1;
    }

    @Override
    protected void expire() {
        long cutoff = retainedFromMs();
        if (cutoff <= expiredBeforeMs) {
            return;
        }
        try (BytesIterator it = open().range(null, startBytes(cutoff))) {
            while (it.hasNext()) {
                BytesIterator.Entry e = it.next();
                if (start(e.key()) < cutoff) {
                    open().delete(e.key());
                    changelog.logChange(e.key(), null);
                }
            }
        }
        expiredBeforeMs = cutoff;
    }

    /** Entries with {@code from <= start <= to} (and not expired) that pass the filter, mapped. */
    private <KK, VV> Scan<KK, VV> scan(long fromMs, long toMs, Predicate<BytesIterator.Entry> filter,
                                       Function<BytesIterator.Entry, KeyValue<KK, VV>> mapper) {
        return scan((from, to) -> withCache(open().range(from, to), from, to), fromMs, toMs, filter, mapper);
    }

    private <KK, VV> Scan<KK, VV> scan(java.util.function.BiFunction<byte[], byte[], BytesIterator> source, long fromMs,
                                       long toMs, Predicate<BytesIterator.Entry> filter,
                                       Function<BytesIterator.Entry, KeyValue<KK, VV>> mapper) {
        long from = Math.max(Math.max(fromMs, 0), retainedFromMs());
        if (toMs < from) {
            return new Scan<>(null, toMs, filter, mapper);
        }
        // [to + 1] as the inclusive upper bound holds every key starting at <= to (a key starting at
        // to + 1 with an empty suffix is filtered out by its start)
        byte[] upper = toMs == Long.MAX_VALUE ? null : startBytes(toMs + 1);
        return new Scan<>(source.apply(startBytes(from), upper), toMs, filter, mapper);
    }

    /** A filtered, mapped view of a byte-store range. */
    private static final class Scan<KK, VV> implements KeyValueIterator<KK, VV> {
        private final BytesIterator inner;
        private final long toMs;
        private final Predicate<BytesIterator.Entry> filter;
        private final Function<BytesIterator.Entry, KeyValue<KK, VV>> mapper;
        private BytesIterator.Entry next;

        Scan(BytesIterator inner, long toMs, Predicate<BytesIterator.Entry> filter,
             Function<BytesIterator.Entry, KeyValue<KK, VV>> mapper) {
            this.inner = inner;
            this.toMs = toMs;
            this.filter = filter;
            this.mapper = mapper;
        }

        private BytesIterator.Entry peekEntry() {
            while (next == null && inner != null && inner.hasNext()) {
                BytesIterator.Entry e = inner.next();
                if (start(e.key()) <= toMs && filter.test(e)) {
                    next = e;
                }
            }
            return next;
        }

        @Override
        public KK peekNextKey() {
            BytesIterator.Entry e = peekEntry();
            if (e == null) {
                throw new NoSuchElementException();
            }
            return mapper.apply(e).key;
        }

        @Override
        public boolean hasNext() {
            return peekEntry() != null;
        }

        @Override
        public KeyValue<KK, VV> next() {
            BytesIterator.Entry e = peekEntry();
            if (e == null) {
                throw new NoSuchElementException();
            }
            next = null;
            return mapper.apply(e);
        }

        @Override
        public void close() {
            if (inner != null) {
                inner.close();
            }
        }
    }

    private static final class WindowIterator<V> implements WindowStoreIterator<V> {
        private final Scan<Long, V> scan;

        WindowIterator(Scan<Long, V> scan) {
            this.scan = scan;
        }

        @Override
        public Long peekNextKey() {
            return scan.peekNextKey();
        }

        @Override
        public boolean hasNext() {
            return scan.hasNext();
        }

        @Override
        public KeyValue<Long, V> next() {
            return scan.next();
        }

        @Override
        public void close() {
            scan.close();
        }
    }

    @Override
    protected Windowed<K> windowed(byte[] storeKey) {
        long start = start(storeKey);
        K key = keySerde.deserializer().deserialize(changelogTopic, Arrays.copyOfRange(storeKey, START_BYTES, storeKey.length));
        return new Windowed<>(key, new TimeWindow(start, start + supplier.windowSizeMs()));
    }

    private static byte[] storeKey(byte[] key, long startMs) {
        return ByteBuffer.allocate(START_BYTES + key.length).putLong(startMs).put(key).array();
    }

    private static byte[] startBytes(long startMs) {
        return ByteBuffer.allocate(START_BYTES).putLong(startMs).array();
    }

    private static long start(byte[] storeKey) {
        return ByteBuffer.wrap(storeKey, 0, START_BYTES).getLong();
    }
}
