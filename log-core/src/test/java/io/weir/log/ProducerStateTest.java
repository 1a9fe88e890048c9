package io.weir.log;

import io.weir.common.record.ControlRecordType;
import io.weir.common.record.RecordBatch;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.ProducerAppendCheck.Result;
import io.weir.log.internals.ProducerStateManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static io.weir.common.testing.Batches.idempotent;
import static io.weir.common.testing.Batches.marker;
import static io.weir.common.testing.Batches.transactional;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProducerStateTest {
    private final Path root = TempDirs.create("pstate");
    private final Path dir = root.resolve("t-0");
    private final MockTime time = new MockTime();
    private static final short E0 = 0;

    @AfterEach
    void cleanUp() {
        TempDirs.delete(root);
    }

    private Log open(boolean clean) {
        return Log.open(dir, LogConfig.fromMap(Map.of(LogConfig.SEGMENT_BYTES, "300")), 0, 0, clean, time);
    }

    @Test
    void shouldAnswerRetriedBatchWithOriginalOffsets() {
        Log log = open(true);
        log.appendAsLeader(idempotent(7, E0, 0, 1, "a", "b"), 0);
        LogAppendInfo second = log.appendAsLeader(idempotent(7, E0, 2, 1, "c"), 0);
        LogAppendInfo retry = log.appendAsLeader(idempotent(7, E0, 0, 1, "a", "b"), 0);
        assertEquals(Result.DUPLICATE, retry.producerCheck().result());
        assertEquals(0, retry.firstOffset());
        assertEquals(1, retry.lastOffset());
        assertFalse(retry.appended());
        assertEquals(2, second.firstOffset());
        assertEquals(3, log.logEndOffset());
        log.close();
    }

    @Test
    void shouldRejectSequenceGapAndOldEpoch() {
        Log log = open(true);
        log.appendAsLeader(idempotent(7, (short) 2, 0, 1, "a"), 0);
        assertEquals(Result.OUT_OF_ORDER_SEQUENCE, log.appendAsLeader(idempotent(7, (short) 2, 5, 1, "x"), 0)
            .producerCheck().result());
        assertEquals(Result.INVALID_PRODUCER_EPOCH, log.appendAsLeader(idempotent(7, (short) 1, 1, 1, "x"), 0)
            .producerCheck().result());
        assertEquals(Result.OUT_OF_ORDER_SEQUENCE, log.appendAsLeader(idempotent(7, (short) 3, 4, 1, "x"), 0)
            .producerCheck().result());
        assertTrue(log.appendAsLeader(idempotent(7, (short) 3, 0, 1, "new epoch"), 0).appended());
        assertEquals(2, log.logEndOffset());
        // two batches of one producer in one request: the second must follow the first
        assertTrue(log.appendAsLeader(io.weir.common.testing.Batches.concat(idempotent(7, (short) 3, 1, 1, "p"),
            idempotent(7, (short) 3, 2, 1, "q")), 0).appended());
        assertEquals(Result.OUT_OF_ORDER_SEQUENCE, log.appendAsLeader(io.weir.common.testing.Batches.concat(
            idempotent(7, (short) 3, 3, 1, "p"), idempotent(7, (short) 3, 9, 1, "q")), 0).producerCheck().result());
        assertEquals(4, log.logEndOffset());
        log.close();
    }

    @Test
    void shouldTrackOpenTransactionsAndIndexAborts() {
        Log log = open(true);
        log.appendAsLeader(transactional(9, E0, 0, 1, "t1", "t2"), 0);
        assertEquals(0, log.firstUnstableOffset().getAsLong());
        assertEquals(Result.INVALID_TXN_STATE, log.appendAsLeader(idempotent(9, E0, 2, 1, "plain"), 0)
            .producerCheck().result());
        log.appendAsLeader(marker(9, E0, ControlRecordType.ABORT, 4, 1), 0);
        assertTrue(log.firstUnstableOffset().isEmpty());
        assertEquals(1, log.collectAbortedTransactions(0, 100).size());
        assertEquals(new AbortedTxn(9, 0, 2, 3), log.collectAbortedTransactions(0, 100).get(0));
        assertEquals(Result.TRANSACTION_COORDINATOR_FENCED,
            log.appendAsLeader(marker(9, E0, ControlRecordType.COMMIT, 3, 1), 0).producerCheck().result());
        log.close();
    }

    private void appendMany(Log log, int batches) {
        for (int i = 0; i < batches; i++) {
            assertTrue(log.appendAsLeader(idempotent(7, E0, i, time.milliseconds(), "value-" + i), 0).appended());
        }
    }

    @Test
    void shouldRebuildStateAfterUncleanRestartWithoutSnapshot() throws Exception {
        Log log = open(true);
        appendMany(log, 10);
        // kill -9 and lose every snapshot
        try (var files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.toString().endsWith(ProducerStateManager.SNAPSHOT_SUFFIX)).toList()) {
                Files.delete(p);
            }
        }
        Log reopened = open(false);
        assertEquals(Result.DUPLICATE, reopened.checkProducerBatch(new RecordBatch(idempotent(7, E0, 9, 1, "x").buffer())).result());
        assertEquals(Result.OUT_OF_ORDER_SEQUENCE,
            reopened.checkProducerBatch(new RecordBatch(idempotent(7, E0, 11, 1, "x").buffer())).result());
        assertTrue(reopened.appendAsLeader(idempotent(7, E0, 10, 1, "next"), 0).appended());
        reopened.close();
    }

    @Test
    void shouldRebuildStateFromStaleSnapshotAndSkipCorruptOne() throws Exception {
        Log log = open(true);
        appendMany(log, 10);
        var snaps = log.producerStateManager().snapshotOffsets();
        assertFalse(snaps.isEmpty(), "rolls wrote snapshots");
        long newest = snaps.get(snaps.size() - 1);
        // corrupt the newest snapshot: the loader must fall back to an older one and replay more
        if (snaps.size() > 1) {
            try (RandomAccessFile raf = new RandomAccessFile(ProducerStateManager.snapshotFile(dir, newest).toFile(), "rw")) {
                raf.seek(raf.length() - 1);
                raf.write(raf.read() ^ 1);
            }
        }
        Log reopened = open(false);
        assertEquals(9, reopened.producerStateManager().entry(7).lastSequence());
        assertEquals(Result.DUPLICATE,
            reopened.checkProducerBatch(new RecordBatch(idempotent(7, E0, 8, 1, "x").buffer())).result());
        reopened.close();
    }

    @Test
    void shouldRestoreStateAfterCleanRestart() {
        Log log = open(true);
        appendMany(log, 3);
        log.close();
        Log reopened = open(true);
        assertEquals(2, reopened.producerStateManager().entry(7).lastSequence());
        assertEquals(3, reopened.producerStateManager().entry(7).batchCount());
        assertEquals(Result.DUPLICATE,
            reopened.checkProducerBatch(new RecordBatch(idempotent(7, E0, 1, 1, "x").buffer())).result());
        reopened.close();
    }

    @Test
    void shouldForgetStateAboveTruncationPoint() {
        Log log = open(true);
        appendMany(log, 6);
        log.truncateTo(3);
        assertEquals(2, log.producerStateManager().entry(7).lastSequence());
        assertTrue(log.appendAsLeader(idempotent(7, E0, 3, 1, "again"), 0).appended());
        log.close();
    }
    private static java.util.List<Long> producerIds(Log log) {
        return log.activeProducers().stream().map(ActiveProducer::producerId).toList();
    }

    @Test
    void shouldExpireAProducerIdleForTheExpirationTimeAndAcceptItsNextBatchAtAnySequence() {
        Log log = open(true);
        long t0 = time.milliseconds();
        assertTrue(log.appendAsLeader(idempotent(7, E0, 0, t0, "a", "b"), 0).appended());
        assertTrue(log.appendAsLeader(idempotent(8, E0, 0, t0 + 500, "c"), 0).appended());
        time.advance(999);
        assertEquals(0, log.removeExpiredProducers(time.milliseconds(), 1000), "idle for 999 ms of 1000");
        assertEquals(java.util.List.of(7L, 8L), producerIds(log));
        time.advance(1);
        assertEquals(1, log.removeExpiredProducers(time.milliseconds(), 1000));
        assertEquals(java.util.List.of(8L), producerIds(log), "7's last batch is 1000 ms old, 8's only 500");
        assertTrue(log.activeProducer(7).isEmpty());
        // Kafka's rule for a producer the partition has no state for: any sequence is accepted (KIP-360),
        // so a producer that was only idle goes on where it stood
        LogAppendInfo next = log.appendAsLeader(idempotent(7, E0, 2, time.milliseconds(), "late"), 0);
        assertTrue(next.appended(), String.valueOf(next.producerCheck()));
        assertEquals(2, log.activeProducer(7).orElseThrow().lastSequence());
        log.close();
    }

    @Test
    void shouldKeepAnIdleProducerWithAnOpenTransactionUntilItsMarker() {
        Log log = open(true);
        long t0 = time.milliseconds();
        log.appendAsLeader(transactional(9, E0, 0, t0, "t1", "t2"), 0);
        time.advance(10_000);
        assertEquals(0, log.removeExpiredProducers(time.milliseconds(), 1000));
        assertEquals(0L, log.activeProducer(9).orElseThrow().currentTxnStartOffset());
        assertEquals(0, log.firstUnstableOffset().getAsLong(), "the open transaction still holds the LSO");
        log.appendAsLeader(marker(9, E0, ControlRecordType.COMMIT, 0, time.milliseconds()), 0);
        assertTrue(log.firstUnstableOffset().isEmpty());
        assertEquals(0, log.removeExpiredProducers(time.milliseconds() + 999, 1000), "the marker is its last write");
        assertEquals(1, log.removeExpiredProducers(time.milliseconds() + 1000, 1000));
        assertTrue(log.activeProducers().isEmpty());
        log.close();
    }

    @Test
    void shouldNotBringAnExpiredProducerBackAfterASnapshotAndReopen() {
        Log log = open(true);
        appendMany(log, 4); // producer 7, over several segments: rolls wrote snapshots that still hold it
        assertFalse(log.producerStateManager().snapshotOffsets().isEmpty());
        time.advance(5_000);
        assertTrue(log.appendAsLeader(idempotent(8, E0, 0, time.milliseconds(), "fresh"), 0).appended());
        assertEquals(1, log.removeExpiredProducers(time.milliseconds(), 5_000 - 1));
        log.close();
        Log reopened = open(true);
        assertEquals(java.util.List.of(8L), producerIds(reopened), "7 expired before the close snapshot");
        reopened.close();
    }
}
