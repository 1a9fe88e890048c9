package io.weir.bench.jmh;

import io.weir.common.record.CompressionType;
import io.weir.common.record.MemoryRecords;
import io.weir.log.Log;
import io.weir.log.LogAppendInfo;
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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The broker's produce path on one partition: {@link Log#appendAsLeader} of one already-built batch
 * of 160 × 100-byte records (≈16 KB) per codec, against a baseline that writes the uncompressed
 * batch's bytes with a bare positional {@link FileChannel#write} to a file in the same directory.
 *
 * <p>The primary score is batches/s. Two auxiliary counters give MB/s (10^6 bytes): {@code payloadMB}
 * counts the records' value bytes (16,000 per batch, whatever the codec) and {@code diskMB} the bytes
 * written to the file (the batch as stored). The target is {@code append(none)} within 1.5× of
 * {@code rawFileChannelWrite}: compare their {@code diskMB} (the same bytes in both).
 *
 * <p>No fsync (default flush policy, segment.bytes far above what a run writes, so no roll). Files
 * stay bounded: when a log or raw file passes {@link #RESET_BYTES} it is replaced (log) or truncated
 * (raw) in an invocation-level setup, outside the measured time. The batch is appended as is every
 * time: the log rewrites only its base offset and leader epoch, which lie outside the CRC, so the
 * same bytes stay valid.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class LogAppendBenchmark {
    /** Files are reset past this size so a run never fills the disk or the page cache. */
    static final long RESET_BYTES = 64L * 1024 * 1024;

    /** A log with one prebuilt batch per codec. */
    @State(Scope.Thread)
    public static class AppendState {
        @Param({"none", "gzip", "snappy", "lz4", "zstd"})
        public String codec;

        Path dir;
        Log log;
        ByteBuffer batch;
        MemoryRecords records;
        int batchBytes;

        @Setup(Level.Trial)
        public void setup() {
            batch = BenchFiles.batch(CompressionType.forName(codec), 42);
            batchBytes = batch.remaining();
            records = MemoryRecords.readableRecords(batch);
            dir = BenchFiles.tempDir("weir-append-");
            log = BenchFiles.openLog(dir);
        }

        @Setup(Level.Invocation)
        public void resetIfLarge() {
            if (log.logEndOffsetMetadata().relativePositionInSegment() >= RESET_BYTES) {
                log.delete();
                log = BenchFiles.openLog(dir);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            log.delete();
            BenchFiles.deleteRecursively(dir);
        }
    }

    /** A plain file and the uncompressed batch's bytes. */
    @State(Scope.Thread)
    public static class RawState {
        Path dir;
        FileChannel channel;
        ByteBuffer batch;
        int batchBytes;
        long position;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            batch = BenchFiles.batch(CompressionType.NONE, 42);
            batchBytes = batch.remaining();
            dir = BenchFiles.tempDir("weir-raw-");
            channel = FileChannel.open(dir.resolve("raw.log"), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        }

        @Setup(Level.Invocation)
        public void resetIfLarge() throws IOException {
            if (position >= RESET_BYTES) {
                channel.truncate(0);
                position = 0;
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            channel.close();
            BenchFiles.deleteRecursively(dir);
        }
    }

    /** MB/s counters: JMH reports each field as a rate per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public double payloadMB;
        public double diskMB;

        @Setup(Level.Iteration)
        public void clear() {
            payloadMB = 0;
            diskMB = 0;
        }

        void add(int payloadBytes, int diskBytes) {
            payloadMB += payloadBytes / 1e6;
            diskMB += diskBytes / 1e6;
        }
    }

    @Benchmark
    public LogAppendInfo append(AppendState s, Bytes bytes) {
        LogAppendInfo info = s.log.appendAsLeader(s.records, 0);
        bytes.add(BenchFiles.PAYLOAD_BYTES_PER_BATCH, s.batchBytes);
        return info;
    }

    @Benchmark
    public int rawFileChannelWrite(RawState s, Bytes bytes) throws IOException {
        ByteBuffer src = s.batch.duplicate();
        int written = 0;
        while (src.hasRemaining()) {
            written += s.channel.write(src, s.position + written);
        }
        s.position += written;
        bytes.add(BenchFiles.PAYLOAD_BYTES_PER_BATCH, s.batchBytes);
        return written;
    }
}
