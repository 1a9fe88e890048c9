package io.weir.log.internals;

import io.weir.common.utils.FileUtils;
import io.weir.log.EpochEndOffset;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which leader epoch wrote which offsets of one partition's log: a sorted map from each epoch to the
 * first offset it wrote, kept in memory and checkpointed atomically to {@code leader-epoch-checkpoint}
 * in the log directory (Kafka's file and layout):
 * <pre>
 * 0                  version
 * 2                  entry count
 * 0 0                epoch startOffset
 * 3 1200
 * </pre>
 * It answers OffsetForLeaderEpoch (where did epoch N end?), which clients use to detect a log
 * truncated under their position after a leader change, and followers use to find where they diverged.
 *
 * <p>Invariant: epochs and start offsets both strictly increase along the map. Changes mark the cache
 * dirty; {@link #flush()} writes the file, so a caller holding a lock can change the map there and write
 * the file after releasing it. Thread-safe: every method is synchronized on the cache; {@link #flush()}
 * copies the map under that lock and writes it outside.
 */
public final class LeaderEpochFileCache {
    public static final String FILE_NAME = "leader-epoch-checkpoint";
    /** Kafka's "no epoch" and "no offset" answers. */
    public static final int UNDEFINED_EPOCH = -1;
    public static final long UNDEFINED_EPOCH_OFFSET = -1L;

    private static final int VERSION = 0;
    private static final int MAX_BYTES = 16 * 1024 * 1024;

    private final Path file;
    private final TreeMap<Integer, Long> epochs = new TreeMap<>();
    private final Object flushLock = new Object();
    /** Set under the cache's lock; volatile so {@link #flush()} after every append costs one read when clean. */
    private volatile boolean dirty;

    private LeaderEpochFileCache(Path file) {
        this.file = file;
    }

    /**
     * Loads the checkpoint in {@code logDir}, or starts empty when there is none. An unreadable file is
     * an {@link UncheckedIOException} naming it (a corrupt epoch history must not be silently dropped).
     */
    public static LeaderEpochFileCache load(Path logDir) {
        LeaderEpochFileCache cache = new LeaderEpochFileCache(logDir.resolve(FILE_NAME));
        try {
            cache.read();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cache;
    }

    private void read() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        String[] lines = StandardCharsets.UTF_8.decode(FileUtils.readBounded(file, MAX_BYTES)).toString().split("\n", -1);
        try {
            if (lines.length < 2 || Integer.parseInt(lines[0].trim()) != VERSION) {
                throw new IOException(file + ": missing or unsupported version line");
            }
            int count = Integer.parseInt(lines[1].trim());
            if (count < 0 || count > lines.length - 2) {
                throw new IOException(file + ": count " + count + " but " + (lines.length - 2) + " lines follow");
            }
            for (int i = 0; i < count; i++) {
                String[] parts = lines[2 + i].trim().split(" ");
                if (parts.length != 2) {
                    throw new IOException(file + ": malformed line " + (3 + i) + ": '" + lines[2 + i] + "'");
                }
                int epoch = Integer.parseInt(parts[0]);
                long start = Long.parseLong(parts[1]);
                Map.Entry<Integer, Long> last = epochs.lastEntry();
                if (epoch < 0 || start < 0 || last != null && (epoch <= last.getKey() || start < last.getValue())) {
                    throw new IOException(file + ": line " + (3 + i) + " does not follow the previous entry");
                }
                epochs.put(epoch, start);
            }
        } catch (NumberFormatException e) {
            throw new IOException(file + ": malformed number: " + e.getMessage(), e);
        }
    }

    /**
     * Records that {@code epoch} starts writing at {@code startOffset}. Ignored unless the epoch is newer
     * than the latest known one; an older entry starting at or after {@code startOffset} (it wrote nothing
     * that survived) is replaced. Returns whether the map changed.
     */
    public synchronized boolean assign(int epoch, long startOffset) {
        if (epoch < 0 || startOffset < 0) {
            return false;
        }
        Map.Entry<Integer, Long> last = epochs.lastEntry();
        if (last != null && epoch <= last.getKey()) {
            return false;
        }
        while (!epochs.isEmpty() && epochs.lastEntry().getValue() >= startOffset) {
            epochs.pollLastEntry();
        }
        epochs.put(epoch, startOffset);
        dirty = true;
        return true;
    }

    /** The latest epoch, or {@link #UNDEFINED_EPOCH} when none is known. */
    public synchronized int latestEpoch() {
        return epochs.isEmpty() ? UNDEFINED_EPOCH : epochs.lastKey();
    }

    /**
     * Where {@code requestedEpoch} ended (Kafka's rule): for the latest epoch, the log end; for an older
     * epoch, the start of the next one, with the largest known epoch at or below the requested one (the
     * requested one itself if it is older than everything known); undefined for an epoch newer than any
     * known or for {@link #UNDEFINED_EPOCH}.
     */
    public synchronized EpochEndOffset endOffsetFor(int requestedEpoch, long logEndOffset) {
        if (requestedEpoch == UNDEFINED_EPOCH || epochs.isEmpty()) {
            return new EpochEndOffset(UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET);
        }
        if (requestedEpoch == epochs.lastKey()) {
            return new EpochEndOffset(requestedEpoch, logEndOffset);
        }
        Map.Entry<Integer, Long> higher = epochs.higherEntry(requestedEpoch);
        if (higher == null) {
            return new EpochEndOffset(UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET);
        }
        Map.Entry<Integer, Long> floor = epochs.floorEntry(requestedEpoch);
        return new EpochEndOffset(floor == null ? requestedEpoch : floor.getKey(), higher.getValue());
    }

    /** Forgets epochs that start at or after {@code endOffset} (the log was truncated there). */
    public synchronized void truncateFromEnd(long endOffset) {
        while (!epochs.isEmpty() && epochs.lastEntry().getValue() >= endOffset) {
            epochs.pollLastEntry();
            dirty = true;
        }
    }

    /**
     * The log now starts at {@code startOffset}: epochs that ended below it go, and the epoch that
     * covers it is moved up to start there.
     */
    public synchronized void truncateFromStart(long startOffset) {
        Map.Entry<Integer, Long> covering = null;
        for (Map.Entry<Integer, Long> e : epochs.entrySet()) {
            if (e.getValue() > startOffset) {
                break;
            }
            covering = e;
        }
        if (covering == null || covering.getValue().longValue() == startOffset && epochs.firstKey().equals(covering.getKey())) {
            return;
        }
        int epoch = covering.getKey();
        epochs.headMap(epoch, false).clear();
        epochs.put(epoch, startOffset);
        dirty = true;
    }

    /** Forgets every epoch. */
    public synchronized void clear() {
        dirty |= !epochs.isEmpty();
        epochs.clear();
    }

    /** A copy of the map, epoch → start offset, for tests and tools. */
    public synchronized TreeMap<Integer, Long> entries() {
        return new TreeMap<>(epochs);
    }

    /** Writes the checkpoint (temp file, fsync, rename, fsync directory) if anything changed since the last write. */
    public void flush() {
        // flushLock orders whole flushes, so an older map never overwrites a newer one; the map's own
        // lock is held only while copying it, never during the fsyncs
        if (!dirty) {
            return;
        }
        synchronized (flushLock) {
            String content;
            synchronized (this) {
                if (!dirty) {
                    return;
                }
                StringBuilder sb = new StringBuilder();
                sb.append(VERSION).append('\n').append(epochs.size()).append('\n');
                for (Map.Entry<Integer, Long> e : epochs.entrySet()) {
                    sb.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
                }
                content = sb.toString();
                dirty = false;
            }
            try {
                FileUtils.atomicWrite(file, ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                synchronized (this) {
                    dirty = true;
                }
                throw new UncheckedIOException("cannot write " + file, e);
            }
        }
    }
}
