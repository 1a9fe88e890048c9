package io.weir.streams.processor.internals;

import io.weir.streams.state.Bytes;
import io.weir.streams.state.internals.InMemoryBytesStore;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Consumer;

/**
 * The record cache of one stream thread ({@code statestore.cache.max.bytes} divided among the threads),
 * shared by the caching stores of the thread's tasks, each in its own {@link NamedCache}. A cache holds
 * only dirty entries: the latest serialized value of a key (null: deleted) with the record context of its
 * last write. They reach the store, its changelog and the downstream nodes only when the task flushes
 * (before every commit) or when the cache is over its budget: then the store being written gives up its
 * least-recently-used entries, one at a time, until the thread is back under budget (Kafka Streams evicts
 * from the store being written too). A budget of 0 bytes writes every update through at once.
 *
 * <p>Not thread-safe: used by its stream thread only.
 */
public final class ThreadCache {
    /** A rough per-entry cost beyond key and value (map node, entry object, record context). */
    static final long ENTRY_OVERHEAD_BYTES = 96;

    private final long maxBytes;
    private long sizeBytes;

    public ThreadCache(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("the cache size must be >= 0, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** Bytes the dirty entries of every store take, by the estimate the budget uses. */
    public long sizeBytes() {
        return sizeBytes;
    }

    /**
     * A new, empty cache for one store of one task ({@code name} shows in logs); {@code evictor} gets each
     * entry evicted for the budget, already removed from the cache, and must write it to the store. The
     * store {@link NamedCache#clear() clears} it when it closes, giving its bytes back to the budget.
     */
    NamedCache newCache(String name, Consumer<Entry> evictor) {
        return new NamedCache(name, evictor);
    }

    /** One dirty entry: the latest value of a key (null: deleted) and the context of its last write. */
    record Entry(Bytes key, byte[] value, ProcessorRecordContext context) {
        long sizeBytes() {
            return key.get().length + (value == null ? 0 : value.length) + ENTRY_OVERHEAD_BYTES;
        }
    }

    /** One store's dirty entries in least-recently-used order. */
    final class NamedCache {
        private final String name;
        private final Consumer<Entry> evictor;
        private final LinkedHashMap<Bytes, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

        private NamedCache(String name, Consumer<Entry> evictor) {
            this.name = name;
            this.evictor = evictor;
        }

        /** The cached entry of a key (a read makes it the most recently used), or null if the key is not cached. */
        Entry get(Bytes key) {
            return entries.get(key);
        }

        /** Caches the key's latest value, then evicts what the thread's budget requires. */
        void put(Bytes key, byte[] value, ProcessorRecordContext context) {
            Entry entry = new Entry(key, value, context);
            Entry old = entries.put(key, entry);
            if (old != null) {
                sizeBytes -= old.sizeBytes();
            }
            sizeBytes += entry.sizeBytes();
            while (sizeBytes > maxBytes && !entries.isEmpty()) {
                evictor.accept(removeEldest());
            }
        }

        /** Removes and returns every entry, least recently used first (what a flush writes, in that order). */
        List<Entry> drain() {
            List<Entry> all = new ArrayList<>(entries.values());
            for (Entry e : all) {
                sizeBytes -= e.sizeBytes();
            }
            entries.clear();
            return all;
        }

        /** The cached entries with keys in [from, to] (null: unbounded), in the stores' key order. */
        List<Entry> range(byte[] from, byte[] to) {
            List<Entry> in = new ArrayList<>();
            for (Entry e : entries.values()) {
                byte[] k = e.key().get();
                if ((from == null || InMemoryBytesStore.KEY_ORDER.compare(k, from) >= 0)
                    && (to == null || InMemoryBytesStore.KEY_ORDER.compare(k, to) <= 0)) {
                    in.add(e);
                }
            }
            in.sort((a, b) -> InMemoryBytesStore.KEY_ORDER.compare(a.key().get(), b.key().get()));
            return in;
        }

        boolean isEmpty() {
            return entries.isEmpty();
        }

        int size() {
            return entries.size();
        }

        /** Discards every dirty entry (the transaction aborted, or the store closed). */
        void clear() {
            drain();
        }

        private Entry removeEldest() {
            Iterator<Entry> it = entries.values().iterator();
            Entry eldest = it.next();
            it.remove();
            sizeBytes -= eldest.sizeBytes();
            return eldest;
        }

        @Override
        public String toString() {
            return "NamedCache(" + name + ", " + entries.size() + " entries)";
        }
    }
}
