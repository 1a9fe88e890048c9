package io.weir.common.utils;

import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * An OutputStream over a heap ByteBuffer that grows (doubling) when full. Used to collect record
 * bytes and compressed output. Not thread-safe: one owner writes it.
 */
public final class ByteBufferOutputStream extends OutputStream {
    private ByteBuffer buffer;

    public ByteBufferOutputStream(int initialCapacity) {
        this.buffer = ByteBuffer.allocate(Math.max(64, initialCapacity));
    }

    /** Wraps an existing buffer; writing starts at its position. */
    public ByteBufferOutputStream(ByteBuffer initial) {
        this.buffer = initial;
    }

    @Override
    public void write(int b) {
        ensureRemaining(1);
        buffer.put((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        ensureRemaining(len);
        buffer.put(b, off, len);
    }

    public void write(ByteBuffer src) {
        ensureRemaining(src.remaining());
        buffer.put(src);
    }

    /** Makes room for at least {@code bytes} more bytes, growing the buffer if needed. */
    public void ensureRemaining(int bytes) {
        if (buffer.remaining() >= bytes) {
            return;
        }
        long needed = (long) buffer.position() + bytes;
        if (needed > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("buffer would exceed 2 GB");
        }
        int capacity = (int) Math.min(Integer.MAX_VALUE - 8L, Math.max(needed, (long) buffer.capacity() * 2));
        ByteBuffer grown = ByteBuffer.allocate(capacity);
        buffer.flip();
        grown.put(buffer);
        buffer = grown;
    }

    /** Writes a big-endian 16-bit integer. */
    public void writeShort(short v) {
        ensureRemaining(2);
        buffer.putShort(v);
    }

    /** Writes a big-endian 32-bit integer. */
    public void writeInt(int v) {
        ensureRemaining(4);
        buffer.putInt(v);
    }

    /** Writes a big-endian 64-bit integer. */
    public void writeLong(long v) {
        ensureRemaining(8);
        buffer.putLong(v);
    }

    /** The bytes written so far, ready to read (flips the underlying buffer: stop writing after this). */
    public ByteBuffer toReadableBuffer() {
        return buffer.flip();
    }

    /** The underlying buffer; its position is the number of bytes written (when started at 0). */
    public ByteBuffer buffer() {
        return buffer;
    }

    public int position() {
        return buffer.position();
    }
}
