package io.weir.common.record;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import io.weir.common.utils.ByteBufferOutputStream;
import org.xerial.snappy.SnappyError;
import org.xerial.snappy.SnappyInputStream;
import org.xerial.snappy.SnappyOutputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The five record-batch compression types, by the ids Kafka stores in attribute bits 0-2, with the
 * framings Kafka uses so that either side can read the other's batches:
 * <ul>
 *   <li>gzip: the JDK's gzip stream;</li>
 *   <li>snappy: snappy-java's xerial stream framing ({@code SnappyOutputStream});</li>
 *   <li>lz4: the standard LZ4 frame format, 64 KB independent blocks, no checksums (written by
 *       {@link Lz4FrameWriter}, read by {@link Lz4FrameReader}: no buffer per batch);</li>
 *   <li>zstd: a zstd frame (zstd-jni).</li>
 * </ul>
 * Levels follow Kafka's {@code compression.<codec>.level} keys and ranges.
 *
 * <p>Thread-safe: stateless apart from lazily created, thread-safe codec factories.
 */
public enum CompressionType {
    NONE(0, "none", 0, 0, 0),
    GZIP(1, "gzip", 1, 9, -1),
    SNAPPY(2, "snappy", 0, 0, 0),
    LZ4(3, "lz4", 1, 17, 9),
    ZSTD(4, "zstd", -131072, 22, 3);

    public final int id;
    public final String displayName;
    public final int minLevel;
    public final int maxLevel;
    public final int defaultLevel;

    private static final CompressionType[] BY_ID = {NONE, GZIP, SNAPPY, LZ4, ZSTD};

    CompressionType(int id, String displayName, int minLevel, int maxLevel, int defaultLevel) {
        this.id = id;
        this.displayName = displayName;
        this.minLevel = minLevel;
        this.maxLevel = maxLevel;
        this.defaultLevel = defaultLevel;
    }

    /** The type stored under this id; a {@link CorruptRecordException} for ids 5-7. */
    public static CompressionType forId(int id) {
        if (id < 0 || id >= BY_ID.length) {
            throw new CorruptRecordException("unknown compression type id " + id);
        }
        return BY_ID[id];
    }

