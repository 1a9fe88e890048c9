package io.weir.streams.state.internals;

import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import io.weir.common.testing.Wait;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RocksDbBytesStoreTest {

    private static final TopicPartition IN = new TopicPartition("in", 0);
    private static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 3);

    private Path taskDir;
    private final List<TransactionalBytesStore> opened = new ArrayList<>();

    @BeforeEach
    void setUp() {
        taskDir = TempDirs.create("rocks-store");
    }

    @AfterEach
    void tearDown() {
        opened.forEach(TransactionalBytesStore::close);
        TempDirs.delete(taskDir);
    }

    private TransactionalBytesStore open() {
        TransactionalBytesStore store = RocksDbBytesStore.supplier("s").open(taskDir);
        opened.add(store);
        return store;
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static List<String> entries(BytesIterator it) {
        List<String> out = new ArrayList<>();
        try (it) {
            it.forEachRemaining(e -> out.add(new String(e.key(), StandardCharsets.UTF_8) + "=" + new String(e.value(), StandardCharsets.UTF_8)));
        }
        return out;
    }

    @Test
    void shouldLiveInTaskStateDirUnderRocksdbAndName() {
        TransactionalBytesStore store = open();
        assertTrue(store.persistent());
        assertEquals("s", store.name());
        assertTrue(Files.isRegularFile(taskDir.resolve("rocksdb").resolve("s").resolve("CURRENT")));
    }

    @Test
    void shouldShowUncommittedWritesToReadsButNotToCommittedReadsUntilCommit() {
        TransactionalBytesStore store = open();
        store.put(b("a"), b("1"));
        store.put(b("b"), b("2"));
        store.commit(Map.of(IN, 10L));
        store.put(b("a"), b("9"));
        store.delete(b("b"));
        store.put(b("c"), b("3"));

        assertArrayEquals(b("9"), store.get(b("a")));
        assertNull(store.get(b("b")));
        assertEquals(List.of("a=9", "c=3"), entries(store.all()));
        assertEquals(List.of("a=1", "b=2"), entries(store.rangeCommitted(null, null)));
        assertArrayEquals(b("2"), store.getCommitted(b("b")));
        assertNull(store.getCommitted(b("c")));

        store.commit(Map.of(IN, 20L));
        assertEquals(List.of("a=9", "c=3"), entries(store.rangeCommitted(null, null)));
        assertEquals(Map.of(IN, 20L), store.committedOffsets());
        assertEquals(0, store.uncommittedBytes());
    }

    @Test
    void shouldDiscardUncommittedWritesOnAbort() {
        TransactionalBytesStore store = open();
        store.put(b("a"), b("1"));
        store.commit(Map.of(IN, 1L));
        store.put(b("a"), b("2"));
        store.delete(b("a"));
        store.put(b("b"), b("2"));
        assertTrue(store.uncommittedBytes() > 0);
        store.abort();
        assertEquals(0, store.uncommittedBytes());
        assertEquals(List.of("a=1"), entries(store.all()));
        assertEquals(Map.of(IN, 1L), store.committedOffsets());
    }

    @Test
    void shouldCountUncommittedBytes() {
        TransactionalBytesStore store = open();
        assertEquals(0, store.uncommittedBytes());
        store.put(b("key"), new byte[1000]);
        long one = store.uncommittedBytes();
        assertTrue(one >= 1003, "uncommitted bytes " + one);
        store.put(b("other"), new byte[1000]);
        assertTrue(store.uncommittedBytes() >= one + 1005);
        store.commit(Map.of());
        assertEquals(0, store.uncommittedBytes());
    }

    @Test
    void shouldReopenExactlyAtLastCommitWithItsOffsets() {
        TransactionalBytesStore store = open();
        store.put(b("a"), b("1"));
        store.put(b("b"), b("2"));
        store.commit(Map.of(IN, 5L, CHANGELOG, 7L));
        store.put(b("b"), null);
        store.put(b("c"), b("3"));
        store.commit(Map.of(IN, 9L)); // the changelog offset stays at 7
        store.close();

        TransactionalBytesStore reopened = open();
        assertEquals(List.of("a=1", "c=3"), entries(reopened.all()));
        assertEquals(Map.of(IN, 9L, CHANGELOG, 7L), reopened.committedOffsets());
    }

    @Test
    void shouldLoseOnlyTheUncommittedBatchWhenClosedWithoutCommit() {
        TransactionalBytesStore store = open();
        store.put(b("a"), b("1"));
        store.commit(Map.of(IN, 3L));
        store.put(b("a"), b("2"));
        store.put(b("z"), b("26"));
        store.close();

        TransactionalBytesStore reopened = open();
        assertEquals(List.of("a=1"), entries(reopened.all()));
        assertEquals(Map.of(IN, 3L), reopened.committedOffsets());
    }

    @Test
    void shouldStartEmptyWithNoOffsets() {
        TransactionalBytesStore store = open();
        assertEquals(Map.of(), store.committedOffsets());
        assertEquals(List.of(), entries(store.all()));
        store.close();
        assertEquals(Map.of(), open().committedOffsets());
    }

    @Test
    void shouldRangeWithInclusiveUnsignedBoundsAndNullAsUnbounded() {
        TransactionalBytesStore store = open();
        byte[][] keys = {{0x00}, {0x01}, {0x7F}, {(byte) 0x80}, {(byte) 0xFF}, {(byte) 0xFF, 0x00}, {(byte) 0xFF, (byte) 0xFF}};
        for (int i = 0; i < keys.length; i++) {
            store.put(keys[i], new byte[] {(byte) i});
        }
        store.commit(Map.of());
        store.put(new byte[] {(byte) 0x90}, new byte[] {99}); // uncommitted, between 0x80 and 0xFF
        List<String> all = hex(store.all());
        assertEquals(List.of("00", "01", "7f", "80", "90", "ff", "ff00", "ffff"), all);
        assertEquals(List.of("7f", "80", "90", "ff"), hex(store.range(new byte[] {0x7F}, new byte[] {(byte) 0xFF})));
        assertEquals(List.of("ff", "ff00", "ffff"), hex(store.range(new byte[] {(byte) 0xFF}, null)));
        assertEquals(List.of("00", "01"), hex(store.range(null, new byte[] {0x01})));
        assertEquals(List.of(), hex(store.range(new byte[] {(byte) 0xFF}, new byte[] {0x00})));
        assertEquals(List.of("80", "ff"), hex(store.rangeCommitted(new byte[] {(byte) 0x80}, new byte[] {(byte) 0xFF})));
    }

    private static List<String> hex(BytesIterator it) {
        List<String> out = new ArrayList<>();
        try (it) {
            it.forEachRemaining(e -> out.add(java.util.HexFormat.of().formatHex(e.key())));
        }
        return out;
    }

    @Test
    void shouldInvalidateBatchIteratorsOnCommit() {
        TransactionalBytesStore store = open();
        store.put(b("a"), b("1"));
        store.put(b("b"), b("2"));
        store.put(b("c"), b("3"));
        BytesIterator it = store.all();
        assertEquals("a", new String(it.next().key(), StandardCharsets.UTF_8));
        store.commit(Map.of());
        assertThrows(IllegalStateException.class, it::hasNext);
        it.close();
    }

    @Test
    void shouldGiveCommittedIteratorsAPointInTimeView() {
        TransactionalBytesStore store = open();
        store.put(b("a"), b("1"));
        store.put(b("b"), b("2"));
        store.commit(Map.of());
        BytesIterator it = store.rangeCommitted(null, null);
        store.put(b("a"), b("changed"));
        store.put(b("c"), b("3"));
        store.commit(Map.of());
        assertEquals(List.of("a=1", "b=2"), entries(it));
    }

    @Test
    void shouldServeCommittedReadsFromAnotherThread() throws Exception {
        TransactionalBytesStore store = open();
        store.put(b("a"), b("1"));
        store.commit(Map.of());
        store.put(b("a"), b("2"));
        List<String> seen = new ArrayList<>();
        Thread reader = new Thread(() -> {
            seen.add(new String(store.getCommitted(b("a")), StandardCharsets.UTF_8));
            seen.addAll(entries(store.rangeCommitted(null, null)));
        });
        reader.start();
        Wait.join(reader, Duration.ofSeconds(60), () -> "the committed read on another thread");
        assertEquals(List.of("1", "a=1"), seen);
    }

    @Test
    void shouldFailReadsAfterCloseAndReleaseTheDbSoItReopens() {
        TransactionalBytesStore store = open();
        store.put(b("a"), b("1"));
        store.commit(Map.of());
        BytesIterator open = store.rangeCommitted(null, null);
        store.close();
        store.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> store.getCommitted(b("a")));
        assertThrows(IllegalStateException.class, open::hasNext);
        open.close();
        assertEquals(List.of("a=1"), entries(open().all()));
    }

    @Test
    void shouldRefuseASecondOpenWithoutCallingItCorruption() {
        open();
        StateStoreException e = assertThrows(StateStoreException.class, this::open);
        assertFalse(e instanceof StoreCorruptedException, e.toString());
        assertTrue(Files.isRegularFile(taskDir.resolve("rocksdb").resolve("s").resolve("CURRENT")));
    }

    @Test
    void shouldReadFlushedDataAfterReopen() {
        RocksDbBytesStore store = (RocksDbBytesStore) open();
        for (int i = 0; i < 100; i++) {
            store.put(b("k" + i), b("v" + i));
        }
        store.commit(Map.of(IN, 100L));
        store.flush();
        store.close();
        TransactionalBytesStore reopened = open();
        assertEquals(100, entries(reopened.all()).size());
        assertArrayEquals(b("v42"), reopened.get(b("k42")));
        assertEquals(Map.of(IN, 100L), reopened.committedOffsets());
        assertInstanceOf(RocksDbBytesStore.class, reopened);
    }

    @Test
    void shouldAllowWritesWhileIteratingOverUncommittedState() {
        TransactionalBytesStore store = open();
        for (int i = 0; i < 50; i++) {
            store.put(b(String.format("k%02d", i)), b("c"));
        }
        store.commit(Map.of());
        for (int i = 50; i < 100; i++) {
            store.put(b(String.format("k%02d", i)), b("u"));
        }
        int seen = 0;
        try (BytesIterator it = store.all()) {
            while (it.hasNext()) {
                store.delete(it.next().key()); // delete what was just returned, as retention pruning does
                seen++;
            }
        }
        assertEquals(100, seen);
        assertEquals(List.of(), entries(store.all()));
        store.commit(Map.of());
        assertEquals(List.of(), entries(store.rangeCommitted(null, null)));
    }

    @Test
    void shouldLetQueriesOnOtherThreadsRunThroughCommitsAndEndCleanlyAtClose() throws Exception {
        TransactionalBytesStore store = open();
        for (int i = 0; i < 20; i++) {
            store.put(b("k" + i), b("0"));
        }
        store.commit(Map.of(IN, 0L));
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                while (true) {
                    List<String> snapshot = entries(store.rangeCommitted(null, null));
                    // every committed view holds one whole commit: all 20 keys with one value
                    assertEquals(20, snapshot.size(), snapshot.toString());
                    assertEquals(1, snapshot.stream().map(e -> e.substring(e.indexOf('=') + 1)).distinct().count(), snapshot.toString());
                    store.getCommitted(b("k3"));
                }
            } catch (IllegalStateException closed) {
                // the store closed under the reader: the expected way out
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        reader.start();
        for (int c = 1; c <= 200; c++) {
            for (int i = 0; i < 20; i++) {
                store.put(b("k" + i), b(Integer.toString(c)));
            }
            store.commit(Map.of(IN, (long) c));
        }
        store.close();
        Wait.join(reader, Duration.ofSeconds(60), () -> "the reader to end once the store closed (failure: " + failure.get() + ")");
        assertNull(failure.get());
    }
}
