package io.weir.streams.state.internals;

import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RocksDbSnapshotTest {

    private static final TopicPartition IN = new TopicPartition("in", 2);
    private static final TopicPartition CHANGELOG = new TopicPartition("app-counts-changelog", 2);

    private Path root;

    @BeforeEach
    void setUp() {
        root = TempDirs.create("rocks-snapshot");
    }

    @AfterEach
    void tearDown() {
        TempDirs.delete(root);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldRestoreASnapshotOnAnotherHostAtItsOffsetsWithoutUncommittedWrites() throws IOException {
        Path snapshot = root.resolve("shared").resolve("counts-2-at-500");
        Files.createDirectories(snapshot.getParent());
        try (RocksDbBytesStore source = RocksDbBytesStore.open("counts", RocksDbBytesStore.storeDir(root.resolve("host1"), "counts"))) {
            for (int i = 0; i < 500; i++) {
                source.put(b("k" + i), b("v" + i));
            }
            source.commit(Map.of(IN, 400L, CHANGELOG, 500L));
            source.put(b("k0"), b("uncommitted"));
            source.put(b("extra"), b("uncommitted"));

            assertEquals(Map.of(IN, 400L, CHANGELOG, 500L), source.checkpoint(snapshot));
            assertThrows(IllegalArgumentException.class, () -> source.checkpoint(snapshot));
            // the source goes on; the snapshot does not move
            source.commit(Map.of(IN, 401L, CHANGELOG, 502L));
        }
        assertFalse(Files.exists(snapshot.resolveSibling("counts-2-at-500.tmp")));
        assertEquals(Map.of(IN, 400L, CHANGELOG, 500L), RocksDbBytesStore.readSnapshotOffsets(snapshot));
        assertTrue(Files.readString(snapshot.resolve(RocksDbBytesStore.SNAPSHOT_DESCRIPTOR)).contains("store counts"));

        Path host2 = root.resolve("host2");
        try (RocksDbBytesStore restored = RocksDbBytesStore.openFromSnapshot("counts", snapshot, host2)) {
            assertEquals(Map.of(IN, 400L, CHANGELOG, 500L), restored.committedOffsets());
            List<String> entries = RocksDbBytesStoreTest.entries(restored.all());
            assertEquals(500, entries.size());
            assertTrue(entries.contains("k0=v0"));
            assertFalse(entries.contains("extra=uncommitted"));
            // the restored store is a normal store: it commits and reopens
            restored.put(b("k0"), b("tail"));
            restored.commit(Map.of(CHANGELOG, 501L));
        }
        try (RocksDbBytesStore reopened = RocksDbBytesStore.open("counts", RocksDbBytesStore.storeDir(host2, "counts"))) {
            assertEquals(Map.of(IN, 400L, CHANGELOG, 501L), reopened.committedOffsets());
            assertEquals("tail", new String(reopened.get(b("k0")), StandardCharsets.UTF_8));
        }
        // the snapshot itself is untouched by the restored store's writes
        assertEquals(Map.of(IN, 400L, CHANGELOG, 500L), RocksDbBytesStore.restoreSnapshot(snapshot, root.resolve("host3")));
        try (RocksDbBytesStore third = RocksDbBytesStore.open("counts", root.resolve("host3"))) {
            assertEquals("v0", new String(third.get(b("k0")), StandardCharsets.UTF_8));
        }
    }

    @Test
    void shouldRefuseToRestoreOverAnExistingStore() {
        Path snapshot = root.resolve("snap");
        Path existing = RocksDbBytesStore.storeDir(root.resolve("host"), "s");
        try (RocksDbBytesStore store = RocksDbBytesStore.open("s", existing)) {
            store.put(b("a"), b("1"));
            store.commit(Map.of(IN, 1L));
            store.checkpoint(snapshot);
        }
        assertThrows(IllegalStateException.class, () -> RocksDbBytesStore.restoreSnapshot(snapshot, existing));
        try (RocksDbBytesStore store = RocksDbBytesStore.open("s", existing)) {
            assertEquals(Map.of(IN, 1L), store.committedOffsets());
        }
    }

    @Test
    void shouldRejectADirectoryThatIsNotASnapshot() throws IOException {
        Path notASnapshot = Files.createDirectories(root.resolve("random"));
        Files.writeString(notASnapshot.resolve(RocksDbBytesStore.SNAPSHOT_DESCRIPTOR), "something else\n");
        assertThrows(StateStoreException.class, () -> RocksDbBytesStore.readSnapshotOffsets(notASnapshot));
        assertThrows(StateStoreException.class, () -> RocksDbBytesStore.restoreSnapshot(root.resolve("absent"), root.resolve("to")));
    }
}
