package io.weir.log;

import io.weir.common.record.CompressionType;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

import static io.weir.log.testing.BatchSurgery.batch;
import static io.weir.log.testing.BatchSurgery.edit;
import static io.weir.log.testing.BatchSurgery.records;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * CRC-valid batches with inconsistent insides (issue 15, item 3) are refused by the log with
 * nothing appended, and the log stays readable to its end.
 */
class LogAppendValidationTest {
    private final Path root = TempDirs.create("validation");
    private final MockTime time = new MockTime();
    private Log log;

    @AfterEach
    void cleanUp() {
        if (log != null) {
            log.close();
        }
        TempDirs.delete(root);
    }

    private Log open(Map<String, String> cfg) {
        log = Log.open(root.resolve("t-0"), LogConfig.fromMap(cfg), 0, 0, true, time);
        return log;
    }

    private void assertRefusedAndLogIntact(ByteBuffer bad) throws Exception {
        Log l = open(Map.of());
        l.appendAsLeader(records(batch(CompressionType.NONE, 3)), 0);
        assertThrows(InvalidRecordException.class, () -> l.appendAsLeader(records(bad), 0));
        assertEquals(3, l.logEndOffset());
        l.appendAsLeader(records(batch(CompressionType.LZ4, 2)), 0);
        assertEquals(5, l.logEndOffset());
        int read = 0;
        MemoryRecords all = l.read(0, 1 << 20, Long.MAX_VALUE, true).records().readRecords();
        for (RecordBatch b : all) {
            for (Iterator<Record> it = b.records(); it.hasNext(); it.next()) {
                read++;
            }
        }
        assertEquals(5, read);
    }

    @Test
    void shouldRefuseCountTenWithLastOffsetDeltaOfIntMax() throws Exception {
        assertRefusedAndLogIntact(edit(batch(CompressionType.NONE, 10),
            b -> b.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, Integer.MAX_VALUE)));
    }

    @Test
    void shouldRefuseCountZeroWithRecordsPresent() throws Exception {
        assertRefusedAndLogIntact(edit(batch(CompressionType.NONE, 4), b -> b.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 0)));
    }

    @Test
    void shouldRefuseRecordLengthRunningPastTheBatch() throws Exception {
        assertRefusedAndLogIntact(edit(batch(CompressionType.NONE, 4), b -> b.put(RecordBatch.RECORDS_OFFSET, (byte) 0x7e)));
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4", "ZSTD"})
    void shouldRefuseCompressedAttributeOverBytesThatDoNotDecompress(CompressionType codec) throws Exception {
        assertRefusedAndLogIntact(edit(batch(CompressionType.NONE, 4),
            b -> b.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) codec.id)));
    }

    @Test
    void shouldRefuseControlBatchFromAClientButNotFromACoordinator() throws Exception {
        Log l = open(Map.of());
        MemoryRecords marker = records(new RecordBatchBuilder(CompressionType.NONE).producer(3L, (short) 0, -1)
            .transactional(true).appendControl(5L, ControlRecordType.ABORT, 0).build());
        assertThrows(InvalidRecordException.class, () -> l.appendAsLeader(marker, 0, AppendOrigin.CLIENT));
        assertEquals(0, l.logEndOffset());
        l.appendAsLeader(marker, 0, AppendOrigin.COORDINATOR);
        assertEquals(1, l.logEndOffset());
    }

    @Test
    void shouldAppendNothingOfARequestWhoseSecondBatchIsBad() {
        Log l = open(Map.of());
        ByteBuffer good = batch(CompressionType.NONE, 2);
        ByteBuffer bad = edit(batch(CompressionType.NONE, 2), b -> b.put(RecordBatch.RECORDS_OFFSET, (byte) 0x7e));
        ByteBuffer both = ByteBuffer.allocate(good.remaining() + bad.remaining()).put(good).put(bad).flip();
        assertThrows(InvalidRecordException.class, () -> l.appendAsLeader(MemoryRecords.readableRecords(both), 0));
        assertEquals(0, l.logEndOffset());
    }

    private long reopenUnclean(byte[] segmentTail) throws Exception {
        Path dir = root.resolve("t-0");
        log.close();
        log = null;
        java.nio.file.Files.write(dir.resolve("00000000000000000000.log"), segmentTail, java.nio.file.StandardOpenOption.APPEND);
        log = Log.open(dir, LogConfig.defaults(), 0, 0, false, time);
        return log.logEndOffset();
    }

    @Test
    void shouldCutACrcValidCorruptBatchAtRecovery() throws Exception {
        Log l = open(Map.of());
        l.appendAsLeader(records(batch(CompressionType.NONE, 3)), 0);
        ByteBuffer bad = edit(batch(CompressionType.NONE, 4), b -> {
            b.putLong(RecordBatch.BASE_OFFSET_OFFSET, 3);
            b.put(RecordBatch.RECORDS_OFFSET, (byte) 0x7e);
        });
        byte[] tail = new byte[bad.remaining()];
        bad.get(tail);
        assertEquals(3, reopenUnclean(tail));
        assertEquals(true, log.recoveryReport().bytesTruncated() > 0);
    }

    @Test
    void shouldOpenALogWhoseFirstBatchHeaderIsGarbage() throws Exception {
        // found by SegmentRecoveryFuzzTest: a bad length in the first batch stopped Log.open
        Path dir = root.resolve("t-0");
        java.nio.file.Files.createDirectories(dir);
        byte[] garbage = "0000000000000000000000000000000000000000000000000000000000000000000000".getBytes();
        java.nio.file.Files.write(dir.resolve("00000000000000000000.log"), garbage);
        log = Log.open(dir, LogConfig.defaults(), 0, 0, false, time);
        assertEquals(0, log.logEndOffset());
        log.appendAsLeader(records(batch(CompressionType.NONE, 2)), 0);
        assertEquals(2, log.logEndOffset());
    }
}
