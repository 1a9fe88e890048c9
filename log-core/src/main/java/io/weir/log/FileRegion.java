package io.weir.log;

import io.weir.common.record.MemoryRecords;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;

/**
 * A byte range of a segment file that a fetch sends to the network: the one place where log bytes
 * leave through {@link FileChannel#transferTo} (zero copy) or, where the target needs the bytes in
 * memory (TLS), through {@link #readInto}.
 *
 * <p>Immutable and thread-safe. The bytes it covers never change while the segment lives (appends go
 * after it, truncation only happens below a follower's fetch). If the segment is deleted under an
 * in-flight fetch, a write fails with {@link java.nio.channels.ClosedChannelException}; if it was
 * truncated below the region, with {@link EOFException}. Either way the send fails and the broker
 * closes the connection; the client fetches again. The log delays file deletion to make that rare.
 * An interrupt of a thread using the region does not close the segment's channel for others (segments
 * use {@link io.weir.log.internals.InterruptSafeFileChannel}); a transfer the interrupt cuts fails for
 * its own caller only.
 */
public final class FileRegion {
    private static final FileRegion EMPTY = new FileRegion(null, null, 0, 0);

    private final Path file;
    private final FileChannel channel;
    private final long position;
    private final int sizeInBytes;

    public FileRegion(Path file, FileChannel channel, long position, int sizeInBytes) {
        if (position < 0 || sizeInBytes < 0) {
            throw new IllegalArgumentException("position " + position + ", size " + sizeInBytes);
        }
        this.file = file;
        this.channel = channel;
        this.position = position;
        this.sizeInBytes = sizeInBytes;
    }

    public static FileRegion empty() {
        return EMPTY;
    }

    public Path file() {
        return file;
    }

    public long position() {
        return position;
    }

    public int sizeInBytes() {
        return sizeInBytes;
    }

    /**
     * Transfers up to {@code length} bytes starting {@code offset} bytes into this region, in one
     * {@code transferTo} call: a non-blocking socket may take fewer, so the caller keeps
     * {@code offset} and calls again when the socket is writable. Returns the bytes written.
     *
     * @throws EOFException if the file now ends at or before the next byte to send (the segment was
     *         truncated under the fetch): {@code transferTo} would return 0 on every call, which the
     *         caller could not tell from a full socket
     */
    public long writeTo(WritableByteChannel target, long offset, long length) throws IOException {
        long count = Math.min(length, sizeInBytes - offset);
        if (count <= 0) {
            return 0;
        }
        long from = position + offset;
        long n = channel.transferTo(from, count, target);
        if (n == 0 && channel.size() <= from) {
            throw new EOFException(file + " ends at byte " + channel.size() + ", before byte " + from
                + " of the region being sent (" + this + "): the segment was truncated under the fetch");
        }
        return n;
    }

    /** Writes the whole region to a blocking channel (tests, tools, replication to a file). */
    public void writeFullyTo(WritableByteChannel target) throws IOException {
        long done = 0;
        while (done < sizeInBytes) {
            long n = writeTo(target, done, sizeInBytes - done);
            if (n <= 0) {
                throw new IOException("transferTo made no progress writing " + file);
            }
            done += n;
        }
    }

    /**
     * Copies bytes starting {@code offset} bytes into this region into {@code dst} (up to its
     * remaining space or the region's end); the copying path for targets that need bytes in memory.
     * Returns the bytes copied.
     */
    public int readInto(ByteBuffer dst, long offset) throws IOException {
        int want = (int) Math.min(dst.remaining(), sizeInBytes - offset);
        if (want <= 0) {
            return 0;
        }
        ByteBuffer view = dst.duplicate();
        view.limit(view.position() + want);
        int done = 0;
        while (done < want) {
            int n = channel.read(view, position + offset + done);
            if (n < 0) {
                throw new IOException("unexpected end of " + file + " at " + (position + offset + done));
            }
            done += n;
        }
        dst.position(dst.position() + done);
        return done;
    }

    /** The region's bytes in memory; for tests and tools, not the fetch path. */
    public MemoryRecords readRecords() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(sizeInBytes);
        readInto(b, 0);
        b.flip();
        return MemoryRecords.readableRecords(b);
    }

    @Override
    public String toString() {
        return "FileRegion(" + file + ", position=" + position + ", size=" + sizeInBytes + ")";
    }
}
