package io.weir.streams;

import io.weir.common.TopicPartition;
import io.weir.streams.processor.TaskId;
import io.weir.streams.processor.internals.StoreSnapshots;
import io.weir.streams.state.internals.RestoreProgress;
import io.weir.streams.state.internals.RocksDbBytesStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static io.weir.streams.StreamsTestCluster.awaitRunning;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A new host or a lost disk ({@code state.snapshot.dir}): word count against a real in-JVM broker publishes
 * snapshots of its {@code counts} stores; a second instance with an empty state directory bootstraps each store
 * from the newest snapshot and replays only the changelog after it (counted by the runtime's own restore
 * metrics), and ends with exact counts; damaged snapshots are skipped, with a log line saying why, down to a full
 * restore from the changelog.
 */
@Timeout(300)
class StoreSnapshotIntegrationTest {
    private static final int PARTITIONS = 2;
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static StreamsTestCluster cluster;

    @BeforeAll
    static void start() {
        cluster = StreamsTestCluster.start("weir-streams-snapshots-it");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private record Job(String appId, String input, String output, Path snapshotDir) {
        static Job create() throws Exception {
            int n = NAMES.incrementAndGet();
            Job job = new Job("snap" + n, "snap-lines-" + n, "snap-counts-" + n, cluster.root().resolve("snapshots-" + n));
            cluster.createTopics(PARTITIONS, job.input, job.output);
            return job;
        }

        /**
         * A job on {@code stateDir} (record caches off: every count update is one changelog record, so the tail is
         * exactly the updates made after the snapshot); with snapshots, one is published at every commit (interval 0).
         */
        WeirStreams streams(Path stateDir, boolean snapshots) {
            Properties p = cluster.wordCountProps(appId, input, output, stateDir);
            if (snapshots) {
                p.put(StreamsConfig.STATE_SNAPSHOT_DIR_CONFIG, snapshotDir.toString());
                p.put(StreamsConfig.STATE_SNAPSHOT_INTERVAL_MS_CONFIG, "0");
            }
            return new WeirStreams(new WordCountJob().topology(p), p);
        }

        Path storeSnapshots(int partition) {
            return StoreSnapshots.storeSnapshotsDir(snapshotDir, appId, new TaskId(1, partition), "counts");
        }
    }

    /** Sends lines {@code from..to-1} of two words each; returns the count updates they make (2 per line). */
    private static long produceLines(Job job, int from, int to, Map<String, Long> expected) {
        cluster.produceLines(job.input, from, to, expected);
        return 2L * (to - from);
    }

    /** Waits until every word reached its expected count, then checks every running count is exactly 1..n. */
    private static void awaitExactCounts(Job job, Map<String, Long> expected) throws InterruptedException {
        cluster.awaitExactCounts(job.output, PARTITIONS, expected, System.nanoTime() + StreamsTestCluster.WAIT.toNanos(),
            () -> "the job did not reach the counts " + expected + " in " + StreamsTestCluster.WAIT);
    }

    private static RestoreProgress countsRestore(WeirStreams streams, int partition) {
        return streams.restoreProgress().stream()
            .filter(p -> p.storeName().equals("counts") && p.changelog().partition() == partition)
            .findFirst().orElseThrow(() -> new AssertionError("no restore of counts-" + partition + ": " + streams.restoreProgress()));
    }

    private static long snapshotOffset(Path snapshot) {
        return Long.parseLong(snapshot.getFileName().toString());
    }

    /**
     * Instance 1 counts 3000 lines publishing snapshots, stops; it runs again without snapshots for 200 more lines
     * (the tail: 400 count updates after the last snapshots). Instance 2, with an empty state directory and the same
     * snapshot directory, restores both stores from their snapshots and replays exactly those 400 changelog records,
     * far below the changelog's 6400, then counts on exactly.
     */
    @Test
    void shouldBootstrapAnEmptyStateDirFromTheSnapshotsAndReplayOnlyTheTail() throws Exception {
        Job job = Job.create();
        Path stateA = cluster.root().resolve(job.appId + "-a");
        Map<String, Long> expected = new TreeMap<>();
        long changelogRecords = produceLines(job, 0, 3000, expected);
        try (WeirStreams streams = job.streams(stateA, true)) {
            streams.start();
            awaitExactCounts(job, expected);
        }
        Map<Integer, Long> snapshotAt = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            List<Path> snapshots = StoreSnapshots.snapshotsOf(job.storeSnapshots(p));
            assertFalse(snapshots.isEmpty(), "no snapshot of counts-" + p);
            assertTrue(snapshots.size() <= StoreSnapshots.SNAPSHOTS_KEPT, "older snapshots are pruned: " + snapshots);
            snapshotAt.put(p, snapshotOffset(snapshots.get(0)));
            // the snapshot holds the store's state at its last commit, the one the clean stop made
            assertEquals(Map.of(new TopicPartition(job.appId + "-counts-changelog", p), snapshotAt.get(p)),
                RocksDbBytesStore.readSnapshotOffsets(snapshots.get(0)).entrySet().stream()
                    .filter(e -> e.getKey().topic().endsWith("-changelog"))
                    .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
        }
        long tail;
        try (WeirStreams streams = job.streams(stateA, false)) {
            streams.start();
            tail = produceLines(job, 3000, 3200, expected);
            changelogRecords += tail;
            awaitExactCounts(job, expected);
        }

        Path stateB = cluster.root().resolve(job.appId + "-b");
        try (WeirStreams streams = job.streams(stateB, true)) {
            streams.start();
            awaitRunning(streams);
            for (int p = 0; p < PARTITIONS; p++) {
                RestoreProgress r = countsRestore(streams, p);
                assertEquals(RestoreProgress.Origin.SNAPSHOT, r.origin(), r.toString());
                assertEquals(snapshotAt.get(p), r.startOffset(), "the replay starts at the snapshot's offset: " + r);
            }
            Map<String, Long> metrics = streams.metrics();
            assertEquals(PARTITIONS, metrics.get("restore-from-snapshot.counts"), metrics.toString());
            long restored = metrics.get("restore-records-total");
            assertEquals(tail, restored, "only the changelog tail after the snapshots is replayed (the changelog holds "
                + changelogRecords + " records): " + streams.restoreProgress());
            assertEquals(tail, metrics.get("restore-records-total.counts"), metrics.toString());
            produceLines(job, 3200, 3500, expected);
            awaitExactCounts(job, expected);
        }
    }

    /**
     * Of partition 0's two snapshots the newest has damaged data files and the older lacks its RocksDB CURRENT
     * file (a partial copy): both are skipped with a log line saying why, and the store is restored from its whole
     * changelog. Partition 1's snapshot is intact and used. The counts end exact.
     */
    @Test
    void shouldSkipCorruptSnapshotsAndFallBackToAFullRestore() throws Exception {
        Job job = Job.create();
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 1000, expected);
        try (WeirStreams streams = job.streams(cluster.root().resolve(job.appId + "-a"), true)) {
            streams.start();
            awaitExactCounts(job, expected);
            produceLines(job, 1000, 1500, expected);   // more commits: two snapshots per store
            awaitExactCounts(job, expected);
        }
        List<Path> snapshots = StoreSnapshots.snapshotsOf(job.storeSnapshots(0));
        assertEquals(StoreSnapshots.SNAPSHOTS_KEPT, snapshots.size(), snapshots.toString());
        Path newest = snapshots.get(0);
        Path older = snapshots.get(1);
        assertTrue(damageDataFiles(newest.resolve(RocksDbBytesStore.SNAPSHOT_DB_DIR)) > 0, "no data file in " + newest);
        Files.delete(older.resolve(RocksDbBytesStore.SNAPSHOT_DB_DIR).resolve("CURRENT"));

        String log;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (WeirStreams streams = job.streams(cluster.root().resolve(job.appId + "-b"), true)) {
            System.setErr(new PrintStream(new Tee(originalErr, captured), true, StandardCharsets.UTF_8));
            try {
                streams.start();
                awaitRunning(streams);
            } finally {
                System.setErr(originalErr);
            }
            log = captured.toString(StandardCharsets.UTF_8);
            RestoreProgress full = countsRestore(streams, 0);
            assertEquals(RestoreProgress.Origin.EMPTY, full.origin(), full.toString());
            assertEquals(0, full.startOffset(), full.toString());
            assertTrue(full.recordsRestored() > 0, full.toString());
            RestoreProgress fromSnapshot = countsRestore(streams, 1);
            assertEquals(RestoreProgress.Origin.SNAPSHOT, fromSnapshot.origin(), fromSnapshot.toString());
            assertEquals(0, fromSnapshot.recordsRestored(), "the intact snapshot is at the changelog's end: " + fromSnapshot);
            assertEquals(1L, streams.metrics().get("restore-from-snapshot.counts"), streams.metrics().toString());
            produceLines(job, 1500, 1800, expected);
            awaitExactCounts(job, expected);
        }
        assertTrue(log.contains("skipping snapshot " + newest + " of state store 'counts' because"), log);
        assertTrue(log.contains("skipping snapshot " + older + " of state store 'counts' because"), log);
        assertTrue(log.contains("no usable snapshot of state store 'counts' among 2; it is restored from its whole changelog"), log);
    }

    /** Replaces every data file (SST, WAL) of a snapshot's checkpoint by garbage of the same size; returns how many. */
    private static int damageDataFiles(Path db) throws IOException {
        int n = 0;
        List<Path> files;
        try (Stream<Path> list = Files.list(db)) {
            files = list.filter(f -> f.getFileName().toString().endsWith(".sst")
                || (f.getFileName().toString().endsWith(".log") && !f.getFileName().toString().startsWith("LOG"))).toList();
        }
        for (Path f : files) {
            byte[] garbage = new byte[(int) Files.size(f)];
            java.util.Arrays.fill(garbage, (byte) 0x5a);
            Files.delete(f);   // a new file: the original may be a hard link into the first instance's store
            Files.write(f, garbage);
            n++;
        }
        return n;
    }

    /** Writes to two streams (the test's log capture beside the real stderr). */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}
