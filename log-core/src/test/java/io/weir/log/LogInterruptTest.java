package io.weir.log;

import io.weir.common.record.CompressionType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A thread interrupted while it reads or writes a segment must not close the segment's file for every other
 * thread: {@code FileChannel} is an {@code InterruptibleChannel}, which the JDK closes when a thread is
 * interrupted inside {@code read}/{@code write}/{@code transferTo} on it (or enters one interrupted), and a
 * segment's channel is shared by every fetch, append and index lookup of the partition. Before the fix, every
 * later read of such a segment failed (the broker then took the whole log directory offline).
 */
class LogInterruptTest {
    /** Much more than a pipe's kernel buffer (64 KiB on Linux), so a transfer into an undrained pipe blocks. */
    private static final int BATCHES = 64;
    private static final int VALUE_BYTES = 16 * 1024;

    private final Path root = TempDirs.create("log-interrupt");
    private Log log;

    @BeforeEach
    void openLog() {
        log = Log.open(root.resolve("interrupt-0"), LogConfig.fromMap(Map.of()), 0, 0, true, new MockTime());
        for (int i = 0; i < BATCHES; i++) {
            append(i);
        }
    }

    @AfterEach
    void cleanUp() {
        Thread.interrupted(); // a failed test must not leave the runner's thread interrupted
        log.close();
        TempDirs.delete(root);
    }

    private static byte[] valueFor(long offset) {
        byte[] v = new byte[VALUE_BYTES];
        Arrays.fill(v, (byte) offset);
        return v;
    }

