package io.weir.log.internals;

import io.weir.common.utils.FileUtils;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A memory-mapped file of fixed-size, sorted entries: the base of the offset index and the time
 * index. The active segment's index is preallocated to its maximum size (so appends never grow the
 * file) and trimmed to its real size when the segment rolls or closes.
 *
 * <p>Built for extension by exactly the two index types. Thread-safety: every method takes the
 * index's lock. Lookups are short (a binary search in memory), and the lock is what makes unmapping
 * on resize, close and delete safe against a concurrent lookup from a fetch thread.
 *
 * <p>Invariant: entries {@code [0, entries)} are sorted by key, strictly increasing; bytes after them
 * are undefined (zero when preallocated).
 */
public abstract class AbstractIndex implements AutoCloseable {
    protected final ReentrantLock lock = new ReentrantLock();
    private final long baseOffset;
    private final int entrySize;
    private volatile Path file;
    private int maxIndexSize;
    private MappedByteBuffer mmap;
    private int entries;
    private int maxEntries;

    protected AbstractIndex(Path file, long baseOffset, int maxIndexSize, boolean writable, int entrySize) {
        this.file = file;
        this.baseOffset = baseOffset;
        this.entrySize = entrySize;
        this.maxIndexSize = maxIndexSize;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long existing = raf.length();
            // a partial trailing entry (torn write) is ignored: entries are whole or absent
            this.entries = (int) Math.min(existing / entrySize, Integer.MAX_VALUE / entrySize);
            int length = writable ? roundDown(Math.max(maxIndexSize, entries * entrySize)) : entries * entrySize;
            raf.setLength(length);
            this.mmap = map(raf, length);
            this.maxEntries = length / entrySize;
            this.mmap.position(entries * entrySize);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open index " + file, e);
        }
    }

    /**
     * Maps the whole file, with the caller's interrupt flag held back (and set again after): {@code map} is an
     * interruptible operation, and an interrupted appender rolling a segment (a handler being stopped) would
     * fail the roll, leaving a resized index unmapped. An interrupt that arrives during the {@code map} call
     * itself still fails it (a window of one system call).
     */
    private static MappedByteBuffer map(RandomAccessFile raf, int length) throws IOException {
        return FileUtils.withInterruptHeldBack(() -> raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, length));
    }

    private int roundDown(int size) {
        return size - size % entrySize;
    }

    public final Path file() {
        return file;
    }

    public final long baseOffset() {
        return baseOffset;
    }

    public final int entries() {
        lock.lock();
        try {
            return entries;
        } finally {
            lock.unlock();
        }
    }

    public final int maxEntries() {
        lock.lock();
        try {
            return maxEntries;
        } finally {
            lock.unlock();
        }
    }

    public final boolean isFull() {
        lock.lock();
        try {
            return entries >= maxEntries;
        } finally {
            lock.unlock();
        }
    }

    public final int sizeInBytes() {
        lock.lock();
        try {
            return entries * entrySize;
        } finally {
            lock.unlock();
        }
    }

    /** Relative offset stored in an entry: the offset must be in [baseOffset, baseOffset + 2^31). */
    protected final int relativeOffset(long offset) {
        long rel = offset - baseOffset;
        if (rel < 0 || rel > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + offset + " does not fit an index with base " + baseOffset);
        }
        return (int) rel;
    }

    /** The mapped buffer; callers hold {@link #lock}. */
    protected final MappedByteBuffer mmap() {
        if (mmap == null) {
            throw new IllegalStateException("index " + file + " is closed");
        }
        return mmap;
    }

    /** Called with {@link #lock} held after an entry has been written at the buffer's position. */
    protected final void entryAppended() {
        entries++;
        mmap.position(entries * entrySize);
    }

    /** Entry count; callers hold {@link #lock}. */
    protected final int entriesLocked() {
        return entries;
    }

    protected final boolean fullLocked() {
        return entries >= maxEntries;
    }

    /** The key (offset or timestamp) of entry {@code n}, for the binary search. */
    protected abstract long keyAt(MappedByteBuffer buffer, int n);

    /**
     * The index of the largest entry whose key is at most {@code target}, or -1 when every entry's key
     * is above it (or the index is empty). Callers hold {@link #lock}.
     */
    protected final int largestLowerBound(long target) {
        int lo = 0;
        int hi = entries - 1;
        int found = -1;
        MappedByteBuffer buffer = mmap();
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (keyAt(buffer, mid) <= target) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** Drops every entry whose key is at least {@code key}. */
    protected final void truncateToKey(long key) {
        lock.lock();
        try {
            int n = key == Long.MIN_VALUE ? 0 : largestLowerBound(key - 1) + 1;
            entries = n;
            mmap().position(n * entrySize);
        } finally {
            lock.unlock();
        }
    }

    /** Keeps the first {@code n} entries. */
    protected final void truncateToEntries(int n) {
        lock.lock();
        try {
            entries = Math.max(0, Math.min(n, entries));
            mmap().position(entries * entrySize);
        } finally {
            lock.unlock();
        }
    }

    public final void reset() {
        lock.lock();
        try {
            entries = 0;
            mmap().position(0);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Changes the file and mapping to {@code newSize} bytes (rounded down to whole entries, never below
     * the entries held). Trimming on roll gives the file its real size; growing back is used when an
     * old segment becomes active again after truncation.
     */
    public final void resize(int newSize) {
        lock.lock();
        try {
            int length = Math.max(roundDown(newSize), entries * entrySize);
            MappedByteBuffer old = mmap();
            old.force();
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                // unmap first: some systems refuse to truncate a mapped file
                MappedBuffers.unmap(old);
                mmap = null;
                raf.setLength(length);
                mmap = map(raf, length);
                mmap.position(entries * entrySize);
                maxEntries = length / entrySize;
                maxIndexSize = Math.max(maxIndexSize, length);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resize index " + file, e);
        } finally {
            lock.unlock();
        }
    }

    public final void trimToValidSize() {
        resize(sizeInBytes());
    }

    /** Writes dirty pages to disk. */
    public final void flush() {
        lock.lock();
        try {
            if (mmap != null) {
                mmap.force();
            }
        } finally {
            lock.unlock();
        }
    }

    public final void renameTo(Path target) throws IOException {
        lock.lock();
        try {
            if (Files.exists(file)) {
                Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
            }
            file = target;
        } finally {
            lock.unlock();
        }
    }

    /** Trims the file to its entries and releases the mapping. */
    @Override
    public final void close() {
        lock.lock();
        try {
            if (mmap == null) {
                return;
            }
            trimToValidSize();
            MappedBuffers.unmap(mmap);
            mmap = null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Releases the mapping without touching the file by its name (no trim): for an index whose directory was
     * renamed away, where the name may now be another log's file.
     */
    public final void release() {
        lock.lock();
        try {
            if (mmap != null) {
                MappedBuffers.unmap(mmap);
                mmap = null;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Releases the mapping and deletes the file. */
    public final void deleteIfExists() throws IOException {
        lock.lock();
        try {
            if (mmap != null) {
                MappedBuffers.unmap(mmap);
                mmap = null;
            }
            Files.deleteIfExists(file);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks the invariant after loading from disk: keys strictly increase and are not below the
     * base. A violation means the file is corrupt and the caller rebuilds it.
     */
    public final void sanityCheck() {
        lock.lock();
        try {
            MappedByteBuffer buffer = mmap();
            long previous = Long.MIN_VALUE;
            for (int i = 0; i < entries; i++) {
                long key = keyAt(buffer, i);
                if (key <= previous) {
                    throw new io.weir.log.CorruptIndexException("index " + file + " entry " + i + " has key " + key
                        + " not above the previous " + previous);
                }
                previous = key;
                checkEntry(buffer, i);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Per-entry checks beyond ordering. */
    protected abstract void checkEntry(MappedByteBuffer buffer, int n);
}
