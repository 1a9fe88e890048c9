package io.weir.protocol.internals;

import io.weir.protocol.Records;
import io.weir.protocol.ProtocolDecodeException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Bounds-checked reader of Kafka wire primitives over a region of a {@link ByteBuffer}.
 *
 * <p>Reads are absolute (the source buffer's position is never moved); the reader keeps its own
 * cursor. Every length read from the wire is checked against the bytes that remain before anything
 * is allocated, so a hostile length costs at most the size of the input. Failures are
 * {@link ProtocolDecodeException}s naming the field and the offset.
 *
 * <p>Byte and record fields are returned as slices of the source buffer: records are never copied.
 * Not thread-safe; one reader per frame.
 */
public final class ProtocolReader {
    /** Most elements one array may declare (Kafka 4.4 rejects larger arrays the same way). */
    public static final int MAX_ARRAY_ELEMENTS = 1_000_000;
    /** Most tagged fields one structure may declare (Kafka's limit). */
    public static final int MAX_TAGGED_FIELDS = 10_000;

    private final ByteBuffer buf;
    private final int start;
    private final int limit;
    private int pos;

    /** Reads {@code source} from its position to its limit. */
    public ProtocolReader(ByteBuffer source) {
        this.buf = source.order() == ByteOrder.BIG_ENDIAN ? source : source.duplicate().order(ByteOrder.BIG_ENDIAN);
        this.start = source.position();
        this.pos = source.position();
        this.limit = source.limit();
    }

    /** Absolute position of the cursor in the source buffer. */
    public int position() {
        return pos;
    }

    /** Bytes left before the limit. */
    public int remaining() {
        return limit - pos;
    }

    private ProtocolDecodeException error(String field, int at, String problem) {
        return new ProtocolDecodeException(field, at - start, problem);
    }

    private int claim(String field, int n) {
        return claim(field, n, pos);
    }

    /** Takes {@code n} bytes at the cursor; errors report {@code fieldStart}, where the field began. */
    private int claim(String field, int n, int fieldStart) {
        if (n < 0 || n > limit - pos) {
            throw error(field, fieldStart, "needs " + n + " bytes but only " + (limit - pos) + " remain");
        }
        int at = pos;
        pos += n;
        return at;
    }

    public byte readInt8(String field) {
        return buf.get(claim(field, 1));
    }

    public boolean readBool(String field) {
        return buf.get(claim(field, 1)) != 0;
    }

    public short readInt16(String field) {
        return buf.getShort(claim(field, 2));
    }

    public int readUint16(String field) {
        return Short.toUnsignedInt(buf.getShort(claim(field, 2)));
    }

    public int readInt32(String field) {
        return buf.getInt(claim(field, 4));
    }

    public long readUint32(String field) {
        return Integer.toUnsignedLong(buf.getInt(claim(field, 4)));
    }

    public long readInt64(String field) {
        return buf.getLong(claim(field, 8));
    }

    public double readFloat64(String field) {
        return buf.getDouble(claim(field, 8));
    }

    public UUID readUuid(String field) {
        int at = claim(field, 16);
        return new UUID(buf.getLong(at), buf.getLong(at + 8));
    }

    /** An unsigned LEB128 varint of at most 5 bytes. */
    public int readUnsignedVarint(String field) {
        int at = pos;
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (pos >= limit) {
                throw error(field, at, "varint truncated");
            }
            byte b = buf.get(pos++);
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw error(field, at, "varint longer than 5 bytes");
    }

    /** An unsigned LEB128 varlong of at most 10 bytes. */
    public long readUnsignedVarlong(String field) {
        int at = pos;
        long value = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= limit) {
                throw error(field, at, "varlong truncated");
            }
            byte b = buf.get(pos++);
            value |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw error(field, at, "varlong longer than 10 bytes");
    }

    /** A zigzag-encoded signed varint. */
    public int readVarint(String field) {
        int raw = readUnsignedVarint(field);
        return (raw >>> 1) ^ -(raw & 1);
    }

    /** A zigzag-encoded signed varlong. */
    public long readVarlong(String field) {
        long raw = readUnsignedVarlong(field);
        return (raw >>> 1) ^ -(raw & 1);
    }

    /**
     * Reads a length prefix: int16 (classic string), int32 (classic bytes/array) or unsigned varint
     * minus one (compact). Returns -1 for null, after checking the version allows it.
     */
    private int readLength(String field, boolean compact, boolean shortLength, boolean nullable) {
        int at = pos;
        int n;
        if (compact) {
            // the varint is unsigned: widen before subtracting, or 2^31 would wrap to Integer.MAX_VALUE
            long lengthPlusOne = Integer.toUnsignedLong(readUnsignedVarint(field));
            if (lengthPlusOne - 1 > Integer.MAX_VALUE) {
                throw error(field, at, "length " + (lengthPlusOne - 1) + " is too large");
            }
            n = (int) (lengthPlusOne - 1);
        } else {
            n = shortLength ? readInt16(field) : readInt32(field);
        }
        if (n < 0) {
            if (n == -1 && nullable) {
                return -1;
            }
            throw error(field, at, n == -1 ? "null is not allowed in this version" : "negative length " + n);
        }
        return n;
    }

    /** A classic (int16 length) or compact (varint length+1) UTF-8 string; null only if {@code nullable}. */
    public String readString(String field, boolean compact, boolean nullable) {
        int fieldStart = pos;
        int n = readLength(field, compact, true, nullable);
        if (n < 0) {
            return null;
        }
        int at = claim(field, n, fieldStart);
        if (buf.hasArray()) {
            return new String(buf.array(), buf.arrayOffset() + at, n, StandardCharsets.UTF_8);
        }
        byte[] bytes = new byte[n];
        buf.get(at, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** A classic (int32 length) or compact byte string, copied into a new array. */
    public byte[] readBytes(String field, boolean compact, boolean nullable) {
        int fieldStart = pos;
        int n = readLength(field, compact, false, nullable);
        if (n < 0) {
            return null;
        }
        int at = claim(field, n, fieldStart); // before allocating: the length is the peer's claim
        byte[] bytes = new byte[n];
        buf.get(at, bytes);
        return bytes;
    }

    /**
     * A records field: a slice of the source buffer sharing its array, never copied or parsed here (the broker
     * assigns offsets in place in a produce request; the consumer hands a fetch frame's array back to its pool).
     */
    public Records readRecords(String field, boolean compact, boolean nullable) {
        int fieldStart = pos;
        int n = readLength(field, compact, false, nullable);
        if (n < 0) {
            return null;
        }
        int at = claim(field, n, fieldStart);
        return Records.wrap(buf.slice(at, n));
    }

    /**
     * An array element count; -1 for a null array. Rejects counts above {@link #MAX_ARRAY_ELEMENTS}
     * and counts that could not fit in the remaining input at {@code minElementBytes} per element
     * (every element takes at least one byte), so the caller may allocate a list of that size safely.
     */
    public int readArrayLength(String field, boolean compact, boolean nullable, int minElementBytes) {
        int at = pos;
        int n = readLength(field, compact, false, nullable);
        if (n > MAX_ARRAY_ELEMENTS) {
            throw error(field, at, "array of " + n + " elements exceeds the limit of " + MAX_ARRAY_ELEMENTS);
        }
        if ((long) n * Math.max(1, minElementBytes) > limit - pos) {
            throw error(field, at, "array of " + n + " elements cannot fit in " + (limit - pos) + " remaining bytes");
        }
        return n;
    }

    /**
     * The number of tagged fields that follow. Rejects more than {@link #MAX_TAGGED_FIELDS}, and
     * more than the remaining input could hold (each takes at least a tag byte and a size byte).
     */
    public int readTaggedFieldCount(String field) {
        int at = pos;
        int n = readUnsignedVarint(field);
        if (n < 0 || n > MAX_TAGGED_FIELDS) {
            throw error(field, at, Integer.toUnsignedString(n) + " tagged fields exceed the limit of " + MAX_TAGGED_FIELDS);
        }
        if (2L * n > limit - pos) {
            throw error(field, at, n + " tagged fields cannot fit in " + (limit - pos) + " remaining bytes");
        }
        return n;
    }

    /** Reads a tagged field's size and returns the absolute position where its value ends. */
    public int readTaggedFieldEnd(String field) {
        int at = pos;
        int size = readUnsignedVarint(field);
        if (size < 0 || size > limit - pos) {
            throw error(field, at, "tagged field of " + Integer.toUnsignedString(size) + " bytes exceeds the "
                + (limit - pos) + " remaining");
        }
        return pos + size;
    }

    /** Skips to {@code end}; used for unknown tagged fields. */
    public void skipTo(String field, int end) {
        if (end < pos || end > limit) {
            throw error(field, pos, "cannot skip to " + (end - start));
        }
        pos = end;
    }

    /** Checks that a known tagged field's value consumed exactly the bytes its size announced. */
    public void expectPosition(String field, int end) {
        if (pos != end) {
            throw error(field, pos, "tagged field value ended at " + (pos - start) + ", its size said " + (end - start));
        }
    }
}
