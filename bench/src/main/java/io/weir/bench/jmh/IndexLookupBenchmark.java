package io.weir.bench.jmh;

import io.weir.common.record.CompressionType;
import io.weir.common.record.MemoryRecords;
import io.weir.log.FetchDataInfo;
import io.weir.log.Log;
import io.weir.log.internals.LogSegment;
import io.weir.log.internals.OffsetIndex;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Offset → file position, in ns per lookup, at random target offsets:
 * <ul>
 *   <li>{@code offsetIndexLookup}: {@link OffsetIndex#lookup} in a full 10 MB index (1,310,720
 *       entries; segment.index.bytes' default), a binary search over the mmap under the index lock.
 *   <li>{@code segmentTranslateOffset}: the index lookup plus the scan of batch headers (positional
 *       reads) to the batch holding the offset, in a ≈64 MB segment of ≈16 KB batches.
 *   <li>{@code logReadStart}: what a fetch pays before any byte moves: {@link Log#read} of 1 MB at the
 *       offset, i.e. the segment map lookup, the translation above and the region built.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class IndexLookupBenchmark {
    static final int INDEX_BYTES = 10 * 1024 * 1024;
    static final int TARGETS = 1 << 16;

    /** A full offset index: entry i maps offset 8·i to position 1024·i. */
    @State(Scope.Thread)
    public static class IndexState {
        Path dir;
        OffsetIndex index;
        long[] targets;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            dir = BenchFiles.tempDir("weir-index-");
            index = new OffsetIndex(dir.resolve("00000000000000000000.index"), 0L, INDEX_BYTES, true);
            for (int i = 0; !index.isFull(); i++) {
                index.append(8L * i, 1024 * i);
            }
            targets = randomTargets(0, 8L * index.entries(), new Random(7));
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            index.deleteIfExists();
            BenchFiles.deleteRecursively(dir);
        }
    }

    /** A ≈64 MB single-segment log of uncompressed ≈16 KB batches. */
    @State(Scope.Thread)
    public static class LogState {
        Path dir;
        Log log;
        LogSegment segment;
        long[] targets;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            dir = BenchFiles.tempDir("weir-lookup-");
            log = BenchFiles.openLog(dir);
            ByteBuffer batch = BenchFiles.batch(CompressionType.NONE, 42);
            MemoryRecords records = MemoryRecords.readableRecords(batch);
            while (log.sizeInBytes() < LogReadBenchmark.LOG_BYTES) {
                log.appendAsLeader(records, 0);
            }
            segment = log.activeSegment();
            targets = randomTargets(log.logStartOffset(), log.logEndOffset(), new Random(7));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            log.delete();
            BenchFiles.deleteRecursively(dir);
        }
    }

    static long[] randomTargets(long fromInclusive, long toExclusive, Random rnd) {
        long[] out = new long[TARGETS];
        for (int i = 0; i < out.length; i++) {
            out[i] = fromInclusive + (long) (rnd.nextDouble() * (toExclusive - fromInclusive));
        }
        return out;
    }

    @Benchmark
    public int offsetIndexLookup(IndexState s) {
        long target = s.targets[s.next++ & (TARGETS - 1)];
        return s.index.lookup(target).position();
    }

    @Benchmark
    public int segmentTranslateOffset(LogState s) {
        long target = s.targets[s.next++ & (TARGETS - 1)];
        return s.segment.translateOffset(target, 0, Integer.MAX_VALUE).position();
    }

    @Benchmark
    public FetchDataInfo logReadStart(LogState s) {
        long target = s.targets[s.next++ & (TARGETS - 1)];
        return s.log.read(target, 1024 * 1024, Long.MAX_VALUE, true);
    }
}
