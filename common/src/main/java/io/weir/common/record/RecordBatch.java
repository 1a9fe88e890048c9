package io.weir.common.record;

import io.weir.common.utils.Crc32c;

import java.nio.ByteBuffer;
import java.util.Iterator;

/**
 * A flyweight over one Kafka RecordBatch (magic v2) in a ByteBuffer. Reads and writes are absolute,
 * so a batch view never moves a shared buffer's position; one instance can be re-pointed with
 * {@link #wrap} to walk many batches without allocating.
 *
 * <pre>
 *  offset  size  field
 *       0     8  baseOffset            -- rewritten by the broker: outside the CRC
 *       8     4  batchLength           -- bytes after this field
 *      12     4  partitionLeaderEpoch  -- rewritten by the broker: outside the CRC
 *      16     1  magic (= 2)
 *      17     4  crc (CRC-32C of bytes 21 .. end)
 *      21     2  attributes: bits 0-2 compression, 3 timestamp type, 4 transactional,
 *                            5 control, 6 delete horizon set
 *      23     4  lastOffsetDelta
 *      27     8  baseTimestamp
 *      35     8  maxTimestamp
 *      43     8  producerId
 *      51     2  producerEpoch
 *      53     4  baseSequence
 *      57     4  recordCount
 *      61     -  records (compressed as one block when compression is not none)
 * </pre>
 *
 * Not thread-safe; the bytes it views are shared with whoever owns the buffer.
 */
public final class RecordBatch {
    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = BASE_OFFSET_OFFSET + 8;
    /** Bytes before the batch length counts: baseOffset + batchLength. */
    public static final int LOG_OVERHEAD = LENGTH_OFFSET + 4;
    public static final int PARTITION_LEADER_EPOCH_OFFSET = LOG_OVERHEAD;
    public static final int MAGIC_OFFSET = PARTITION_LEADER_EPOCH_OFFSET + 4;
    public static final int CRC_OFFSET = MAGIC_OFFSET + 1;
    public static final int ATTRIBUTES_OFFSET = CRC_OFFSET + 4;
    public static final int LAST_OFFSET_DELTA_OFFSET = ATTRIBUTES_OFFSET + 2;
    public static final int BASE_TIMESTAMP_OFFSET = LAST_OFFSET_DELTA_OFFSET + 4;
    public static final int MAX_TIMESTAMP_OFFSET = BASE_TIMESTAMP_OFFSET + 8;
    public static final int PRODUCER_ID_OFFSET = MAX_TIMESTAMP_OFFSET + 8;
    public static final int PRODUCER_EPOCH_OFFSET = PRODUCER_ID_OFFSET + 8;
    public static final int BASE_SEQUENCE_OFFSET = PRODUCER_EPOCH_OFFSET + 2;
    public static final int RECORDS_COUNT_OFFSET = BASE_SEQUENCE_OFFSET + 4;
    public static final int RECORDS_OFFSET = RECORDS_COUNT_OFFSET + 4;
    /** Size of a batch with no records. */
    public static final int HEADER_SIZE = RECORDS_OFFSET;

    public static final byte MAGIC = 2;
    public static final long NO_PRODUCER_ID = -1L;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;
    public static final int NO_PARTITION_LEADER_EPOCH = -1;
    public static final long NO_TIMESTAMP = -1L;

    static final int COMPRESSION_MASK = 0x07;
    public static final int TIMESTAMP_TYPE_MASK = 0x08;
    static final int TRANSACTIONAL_MASK = 0x10;
    static final int CONTROL_MASK = 0x20;
    static final int DELETE_HORIZON_MASK = 0x40;

    private ByteBuffer buffer;
    private int start;

    public RecordBatch() {
    }

    /** A view of the batch that starts at {@code buffer}'s position. */
    public RecordBatch(ByteBuffer buffer) {
        wrap(buffer, buffer.position());
    }

