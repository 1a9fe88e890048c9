package io.weir.log.internals;

import io.weir.common.testing.TempDirs;
import io.weir.log.CorruptIndexException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IndexTest {
    private final Path dir = TempDirs.create("index");

    @AfterEach
    void cleanUp() {
        TempDirs.delete(dir);
    }

    @Test
    void shouldFindLargestEntryAtOrBelowTarget() {
        try (OffsetIndex idx = new OffsetIndex(dir.resolve("a.index"), 100, 1024, true)) {
            assertEquals(new OffsetIndex.OffsetPosition(100, 0), idx.lookup(150));
            idx.append(110, 500);
            idx.append(120, 900);
            idx.append(135, 1400);
            assertEquals(new OffsetIndex.OffsetPosition(100, 0), idx.lookup(105));
            assertEquals(new OffsetIndex.OffsetPosition(110, 500), idx.lookup(110));
            assertEquals(new OffsetIndex.OffsetPosition(120, 900), idx.lookup(134));
            assertEquals(new OffsetIndex.OffsetPosition(135, 1400), idx.lookup(10_000));
            idx.truncateTo(120);
            assertEquals(1, idx.entries());
            assertEquals(new OffsetIndex.OffsetPosition(110, 500), idx.lookup(10_000));
            assertThrows(IllegalArgumentException.class, () -> idx.append(105, 1000));
        }
    }

    @Test
    void shouldPreallocateAndTrimOnClose() throws Exception {
        Path f = dir.resolve("b.index");
        OffsetIndex idx = new OffsetIndex(f, 0, 8 * 10, true);
        assertEquals(80, Files.size(f));
        assertEquals(10, idx.maxEntries());
        for (int i = 0; i < 10; i++) {
            idx.append(i, i * 10);
        }
        assertTrue(idx.isFull());
        idx.truncateTo(3);
        idx.close();
        assertEquals(24, Files.size(f));
        try (OffsetIndex reopened = new OffsetIndex(f, 0, 80, false)) {
            assertEquals(3, reopened.entries());
            assertEquals(new OffsetIndex.OffsetPosition(2, 20), reopened.lookup(7));
        }
    }

    @Test
    void shouldDetectOutOfOrderEntriesOnSanityCheck() throws Exception {
        Path f = dir.resolve("c.index");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.writeInt(5);
            raf.writeInt(100);
            raf.writeInt(3);
            raf.writeInt(200);
        }
        try (OffsetIndex idx = new OffsetIndex(f, 0, 1024, false)) {
            assertThrows(CorruptIndexException.class, idx::sanityCheck);
        }
    }

    @Test
    void shouldKeepTimeIndexMonotonic() {
        try (TimeIndex idx = new TimeIndex(dir.resolve("d.timeindex"), 50, 1200, true)) {
            assertTrue(idx.maybeAppend(1000, 52));
            assertFalse(idx.maybeAppend(1000, 60));
            assertFalse(idx.maybeAppend(900, 61));
            assertTrue(idx.maybeAppend(2000, 70));
            assertEquals(new TimeIndex.TimestampOffset(-1, 50), idx.lookup(999));
            assertEquals(new TimeIndex.TimestampOffset(1000, 52), idx.lookup(1500));
            assertEquals(new TimeIndex.TimestampOffset(2000, 70), idx.lookup(5000));
            idx.truncateTo(70);
            assertEquals(new TimeIndex.TimestampOffset(1000, 52), idx.lastEntry());
            idx.truncateTo(0);
            assertEquals(0, idx.entries());
        }
    }

    @Test
    void shouldAppendAndCollectAbortedTransactions() throws Exception {
        try (TransactionIndex idx = new TransactionIndex(dir.resolve("e.txnindex"), 0)) {
            assertTrue(idx.allAbortedTxns().isEmpty());
            idx.append(new io.weir.log.AbortedTxn(7, 10, 20, 10));
            idx.append(new io.weir.log.AbortedTxn(8, 15, 30, 15));
            assertEquals(2, idx.allAbortedTxns().size());
            assertEquals(1, idx.collectAbortedTxns(21, 100).size());
            assertEquals(0, idx.collectAbortedTxns(0, 10).size());
            idx.truncateTo(25);
            assertEquals(1, idx.allAbortedTxns().size());
            assertEquals(TransactionIndex.ENTRY_SIZE, Files.size(dir.resolve("e.txnindex")));
        }
    }
}
