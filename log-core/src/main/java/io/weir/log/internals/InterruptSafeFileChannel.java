package io.weir.log.internals;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A file channel that many threads share and that an interrupt cannot close: a segment's log file and
 * transaction index, which every fetch, append and index lookup of the partition goes through.
 *
 * <p>Why: the JDK's {@code FileChannel} is an {@code InterruptibleChannel}. A thread interrupted while inside
 * {@code read}, {@code write}, {@code transferTo}, {@code force}... on it (or entering one with its interrupt
 * flag set) closes it, for every thread. Threads that read segments are interrupted: executors stopped with
 * {@code shutdownNow} (coordinator loaders, tests' pools), the purgatory's reaper on close, embedding code.
 * One such interrupt used to fail every later fetch and append of the segment, and the broker then took the
 * whole log directory offline as if the disk had failed.
 *
 * <p>How: this channel forwards to a JDK channel (the delegate). When an operation finds the delegate closed
 * while this channel is open, the delegate was closed by an interrupt (only {@link #close} closes it on
 * purpose), so the file is opened again from its current path and the operation repeated there; one thread
 * reopens, the others take the new delegate. The interrupted thread's own operation:
 * <ul>
 *   <li>positional reads and writes, {@code size}, {@code truncate}, {@code force} are repeated (they are
 *       idempotent: a buffer goes back to where it started) with the interrupt flag held back, and complete;
 *   <li>a pending interrupt flag is held back for the call's length, so it does not close the delegate on
 *       entry (no reopen at all then);
 *   <li>{@code transferTo}/{@code transferFrom} cut by the close ({@link AsynchronousCloseException}, which
 *       includes {@link ClosedByInterruptException}) are not repeated, as part of the range may have reached the
 *       target already: the exception goes to the caller, whose target stream is then of unknown length (a
 *       fetch closes the connection and the client fetches again). The next call works.
 * </ul>
 * Either way the interrupt flag is set again before the call returns: the interrupt is delayed, never lost,
 * as with a {@code RandomAccessFile}, whose reads and writes are not interruptible either.
 *
 * <p>The reopened file must be the same file: the path is kept current by {@link #moveTo} (segment renames),
 * and a path that names another file now (a log directory renamed away, another log's segment there since)
 * fails the reopen, by file identity ({@link BasicFileAttributes#fileKey}, inode and device on Unix; when the
 * platform has no file key the path is trusted). The reopen never creates the file. A failed reopen leaves the
 * original exception (with the reopen's failure suppressed) to the caller, as before this class existed.
 *
 * <p>Supported: the positional operations segments use, plus relative reads and writes on a position this
 * channel keeps (not carried by the delegate, so it survives a reopen). {@link #map} and the locks go to the
 * delegate of the moment: a lock does not survive a reopen (segments take none).
 *
 * <p>Thread-safe. Positional reads and writes and transfers allocate nothing unless an interrupt is pending or
 * has closed the delegate; a reopen takes a lock and opens a file descriptor, and the one closed by the
 * interrupt is already released, so nothing leaks.
 */
public final class InterruptSafeFileChannel extends FileChannel {
    private static final Logger LOG = LoggerFactory.getLogger(InterruptSafeFileChannel.class);
    /** Reopens one call makes at most; more means interrupts keep coming: the caller gets the exception. */
    private static final int MAX_REOPENS_PER_CALL = 16;

    /** Guards {@link #path} and replacing {@link #delegate}. */
    private final Object lock = new Object();
    private final Object positionLock = new Object();
    private final OpenOption[] reopenOptions;
    private final Object fileKey;
    private volatile Path path;
    private volatile FileChannel delegate;
    private long position;
    private volatile int reopens;

    private InterruptSafeFileChannel(Path path, FileChannel delegate, Object fileKey, OpenOption[] reopenOptions) {
        this.path = path;
        this.delegate = delegate;
        this.fileKey = fileKey;
        this.reopenOptions = reopenOptions;
    }

    /** Opens {@code path} as {@link FileChannel#open(Path, OpenOption...)} would. */
    public static InterruptSafeFileChannel open(Path path, OpenOption... options) throws IOException {
        Set<OpenOption> reopen = new HashSet<>(List.of(options));
        if (reopen.contains(StandardOpenOption.DELETE_ON_CLOSE)) {
            throw new IllegalArgumentException("DELETE_ON_CLOSE: a reopen would find no file");
        }
        // a reopen must find the file this channel opened, never create, truncate or append to another
        reopen.removeAll(List.of(StandardOpenOption.CREATE, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.APPEND));
        FileChannel ch = FileChannel.open(path, options);
        try {
            Object key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            return new InterruptSafeFileChannel(path, ch, key, reopen.toArray(new OpenOption[0]));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The file's current path. */
    public Path path() {
        return path;
    }

    /** How many times the file was opened again after an interrupt closed it (for tests and metrics). */
    public int reopens() {
        return reopens;
    }

    /**
     * Renames the file to {@code target} (an atomic move) and reopens from there from now on; the rename and a
     * reopen never interleave.
     */
    public void moveTo(Path target) throws IOException {
        synchronized (lock) {
            Files.move(path, target, StandardCopyOption.ATOMIC_MOVE);
            path = target;
        }
    }

    /**
     * Called with an exception from {@code failed}, the delegate an operation used: returns normally if the
     * operation may go on with the (possibly new) {@link #delegate}, which it does when {@code failed} was closed
     * by an interrupt while this channel is open; otherwise throws {@code cause}.
     */
    private void reopenAfter(FileChannel failed, ClosedChannelException cause) throws ClosedChannelException {
        if (failed.isOpen()) {
            throw cause; // not this file's channel: a transfer's target was closed
        }
        synchronized (lock) {
            if (delegate != failed) {
                return; // another thread reopened it already
            }
            if (!isOpen()) {
                throw cause; // closed on purpose: it stays closed
            }
            FileChannel fresh = null;
            try {
                fresh = FileChannel.open(path, reopenOptions);
                Object key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
                if (fileKey != null && !fileKey.equals(key)) {
                    throw new IOException(path + " is no longer the file this channel opened (file key " + key
                        + ", was " + fileKey + ")");
                }
            } catch (IOException | RuntimeException e) {
                closeQuietly(fresh, e);
                cause.addSuppressed(e);
                throw cause;
            }
            delegate = fresh;
            reopens++;
        }
        LOG.warn("{}: reopened, an interrupt had closed it ({})", path, cause.toString());
    }

    private static void closeQuietly(FileChannel ch, Exception owner) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                owner.addSuppressed(e);
            }
        }
    }

    /** One repeatable operation on a delegate. */
    @FunctionalInterface
    private interface Op<T> {
        T apply(FileChannel ch) throws IOException;
    }

    /**
     * Runs {@code op} with the caller's interrupt flag held back, on a reopened delegate whenever an interrupt
     * closed the one it ran on; sets the flag again before returning. {@code op} must be idempotent.
     */
    private <T> T repeating(Op<T> op) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            for (int reopened = 0; ; reopened++) {
                FileChannel ch = delegate;
                try {
                    return op.apply(ch);
                } catch (ClosedChannelException e) {
                    interrupted |= Thread.interrupted(); // interrupted meanwhile: the repeat must not close it again
                    if (reopened == MAX_REOPENS_PER_CALL) {
                        throw e;
                    }
                    reopenAfter(ch, e);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        return positional(dst, position, false);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        return positional(src, position, true);
    }

    /**
     * A positional read or write: the fetch path's header reads and the appends, so no lambda unless the delegate is
     * closed or the interrupt flag is set.
     */
    private int positional(ByteBuffer buf, long position, boolean write) throws IOException {
        FileChannel ch = delegate;
        int start = buf.position();
        if (!Thread.currentThread().isInterrupted()) {
            try {
                return write ? ch.write(buf, position) : ch.read(buf, position);
            } catch (ClosedChannelException e) {
                buf.position(start);
            }
        }
        return repeating(c -> {
            buf.position(start);
            return write ? c.write(buf, position) : c.read(buf, position);
        });
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        boolean interrupted = Thread.interrupted(); // a pending interrupt would close the delegate on entry
        try {
            for (int reopened = 0; ; reopened++) {
                FileChannel ch = delegate;
                try {
                    return ch.transferTo(position, count, target);
                } catch (ClosedChannelException e) {
                    interrupted |= Thread.interrupted();
                    if (reopened == MAX_REOPENS_PER_CALL) {
                        throw e;
                    }
                    reopenAfter(ch, e);
                    if (e instanceof AsynchronousCloseException) {
                        throw e; // cut mid-transfer: how much reached the target is unknown
                    }
                    // closed before the transfer began (by an earlier interrupt): nothing was sent
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            for (int reopened = 0; ; reopened++) {
                FileChannel ch = delegate;
                try {
                    return ch.transferFrom(src, position, count);
                } catch (ClosedChannelException e) {
                    interrupted |= Thread.interrupted();
                    if (reopened == MAX_REOPENS_PER_CALL) {
                        throw e;
                    }
                    reopenAfter(ch, e);
                    if (e instanceof AsynchronousCloseException) {
                        throw e; // cut mid-transfer: how much was taken from the source is unknown
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public long size() throws IOException {
        return repeating(FileChannel::size);
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        repeating(c -> c.truncate(size));
        synchronized (positionLock) {
            position = Math.min(position, size);
        }
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        repeating(c -> {
            c.force(metaData);
            return null;
        });
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        synchronized (positionLock) {
            int n = read(dst, position);
            if (n > 0) {
                position += n;
            }
            return n;
        }
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        synchronized (positionLock) {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                while (dsts[i].hasRemaining()) {
                    int n = read(dsts[i]);
                    if (n <= 0) {
                        return total == 0 && n < 0 ? -1 : total;
                    }
                    total += n;
                }
            }
            return total;
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        synchronized (positionLock) {
            int n = write(src, position);
            position += n;
            return n;
        }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        synchronized (positionLock) {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                while (srcs[i].hasRemaining()) {
                    total += write(srcs[i]);
                }
            }
            return total;
        }
    }

    @Override
    public long position() throws IOException {
        ensureOpen();
        synchronized (positionLock) {
            return position;
        }
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        if (newPosition < 0) {
            throw new IllegalArgumentException("negative position " + newPosition);
        }
        ensureOpen();
        synchronized (positionLock) {
            position = newPosition;
        }
        return this;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return repeating(c -> c.map(mode, position, size));
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return delegate.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return delegate.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        // isOpen() is false already: no reopen can install a delegate after this one is closed
        synchronized (lock) {
            delegate.close();
        }
    }

    @Override
    public String toString() {
        return "InterruptSafeFileChannel(" + path + ", reopens=" + reopens + ")";
    }
}
