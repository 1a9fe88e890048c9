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
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child JVM commits over and over and is stopped with {@code Runtime.halt} (no shutdown hooks, no
 * close: as abrupt as the JVM allows) while a batch is open or a commit is being written. The parent
 * reopens the store: every key must hold the value of one and the same commit, and the stored offset
 * must name that commit. Data and offsets move together or not at all.
 */
class RocksDbCrashTest {

    private static final int KEYS = 200;
    private static final TopicPartition IN = new TopicPartition("in", 0);
    private static final TopicPartition CHANGELOG = new TopicPartition("app-s-changelog", 0);

    private Path root;

    @BeforeEach
    void setUp() {
        root = TempDirs.create("rocks-crash");
    }

    @AfterEach
    void tearDown() {
        TempDirs.delete(root);
    }

    /**
     * The child: commit i writes value i into every key, offset i; halts after {@code haltAfter} commits. With a
     * fourth argument {@code bulk} it commits as a bulk load (unlogged) with 8 KB values, so memtables fill and
     * flush on their own; {@code bulk-end} ends the bulk load after commit {@code haltAfter}, then halts;
     * {@code replayable} commits with {@link RocksDbBytesStore#commitReplayable} (no fsync).
     */
    public static void main(String[] args) {
        Path dir = Paths.get(args[0]);
        long haltAfter = Long.parseLong(args[1]);
        boolean haltFromAnotherThread = Boolean.parseBoolean(args[2]);
        String bulk = args.length > 3 ? args[3] : "";
        AtomicLong committed = new AtomicLong();
        if (haltFromAnotherThread) {
            // halts at whatever point the committing thread is: often inside db.write of the next commit
            Thread halter = new Thread(() -> {
                while (committed.get() < haltAfter) {
                    Thread.onSpinWait();
                }
                Runtime.getRuntime().halt(0);
            });
            halter.setDaemon(true);
            halter.start();
        }
        RocksDbBytesStore store = RocksDbBytesStore.open("s", dir);
        boolean replayable = bulk.equals("replayable");
        if (bulk.startsWith("bulk")) {
            store.beginBulkLoad();
        }
        for (long i = 1; ; i++) {
            byte[] value = ((bulk.startsWith("bulk") ? "x".repeat(8 * 1024) : "") + "=" + i).getBytes(StandardCharsets.UTF_8);
            for (int k = 0; k < KEYS; k++) {
                store.put(("key-" + k).getBytes(StandardCharsets.UTF_8), value);
            }
            if (!haltFromAnotherThread && i == haltAfter + 1) {
                Runtime.getRuntime().halt(0); // mid-batch: the uncommitted writes of commit i die with the JVM
            }
            if (replayable) {
                store.commitReplayable(Map.of(IN, i, CHANGELOG, i * 10));
            } else {
                store.commit(Map.of(IN, i, CHANGELOG, i * 10));
            }
            committed.set(i);
            if (bulk.equals("bulk-end") && i == haltAfter) {
                store.endBulkLoad();
                Runtime.getRuntime().halt(0);
            }
        }
    }

    private void runChild(Path dir, long haltAfter, boolean fromAnotherThread) throws IOException, InterruptedException {
        runChild(dir, haltAfter, fromAnotherThread, "");
    }

