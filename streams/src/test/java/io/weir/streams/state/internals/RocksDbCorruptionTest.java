package io.weir.streams.state.internals;

import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RocksDbCorruptionTest {

    private static final TopicPartition IN = new TopicPartition("in", 0);

    private Path root;
    private Path dir;

    @BeforeEach
    void setUp() {
        root = TempDirs.create("rocks-corrupt");
        dir = root.resolve("rocksdb").resolve("counts");
    }

    @AfterEach
    void tearDown() {
        TempDirs.delete(root);
    }

    /** A store with 2,000 entries flushed into an SST file, closed. */
    private void writeHealthyStore() {
        try (RocksDbBytesStore store = RocksDbBytesStore.open("counts", dir)) {
            for (int i = 0; i < 2000; i++) {
                store.put(key(i), ("value-" + i + "-padding-padding-padding").getBytes(StandardCharsets.UTF_8));
            }
            store.commit(Map.of(IN, 2000L));
            store.flush();
        }
    }

    private static byte[] key(int i) {
        return String.format("key-%05d", i).getBytes(StandardCharsets.UTF_8);
    }

    private Path onlyFile(String suffixOrPrefix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> matching = files.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(suffixOrPrefix) || n.startsWith(suffixOrPrefix);
            }).toList();
            assertFalse(matching.isEmpty(), "no " + suffixOrPrefix + " file in " + dir);
            // the largest: for SSTs that is the data column family's, not the metadata's
            return matching.stream().max(Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
        }
    }

    private static void overwrite(Path file, long position, int length) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(position);
            byte[] garbage = new byte[length];
            for (int i = 0; i < length; i++) {
                garbage[i] = (byte) (0xA5 ^ i);
            }
            raf.write(garbage);
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        }
    }

    /** Opens and reads everything; corruption shows at open, on a read, or at the latest in a checksum pass. */
    private StoreCorruptedException openAndReadExpectingCorruption() {
        return assertThrows(StoreCorruptedException.class, () -> {
            try (RocksDbBytesStore store = RocksDbBytesStore.open("counts", dir)) {
                RocksDbBytesStoreTest.entries(store.all());
                store.verifyChecksums();
            }
        });
    }

    private void assertNamesStoreAndDir(StoreCorruptedException e) {
        System.out.println("detected: " + e.getMessage());
        assertEquals("counts", e.storeName());
        assertEquals(dir, e.directory());
        assertTrue(e.getMessage().contains("'counts'") && e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void shouldOpenAHealthyStoreAgainAndAgain() {
        writeHealthyStore();
        for (int round = 0; round < 3; round++) {
            try (RocksDbBytesStore store = RocksDbBytesStore.open("counts", dir)) {
                store.verifyChecksums();
                assertEquals(2000, RocksDbBytesStoreTest.entries(store.all()).size());
                assertEquals(Map.of(IN, 2000L), store.committedOffsets());
            }
        }
    }

    @Test
    void shouldDetectAMissingCurrentFileInsteadOfStartingEmpty() throws IOException {
        writeHealthyStore();
        Files.delete(dir.resolve("CURRENT"));
        StoreCorruptedException e = assertThrows(StoreCorruptedException.class, () -> RocksDbBytesStore.open("counts", dir));
        assertNamesStoreAndDir(e);
        assertTrue(e.getMessage().contains("CURRENT"), e.getMessage());
    }

    @Test
    void shouldDetectAGarbledManifestAtOpen() throws IOException {
        writeHealthyStore();
        Path manifest = onlyFile("MANIFEST-");
        overwrite(manifest, 0, (int) Math.min(Files.size(manifest), 64));
        StoreCorruptedException e = assertThrows(StoreCorruptedException.class, () -> RocksDbBytesStore.open("counts", dir));
        assertNamesStoreAndDir(e);
    }

    @Test
    void shouldDetectATruncatedSst() throws IOException {
        writeHealthyStore();
        Path sst = onlyFile(".sst");
        truncate(sst, Files.size(sst) / 2);
        assertNamesStoreAndDir(openAndReadExpectingCorruption());
    }

    @Test
    void shouldDetectAGarbledSstDataBlock() throws IOException {
        writeHealthyStore();
        Path sst = onlyFile(".sst");
        overwrite(sst, 100, 200);
        assertNamesStoreAndDir(openAndReadExpectingCorruption());
    }

    @Test
    void shouldDetectAMissingSst() throws IOException {
        writeHealthyStore();
        Files.delete(onlyFile(".sst"));
        assertNamesStoreAndDir(openAndReadExpectingCorruption());
    }

    @Test
    void shouldWipeACorruptStoreAsideSoItReopensEmpty() throws IOException {
        writeHealthyStore();
        Files.delete(dir.resolve("CURRENT"));
        StoreCorruptedException e = assertThrows(StoreCorruptedException.class, () -> RocksDbBytesStore.open("counts", dir));

        Path aside = RocksDbBytesStore.wipeCorrupted(e.directory(), e.getMessage());
        assertEquals(dir.resolveSibling("counts.corrupted"), aside);
        assertTrue(Files.isDirectory(aside));
        assertFalse(Files.exists(dir));
        try (RocksDbBytesStore store = RocksDbBytesStore.open("counts", dir)) {
            assertEquals(Map.of(), store.committedOffsets());
            assertNull(store.get(key(1)));
        }
        assertNull(RocksDbBytesStore.wipeCorrupted(root.resolve("absent"), "nothing there"));
    }

    @Test
    void shouldKeepAnUncorruptedStoreWhenItsLockIsHeld() {
        writeHealthyStore();
        try (RocksDbBytesStore first = RocksDbBytesStore.open("counts", dir)) {
            StateStoreException e = assertThrows(StateStoreException.class, () -> RocksDbBytesStore.open("counts", dir));
            assertFalse(e instanceof StoreCorruptedException, e.toString());
            assertArrayEquals(first.get(key(7)), first.getCommitted(key(7)));
        }
    }
}
