package io.weir.streams.state.internals;

/**
 * A window store over a {@link TransactionalBytesStore} in the {@link WindowKeySchema} layout: values per
 * (key, window start), fetched by key and time range in one range scan. It inherits the byte store's
 * transactions: writes are uncommitted until the byte store commits, {@code fetch*Committed} serve
 * interactive queries.
 *
 * <p>Retention is enforced by {@link #removeExpired}, which deletes windows that started before
 * {@code streamTime - retention}: one short range scan per key (see {@link OrderedKeys#removeBefore}).
 * This is a deliberate simplification of Kafka's time segments (one RocksDB per segment, dropped whole):
 * call it now and then (say, once per commit interval or when stream time has moved by a tenth of the
 * retention), not per record. The runtime drops records later than the grace period before they reach
 * the store. Not thread-safe: the owning stream thread only, like the byte store's writes.
 */
public final class WindowBytesStore {

    /** One value of one window. */
    public record WindowEntry(byte[] key, long windowStartMs, byte[] value) { }

    private final TransactionalBytesStore bytes;
    private final long retentionMs;
    private final boolean retainDuplicates;
    private int seqnum;

    /**
     * @param retainDuplicates keep every value put for the same key and window (stream–stream joins)
     *                         instead of the last one
     */
    public WindowBytesStore(TransactionalBytesStore bytes, long retentionMs, boolean retainDuplicates) {
        if (retentionMs < 0) {
            throw new IllegalArgumentException("retentionMs must be >= 0, was " + retentionMs);
        }
        this.bytes = bytes;
        this.retentionMs = retentionMs;
        this.retainDuplicates = retainDuplicates;
    }

    /** The byte store underneath (commit, abort, close go there). */
    public TransactionalBytesStore bytes() {
        return bytes;
    }

    public long retentionMs() {
        return retentionMs;
    }

    /**
     * Puts the value of the window; null deletes it (ignored when duplicates are retained: duplicates
     * leave only by retention).
     */
    public void put(byte[] key, long windowStartMs, byte[] value) {
        if (!retainDuplicates) {
            bytes.put(WindowKeySchema.toStoreKey(key, windowStartMs, 0), value);
            return;
        }
        if (value == null) {
            return;
        }
        // the counter restarts with the process: skip sequence numbers already taken in this window
        byte[] storeKey;
        do {
            storeKey = WindowKeySchema.toStoreKey(key, windowStartMs, ++seqnum);
        } while (bytes.get(storeKey) != null);
        bytes.put(storeKey, value);
    }

    /** The value of the window (the first one if duplicates are retained), or null. */
    public byte[] fetch(byte[] key, long windowStartMs) {
        if (!retainDuplicates) {
            return bytes.get(WindowKeySchema.toStoreKey(key, windowStartMs, 0));
        }
        try (SchemaIterator<WindowEntry> it = fetch(key, windowStartMs, windowStartMs)) {
            return it.hasNext() ? it.next().value() : null;
        }
    }

    /** The key's windows that start in {@code [timeFromMs, timeToMs]}, by start. Uncommitted writes included. */
    public SchemaIterator<WindowEntry> fetch(byte[] key, long timeFromMs, long timeToMs) {
        return new SchemaIterator<>(bytes.range(WindowKeySchema.lowerBound(key, timeFromMs),
            WindowKeySchema.upperBound(key, timeToMs)), WindowBytesStore::decode);
    }

    /** As {@link #fetch(byte[], long, long)}, committed state only (interactive queries, any thread). */
    public SchemaIterator<WindowEntry> fetchCommitted(byte[] key, long timeFromMs, long timeToMs) {
        return new SchemaIterator<>(bytes.rangeCommitted(WindowKeySchema.lowerBound(key, timeFromMs),
            WindowKeySchema.upperBound(key, timeToMs)), WindowBytesStore::decode);
    }

    /**
     * Windows of keys in {@code [keyFrom, keyTo]} (null: unbounded) that start in {@code [timeFromMs, timeToMs]},
     * by key then start. One range scan over the keys; windows outside the time range are skipped.
     */
    public SchemaIterator<WindowEntry> fetch(byte[] keyFrom, byte[] keyTo, long timeFromMs, long timeToMs) {
        return timeFiltered(bytes.range(keyLower(keyFrom), keyUpper(keyTo)), timeFromMs, timeToMs);
    }

    /** As {@link #fetch(byte[], byte[], long, long)}, committed state only. */
    public SchemaIterator<WindowEntry> fetchCommitted(byte[] keyFrom, byte[] keyTo, long timeFromMs, long timeToMs) {
        return timeFiltered(bytes.rangeCommitted(keyLower(keyFrom), keyUpper(keyTo)), timeFromMs, timeToMs);
    }

    /** Every key's windows that start in {@code [timeFromMs, timeToMs]}. */
    public SchemaIterator<WindowEntry> fetchAll(long timeFromMs, long timeToMs) {
        return fetch(null, null, timeFromMs, timeToMs);
    }

    /**
     * Deletes (uncommitted, like any write) the windows that started before {@code streamTimeMs - retentionMs}.
     *
     * @return how many windows it deleted
     */
    public int removeExpired(long streamTimeMs) {
        return OrderedKeys.removeBefore(bytes, WindowKeySchema.SUFFIX_BYTES, WindowKeySchema::windowStart,
            streamTimeMs - retentionMs);
    }

    private static byte[] keyLower(byte[] keyFrom) {
        return keyFrom == null ? null : OrderedKeys.escaped(keyFrom);
    }

    private static byte[] keyUpper(byte[] keyTo) {
        return keyTo == null ? null : WindowKeySchema.upperBound(keyTo, Long.MAX_VALUE);
    }

    private static SchemaIterator<WindowEntry> timeFiltered(BytesIterator it, long timeFromMs, long timeToMs) {
        return new SchemaIterator<>(it, e -> {
            long start = WindowKeySchema.windowStart(e.key());
            return start < timeFromMs || start > timeToMs ? null : decode(e);
        });
    }

    private static WindowEntry decode(BytesIterator.Entry e) {
        return new WindowEntry(WindowKeySchema.key(e.key()), WindowKeySchema.windowStart(e.key()), e.value());
    }
}
