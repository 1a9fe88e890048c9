package io.weir.streams;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cooperative rebalancing (KIP-429, the default) against a real in-JVM broker: a second word-count instance joins
 * one that runs every task. The first instance closes only the tasks that move to the newcomer (each exactly once);
 * the tasks it keeps are never closed nor created again, read from its task lifecycle metrics. Under exactly-once
 * every word's output is exactly 1, 2, ..., n: nothing lost or counted twice across the hand-over.
 */
@Timeout(300)
class CooperativeRebalanceIntegrationTest {
    private static final int PARTITIONS = 4;
    private static StreamsTestCluster cluster;

    @BeforeAll
    static void start() {
        cluster = StreamsTestCluster.start("weir-streams-cooperative");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The tasks each lifecycle metric ({@code active-task-created-total} / {@code -closed-total}) counts. */
    private static Map<String, Long> lifecycle(WeirStreams s, String metric) {
        Map<String, Long> out = new TreeMap<>();
        s.metrics().forEach((k, v) -> {
            if (k.startsWith(metric + ".")) {
                out.put(k.substring(metric.length() + 1), v);
            }
        });
        return out;
    }

    /** The tasks an instance runs now: created more often than closed. */
    private static Set<String> running(WeirStreams s) {
        Map<String, Long> created = lifecycle(s, "active-task-created-total");
        Map<String, Long> closed = lifecycle(s, "active-task-closed-total");
        Set<String> out = new TreeSet<>();
        created.forEach((t, n) -> {
            if (n > closed.getOrDefault(t, 0L)) {
                out.add(t);
            }
        });
        return out;
    }

    @Test
    void shouldKeepRunningTheTasksItKeepsWhenAnInstanceJoins() throws Exception {
        String app = "coop";
        String input = "coop-in";
        String output = "coop-out";
        cluster.createTopics(PARTITIONS, input, output);
        Map<String, Long> expected = new TreeMap<>();
        Properties pa = cluster.wordCountProps(app, input, output, cluster.root().resolve("a"), 7101);
        Properties pb = cluster.wordCountProps(app, input, output, cluster.root().resolve("b"), 7102);
        try (WeirStreams a = new WeirStreams(WordCountJob.topology(pa, (k, w) -> { }), pa)) {
            a.start();
            cluster.produceLines(input, 0, 400, expected);
            cluster.awaitCounts(output, PARTITIONS, expected, "the counts of the first instance alone");
            StreamsTestCluster.awaitShare(List.of(a), 7101, input, PARTITIONS, "the first instance alone");
            Set<String> before = running(a);
            assertEquals(2 * PARTITIONS, before.size(), "it runs every task of both sub-topologies: " + before);
            Map<String, Long> createdBefore = lifecycle(a, "active-task-created-total");
            Map<String, Long> closedBefore = lifecycle(a, "active-task-closed-total");

            try (WeirStreams b = new WeirStreams(WordCountJob.topology(pb, (k, w) -> { }), pb)) {
                b.start();
                cluster.produceLines(input, 400, 800, expected);   // input keeps flowing through the rebalance
                StreamsTestCluster.awaitShare(List.of(a, b), 7102, input, PARTITIONS / 2, "the joined instance");
                StreamsTestCluster.awaitShare(List.of(a, b), 7101, input, PARTITIONS / 2, "the first instance");
                cluster.produceLines(input, 800, 1200, expected);
                cluster.awaitCounts(output, PARTITIONS, expected, "the counts of both instances");

                Set<String> kept = running(a);
                Set<String> moved = new TreeSet<>(before);
                moved.removeAll(kept);
                assertEquals(PARTITIONS, kept.size(), "the first instance keeps half the tasks: " + kept);
                assertEquals(moved, running(b), "the joined instance runs exactly the tasks that moved");
                Map<String, Long> createdAfter = lifecycle(a, "active-task-created-total");
                Map<String, Long> closedAfter = lifecycle(a, "active-task-closed-total");
                for (String t : kept) {
                    assertEquals(closedBefore.getOrDefault(t, 0L), closedAfter.getOrDefault(t, 0L),
                        "kept task " + t + " was never closed: " + closedAfter);
                    assertEquals(createdBefore.get(t), createdAfter.get(t), "kept task " + t + " was never created again");
                }
                for (String t : moved) {
                    assertEquals(closedBefore.getOrDefault(t, 0L) + 1, closedAfter.getOrDefault(t, 0L),
                        "moved task " + t + " was closed once, when it was revoked: " + closedAfter);
                }
            }
        }
        // exactly-once across the hand-over: each word's counts are 1, 2, ..., n in the read_committed output
        Map<String, List<Long>> all = cluster.readAll(output, PARTITIONS);
        assertEquals(expected.keySet(), all.keySet());
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            List<Long> want = new ArrayList<>();
            for (long i = 1; i <= e.getValue(); i++) {
                want.add(i);
            }
            List<Long> got = all.get(e.getKey());
            assertFalse(got.isEmpty());
            assertTrue(want.equals(got), "word " + e.getKey() + ": every count once, in order; got " + got);
        }
    }
}
