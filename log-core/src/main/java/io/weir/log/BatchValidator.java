package io.weir.log;

import io.weir.common.record.CompressionType;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordError;
import io.weir.common.record.RecordTooLargeException;
import org.xerial.snappy.SnappyError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The one owner of the rules a record batch must satisfy before a log accepts it (Kafka's
 * {@code LogValidator}). A log calls {@link #validate} on a request's batches before it takes its
 * lock; the first bad batch rejects them all, so nothing of that request is appended.
 *
 * <p>Rules, in the order they are checked:
 * <ol>
 *   <li>framing and integrity ({@link CorruptRecordException}, answered CORRUPT_MESSAGE): the batches
 *       fill the buffer exactly, each length covers at least a header, magic is 2, the CRC matches;</li>
 *   <li>size ({@link RecordTooLargeException}): a client's or coordinator's batch is at most
 *       {@code max.message.bytes};</li>
 *   <li>the header ({@link InvalidRecordException}, answered INVALID_RECORD): a known compression id;
 *       {@code count >= 1} and {@code count == lastOffsetDelta + 1}; from a client, no control batch,
 *       a producer id of -1 (then not transactional) or one with epoch and base sequence both &gt;= 0;</li>
 *   <li>every record, walked in the batch's bytes (uncompressed) or in its decompressed bytes:
 *       its length fits what is left, its timestamp delta and offset delta are well-formed varints,
 *       the offset delta equals the record's index, key and value lengths are -1 or fit the record,
 *       the header count and each header's key (not null) and value fit, and the fields fill the
 *       record exactly; after the last record no byte is left over;</li>
 *   <li>per record ({@link InvalidRecordException} with {@link InvalidRecordException#recordErrors()}):
 *       a compacted topic's records all have keys; every keyless record of the batch is named.</li>
 * </ol>
 * A follower ({@link AppendOrigin#REPLICATION}) copies what its leader stored, compacted batches
 * included: there the count may be 0 and offset deltas need only increase within
 * {@code lastOffsetDelta}. Anything inside a CRC-valid batch is INVALID_RECORD rather than
 * CORRUPT_MESSAGE: the producer built those bytes, so resending them cannot help.
 *
 * <p>The uncompressed path allocates nothing per record: it reads the batch's bytes with absolute
 * gets and keeps positions in locals (about 25 ns a record). A compressed batch is read once from the
 * codec's stream through one 8 KB chunk, keys and values skipped, so memory does not grow with the
 * records and a declared length never sizes an allocation; the bytes decompressed stop at
 * {@link #maxDecompressedBytes} (a bound on CPU for zip bombs). Its cost is the decompression's, as
 * in Kafka. Codec-internal buffers remain (a zstd frame may ask for a window of up to 128 MiB
 * off-heap, as it may of any zstd reader).
 *
 * <p>Stateless and thread-safe.
 */
public final class BatchValidator {
    /** Smallest record: length, attributes, timestamp delta, offset delta, key and value lengths, header count. */
    private static final int MIN_RECORD_BYTES = 7;
    /** Decompressed bytes a compressed batch may hold per byte of max(batch, max.message.bytes). */
    static final int MAX_DECOMPRESSION_FACTOR = 64;
    /** Bit set in {@link #walkRecord}'s result when the record has no key. */
    private static final long NO_KEY = Long.MIN_VALUE;

    /** The view {@link #validate} walks a request with (validation never nests on a thread). */
    private static final ThreadLocal<RecordBatch> VIEW = ThreadLocal.withInitial(RecordBatch::new);
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private BatchValidator() {
    }

    /**
     * What the appending log requires of a request's batches.
     *
     * @param origin          who appends (decides control-batch, producer-field and offset rules)
     * @param compacted       the topic is compacted: every record needs a key
     * @param maxMessageBytes the largest batch a client or coordinator may append ({@code max.message.bytes})
     */
    public record Rules(AppendOrigin origin, boolean compacted, int maxMessageBytes) {
    }

    /**
     * Validates every batch of {@code records}, throwing on the first that breaks a rule. The batches
     * must fill the buffer exactly (as {@link MemoryRecords#strictBatches()} checks); they are walked
     * with one {@link RecordBatch} view per thread, rewrapped per batch, so validation allocates no
     * object per request or batch.
     */
    public static void validate(MemoryRecords records, Rules rules, Object where) {
        RecordBatch batch = VIEW.get();
        try {
            validate(records.buffer(), batch, rules, where);
        } finally {
            batch.wrap(EMPTY, 0); // hold no request's bytes between calls
        }
    }

    private static void validate(ByteBuffer buf, RecordBatch batch, Rules rules, Object where) {
        int limit = buf.limit();
        for (int position = 0; position < limit; ) {
            int remaining = limit - position;
            if (remaining < RecordBatch.LOG_OVERHEAD) {
                throw new CorruptRecordException(where + ": only " + remaining + " bytes remain at byte " + position
                    + ", fewer than a batch header");
            }
            int length = buf.getInt(position + RecordBatch.LENGTH_OFFSET);
            if (length < RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD) {
                throw new CorruptRecordException(where + ": batch at byte " + position + " has length " + length
                    + ", less than the header's " + (RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD));
            }
            if (length > remaining - RecordBatch.LOG_OVERHEAD) {
                throw new CorruptRecordException(where + ": batch at byte " + position + " has length " + length
                    + " but only " + (remaining - RecordBatch.LOG_OVERHEAD) + " bytes follow");
            }
            validateBatch(batch.wrap(buf, position), rules, where);
            position += RecordBatch.LOG_OVERHEAD + length;
        }
    }

    /** Validates one batch whose bytes are known to lie inside its buffer. */
    public static void validateBatch(RecordBatch batch, Rules rules, Object where) {
        try {
            batch.ensureValid();
        } catch (CorruptRecordException e) {
            // ensureValid also screens some header fields; a CRC-valid header fault is INVALID_RECORD
            if (batch.sizeInBytes() >= RecordBatch.HEADER_SIZE && batch.magic() == RecordBatch.MAGIC
                && batch.checksum() == batch.computeChecksum()) {
                throw new InvalidRecordException(where + ": " + e.getMessage());
            }
            throw new CorruptRecordException(where + ": " + e.getMessage(), e);
        }
        AppendOrigin origin = rules.origin();
        if (origin != AppendOrigin.REPLICATION && batch.sizeInBytes() > rules.maxMessageBytes()) {
            throw new RecordTooLargeException(where + ": batch of " + batch.sizeInBytes()
                + " bytes exceeds max.message.bytes " + rules.maxMessageBytes());
        }
        validateHeader(batch, origin, where);
        CompressionType compression = batch.compressionType();
        ByteBuffer buf = batch.buffer();
        int start = batch.start() + RecordBatch.RECORDS_OFFSET;
        int end = batch.start() + batch.sizeInBytes();
        if (compression == CompressionType.NONE || start == end) {
            // a header-only batch (Kafka's writeEmptyHeader after compaction) has no codec stream at all
            walkRecords(batch, buf, start, end, null, rules, where);
            return;
        }
        long max = maxDecompressedBytes(batch.sizeInBytes(), rules.maxMessageBytes());
        ByteBuffer region = buf.duplicate().position(start).limit(end).slice();
        InputStream in;
        try {
            in = compression.decompressingStream(region);
        } catch (IOException | RuntimeException | SnappyError e) {
            throw cannotDecompress(batch, e, where);
        }
        Inflated inflated = new Inflated(in, max);
        try {
            walkRecords(batch, null, 0, 0, inflated, rules, where);
        } catch (CodecFailure e) {
            throw cannotDecompress(batch, e.getCause(), where);
        } finally {
            inflated.release();
            try {
                in.close();
            } catch (IOException | RuntimeException | SnappyError ignored) {
                // the verdict is in; a codec that fails to release is no reason to change it
            }
        }
    }

    private static InvalidRecordException cannotDecompress(RecordBatch batch, Throwable cause, Object where) {
        return new InvalidRecordException(where + ": " + describe(batch) + " cannot be decompressed: " + cause);
    }

    /**
     * The most bytes a compressed batch of {@code batchBytes} may decompress to: 64 times the larger of
     * the batch and {@code max.message.bytes} (64 MiB at the default), so a zip bomb costs bounded
     * CPU while data that compresses very well (zero-filled values) is still accepted. A ratio on
     * the batch's own size alone would refuse those: zstd packs 1 MB of zeros into a few hundred bytes.
     */
    public static long maxDecompressedBytes(int batchBytes, int maxMessageBytes) {
        return Math.min(Integer.MAX_VALUE - 64L, (long) Math.max(batchBytes, maxMessageBytes) * MAX_DECOMPRESSION_FACTOR);
    }

    private static void validateHeader(RecordBatch batch, AppendOrigin origin, Object where) {
        int count = batch.recordCount();
        int lastOffsetDelta = batch.lastOffsetDelta();
        if (origin == AppendOrigin.REPLICATION) {
            if (count < 0 || lastOffsetDelta < 0 || (count > 0 && lastOffsetDelta < count - 1)) {
                throw new InvalidRecordException(where + ": " + describe(batch) + " has " + count
                    + " records in an offset range of " + (lastOffsetDelta + 1L));
            }
        } else {
            if (count < 1) {
                throw new InvalidRecordException(where + ": " + describe(batch) + " has record count " + count
                    + "; a batch holds at least one record");
            }
            if ((long) lastOffsetDelta + 1 != count) {
                throw new InvalidRecordException(where + ": " + describe(batch) + " has record count " + count
                    + " but lastOffsetDelta " + lastOffsetDelta + " (the count must be lastOffsetDelta + 1)");
            }
        }
        if (origin != AppendOrigin.CLIENT) {
            return;
        }
        if (batch.isControlBatch()) {
            throw new InvalidRecordException(where + ": clients may not write control batches");
        }
        long producerId = batch.producerId();
        if (producerId < RecordBatch.NO_PRODUCER_ID) {
            throw new InvalidRecordException(where + ": " + describe(batch) + " has producer id " + producerId);
        }
        if (producerId == RecordBatch.NO_PRODUCER_ID) {
            // epoch and sequence mean nothing without a producer id; some clients (Sarama) write sequence 0
            if (batch.isTransactional()) {
                throw new InvalidRecordException(where + ": " + describe(batch) + " is transactional without a producer id");
            }
            return;
        }
        if (batch.producerEpoch() < 0) {
            throw new InvalidRecordException(where + ": " + describe(batch) + " has producer id " + producerId
                + " but producer epoch " + batch.producerEpoch());
        }
        if (batch.baseSequence() < 0) {
            throw new InvalidRecordException(where + ": " + describe(batch) + " has producer id " + producerId
                + " but base sequence " + batch.baseSequence());
        }
    }

    /** Walks the records in {@code buf[start, end)}: structure first, then the per-record rules. */
    /**
     * Walks the records of an uncompressed batch in {@code buf[start, end)}, or of a compressed one
     * from {@code inflated}: structure first, then the per-record rules.
     */
    private static void walkRecords(RecordBatch batch, ByteBuffer buf, int start, int end, Inflated inflated,
                                    Rules rules, Object where) {
        int count = batch.recordCount();
        int lastOffsetDelta = batch.lastOffsetDelta();
        boolean dense = rules.origin() != AppendOrigin.REPLICATION;
        boolean needKeys = rules.compacted() && !batch.isControlBatch();
        List<RecordError> errors = null;
        int pos = start;
        int previousDelta = -1;
        for (int i = 0; i < count; i++) {
            long r;
            long at = inflated == null ? pos - start : inflated.consumed;
            try {
                r = inflated == null ? walkRecord(buf, pos, end) : inflated.walkRecord();
            } catch (Malformed m) {
                throw new InvalidRecordException(where + ": " + describe(batch) + ", record " + i + " (byte "
                    + at + " of its records" + (inflated == null ? "" : ", decompressed") + "): " + m.getMessage());
            }
            int offsetDelta = (int) r;
            if (dense ? offsetDelta != i : (offsetDelta <= previousDelta || offsetDelta > lastOffsetDelta)) {
                throw new InvalidRecordException(where + ": " + describe(batch) + ", record " + i
                    + " has offset delta " + offsetDelta + (dense ? "; expected " + i
                    : " after " + previousDelta + " (lastOffsetDelta " + lastOffsetDelta + ")"));
            }
            previousDelta = offsetDelta;
            if (needKeys && (r & NO_KEY) != 0) {
                if (errors == null) {
                    errors = new ArrayList<>();
                }
                errors.add(new RecordError(i, "Compacted topic cannot accept a record without a key in " + where));
            }
            pos = (int) ((r & Long.MAX_VALUE) >>> 32);
        }
        boolean leftOver;
        try {
            leftOver = inflated == null ? pos != end : !inflated.atEnd();
        } catch (Malformed m) {
            throw new InvalidRecordException(where + ": " + describe(batch) + " after its " + count + " records: "
                + m.getMessage());
        }
        if (leftOver) {
            throw new InvalidRecordException(where + ": " + describe(batch) + " has "
                + (inflated == null ? (end - pos) + " bytes" : "bytes") + " left after its " + count + " records");
        }
        if (errors != null) {
            StringBuilder m = new StringBuilder(where + ": " + errors.size() + " of " + count
                + " records were rejected; the first: ");
            for (int i = 0; i < Math.min(3, errors.size()); i++) {
                m.append(i == 0 ? "" : "; ").append("record ").append(errors.get(i).batchIndex()).append(": ")
                    .append(errors.get(i).message());
            }
            throw new InvalidRecordException(m.toString(), errors);
        }
    }

    /**
     * Checks the record starting at {@code pos} (its length varint) against {@code end}. Returns, packed
     * in one long to allocate nothing: the offset delta in bits 0-31, the position after the record in
     * bits 32-62, and {@link #NO_KEY} (bit 63) when its key is null. Absolute reads only.
     */
    private static long walkRecord(ByteBuffer b, int pos, int end) {
        long v = readVarint(b, pos, end, "record length");
        int length = (int) v;
        int p = (int) (v >>> 32);
        if (length < MIN_RECORD_BYTES - 1) {
            throw new Malformed("record length " + length + " is shorter than the smallest record");
        }
        if (length > end - p) {
            throw new Malformed("record length " + length + " runs past the batch (" + (end - p) + " bytes left)");
        }
        int recordEnd = p + length;
        p++; // attributes: unused in v2, ignored as Kafka does
        p = skipVarlong(b, p, recordEnd, "timestamp delta");
        v = readVarint(b, p, recordEnd, "offset delta");
        int offsetDelta = (int) v;
        p = (int) (v >>> 32);
        v = readVarint(b, p, recordEnd, "key length");
        int keyLength = (int) v;
        p = skipBytes(keyLength, (int) (v >>> 32), recordEnd, "key");
        v = readVarint(b, p, recordEnd, "value length");
        p = skipBytes((int) v, (int) (v >>> 32), recordEnd, "value");
        v = readVarint(b, p, recordEnd, "header count");
        int headers = (int) v;
        p = (int) (v >>> 32);
        if (headers < 0 || headers > (recordEnd - p) / 2) {
            throw new Malformed("header count " + headers + " with " + (recordEnd - p) + " bytes left in the record");
        }
        for (int h = 0; h < headers; h++) {
            v = readVarint(b, p, recordEnd, "header key length");
            if ((int) v < 0) {
                throw new Malformed("header " + h + " has key length " + (int) v);
            }
            p = skipBytes((int) v, (int) (v >>> 32), recordEnd, "header key");
            v = readVarint(b, p, recordEnd, "header value length");
            p = skipBytes((int) v, (int) (v >>> 32), recordEnd, "header value");
        }
        if (p != recordEnd) {
            throw new Malformed((recordEnd - p) + " bytes after the last header, inside the record's length");
        }
        return ((long) recordEnd << 32) | (offsetDelta & 0xffffffffL) | (keyLength < 0 ? NO_KEY : 0);
    }

    private static int skipBytes(int length, int p, int end, String what) {
        if (length < -1) {
            throw new Malformed(what + " length " + length);
        }
        if (length > end - p) {
            throw new Malformed(what + " length " + length + " runs past the record (" + (end - p) + " bytes left)");
        }
        return length < 0 ? p : p + length;
    }

    /** A zig-zag varint at {@code p}: the value in the low 32 bits, the position after it in the high 32. */
    static long readVarint(ByteBuffer b, int p, int end, String what) {
        if (p < end) {
            int first = b.get(p);
            if (first >= 0) {
                // one byte: most fields of most records (every delta, count and short length)
                return ((long) (p + 1) << 32) | (((first >>> 1) ^ -(first & 1)) & 0xffffffffL);
            }
            if (p + 1 < end) {
                int second = b.get(p + 1);
                if (second >= 0) {
                    // two bytes: the record and value lengths of records of 64 bytes to 8 KB
                    int raw = (first & 0x7f) | (second << 7);
                    return ((long) (p + 2) << 32) | (((raw >>> 1) ^ -(raw & 1)) & 0xffffffffL);
                }
            }
        }
        return readVarintSlow(b, p, end, what);
    }

    private static long readVarintSlow(ByteBuffer b, int p, int end, String what) {
        int raw = 0;
        for (int i = 0, shift = 0; i < 5; i++, shift += 7) {
            if (p >= end) {
                throw new Malformed(what + " runs past the end");
            }
            int x = b.get(p++) & 0xff;
            if (i == 4 && (x & 0xf0) != 0) {
                throw new Malformed(what + " overflows 32 bits");
            }
            raw |= (x & 0x7f) << shift;
            if ((x & 0x80) == 0) {
                int value = (raw >>> 1) ^ -(raw & 1);
                return ((long) p << 32) | (value & 0xffffffffL);
            }
        }
        throw new Malformed(what + " is longer than 5 bytes");
    }

    private static int skipVarlong(ByteBuffer b, int p, int end, String what) {
        if (p < end && b.get(p) >= 0) {
            return p + 1;
        }
        for (int i = 0; i < 10; i++) {
            if (p >= end) {
                throw new Malformed(what + " runs past the end");
            }
            int x = b.get(p++) & 0xff;
            if (i == 9 && (x & 0xfe) != 0) {
                throw new Malformed(what + " overflows 64 bits");
            }
            if ((x & 0x80) == 0) {
                return p;
            }
        }
        throw new Malformed(what + " is longer than 10 bytes");
    }

    private static String describe(RecordBatch batch) {
        return "batch at byte " + batch.start();
    }

    /**
     * The decompressed records of one batch, read from the codec's stream through one small chunk and
     * walked with the same rules as {@link #walkRecord}, skipping keys, values and headers: memory stays
     * at one chunk (plus the codec's own buffers) whatever the records or their declared lengths, and
     * the bytes decompressed stop at a bound.
     */
    private static final class Inflated {
        private static final int CHUNK_BYTES = 8192;

        /** One chunk per thread, taken while a batch is walked (a nested walk gets its own). */
        private static final ThreadLocal<byte[]> CHUNKS = new ThreadLocal<>();

        private final InputStream in;
        private final long maxBytes;
        private byte[] chunk;
        private int pos;
        private int filled;
        private long decompressed;
        /** Bytes of the decompressed records walked so far. */
        long consumed;

        Inflated(InputStream in, long maxBytes) {
            this.in = in;
            this.maxBytes = maxBytes;
            byte[] cached = CHUNKS.get();
            if (cached != null) {
                CHUNKS.set(null);
                chunk = cached;
            } else {
                chunk = new byte[CHUNK_BYTES];
            }
        }

        /** Gives the chunk back to this thread's cache; the walk is over. */
        void release() {
            CHUNKS.set(chunk);
        }

        /** Same contract as {@link #walkRecord(ByteBuffer, int, int)}, the position bits left 0. */
        long walkRecord() {
            int length = varint(Long.MAX_VALUE, "record length");
            if (length < MIN_RECORD_BYTES - 1) {
                throw new Malformed("record length " + length + " is shorter than the smallest record");
            }
            long end = consumed + length;
            next(end, "attributes");
            skipVarlong(end, "timestamp delta");
            int offsetDelta = varint(end, "offset delta");
            int keyLength = varint(end, "key length");
            skip(keyLength, end, "key");
            skip(varint(end, "value length"), end, "value");
            int headers = varint(end, "header count");
            if (headers < 0 || headers > (end - consumed) / 2) {
                throw new Malformed("header count " + headers + " with " + (end - consumed) + " bytes left in the record");
            }
            for (int h = 0; h < headers; h++) {
                int keyBytes = varint(end, "header key length");
                if (keyBytes < 0) {
                    throw new Malformed("header " + h + " has key length " + keyBytes);
                }
                skip(keyBytes, end, "header key");
                skip(varint(end, "header value length"), end, "header value");
            }
            if (consumed != end) {
                throw new Malformed((end - consumed) + " bytes after the last header, inside the record's length");
            }
            return (offsetDelta & 0xffffffffL) | (keyLength < 0 ? NO_KEY : 0);
        }

        /** Whether the stream holds nothing after what was walked. */
        boolean atEnd() {
            return pos == filled && !refill();
        }

        private int next(long end, String what) {
            if (consumed >= end) {
                throw new Malformed(what + " runs past the end of the record");
            }
            if (pos == filled && !refill()) {
                throw new Malformed(what + " runs past the end of the decompressed records");
            }
            consumed++;
            return chunk[pos++] & 0xff;
        }

        private int varint(long end, String what) {
            int raw = 0;
            for (int i = 0, shift = 0; i < 5; i++, shift += 7) {
                int x = next(end, what);
                if (i == 4 && (x & 0xf0) != 0) {
                    throw new Malformed(what + " overflows 32 bits");
                }
                raw |= (x & 0x7f) << shift;
                if ((x & 0x80) == 0) {
                    return (raw >>> 1) ^ -(raw & 1);
                }
            }
            throw new Malformed(what + " is longer than 5 bytes");
        }

        private void skipVarlong(long end, String what) {
            for (int i = 0; i < 10; i++) {
                int x = next(end, what);
                if (i == 9 && (x & 0xfe) != 0) {
                    throw new Malformed(what + " overflows 64 bits");
                }
                if ((x & 0x80) == 0) {
                    return;
                }
            }
            throw new Malformed(what + " is longer than 10 bytes");
        }

        /** Skips a length-prefixed field's bytes: -1 (null) skips nothing. */
        private void skip(int length, long end, String what) {
            if (length < -1) {
                throw new Malformed(what + " length " + length);
            }
            if (length > end - consumed) {
                throw new Malformed(what + " length " + length + " runs past the record (" + (end - consumed) + " bytes left)");
            }
            int left = length;
            while (left > 0) {
                if (pos == filled && !refill()) {
                    throw new Malformed(what + " runs past the end of the decompressed records");
                }
                int n = Math.min(left, filled - pos);
                pos += n;
                consumed += n;
                left -= n;
            }
        }

        private boolean refill() {
            for (int attempt = 0; attempt < 16; attempt++) {
                int n;
                try {
                    n = in.read(chunk, 0, CHUNK_BYTES);
                } catch (IOException | RuntimeException | SnappyError e) {
                    // only the codec's own failures become "cannot be decompressed"; a bug here stays a bug
                    throw new CodecFailure(e);
                }
                if (n < 0) {
                    return false;
                }
                if (n > 0) {
                    decompressed += n;
                    if (decompressed > maxBytes) {
                        throw new Malformed("the records decompress to more than " + maxBytes + " bytes");
                    }
                    pos = 0;
                    filled = n;
                    return true;
                }
            }
            throw new Malformed("the decompressing stream makes no progress");
        }
    }

    /** The codec failed on the batch's bytes (rethrown as INVALID_RECORD with context). */
    private static final class CodecFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CodecFailure(Throwable cause) {
            super(cause);
        }
    }

    /** A structural fault inside a record; carries no stack trace (rethrown with context). */
    private static final class Malformed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }
}
