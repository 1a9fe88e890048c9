package io.weir.producer.internals;

import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.Header;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.utils.Crc32c;
import io.weir.producer.Callback;
import io.weir.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

/**
 * The records of one partition that travel together as one RecordBatch v2.
 *
 * <p>Life: open (records appended under the partition deque's lock) → closed at its first drain
 * (compressed once by {@link RecordBatchBuilder#build()}) → stamped with producer id, epoch and base
 * sequence (re-stamped only after a producer id reset) → sent, possibly several times → done exactly
 * once, with an offset or an exception. Callbacks run in append order when it is done.
 *
 * <p>Thread-safety: appends happen under the deque lock; everything after the first drain happens
 * on the sender thread; {@link #await()} and the done flag may be used from any thread.
 */
public final class ProducerBatch {
    private static final Logger log = LoggerFactory.getLogger(ProducerBatch.class);
    /** Worst-case framing of one record beyond its key, value and headers (varint lengths, deltas, attributes). */
    private static final int RECORD_OVERHEAD_UPPER_BOUND = 5 + 1 + 10 + 5 + 5 + 5 + 5;
    /** Cap of the first futures array (tiny records in a large batch grow it instead). */
    private static final int MAX_INITIAL_RECORDS = 1024;

    final TopicPartition tp;
    final long createdMs;
    final int reservedBytes;
    private final RecordBatchBuilder builder;
    private final int maxBatchBytes;
    /**
     * The records' futures in append order, each holding its record's callback: one object per record
     * (no separate callback holder), in an array sized for a full batch of records the size of the first, so
     * a batch of like-sized records never grows it.
     */
    private FutureRecordMetadata[] futures;
    private int recordCount;
    /** Bytes the last appended record added to the batch (uncompressed). */
    private int lastRecordBytes;
    /** The smallest size estimate {@link #tryAppend} was given: the test a like record would have to pass. */
    private int minRecordEstimate = Integer.MAX_VALUE;
    /** Sendable by size: once so, it stays so (a smaller record appended after must not make it wait again). */
    private boolean full;
    private final CountDownLatch doneLatch = new CountDownLatch(1);

    private ByteBuffer built;
    /** The pool buffer the records are written in (an uncompressed batch is sent straight from it). */
    final ByteBuffer buffer;
    /**
     * Produce requests carrying this batch that have not come back yet (sender thread). While one is
     * out, the request may still be serialized from {@link #buffer}, so the buffer is not reused.
     */
    private final java.util.concurrent.atomic.AtomicInteger requestsOut = new java.util.concurrent.atomic.AtomicInteger();
    /** Bit 4 of the batch attributes: the batch belongs to a transaction (log-core keeps its mask private). */
    private static final short TRANSACTIONAL_ATTRIBUTE = 0x10;

    long producerId = RecordBatch.NO_PRODUCER_ID;
    short producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
    int baseSequence = RecordBatch.NO_SEQUENCE;
    int attempts;
    long lastAttemptMs;
    /**
     * The partition's leader epoch in the metadata this batch was last drained with (-1 unknown). A retry
     * waits {@code retry.backoff.ms} unless metadata names a newer leader epoch by then: the leader changed,
     * so the batch goes to the new one at once (KIP-951's rule) and never waits on the old one.
     */
    int leaderEpochAtDrain = -1;
    private volatile boolean done;
    private volatile long baseOffset = -1;
    private volatile long logAppendTimeMs = -1;
    private volatile RuntimeException error;

    /**
     * A batch built in {@code buffer}, which came from the {@link BufferPool} ({@code reservedBytes} of
     * it) and goes back there through {@link RecordAccumulator#deallocate} when the batch is done.
     */
    ProducerBatch(TopicPartition tp, CompressionType compression, int compressionLevel, int maxBatchBytes,
                  ByteBuffer buffer, int reservedBytes, long nowMs) {
        this.tp = tp;
        this.createdMs = nowMs;
        this.maxBatchBytes = maxBatchBytes;
        this.reservedBytes = reservedBytes;
        this.buffer = buffer;
        this.builder = new RecordBatchBuilder(compression, buffer)
            .compressionLevel(compression == CompressionType.NONE || compression == CompressionType.SNAPPY
                ? compression.defaultLevel : compressionLevel);
    }

    /** Upper bound of the bytes one record adds to a batch. */
    static int estimateRecordSize(byte[] key, byte[] value, Header[] headers) {
        int size = RECORD_OVERHEAD_UPPER_BOUND + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        for (Header h : headers) {
            size += 10 + h.key().length() * 3 + (h.value() == null ? 0 : h.value().length);
        }
        return size;
    }

    /**
     * Appends a record if it fits under {@code batch.size} (a record alone in its batch always fits);
     * returns its future, or null when the batch is full or already closed.
     */
    FutureRecordMetadata tryAppend(long timestamp, byte[] key, byte[] value, Header[] headers, Callback callback,
                                   int recordSizeEstimate) {
        if (built != null) {
            return null;
        }
        if (!builder.isEmpty() && builder.uncompressedSizeInBytes() + recordSizeEstimate > maxBatchBytes) {
            full = true; // it refused a record for size: sendable now, whatever isFull foresaw
            return null;
        }
        int before = builder.uncompressedSizeInBytes();
        builder.append(timestamp, key, value, headers);
        lastRecordBytes = builder.uncompressedSizeInBytes() - before;
        minRecordEstimate = Math.min(minRecordEstimate, recordSizeEstimate);
        FutureRecordMetadata f = new FutureRecordMetadata(this, recordCount, timestamp,
            key == null ? -1 : key.length, value == null ? -1 : value.length, callback);
        if (futures == null) {
            // sized by the first record's written size (the estimate is an upper bound, which undersized it)
            int firstRecordBytes = Math.max(1, builder.uncompressedSizeInBytes() - RecordBatch.HEADER_SIZE);
            futures = new FutureRecordMetadata[Math.max(1, Math.min(MAX_INITIAL_RECORDS,
                (maxBatchBytes - RecordBatch.HEADER_SIZE) / firstRecordBytes + 1))];
        } else if (recordCount == futures.length) {
            futures = Arrays.copyOf(futures, futures.length * 2);
        }
        futures[recordCount++] = f;
        return f;
    }

