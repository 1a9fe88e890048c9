package io.weir.streams.state.internals;

/**
 * A session store over a {@link TransactionalBytesStore} in the {@link SessionKeySchema} layout: one value
 * per (key, session start, session end). {@link #findSessions} gives the sessions a new record may merge
 * with in one range scan. Transactions, interactive queries and retention ({@link #removeExpired}: sessions
 * that ended before {@code streamTime - retention}) work as in {@link WindowBytesStore}. Owning thread only.
 */
public final class SessionBytesStore {

    /** One session of one key. */
    public record SessionEntry(byte[] key, long startMs, long endMs, byte[] value) { }

    private final TransactionalBytesStore bytes;
    private final long retentionMs;

    public SessionBytesStore(TransactionalBytesStore bytes, long retentionMs) {
        if (retentionMs < 0) {
            throw new IllegalArgumentException("retentionMs must be >= 0, was " + retentionMs);
        }
        this.bytes = bytes;
        this.retentionMs = retentionMs;
    }

    /** The byte store underneath (commit, abort, close go there). */
    public TransactionalBytesStore bytes() {
        return bytes;
    }

    /** Puts the session's value; null removes the session. */
    public void put(byte[] key, long startMs, long endMs, byte[] value) {
        if (endMs < startMs) {
            throw new IllegalArgumentException("session end " + endMs + " is before its start " + startMs);
        }
        bytes.put(SessionKeySchema.toStoreKey(key, startMs, endMs), value);
    }

    /** Removes the session. */
    public void remove(byte[] key, long startMs, long endMs) {
        put(key, startMs, endMs, null);
    }

    /** The value of exactly this session, or null. */
    public byte[] fetchSession(byte[] key, long startMs, long endMs) {
        return bytes.get(SessionKeySchema.toStoreKey(key, startMs, endMs));
    }

    /**
     * The key's sessions with {@code end >= earliestSessionEndMs} and {@code start <= latestSessionStartMs}
     * (those a record at time t merges with, for t - gap and t + gap), by end.
     */
    public SchemaIterator<SessionEntry> findSessions(byte[] key, long earliestSessionEndMs, long latestSessionStartMs) {
        return filtered(bytes.range(SessionKeySchema.lowerBound(key, earliestSessionEndMs),
            SessionKeySchema.upperBound(key, Long.MAX_VALUE)), latestSessionStartMs);
    }

    /** As {@link #findSessions}, committed state only (interactive queries, any thread). */
    public SchemaIterator<SessionEntry> findSessionsCommitted(byte[] key, long earliestSessionEndMs, long latestSessionStartMs) {
        return filtered(bytes.rangeCommitted(SessionKeySchema.lowerBound(key, earliestSessionEndMs),
            SessionKeySchema.upperBound(key, Long.MAX_VALUE)), latestSessionStartMs);
    }

    /** Every session of the key, by end. */
    public SchemaIterator<SessionEntry> fetch(byte[] key) {
        return findSessions(key, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /**
     * Deletes (uncommitted) the sessions that ended before {@code streamTimeMs - retentionMs}.
     *
     * @return how many sessions it deleted
     */
    public int removeExpired(long streamTimeMs) {
        return OrderedKeys.removeBefore(bytes, SessionKeySchema.SUFFIX_BYTES, SessionKeySchema::end,
            streamTimeMs - retentionMs);
    }

    private static SchemaIterator<SessionEntry> filtered(BytesIterator it, long latestSessionStartMs) {
        return new SchemaIterator<>(it, e -> {
            long start = SessionKeySchema.start(e.key());
            return start > latestSessionStartMs ? null
                : new SessionEntry(SessionKeySchema.key(e.key()), start, SessionKeySchema.end(e.key()), e.value());
        });
    }
}
