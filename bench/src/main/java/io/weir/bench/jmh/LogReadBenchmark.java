package io.weir.bench.jmh;

import io.weir.common.record.CompressionType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.log.FetchDataInfo;
import io.weir.log.FileRegion;
import io.weir.log.Log;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * Sequential fetches through a pre-filled log of ≈64 MB (one segment, in the page cache after the
 * fill): each invocation is one {@link Log#read} of up to 1 MB (max.partition.fetch.bytes' default)
 * from where the previous fetch's last whole batch ended, wrapping at the log end.
 * <ul>
 *   <li>{@code readInto}: the copying fetch path (TLS): {@link FileRegion#readInto} a heap buffer.
 *   <li>{@code readIntoAndIterate}: the same, then every batch and record walked (a consumer's work;
 *       compressed batches are decompressed).
 *   <li>{@code transferToDevNull}: the zero-copy path, {@link FileRegion#writeTo} (transferTo) into a
 *       FileChannel on /dev/null. Linux splices to /dev/null without copying, so this is the cost of
 *       the read bookkeeping plus the syscall, an upper bound for what a socket would see.
 * </ul>
 * The primary score is fetches/s; {@code diskMB} counts the file bytes fetched (a trailing partial
 * batch included, as a broker sends it) and {@code payloadMB} the record values walked (iterate only).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Thread)
public class LogReadBenchmark {
    static final long LOG_BYTES = 64L * 1024 * 1024;
    static final int FETCH_MAX_BYTES = 1024 * 1024;

    @Param({"none", "lz4"})
    public String codec;

    private Path dir;
    private Log log;
    /** Start offsets of consecutive 1 MB fetches covering the log, computed once. */
    private long[] fetchStarts;
    private int next;
    private ByteBuffer buffer;
    private FileChannel devNull;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        dir = BenchFiles.tempDir("weir-read-");
        log = BenchFiles.openLog(dir);
        ByteBuffer batch = BenchFiles.batch(CompressionType.forName(codec), 42);
        MemoryRecords records = MemoryRecords.readableRecords(batch);
        while (log.sizeInBytes() < LOG_BYTES) {
            log.appendAsLeader(records, 0);
        }
        buffer = ByteBuffer.allocate(FETCH_MAX_BYTES);
        long[] starts = new long[64];
        int n = 0;
        long offset = log.logStartOffset();
        while (offset < log.logEndOffset()) {
            if (n == starts.length) {
                starts = Arrays.copyOf(starts, n * 2);
            }
            starts[n++] = offset;
            buffer.clear();
            log.read(offset, FETCH_MAX_BYTES, Long.MAX_VALUE, true).records().readInto(buffer, 0);
            buffer.flip();
            for (RecordBatch b : MemoryRecords.readableRecords(buffer)) {
                offset = b.nextOffset();
            }
        }
        fetchStarts = Arrays.copyOf(starts, n);
        devNull = FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        devNull.close();
        log.delete();
        BenchFiles.deleteRecursively(dir);
    }

    /** MB/s counters: JMH reports each field as a rate per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public double diskMB;
        public double payloadMB;

        @Setup(Level.Iteration)
        public void clear() {
            diskMB = 0;
            payloadMB = 0;
        }
    }

    private FileRegion nextFetch() {
        long start = fetchStarts[next];
        next = next + 1 == fetchStarts.length ? 0 : next + 1;
        FetchDataInfo info = log.read(start, FETCH_MAX_BYTES, Long.MAX_VALUE, true);
        return info.records();
    }

    @Benchmark
    public int readInto(Bytes bytes) throws IOException {
        FileRegion region = nextFetch();
        buffer.clear();
        int n = region.readInto(buffer, 0);
        bytes.diskMB += n / 1e6;
        return n;
    }

    @Benchmark
    public void readIntoAndIterate(Bytes bytes, Blackhole bh) throws IOException {
        FileRegion region = nextFetch();
        buffer.clear();
        int n = region.readInto(buffer, 0);
        buffer.flip();
        long valueBytes = 0;
        for (RecordBatch batch : MemoryRecords.readableRecords(buffer)) {
            for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
                ByteBuffer value = it.next().value();
                valueBytes += value.remaining();
                bh.consume(value);
            }
        }
        bytes.diskMB += n / 1e6;
        bytes.payloadMB += valueBytes / 1e6;
    }

    @Benchmark
    public long transferToDevNull(Bytes bytes) throws IOException {
        FileRegion region = nextFetch();
        long done = 0;
        while (done < region.sizeInBytes()) {
            done += region.writeTo(devNull, done, region.sizeInBytes() - done);
        }
        bytes.diskMB += done / 1e6;
        return done;
    }
}