    /** Points this view at the batch starting at absolute index {@code start} of {@code buffer}. */
    public RecordBatch wrap(ByteBuffer buffer, int start) {
        this.buffer = buffer;
        this.start = start;
        return this;
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    public int start() {
        return start;
    }

    public long baseOffset() {
        return buffer.getLong(start + BASE_OFFSET_OFFSET);
    }

    /** Sets the base offset in place; it is outside the CRC, so the batch stays valid. */
    public void setBaseOffset(long baseOffset) {
        buffer.putLong(start + BASE_OFFSET_OFFSET, baseOffset);
    }

    public int batchLength() {
        return buffer.getInt(start + LENGTH_OFFSET);
    }

    /** Whole size of the batch including the 12 bytes of offset and length. */
    public int sizeInBytes() {
        return LOG_OVERHEAD + batchLength();
    }

    public int partitionLeaderEpoch() {
        return buffer.getInt(start + PARTITION_LEADER_EPOCH_OFFSET);
    }

    /** Sets the leader epoch in place; outside the CRC. */
    public void setPartitionLeaderEpoch(int epoch) {
        buffer.putInt(start + PARTITION_LEADER_EPOCH_OFFSET, epoch);
    }

    public byte magic() {
        return buffer.get(start + MAGIC_OFFSET);
    }

    /** The stored CRC as an unsigned 32-bit value. */
    public long checksum() {
        return buffer.getInt(start + CRC_OFFSET) & 0xffffffffL;
    }

    /** The CRC-32C of the bytes the stored CRC covers (attributes to the end of the batch). */
    public long computeChecksum() {
        return Crc32c.compute(buffer, start + ATTRIBUTES_OFFSET, sizeInBytes() - ATTRIBUTES_OFFSET);
    }

    public boolean isValid() {
        return sizeInBytes() >= HEADER_SIZE && magic() == MAGIC && checksum() == computeChecksum();
    }

    /**
     * Checks the structure a log must see before it accepts or serves the batch: the length fits the
     * buffer and the header, the magic is 2, the CRC matches, the compression id is known, and the
     * header's counts are consistent. Records themselves are checked when iterated, or all at once by
     * log-core's BatchValidator before an append.
     */
    public void ensureValid() {
        check(true);
    }

    /**
     * {@link #ensureValid()} without the CRC: what a reader must know before it walks the records of
     * a batch whose CRC was checked already (or, as a consumer with {@code check.crcs=false}, is not).
     */
    public void ensureValidStructure() {
        check(false);
    }

    private void check(boolean crc) {
        int length = batchLength();
        if (length < HEADER_SIZE - LOG_OVERHEAD) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " (byte " + start
                + ") has length " + length + ", less than the header's " + (HEADER_SIZE - LOG_OVERHEAD));
        }
        if ((long) start + LOG_OVERHEAD + length > buffer.limit()) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " (byte " + start
                + ") has length " + length + " but only " + (buffer.limit() - start - LOG_OVERHEAD) + " bytes follow");
        }
        if (magic() != MAGIC) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " (byte " + start
                + ") has magic " + magic() + "; only magic 2 is supported");
        }
        if (crc) {
            long stored = checksum();
            long computed = computeChecksum();
            if (stored != computed) {
                throw new CorruptRecordException("batch at offset " + baseOffset() + " (byte " + start
                    + ") is corrupt: stored CRC " + stored + " != computed " + computed);
            }
        }
        int attributes = attributes();
        if ((attributes & COMPRESSION_MASK) > 4) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " has unknown compression id "
                + (attributes & COMPRESSION_MASK));
        }
        int count = recordCount();
        if (count < 0) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " has negative record count " + count);
        }
        if (lastOffsetDelta() < 0 || (count > 0 && lastOffsetDelta() < count - 1)) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " has lastOffsetDelta "
                + lastOffsetDelta() + " for " + count + " records");
        }
        if (compressionType() == CompressionType.NONE && count > length) {
            throw new CorruptRecordException("batch at offset " + baseOffset() + " claims " + count
                + " records in " + length + " bytes");
        }
    }

    public short attributes() {
        return buffer.getShort(start + ATTRIBUTES_OFFSET);
    }

    public CompressionType compressionType() {
        return CompressionType.forId(attributes() & COMPRESSION_MASK);
    }

    public TimestampType timestampType() {
        return (attributes() & TIMESTAMP_TYPE_MASK) == 0 ? TimestampType.CREATE_TIME : TimestampType.LOG_APPEND_TIME;
    }

    public boolean isTransactional() {
        return (attributes() & TRANSACTIONAL_MASK) != 0;
    }

    public boolean isControlBatch() {
        return (attributes() & CONTROL_MASK) != 0;
    }

    public boolean hasDeleteHorizon() {
        return (attributes() & DELETE_HORIZON_MASK) != 0;
    }

    /** The delete horizon (stored in baseTimestamp by the cleaner), or {@link #NO_TIMESTAMP}. */
    public long deleteHorizonMs() {
        return hasDeleteHorizon() ? baseTimestamp() : NO_TIMESTAMP;
    }

    public int lastOffsetDelta() {
        return buffer.getInt(start + LAST_OFFSET_DELTA_OFFSET);
    }

    public long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    public long nextOffset() {
        return lastOffset() + 1;
    }

    public long baseTimestamp() {
        return buffer.getLong(start + BASE_TIMESTAMP_OFFSET);
    }

    public long maxTimestamp() {
        return buffer.getLong(start + MAX_TIMESTAMP_OFFSET);
    }

    public long producerId() {
        return buffer.getLong(start + PRODUCER_ID_OFFSET);
    }

    public short producerEpoch() {
        return buffer.getShort(start + PRODUCER_EPOCH_OFFSET);
    }

    public int baseSequence() {
        return buffer.getInt(start + BASE_SEQUENCE_OFFSET);
    }

    /** The sequence of the last record, wrapping at Integer.MAX_VALUE like Kafka's. */
    public int lastSequence() {
        int base = baseSequence();
        if (base == NO_SEQUENCE) {
            return NO_SEQUENCE;
        }
        long last = (long) base + lastOffsetDelta();
        return last > Integer.MAX_VALUE ? (int) (last - Integer.MAX_VALUE - 1) : (int) last;
    }

    public boolean hasProducerId() {
        return producerId() > NO_PRODUCER_ID;
    }

    public int recordCount() {
        return buffer.getInt(start + RECORDS_COUNT_OFFSET);
    }

    /** A read-only slice holding exactly this batch's bytes. */
    public ByteBuffer slice() {
        return buffer.duplicate().position(start).limit(start + sizeInBytes()).slice();
    }

    /** The records region as stored (compressed when the batch is). */
    ByteBuffer recordsRegion() {
        return buffer.duplicate().position(start + RECORDS_OFFSET).limit(start + sizeInBytes()).slice();
    }

    /**
     * Iterates the records. Uncompressed batches are read in place (keys and values are slices of the
     * batch buffer); compressed ones are decompressed once, up to {@code maxDecompressedBytes}.
     */
    public Iterator<Record> records(int maxDecompressedBytes) {
        return new RecordIterator(this, maxDecompressedBytes);
    }

    /** {@link #records(int)} with a 64 MB bound on decompressed size. */
    public Iterator<Record> records() {
        return records(DEFAULT_MAX_DECOMPRESSED_BYTES);
    }

    public static final int DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

    /** For a control batch: its single marker's type. */
    public ControlRecordType controlType() {
        if (!isControlBatch()) {
            throw new IllegalStateException("not a control batch");
        }
        Iterator<Record> it = records();
        if (!it.hasNext()) {
            throw new CorruptRecordException("control batch at offset " + baseOffset() + " has no record");
        }
        return ControlRecordType.parse(it.next().key());
    }

    @Override
    public String toString() {
        return "RecordBatch(baseOffset=" + baseOffset() + ", lastOffset=" + lastOffset() + ", count=" + recordCount()
            + ", size=" + sizeInBytes() + ", compression=" + compressionType() + ", producerId=" + producerId()
            + ", producerEpoch=" + producerEpoch() + ", baseSequence=" + baseSequence()
            + ", transactional=" + isTransactional() + ", control=" + isControlBatch() + ")";
    }

    /** Walks the records through a {@link RecordCursor}, one {@link Record} object each. */
    private static final class RecordIterator implements Iterator<Record> {
        private final RecordCursor cursor = new RecordCursor();
        private boolean ready;
        private boolean done;

        RecordIterator(RecordBatch batch, int maxDecompressedBytes) {
            batch.ensureValid();
            cursor.reset(batch, maxDecompressedBytes);
        }

        @Override
        public boolean hasNext() {
            if (!ready && !done) {
                ready = cursor.next();
                done = !ready;
            }
            return ready;
        }

        @Override
        public Record next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            ready = false;
            return Record.of(cursor);
        }
    }
}
