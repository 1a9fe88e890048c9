package io.weir.streams.state.internals;

import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class WindowAndSessionStoreTest {

    private Path root;
    private final List<TransactionalBytesStore> opened = new ArrayList<>();

    @BeforeEach
    void setUp() {
        root = TempDirs.create("window-store");
    }

    @AfterEach
    void tearDown() {
        opened.forEach(TransactionalBytesStore::close);
        TempDirs.delete(root);
    }

    private TransactionalBytesStore rocks(String name) {
        TransactionalBytesStore store = RocksDbBytesStore.supplier(name).open(root);
        opened.add(store);
        return store;
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8).replace("\0", "\\0");
    }

    private static List<String> windows(SchemaIterator<WindowBytesStore.WindowEntry> it) {
        List<String> out = new ArrayList<>();
        try (it) {
            it.forEachRemaining(e -> out.add(s(e.key()) + "@" + e.windowStartMs() + "=" + s(e.value())));
        }
        return out;
    }

    private static List<String> sessions(SchemaIterator<SessionBytesStore.SessionEntry> it) {
        List<String> out = new ArrayList<>();
        try (it) {
            it.forEachRemaining(e -> out.add(s(e.key()) + "[" + e.startMs() + "," + e.endMs() + "]=" + s(e.value())));
        }
        return out;
    }

    private record Composite(byte[] key, long time, int seqnum) { }

    @Test
    void shouldOrderWindowStoreKeysByKeyThenStartThenSeqnumForAnyKeyBytesAndTimes() {
        Random random = new Random(42);
        byte[] alphabet = {0x00, 0x01, (byte) 0x7F, (byte) 0x80, (byte) 0xFF};
        long[] times = {Long.MIN_VALUE, -5, -1, 0, 1, 1000, Long.MAX_VALUE};
        List<Composite> composites = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            byte[] key = new byte[random.nextInt(4)];
            for (int j = 0; j < key.length; j++) {
                key[j] = alphabet[random.nextInt(alphabet.length)];
            }
            composites.add(new Composite(key, times[random.nextInt(times.length)], random.nextInt(3) - 1));
        }
        Comparator<Composite> logical = Comparator.<Composite, byte[]>comparing(Composite::key, Arrays::compareUnsigned)
            .thenComparingLong(Composite::time)
            .thenComparing(Composite::seqnum, Integer::compareUnsigned);
        List<Composite> byLogical = new ArrayList<>(composites);
        byLogical.sort(logical);
        List<Composite> byStoreKey = new ArrayList<>(composites);
        byStoreKey.sort(Comparator.comparing(c -> WindowKeySchema.toStoreKey(c.key(), c.time(), c.seqnum()), Arrays::compareUnsigned));
        for (int i = 0; i < composites.size(); i++) {
            assertEquals(0, logical.compare(byLogical.get(i), byStoreKey.get(i)), "position " + i);
            Composite c = composites.get(i);
            byte[] storeKey = WindowKeySchema.toStoreKey(c.key(), c.time(), c.seqnum());
            assertArrayEquals(c.key(), WindowKeySchema.key(storeKey), HexFormat.of().formatHex(storeKey));
            assertEquals(c.time(), WindowKeySchema.windowStart(storeKey));
            assertEquals(c.seqnum(), WindowKeySchema.seqnum(storeKey));
            byte[] sessionKey = SessionKeySchema.toStoreKey(c.key(), c.time() == Long.MIN_VALUE ? c.time() : c.time() - 1, c.time());
            assertArrayEquals(c.key(), SessionKeySchema.key(sessionKey));
            assertEquals(c.time(), SessionKeySchema.end(sessionKey));
        }
    }

    @Test
    void shouldFetchOneKeysWindowsByTimeRangeEvenBesideKeysThatExtendIt() {
        WindowBytesStore store = new WindowBytesStore(rocks("w"), 1_000, false);
        for (String key : List.of("a", "a\0", "ab", "", "b")) {
            for (long start = 0; start <= 30; start += 10) {
                store.put(b(key), start, b(key.replace("\0", "0") + start));
            }
        }
        assertEquals(List.of("a@10=a10", "a@20=a20"), windows(store.fetch(b("a"), 10, 20)));
        assertEquals(List.of("a\\0@0=a00", "a\\0@10=a010"), windows(store.fetch(b("a\0"), -5, 10)));
        assertEquals(List.of("@30=30"), windows(store.fetch(b(""), 25, 100)));
        assertEquals(List.of(), windows(store.fetch(b("a"), 11, 19)));
        assertEquals(List.of("a@20=a20", "a\\0@20=a020", "ab@20=ab20"), windows(store.fetch(b("a"), b("ab"), 15, 20)));
        assertEquals(List.of("@0=0", "a@0=a0", "a\\0@0=a00", "ab@0=ab0", "b@0=b0"), windows(store.fetchAll(0, 0)));
        assertArrayEquals(b("ab20"), store.fetch(b("ab"), 20));
        assertNull(store.fetch(b("ab"), 21));
    }

    @Test
    void shouldServeCommittedWindowsToQueriesAndUncommittedOnesToTheTask() {
        WindowBytesStore store = new WindowBytesStore(rocks("w"), 1_000, false);
        store.put(b("k"), 0, b("1"));
        store.bytes().commit(Map.of());
        store.put(b("k"), 0, b("2"));
        store.put(b("k"), 100, b("3"));
        assertEquals(List.of("k@0=2", "k@100=3"), windows(store.fetch(b("k"), 0, 100)));
        assertEquals(List.of("k@0=1"), windows(store.fetchCommitted(b("k"), 0, 100)));
        assertEquals(List.of("k@0=1"), windows(store.fetchCommitted(null, null, 0, 100)));
        store.put(b("k"), 0, null);
        assertEquals(List.of("k@100=3"), windows(store.fetch(b("k"), 0, 100)));
    }

    @Test
    void shouldKeepDuplicatesEvenAcrossAReopen() {
        WindowBytesStore store = new WindowBytesStore(rocks("dups"), 1_000, true);
        store.put(b("k"), 5, b("x"));
        store.put(b("k"), 5, b("y"));
        store.bytes().commit(Map.of());
        store.bytes().close();
        WindowBytesStore reopened = new WindowBytesStore(rocks("dups"), 1_000, true);
        reopened.put(b("k"), 5, b("z"));
        assertEquals(List.of("k@5=x", "k@5=y", "k@5=z"), windows(reopened.fetch(b("k"), 5, 5)));
        assertArrayEquals(b("x"), reopened.fetch(b("k"), 5));
    }

    @Test
    void shouldRemoveOnlyWindowsOlderThanRetention() {
        WindowBytesStore store = new WindowBytesStore(rocks("w"), 100, false);
        for (String key : List.of("a", "a\0", "b")) {
            for (long start = 0; start <= 500; start += 50) {
                store.put(b(key), start, b("v"));
            }
        }
        store.bytes().commit(Map.of());
        assertEquals(18, store.removeExpired(400)); // starts 0..250 of three keys
        assertEquals(List.of("a@300=v", "a\\0@300=v", "b@300=v"), windows(store.fetchAll(0, 300)));
        assertEquals(0, store.removeExpired(400));
        store.bytes().commit(Map.of());
        assertEquals(15, windows(store.fetchCommitted(null, null, Long.MIN_VALUE, Long.MAX_VALUE)).size());
    }

    @Test
    void shouldFindTheSessionsARecordMergesWith() {
        SessionBytesStore store = new SessionBytesStore(rocks("sessions"), 1_000);
        store.put(b("u"), 0, 10, b("s1"));
        store.put(b("u"), 20, 30, b("s2"));
        store.put(b("u"), 50, 60, b("s3"));
        store.put(b("u\0"), 15, 25, b("other"));
        store.put(b("v"), 20, 30, b("other"));
        // a record at 33 with gap 5 merges with sessions ending >= 28 and starting <= 38
        assertEquals(List.of("u[20,30]=s2"), sessions(store.findSessions(b("u"), 28, 38)));
        assertEquals(List.of("u[0,10]=s1", "u[20,30]=s2", "u[50,60]=s3"), sessions(store.fetch(b("u"))));
        assertArrayEquals(b("s3"), store.fetchSession(b("u"), 50, 60));
        store.remove(b("u"), 20, 30);
        assertEquals(List.of(), sessions(store.findSessions(b("u"), 28, 38)));
        assertEquals(List.of(), sessions(store.findSessionsCommitted(b("u"), 28, 38))); // nothing committed yet
        store.bytes().commit(Map.of());
        assertEquals(3, store.removeExpired(1_040)); // ended before 40: u[0,10], u\0[15,25], v[20,30]; u[20,30] is gone
        assertEquals(List.of("u[50,60]=s3"), sessions(store.fetch(b("u"))));
    }
}
