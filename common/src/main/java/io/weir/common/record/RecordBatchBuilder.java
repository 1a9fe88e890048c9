package io.weir.common.record;

import io.weir.common.utils.ByteBufferOutputStream;
import io.weir.common.utils.Crc32c;

import java.nio.ByteBuffer;

/**
 * Builds one RecordBatch v2: records are appended uncompressed into a growing buffer after room for
 * the header, and {@link #build()} compresses them once (an uncompressed batch is finished in place)
 * and writes the header and CRC. Settings (producer ids,
 * transactional and control flags, timestamp type) are fixed before the first append.
 *
 * <p>Not thread-safe: one owner appends and builds.
 */
public final class RecordBatchBuilder {
    private final CompressionType compression;
    private int compressionLevel;
    private long baseOffset;
    private TimestampType timestampType = TimestampType.CREATE_TIME;
    private long producerId = RecordBatch.NO_PRODUCER_ID;
    private short producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
    private int baseSequence = RecordBatch.NO_SEQUENCE;
    private boolean transactional;
    private boolean control;
    private int partitionLeaderEpoch = RecordBatch.NO_PARTITION_LEADER_EPOCH;
    private long deleteHorizonMs = RecordBatch.NO_TIMESTAMP;

    private final ByteBufferOutputStream records;
    private int count;
    private long firstTimestamp = RecordBatch.NO_TIMESTAMP;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;
    private long lastOffset = -1;
    private boolean built;

    public RecordBatchBuilder(CompressionType compression, int initialCapacity) {
        this(compression, ByteBuffer.allocate(RecordBatch.HEADER_SIZE + Math.max(64, initialCapacity)));
    }

    /**
     * A builder that writes into {@code buffer} (from index 0: the header's room, then the records),
     * such as a pooled buffer of the producer's {@code batch.size}. An uncompressed batch is finished in
     * place, so {@link #build()} returns a view of {@code buffer} and copies nothing; a compressed one
     * is compressed into a new buffer. Should the records outgrow {@code buffer}, they move to a larger
     * one and {@code buffer} is left unused from then on.
     */
    public RecordBatchBuilder(CompressionType compression, ByteBuffer buffer) {
        if (buffer.capacity() < RecordBatch.HEADER_SIZE) {
            throw new IllegalArgumentException("a batch buffer needs at least " + RecordBatch.HEADER_SIZE + " bytes");
        }
        this.compression = compression;
        this.compressionLevel = compression.defaultLevel;
        this.records = new ByteBufferOutputStream(buffer.clear().position(RecordBatch.HEADER_SIZE));
    }

    public RecordBatchBuilder(CompressionType compression) {
        this(compression, 1024);
    }

    public RecordBatchBuilder compressionLevel(int level) {
        this.compressionLevel = compression.validateLevel(level);
        return this;
    }

    public RecordBatchBuilder baseOffset(long offset) {
        checkNotStarted();
        this.baseOffset = offset;
        return this;
    }

    public RecordBatchBuilder timestampType(TimestampType type) {
        checkNotStarted();
        this.timestampType = type;
        return this;
    }

    public RecordBatchBuilder producer(long producerId, short producerEpoch, int baseSequence) {
        checkNotStarted();
        this.producerId = producerId;
        this.producerEpoch = producerEpoch;
        this.baseSequence = baseSequence;
        return this;
    }

    public RecordBatchBuilder transactional(boolean transactional) {
        checkNotStarted();
        this.transactional = transactional;
        return this;
    }

    public RecordBatchBuilder partitionLeaderEpoch(int epoch) {
        this.partitionLeaderEpoch = epoch;
        return this;
    }

    /** Marks the batch as having passed the cleaner's delete horizon (stored as the base timestamp). */
    public RecordBatchBuilder deleteHorizonMs(long deleteHorizonMs) {
        checkNotStarted();
        this.deleteHorizonMs = deleteHorizonMs;
        return this;
    }

