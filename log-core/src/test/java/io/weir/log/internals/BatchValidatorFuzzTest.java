package io.weir.log.internals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordTooLargeException;
import io.weir.log.AppendOrigin;
import io.weir.log.BatchValidator;
import io.weir.log.testing.BatchSurgery;

import java.nio.ByteBuffer;
import java.util.Iterator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fuzz target for {@link BatchValidator}. A finding is any {@code Throwable} other than the three
 * documented refusals, or a batch the validator accepts that then does not iterate cleanly to its
 * declared record count (what a consumer would stall on).
 *
 * <p>Input: one mode byte, then the bytes of a produce request's records. Mode bit 0 recomputes every
 * batch's CRC first (random bytes almost never carry a right one, and the rules behind the CRC are
 * what is fuzzed); bit 1 makes the topic compacted; bits 2-3 pick the {@link AppendOrigin}. The seeds
 * in {@code BatchValidatorFuzzTestInputs/validate} hold valid batches of every codec, with headers,
 * keyless and idempotent records, and a control batch. Without {@code JAZZER_FUZZ} set the target
 * runs over its seeds as a regression test.
 */
class BatchValidatorFuzzTest {
    private static final AppendOrigin[] ORIGINS = AppendOrigin.values();

    @FuzzTest(maxDuration = "30s")
    void validate(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int mode = input[0] & 0xff;
        ByteBuffer buf = ByteBuffer.wrap(input, 1, input.length - 1).slice();
        if ((mode & 1) != 0) {
            BatchSurgery.fixAllCrcs(buf);
        }
        BatchValidator.Rules rules = new BatchValidator.Rules(ORIGINS[((mode >> 2) & 3) % ORIGINS.length],
            (mode & 2) != 0, 1 << 20);
        MemoryRecords records = MemoryRecords.readableRecords(buf);
        try {
            BatchValidator.validate(records, rules, "fuzz-0");
        } catch (CorruptRecordException | InvalidRecordException | RecordTooLargeException refused) {
            return;
        }
        for (RecordBatch batch : records) {
            int n = 0;
            for (Iterator<Record> it = batch.records(); it.hasNext(); n++) {
                Record r = it.next();
                r.headers();
                if (rules.compacted() && !batch.isControlBatch() && !r.hasKey()) {
                    throw new AssertionError("accepted a keyless record in a compacted topic: " + batch);
                }
            }
            assertEquals(batch.recordCount(), n, "records iterated of " + batch);
        }
    }
}
