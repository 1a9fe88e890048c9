package io.weir.protocol.internals;

import io.weir.protocol.Splice;

import io.weir.protocol.Records;

import java.util.ArrayList;
import java.util.List;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Writer of Kafka wire primitives into a {@link ByteBuffer} (relative puts, big-endian). The caller
 * sizes the buffer first with the message's {@code size(version)}; an undersized buffer is a
 * programming error and surfaces as {@link java.nio.BufferOverflowException}. Not thread-safe.
 */
public final class ProtocolWriter {
    private List<Splice> splices;
    private final ByteBuffer buf;

    public ProtocolWriter(ByteBuffer buf) {
        if (buf.order() != ByteOrder.BIG_ENDIAN) {
            throw new IllegalArgumentException("protocol buffers are big-endian");
        }
        this.buf = buf;
    }

    public ByteBuffer buffer() {
        return buf;
    }

    public void writeInt8(byte v) {
        buf.put(v);
    }

    public void writeBool(boolean v) {
        buf.put(v ? (byte) 1 : (byte) 0);
    }

    public void writeInt16(short v) {
        buf.putShort(v);
    }

    public void writeUint16(int v) {
        if (v < 0 || v > 0xffff) {
            throw new IllegalArgumentException("uint16 out of range: " + v);
        }
        buf.putShort((short) v);
    }

    public void writeInt32(int v) {
        buf.putInt(v);
    }

    public void writeUint32(long v) {
        if (v < 0 || v > 0xffffffffL) {
            throw new IllegalArgumentException("uint32 out of range: " + v);
        }
        buf.putInt((int) v);
    }

    public void writeInt64(long v) {
        buf.putLong(v);
    }

    public void writeFloat64(double v) {
        buf.putDouble(v);
    }

    public void writeUuid(UUID v) {
        buf.putLong(v.getMostSignificantBits());
        buf.putLong(v.getLeastSignificantBits());
    }

    public void writeUnsignedVarint(int v) {
        while ((v & ~0x7f) != 0) {
            buf.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        buf.put((byte) v);
    }

    public void writeUnsignedVarlong(long v) {
        while ((v & ~0x7fL) != 0) {
            buf.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        buf.put((byte) v);
    }

    public void writeVarint(int v) {
        writeUnsignedVarint((v << 1) ^ (v >> 31));
    }

    public void writeVarlong(long v) {
        writeUnsignedVarlong((v << 1) ^ (v >> 63));
    }

    private void writeLength(int n, boolean compact, boolean shortLength) {
        if (compact) {
            writeUnsignedVarint(n + 1);
        } else if (shortLength) {
            buf.putShort((short) n);
        } else {
            buf.putInt(n);
        }
    }

    /** A string (null allowed: the generated caller has checked the version permits it). */
    public void writeString(String s, boolean compact) {
        if (s == null) {
            writeLength(-1, compact, true);
            return;
        }
        int n = Utf8.encodedLength(s);
        if (!compact && n > Short.MAX_VALUE) {
            throw new IllegalArgumentException("string of " + n + " bytes is too long for an int16 length");
        }
        writeLength(n, compact, true);
        if (n == s.length()) {
            for (int i = 0; i < n; i++) {
                buf.put((byte) s.charAt(i));
            }
        } else {
            buf.put(s.getBytes(StandardCharsets.UTF_8));
        }
    }

    public void writeBytes(byte[] b, boolean compact) {
        if (b == null) {
            writeLength(-1, compact, false);
            return;
        }
        writeLength(b.length, compact, false);
        buf.put(b);
    }

    /**
     * Writes a records field. In-memory records are copied into the buffer; {@link Records.Sendable}
     * records get only their length written here and are remembered as a splice at the current
     * position, to be sent from their file after the bytes before it (see {@link #splices()}).
     */
    public void writeRecords(Records records, boolean compact) {
        if (records == null) {
            writeLength(-1, compact, false);
            return;
        }
        writeLength(records.sizeInBytes(), compact, false);
        if (records instanceof Records.Sendable sendable) {
            if (splices == null) {
                splices = new ArrayList<>(4);
            }
            splices.add(new Splice(buf.position(), sendable));
        } else {
            buf.put(records.buffer());
        }
    }


    /** The splices written so far, in buffer order (empty when every records value was in memory). */
    public List<Splice> splices() {
        return splices == null ? List.of() : splices;
    }

    /** An array count, or -1 for a null array. */
    public void writeArrayLength(int n, boolean compact) {
        writeLength(n, compact, false);
    }
}
