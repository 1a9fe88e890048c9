package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import io.weir.streams.KeyValue;
import io.weir.streams.processor.StateStoreContext;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.ChangelogSink;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.ReadOnlyKeyValueStore;
import io.weir.streams.state.internals.BytesIterator;
import io.weir.streams.state.internals.BytesStoreSupplier;
import io.weir.streams.state.internals.TransactionalBytesStore;

import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The typed key-value store over a {@link TransactionalBytesStore}: serializes keys and values with its
 * serdes (the job's defaults when none were given) and hands every write, serialized, to the task's
 * {@link ChangelogSink} so the changelog record joins the same transaction as the write. Used by the
 * task's thread; {@link #committedView()} is the view interactive queries may read from other threads.
 */
public final class TransactionalKeyValueStore<K, V> implements KeyValueStore<K, V>, TransactionalStateStore {
    private final BytesStoreSupplier supplier;
    private final boolean logging;
    private Serde<K> keySerde;
    private Serde<V> valueSerde;
    private TransactionalBytesStore bytes;
    private ChangelogSink changelog = ChangelogSink.NONE;
    private String changelogTopic;

    TransactionalKeyValueStore(BytesStoreSupplier supplier, Serde<K> keySerde, Serde<V> valueSerde, boolean logging) {
        this.supplier = supplier;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.logging = logging;
    }

    @Override
    public String name() {
        return supplier.name();
    }

    @Override
    @SuppressWarnings("unchecked")
    public void init(StateStoreContext context) {
        if (bytes != null) {
            throw new IllegalStateException("store " + name() + " is already open");
        }
        if (keySerde == null) {
            keySerde = (Serde<K>) context.keySerde();
        }
        if (valueSerde == null) {
            valueSerde = (Serde<V>) context.valueSerde();
        }
        bytes = supplier.open(context.stateDir());
        if (logging) {
            changelog = context.changelogSink(name());
            changelogTopic = ProcessorStateNames.changelogTopic(context.applicationId(), name());
        }
        context.register(this);
    }

    @Override
    public boolean persistent() {
        return supplier.persistent();
    }

    @Override
    public boolean isOpen() {
        return bytes != null;
    }

    @Override
    public void close() {
        if (bytes != null) {
            bytes.close();
            bytes = null;
        }
    }

    @Override
    public V get(K key) {
        return value(open().get(keyBytes(key)));
    }

    @Override
    public void put(K key, V value) {
        byte[] k = keyBytes(key);
        byte[] v = value == null ? null : valueSerde.serializer().serialize(changelogTopic, value);
        open().put(k, v);
        changelog.logChange(k, v);
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
        return iterator(open().range(from == null ? null : keyBytes(from), to == null ? null : keyBytes(to)));
    }

    @Override
    public KeyValueIterator<K, V> all() {
        return iterator(open().all());
    }

    @Override
    public long approximateNumEntries() {
        long n = 0;
        try (BytesIterator it = open().all()) {
            while (it.hasNext()) {
                it.next();
                n++;
            }
        }
        return n;
    }

    @Override
    public void commit(Map<TopicPartition, Long> offsets) {
        open().commit(offsets);
    }

    @Override
    public void abort() {
        open().abort();
    }

    @Override
    public Map<TopicPartition, Long> committedOffsets() {
        return open().committedOffsets();
    }

    @Override
    public long uncommittedBytes() {
        return open().uncommittedBytes();
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

    private TransactionalBytesStore open() {
        if (bytes == null) {
            throw new IllegalStateException("store " + name() + " is not open");
        }
        return bytes;
    }

    private byte[] keyBytes(K key) {
        if (key == null) {
            throw new NullPointerException("store " + name() + " cannot hold a null key");
        }
        return keySerde.serializer().serialize(changelogTopic, key);
    }

    private V value(byte[] bytes) {
        return bytes == null ? null : valueSerde.deserializer().deserialize(changelogTopic, bytes);
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
