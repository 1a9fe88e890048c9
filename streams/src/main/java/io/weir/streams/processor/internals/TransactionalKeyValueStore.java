package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import io.weir.streams.KeyValue;
import io.weir.streams.processor.StateStoreContext;
import io.weir.streams.processor.api.Record;
import io.weir.streams.state.Bytes;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.ChangelogSink;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.ReadOnlyKeyValueStore;
import io.weir.streams.state.internals.BytesIterator;
import io.weir.streams.state.internals.BytesStoreSupplier;
import io.weir.streams.state.internals.TransactionalBytesStore;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The typed key-value store over a {@link TransactionalBytesStore}: serializes keys and values with its
 * serdes (the job's defaults when none were given) and hands every write, serialized, to the task's
 * {@link ChangelogSink} so the changelog record joins the same transaction as the write. Used by the
 * task's thread; {@link #committedView()} is the view interactive queries may read from other threads.
 *
 * <p>With caching on (and a thread cache to use: the runtime's and the test driver's tasks have one),
 * writes wait in the thread's {@link ThreadCache} as the key's latest value; reads see them. A flush
 * (before every commit) or an eviction writes each cached key once to the engine and the changelog and
 * hands it to the {@link CacheFlushListener}, so N updates of a key between two commits make one
 * changelog record and one downstream update.
 */
public final class TransactionalKeyValueStore<K, V> extends AbstractTransactionalStore<K, V>
    implements KeyValueStore<K, V>, CachedStateStore<K, V> {
    private final boolean caching;
    private InternalStoreContext context;
    /** The store's cache; null when it writes through. */
    private ThreadCache.NamedCache cache;
    private CacheFlushListener<K, V> flushListener;

    TransactionalKeyValueStore(BytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde, boolean logging) {
        this(supplier, keySerde, valueSerde, logging, false);
    }

    TransactionalKeyValueStore(BytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde, boolean logging,
                               boolean caching) {
        super(supplier, keySerde, valueSerde, logging);
        this.caching = caching;
    }

    @Override
    public void init(StateStoreContext context) {
        super.init(context);
        if (caching && context instanceof InternalStoreContext internal && internal.cache() != null) {
            this.context = internal;
            this.cache = internal.cache().newCache(context.taskId() + "/" + name(), this::write);
        }
    }

    @Override
    public boolean setFlushListener(CacheFlushListener<K, V> listener) {
        if (cache == null) {
            return false;
        }
        flushListener = listener;
        return true;
    }

    @Override
    public V get(K key) {
        byte[] k = keyBytes(key);
        if (cache != null) {
            ThreadCache.Entry cached = cache.get(Bytes.wrap(k));
            if (cached != null) {
                return value(cached.value());
            }
        }
        return value(open().get(k));
    }

    @Override
    public void put(K key, V value) {
        byte[] k = keyBytes(key);
        byte[] v = value == null ? null : valueSerde.serializer().serialize(changelogTopic, value);
        if (cache != null) {
            cache.put(Bytes.wrap(k), v, context.recordContext());
            return;
        }
        open().put(k, v);
        changelog.logChange(k, v);
    }

    /** Writes one cached entry to the engine and the changelog and hands it on, under the context of its write. */
    private void write(ThreadCache.Entry entry) {
        byte[] k = entry.key().get();
        TransactionalBytesStore engine = open();
        CacheFlushListener<K, V> listener = flushListener;
        context.runInContext(entry.context(), () -> {
            byte[] oldBytes = listener == null ? null : engine.get(k);
            engine.put(k, entry.value());
            changelog.logChange(k, entry.value());
            if (listener != null && (oldBytes != null || entry.value() != null)) {
                ProcessorRecordContext c = entry.context();
                listener.apply(new Record<>(keySerde.deserializer().deserialize(changelogTopic, k), value(entry.value()),
                    c.timestamp(), c.headers()), value(oldBytes));
            }
        });
    }

    @Override
    public boolean flushCache() {
        if (cache == null || cache.isEmpty()) {
            return false;
        }
        // a listener's downstream nodes may write this store again: flush until it stays empty
        while (!cache.isEmpty()) {
            for (ThreadCache.Entry e : cache.drain()) {
                write(e);
            }
        }
        return true;
    }

    @Override
    public boolean hasCachedWrites() {
        return cache != null && !cache.isEmpty();
    }

    @Override
    public void abort() {
        if (cache != null) {
            cache.clear();
        }
        super.abort();
    }

    @Override
    public void commit(Map<TopicPartition, Long> offsets) {
        if (hasCachedWrites()) {
            throw new IllegalStateException("store " + name() + ": committing with " + cache.size()
                + " cached writes not flushed (the task must flush its caches before the transaction commits)");
        }
        super.commit(offsets);
    }

    @Override
    public void close() {
        if (cache != null) {
            cache.clear();   // uncommitted writes are discarded with the engine's
            cache = null;
        }
        super.close();
    }

    @Override
    public V putIfAbsent(K key, V value) {
        V old = get(key);
        if (old == null) {
            put(key, value);
        }
        return old;
    }

    @Override
    public void putAll(List<KeyValue<K, V>> entries) {
        for (KeyValue<K, V> e : entries) {
            put(e.key, e.value);
        }
    }

    @Override
    public V delete(K key) {
        V old = get(key);
        if (old != null) {
            put(key, null);
        }
        return old;
    }

    @Override
    public KeyValueIterator<K, V> range(K from, K to) {
        byte[] f = from == null ? null : keyBytes(from);
        byte[] t = to == null ? null : keyBytes(to);
        return iterator(withCache(open().range(f, t), f, t));
    }

    @Override
    public KeyValueIterator<K, V> all() {
        return iterator(withCache(open().all(), null, null));
    }

    @Override
    public long approximateNumEntries() {
        long n = 0;
        try (BytesIterator it = withCache(open().all(), null, null)) {
            while (it.hasNext()) {
                it.next();
                n++;
            }
        }
        return n;
    }

    @Override
    public void restore(byte[] key, byte[] value) {
        open().put(key, value);
    }

    /** The engine's entries in [from, to] with the cached writes laid over them (cached deletes hide keys). */
    private BytesIterator withCache(BytesIterator engine, byte[] from, byte[] to) {
        if (cache == null || cache.isEmpty() || (from != null && to != null
            && io.weir.streams.state.internals.InMemoryBytesStore.KEY_ORDER.compare(from, to) > 0)) {
            return engine;
        }
        return new CacheMergingIterator(engine, cache.range(from, to).iterator());
    }

    /** Merges the engine's ordered entries with the cache's (a snapshot taken when the iterator was made). */
    private static final class CacheMergingIterator implements BytesIterator {
        private final BytesIterator engine;
        private final Iterator<ThreadCache.Entry> cached;
        private BytesIterator.Entry nextEngine;
        private ThreadCache.Entry nextCached;
        private BytesIterator.Entry next;

        CacheMergingIterator(BytesIterator engine, Iterator<ThreadCache.Entry> cached) {
            this.engine = engine;
            this.cached = cached;
            nextEngine = engine.hasNext() ? engine.next() : null;
            nextCached = cached.hasNext() ? cached.next() : null;
        }

        @Override
        public boolean hasNext() {
            while (next == null && (nextEngine != null || nextCached != null)) {
                int cmp = nextEngine == null ? 1 : nextCached == null ? -1
                    : io.weir.streams.state.internals.InMemoryBytesStore.KEY_ORDER.compare(nextEngine.key(), nextCached.key().get());
                if (cmp < 0) {
                    next = nextEngine;
                    nextEngine = engine.hasNext() ? engine.next() : null;
                } else {
                    if (cmp == 0) {
                        nextEngine = engine.hasNext() ? engine.next() : null;   // the cached write replaces it
                    }
                    if (nextCached.value() != null) {
                        next = new BytesIterator.Entry(nextCached.key().get(), nextCached.value());
                    }
                    nextCached = cached.hasNext() ? cached.next() : null;
                }
            }
            return next != null;
        }

        @Override
        public BytesIterator.Entry next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            BytesIterator.Entry e = next;
            next = null;
            return e;
        }

        @Override
        public void close() {
            engine.close();
        }
    }

    /** Reads of committed state only: what interactive queries see; safe from other threads. */
    public ReadOnlyKeyValueStore<K, V> committedView() {
        TransactionalBytesStore store = open();
        return new ReadOnlyKeyValueStore<>() {
            @Override
            public V get(K key) {
                return value(store.getCommitted(keyBytes(key)));
            }

            @Override
            public KeyValueIterator<K, V> range(K from, K to) {
                return iterator(store.rangeCommitted(from == null ? null : keyBytes(from), to == null ? null : keyBytes(to)));
            }

            @Override
            public KeyValueIterator<K, V> all() {
                return iterator(store.rangeCommitted(null, null));
            }

            @Override
            public long approximateNumEntries() {
                long n = 0;
                try (BytesIterator it = store.rangeCommitted(null, null)) {
                    while (it.hasNext()) {
                        it.next();
                        n++;
                    }
                }
                return n;
            }
        };
    }

    private KeyValueIterator<K, V> iterator(BytesIterator inner) {
        return new KeyValueIterator<>() {
            private BytesIterator.Entry peeked;

            private BytesIterator.Entry peek() {
                if (peeked == null && inner.hasNext()) {
                    peeked = inner.next();
                }
                return peeked;
            }

            @Override
            public K peekNextKey() {
                BytesIterator.Entry e = peek();
                if (e == null) {
                    throw new NoSuchElementException();
                }
                return keySerde.deserializer().deserialize(changelogTopic, e.key());
            }

            @Override
            public boolean hasNext() {
                return peek() != null;
            }

            @Override
            public KeyValue<K, V> next() {
                BytesIterator.Entry e = peek();
                if (e == null) {
                    throw new NoSuchElementException();
                }
                peeked = null;
                return KeyValue.pair(keySerde.deserializer().deserialize(changelogTopic, e.key()), value(e.value()));
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }
}
