package io.weir.streams.state.internals;

import io.weir.common.TopicPartition;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A {@link TransactionalBytesStore} held in memory: committed entries in a concurrent sorted map (so
 * interactive queries can read them from other threads), uncommitted writes in an overlay that reads
 * merge and {@link #commit} folds in. Nothing survives the process; the runtime restores such a store
 * from its changelog.
 */
public final class InMemoryBytesStore implements TransactionalBytesStore {

    /** Unsigned byte-wise key order, as RocksDB's default comparator. */
    public static final Comparator<byte[]> KEY_ORDER = Arrays::compareUnsigned;

    /** Marks a key deleted in the uncommitted overlay (compared by identity). */
    private static final byte[] TOMBSTONE = new byte[0];

    private final String name;
    private final ConcurrentSkipListMap<byte[], byte[]> committed = new ConcurrentSkipListMap<>(KEY_ORDER);
    private final TreeMap<byte[], byte[]> uncommitted = new TreeMap<>(KEY_ORDER);
    private final Map<TopicPartition, Long> offsets = new HashMap<>();
    private long uncommittedBytes;

    public InMemoryBytesStore(String name) {
        this.name = name;
    }

    /** A supplier of in-memory stores of the given name. */
    public static BytesStoreSupplier supplier(String name) {
        return new BytesStoreSupplier() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean persistent() {
                return false;
            }

            @Override
            public TransactionalBytesStore open(Path taskStateDir) {
                return new InMemoryBytesStore(name);
            }
        };
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean persistent() {
        return false;
    }

    @Override
    public byte[] get(byte[] key) {
        byte[] pending = uncommitted.get(key);
        if (pending != null) {
            return pending == TOMBSTONE ? null : pending;
        }
        return committed.get(key);
    }

    @Override
    public void put(byte[] key, byte[] value) {
        byte[] previous = uncommitted.put(key.clone(), value == null ? TOMBSTONE : value.clone());
        uncommittedBytes += key.length + (value == null ? 0 : value.length);
        if (previous != null) {
            uncommittedBytes -= key.length + previous.length;
        }
    }

    @Override
    public BytesIterator range(byte[] from, byte[] to) {
        return new MergingIterator(slice(committed, from, to), slice(uncommitted, from, to));
    }

    @Override
    public byte[] getCommitted(byte[] key) {
        return committed.get(key);
    }

    @Override
    public BytesIterator rangeCommitted(byte[] from, byte[] to) {
        return new MergingIterator(slice(committed, from, to), new TreeMap<byte[], byte[]>(KEY_ORDER));
    }

    @Override
    public long uncommittedBytes() {
        return uncommittedBytes;
    }

    @Override
    public void commit(Map<TopicPartition, Long> newOffsets) {
        for (Map.Entry<byte[], byte[]> e : uncommitted.entrySet()) {
            if (e.getValue() == TOMBSTONE) {
                committed.remove(e.getKey());
            } else {
                committed.put(e.getKey(), e.getValue());
            }
        }
        uncommitted.clear();
        uncommittedBytes = 0;
        synchronized (offsets) {
            offsets.putAll(newOffsets);
        }
    }

    @Override
    public void abort() {
        uncommitted.clear();
        uncommittedBytes = 0;
    }

    @Override
    public Map<TopicPartition, Long> committedOffsets() {
        synchronized (offsets) {
            return Map.copyOf(offsets);
        }
    }

    @Override
    public void close() {
        abort();
    }

    private static NavigableMap<byte[], byte[]> slice(NavigableMap<byte[], byte[]> map, byte[] from, byte[] to) {
        if (from != null && to != null) {
            return KEY_ORDER.compare(from, to) > 0 ? map.subMap(from, true, from, false) : map.subMap(from, true, to, true);
        }
        if (from != null) {
            return map.tailMap(from, true);
        }
        if (to != null) {
            return map.headMap(to, true);
        }
        return map;
    }

    /** Merges committed entries with the overlay: the overlay wins on equal keys, tombstones hide keys. */
    private static final class MergingIterator implements BytesIterator {
        private final Iterator<Map.Entry<byte[], byte[]>> base;
        private final Iterator<Map.Entry<byte[], byte[]>> overlay;
        private Map.Entry<byte[], byte[]> nextBase;
        private Map.Entry<byte[], byte[]> nextOverlay;
        private Entry next;

        MergingIterator(NavigableMap<byte[], byte[]> base, NavigableMap<byte[], byte[]> overlay) {
            this.base = base.entrySet().iterator();
            // the overlay is only touched by the owning thread; copy the slice so later writes do not race
            this.overlay = new TreeMap<>(overlay).entrySet().iterator();
            nextBase = this.base.hasNext() ? this.base.next() : null;
            nextOverlay = this.overlay.hasNext() ? this.overlay.next() : null;
            advance();
        }

        private void advance() {
            next = null;
            while (next == null && (nextBase != null || nextOverlay != null)) {
                int cmp = nextBase == null ? 1 : nextOverlay == null ? -1 : KEY_ORDER.compare(nextBase.getKey(), nextOverlay.getKey());
                if (cmp < 0) {
                    next = new Entry(nextBase.getKey(), nextBase.getValue());
                    nextBase = base.hasNext() ? base.next() : null;
                } else {
                    if (nextOverlay.getValue() != TOMBSTONE) {
                        next = new Entry(nextOverlay.getKey(), nextOverlay.getValue());
                    }
                    if (cmp == 0) {
                        nextBase = base.hasNext() ? base.next() : null;
                    }
                    nextOverlay = overlay.hasNext() ? overlay.next() : null;
                }
            }
        }

        @Override
        public boolean hasNext() {
            return next != null;
        }

        @Override
        public Entry next() {
            if (next == null) {
                throw new NoSuchElementException();
            }
            Entry result = next;
            advance();
            return result;
        }

        @Override
        public void close() {
        }
    }
}
