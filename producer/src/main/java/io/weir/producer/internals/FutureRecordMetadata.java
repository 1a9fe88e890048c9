package io.weir.producer.internals;

import io.weir.producer.RecordMetadata;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** The future of one record: done when its batch is. Cannot be cancelled. Thread-safe. */
public final class FutureRecordMetadata implements Future<RecordMetadata> {
    private final ProducerBatch batch;
    private final int relativeOffset;
    private final long timestamp;
    private final int keySize;
    private final int valueSize;
    /** The send's callback (null: none), run by the batch when it completes. */
    private final io.weir.producer.Callback callback;

    FutureRecordMetadata(ProducerBatch batch, int relativeOffset, long timestamp, int keySize, int valueSize,
                         io.weir.producer.Callback callback) {
        this.batch = batch;
        this.callback = callback;
        this.relativeOffset = relativeOffset;
        this.timestamp = timestamp;
        this.keySize = keySize;
        this.valueSize = valueSize;
    }

    /** A future already failed with {@code e} (a send that failed before reaching a batch). */
    public static Future<RecordMetadata> failed(Exception e) {
        java.util.concurrent.CompletableFuture<RecordMetadata> f = new java.util.concurrent.CompletableFuture<>();
        f.completeExceptionally(e);
        return f;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        return false;
    }

    @Override
    public boolean isCancelled() {
        return false;
    }

    @Override
    public boolean isDone() {
        return batch.isSettled();
    }

    @Override
    public RecordMetadata get() throws InterruptedException, ExecutionException {
        batch.await();
        return valueOrThrow();
    }

    @Override
    public RecordMetadata get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException,
        java.util.concurrent.TimeoutException {
        if (!batch.await(unit.toMillis(timeout))) {
            throw new java.util.concurrent.TimeoutException("Timeout after waiting for " + unit.toMillis(timeout)
                + " ms for the record to be acknowledged");
        }
        return valueOrThrow();
    }

    private RecordMetadata valueOrThrow() throws ExecutionException {
        RuntimeException e = batch.error();
        if (e != null) {
            throw new ExecutionException(e);
        }
        return value();
    }

    RecordMetadata value() {
        long base = batch.baseOffset();
        long offset = base < 0 ? -1 : base + relativeOffset;
        long ts = batch.logAppendTimeMs() >= 0 ? batch.logAppendTimeMs() : timestamp;
        return new RecordMetadata(batch.tp.topic(), batch.tp.partition(), offset, ts, keySize, valueSize);
    }

    io.weir.producer.Callback callback() {
        return callback;
    }

    long timestamp() {
        return timestamp;
    }

    int keySize() {
        return keySize;
    }

    int valueSize() {
        return valueSize;
    }
}
