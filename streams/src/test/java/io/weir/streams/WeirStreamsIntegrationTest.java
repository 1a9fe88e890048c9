package io.weir.streams;

import io.weir.admin.Admin;
import io.weir.common.TopicPartition;
import io.weir.common.testing.Wait;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.state.internals.RestoreProgress;
import io.weir.streams.state.internals.RocksDbBytesStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static io.weir.streams.StreamsTestCluster.awaitRunning;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Word count under exactly-once against a real in-JVM broker: exact counts end to end in the
 * read_committed output (every word's running counts are exactly 1, 2, ..., n: nothing lost, nothing
 * counted twice), across a clean restart (which restores nothing), a SIGKILL of a forked job (the restart
 * replays at most the changelog tail of the last commit, never the whole changelog), a new state directory
 * (a full restore from the changelog) and a corrupt RocksDB directory (wiped, then restored); and static
 * membership: a SIGKILLed instance's restart takes its tasks back without waiting for the session timeout, and a
 * cleanly closed instance's tasks move at once.
 */
@Timeout(300)
class WeirStreamsIntegrationTest {
    private static final int PARTITIONS = 2;
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static StreamsTestCluster cluster;

    @BeforeAll
    static void start() {
        cluster = StreamsTestCluster.start("weir-streams-it");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** One job's names: application id, input and output topics. */
    private record Job(String appId, String input, String output) {
        static Job create() throws Exception {
            int n = NAMES.incrementAndGet();
            Job job = new Job("wc" + n, "lines-" + n, "counts-" + n);
            cluster.createTopics(PARTITIONS, job.input, job.output);
            return job;
        }

        /**
         * The job's properties: these tests check every running count of every word, so record caches (which
         * forward a word once per commit, as its latest count) are off; RecordCacheIntegrationTest runs them on.
         */
        Properties props(Path stateDir) {
            return cluster.wordCountProps(appId, input, output, stateDir);
        }

        WeirStreams streams(Path stateDir) {
            Properties p = props(stateDir);
            return new WeirStreams(new WordCountJob().topology(p), p);
        }
    }

    /** Sends lines {@code from..to-1}; each holds two words of a 40-word vocabulary; adds them to {@code expected}. */
    private static void produceLines(Job job, int from, int to, Map<String, Long> expected) {
        cluster.produceLines(job.input, from, to, expected);
    }

    /** Every word's running counts in the read_committed output, in order. */
    private static Map<String, List<Long>> readOutput(Job job) {
        return cluster.readAll(job.output, PARTITIONS);
    }

    /** Waits (for {@link #StreamsTestCluster.WAIT} at most) until every expected word reached its count, then checks exactness. */
    private static Map<String, List<Long>> awaitExactCounts(Job job, Map<String, Long> expected) throws InterruptedException {
        return awaitExactCounts(job, expected, () -> "");
    }

    /** {@link #awaitExactCounts(Job, Map)}; on timeout the failure adds {@code context} (a forked job's log, say). */
    private static Map<String, List<Long>> awaitExactCounts(Job job, Map<String, Long> expected, Supplier<String> context)
        throws InterruptedException {
        return awaitExactCountsBefore(job, expected, System.nanoTime() + StreamsTestCluster.WAIT.toNanos(),
            () -> "the job did not reach the expected counts in " + StreamsTestCluster.WAIT + context.get());
    }

    private static List<RestoreProgress> countStoreRestores(WeirStreams streams) {
        List<RestoreProgress> counts = new ArrayList<>();
        for (RestoreProgress p : streams.restoreProgress()) {
            if (p.storeName().equals("counts")) {
                counts.add(p);
            }
        }
        return counts;
    }

    private static Path storeDir(Path stateDir, Job job, String task) {
        return RocksDbBytesStore.storeDir(stateDir.resolve(job.appId).resolve(task), "counts");
    }

    @Test
    void shouldCountWordsExactlyOnceEndToEnd() throws Exception {
        Job job = Job.create();
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 1000, expected);
        try (WeirStreams streams = job.streams(cluster.root().resolve(job.appId))) {
            streams.start();
            awaitExactCounts(job, expected);
            produceLines(job, 1000, 1500, expected);
            awaitExactCounts(job, expected);
            assertEquals(0, streams.restoredRecords(), "a new job has nothing to restore");
            assertEquals(PARTITIONS, countStoreRestores(streams).size(), "one counts store per partition");
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            Map<String, ?> topics = admin.listTopics().get(60, TimeUnit.SECONDS);
            assertTrue(topics.containsKey(job.appId + "-by-word-repartition"), topics.keySet().toString());
            assertTrue(topics.containsKey(job.appId + "-counts-changelog"), topics.keySet().toString());
        }
    }

