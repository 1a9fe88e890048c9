package io.weir.log.internals;

import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InterruptSafeFileChannelTest {
    /** More than the JDK's chunk for a transfer to a plain channel (8 KiB), so it reads the file twice. */
    private static final int FILE_BYTES = 64 * 1024;

    private final Path dir = TempDirs.create("interrupt-safe");
    private InterruptSafeFileChannel channel;

    @AfterEach
    void cleanUp() throws IOException {
        Thread.interrupted();
        if (channel != null) {
            channel.close();
        }
        TempDirs.delete(dir);
    }

    private static byte[] bytes(int fill) {
        byte[] b = new byte[FILE_BYTES];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    private InterruptSafeFileChannel open(Path file, int fill) throws IOException {
        Files.write(file, bytes(fill));
        return InterruptSafeFileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    private static byte[] readAll(InterruptSafeFileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(FILE_BYTES);
        while (b.hasRemaining()) {
            if (ch.read(b, b.position()) < 0) {
                break;
            }
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    /**
     * Closes the channel's JDK channel the way an interrupt does: this thread is interrupted while a transfer is
     * inside the JDK (its target interrupts it), and the JDK's next read of the file sees the interrupt.
     */
    private static void closeUnderlyingByInterrupt(InterruptSafeFileChannel ch) throws IOException {
        WritableByteChannel interrupting = new WritableByteChannel() {
            @Override
            public int write(ByteBuffer src) {
                Thread.currentThread().interrupt();
                int n = src.remaining();
                src.position(src.limit());
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        long sent = ch.transferTo(0, FILE_BYTES, interrupting);
        assertTrue(Thread.interrupted(), "the interrupt is kept");
        assertTrue(sent < FILE_BYTES, "the JDK stopped the transfer at the interrupt: " + sent);
    }

    @Test
    void shouldReopenWhenAnInterruptClosedTheFileAndKeepWorking() throws IOException {
        channel = open(dir.resolve("a.log"), 1);
        closeUnderlyingByInterrupt(channel);
        assertArrayEquals(bytes(1), readAll(channel));
        assertEquals(1, channel.reopens());
        channel.write(ByteBuffer.wrap(new byte[] {9}), FILE_BYTES);
        channel.force(true);
        assertEquals(FILE_BYTES + 1, channel.size());
        assertTrue(channel.isOpen());
    }

    @Test
    void shouldReopenFromTheNameTheFileWasMovedTo() throws IOException {
        Path from = dir.resolve("a.log");
        Path to = dir.resolve("a.log.deleted");
        channel = open(from, 2);
        channel.moveTo(to);
        closeUnderlyingByInterrupt(channel);
        assertArrayEquals(bytes(2), readAll(channel));
        assertEquals(to, channel.path());
        assertFalse(Files.exists(from), "a reopen creates no file at the old name");
    }

    @Test
    void shouldNotReopenAnotherFileFoundAtTheSameName() throws IOException {
        Path file = dir.resolve("a.log");
        channel = open(file, 3);
        closeUnderlyingByInterrupt(channel);
        // the directory was renamed away behind the channel's back, and another log's file took the name
        Files.move(file, dir.resolve("elsewhere.log"));
        Files.write(file, bytes(4));
        ClosedChannelException e = assertThrows(ClosedChannelException.class, () -> readAll(channel));
        assertEquals(1, e.getSuppressed().length, "the failed reopen is attached");
        assertTrue(e.getSuppressed()[0].getMessage().contains("no longer the file"), e.getSuppressed()[0].toString());
        assertEquals(0, channel.reopens());
    }

    @Test
    void shouldNotRecreateADeletedFile() throws IOException {
        Path file = dir.resolve("a.log");
        channel = InterruptSafeFileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        channel.write(ByteBuffer.wrap(bytes(5)), 0);
        closeUnderlyingByInterrupt(channel);
        Files.delete(file);
        assertThrows(ClosedChannelException.class, () -> readAll(channel));
        assertFalse(Files.exists(file));
    }

    @Test
    void shouldStayClosedOnceClosed() throws IOException {
        channel = open(dir.resolve("a.log"), 6);
        channel.close();
        assertThrows(ClosedChannelException.class, () -> readAll(channel));
        assertThrows(ClosedChannelException.class, channel::size);
        assertEquals(0, channel.reopens());
    }

    @Test
    void shouldKeepRelativeReadsPositionAcrossAReopen() throws IOException {
        channel = open(dir.resolve("a.log"), 7);
        ByteBuffer b = ByteBuffer.allocate(100);
        assertEquals(100, channel.read(b));
        closeUnderlyingByInterrupt(channel);
        assertEquals(100, channel.position());
        b.clear();
        assertEquals(100, channel.read(b));
        assertEquals(200, channel.position());
    }
}