    /** The type by its config name (none, gzip, snappy, lz4, zstd), case-insensitive. */
    public static CompressionType forName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (CompressionType t : values()) {
            if (t.displayName.equals(n)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown compression type '" + name + "'; allowed: none, gzip, snappy, lz4, zstd");
    }

    /** Checks a level for this codec, naming the allowed range when it is out of it. */
    public int validateLevel(int level) {
        if (this == NONE || this == SNAPPY) {
            return level;
        }
        if (level == defaultLevel) {
            return level;
        }
        if (level < minLevel || level > maxLevel) {
            throw new IllegalArgumentException("compression." + displayName + ".level " + level
                + " is out of range [" + minLevel + ", " + maxLevel + "]");
        }
        return level;
    }

    /**
     * Compresses {@code src} (position to limit; the buffer itself is not moved) onto {@code out}.
     */
    public void compress(ByteBuffer src, ByteBufferOutputStream out, int level) {
        if (this == NONE) {
            out.write(src.duplicate());
            return;
        }
        if (this == ZSTD) {
            // One-shot compression into a frame: faster than the stream and readable by any zstd reader.
            ByteBuffer in = src.duplicate();
            int bound = (int) Zstd.compressBound(in.remaining());
            out.ensureRemaining(bound);
            ByteBuffer dst = out.buffer();
            byte[] input = new byte[in.remaining()];
            in.get(input);
            long n = Zstd.compressByteArray(dst.array(), dst.arrayOffset() + dst.position(), bound,
                input, 0, input.length, level);
            if (Zstd.isError(n)) {
                throw new IllegalStateException("zstd compression failed: " + Zstd.getErrorName(n));
            }
            dst.position(dst.position() + (int) n);
            return;
        }
        if (this == LZ4) {
            Lz4FrameWriter.compress(src, out, level, level == defaultLevel);
            return;
        }
        try (OutputStream os = wrapForOutput(out, level)) {
            ByteBuffer in = src.duplicate();
            if (in.hasArray()) {
                os.write(in.array(), in.arrayOffset() + in.position(), in.remaining());
            } else {
                byte[] chunk = new byte[Math.min(in.remaining(), 64 * 1024)];
                while (in.hasRemaining()) {
                    int n = Math.min(chunk.length, in.remaining());
                    in.get(chunk, 0, n);
                    os.write(chunk, 0, n);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(displayName + " compression failed", e);
        }
    }

    /**
     * Decompresses {@code src} (position to limit) into a new heap buffer, refusing to produce more
     * than {@code maxBytes} (a defence against decompression bombs).
     */
    public ByteBuffer decompress(ByteBuffer src, int maxBytes) {
        return decompress(src, maxBytes, null);
    }

    /**
     * {@link #decompress(ByteBuffer, int)} into {@code scratch} when it is big enough (else into a
     * new array): the result (position 0, limit the decompressed size) is backed by {@code scratch}
     * or by the new array, which a reader that copies everything out of the batch may keep as its
     * next scratch. A reader walking batch after batch then allocates nothing per batch for the
     * decompressed bytes.
     */
    public ByteBuffer decompress(ByteBuffer src, int maxBytes, byte[] scratch) {
        if (this == NONE) {
            return src.duplicate();
        }
        if (this == LZ4) {
            try {
                return Lz4FrameReader.decompress(src, maxBytes, scratch);
            } catch (IOException | RuntimeException e) {
                if (e instanceof CorruptRecordException c) {
                    throw c;
                }
                throw new CorruptRecordException("cannot decompress " + displayName + " data: " + e, e);
            }
        }
        byte[] out = scratch != null ? scratch : new byte[Math.min(maxBytes, Math.max(1024, src.remaining() * 4))];
        int size = 0;
        try (InputStream in = wrapForInput(src)) {
            while (true) {
                if (size == out.length) {
                    if (size >= maxBytes) {
                        if (in.read() < 0) {
                            break;
                        }
                        throw new CorruptRecordException(displayName + " data decompresses to more than " + maxBytes + " bytes");
                    }
                    out = java.util.Arrays.copyOf(out, (int) Math.min(maxBytes, Math.max(1024L, (long) out.length * 2)));
                }
                int n = in.read(out, size, out.length - size);
                if (n < 0) {
                    break;
                }
                size += n;
            }
        } catch (IOException | RuntimeException | SnappyError e) {
            // snappy-java reports malformed input with SnappyError, an Error: corrupt data must not
            // surface as one (it would escape the handlers and kill the fetch or recovery thread)
            if (e instanceof CorruptRecordException c) {
                throw c;
            }
            throw new CorruptRecordException("cannot decompress " + displayName + " data: " + e, e);
        }
        return ByteBuffer.wrap(out, 0, size);
    }

    /**
     * A stream of the decompressed bytes of {@code src} (position to limit; not moved), for readers
     * that walk records without holding the whole decompressed batch. The caller closes it. Malformed
     * input surfaces as an {@link IOException}, a {@link RuntimeException} or snappy-java's
     * {@code SnappyError}, from this call or from reads.
     */
    public InputStream decompressingStream(ByteBuffer src) throws IOException {
        if (this == NONE) {
            throw new IllegalStateException("uncompressed bytes need no stream");
        }
        return wrapForInput(src);
    }

    private OutputStream wrapForOutput(ByteBufferOutputStream out, int level) throws IOException {
        switch (this) {
            case GZIP:
                return new LevelGzipOutputStream(out, level);
            case SNAPPY:
                return new SnappyOutputStream(out);
            case ZSTD:
                ZstdOutputStreamNoFinalizer z = new ZstdOutputStreamNoFinalizer(out);
                z.setLevel(level);
                return z;
            default:
                throw new IllegalStateException("no stream for " + this);
        }
    }

    private InputStream wrapForInput(ByteBuffer src) throws IOException {
        if (this == LZ4) {
            return new Lz4FrameReader(src);
        }
        InputStream raw = new ByteBufferInputStream(src.duplicate());
        switch (this) {
            case GZIP:
                return new GZIPInputStream(raw, 8 * 1024);
            case SNAPPY:
                return new SnappyInputStream(raw);
            case ZSTD:
                return new ZstdInputStreamNoFinalizer(raw);
            default:
                throw new IllegalStateException("no stream for " + this);
        }
    }

    @Override
    public String toString() {
        return displayName;
    }

    private static final class LevelGzipOutputStream extends GZIPOutputStream {
        LevelGzipOutputStream(OutputStream out, int level) throws IOException {
            super(out, 8 * 1024);
            def.setLevel(level);
        }
    }

    private static final class ByteBufferInputStream extends InputStream {
        private final ByteBuffer buf;

        ByteBufferInputStream(ByteBuffer buf) {
            this.buf = buf;
        }

        @Override
        public int read() {
            return buf.hasRemaining() ? buf.get() & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (!buf.hasRemaining()) {
                return -1;
            }
            int n = Math.min(len, buf.remaining());
            buf.get(b, off, n);
            return n;
        }

        @Override
        public int available() {
            return buf.remaining();
        }
    }
}
