package io.weir.bench.jmh;

import io.weir.common.record.CompressionType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.log.AppendOrigin;
import io.weir.log.BatchValidator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * What full batch validation costs on the produce path, per batch of 160 × 100-byte records: the
 * {@link BatchValidator} (every record walked; compressed batches decompressed) against the header
 * and CRC check alone ({@code ensureValidOnly}, what appends did before) and against iterating the
 * records as {@link io.weir.common.record.Record} objects (what a compacted topic's key check did).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 2)
@Fork(1)
@State(Scope.Thread)
public class BatchValidatorBenchmark {
    @Param({"none", "lz4", "zstd"})
    public String codec;

    MemoryRecords records;
    RecordBatch batch;

    static final BatchValidator.Rules RULES = new BatchValidator.Rules(AppendOrigin.CLIENT, false, 1 << 20);

    @Setup
    public void setup() {
        ByteBuffer b = BenchFiles.batch(CompressionType.forName(codec), 42);
        records = MemoryRecords.readableRecords(b);
        batch = new RecordBatch(b.duplicate());
    }

    @Benchmark
    public RecordBatch ensureValidOnly() {
        batch.ensureValid();
        return batch;
    }

    @Benchmark
    public int recordIterator() {
        int n = 0;
        for (Iterator<Record> it = batch.records(); it.hasNext(); it.next()) {
            n++;
        }
        return n;
    }

    @Benchmark
    public MemoryRecords fullValidation() {
        BatchValidator.validate(records, RULES, "bench-0");
        return records;
    }
}
