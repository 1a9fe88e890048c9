package io.weir.log;

import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileRegionTest {
    private final Path dir = TempDirs.create("region");
    private FileChannel channel;

    @AfterEach
    void cleanUp() throws Exception {
        if (channel != null) {
            channel.close();
        }
        TempDirs.delete(dir);
    }

    private FileRegion region(int fileBytes, long position, int size) throws Exception {
        Path file = dir.resolve("00000000000000000000.log");
        byte[] bytes = new byte[fileBytes];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        Files.write(file, bytes);
        channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new FileRegion(file, channel, position, size);
    }

    @Test
    void shouldFailWithEofWhenTheFileIsTruncatedUnderTheSend() throws Exception {
        FileRegion region = region(1000, 100, 800);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        WritableByteChannel target = Channels.newChannel(sink);
        assertEquals(100, region.writeTo(target, 0, 100));
        channel.truncate(300); // a truncation races the fetch: bytes [300, 900) of the region are gone
        assertEquals(100, region.writeTo(target, 100, 700), "what is left is still sent");
        EOFException e = assertThrows(EOFException.class, () -> region.writeTo(target, 200, 600));
        assertTrue(e.getMessage().contains("00000000000000000000.log") && e.getMessage().contains("byte 300"),
            e.getMessage());
        assertEquals(200, sink.size());
    }

    @Test
    void shouldFailWritingFullyWithEofRatherThanSpinning() throws Exception {
        FileRegion region = region(1000, 0, 1000);
        channel.truncate(0);
        assertThrows(EOFException.class, () -> region.writeFullyTo(Channels.newChannel(new ByteArrayOutputStream())));
    }

    @Test
    void shouldReturnZeroWithoutFailingWhenTheTargetIsFull() throws Exception {
        FileRegion region = region(1000, 100, 800);
        WritableByteChannel full = new WritableByteChannel() {
            @Override
            public int write(ByteBuffer src) {
                return 0; // a non-blocking socket whose buffer is full
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        assertEquals(0, region.writeTo(full, 0, 800));
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        region.writeFullyTo(Channels.newChannel(sink));
        byte[] expected = new byte[800];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (byte) (100 + i);
        }
        assertArrayEquals(expected, sink.toByteArray());
    }
}
