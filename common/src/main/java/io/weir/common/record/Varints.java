package io.weir.common.record;

import java.nio.ByteBuffer;

/**
 * Zig-zag varint and varlong encoding as used inside Kafka record batches (the same scheme as
 * protobuf's sint32/sint64). Reads are strict: a varint longer than 5 bytes (10 for a varlong) or
 * one that runs past the buffer is a {@link CorruptRecordException}.
 *
 * <p>Stateless and thread-safe.
 */
public final class Varints {
    private Varints() {
    }

    /** Reads a zig-zag varint at the buffer's position, advancing it. */
    public static int readVarint(ByteBuffer buf) {
        int raw = 0;
        int shift = 0;
        for (int i = 0; i < 5; i++) {
            if (!buf.hasRemaining()) {
                throw new CorruptRecordException("varint runs past the end of the buffer at byte " + buf.position());
            }
            int b = buf.get() & 0xff;
            if (i == 4 && (b & 0xf0) != 0) {
                throw new CorruptRecordException("varint overflows 32 bits at byte " + (buf.position() - 1));
            }
            raw |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
            shift += 7;
        }
        throw new CorruptRecordException("varint longer than 5 bytes at byte " + (buf.position() - 5));
    }

    /** Reads a zig-zag varlong at the buffer's position, advancing it. */
    public static long readVarlong(ByteBuffer buf) {
        long raw = 0;
        int shift = 0;
        for (int i = 0; i < 10; i++) {
            if (!buf.hasRemaining()) {
                throw new CorruptRecordException("varlong runs past the end of the buffer at byte " + buf.position());
            }
            long b = buf.get() & 0xff;
            if (i == 9 && (b & 0xfe) != 0) {
                throw new CorruptRecordException("varlong overflows 64 bits at byte " + (buf.position() - 1));
            }
            raw |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
            shift += 7;
        }
        throw new CorruptRecordException("varlong longer than 10 bytes at byte " + (buf.position() - 10));
    }

    /** Writes a zig-zag varint at the buffer's position, advancing it. */
    public static void writeVarint(int value, ByteBuffer buf) {
        int v = (value << 1) ^ (value >> 31);
        while ((v & ~0x7f) != 0) {
            buf.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        buf.put((byte) v);
    }

    /** Writes a zig-zag varlong at the buffer's position, advancing it. */
    public static void writeVarlong(long value, ByteBuffer buf) {
        long v = (value << 1) ^ (value >> 63);
        while ((v & ~0x7fL) != 0) {
            buf.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        buf.put((byte) v);
    }

    /** Bytes a zig-zag varint of this value takes. */
    public static int sizeOfVarint(int value) {
        int v = (value << 1) ^ (value >> 31);
        int bytes = 1;
        while ((v & ~0x7f) != 0) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }

    /** Bytes a zig-zag varlong of this value takes. */
    public static int sizeOfVarlong(long value) {
        long v = (value << 1) ^ (value >> 63);
        int bytes = 1;
        while ((v & ~0x7fL) != 0) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }
}
