package io.weir.common.record;

import java.nio.ByteBuffer;

/**
 * One record read from a batch. Key and value are read-only slices of the batch's (possibly
 * decompressed) buffer: nothing is copied until the caller asks for arrays.
 *
 * <pre>
 * length: varint | attributes: int8 | timestampDelta: varlong | offsetDelta: varint
 * keyLength: varint | key | valueLength: varint | value | headerCount: varint
 * [headerKeyLength: varint | headerKey | headerValueLength: varint | headerValue] ...
 * </pre>
 *
 * Immutable.
 */
public final class Record {
    private final long offset;
    private final long timestamp;
    private final int sequence;
    private final ByteBuffer key;
    private final ByteBuffer value;
    private final Header[] headers;
    private final int sizeInBytes;

    private Record(long offset, long timestamp, int sequence, ByteBuffer key, ByteBuffer value, Header[] headers,
                   int sizeInBytes) {
        this.offset = offset;
        this.timestamp = timestamp;
        this.sequence = sequence;
        this.key = key;
        this.value = value;
        this.headers = headers;
        this.sizeInBytes = sizeInBytes;
    }

    /** The record the cursor is on, as an object of its own (key and value still view the batch). */
    static Record of(RecordCursor cursor) {
        return new Record(cursor.offset(), cursor.timestamp(), cursor.sequence(), cursor.key(), cursor.value(),
            cursor.headers(), cursor.sizeInBytes());
    }

    private static byte[] toArray(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    public long offset() {
        return offset;
    }

    public long timestamp() {
        return timestamp;
    }

    /** The producer sequence of this record, or -1 when the batch has none. */
    public int sequence() {
        return sequence;
    }

    public boolean hasKey() {
        return key != null;
    }

    /** The key as a read-only slice (position 0), or null. */
    public ByteBuffer key() {
        return key == null ? null : key.duplicate();
    }

    public boolean hasValue() {
        return value != null;
    }

    /** The value as a read-only slice (position 0), or null (a tombstone). */
    public ByteBuffer value() {
        return value == null ? null : value.duplicate();
    }

    public byte[] keyBytes() {
        return key == null ? null : toArray(key);
    }

    public byte[] valueBytes() {
        return value == null ? null : toArray(value);
    }

    public Header[] headers() {
        return headers.clone();
    }

    /** Bytes this record takes inside its (uncompressed) batch, length prefix included. */
    public int sizeInBytes() {
        return sizeInBytes;
    }

    @Override
    public String toString() {
        return "Record(offset=" + offset + ", timestamp=" + timestamp + ", key=" + (key == null ? "null" : key.remaining() + " bytes")
            + ", value=" + (value == null ? "null" : value.remaining() + " bytes") + ", headers=" + headers.length + ")";
    }
}
