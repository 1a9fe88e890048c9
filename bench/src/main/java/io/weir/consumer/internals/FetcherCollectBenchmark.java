package io.weir.consumer.internals;

import io.weir.bench.jmh.Payloads;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.Deserializers;
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
import org.openjdk.jmh.infra.Blackhole;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The consumer's decode path: one fetched partition's data (64 batches of 160 × 100-byte records,
 * null keys, no headers: what the perf producer writes) queued as a fetch response would queue it,
 * then handed out by {@code Fetcher.collect} 500 records a poll as {@code ConsumerRecord<byte[], byte[]>}:
 * batch walk, CRC check, decompression, record parsing, deserialization. Lives in the fetcher's
 * package because queueing raw data is package-private. Score: records/s; with {@code -prof gc},
 * {@code gc.alloc.rate.norm} is bytes allocated per record.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@OperationsPerInvocation(FetcherCollectBenchmark.RECORDS)
public class FetcherCollectBenchmark {
    static final int BATCHES = 64;
    static final int PER_BATCH = 160;
    static final int RECORDS = BATCHES * PER_BATCH;

    @Param({"none", "lz4"})
    public String codec;

    @Param({"true"})
    public boolean checkCrcs;

    private final TopicPartition tp = new TopicPartition("perf", 0);
    private ByteBuffer data;
    private SubscriptionState subscriptions;
    private Fetcher<byte[], byte[]> fetcher;

    @Setup(Level.Trial)
    public void setup() {
        CompressionType type = CompressionType.forName(codec);
        byte[][] values = Payloads.values(RECORDS, 100, new Random(42));
        ByteBuffer all = ByteBuffer.allocate(RECORDS * 130);
        for (int b = 0; b < BATCHES; b++) {
            RecordBatchBuilder builder = new RecordBatchBuilder(type, PER_BATCH * 110).baseOffset((long) b * PER_BATCH)
                .partitionLeaderEpoch(3);
            for (int i = 0; i < PER_BATCH; i++) {
                builder.append(1_700_000_000_000L + i, (byte[]) null, values[b * PER_BATCH + i]);
            }
            all.put(builder.build());
        }
        data = all.flip();
        subscriptions = new SubscriptionState(SubscriptionState.ResetStrategy.EARLIEST);
        subscriptions.assignFromUser(Set.of(tp));
        fetcher = new Fetcher<>(null, Time.SYSTEM, subscriptions, new Waker(),
            new Fetcher.Settings(1, 50 << 20, 500, 1 << 20, checkCrcs, false, 30_000, null),
            new Deserializers.ByteArrayDeserializer(), new Deserializers.ByteArrayDeserializer());
    }

    @Benchmark
    public int collect(Blackhole bh) {
        subscriptions.seek(tp, 0L, null);
        fetcher.queueRawFetch(tp, 0L, data.duplicate());
        int n = 0;
        while (fetcher.hasAvailableFetches()) {
            Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> polled = fetcher.collect(500);
            for (List<ConsumerRecord<byte[], byte[]>> records : polled.values()) {
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    bh.consume(r);
                    n++;
                }
            }
        }
        if (n != RECORDS) {
            throw new IllegalStateException("collected " + n + " of " + RECORDS);
        }
        return n;
    }
}
