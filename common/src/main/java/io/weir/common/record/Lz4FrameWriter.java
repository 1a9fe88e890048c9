package io.weir.common.record;

import io.weir.common.utils.ByteBufferOutputStream;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.xxhash.XXHashFactory;

import java.nio.ByteBuffer;

/**
 * Writes a batch's records as one LZ4 frame in a single call: 64 KB independent blocks, no checksums,
 * no content size (the frame Kafka's producer writes, and byte for byte what lz4-java's
 * {@code LZ4FrameOutputStream} writes with those options). Each block is compressed into a scratch
 * buffer kept per thread and copied out only as long as it came out; a block that does not shrink is
 * stored as it is. lz4-java's stream allocated a 64 KB block buffer and a compressed-block buffer per
 * batch. The layout is drawn in {@link Lz4FrameReader}.
 *
 * <p>Thread-safe: state is per thread.
 */
final class Lz4FrameWriter {
    private static final int MAGIC = 0x184D2204;
    /** Version 01, independent blocks; no block or content checksum, no content size, no dictionary. */
    private static final int FLG = 0x60;
    /** Block max size id 4: 64 KB. */
    private static final int BD = 0x40;
    private static final int BLOCK_BYTES = 64 * 1024;
    private static final int UNCOMPRESSED_BIT = 0x80000000;
    private static final byte HC = (byte) (XXHashFactory.fastestInstance().hash32().hash(new byte[] {FLG, BD}, 0, 2, 0) >>> 8);
    private static final LZ4Factory FACTORY = LZ4Factory.fastestInstance();
    private static final ThreadLocal<byte[]> SCRATCH =
        ThreadLocal.withInitial(() -> new byte[FACTORY.fastCompressor().maxCompressedLength(BLOCK_BYTES)]);

    private Lz4FrameWriter() {
    }

    /**
     * Appends the frame of {@code src} (position to limit; not moved) to {@code out}, compressed with
     * lz4's fast compressor at the default level, else its high compressor at {@code level}.
     */
    static void compress(ByteBuffer src, ByteBufferOutputStream out, int level, boolean defaultLevel) {
        LZ4Compressor compressor = defaultLevel ? FACTORY.fastCompressor() : FACTORY.highCompressor(level);
        byte[] scratch = SCRATCH.get();
        out.ensureRemaining(7);
        ByteBuffer header = out.buffer();
        header.putInt(Integer.reverseBytes(MAGIC)).put((byte) FLG).put((byte) BD).put(HC);
        ByteBuffer in = src.duplicate();
        while (in.hasRemaining()) {
            int n = Math.min(BLOCK_BYTES, in.remaining());
            int compressed = in.hasArray()
                ? compressor.compress(in.array(), in.arrayOffset() + in.position(), n, scratch, 0, scratch.length)
                : compressor.compress(in, in.position(), n, ByteBuffer.wrap(scratch), 0, scratch.length);
            out.ensureRemaining(4 + Math.min(n, compressed));
            ByteBuffer dst = out.buffer();
            if (compressed >= n) {
                dst.putInt(Integer.reverseBytes(n | UNCOMPRESSED_BIT));
                dst.put(dst.position(), in, in.position(), n);
            } else {
                dst.putInt(Integer.reverseBytes(compressed));
                dst.put(dst.position(), scratch, 0, compressed);
            }
            dst.position(dst.position() + Math.min(n, compressed));
            in.position(in.position() + n);
        }
        out.writeInt(0); // end mark
    }
}
