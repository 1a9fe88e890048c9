package io.weir.producer.internals;

import io.weir.bench.jmh.Payloads;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.Header;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The producer's accumulator: appending 100-byte records into per-partition batches of 16 KB, then
 * closing (compressing once) each batch as the sender's drain would. Lives in the accumulator's
 * package because the batch close is package-private. Score: records/s (ns/record = 1e9 / score;
 * MB/s of payload = score × 100 / 1e6).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@OperationsPerInvocation(AccumulatorBenchmark.RECORDS)
public class AccumulatorBenchmark {
    static final int RECORDS = 1_600; // about ten 16 KB batches
    private static final Header[] NO_HEADERS = new Header[0];

    @Param({"none", "gzip", "snappy", "lz4", "zstd"})
    public String codec;

    private RecordAccumulator accumulator;
    private final TopicPartition tp = new TopicPartition("bench", 0);
    private byte[][] values;

    @Setup(Level.Trial)
    public void setup() {
        CompressionType type = CompressionType.forName(codec);
        BufferPool pool = new BufferPool(64L * 1024 * 1024, 16_384, Time.SYSTEM);
        accumulator = new RecordAccumulator(16_384, type, type.defaultLevel, 0, 100, 120_000, pool);
        values = Payloads.values(256, 100, new Random(42));
    }

    /**
     * A record's whole life in the producer short of the network: appended with a callback (through the
     * send path's append, which allocates no result object), its batch
     * closed, completed (the callback runs with the record's metadata) and its buffer returned, as the
     * sender does on a produce response. With {@code -prof gc}, {@code gc.alloc.rate.norm} is what the
     * producer allocates per record sent (the caller's {@code ProducerRecord} and serialization aside).
     */
    @Benchmark
    public long appendCloseComplete() throws InterruptedException {
        long now = System.currentTimeMillis();
        for (int i = 0; i < RECORDS; i++) {
            accumulator.append(tp, now, null, values[i & 255], NO_HEADERS, callback, 1_000, now, listener);
        }
        for (ProducerBatch b : accumulator.drainAll()) {
            b.close();
            b.complete(offset, -1, null);
            offset += b.recordCount();
            accumulator.deallocate(b);
        }
        return acknowledged + sendable;
    }

    private long offset;
    private long acknowledged;
    private int sendable;
    /** What the producer's send passes: told whether to wake the sender, without a result object per append. */
    private final RecordAccumulator.AppendListener listener = (tp, bytes, full, created) -> {
        if (full || created) {
            sendable++;
        }
    };
    private final io.weir.producer.Callback callback = (metadata, exception) -> acknowledged += metadata.offset();

    @Benchmark
    public int appendAndClose() throws InterruptedException {
        long now = System.currentTimeMillis();
        for (int i = 0; i < RECORDS; i++) {
            accumulator.append(tp, now, null, values[i & 255], NO_HEADERS, null, 1_000, now);
        }
        int bytes = 0;
        for (ProducerBatch b : accumulator.drainAll()) {
            bytes += b.close().remaining();
            accumulator.deallocate(b);
        }
        return bytes;
    }
}
