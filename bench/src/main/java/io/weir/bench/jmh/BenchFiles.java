package io.weir.bench.jmh;

import io.weir.common.Time;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.log.Log;
import io.weir.log.LogConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Fixtures shared by the log benchmarks: the batch they append, temp directories and logs opened in
 * them. Every benchmark deletes what it created in its {@code @TearDown}.
 */
final class BenchFiles {
    /** Records per batch: 160 × 100 B ≈ 16 KB, Kafka's default batch.size. */
    static final int RECORDS_PER_BATCH = 160;
    static final int VALUE_BYTES = 100;
    static final int PAYLOAD_BYTES_PER_BATCH = RECORDS_PER_BATCH * VALUE_BYTES;
    /** Larger than any file a benchmark writes, so no roll (and no roll fsync) happens while measuring. */
    static final String SEGMENT_BYTES = Integer.toString(1024 * 1024 * 1024);

    private BenchFiles() {
    }

    /** One batch of {@link #RECORDS_PER_BATCH} text-like 100-byte values, compressed with {@code type}. */
    static ByteBuffer batch(CompressionType type, long seed) {
        byte[][] values = Payloads.values(RECORDS_PER_BATCH, VALUE_BYTES, new Random(seed));
        RecordBatchBuilder b = new RecordBatchBuilder(type, RECORDS_PER_BATCH * (VALUE_BYTES + 16));
        long ts = 1_700_000_000_000L;
        for (byte[] v : values) {
            b.append(ts, null, v);
        }
        return b.build();
    }

    static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Opens an empty log in {@code parent}/bench-0 with a large segment.bytes and the default (OS) flush policy. */
    static Log openLog(Path parent) {
        LogConfig config = LogConfig.fromMap(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES));
        return Log.open(parent.resolve("bench-0"), config, 0L, 0L, true, Time.SYSTEM);
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
