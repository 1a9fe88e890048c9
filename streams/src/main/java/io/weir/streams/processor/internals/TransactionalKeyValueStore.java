package io.weir.streams.processor.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.ChangelogSink;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.ReadOnlyKeyValueStore;
import io.weir.streams.state.internals.BytesIterator;
import io.weir.streams.state.internals.BytesStoreSupplier;
import io.weir.streams.state.internals.TransactionalBytesStore;

import java.util.List;
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
    private CacheFlushListener<K, V> flushListener;

    TransactionalKeyValueStore(BytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde, boolean logging) {
        this(supplier, keySerde, valueSerde, logging, false);
    }

    TransactionalKeyValueStore(BytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde, boolean logging,
                               boolean caching) {
        super(supplier, keySerde, valueSerde, logging, caching);
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
        ThreadCache.Entry cached = cached(k);
        return value(cached != null ? cached.value() : open().get(k));
    }

    @Override
    public void put(K key, V value) {
        byte[] k = keyBytes(key);
        byte[] v = value == null ? null : valueSerde.serializer().serialize(changelogTopic, value);
        if (cache != null) {
            cachePut(k, v);
            return;
        }
        open().put(k, v);
        changelog.logChange(k, v);
    }

    @Override
    protected void handOn(ThreadCache.Entry entry, byte[] oldBytes) {
        CacheFlushListener<K, V> listener = flushListener;
        if (listener != null) {
            ProcessorRecordContext c = entry.context();
            listener.apply(new Record<>(keySerde.deserializer().deserialize(changelogTopic, entry.key().get()),
                value(entry.value()), c.timestamp(), c.headers()), value(oldBytes));
        }
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