    private void append(long offset) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        b.append(1_700_000_000_000L + offset, (byte[]) null, valueFor(offset));
        assertEquals(offset, log.appendAsLeader(MemoryRecords.readableRecords(b.build()), 0).firstOffset());
    }

    /** Reads the whole log on this thread and checks every record's value; returns the records read. */
    private int readAllAndCheck() throws Exception {
        long end = log.logEndOffset();
        FetchDataInfo info = log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true);
        MemoryRecords records = info.records().readRecords();
        int n = 0;
        for (RecordBatch batch : records) {
            Iterator<Record> it = batch.records();
            while (it.hasNext()) {
                Record r = it.next();
                assertArrayEquals(valueFor(r.offset()), r.valueBytes(), "value at offset " + r.offset());
                n++;
            }
        }
        assertEquals(end, n, "records read");
        return n;
    }

    @Test
    void shouldKeepTheSegmentReadableWhenAThreadIsInterruptedInsideATransferToAPipe() throws Exception {
        FileRegion region = log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true).records();
        Pipe pipe = Pipe.open(); // blocking: the sender blocks in transferTo once the pipe's buffer is full
        AtomicBoolean interruptedAtEnd = new AtomicBoolean();
        CompletableFuture<Long> sent = new CompletableFuture<>();
        Thread sender = new Thread(() -> {
            long done = 0;
            try {
                while (done < region.sizeInBytes()) {
                    done += region.writeTo(pipe.sink(), done, region.sizeInBytes() - done);
                }
                sent.complete(done);
            } catch (Throwable e) {
                sent.completeExceptionally(e);
            } finally {
                interruptedAtEnd.set(Thread.currentThread().isInterrupted());
                try {
                    pipe.sink().close(); // the drain below ends at end of stream
                } catch (Exception ignored) {
                    // nothing to release then
                }
            }
        }, "interrupted-sender");
        sender.start();
        ByteBuffer first = ByteBuffer.allocate(1);
        while (pipe.source().read(first) == 0) {
            Thread.onSpinWait(); // a blocking source returns 0 only for an empty buffer: not expected
        }
        // The sender is inside transferTo now (blocked on the full pipe), or between two calls of its loop: either
        // way the JDK closed the channel it transfers from (on the interrupt, or on entering the next call). The
        // sender cannot finish first, as nothing drains the pipe meanwhile.
        sender.interrupt();

        assertEquals(BATCHES, readAllAndCheck(), "a read on another thread after the interrupt");
        append(BATCHES);
        assertEquals(BATCHES + 1, readAllAndCheck(), "an append and a read after the interrupt");

        ByteBuffer drain = ByteBuffer.allocate(64 * 1024);
        long drained = first.position();
        int n;
        while ((n = pipe.source().read(drain.clear())) >= 0) {
            drained += n;
        }
        pipe.source().close();
        sender.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(sender.isAlive(), "the sender ended");
        assertTrue(interruptedAtEnd.get(), "the sender's interrupt is not swallowed");
        if (sent.isCompletedExceptionally()) {
            // cut inside transferTo: part of the range may have reached the pipe, so it is not repeated
            Throwable cause = sent.handle((v, e) -> e).join();
            assertTrue(cause instanceof java.nio.channels.AsynchronousCloseException, cause.toString());
        } else {
            assertEquals(region.sizeInBytes(), drained, "a transfer that completed sent the whole region");
        }
        assertEquals(BATCHES + 1, readAllAndCheck(), "reads still work once the sender is gone");
    }

    @Test
    void shouldKeepTheSegmentReadableWhenAThreadIsInterruptedWhileItsTransferWritesToASlowTarget() throws Exception {
        FileRegion region = log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true).records();
        CountDownLatch writing = new CountDownLatch(1);
        Semaphore release = new Semaphore(0);
        // a target the JDK cannot send to directly: it reads the file in chunks and writes each chunk here
        WritableByteChannel slow = new WritableByteChannel() {
            @Override
            public int write(ByteBuffer src) {
                writing.countDown();
                release.acquireUninterruptibly();
                int n = src.remaining();
                src.position(src.limit());
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        AtomicBoolean interruptedAtEnd = new AtomicBoolean();
        CompletableFuture<Long> sent = new CompletableFuture<>();
        Thread sender = new Thread(() -> {
            try {
                sent.complete(region.writeTo(slow, 0, region.sizeInBytes()));
            } catch (Throwable e) {
                sent.completeExceptionally(e);
            } finally {
                interruptedAtEnd.set(Thread.currentThread().isInterrupted());
            }
        }, "interrupted-sender");
        sender.start();
        writing.await(); // the sender is inside transferTo, its first chunk handed to the target
        sender.interrupt();
        release.release(Integer.MAX_VALUE / 2); // its next file read inside transferTo sees the interrupt
        sender.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(sender.isAlive(), "the sender ended");
        assertTrue(interruptedAtEnd.get(), "the sender's interrupt is not swallowed");

        assertEquals(BATCHES, readAllAndCheck(), "a read after the interrupted transfer");
        long done = sent.isCompletedExceptionally() ? 0 : sent.get();
        while (done < region.sizeInBytes()) { // the interrupted sender's region is still good to send
            done += region.writeTo(slow, done, region.sizeInBytes() - done);
        }
        append(BATCHES);
        assertEquals(BATCHES + 1, readAllAndCheck(), "an append and a read after the interrupt");
    }

    @Test
    void shouldReadAndAppendOnAnInterruptedThreadAndKeepItsInterrupt() throws Exception {
        Thread.currentThread().interrupt(); // a handler being stopped, still finishing its request
        try {
            assertEquals(BATCHES, readAllAndCheck(), "a read by an interrupted thread");
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the thread to act on");
            append(BATCHES);
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the thread to act on");
        } finally {
            Thread.interrupted();
        }
        assertEquals(BATCHES + 1, readAllAndCheck(), "a read on the same thread, no longer interrupted");
    }

    @Test
    void shouldServeEveryReadWhileReadersAreInterruptedAtRandom() throws Exception {
        int readers = 3;
        int readsEach = 300;
        AtomicIntegerArray reads = new AtomicIntegerArray(readers);
        List<CompletableFuture<Integer>> done = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < readers; t++) {
            int me = t;
            CompletableFuture<Integer> f = new CompletableFuture<>();
            done.add(f);
            threads.add(new Thread(() -> {
                try {
                    for (int i = 0; i < readsEach; i++) {
                        Thread.interrupted(); // each read starts clean: an interrupt lands during or just before it
                        readAllAndCheck();
                        reads.incrementAndGet(me);
                    }
                    f.complete(readsEach);
                } catch (Throwable e) {
                    f.completeExceptionally(e);
                }
            }, "reader-" + t));
        }
        threads.forEach(Thread::start);
        // at most one interrupt per read of each reader: a steady stream, not a storm that starves every read
        int[] interruptedAt = new int[readers];
        Arrays.fill(interruptedAt, -1);
        SplittableRandom random = new SplittableRandom(7);
        CompletableFuture<Void> all = CompletableFuture.allOf(done.toArray(new CompletableFuture[0]));
        int interrupts = 0;
        while (!all.isDone()) {
            int r = random.nextInt(readers);
            int at = reads.get(r);
            if (at > interruptedAt[r]) {
                threads.get(r).interrupt();
                interruptedAt[r] = at;
                interrupts++;
            } else {
                Thread.onSpinWait();
            }
        }
        for (CompletableFuture<Integer> f : done) {
            assertEquals(readsEach, f.get(), "every read of an interrupted reader succeeded");
        }
        assertTrue(interrupts > 0);
        assertEquals(BATCHES, readAllAndCheck());
        append(BATCHES);
    }

    @Test
    void shouldRollASegmentOnAnInterruptedThread() throws Exception {
        log.close();
        // every append rolls: the new segment's indexes are mapped and the old ones trimmed (remapped)
        log = Log.open(root.resolve("interrupt-1"), LogConfig.fromMap(Map.of(LogConfig.SEGMENT_BYTES, "1024")), 0, 0,
            true, new MockTime());
        append(0);
        append(1);
        Thread.currentThread().interrupt();
        try {
            append(2);
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the thread to act on");
        } finally {
            Thread.interrupted();
        }
        assertEquals(3, log.numberOfSegments());
        append(3); // reads and appends go on after the interrupted roll, one segment per batch
        for (long offset = 0; offset < 4; offset++) {
            RecordBatch batch = log.read(offset, Integer.MAX_VALUE, Long.MAX_VALUE, true).records().readRecords()
                .iterator().next();
            assertEquals(offset, batch.baseOffset(), "the read of offset " + offset);
            assertArrayEquals(valueFor(offset), batch.records().next().valueBytes(), "value at offset " + offset);
        }
    }
}
