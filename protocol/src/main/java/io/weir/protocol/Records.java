package io.weir.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * The value of a {@code records} field: record batches the protocol layer carries without parsing.
 * Either bytes in memory ({@link #wrap}) — what requests and client-side responses hold, a slice of
 * the frame — or a region the broker sends straight from a segment file ({@link Sendable}), which a
 * response serializer leaves out of its buffer and splices in at send time (zero copy).
 *
 * <p>Implementations are immutable.
 */
public abstract class Records {
    Records() {
    }

    /** Size of the batches in bytes. */
    public abstract int sizeInBytes();

    /**
     * The bytes as a buffer (position 0) sharing the underlying memory: the broker assigns offsets in
     * place in a produce request's frame, which belongs to that request alone. An
     * {@link UnsupportedOperationException} for records that are only sendable.
     */
    public abstract ByteBuffer buffer();

    private static final Records EMPTY = new InMemory(ByteBuffer.allocate(0));

    /** No batches (shared: it holds no bytes that anyone could change). */
    public static Records empty() {
        return EMPTY;
    }

    /** Records held in memory, from the buffer's position to its limit (not copied). */
    public static Records wrap(ByteBuffer buffer) {
        return new InMemory(buffer.slice());
    }

    /** Records that are written to a channel by their owner (a segment file region). */
    public abstract static class Sendable extends Records {
        protected Sendable() {
        }

        /**
         * Writes up to {@code length} bytes starting {@code offset} bytes into these records; returns
         * the bytes written (a non-blocking channel may take fewer).
         */
        public abstract long writeTo(WritableByteChannel channel, long offset, long length) throws IOException;

        @Override
        public ByteBuffer buffer() {
            throw new UnsupportedOperationException("file-backed records are sent, not read in memory");
        }
    }

    static final class InMemory extends Records {
        private final ByteBuffer buffer;

        InMemory(ByteBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public int sizeInBytes() {
            return buffer.remaining();
        }

        @Override
        public ByteBuffer buffer() {
            return buffer.duplicate();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof InMemory other && buffer.equals(other.buffer);
        }

        @Override
        public int hashCode() {
            return buffer.hashCode();
        }

        @Override
        public String toString() {
            return "Records(" + buffer.remaining() + " bytes)";
        }
    }
}
