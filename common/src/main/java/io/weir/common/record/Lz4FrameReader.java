package io.weir.common.record;

import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.StreamingXXHash32;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads the LZ4 frame format (what an lz4 record batch holds, from Kafka's producer, Weir's or
 * librdkafka) straight from the batch's buffer, one block at a time, with no per-batch buffers
 * beyond what the caller keeps: compressed blocks are decoded from the source buffer in place, and
 * the one block buffer a reader needs is taken from, and given back on {@link #close()} to, a
 * one-slot cache per thread (Kafka's lz4 reader has a buffer supplier for the same reason). lz4-java's
 * {@code LZ4FrameInputStream} instead allocates a 64 KB block buffer and a 64 KB compressed-block
 * buffer per stream, about 128 KB of garbage for every batch a broker validates or a consumer reads.
 *
 * <p>Frame layout (little-endian):
 * <pre>
 * magic 0x184D2204 (4) | FLG (1) | BD (1) | [content size (8)] | [dict id (4)] | HC (1)
 * then blocks: size (4, bit 31 = stored uncompressed, 0 = end mark) | data | [block checksum (4)]
 * then [content checksum (4)]; frames may follow each other, skippable frames
 * (magic 0x184D2A50-0x184D2A5F, size (4), data) are skipped.
 * FLG: version (bits 7-6, 01) | block independence (5) | block checksum (4) | content size (3) |
 *      content checksum (2) | reserved (1) | dict id (0).   BD: block max size (bits 6-4: 4=64 KB .. 7=4 MB).
 * HC = (xxh32(FLG .. before HC, seed 0) &gt;&gt; 8) &amp; 0xFF; checksums are xxh32 with seed 0.
 * </pre>
 * Every checksum a frame declares is verified; dependent blocks and dictionaries are refused, as by
 * lz4-java's and Kafka's readers. Malformed input throws {@link IOException} or lz4-java's
 * {@link LZ4Exception}.
 *
 * <p>Not thread-safe: one reader per stream, used by one thread at a time, closed on the thread that
 * opened it (otherwise its block buffer is simply not reused).
 */
final class Lz4FrameReader extends InputStream {
    private static final int MAGIC = 0x184D2204;
    private static final int SKIPPABLE_MAGIC = 0x184D2A50;
    private static final int SKIPPABLE_MASK = 0xFFFFFFF0;
    private static final int FLG_VERSION_MASK = 0xC0;
    private static final int FLG_VERSION = 0x40;
    private static final int FLG_BLOCK_INDEPENDENCE = 0x20;
    private static final int FLG_BLOCK_CHECKSUM = 0x10;
    private static final int FLG_CONTENT_SIZE = 0x08;
    private static final int FLG_CONTENT_CHECKSUM = 0x04;
    private static final int FLG_RESERVED = 0x02;
    private static final int FLG_DICT_ID = 0x01;
    private static final int BD_RESERVED = 0x8F;
    private static final int UNCOMPRESSED_BIT = 0x80000000;
    /** Block buffers up to this size stay in the per-thread cache (64 KB, the block size Kafka writes). */
    private static final int CACHED_BLOCK_BYTES = 64 * 1024;
    private static final ThreadLocal<byte[]> CACHE = new ThreadLocal<>();

    private static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.fastestInstance().safeDecompressor();
    private static final XXHashFactory XX = XXHashFactory.fastestInstance();
    private static final XXHash32 XXH32 = XX.hash32();

    /** The frames, little-endian; its position is the next byte to parse. */
    private final ByteBuffer src;
    private byte[] block;
    /** The current block's bytes: {@code block}, or the source's array for a block stored uncompressed. */
    private byte[] data;
    private int dataPos;
    private int dataEnd;
    private boolean inFrame;
    private boolean ended;
    private boolean blockChecksum;
    private int maxBlockBytes;
    private long declaredContentSize;
    private long frameContentBytes;
    private StreamingXXHash32 contentHash;

    /** A reader of the frames in {@code src} (position to limit; the buffer itself is not moved). */
    Lz4FrameReader(ByteBuffer src) {
        this.src = src.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Decompresses every frame of {@code src} (position to limit; not moved) into a new heap buffer
     * of exactly the decompressed size (flipped), refusing more than {@code maxBytes}.
     */
    static ByteBuffer decompress(ByteBuffer src, int maxBytes) throws IOException {
        return decompress(src, maxBytes, null);
    }

    /** {@link #decompress(ByteBuffer, int)} into {@code scratch} when the first block fits it. */
    static ByteBuffer decompress(ByteBuffer src, int maxBytes, byte[] scratch) throws IOException {
        try (Lz4FrameReader reader = new Lz4FrameReader(src)) {
            if (!reader.nextBlock()) {
                return scratch != null ? ByteBuffer.wrap(scratch, 0, 0) : ByteBuffer.allocate(0);
            }
            byte[] out = null;
            int size = 0;
            do {
                int n = reader.dataEnd - reader.dataPos;
                if ((long) size + n > maxBytes) {
                    throw new CorruptRecordException("lz4 data decompresses to more than " + maxBytes + " bytes");
                }
                if (out == null) {
                    // most batches are one block: exactly its size, or the caller's scratch when it fits
                    out = scratch != null && scratch.length >= n ? scratch : new byte[n];
                } else if (size + n > out.length) {
                    out = java.util.Arrays.copyOf(out, (int) Math.min(maxBytes, Math.max((long) out.length * 2, (long) size + n)));
                }
                System.arraycopy(reader.data, reader.dataPos, out, size, n);
                size += n;
                reader.dataPos = reader.dataEnd;
            } while (reader.nextBlock());
            return ByteBuffer.wrap(out, 0, size);
        }
    }

    @Override
    public int read() throws IOException {
        if (dataPos == dataEnd && !nextBlock()) {
            return -1;
        }
        return data[dataPos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (dataPos == dataEnd && !nextBlock()) {
            return -1;
        }
        int n = Math.min(len, dataEnd - dataPos);
        System.arraycopy(data, dataPos, b, off, n);
        dataPos += n;
        return n;
    }

    @Override
    public int available() {
        return dataEnd - dataPos;
    }

    @Override
    public void close() {
        if (block != null && block.length <= CACHED_BLOCK_BYTES) {
            CACHE.set(block);
        }
        block = null;
        data = null;
        dataPos = 0;
        dataEnd = 0;
        ended = true;
    }

    /**
     * Moves to the next block holding data (across end marks and following frames); false at the
     * end of the input. Empty blocks are skipped.
     */
    private boolean nextBlock() throws IOException {
        while (!ended) {
            if (!inFrame) {
                if (!src.hasRemaining()) {
                    ended = true;
                    return false;
                }
                readFrameHeader();
                continue;
            }
            int size = readInt("block size");
            if (size == 0) {
                endFrame();
                continue;
            }
            boolean stored = (size & UNCOMPRESSED_BIT) != 0;
            size &= ~UNCOMPRESSED_BIT;
            if (size > maxBlockBytes) {
                throw new IOException("lz4 block of " + size + " bytes exceeds the frame's block size " + maxBlockBytes);
            }
            need(size, "block data");
            int at = src.position();
            if (blockChecksum) {
                need(size + 4, "block checksum");
                int expected = src.getInt(at + size);
                if (hash(at, size) != expected) {
                    throw new IOException("lz4 block checksum mismatch");
                }
            }
            if (stored && src.hasArray()) {
                data = src.array();
                dataPos = src.arrayOffset() + at;
                dataEnd = dataPos + size;
            } else if (stored) {
                ensureBlock();
                src.get(at, block, 0, size);
                data = block;
                dataPos = 0;
                dataEnd = size;
            } else {
                ensureBlock();
                int n = src.hasArray()
                    ? DECOMPRESSOR.decompress(src.array(), src.arrayOffset() + at, size, block, 0, maxBlockBytes)
                    : DECOMPRESSOR.decompress(src, at, size, ByteBuffer.wrap(block), 0, maxBlockBytes);
                data = block;
                dataPos = 0;
                dataEnd = n;
            }
            src.position(at + size + (blockChecksum ? 4 : 0));
            frameContentBytes += dataEnd - dataPos;
            if (contentHash != null) {
                contentHash.update(data, dataPos, dataEnd - dataPos);
            }
            if (dataEnd > dataPos) {
                return true;
            }
        }
        return false;
    }

    private void readFrameHeader() throws IOException {
        int magic = readInt("frame magic");
        if ((magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC) {
            int size = readInt("skippable frame size");
            if (size < 0) {
                throw new IOException("lz4 skippable frame of " + (size & 0xffffffffL) + " bytes");
            }
            need(size, "skippable frame");
            src.position(src.position() + size);
            return;
        }
        if (magic != MAGIC) {
            throw new IOException("not an lz4 frame: magic 0x" + Integer.toHexString(magic));
        }
        int descriptorStart = src.position();
        need(2, "frame descriptor");
        int flg = src.get() & 0xff;
        int bd = src.get() & 0xff;
        if ((flg & FLG_VERSION_MASK) != FLG_VERSION || (flg & FLG_RESERVED) != 0 || (bd & BD_RESERVED) != 0) {
            throw new IOException("unsupported lz4 frame descriptor: FLG 0x" + Integer.toHexString(flg)
                + ", BD 0x" + Integer.toHexString(bd));
        }
        if ((flg & FLG_BLOCK_INDEPENDENCE) == 0) {
            throw new IOException("lz4 frames of dependent blocks are not supported");
        }
        if ((flg & FLG_DICT_ID) != 0) {
            throw new IOException("lz4 frames with a dictionary are not supported");
        }
        int sizeId = (bd >>> 4) & 0x7;
        if (sizeId < 4) {
            throw new IOException("lz4 frame with block size id " + sizeId);
        }
        maxBlockBytes = 1 << (2 * sizeId + 8); // 4: 64 KB, 5: 256 KB, 6: 1 MB, 7: 4 MB
        declaredContentSize = -1;
        if ((flg & FLG_CONTENT_SIZE) != 0) {
            need(8, "content size");
            declaredContentSize = src.getLong();
            if (declaredContentSize < 0) {
                throw new IOException("lz4 frame declares content size " + declaredContentSize);
            }
        }
        int descriptorEnd = src.position();
        need(1, "header checksum");
        int hc = src.get() & 0xff;
        if (((hash(descriptorStart, descriptorEnd - descriptorStart) >>> 8) & 0xff) != hc) {
            throw new IOException("lz4 frame header checksum mismatch");
        }
        blockChecksum = (flg & FLG_BLOCK_CHECKSUM) != 0;
        if ((flg & FLG_CONTENT_CHECKSUM) != 0) {
            if (contentHash == null) {
                contentHash = XX.newStreamingHash32(0);
            } else {
                contentHash.reset();
            }
        } else {
            contentHash = null;
        }
        frameContentBytes = 0;
        inFrame = true;
    }

    private void endFrame() throws IOException {
        if (contentHash != null) {
            int expected = readInt("content checksum");
            if (contentHash.getValue() != expected) {
                throw new IOException("lz4 content checksum mismatch");
            }
        }
        if (declaredContentSize >= 0 && declaredContentSize != frameContentBytes) {
            throw new IOException("lz4 frame declares " + declaredContentSize + " bytes but holds " + frameContentBytes);
        }
        inFrame = false;
    }

    private void ensureBlock() {
        if (block != null && block.length >= maxBlockBytes) {
            return;
        }
        byte[] cached = CACHE.get();
        if (cached != null && cached.length >= maxBlockBytes) {
            CACHE.set(null); // taken: a second reader open on this thread gets its own
            block = cached;
        } else {
            block = new byte[maxBlockBytes];
        }
    }

    private int hash(int at, int length) {
        return src.hasArray()
            ? XXH32.hash(src.array(), src.arrayOffset() + at, length, 0)
            : XXH32.hash(src, at, length, 0);
    }

    private int readInt(String what) throws IOException {
        need(4, what);
        return src.getInt();
    }

    private void need(int bytes, String what) throws IOException {
        if (src.remaining() < bytes) {
            throw new IOException("lz4 " + what + " runs past the end of the data (" + src.remaining() + " bytes left, "
                + bytes + " needed)");
        }
    }
}
