package io.weir.producer.internals;

import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.Header;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The accumulator's batches live in the pool's {@code batch.size} buffers and give them back when done. */
class RecordAccumulatorPoolTest {
    private static final int BATCH = 1024;
    private static final Header[] NO_HEADERS = new Header[0];
    private final MockTime time = new MockTime();
    private final TopicPartition tp = new TopicPartition("t", 0);

    private static RecordAccumulator accumulator(BufferPool pool, CompressionType codec) {
        return new RecordAccumulator(BATCH, codec, codec.defaultLevel, 0, 100, 120_000, pool);
    }

    private static byte[] value(int i) {
        byte[] v = new byte[100];
        v[0] = (byte) i;
        return v;
    }

    /** Appends until the partition has a full batch and one more open; returns how many records went in. */
    private int fillOneBatch(RecordAccumulator acc, int from) throws InterruptedException {
        int i = from;
        while (acc.queueSize(tp) < 2) {
            acc.append(tp, 1L, null, value(i++), NO_HEADERS, null, 0, time.milliseconds());
        }
        return i - from;
    }

    @Test
    void shouldBuildBatchesInPooledBuffersAndReuseThemOnceDone() throws Exception {
        BufferPool pool = new BufferPool(8L * BATCH, BATCH, time);
        RecordAccumulator acc = accumulator(pool, CompressionType.NONE);

        for (int round = 0; round < 50; round++) {
            fillOneBatch(acc, 0);
            for (ProducerBatch b : acc.drainAll()) {
                b.close();
                b.complete(0, -1, null);
                acc.deallocate(b);
            }
        }

        assertEquals(2, pool.buffersAllocated(), "50 rounds of two batches each ran in the same two buffers");
        assertEquals(2, pool.freeBuffers());
        assertEquals(8L * BATCH, pool.availableBytes());
    }

    @Test
    void shouldFinishAnUncompressedBatchInItsPooledBufferWithoutACopy() throws Exception {
        BufferPool pool = new BufferPool(8L * BATCH, BATCH, time);
        RecordAccumulator acc = accumulator(pool, CompressionType.NONE);
        for (int i = 0; i < 3; i++) {
            acc.append(tp, 1L, null, value(i), NO_HEADERS, null, 0, time.milliseconds());
        }
        ProducerBatch b = acc.drainAll().get(0);

        ByteBuffer built = b.close();

        assertSame(b.buffer.array(), built.array(), "the batch is sent from the pool's buffer");
        RecordBatch batch = new RecordBatch(built);
        batch.ensureValid();
        assertEquals(3, batch.recordCount());
        Iterator<Record> records = batch.records();
        for (int i = 0; i < 3; i++) {
            assertEquals((byte) i, records.next().value().get(0));
        }
    }

    @Test
    void shouldCompressAPooledBatchIntoItsOwnBytesAndStillReuseTheBuffer() throws Exception {
        BufferPool pool = new BufferPool(8L * BATCH, BATCH, time);
        RecordAccumulator acc = accumulator(pool, CompressionType.GZIP);
        acc.append(tp, 1L, null, value(7), NO_HEADERS, null, 0, time.milliseconds());
        ProducerBatch b = acc.drainAll().get(0);
        RecordBatch batch = new RecordBatch(b.close());
        batch.ensureValid();
        assertEquals((byte) 7, batch.records().next().value().get(0));
        b.complete(0, -1, null);
        acc.deallocate(b);
        assertEquals(1, pool.freeBuffers());
    }

    @Test
    void shouldGiveAnOversizedRecordADedicatedBufferThatIsNotPooled() throws Exception {
        BufferPool pool = new BufferPool(8L * BATCH, BATCH, time);
        RecordAccumulator acc = accumulator(pool, CompressionType.NONE);
        acc.append(tp, 1L, null, new byte[3 * BATCH], NO_HEADERS, null, 0, time.milliseconds());
        ProducerBatch b = acc.drainAll().get(0);
        assertTrue(b.buffer.capacity() > BATCH);
        b.close();
        b.complete(0, -1, null);
        acc.deallocate(b);
        assertEquals(0, pool.freeBuffers());
        assertEquals(8L * BATCH, pool.availableBytes());
    }

    @Test
    void shouldWakeAnAppendBlockedOnMemoryWhenABatchCompletes() throws Exception {
        BufferPool pool = new BufferPool(BATCH, BATCH, time); // room for one batch
        RecordAccumulator acc = accumulator(pool, CompressionType.NONE);
        int i = 0;
        while (true) { // fill the only batch until the next record needs a second one, which cannot be had
            try {
                acc.append(tp, 1L, null, value(i++), NO_HEADERS, null, 0, time.milliseconds());
            } catch (io.weir.protocol.client.TimeoutException full) {
                break;
            }
        }
        assertEquals(1, acc.queueSize(tp));
        ProducerBatch full = acc.drainAll().get(0);
        CompletableFuture<RecordAccumulator.AppendResult> blocked = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                blocked.complete(acc.append(tp, 1L, null, value(99), NO_HEADERS, null, Long.MAX_VALUE,
                    time.milliseconds()));
            } catch (Throwable e) {
                blocked.completeExceptionally(e);
            }
        }, "blocked-append");
        t.setDaemon(true);
        t.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!pool.hasWaiters() && !blocked.isDone()) {
            assertTrue(System.nanoTime() - deadline < 0, "the append neither waited nor returned in 30 s; its thread is "
                + t.getState());
            Thread.onSpinWait();
        }
        assertFalse(blocked.isDone(), "buffer.memory holds one batch: the next one waits for it");

        full.close();
        full.complete(0, -1, null);
        acc.deallocate(full);

        assertTrue(blocked.get(30, TimeUnit.SECONDS).newBatchCreated());
        ProducerBatch next = acc.drainAll().get(0);
        assertSame(full.buffer, next.buffer, "the new batch was built in the buffer the completed one gave back");
        assertEquals(1, pool.buffersAllocated());
    }

    @Test
    void shouldNotReuseTheBufferOfABatchWhoseRequestIsStillOut() throws Exception {
        BufferPool pool = new BufferPool(8L * BATCH, BATCH, time);
        RecordAccumulator acc = accumulator(pool, CompressionType.NONE);
        acc.append(tp, 1L, null, value(1), NO_HEADERS, null, 0, time.milliseconds());
        ProducerBatch b = acc.drainAll().get(0);
        b.close();
        b.requestSent(); // a produce request carrying it, not yet answered (e.g. the batch is aborted on close)

        b.complete(-1, -1, new IllegalStateException("aborted"));
        acc.deallocate(b);

        assertEquals(0, pool.freeBuffers(), "a request may still be serialized from it");
        assertEquals(8L * BATCH, pool.availableBytes(), "its bytes are free all the same");

        acc.append(tp, 1L, null, value(2), NO_HEADERS, null, 0, time.milliseconds());
        List<ProducerBatch> next = acc.drainAll();
        assertFalse(next.get(0).buffer == b.buffer);
    }
}
