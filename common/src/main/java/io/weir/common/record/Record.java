package io.weir.common.record;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

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
    private static final Header[] NO_HEADERS = new Header[0];

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

    /** Reads one record at the buffer's position, advancing it past the record. */
    static Record readFrom(ByteBuffer buf, long baseOffset, long baseTimestamp, int baseSequence, boolean control) {
        int startPos = buf.position();
        int length = Varints.readVarint(buf);
        if (length < 0 || length > buf.remaining()) {
            throw new CorruptRecordException("record at byte " + startPos + " has length " + length + " but "
                + buf.remaining() + " bytes remain");
        }
        int bodyStart = buf.position();
        int end = bodyStart + length;
        ByteBuffer body = buf.duplicate().limit(end);
        try {
            body.get(); // attributes: unused in v2
            long timestampDelta = Varints.readVarlong(body);
            int offsetDelta = Varints.readVarint(body);
            ByteBuffer key = readBytes(body, "key", startPos);
            ByteBuffer value = readBytes(body, "value", startPos);
            int headerCount = Varints.readVarint(body);
            if (headerCount < 0 || headerCount > body.remaining() / 2) {
                throw new CorruptRecordException("record at byte " + startPos + " has header count " + headerCount
                    + " with " + body.remaining() + " bytes left");
            }
            Header[] headers = headerCount == 0 ? NO_HEADERS : new Header[headerCount];
            for (int i = 0; i < headerCount; i++) {
                ByteBuffer hk = readBytes(body, "header key", startPos);
                if (hk == null) {
                    throw new CorruptRecordException("record at byte " + startPos + " has a null header key");
                }
                ByteBuffer hv = readBytes(body, "header value", startPos);
                headers[i] = new Header(StandardCharsets.UTF_8.decode(hk).toString(), hv == null ? null : toArray(hv));
            }
            if (body.hasRemaining()) {
                throw new CorruptRecordException("record at byte " + startPos + " has " + body.remaining()
                    + " bytes beyond its fields");
            }
            buf.position(end);
            int sequence = baseSequence < 0 ? RecordBatch.NO_SEQUENCE
                : (int) (((long) baseSequence + offsetDelta) % (1L + Integer.MAX_VALUE));
            return new Record(baseOffset + offsetDelta, baseTimestamp + timestampDelta, sequence, key, value, headers,
                end - startPos);
        } catch (java.nio.BufferUnderflowException e) {
            throw new CorruptRecordException("record at byte " + startPos + " is truncated", e);
        }
    }

    private static ByteBuffer readBytes(ByteBuffer body, String what, int recordStart) {
        int len = Varints.readVarint(body);
        if (len < 0) {
            if (len != -1) {
                throw new CorruptRecordException("record at byte " + recordStart + " has " + what + " length " + len);
            }
            return null;
        }
        if (len > body.remaining()) {
            throw new CorruptRecordException("record at byte " + recordStart + " has " + what + " length " + len
                + " but " + body.remaining() + " bytes remain");
        }
        ByteBuffer slice = body.slice().limit(len).asReadOnlyBuffer();
        body.position(body.position() + len);
        return slice;
    }

    private static byte[] toArray(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    Record withTimestamp(long ts) {
        return new Record(offset, ts, sequence, key, value, headers, sizeInBytes);
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
