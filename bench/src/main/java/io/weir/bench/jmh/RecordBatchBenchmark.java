package io.weir.bench.jmh;

import io.weir.common.record.CompressionType;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Building (compressing) and iterating (decompressing) one batch of 100-byte records per codec.
 * Throughput is in batches per second; MB/s = ops/s × {@link #RECORDS} × 100 B.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class RecordBatchBenchmark {
    public static final int RECORDS = 160; // ~16 KB, Kafka's default batch.size

    @Param({"none", "gzip", "snappy", "lz4", "zstd"})
    public String codec;

    private CompressionType type;
    private byte[][] values;
    private ByteBuffer built;

    @Setup(Level.Trial)
    public void setup() {
        type = CompressionType.forName(codec);
        values = Payloads.values(RECORDS, 100, new Random(42));
        built = build();
    }

    private ByteBuffer build() {
        RecordBatchBuilder b = new RecordBatchBuilder(type, RECORDS * 110);
        long ts = 1_700_000_000_000L;
        for (byte[] v : values) {
            b.append(ts, null, v);
        }
        return b.build();
    }

    @Benchmark
    public ByteBuffer buildBatch() {
        return build();
    }

    @Benchmark
    public void iterateBatch(Blackhole bh) {
        RecordBatch batch = new RecordBatch(built);
        for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
            bh.consume(it.next().value());
        }
    }

    @Benchmark
    public boolean validateBatchCrc() {
        return new RecordBatch(built).isValid();
    }
}
