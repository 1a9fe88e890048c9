package io.weir.log;

import io.weir.common.record.CompressionType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lock-free reads while one thread appends (and rolls small segments): every read returns whole,
 * CRC-valid batches, starting with the batch that holds the offset asked for, contiguous, below the
 * log end seen after the read, and each record holds the value written at its offset.
 */
class LogConcurrentReadTest {
    private static final int BATCHES = 1000;
    private static final int MIN_READS_PER_READER = 500;
    /** A reader stops here even if the appender is still going: bounded work, no sleeping. */
    private static final int MAX_READS_PER_READER = 200_000;

    private final Path root = TempDirs.create("log-concurrent");
    private final ExecutorService pool = Executors.newFixedThreadPool(3);
    private Log log;

    @AfterEach
    void cleanUp() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "test threads did not stop");
        if (log != null) {
            log.close();
        }
        TempDirs.delete(root);
    }

    private static byte[] valueFor(long offset) {
        return ("value-at-" + offset).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldServeWholeValidBatchesToReadersDuringAppendsAndRolls() throws Exception {
        log = Log.open(root.resolve("race-0"), LogConfig.fromMap(Map.of(LogConfig.SEGMENT_BYTES, "4096",
            LogConfig.INDEX_INTERVAL_BYTES, "200")), 0, 0, true, new MockTime());
        AtomicBoolean appending = new AtomicBoolean(true);
        CountDownLatch start = new CountDownLatch(1);

        Future<?> appender = pool.submit(() -> {
            SplittableRandom random = new SplittableRandom(1);
            CompressionType[] codecs = CompressionType.values();
            start.await();
            try {
                for (int i = 0; i < BATCHES; i++) {
                    // the only writer: the log end before the append is the batch's base offset
                    long offset = log.logEndOffset();
                    RecordBatchBuilder b = new RecordBatchBuilder(codecs[random.nextInt(codecs.length)]);
                    int n = 1 + random.nextInt(5);
                    for (int r = 0; r < n; r++) {
                        b.append(1_700_000_000_000L + i, null, valueFor(offset + r));
                    }
                    LogAppendInfo info = log.appendAsLeader(MemoryRecords.readableRecords(b.build()), 0);
                    assertEquals(offset, info.firstOffset());
                }
            } finally {
                appending.set(false);
            }
            return null;
        });

        List<Future<Integer>> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            long seed = 100 + t;
            readers.add(pool.submit(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
                start.await();
                int reads = 0;
                while ((appending.get() || reads < MIN_READS_PER_READER) && reads < MAX_READS_PER_READER) {
                    long logStart = log.logStartOffset();
                    long end = log.logEndOffset();
                    if (end == logStart) {
                        if (!appending.get()) {
                            break; // the appender failed before its first append; its future reports why
                        }
                        continue;
                    }
                    // often the newest batch: the one whose publication races with the reader
                    long offset = random.nextInt(4) == 0 ? end - 1 : logStart + random.nextLong(end - logStart);
                    int maxBytes = 1 + random.nextInt(buffer.capacity());
                    boolean minOneBatch = random.nextBoolean();
                    FetchDataInfo info = log.read(offset, maxBytes, Long.MAX_VALUE, minOneBatch);
                    long endAfter = log.logEndOffset();
                    int batches = checkRead(info, offset, endAfter, buffer);
                    assertTrue(batches > 0 || !minOneBatch, "a minOneBatch read at " + offset + " returned nothing");
                    reads++;
                }
                return reads;
            }));
        }
        start.countDown();
        appender.get(60, TimeUnit.SECONDS);
        for (Future<Integer> r : readers) {
            assertTrue(r.get(60, TimeUnit.SECONDS) >= MIN_READS_PER_READER);
        }
        assertTrue(log.numberOfSegments() > 10, "segments rolled during the race: " + log.numberOfSegments());
    }

    private static int checkRead(FetchDataInfo info, long offset, long endAfter, ByteBuffer buffer) throws Exception {
        FileRegion region = info.records();
        buffer.clear();
        int size = Math.min(region.sizeInBytes(), buffer.capacity());
        buffer.limit(size);
        int copied = region.readInto(buffer, 0);
        assertEquals(size, copied);
        buffer.flip();
        long expectedBase = -1;
        int batches = 0;
        for (RecordBatch batch : MemoryRecords.readableRecords(buffer)) {
            batch.ensureValid();
            if (batches == 0) {
                assertTrue(batch.baseOffset() <= offset && offset <= batch.lastOffset(),
                    "first batch " + batch.baseOffset() + ".." + batch.lastOffset() + " does not hold " + offset);
            } else {
                assertEquals(expectedBase, batch.baseOffset(), "batches of one read are contiguous");
            }
            assertTrue(batch.lastOffset() < endAfter, "batch " + batch.lastOffset() + " beyond the log end " + endAfter);
            long expectedOffset = batch.baseOffset();
            for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
                Record r = it.next();
                assertEquals(expectedOffset++, r.offset());
                assertEquals(new String(valueFor(r.offset()), StandardCharsets.UTF_8),
                    new String(r.valueBytes(), StandardCharsets.UTF_8));
            }
            assertEquals(batch.lastOffset() + 1, expectedOffset);
            expectedBase = batch.nextOffset();
            batches++;
        }
        return batches;
    }
}
