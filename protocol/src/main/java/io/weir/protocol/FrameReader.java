package io.weir.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.function.IntFunction;

/**
 * Reads size-prefixed frames ({@code size int32 | payload}) from a non-blocking channel, one at a
 * time. The size is validated as soon as its 4 bytes arrive: a negative size or one above
 * {@code maxFrameBytes} throws before any payload buffer is allocated, so a hostile peer cannot make
 * the reader allocate more than the configured bound.
 *
 * <p>Not thread-safe: one reader per connection, used by the thread that owns the connection.
 */
public final class FrameReader {
    private final int maxFrameBytes;
    private final IntFunction<ByteBuffer> allocator;
    private final ByteBuffer sizeBuf = ByteBuffer.allocate(4);
    private ByteBuffer payload;

    public FrameReader(int maxFrameBytes) {
        this(maxFrameBytes, ByteBuffer::allocate);
    }

    /**
     * @param allocator gives the buffer for a payload of the size asked (position 0, limit that size), called
     *                  once the size is checked
     */
    public FrameReader(int maxFrameBytes, IntFunction<ByteBuffer> allocator) {
        if (maxFrameBytes <= 0) {
            throw new IllegalArgumentException("maxFrameBytes must be positive, was " + maxFrameBytes);
        }
        this.maxFrameBytes = maxFrameBytes;
        this.allocator = allocator;
    }

    /** Checks a frame size read from the wire against the bound. */
    public static int checkFrameSize(int size, int maxFrameBytes) {
        if (size < 0) {
            throw new ProtocolDecodeException("frame size", 0, "negative frame size " + size);
        }
        if (size > maxFrameBytes) {
            throw new ProtocolDecodeException("frame size", 0, "frame of " + size + " bytes exceeds the maximum of "
                + maxFrameBytes);
        }
        return size;
    }

    /**
     * Reads what the channel has. Returns a complete payload (position 0, limit = size) once all of it
     * has arrived, else null (call again when the channel is readable).
     *
     * @throws EOFException if the peer closed the connection
     * @throws ProtocolDecodeException if the size is negative or too large
     */
    public ByteBuffer read(ReadableByteChannel channel) throws IOException {
        if (payload == null) {
            if (channel.read(sizeBuf) < 0) {
                throw new EOFException("connection closed");
            }
            if (sizeBuf.hasRemaining()) {
                return null;
            }
            int size = checkFrameSize(sizeBuf.getInt(0), maxFrameBytes);
            payload = allocator.apply(size);
        }
        if (payload.hasRemaining() && channel.read(payload) < 0) {
            throw new EOFException("connection closed mid-frame");
        }
        if (payload.hasRemaining()) {
            return null;
        }
        ByteBuffer done = payload.flip();
        payload = null;
        sizeBuf.clear();
        return done;
    }
}
