package io.weir.streams.state.internals;

import io.weir.common.TopicPartition;

/**
 * How far the restore of one store from its changelog has got: what the runtime logs and exposes as
 * metrics (records restored / total, per store), and what the crash tests read to check that a restart
 * replayed only a changelog tail and never wiped a store.
 *
 * <p>The total is the changelog offsets between where the store starts ({@link #startOffset}: its
 * committed changelog offset, a snapshot's offset, or the log start) and the changelog end at the start
 * of the restore. Under transactions offsets also count commit markers and aborted records, so the total
 * is an upper bound of the records to apply; {@link #done} therefore goes by position, not by count.
 *
 * <p>Threads: one restoring thread calls {@link #onRestored}; any thread may read (fields are volatile).
 */
public final class RestoreProgress {

    /** Where a store's restore started from. */
    public enum Origin {
        /** The store's own files, at its last commit (the normal restart, even after SIGKILL). */
        LOCAL_STORE,
        /** A snapshot ({@link RocksDbBytesStore#checkpoint}) copied in for a new host or a lost disk. */
        SNAPSHOT,
        /** Nothing: a new store, or an in-memory one. */
        EMPTY,
        /** Nothing, because the store's files were corrupt and were wiped ({@link RocksDbBytesStore#wipeCorrupted}). */
        WIPED_CORRUPT
    }

    private final String storeName;
    private final TopicPartition changelog;
    private final Origin origin;
    private final long startOffset;
    private final long endOffset;
    private final long startedMs;
    private volatile long recordsRestored;
    private volatile long position;
    private volatile long finishedMs = -1;

    /**
     * @param startOffset the first changelog offset to replay
     * @param endOffset   the changelog end offset (exclusive) when the restore started
     */
    public RestoreProgress(String storeName, TopicPartition changelog, Origin origin, long startOffset, long endOffset, long startedMs) {
        if (startOffset < 0 || endOffset < 0) {
            throw new IllegalArgumentException("offsets must be >= 0: start " + startOffset + ", end " + endOffset);
        }
        this.storeName = storeName;
        this.changelog = changelog;
        this.origin = origin;
        this.startOffset = startOffset;
        this.endOffset = Math.max(startOffset, endOffset);
        this.startedMs = startedMs;
        this.position = startOffset;
        if (this.endOffset == startOffset) {
            finishedMs = startedMs;
        }
    }

    /** Records a restored batch: {@code records} applied, the next offset to read is {@code nextOffset}. */
    public void onRestored(long records, long nextOffset, long nowMs) {
        recordsRestored += records;
        position = Math.max(position, nextOffset);
        if (position >= endOffset && finishedMs < 0) {
            finishedMs = nowMs;
        }
    }

    public String storeName() {
        return storeName;
    }

    public TopicPartition changelog() {
        return changelog;
    }

    public Origin origin() {
        return origin;
    }

    public long startOffset() {
        return startOffset;
    }

    public long endOffset() {
        return endOffset;
    }

    /** Records applied so far. */
    public long recordsRestored() {
        return recordsRestored;
    }

    /** Changelog offsets to replay in all (an upper bound of the records, see the class comment). */
    public long totalToRestore() {
        return endOffset - startOffset;
    }

    /** Offsets still to read. */
    public long remaining() {
        return Math.max(0, endOffset - position);
    }

    public boolean done() {
        return position >= endOffset;
    }

    /** Time the restore took, or has taken so far. */
    public long elapsedMs(long nowMs) {
        long finished = finishedMs;
        return (finished >= 0 ? finished : nowMs) - startedMs;
    }

    /** One log line: store, changelog, origin, records restored / total, time. */
    public String describe(long nowMs) {
        long total = totalToRestore();
        long pct = total == 0 ? 100 : Math.min(100, (100 * (position - startOffset)) / total);
        return "state store '" + storeName + "' (changelog " + changelog.dirName() + ", from " + origin + " at offset "
            + startOffset + "): " + (done() ? "restored " : "restoring, ") + recordsRestored + " records of at most "
            + total + " (" + pct + "%) in " + elapsedMs(nowMs) + " ms";
    }

    @Override
    public String toString() {
        return describe(finishedMs >= 0 ? finishedMs : startedMs);
    }
}