    private void checkNotStarted() {
        if (count > 0 || built) {
            throw new IllegalStateException("batch settings must be set before the first record");
        }
    }

    /** Appends a record at the next offset (the arrays are copied in; nothing is allocated per record). */
    public RecordBatchBuilder append(long timestamp, byte[] key, byte[] value, Header... headers) {
        return appendRecord(nextOffset(), timestamp, key, null, value, null, headers);
    }

    /** Appends a record at the next offset. Key and value buffers are read from position to limit. */
    public RecordBatchBuilder append(long timestamp, ByteBuffer key, ByteBuffer value, Header... headers) {
        return appendWithOffset(nextOffset(), timestamp, key, value, headers);
    }

    /** Appends a record at an explicit offset, which must be above the last one (the cleaner keeps gaps). */
    public RecordBatchBuilder appendWithOffset(long offset, long timestamp, ByteBuffer key, ByteBuffer value,
                                               Header... headers) {
        return appendRecord(offset, timestamp, null, key, null, value, headers);
    }

    /**
     * The one append: key and value each come as an array or as a buffer (read from position to limit,
     * not moved), or neither for null, so no caller has to wrap or duplicate anything per record.
     */
    private RecordBatchBuilder appendRecord(long offset, long timestamp, byte[] keyArray, ByteBuffer keyBuffer,
                                            byte[] valueArray, ByteBuffer valueBuffer, Header[] headers) {
        if (built) {
            throw new IllegalStateException("batch already built");
        }
        if (control && count > 0) {
            throw new IllegalStateException("a control batch holds one record");
        }
        if (offset <= lastOffset || offset < baseOffset) {
            throw new IllegalArgumentException("offset " + offset + " is not above the last offset " + lastOffset
                + " (base " + baseOffset + ")");
        }
        if (offset - baseOffset > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + offset + " is too far from base offset " + baseOffset);
        }
        if (count == 0) {
            // with a delete horizon, baseTimestamp holds the horizon and deltas are taken from it
            firstTimestamp = deleteHorizonMs >= 0 ? deleteHorizonMs : timestamp;
        }
        int offsetDelta = (int) (offset - baseOffset);
        long timestampDelta = timestamp - firstTimestamp;
        int keyLength = length(keyArray, keyBuffer);
        int valueLength = length(valueArray, valueBuffer);
        int bodySize = bodySize(offsetDelta, timestampDelta, keyLength, valueLength, headers);
        records.ensureRemaining(bodySize + 5);
        ByteBuffer out = records.buffer();
        Varints.writeVarint(bodySize, out);
        out.put((byte) 0);
        Varints.writeVarlong(timestampDelta, out);
        Varints.writeVarint(offsetDelta, out);
        writeBytes(keyArray, keyBuffer, keyLength, out);
        writeBytes(valueArray, valueBuffer, valueLength, out);
        Varints.writeVarint(headers.length, out);
        for (Header h : headers) {
            byte[] hk = h.keyBytes();
            Varints.writeVarint(hk.length, out);
            out.put(hk);
            writeBytes(h.value(), null, h.value() == null ? -1 : h.value().length, out);
        }
        count++;
        lastOffset = offset;
        maxTimestamp = Math.max(maxTimestamp, timestamp);
        return this;
    }

    /** Appends the single record of a control batch (a transaction marker) and makes this a control batch. */
    public RecordBatchBuilder appendControl(long timestamp, ControlRecordType type, int coordinatorEpoch) {
        checkNotStarted();
        this.control = true;
        return appendWithOffset(nextOffset(), timestamp, type.keyBytes(), ControlRecordType.valueBytes(coordinatorEpoch));
    }

    private static int bodySize(int offsetDelta, long timestampDelta, int keyLength, int valueLength, Header[] headers) {
        int size = 1 + Varints.sizeOfVarlong(timestampDelta) + Varints.sizeOfVarint(offsetDelta);
        size += bytesSize(keyLength) + bytesSize(valueLength) + Varints.sizeOfVarint(headers.length);
        for (Header h : headers) {
            int kl = h.keyBytes().length;
            size += Varints.sizeOfVarint(kl) + kl;
            size += h.value() == null ? 1 : Varints.sizeOfVarint(h.value().length) + h.value().length;
        }
        return size;
    }

    /** The field's length, or -1 for null. */
    private static int length(byte[] array, ByteBuffer buffer) {
        return array != null ? array.length : buffer != null ? buffer.remaining() : -1;
    }

    private static int bytesSize(int length) {
        return length < 0 ? 1 : Varints.sizeOfVarint(length) + length;
    }

    private static void writeBytes(byte[] array, ByteBuffer buffer, int length, ByteBuffer out) {
        Varints.writeVarint(length, out);
        if (array != null) {
            out.put(array);
        } else if (buffer != null) {
            int at = out.position();
            out.put(at, buffer, buffer.position(), length); // absolute: neither buffer moves
            out.position(at + length);
        }
    }

    public long nextOffset() {
        return count == 0 ? baseOffset : lastOffset + 1;
    }

    public int recordCount() {
        return count;
    }

    public boolean isEmpty() {
        return count == 0;
    }

    /** Size of the batch if built now without compression: an upper-bound estimate for compressed ones. */
    public int uncompressedSizeInBytes() {
        return records.position(); // the header's room included
    }

    /** Compresses the records once and returns the finished batch (position 0, limit = size). */
    public ByteBuffer build() {
        if (built) {
            throw new IllegalStateException("batch already built");
        }
        built = true;
        if (compression == CompressionType.NONE) {
            // finished in place: the records already follow the header's room
            int size = records.position();
            ByteBuffer batch = records.buffer().duplicate().position(0).limit(size);
            writeHeader(batch, size);
            return batch;
        }
        ByteBuffer raw = records.buffer().duplicate().flip().position(RecordBatch.HEADER_SIZE);
        ByteBufferOutputStream out = new ByteBufferOutputStream(
            RecordBatch.HEADER_SIZE + raw.remaining() / 2 + 64);
        out.buffer().position(RecordBatch.HEADER_SIZE);
        compression.compress(raw, out, compressionLevel);
        ByteBuffer batch = out.buffer();
        int size = batch.position();
        batch.flip();
        writeHeader(batch, size);
        return batch;
    }

    private void writeHeader(ByteBuffer b, int size) {
        int attributes = compression.id;
        if (timestampType == TimestampType.LOG_APPEND_TIME) {
            attributes |= RecordBatch.TIMESTAMP_TYPE_MASK;
        }
        if (transactional) {
            attributes |= RecordBatch.TRANSACTIONAL_MASK;
        }
        if (control) {
            attributes |= RecordBatch.CONTROL_MASK;
        }
        long baseTimestamp = count == 0 ? RecordBatch.NO_TIMESTAMP : firstTimestamp;
        if (deleteHorizonMs >= 0) {
            attributes |= RecordBatch.DELETE_HORIZON_MASK;
            baseTimestamp = deleteHorizonMs;
        }
        b.putLong(RecordBatch.BASE_OFFSET_OFFSET, baseOffset);
        b.putInt(RecordBatch.LENGTH_OFFSET, size - RecordBatch.LOG_OVERHEAD);
        b.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
        b.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC);
        b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) attributes);
        b.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, count == 0 ? 0 : (int) (lastOffset - baseOffset));
        b.putLong(RecordBatch.BASE_TIMESTAMP_OFFSET, baseTimestamp);
        b.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET, maxTimestamp);
        b.putLong(RecordBatch.PRODUCER_ID_OFFSET, producerId);
        b.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        b.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, baseSequence);
        b.putInt(RecordBatch.RECORDS_COUNT_OFFSET, count);
        long crc = Crc32c.compute(b, RecordBatch.ATTRIBUTES_OFFSET, size - RecordBatch.ATTRIBUTES_OFFSET);
        b.putInt(RecordBatch.CRC_OFFSET, (int) crc);
    }
}
