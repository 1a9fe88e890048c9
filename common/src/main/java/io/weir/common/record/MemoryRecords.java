package io.weir.common.record;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A sequence of record batches in one ByteBuffer (a produce request's records, a fetch response's
 * partition data, a segment's bytes read into memory). The buffer is shared, never moved: views
 * use absolute indexes.
 *
 * <p>Not thread-safe for writes (in-place offset assignment); concurrent readers are fine.
 */
public final class MemoryRecords implements Iterable<RecordBatch> {
    private final ByteBuffer buffer;

    private MemoryRecords(ByteBuffer buffer) {
        this.buffer = buffer;
    }

    /** Wraps the bytes from the buffer's position to its limit. */
    public static MemoryRecords readableRecords(ByteBuffer buffer) {
        return new MemoryRecords(buffer.slice());
    }

    public ByteBuffer buffer() {
        return buffer.duplicate();
    }

    public int sizeInBytes() {
        return buffer.limit();
    }

    /**
     * Iterates whole batches; a partial batch at the end (as a fetch response may carry) ends the
     * iteration quietly. Each batch returned is its own view.
     */
    @Override
    public Iterator<RecordBatch> iterator() {
        return new BatchIterator(buffer, false);
    }

    /**
     * Iterates batches and checks that they fill the buffer exactly: a partial or malformed batch at
     * the end is a {@link CorruptRecordException} (what a produce request must satisfy). Batch CRCs are
     * not checked here: call {@link RecordBatch#ensureValid()}.
     */
    public Iterable<RecordBatch> strictBatches() {
        return () -> new BatchIterator(buffer, true);
    }

    /** Byte count of the leading whole batches (the rest is a partial batch). */
    public int validBytes() {
        int pos = 0;
        for (RecordBatch b : this) {
            pos = b.start() + b.sizeInBytes();
        }
        return pos;
    }

    private static final class BatchIterator implements Iterator<RecordBatch> {
        private final ByteBuffer buffer;
        private final boolean strict;
        private int position;
        private RecordBatch next;

        BatchIterator(ByteBuffer buffer, boolean strict) {
            this.buffer = buffer;
            this.strict = strict;
        }

        @Override
        public boolean hasNext() {
            if (next != null) {
                return true;
            }
            int remaining = buffer.limit() - position;
            if (remaining == 0) {
                return false;
            }
            if (remaining < RecordBatch.LOG_OVERHEAD) {
                return partial("only " + remaining + " bytes remain at byte " + position + ", fewer than a batch header");
            }
            int length = buffer.getInt(position + RecordBatch.LENGTH_OFFSET);
            if (length < RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD) {
                throw new CorruptRecordException("batch at byte " + position + " has length " + length
                    + ", less than the header's " + (RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD));
            }
            if (length > remaining - RecordBatch.LOG_OVERHEAD) {
                return partial("batch at byte " + position + " has length " + length + " but only "
                    + (remaining - RecordBatch.LOG_OVERHEAD) + " bytes follow");
            }
            next = new RecordBatch().wrap(buffer, position);
            position += RecordBatch.LOG_OVERHEAD + length;
            return true;
        }

        private boolean partial(String message) {
            if (strict) {
                throw new CorruptRecordException(message);
            }
            position = buffer.limit();
            return false;
        }

        @Override
        public RecordBatch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            RecordBatch b = next;
            next = null;
            return b;
        }
    }
}
