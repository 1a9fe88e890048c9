package io.weir.common.utils;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * File operations with the durability the log needs. Stateless, thread-safe.
 *
 * <p>Each runs with the caller's interrupt flag held back and sets it again before returning: a
 * {@code FileChannel} closes itself (failing the operation) when its thread is interrupted, and a checkpoint
 * or fsync of a thread being stopped (an appender rolling a segment, a duty finishing) must not fail as if
 * the disk had, nor skip a directory fsync silently. An interrupt is delayed by one short file operation,
 * never lost.
 */
public final class FileUtils {
    private FileUtils() {
    }

    /** File I/O to run with the interrupt flag held back. */
    @FunctionalInterface
    public interface FileAction<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code action} with the caller's interrupt flag cleared, so an interruptible file channel it uses is not
     * closed on entry, and sets the flag again after (an interrupt arriving during the action still closes it).
     */
    public static <T> T withInterruptHeldBack(FileAction<T> action) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            return action.run();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Replaces {@code target} with {@code content} so that after a crash it holds either the old or the
     * new bytes, never a mix: write a temp file, fsync it, rename it over the target, fsync the directory.
     */
    public static void atomicWrite(Path target, ByteBuffer content) throws IOException {
        withInterruptHeldBack(() -> {
            doAtomicWrite(target, content);
            return null;
        });
    }

    private static void doAtomicWrite(Path target, ByteBuffer content) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = content.duplicate();
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        fsyncDirectory(target.getParent());
    }

    /** Makes a directory's entries (creations, renames, deletions) durable; a no-op where unsupported. */
    public static void fsyncDirectory(Path dir) {
        try {
            withInterruptHeldBack(() -> {
                try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                    ch.force(true);
                }
                return null;
            });
        } catch (IOException | UnsupportedOperationException e) {
            // some platforms cannot open a directory; renames there are durable by other means
        }
    }

    /** Reads a whole file of at most {@code maxBytes}; larger files are rejected, not read. */
    public static ByteBuffer readBounded(Path file, int maxBytes) throws IOException {
        return withInterruptHeldBack(() -> doReadBounded(file, maxBytes));
    }

    private static ByteBuffer doReadBounded(Path file, int maxBytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > maxBytes) {
                throw new IOException(file + " has " + size + " bytes, more than the " + maxBytes + " allowed");
            }
            ByteBuffer b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    break;
                }
            }
            return b.flip();
        }
    }
}