    /**
     * Whether the batch is sendable by size: it reached {@code batch.size}, refused a record for size, or holds two
     * or more records and another as small as its smallest would not fit (by the same upper-bound estimate
     * {@link #tryAppend} tests, so "full" and "refuses a like record" agree). A batch of like-sized records is then
     * sendable as soon as it can take no more, not only once a record was refused (which kept it one record interval
     * longer: 0.1 ms per batch at 10,000 records/s); one record alone says nothing about the next, so a lone large
     * record still waits {@code linger.ms} for small ones. Once full, a batch stays full. Called under the deque lock.
     */
    boolean isFull() {
        if (full || built != null) {
            return true;
        }
        int size = builder.uncompressedSizeInBytes();
        full = size >= maxBatchBytes || recordCount >= 2 && size + minRecordEstimate > maxBatchBytes;
        return full;
    }

    /** Bytes the last {@link #tryAppend} added to the batch (uncompressed, record framing included). */
    int lastRecordBytes() {
        return lastRecordBytes;
    }

    int recordCount() {
        return recordCount;
    }

    /** Slots of the futures array (0 before the first record): for tests of its sizing. */
    int futuresCapacity() {
        return futures == null ? 0 : futures.length;
    }

    /** Compresses the records (first drain only) and returns the batch bytes. */
    ByteBuffer close() {
        if (built == null) {
            built = builder.build();
        }
        return built;
    }

    boolean isClosed() {
        return built != null;
    }

    int sizeInBytes() {
        return built != null ? built.remaining() : builder.uncompressedSizeInBytes();
    }

    /**
     * Writes producer id, epoch and base sequence (and, for a transactional producer, the
     * transactional attribute bit) into the built batch and recomputes its CRC.
     */
    void stamp(long pid, short epoch, int seq, boolean transactional) {
        ByteBuffer b = close();
        producerId = pid;
        producerEpoch = epoch;
        baseSequence = seq;
        if (transactional) {
            short attributes = b.getShort(RecordBatch.ATTRIBUTES_OFFSET);
            b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) (attributes | TRANSACTIONAL_ATTRIBUTE));
        }
        b.putLong(RecordBatch.PRODUCER_ID_OFFSET, pid);
        b.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, epoch);
        b.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, seq);
        b.putInt(RecordBatch.CRC_OFFSET, (int) Crc32c.compute(b, RecordBatch.ATTRIBUTES_OFFSET,
            b.limit() - RecordBatch.ATTRIBUTES_OFFSET));
    }

    boolean hasSequence() {
        return baseSequence != RecordBatch.NO_SEQUENCE;
    }

    int lastSequence() {
        return baseSequence + recordCount - 1;
    }

    /** The bytes to send: a read-only view, so a serializer cannot move our position. */
    ByteBuffer records() {
        return close().duplicate();
    }

    boolean isDone() {
        return done;
    }

    /** A produce request carrying this batch was handed to the network client. */
    void requestSent() {
        requestsOut.incrementAndGet();
    }

    /** A produce request carrying this batch came back (answered or failed). */
    void requestReturned() {
        requestsOut.decrementAndGet();
    }

    /** Whether no request may still read {@link #buffer}: only then may the pool hand it out again. */
    boolean bufferReusable() {
        return requestsOut.get() <= 0;
    }

    /** True once the callbacks have run and waiters are released. */
    boolean isSettled() {
        return doneLatch.getCount() == 0;
    }

    /**
     * Completes the batch once: fills the futures, then runs callbacks in append order. Returns false
     * if it was already done (a late response after expiry, say).
     */
    boolean complete(long baseOffset, long logAppendTimeMs, RuntimeException exception) {
        if (done) {
            return false;
        }
        this.baseOffset = baseOffset;
        this.logAppendTimeMs = logAppendTimeMs;
        this.error = exception;
        this.done = true;
        try {
            for (int i = 0; i < recordCount; i++) {
                FutureRecordMetadata f = futures[i];
                Callback callback = f.callback();
                if (callback == null) {
                    continue;
                }
                try {
                    if (exception == null) {
                        callback.onCompletion(f.value(), null);
                    } else {
                        callback.onCompletion(new RecordMetadata(tp.topic(), tp.partition(), -1,
                            f.timestamp(), f.keySize(), f.valueSize()), exception);
                    }
                } catch (Throwable e) {
                    // an Error too (a failed assertion, a stack overflow): the user's bug must neither leave the
                    // batch's other records unsettled nor kill the I/O thread every record depends on
                    log.error("A producer callback for {} threw", tp, e);
                }
            }
        } finally {
            // after the callbacks, as in Kafka: flush() and get() return once the callbacks have run
            doneLatch.countDown();
        }
        return true;
    }

    void await() throws InterruptedException {
        doneLatch.await();
    }

    boolean await(long timeoutMs) throws InterruptedException {
        return doneLatch.await(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    long baseOffset() {
        return baseOffset;
    }

    long logAppendTimeMs() {
        return logAppendTimeMs;
    }

    RuntimeException error() {
        return error;
    }

    @Override
    public String toString() {
        return "ProducerBatch(" + tp + ", records=" + recordCount + ", seq=" + baseSequence + ", attempts=" + attempts
            + ")";
    }
}
