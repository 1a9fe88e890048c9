package io.weir.common.record;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * A reusable flyweight that walks the records of one batch after another without allocating per
 * record: {@link #reset} points it at a batch (decompressing a compressed one once), {@link #next}
 * parses the next record's fields into positions within the batch's record bytes, and the accessors
 * read them. Keys and values are copied out, or viewed as slices, only when asked for; headers are
 * checked while parsing but decoded only by {@link #headers()}, and a record without headers costs
 * nothing for them.
 *
 * <p>Record layout (as in {@link Record}):
 * <pre>
 * length: varint | attributes: int8 | timestampDelta: varlong | offsetDelta: varint
 * keyLength: varint | key | valueLength: varint | value | headerCount: varint
 * [headerKeyLength: varint | headerKey | headerValueLength: varint | headerValue] ...
 * </pre>
 *
 * The checks are those of {@link Record}'s reader: a length, key, value or header that runs past
 * its record, bytes left inside a record after its headers, fewer or more records than the batch's
 * count. The batch header is checked on {@link #reset} without its CRC (call
 * {@link RecordBatch#ensureValid()} for that).
 *
 * <p>Accessors describe the record of the last {@link #next} that returned true, until the next call
 * to {@code next} or {@code reset}. Slices from {@link #key()} / {@link #value()} stay valid after that
 * (they view the batch's bytes, which are never reused), unless the cursor was made to reuse its
 * decompression buffer. Not thread-safe.
 */
public final class RecordCursor {
    private static final Header[] NO_HEADERS = new Header[0];

    /** Whether compressed batches are decompressed into {@link #scratch}, kept from batch to batch. */
    private final boolean reuseDecompressed;
    private byte[] scratch;
    /** The batch's (decompressed) record bytes; this cursor alone moves its position. */
    private ByteBuffer records;
    /** A read-only twin of {@link #records}, sliced for {@link #key()} and {@link #value()}. */
    private ByteBuffer readOnly;
    private int end;
    private long baseOffset;
    private long baseTimestamp;
    private int baseSequence;
    private int count;
    private int read;
    private boolean logAppendTime;
    private long maxTimestamp;

    private int recordStart;
    private int sizeInBytes;
    private long offset;
    private long timestamp;
    private int sequence;
    private int keyPosition;
    private int keyLength;
    private int valuePosition;
    private int valueLength;
    private int headersPosition;
    private int headerCount;

    /** A cursor whose key and value views stay valid after it moves on. */
    public RecordCursor() {
        this(false);
    }

    /**
     * With {@code reuseDecompressed}, compressed batches are decompressed into one array the cursor
     * keeps from batch to batch (no allocation per batch): for readers that copy keys, values and
     * headers out, since the views from {@link #key()} and {@link #value()} of a compressed batch are
     * then valid only until the next {@link #reset}.
     */
    public RecordCursor(boolean reuseDecompressed) {
        this.reuseDecompressed = reuseDecompressed;
    }

    /**
     * Points the cursor at {@code batch}'s records: checks the batch header (not its CRC) and
     * decompresses a compressed batch, up to {@code maxDecompressedBytes}.
     */
    public RecordCursor reset(RecordBatch batch, int maxDecompressedBytes) {
        batch.ensureValidStructure();
        CompressionType type = batch.compressionType();
        ByteBuffer region = batch.recordsRegion();
        if (type == CompressionType.NONE) {
            this.records = region;
        } else if (reuseDecompressed) {
            ByteBuffer decompressed = type.decompress(region, maxDecompressedBytes, scratch);
            scratch = decompressed.array();
            this.records = decompressed.slice();
        } else {
            this.records = type.decompress(region, maxDecompressedBytes).slice();
        }
        this.readOnly = records.asReadOnlyBuffer();
        this.end = records.limit();
        this.baseOffset = batch.baseOffset();
        this.baseTimestamp = batch.baseTimestamp();
        this.baseSequence = batch.baseSequence();
        this.count = batch.recordCount();
        this.read = 0;
        this.logAppendTime = batch.timestampType() == TimestampType.LOG_APPEND_TIME;
        this.maxTimestamp = batch.maxTimestamp();
        return this;
    }

    /** Parses the next record; false once the batch's count of records has been read. */
    public boolean next() {
        if (read >= count) {
            if (records.position() < end) {
                throw new CorruptRecordException("batch at offset " + baseOffset + " has " + (end - records.position())
                    + " bytes left after its " + count + " records");
            }
            return false;
        }
        if (records.position() >= end) {
            throw new CorruptRecordException("batch at offset " + baseOffset + " claims " + count
                + " records but holds only " + read);
        }
        parse();
        read++;
        return true;
    }

    private void parse() {
        ByteBuffer buf = records;
        int startPos = buf.position();
        try {
            int length = Varints.readVarint(buf);
            if (length < 0 || length > buf.remaining()) {
                throw new CorruptRecordException("record at byte " + startPos + " has length " + length + " but "
                    + buf.remaining() + " bytes remain");
            }
            int recordEnd = buf.position() + length;
            buf.limit(recordEnd);
            buf.get(); // attributes: unused in v2
            long timestampDelta = Varints.readVarlong(buf);
            int offsetDelta = Varints.readVarint(buf);
            keyLength = fieldLength(buf, "key", startPos);
            keyPosition = buf.position();
            skip(buf, keyLength);
            valueLength = fieldLength(buf, "value", startPos);
            valuePosition = buf.position();
            skip(buf, valueLength);
            int headers = Varints.readVarint(buf);
            if (headers < 0 || headers > buf.remaining() / 2) {
                throw new CorruptRecordException("record at byte " + startPos + " has header count " + headers
                    + " with " + buf.remaining() + " bytes left");
            }
            headersPosition = buf.position();
            for (int i = 0; i < headers; i++) {
                int hk = fieldLength(buf, "header key", startPos);
                if (hk < 0) {
                    throw new CorruptRecordException("record at byte " + startPos + " has a null header key");
                }
                skip(buf, hk);
                skip(buf, fieldLength(buf, "header value", startPos));
            }
            if (buf.hasRemaining()) {
                throw new CorruptRecordException("record at byte " + startPos + " has " + buf.remaining()
                    + " bytes beyond its fields");
            }
            headerCount = headers;
            recordStart = startPos;
            sizeInBytes = recordEnd - startPos;
            offset = baseOffset + offsetDelta;
            timestamp = logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta;
            sequence = baseSequence < 0 ? RecordBatch.NO_SEQUENCE
                : (int) (((long) baseSequence + offsetDelta) % (1L + Integer.MAX_VALUE));
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("record at byte " + startPos + " is truncated", e);
        } finally {
            buf.limit(end);
        }
    }

    /** Reads a field's length: -1 for null, else a length that fits what remains of the record. */
    private static int fieldLength(ByteBuffer buf, String what, int recordStart) {
        int len = Varints.readVarint(buf);
        if (len < -1) {
            throw new CorruptRecordException("record at byte " + recordStart + " has " + what + " length " + len);
        }
        if (len > buf.remaining()) {
            throw new CorruptRecordException("record at byte " + recordStart + " has " + what + " length " + len
                + " but " + buf.remaining() + " bytes remain");
        }
        return len;
    }

    private static void skip(ByteBuffer buf, int len) {
        if (len > 0) {
            buf.position(buf.position() + len);
        }
    }

    public long offset() {
        return offset;
    }

    /** The record's timestamp (the batch's max timestamp when the batch uses log-append time). */
    public long timestamp() {
        return timestamp;
    }

    /** The producer sequence of this record, or -1 when the batch has none. */
    public int sequence() {
        return sequence;
    }

    /** Bytes this record takes inside its (uncompressed) batch, length prefix included. */
    public int sizeInBytes() {
        return sizeInBytes;
    }

    /** Where the record starts in its batch's (uncompressed) record bytes. */
    public int recordStart() {
        return recordStart;
    }

    /** The key's size in bytes, or -1 for a null key. */
    public int keyLength() {
        return keyLength;
    }

    /** The value's size in bytes, or -1 for a null value (a tombstone). */
    public int valueLength() {
        return valueLength;
    }

    public int headerCount() {
        return headerCount;
    }

    /** The key as a read-only slice (position 0), or null. */
    public ByteBuffer key() {
        return keyLength < 0 ? null : readOnly.slice(keyPosition, keyLength);
    }

    /** The value as a read-only slice (position 0), or null. */
    public ByteBuffer value() {
        return valueLength < 0 ? null : readOnly.slice(valuePosition, valueLength);
    }

    /** A copy of the key's bytes, or null. */
    public byte[] keyBytes() {
        return copy(keyPosition, keyLength);
    }

    /** A copy of the value's bytes, or null. */
    public byte[] valueBytes() {
        return copy(valuePosition, valueLength);
    }

    /** The key decoded as text in {@code charset} (no intermediate copy for heap bytes), or null. */
    public String keyString(Charset charset) {
        return string(keyPosition, keyLength, charset);
    }

    /** The value decoded as text in {@code charset} (no intermediate copy for heap bytes), or null. */
    public String valueString(Charset charset) {
        return string(valuePosition, valueLength, charset);
    }

    /** The headers in wire order, decoded now; a shared empty array when there are none (do not modify it). */
    public Header[] headers() {
        if (headerCount == 0) {
            return NO_HEADERS;
        }
        Header[] out = new Header[headerCount];
        int pos = headersPosition;
        for (int i = 0; i < headerCount; i++) {
            ByteBuffer view = readOnly.duplicate().position(pos);
            int kl = Varints.readVarint(view);
            String key = string(view.position(), kl, StandardCharsets.UTF_8);
            view.position(view.position() + kl);
            int vl = Varints.readVarint(view);
            out[i] = new Header(key, copy(view.position(), vl));
            pos = view.position() + Math.max(vl, 0);
        }
        return out;
    }

    private byte[] copy(int position, int length) {
        if (length < 0) {
            return null;
        }
        byte[] a = new byte[length];
        records.get(position, a);
        return a;
    }

    private String string(int position, int length, Charset charset) {
        if (length < 0) {
            return null;
        }
        if (records.hasArray()) {
            return new String(records.array(), records.arrayOffset() + position, length, charset);
        }
        return new String(copy(position, length), charset);
    }
}
