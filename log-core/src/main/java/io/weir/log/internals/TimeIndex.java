package io.weir.log.internals;

import io.weir.log.CorruptIndexException;

import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * The time index of one segment ({@code .timeindex}): entries of 12 bytes, a timestamp (int64) and a
 * relative offset (int32). An entry (t, o) says "the largest timestamp in this segment up to offset o
 * is t, and o is where it first appears": every batch before o has a smaller max timestamp. Entries
 * are only added when the timestamp grows, so timestamps (the search key) strictly increase.
 *
 * <p>Thread-safe (see {@link AbstractIndex}).
 */
public final class TimeIndex extends AbstractIndex {
    public static final int ENTRY_SIZE = 12;

    public TimeIndex(Path file, long baseOffset, int maxIndexSize, boolean writable) {
        super(file, baseOffset, maxIndexSize, writable, ENTRY_SIZE);
    }

    @Override
    protected long keyAt(MappedByteBuffer buffer, int n) {
        return buffer.getLong(n * ENTRY_SIZE);
    }

    /**
     * Adds (timestamp, offset) if the timestamp is above the last entry's; returns whether it did.
     * An offset not above the last one with a larger timestamp replaces nothing: it is ignored, since
     * entries must stay ordered on both fields.
     */
    public boolean maybeAppend(long timestamp, long offset) {
        lock.lock();
        try {
            int n = entriesLocked();
            MappedByteBuffer buffer = mmap();
            if (n > 0) {
                long lastTs = buffer.getLong((n - 1) * ENTRY_SIZE);
                long lastOffset = baseOffset() + buffer.getInt((n - 1) * ENTRY_SIZE + 8);
                if (timestamp <= lastTs || offset < lastOffset) {
                    return false;
                }
            }
            if (fullLocked()) {
                return false;
            }
            int rel = relativeOffset(offset);
            buffer.putLong(timestamp);
            buffer.putInt(rel);
            entryAppended();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The entry with the largest timestamp at most {@code timestamp}, or (NO_TIMESTAMP, base) if none:
     * no batch before the returned offset can have a max timestamp at or above the target.
     */
    public TimestampOffset lookup(long timestamp) {
        lock.lock();
        try {
            int n = largestLowerBound(timestamp);
            if (n < 0) {
                return new TimestampOffset(-1L, baseOffset());
            }
            return entryAt(n);
        } finally {
            lock.unlock();
        }
    }

    /** The last entry, or (NO_TIMESTAMP, base) when empty. */
    public TimestampOffset lastEntry() {
        lock.lock();
        try {
            int n = entriesLocked();
            return n == 0 ? new TimestampOffset(-1L, baseOffset()) : entryAt(n - 1);
        } finally {
            lock.unlock();
        }
    }

    private TimestampOffset entryAt(int n) {
        MappedByteBuffer buffer = mmap();
        return new TimestampOffset(buffer.getLong(n * ENTRY_SIZE), baseOffset() + buffer.getInt(n * ENTRY_SIZE + 8));
    }

    /** Removes entries whose offset is at or above {@code offset}. */
    public void truncateTo(long offset) {
        lock.lock();
        try {
            MappedByteBuffer buffer = mmap();
            int n = entriesLocked();
            // offsets increase with timestamps, so the kept entries are a prefix
            int keep = n;
            while (keep > 0 && baseOffset() + buffer.getInt((keep - 1) * ENTRY_SIZE + 8) >= offset) {
                keep--;
            }
            truncateToEntries(keep);
        } finally {
            lock.unlock();
        }
    }

    @Override
    protected void checkEntry(MappedByteBuffer buffer, int n) {
        int rel = buffer.getInt(n * ENTRY_SIZE + 8);
        if (rel < 0 || (n > 0 && rel < buffer.getInt((n - 1) * ENTRY_SIZE + 8))) {
            throw new CorruptIndexException("time index " + file() + " entry " + n + " has relative offset " + rel
                + " below the previous entry's");
        }
    }

    /** A (timestamp, offset) pair. */
    public record TimestampOffset(long timestamp, long offset) {
    }
}
