package io.weir.log;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.testing.BatchSurgery;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz target for crash recovery: the input (after one mode byte; bit 0 recomputes the batches'
 * CRCs, as in {@code BatchValidatorFuzzTest}) is written as a partition's only segment file, and the
 * log is opened as after an unclean stop. A finding is any {@code Throwable} from opening, or a
 * recovered log holding a batch that {@link BatchValidator} refuses, offsets that do not increase,
 * or a log end that is not the last batch's next offset. Seeds in
 * {@code SegmentRecoveryFuzzTestInputs/recover}: segments of valid batches of every codec.
 */
class SegmentRecoveryFuzzTest {
    private static final Map<String, String> CONFIG = Map.of(LogConfig.SEGMENT_INDEX_BYTES, "4096");
    private static final BatchValidator.Rules STORED =
        new BatchValidator.Rules(AppendOrigin.REPLICATION, false, 1 << 20);

    @FuzzTest(maxDuration = "30s")
    void recover(byte[] input) throws IOException {
        if (input.length == 0) {
            return;
        }
        ByteBuffer segment = ByteBuffer.wrap(input, 1, input.length - 1).slice();
        if ((input[0] & 1) != 0) {
            BatchSurgery.fixAllCrcs(segment);
        }
        Path root = TempDirs.create("fuzz-recovery");
        try {
            Path dir = root.resolve("fuzz-0");
            Files.createDirectories(dir);
            byte[] bytes = new byte[segment.remaining()];
            segment.duplicate().get(bytes);
            Files.write(dir.resolve("00000000000000000000.log"), bytes);
            try (Log log = Log.open(dir, LogConfig.fromMap(CONFIG), 0, 0, false, new MockTime())) {
                long next = 0;
                long expectedEnd = 0;
                while (next < log.logEndOffset()) {
                    MemoryRecords m = log.read(next, 1 << 20, Long.MAX_VALUE, true).records().readRecords();
                    long before = next;
                    for (RecordBatch batch : m) {
                        BatchValidator.validateBatch(batch, STORED, "recovered");
                        assertTrue(batch.baseOffset() >= expectedEnd, "offsets go back at " + batch);
                        expectedEnd = batch.nextOffset();
                        next = expectedEnd;
                    }
                    assertTrue(next > before, "no progress reading the recovered log at " + before);
                }
                assertEquals(expectedEnd, log.logEndOffset());
            }
        } finally {
            TempDirs.delete(root);
        }
    }
}
