package io.weir.common.record;

import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FrameOutputStream;
import net.jpountz.xxhash.XXHashFactory;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Lz4FrameReader} against frames written by lz4-java's frame writer in every option it has
 * (block sizes, block and content checksums, a known content size, blocks stored uncompressed),
 * concatenated and skippable frames, and malformed frames.
 */
class Lz4FrameReaderTest {
    private static final Random RANDOM = new Random(7);

    /** Text-like bytes that compress, with a random run that lz4 stores uncompressed when large. */
    private static byte[] content(int size, boolean random) {
        byte[] b = new byte[size];
        if (random) {
            RANDOM.nextBytes(b);
        } else {
            for (int i = 0; i < size; i++) {
                b[i] = (byte) ('a' + (i * 7 + i / 13) % 26);
            }
        }
        return b;
    }

    private static byte[] frame(byte[] content, LZ4FrameOutputStream.BLOCKSIZE size, long knownSize,
                                LZ4FrameOutputStream.FLG.Bits... bits) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (LZ4FrameOutputStream lz4 = new LZ4FrameOutputStream(out, size, knownSize,
                LZ4Factory.fastestInstance().fastCompressor(), XXHashFactory.fastestInstance().hash32(), bits)) {
            lz4.write(content);
        }
        return out.toByteArray();
    }

    private static byte[] streamed(ByteBuffer src) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = CompressionType.LZ4.decompressingStream(src)) {
            byte[] chunk = new byte[1000]; // smaller than a block: reads resume inside one
            int n;
            while ((n = in.read(chunk)) >= 0) {
                out.write(chunk, 0, n);
            }
        }
        return out.toByteArray();
    }

    private static byte[] oneShot(ByteBuffer src) {
        ByteBuffer b = CompressionType.LZ4.decompress(src, Integer.MAX_VALUE - 64);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static void assertReads(byte[] expected, byte[] frames) throws IOException {
        assertArrayEquals(expected, oneShot(ByteBuffer.wrap(frames)));
        assertArrayEquals(expected, streamed(ByteBuffer.wrap(frames)));
        ByteBuffer direct = ByteBuffer.allocateDirect(frames.length + 3).position(3);
        direct.put(frames).position(3);
        assertArrayEquals(expected, oneShot(direct));
        assertEquals(3, direct.position(), "the source is not moved");
        assertArrayEquals(expected, streamed(direct));
        ByteBuffer offset = ByteBuffer.wrap(Arrays.copyOf(new byte[5], frames.length + 5)).position(5);
        offset.put(frames).position(5);
        assertArrayEquals(expected, oneShot(offset.slice()));
    }

    @Test
    void readsEveryOptionOfTheFrameWriter() throws IOException {
        byte[][] contents = {content(0, false), content(100, false), content(200_000, false), content(150_000, true)};
        for (byte[] c : contents) {
            assertReads(c, frame(c, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1,
                LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE));
            assertReads(c, frame(c, LZ4FrameOutputStream.BLOCKSIZE.SIZE_256KB, c.length,
                LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE, LZ4FrameOutputStream.FLG.Bits.BLOCK_CHECKSUM,
                LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM, LZ4FrameOutputStream.FLG.Bits.CONTENT_SIZE));
            assertReads(c, frame(c, LZ4FrameOutputStream.BLOCKSIZE.SIZE_4MB, -1,
                LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM));
        }
    }

    @Test
    void readsConcatenatedAndSkippableFrames() throws IOException {
        byte[] a = content(70_000, false);
        byte[] b = content(30_000, true);
        byte[] fa = frame(a, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1, LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE);
        byte[] fb = frame(b, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1, LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE,
            LZ4FrameOutputStream.FLG.Bits.BLOCK_CHECKSUM);
        ByteBuffer all = ByteBuffer.allocate(fa.length + 8 + 5 + fb.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        all.put(fa).putInt(0x184D2A53).putInt(5).put(new byte[5]).put(fb);
        byte[] expected = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, expected, a.length, b.length);
        assertReads(expected, all.array());
    }

    @Test
    void twoReadersOpenOnOneThreadDoNotShareABlockBuffer() throws IOException {
        byte[] a = content(50_000, false);
        byte[] b = Arrays.copyOfRange(content(60_000, false), 1000, 60_000);
        byte[] fa = frame(a, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1, LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE);
        byte[] fb = frame(Arrays.copyOf(a, 40_000), LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1,
            LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE);
        assertArrayEquals(b, oneShot(ByteBuffer.wrap(frame(b, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1,
            LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE)))); // leaves a buffer in the thread's cache
        try (InputStream first = CompressionType.LZ4.decompressingStream(ByteBuffer.wrap(fa));
             InputStream second = CompressionType.LZ4.decompressingStream(ByteBuffer.wrap(fb))) {
            byte[] x = new byte[10];
            byte[] y = new byte[10];
            assertEquals(10, first.read(x));
            assertEquals(10, second.read(y)); // decodes its block while the first holds one
            byte[] rest = first.readAllBytes();
            byte[] got = Arrays.copyOf(x, 10 + rest.length);
            System.arraycopy(rest, 0, got, 10, rest.length);
            assertArrayEquals(a, got);
        }
    }

    @Test
    void refusesMalformedFrames() throws IOException {
        byte[] c = content(100_000, false);
        byte[] good = frame(c, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1, LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE,
            LZ4FrameOutputStream.FLG.Bits.BLOCK_CHECKSUM, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM);

        byte[] badMagic = good.clone();
        badMagic[0] ^= 1;
        assertCorrupt(badMagic, "magic");

        byte[] badHeaderChecksum = good.clone();
        badHeaderChecksum[6] ^= 1; // FLG, BD, then HC
        assertCorrupt(badHeaderChecksum, "header checksum");

        byte[] badBlock = good.clone();
        badBlock[20] ^= 1; // inside the first block's data
        assertCorrupt(badBlock, "block checksum");

        byte[] badContent = good.clone();
        badContent[badContent.length - 1] ^= 1;
        assertCorrupt(badContent, "content checksum");

        assertCorrupt(Arrays.copyOf(good, good.length - 6), "runs past the end");

        byte[] dependent = frame(c, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1, LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE);
        dependent[4] &= ~0x20; // clear block independence, then fix the header checksum
        dependent[6] = (byte) (XXHashFactory.fastestInstance().hash32().hash(dependent, 4, 2, 0) >>> 8);
        assertCorrupt(dependent, "dependent blocks");

        byte[] noChecks = frame(c, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1, LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE);
        noChecks[15] ^= 0x55; // compressed block bytes, no checksum to catch it: the decoder must not overrun
        try {
            byte[] out = oneShot(ByteBuffer.wrap(noChecks));
            assertTrue(out.length <= 2 * 64 * 1024);
        } catch (CorruptRecordException expected) {
            // the usual outcome
        }
    }

    @Test
    void theWriterWritesWhatLz4JavasFrameStreamWrites() throws IOException {
        byte[][] contents = {content(0, false), content(100, false), content(64 * 1024, false),
            content(200_000, false), content(150_000, true)};
        for (byte[] c : contents) {
            for (int level : new int[] {CompressionType.LZ4.defaultLevel, 3}) {
                ByteArrayOutputStream expected = new ByteArrayOutputStream();
                LZ4Factory f = LZ4Factory.fastestInstance();
                try (LZ4FrameOutputStream lz4 = new LZ4FrameOutputStream(expected, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB,
                        -1L, level == CompressionType.LZ4.defaultLevel ? f.fastCompressor() : f.highCompressor(level),
                        XXHashFactory.fastestInstance().hash32(), LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE)) {
                    lz4.write(c);
                }
                ByteBuffer direct = ByteBuffer.allocateDirect(c.length + 2).position(2);
                direct.put(c).position(2);
                for (ByteBuffer src : new ByteBuffer[] {ByteBuffer.wrap(c), direct}) {
                    io.weir.common.utils.ByteBufferOutputStream out = new io.weir.common.utils.ByteBufferOutputStream(16);
                    out.write(3); // the writer appends after what the stream holds
                    CompressionType.LZ4.compress(src, out, level);
                    ByteBuffer written = out.buffer().flip();
                    assertEquals(3, written.get());
                    byte[] frame = new byte[written.remaining()];
                    written.get(frame);
                    assertArrayEquals(expected.toByteArray(), frame, c.length + " bytes, level " + level);
                    assertReads(c, frame);
                }
            }
        }
    }

    @Test
    void damagedFramesFailOnlyAsCorruptData() throws IOException {
        byte[] c = content(150_000, false);
        byte[][] frames = {
            frame(c, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1, LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE),
            frame(c, LZ4FrameOutputStream.BLOCKSIZE.SIZE_256KB, c.length, LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE,
                LZ4FrameOutputStream.FLG.Bits.CONTENT_SIZE, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM)};
        Random random = new Random(11);
        for (int i = 0; i < 2000; i++) {
            byte[] damaged = frames[i % 2].clone();
            int flips = 1 + random.nextInt(3);
            for (int f = 0; f < flips; f++) {
                // mostly the header and block sizes, where a flip changes how the rest is read
                int at = random.nextInt(4) == 0 ? random.nextInt(damaged.length) : random.nextInt(Math.min(40, damaged.length));
                damaged[at] ^= (byte) (1 << random.nextInt(8));
            }
            if (random.nextBoolean()) {
                damaged = Arrays.copyOf(damaged, random.nextInt(damaged.length + 1));
            }
            try {
                assertTrue(oneShot(ByteBuffer.wrap(damaged)).length <= 4 * c.length);
            } catch (CorruptRecordException expected) {
                // damage detected: the only way decompress may fail
            }
            try {
                streamed(ByteBuffer.wrap(damaged));
            } catch (IOException | net.jpountz.lz4.LZ4Exception expected) {
                // the stream's contract: malformed input is an IOException or the codec's own exception
            }
        }
    }

    @Test
    void boundsWhatItInflates() throws IOException {
        byte[] frames = frame(content(100_000, false), LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1,
            LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE);
        CorruptRecordException e = assertThrows(CorruptRecordException.class,
            () -> CompressionType.LZ4.decompress(ByteBuffer.wrap(frames), 99_999));
        assertTrue(e.getMessage().contains("more than 99999"), e.getMessage());
        assertEquals(100_000, CompressionType.LZ4.decompress(ByteBuffer.wrap(frames), 100_000).remaining());
    }

    private static void assertCorrupt(byte[] frames, String words) {
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> oneShot(ByteBuffer.wrap(frames)));
        assertTrue(e.getMessage().contains(words), e.getMessage());
        IOException streamed = assertThrows(IOException.class, () -> streamed(ByteBuffer.wrap(frames)));
        assertTrue(streamed.getMessage().contains(words), streamed.getMessage());
    }
}
