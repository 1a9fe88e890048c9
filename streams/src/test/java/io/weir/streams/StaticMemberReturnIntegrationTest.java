package io.weir.streams;

import io.weir.common.TopicPartition;
import io.weir.streams.state.internals.RestoreProgress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An instance that comes back gets its share of tasks back at once: two static-member instances of the word count
 * job (the defaults: static members that leave the group on close), one closes, the other takes every task over and
 * runs on a little (less than {@code acceptable.recovery.lag}); the closed one restarts on its state directory and
 * must hold its share again long before a probing rebalance ({@code probing.rebalance.interval.ms}, 10 minutes) could
 * move anything. That needs the restarted instance to report what its own stores committed (a fresh process knew
 * nothing of them and reported them as unknown, so every stateful task it was due waited for a warm-up), and the
 * owner to give back the tasks the returning instance holds state for rather than others.
 */
@Timeout(300)
class StaticMemberReturnIntegrationTest {
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static final int PARTITIONS = 4;
    private static final long ACCEPTABLE_LAG = 500;
    private static StreamsTestCluster cluster;

    @BeforeAll
    static void start() {
        cluster = StreamsTestCluster.start("weir-static-return");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Properties props(String app, String input, String output, String instance, int port) {
        Properties p = cluster.wordCountProps(app, input, output, cluster.root().resolve(app + "-" + instance), port);
        // a store more than this behind its current owner's warms up first; the probing rebalance that then moves
        // the task comes only after probing.rebalance.interval.ms (its default: 10 minutes, far beyond the waits)
        p.put("acceptable.recovery.lag", Long.toString(ACCEPTABLE_LAG));
        return p;
    }

    @Test
    void shouldGiveARestartedStaticInstanceItsShareOfTasksBack() throws Exception {
        int n = NAMES.incrementAndGet();
        String app = "static-return-" + n;
        String input = "sr-lines-" + n;
        String output = "sr-counts-" + n;
        String repartition = app + "-by-word-repartition";
        cluster.createTopics(PARTITIONS, input, output);
        Map<String, Long> expected = new TreeMap<>();
        Properties pa = props(app, input, output, "a", 7401);
        Properties pb = props(app, input, output, "b", 7402);
        try (WeirStreams a = new WeirStreams(new WordCountJob().topology(pa), pa)) {
            a.start();
            try (WeirStreams b = new WeirStreams(new WordCountJob().topology(pb), pb)) {
                b.start();
                StreamsTestCluster.awaitShare(List.of(a, b), 7402, repartition, PARTITIONS / 2, "the second instance");
                // 4,000 count updates: each counts task's changelog runs far past acceptable.recovery.lag
                cluster.produceLines(input, 0, 2000, expected);
                cluster.awaitCounts(output, PARTITIONS, expected, "counts before the close");
            }
            // a holds every task now; while b is away its stores move on by less than acceptable.recovery.lag
            cluster.produceLines(input, 2000, 2200, expected);
            cluster.awaitCounts(output, PARTITIONS, expected, "counts while the second instance is away");
            try (WeirStreams b = new WeirStreams(new WordCountJob().topology(pb), pb)) {
                b.start();
                StreamsTestCluster.awaitShare(List.of(a, b), 7402, repartition, PARTITIONS / 2,
                    "the restarted instance (its stores are within acceptable.recovery.lag of the owner's)");
                StreamsTestCluster.awaitShare(List.of(a, b), 7402, input, PARTITIONS / 2, "the restarted instance");
                for (RestoreProgress p : b.restoreProgress()) {
                    if (p.storeName().equals("counts")) {
                        assertEquals(RestoreProgress.Origin.LOCAL_STORE, p.origin(), "restarted from its own store: " + p);
                    }
                }
                cluster.produceLines(input, 2200, 2400, expected);
                cluster.awaitCounts(output, PARTITIONS, expected, "counts after the return");
                for (TopicPartition tp : List.of(new TopicPartition(repartition, 0))) {
                    assertEquals(1, a.metadataForAllStreamsClients().stream()
                        .filter(m -> m.topicPartitions().contains(tp)).count(), "one owner of " + tp);
                }
            }
        }
    }
}