    private void runChild(Path dir, long haltAfter, boolean fromAnotherThread, String bulk)
        throws IOException, InterruptedException {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process child = new ProcessBuilder(java, "-cp", classpath, RocksDbCrashTest.class.getName(),
            dir.toString(), Long.toString(haltAfter), Boolean.toString(fromAnotherThread), bulk)
            .redirectErrorStream(true)
            .redirectOutput(root.resolve("child-" + haltAfter + ".out").toFile())
            .start();
        Path out = root.resolve("child-" + haltAfter + ".out");
        try {
            assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child did not halt in 120 s; its output: "
                + Files.readString(out));
        } finally {
            child.destroyForcibly();   // a child that did not halt writes forever: never leave it running
        }
        assertEquals(0, child.exitValue(), "child failed; its output: " + Files.readString(out));
    }

    private static long assertAtOneCommit(RocksDbBytesStore store) {
        Long offset = store.committedOffsets().get(IN);
        assertNotNull(offset, "no committed offset");
        assertEquals(Map.of(IN, offset, CHANGELOG, offset * 10), store.committedOffsets());
        List<String> entries = RocksDbBytesStoreTest.entries(store.all());
        assertEquals(KEYS, entries.size());
        for (String e : entries) {
            assertTrue(e.endsWith("=" + offset), "entry " + e + " is not from commit " + offset);
        }
        return offset;
    }

    @Test
    void shouldReopenExactlyAtTheLastCommitAfterAHaltMidBatch() throws Exception {
        Path dir = root.resolve("mid-batch");
        runChild(dir, 25, false);
        try (RocksDbBytesStore store = RocksDbBytesStore.open("s", dir)) {
            assertEquals(25, assertAtOneCommit(store));
        }
    }

    @Test
    void shouldReopenAtOneWholeCommitAfterAHaltAtAnArbitraryInstant() throws Exception {
        Path dir = root.resolve("anywhere");
        for (int round = 1; round <= 3; round++) {
            long before;
            if (round == 1) {
                before = 0;
            } else {
                try (RocksDbBytesStore store = RocksDbBytesStore.open("s", dir)) {
                    before = assertAtOneCommit(store);
                }
            }
            // the child restarts from commit 1 (values go down again), so "at one commit" is still checkable
            runChild(dir, 15, true);
            try (RocksDbBytesStore store = RocksDbBytesStore.open("s", dir)) {
                long at = assertAtOneCommit(store);
                assertTrue(at >= 15, "commit " + at + " was acknowledged before the halt of round " + round
                    + " (previous " + before + ")");
            }
        }
    }

    /**
     * A bulk load (a restore) commits without the WAL: a halt loses what no flush reached, but what survives is
     * still one whole commit, its data with its offsets (atomic flush), or nothing at all.
     */
    @Test
    void shouldReopenAtOneWholeCommitOrEmptyAfterAHaltDuringABulkLoad() throws Exception {
        for (int round = 1; round <= 3; round++) {
            Path dir = root.resolve("bulk-" + round);
            runChild(dir, 10L * round, true, "bulk");
            try (RocksDbBytesStore store = RocksDbBytesStore.open("s", dir)) {
                if (store.committedOffsets().isEmpty()) {
                    assertEquals(List.of(), RocksDbBytesStoreTest.entries(store.all()), "data without its offsets");
                } else {
                    assertAtOneCommit(store);
                }
            }
        }
    }

    /** Ending a bulk load flushes: a halt right after it loses none of its commits. */
    @Test
    void shouldKeepEveryBulkCommitOnceTheBulkLoadEnded() throws Exception {
        Path dir = root.resolve("bulk-end");
        runChild(dir, 7, false, "bulk-end");
        try (RocksDbBytesStore store = RocksDbBytesStore.open("s", dir)) {
            assertEquals(7, assertAtOneCommit(store));
        }
    }

    /** A commit without the fsync is still there after the process dies: the OS had the WAL write. */
    @Test
    void shouldReopenExactlyAtTheLastReplayableCommitAfterAHalt() throws Exception {
        Path dir = root.resolve("replayable");
        runChild(dir, 25, false, "replayable");
        try (RocksDbBytesStore store = RocksDbBytesStore.open("s", dir)) {
            assertEquals(25, assertAtOneCommit(store));
        }
        runChild(dir, 15, true, "replayable");
        try (RocksDbBytesStore store = RocksDbBytesStore.open("s", dir)) {
            assertTrue(assertAtOneCommit(store) >= 15, "a commit that returned before the halt was lost");
        }
    }
}
