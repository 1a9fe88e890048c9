package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import io.weir.streams.processor.StateStoreContext;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.Bytes;
import io.weir.streams.state.ChangelogSink;
import io.weir.streams.state.internals.BytesIterator;
import io.weir.streams.state.internals.BytesStoreSupplier;
import io.weir.streams.state.internals.InMemoryBytesStore;
import io.weir.streams.state.internals.RocksDbBytesStore;
import io.weir.streams.state.internals.TransactionalBytesStore;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * What every typed transactional store (key-value, window, session) shares: opening its engine in the
 * task's state directory, the serdes (the job's defaults when none were given), the changelog sink and
 * topic, passing commit / abort / offsets through to the engine, and the record cache: with caching on
 * (and a thread cache to use: the runtime's and the test driver's tasks have one) writes wait in the
 * thread's {@link ThreadCache} as each key's latest value, reads see them, and a flush (before every
 * commit) or an eviction writes each cached key once to the engine and the changelog
 * (then {@link #handOn}, which subclasses implement to hand the update downstream). Subclasses add their
 * key layout. Used by the task's thread.
 */
abstract class AbstractTransactionalStore<K, V> implements TransactionalStateStore {
    private final BytesStoreSupplier engine;
    private final boolean logging;
    private final boolean caching;
    /** Set when the store caches: the task's context (record contexts for cached writes). */
    protected InternalStoreContext storeContext;
    /** The store's record cache; null when it writes through. */
    protected ThreadCache.NamedCache cache;
    protected Serde<K> keySerde;
    protected Serde<V> valueSerde;
    protected ChangelogSink changelog = ChangelogSink.NONE;
    protected String changelogTopic;
    private TransactionalBytesStore bytes;

    AbstractTransactionalStore(BytesStoreSupplier engine, Serde<K> keySerde, Serde<V> valueSerde, boolean logging) {
        this(engine, keySerde, valueSerde, logging, false);
    }

    AbstractTransactionalStore(BytesStoreSupplier engine, Serde<K> keySerde, Serde<V> valueSerde, boolean logging,
                               boolean caching) {
        this.caching = caching;
        this.engine = engine;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.logging = logging;
    }

    @Override
    public String name() {
        return engine.name();
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
        bytes = engine.open(context.stateDir());
        if (logging) {
            changelog = context.changelogSink(name());
            changelogTopic = ProcessorStateNames.changelogTopic(context.applicationId(), name());
        }
        if (caching && context instanceof InternalStoreContext internal && internal.cache() != null) {
            storeContext = internal;
            cache = internal.cache().newCache(context.taskId() + "/" + name(), this::writeCached);
        }
        context.register(this);
    }

    @Override
    public boolean persistent() {
        return engine.persistent();
    }

    @Override
    public boolean isOpen() {
        return bytes != null;
    }

    @Override
    public void close() {
        if (cache != null) {
            cache.clear();   // uncommitted writes are discarded with the engine's
            cache = null;
        }
        if (bytes != null) {
            bytes.close();
            bytes = null;
        }
    }

    @Override
    public void commit(Map<TopicPartition, Long> offsets) {
        if (hasCachedWrites()) {
            throw new IllegalStateException("store " + name() + ": committing with " + cache.size()
                + " cached writes not flushed (the task must flush its caches before the transaction commits)");
        }
        if (logging) {
            open().commitReplayable(offsets);   // the changelog holds every write: no fsync per commit needed
        } else {
            open().commit(offsets);
        }
    }

    @Override
    public void abort() {
        if (cache != null) {
            cache.clear();
        }
        open().abort();
    }

    @Override
    public boolean flushCache() {
        if (cache == null || cache.isEmpty()) {
            return false;
        }
        // downstream nodes of a flushed update may write this store again: flush until it stays empty
        while (!cache.isEmpty()) {
            for (ThreadCache.Entry e : cache.drain()) {
                writeCached(e);
            }
        }
        return true;
    }

    @Override
    public boolean hasCachedWrites() {
        return cache != null && !cache.isEmpty();
    }

    /** Caches a write (the store must cache: {@link #cache} not null), stamped with the current record context. */
    protected final void cachePut(byte[] key, byte[] value) {
        cache.put(Bytes.wrap(key), value, storeContext.recordContext());
    }

    /** The cached entry of a key (its value null: deleted), or null when the key is not cached or the store does not cache. */
    protected final ThreadCache.Entry cached(byte[] key) {
        return cache == null ? null : cache.get(Bytes.wrap(key));
    }

    /**
     * Writes one entry that leaves the cache (flush or eviction) to the engine and the changelog, under the
     * record context of the write that set it, then {@link #handOn hands it on} with the value it replaced.
     * A delete of a key the engine does not hold (made and deleted within the cache) writes nothing; an
     * entry {@link #expiredKey expired} meanwhile is handed on but not written.
     */
    private void writeCached(ThreadCache.Entry entry) {
        byte[] k = entry.key().get();
        boolean expired = expiredKey(k);
        storeContext.runInContext(entry.context(), () -> {
            byte[] oldBytes = expired ? null : open().get(k);
            if (oldBytes == null && entry.value() == null) {
                return;
            }
            if (!expired) {
                open().put(k, entry.value());
                changelog.logChange(k, entry.value());
            }
            handOn(entry, oldBytes);
        });
    }

    /** Whether a store key left the store's retention while cached (window and session stores); not written then. */
    protected boolean expiredKey(byte[] storeKey) {
        return false;
    }

    /**
     * Hands a flushed entry on (a DSL node's flush listener), inside the entry's record context; {@code oldBytes}
     * is what the engine held before (null: nothing). Stores without a listener do nothing.
     */
    protected void handOn(ThreadCache.Entry entry, byte[] oldBytes) {
    }

    /** The engine's entries in [from, to] (null: unbounded) with the cached writes laid over them (cached deletes hide keys). */
    protected final BytesIterator withCache(BytesIterator engineRange, byte[] from, byte[] to) {
        if (cache == null || cache.isEmpty() || (from != null && to != null && InMemoryBytesStore.KEY_ORDER.compare(from, to) > 0)) {
            return engineRange;
        }
        return new CacheMergingIterator(engineRange, cache.range(from, to).iterator());
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
                    : InMemoryBytesStore.KEY_ORDER.compare(nextEngine.key(), nextCached.key().get());
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

    @Override
    public void beginBulkLoad() {
        open().beginBulkLoad();
    }

    @Override
    public void endBulkLoad() {
        open().endBulkLoad();
    }

    @Override
    public Map<TopicPartition, Long> committedOffsets() {
        return open().committedOffsets();
    }

    @Override
    public Map<TopicPartition, Long> snapshot(Path target) {
        return open() instanceof RocksDbBytesStore rocks ? rocks.checkpoint(target) : null;
    }

    @Override
    public long uncommittedBytes() {
        return open().uncommittedBytes();
    }

    /** The open engine; IllegalStateException if the store is not open. */
    protected final TransactionalBytesStore open() {
        if (bytes == null) {
            throw new IllegalStateException("store " + name() + " is not open");
        }
        return bytes;
    }

    protected final byte[] keyBytes(K key) {
        if (key == null) {
            throw new NullPointerException("store " + name() + " cannot hold a null key");
        }
        return keySerde.serializer().serialize(changelogTopic, key);
    }

    protected final V value(byte[] v) {
        return v == null ? null : valueSerde.deserializer().deserialize(changelogTopic, v);
    }
}
