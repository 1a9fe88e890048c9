package io.weir.log.internals;

import io.weir.log.CorruptIndexException;

import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * The sparse offset index of one segment ({@code .index}): entries of 8 bytes, a relative offset
 * (int32, offset minus the segment's base) and the file position (int32) of the batch whose base
 * offset it is. One entry is written every {@code index.interval.bytes} of appended data, so a lookup
 * gives a position from which a short scan finds any offset.
 *
 * <p>Thread-safe (see {@link AbstractIndex}).
 */
public final class OffsetIndex extends AbstractIndex {
    public static final int ENTRY_SIZE = 8;

    public OffsetIndex(Path file, long baseOffset, int maxIndexSize, boolean writable) {
        super(file, baseOffset, maxIndexSize, writable, ENTRY_SIZE);
    }

    @Override
    protected long keyAt(MappedByteBuffer buffer, int n) {
        return buffer.getInt(n * ENTRY_SIZE);
    }

    /** Adds an entry; the offset must be above the last one and the index not full. */
    public void append(long offset, int position) {
        lock.lock();
        try {
            int rel = relativeOffset(offset);
            int n = entriesLocked();
            MappedByteBuffer buffer = mmap();
            if (n > 0 && rel <= buffer.getInt((n - 1) * ENTRY_SIZE)) {
                throw new IllegalArgumentException("offset " + offset + " is not above the last indexed offset "
                    + (baseOffset() + buffer.getInt((n - 1) * ENTRY_SIZE)) + " in " + file());
            }
            if (fullLocked()) {
                throw new IllegalStateException("index " + file() + " is full");
            }
            buffer.putInt(rel);
            buffer.putInt(position);
            entryAppended();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The file position to start scanning from for {@code targetOffset}: that of the largest indexed
     * offset at most the target, or 0 (the segment's start) when there is none.
     */
    public OffsetPosition lookup(long targetOffset) {
        lock.lock();
        try {
            int n = largestLowerBound(targetOffset - baseOffset());
            if (n < 0) {
                return new OffsetPosition(baseOffset(), 0);
            }
            MappedByteBuffer buffer = mmap();
            return new OffsetPosition(baseOffset() + buffer.getInt(n * ENTRY_SIZE), buffer.getInt(n * ENTRY_SIZE + 4));
        } finally {
            lock.unlock();
        }
    }

    /** The last entry, or (base, 0) when empty. */
    public OffsetPosition lastEntry() {
        lock.lock();
        try {
            int n = entriesLocked();
            if (n == 0) {
                return new OffsetPosition(baseOffset(), 0);
            }
            MappedByteBuffer buffer = mmap();
            return new OffsetPosition(baseOffset() + buffer.getInt((n - 1) * ENTRY_SIZE),
                buffer.getInt((n - 1) * ENTRY_SIZE + 4));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Entries whose file position is above {@code position}, in order: where intact batches may start
     * again after damage at that position (used only when damage was found, so a linear scan).
     */
    public java.util.List<OffsetPosition> entriesAfterPosition(int position) {
        lock.lock();
        try {
            int n = entriesLocked();
            MappedByteBuffer buffer = mmap();
            java.util.List<OffsetPosition> out = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                int pos = buffer.getInt(i * ENTRY_SIZE + 4);
                if (pos > position) {
                    out.add(new OffsetPosition(baseOffset() + buffer.getInt(i * ENTRY_SIZE), pos));
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Removes entries for offsets at or above {@code offset}. */
    public void truncateTo(long offset) {
        truncateToKey(Math.max(offset - baseOffset(), 0));
    }

    @Override
    protected void checkEntry(MappedByteBuffer buffer, int n) {
        int rel = buffer.getInt(n * ENTRY_SIZE);
        int position = buffer.getInt(n * ENTRY_SIZE + 4);
        if (rel < 0 || position < 0) {
            throw new CorruptIndexException("index " + file() + " entry " + n + " has relative offset " + rel
                + " and position " + position);
        }
        if (n > 0 && position <= buffer.getInt((n - 1) * ENTRY_SIZE + 4)) {
            throw new CorruptIndexException("index " + file() + " entry " + n + " has position " + position
                + " not above the previous entry's");
        }
    }

    /** A (offset, file position) pair. */
    public record OffsetPosition(long offset, int position) {
    }
}
