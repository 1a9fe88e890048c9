package io.weir.log.internals;

import io.weir.log.AbortedTxn;
import io.weir.log.CorruptIndexException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The aborted-transaction index of one segment ({@code .txnindex}): entries of 34 bytes, appended
 * in the order the abort markers were written.
 *
 * <pre>
 *  offset size field
 *       0    2 version (0)
 *       2    8 producerId
 *      10    8 firstOffset
 *      18    8 lastOffset
 *      26    8 lastStableOffset
 * </pre>
 *
 * The file is created on the first append only, since most segments have no aborted transaction.
 * Thread-safety: synchronized; appends come from the appending thread, reads from fetch threads.
 */
public final class TransactionIndex implements AutoCloseable {
    public static final int ENTRY_SIZE = 34;
    private static final short VERSION = 0;

    private final long baseOffset;
    private Path file;
    /** Opened on first use; read by fetches, so an interrupted reader must not close it for the others. */
    private InterruptSafeFileChannel channel;
    private long lastOffset = -1;

    public TransactionIndex(Path file, long baseOffset) {
        this.file = file;
        this.baseOffset = baseOffset;
    }

    public synchronized Path file() {
        return file;
    }

    public long baseOffset() {
        return baseOffset;
    }

    private FileChannel channel() throws IOException {
        if (channel == null) {
            channel = InterruptSafeFileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
            // drop a torn trailing entry
            long size = channel.size();
            channel.truncate(size - size % ENTRY_SIZE);
        }
        return channel;
    }

    public synchronized void append(AbortedTxn txn) {
        if (txn.lastOffset() < lastOffset) {
            throw new IllegalArgumentException("aborted txn " + txn + " ends before the last indexed one at " + lastOffset);
        }
        ByteBuffer b = ByteBuffer.allocate(ENTRY_SIZE);
        b.putShort(VERSION).putLong(txn.producerId()).putLong(txn.firstOffset()).putLong(txn.lastOffset())
            .putLong(txn.lastStableOffset()).flip();
        try {
            FileChannel ch = channel();
            long pos = ch.size();
            while (b.hasRemaining()) {
                pos += ch.write(b, pos);
            }
            lastOffset = txn.lastOffset();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        }
    }

    /** Every entry, in file order. */
    public synchronized List<AbortedTxn> allAbortedTxns() {
        return collect(Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /** Entries overlapping [fetchOffset, upperBoundOffset): lastOffset >= fetchOffset and firstOffset < bound. */
    public synchronized List<AbortedTxn> collectAbortedTxns(long fetchOffset, long upperBoundOffset) {
        return collect(fetchOffset, upperBoundOffset);
    }

    private List<AbortedTxn> collect(long from, long bound) {
        List<AbortedTxn> out = new ArrayList<>();
        if (channel == null && !Files.exists(file)) {
            return out;
        }
        try {
            FileChannel ch = channel();
            long size = ch.size();
            ByteBuffer b = ByteBuffer.allocate(ENTRY_SIZE);
            for (long pos = 0; pos + ENTRY_SIZE <= size; pos += ENTRY_SIZE) {
                b.clear();
                while (b.hasRemaining()) {
                    if (ch.read(b, pos + b.position()) < 0) {
                        return out;
                    }
                }
                short version = b.getShort(0);
                if (version != VERSION) {
                    throw new CorruptIndexException("transaction index " + file + " has version " + version + " at byte " + pos);
                }
                AbortedTxn txn = new AbortedTxn(b.getLong(2), b.getLong(10), b.getLong(18), b.getLong(26));
                if (txn.lastOffset() >= from && txn.firstOffset() < bound) {
                    out.add(txn);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Removes entries whose abort marker is at or above {@code offset}. */
    public synchronized void truncateTo(long offset) {
        if (channel == null && !Files.exists(file)) {
            return;
        }
        List<AbortedTxn> all = allAbortedTxns();
        int keep = 0;
        while (keep < all.size() && all.get(keep).lastOffset() < offset) {
            keep++;
        }
        try {
            channel().truncate((long) keep * ENTRY_SIZE);
            lastOffset = keep == 0 ? -1 : all.get(keep - 1).lastOffset();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate " + file, e);
        }
    }

    public synchronized void reset() {
        truncateTo(Long.MIN_VALUE);
    }

    public synchronized void flush() {
        try {
            if (channel != null) {
                channel.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot flush " + file, e);
        }
    }

    public synchronized void renameTo(Path target) throws IOException {
        if (channel != null) {
            channel.moveTo(target); // it reopens from the new name if an interrupt closes it
        } else if (Files.exists(file)) {
            Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        }
        file = target;
    }

    @Override
    public synchronized void close() {
        try {
            if (channel != null) {
                channel.close();
                channel = null;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file, e);
        }
    }

    public synchronized void deleteIfExists() throws IOException {
        close();
        Files.deleteIfExists(file);
    }
}
