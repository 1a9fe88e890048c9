package io.weir.log.internals;

import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.RecordBatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads whole batches one at a time from a range of a segment file, into one reusable buffer that
 * grows to the largest batch seen. A batch returned by {@link #next()} is a view valid only until the
 * next call. A length field is trusted only as far as the range allows, so a hostile or torn length
 * never allocates more than the bytes that are really there.
 *
 * <p>Not thread-safe; the underlying channel is read with positional reads and may be shared.
 */
public final class FileBatchReader {
    private final FileChannel channel;
    private final int end;
    private final RecordBatch view = new RecordBatch();
    private ByteBuffer buffer;
    private int position;
    private int batchPosition = -1;

    public FileBatchReader(FileChannel channel, int start, int end) {
        this(channel, start, end, 16 * 1024);
    }

    public FileBatchReader(FileChannel channel, int start, int end, int initialBufferBytes) {
        this.channel = channel;
        this.position = start;
        this.end = end;
        this.buffer = ByteBuffer.allocate(Math.max(RecordBatch.HEADER_SIZE, initialBufferBytes));
    }

    /** Start position of the batch last returned. */
    public int batchPosition() {
        return batchPosition;
    }

    /** Position after the batch last returned (where the next read starts). */
    public int position() {
        return position;
    }

    /**
     * The next whole batch, or null at the end of the range. Throws {@link CorruptRecordException}
     * when the bytes left cannot hold a batch header, or the length is below a header or runs past
     * the range (a torn write or a zero-filled tail). The CRC is not checked here.
     */
    public RecordBatch next() {
        int remaining = end - position;
        if (remaining <= 0) {
            return null;
        }
        if (remaining < RecordBatch.LOG_OVERHEAD) {
            throw new CorruptRecordException("only " + remaining + " bytes at position " + position
                + ", fewer than a batch's offset and length");
        }
        buffer.clear().limit(RecordBatch.LOG_OVERHEAD);
        readFully(buffer, position);
        int length = buffer.getInt(RecordBatch.LENGTH_OFFSET);
        if (length < RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD) {
            throw new CorruptRecordException("batch at position " + position + " has length " + length
                + ", less than a batch header");
        }
        if (length > remaining - RecordBatch.LOG_OVERHEAD) {
            throw new CorruptRecordException("batch at position " + position + " has length " + length
                + " but only " + (remaining - RecordBatch.LOG_OVERHEAD) + " bytes follow");
        }
        int size = RecordBatch.LOG_OVERHEAD + length;
        if (buffer.capacity() < size) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(size, Math.min(buffer.capacity() * 2, remaining)));
            bigger.put(buffer.flip());
            buffer = bigger;
        }
        buffer.limit(size).position(RecordBatch.LOG_OVERHEAD);
        readFully(buffer, position + RecordBatch.LOG_OVERHEAD);
        batchPosition = position;
        position += size;
        return view.wrap(buffer, 0);
    }

    private void readFully(ByteBuffer dst, long at) {
        try {
            long pos = at;
            while (dst.hasRemaining()) {
                int n = channel.read(dst, pos);
                if (n < 0) {
                    throw new CorruptRecordException("unexpected end of file at position " + pos);
                }
                pos += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