    /** at_least_once: a plain producer, the consumer commits after the stores; without failures the counts are exact. */
    @Test
    void shouldCountExactlyAtLeastOnceWithoutFailures() throws Exception {
        Job job = Job.create();
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 500, expected);
        Path stateDir = cluster.root().resolve(job.appId);
        Properties props = job.props(stateDir);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "200");
        try (WeirStreams streams = new WeirStreams(new WordCountJob().topology(props), props)) {
            streams.start();
            awaitExactCounts(job, expected);
        }
        try (WeirStreams streams = new WeirStreams(new WordCountJob().topology(props), props)) {
            streams.start();
            awaitRunning(streams);
            assertEquals(0, streams.restoredRecords(), "the clean stop committed the stores with their changelog offsets");
            produceLines(job, 500, 700, expected);
            awaitExactCounts(job, expected);
        }
    }

    /** Two stream threads share the tasks (rebalancing as the second joins) and the counts stay exact. */
    @Test
    void shouldCountExactlyWithTwoStreamThreads() throws Exception {
        Job job = Job.create();
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 1000, expected);
        Properties props = job.props(cluster.root().resolve(job.appId));
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "2");
        try (WeirStreams streams = new WeirStreams(new WordCountJob().topology(props), props)) {
            streams.start();
            awaitExactCounts(job, expected);
            produceLines(job, 1000, 1500, expected);
            awaitExactCounts(job, expected);
            assertEquals(2L, streams.metrics().get("alive-stream-threads"));
        }
    }

    @Test
    void shouldRestoreNothingAfterACleanRestartOnTheSameStateDir() throws Exception {
        Job job = Job.create();
        Path stateDir = cluster.root().resolve(job.appId);
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 800, expected);
        try (WeirStreams streams = job.streams(stateDir)) {
            streams.start();
            awaitExactCounts(job, expected);
        }
        try (WeirStreams streams = job.streams(stateDir)) {
            streams.start();
            awaitRunning(streams);
            assertEquals(0, streams.restoredRecords(), "a clean restart restores nothing");
            for (RestoreProgress p : countStoreRestores(streams)) {
                assertEquals(RestoreProgress.Origin.LOCAL_STORE, p.origin(), p.toString());
                assertTrue(p.startOffset() > 0, p.toString());
            }
            produceLines(job, 800, 1200, expected);
            awaitExactCounts(job, expected);
        }
    }

    @Test
    void shouldRestoreTheWholeChangelogIntoANewStateDir() throws Exception {
        Job job = Job.create();
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 600, expected);
        long written;
        try (WeirStreams streams = job.streams(cluster.root().resolve(job.appId + "-a"))) {
            streams.start();
            written = awaitExactCounts(job, expected).values().stream().mapToLong(List::size).sum();
        }
        try (WeirStreams streams = job.streams(cluster.root().resolve(job.appId + "-b"))) {
            streams.start();
            awaitRunning(streams);
            long restored = streams.restoredRecords();
            // every count update wrote one changelog record; compaction may have dropped some already
            assertTrue(restored >= expected.size() && restored <= written, restored + " restored of " + written);
            for (RestoreProgress p : countStoreRestores(streams)) {
                assertEquals(RestoreProgress.Origin.EMPTY, p.origin(), p.toString());
            }
            produceLines(job, 600, 900, expected);
            awaitExactCounts(job, expected);
        }
    }

    @Test
    void shouldWipeACorruptStoreAndRestoreItFromTheChangelog() throws Exception {
        Job job = Job.create();
        Path stateDir = cluster.root().resolve(job.appId);
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 600, expected);
        try (WeirStreams streams = job.streams(stateDir)) {
            streams.start();
            awaitExactCounts(job, expected);
        }
        Path corrupt = storeDir(stateDir, job, "1_0");
        Files.delete(corrupt.resolve("CURRENT"));
        try (WeirStreams streams = job.streams(stateDir)) {
            streams.start();
            awaitRunning(streams);
            RestoreProgress wiped = countStoreRestores(streams).stream()
                .filter(p -> p.changelog().partition() == 0).findFirst().orElseThrow();
            assertEquals(RestoreProgress.Origin.WIPED_CORRUPT, wiped.origin(), wiped.toString());
            assertTrue(wiped.recordsRestored() > 0, wiped.toString());
            assertTrue(Files.isDirectory(corrupt.resolveSibling("counts.corrupted")), "the corrupt files are kept aside");
            RestoreProgress healthy = countStoreRestores(streams).stream()
                .filter(p -> p.changelog().partition() == 1).findFirst().orElseThrow();
            assertEquals(RestoreProgress.Origin.LOCAL_STORE, healthy.origin(), healthy.toString());
            assertEquals(0, healthy.recordsRestored(), healthy.toString());
            produceLines(job, 600, 900, expected);
            awaitExactCounts(job, expected);
        }
    }

    /** Runs {@link WordCountJob} through {@link StreamsJobRunner} (what bin/weir-streams-run.sh runs) in its own JVM. */
    private static Process forkRunner(Properties props, Path log) throws java.io.IOException {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m", "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            StreamsJobRunner.class.getName(), "--class", WordCountJob.class.getName()));
        for (String k : props.stringPropertyNames()) {
            cmd.add("--property");
            cmd.add(k + "=" + props.getProperty(k));
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** For a failure message: whether the forked job still runs, and its log's last lines. */
    private static String forkedLog(Process child, Path log) {
        String text;
        try {
            text = Files.readString(log);
        } catch (java.io.IOException e) {
            text = "(unreadable: " + e + ")";
        }
        int from = Math.max(0, text.length() - 20_000);
        return "; the forked job is " + (child.isAlive() ? "running" : "gone (exit " + child.exitValue() + ")")
            + ", its log " + log + (from > 0 ? " ends" : "") + ":\n" + text.substring(from);
    }

    /**
     * The runner's job, forked, stops cleanly on SIGTERM (its shutdown hook closes the job: the last
     * transaction commits and the stores apply it), so a restart on its state directory restores nothing.
     */
    @Test
    void shouldStopAForkedJobCleanlyOnSigterm() throws Exception {
        Job job = Job.create();
        Path stateDir = cluster.root().resolve(job.appId);
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 600, expected);
        Properties props = job.props(stateDir);
        Path log = cluster.root().resolve(job.appId + "-forked.log");
        Process child = forkRunner(props, log);
        try {
            awaitExactCounts(job, expected, () -> forkedLog(child, log));
            child.destroy();
            assertTrue(child.waitFor(120, TimeUnit.SECONDS), () -> "the job did not stop on SIGTERM" + forkedLog(child, log));
        } finally {
            child.destroyForcibly();
        }
        String output = Files.readString(log);
        assertTrue(output.contains("State transition from PENDING_SHUTDOWN to NOT_RUNNING"), output);
        try (WeirStreams streams = job.streams(stateDir)) {
            streams.start();
            awaitRunning(streams);
            assertEquals(0, streams.restoredRecords(), "a job stopped by SIGTERM restores nothing: " + streams.restoreProgress());
            produceLines(job, 600, 700, expected);
            awaitExactCounts(job, expected);
        }
    }

    /**
     * A forked job is killed with SIGKILL while it processes (mid-transaction, most likely); the restart on
     * its state directory replays at most the tail of one commit per store and the output stays exact.
     */
    @Test
    void shouldReplayOnlyTheChangelogTailAfterSigkill() throws Exception {
        Job job = Job.create();
        Path stateDir = cluster.root().resolve(job.appId);
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 4000, expected);
        Properties props = job.props(stateDir);
        // small transactions: each commits after a few hundred store writes at most, so the tail is short
        props.put(StreamsConfig.STATESTORE_UNCOMMITTED_MAX_BYTES_CONFIG, "4096");
        Path log = cluster.root().resolve(job.appId + "-forked.log");
        Process child = forkRunner(props, log);
        long committedBeforeKill;
        try {
            // 2000 of the 8000 updates: every run reaches it (caches are off, so every update is output)
            long[] committed = {0};
            StreamsTestCluster.await(() -> {
                assertTrue(child.isAlive(), () -> "the forked job ended early" + forkedLog(child, log));
                committed[0] = readOutput(job).values().stream().mapToLong(List::size).sum();
                return committed[0] >= 2000;
            }, () -> "the forked job committed " + committed[0] + " of 2000 updates in " + StreamsTestCluster.WAIT
                + forkedLog(child, log));
            committedBeforeKill = committed[0];
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
        long total = expected.values().stream().mapToLong(Long::longValue).sum();
        try (WeirStreams streams = new WeirStreams(new WordCountJob().topology(props), props)) {
            streams.start();
            awaitRunning(streams);
            List<RestoreProgress> restores = countStoreRestores(streams);
            assertEquals(PARTITIONS, restores.size(), restores.toString());
            for (RestoreProgress p : restores) {
                assertNotEquals(RestoreProgress.Origin.WIPED_CORRUPT, p.origin(), p.toString());
                assertNotEquals(RestoreProgress.Origin.EMPTY, p.origin(), "the store kept its commits: " + p);
                assertTrue(p.startOffset() > 0, p.toString());
            }
            long restored = streams.restoredRecords();
            // a transaction holds at most ~300 writes per store here (4096 bytes); a full restore would be >= 2000
            assertTrue(restored <= 1000, "restored " + restored + " records: more than one small commit's tail ("
                + committedBeforeKill + " updates were committed before the kill, " + total + " in all): " + restores);
            Map<String, List<Long>> out = awaitExactCounts(job, expected);
            assertEquals(total, out.values().stream().mapToLong(List::size).sum());
        }
    }
    /**
     * Record caches under SIGKILL: the forked job caches its counts (the flush before each commit puts the
     * cached updates into that commit's transaction), is killed mid-run, and the restart on the same state
     * directory ends with every word's count exact; each word's committed running counts only ever increase
     * (caching skips some, but a record counted twice would end above the true count, a lost one below).
     */
    @Test
    void shouldKeepCachedCountsExactAcrossSigkill() throws Exception {
        Job job = Job.create();
        Path stateDir = cluster.root().resolve(job.appId);
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 6000, expected);
        Properties props = job.props(stateDir);
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.toString(StreamsConfig.DEFAULT_STATESTORE_CACHE_MAX_BYTES));
        Path log = cluster.root().resolve(job.appId + "-forked.log");
        Process child = forkRunner(props, log);
        try {
            // the first commit's output, then the kill: with the cache on, a commit forwards at most one update
            // per word (40), and a fast job may take all 6000 lines in one or two commits, so wait for no more
            StreamsTestCluster.await(() -> {
                assertTrue(child.isAlive(), () -> "the forked job ended early" + forkedLog(child, log));
                return !readOutput(job).isEmpty();
            }, () -> "the forked job committed nothing in " + StreamsTestCluster.WAIT + forkedLog(child, log));
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
        try (WeirStreams streams = new WeirStreams(new WordCountJob().topology(props), props)) {
            streams.start();
            awaitRunning(streams);
            for (RestoreProgress p : countStoreRestores(streams)) {
                assertNotEquals(RestoreProgress.Origin.WIPED_CORRUPT, p.origin(), p.toString());
            }
            AtomicReference<Map<String, List<Long>>> last = new AtomicReference<>(Map.of());
            Duration restartBound = Duration.ofSeconds(180);   // a restore on top of the WAIT a job may take
            StreamsTestCluster.await(() -> {
                last.set(readOutput(job));
                return StreamsTestCluster.reached(last.get(), expected);
            }, restartBound, () -> "the restarted job did not reach the counts " + expected + " in " + restartBound
                + ": " + last.get());
            Map<String, List<Long>> out = last.get();
            assertEquals(expected.keySet(), out.keySet(), "words in the output");
            long total = expected.values().stream().mapToLong(Long::longValue).sum();
            long outputRecords = 0;
            for (Map.Entry<String, Long> e : expected.entrySet()) {
                List<Long> seq = out.get(e.getKey());
                assertEquals(e.getValue(), seq.get(seq.size() - 1), "the final count of " + e.getKey() + ": " + seq);
                for (int i = 1; i < seq.size(); i++) {
                    assertTrue(seq.get(i) > seq.get(i - 1), "the running counts of " + e.getKey() + " went back: " + seq);
                }
                outputRecords += seq.size();
            }
            assertTrue(outputRecords < total, "caching forwarded fewer updates (" + outputRecords + ") than records counted ("
                + total + ")");
        }
    }

    /** A stream thread that dies mid-transaction is replaced: its tasks restart from the last commit, counts stay exact. */
    @Test
    void shouldReplaceAFailedThreadAndKeepTheCountsExact() throws Exception {
        Job job = Job.create();
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 300, expected);
        sendLine(job, "boom", expected);
        produceLines(job, 300, 600, expected);
        AtomicBoolean failNext = new AtomicBoolean(true);
        List<Throwable> handled = new CopyOnWriteArrayList<>();
        Properties props = job.props(cluster.root().resolve(job.appId));
        try (WeirStreams streams = new WeirStreams(WordCountJob.topology(props, (k, word) -> {
            if (word.equals("boom") && failNext.compareAndSet(true, false)) {
                throw new IllegalStateException("boom");
            }
        }), props)) {
            streams.setUncaughtExceptionHandler(e -> {
                handled.add(e);
                return WeirStreams.StreamThreadExceptionResponse.REPLACE_THREAD;
            });
            streams.start();
            awaitExactCounts(job, expected);
            assertEquals(1, handled.size(), handled.toString());
            assertTrue(handled.get(0).toString().contains("boom") || handled.get(0).getCause().getMessage().contains("boom"),
                handled.toString());
            assertTrue(streams.state().isRunningOrRebalancing(), streams.state().toString());
        }
    }

    /** Without a handler a failed thread shuts the client down: the state ends in ERROR. */
    @Test
    void shouldShutDownTheClientWhenAThreadFailsByDefault() throws Exception {
        Job job = Job.create();
        Map<String, Long> expected = new TreeMap<>();
        sendLine(job, "boom", expected);
        Properties props = job.props(cluster.root().resolve(job.appId));
        List<WeirStreams.State> states = new CopyOnWriteArrayList<>();
        try (WeirStreams streams = new WeirStreams(WordCountJob.topology(props, (k, word) -> {
            throw new IllegalStateException("always");
        }), props)) {
            streams.setStateListener((now, old) -> states.add(now));
            streams.start();
            Wait.until(() -> streams.state() == WeirStreams.State.ERROR, StreamsTestCluster.WAIT,
                () -> "the client to end in ERROR, it is " + streams.state() + " after " + states);
            assertTrue(states.containsAll(List.of(WeirStreams.State.PENDING_ERROR, WeirStreams.State.ERROR)), states.toString());
        }
        assertEquals(Map.of(), readOutput(job), "nothing of the failed transaction is visible");
    }

    /** The active partitions the group's last assignment (as {@code streams} saw it) gives the instance at {@code host}. */
    private static Set<TopicPartition> heldBy(WeirStreams streams, String host) {
        for (StreamsMetadata m : streams.metadataForAllStreamsClients()) {
            if (m.host().equals(host)) {
                return m.topicPartitions();
            }
        }
        return Set.of();
    }

    /** {@link #awaitExactCounts}, failing once {@code deadlineNs} ({@link System#nanoTime}) has passed. */
    private static Map<String, List<Long>> awaitExactCountsBefore(Job job, Map<String, Long> expected, long deadlineNs,
        Supplier<String> why) throws InterruptedException {
        return cluster.awaitExactCounts(job.output, PARTITIONS, expected, deadlineNs, why);
    }

    /**
     * The static-membership tests' session timeout: a take-over that waited for a dead or closed member's session
     * would wait this long. {@link #TAKE_OVER_MS} is what they allow instead: far below it, and far above what a
     * take-over that does not wait needs even on a loaded machine (a few seconds), so neither side is a close call.
     */
    private static final long STATIC_SESSION_TIMEOUT_MS = 120_000;
    private static final long TAKE_OVER_MS = 75_000;

    private static Properties instanceProps(Job job, String host) {
        Properties p = job.props(cluster.root().resolve(job.appId + "-" + host));
        p.put("consumer.session.timeout.ms", "45000");   // a restart that waited for the dead members' sessions would wait this long
        p.put(StreamsConfig.APPLICATION_SERVER_CONFIG, host + ":1");
        return p;
    }

    /**
     * Static membership (issue 13): two instances share the tasks; one, forked, is SIGKILLed and restarted on its
     * state directory with {@code session.timeout.ms} at 45 s. Its stream threads' {@code group.instance.id}s come
     * from the process id kept in that directory, so the restart rejoins as the same static members and the
     * coordinator replaces the dead member ids at once: the restarted instance gets the same tasks back, the
     * other keeps its own, and new input is counted exactly within 30 s of the kill. A dynamic member could not:
     * the rebalance its join starts cannot finish until the coordinator drops the dead member, 45 s after its
     * last heartbeat.
     */
    @Test
    void shouldTakeItsTasksBackAfterSigkillWithoutWaitingForTheSessionTimeout() throws Exception {
        Job job = Job.create();
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 1000, expected);
        Properties propsA = instanceProps(job, "a");
        Properties propsB = instanceProps(job, "b");
        Path log = cluster.root().resolve(job.appId + "-forked.log");
        Process child = forkRunner(propsA, log);
        try (WeirStreams b = new WeirStreams(new WordCountJob().topology(propsB), propsB)) {
            Set<TopicPartition> heldByA;
            Set<TopicPartition> heldByB;
            long killedNs;
            try {
                b.start();
                awaitExactCounts(job, expected, () -> forkedLog(child, log));
                Wait.until(() -> {
                    assertTrue(child.isAlive(), () -> "the forked instance ended early" + forkedLog(child, log));
                    return b.state() == WeirStreams.State.RUNNING && !heldBy(b, "a").isEmpty() && !heldBy(b, "b").isEmpty();
                }, StreamsTestCluster.WAIT, () -> "both instances to hold tasks, saw " + b.state() + " " + b.metadataForAllStreamsClients()
                    + forkedLog(child, log));
                heldByA = heldBy(b, "a");
                heldByB = heldBy(b, "b");
            } finally {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
                killedNs = System.nanoTime();
            }
            try (WeirStreams a = new WeirStreams(new WordCountJob().topology(propsA), propsA)) {
                a.start();
                produceLines(job, 1000, 1400, expected);
                awaitExactCountsBefore(job, expected, killedNs + TimeUnit.MILLISECONDS.toNanos(TAKE_OVER_MS),
                    () -> "the restarted instance did not count new input within " + TAKE_OVER_MS + " ms of the kill"
                        + " (the session timeout is " + STATIC_SESSION_TIMEOUT_MS + " ms)");
                assertEquals(heldByA, heldBy(a, "a"), "the restarted instance got its tasks back");
                assertEquals(heldByB, heldBy(a, "b"), "the other instance kept its tasks");
                assertEquals(heldByB, heldBy(b, "b"), "the other instance kept its tasks (its own view)");
            }
        }
    }

    /**
     * A clean close of a static member leaves the group (LeaveGroup with its instance id): with
     * {@code session.timeout.ms} at 45 s, the remaining instance takes every task over and counts new input
     * within 30 s of the close, instead of leaving the closed instance's tasks idle until its session expires.
     */
    @Test
    void shouldHandTheTasksOverAtOnceWhenAStaticMemberClosesCleanly() throws Exception {
        Job job = Job.create();
        Map<String, Long> expected = new TreeMap<>();
        produceLines(job, 0, 600, expected);
        Properties propsA = instanceProps(job, "a");
        Properties propsB = instanceProps(job, "b");
        try (WeirStreams b = new WeirStreams(new WordCountJob().topology(propsB), propsB)) {
            long closedNs;
            try (WeirStreams a = new WeirStreams(new WordCountJob().topology(propsA), propsA)) {
                a.start();
                b.start();
                awaitExactCounts(job, expected);
                Wait.until(() -> b.state() == WeirStreams.State.RUNNING && !heldBy(b, "a").isEmpty() && !heldBy(b, "b").isEmpty(),
                    StreamsTestCluster.WAIT, () -> "both instances to hold tasks, saw " + b.state() + " " + b.metadataForAllStreamsClients());
            }
            closedNs = System.nanoTime();
            produceLines(job, 600, 900, expected);
            awaitExactCountsBefore(job, expected, closedNs + TimeUnit.MILLISECONDS.toNanos(TAKE_OVER_MS),
                () -> "the remaining instance did not take the closed one's tasks over within " + TAKE_OVER_MS
                    + " ms (the session timeout is " + STATIC_SESSION_TIMEOUT_MS + " ms)");
            assertEquals(Set.of(), heldBy(b, "a"), "the closed instance left the group");
        }
    }

    private static void sendLine(Job job, String line, Map<String, Long> expected) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        try (WeirProducer<String, String> producer = new WeirProducer<>(p, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            producer.send(new ProducerRecord<>(job.input, "line", line));
            producer.flush();
        }
        for (String w : line.split(" ")) {
            expected.merge(w, 1L, Long::sum);
        }
    }
}
