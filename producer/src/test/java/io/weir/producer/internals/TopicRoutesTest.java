package io.weir.producer.internals;

import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.Node;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class TopicRoutesTest {
    private static final String TOPIC = "t";

    private static Cluster cluster(int partitions) {
        List<Cluster.PartitionInfo> parts = IntStream.range(0, partitions).mapToObj(p ->
            new Cluster.PartitionInfo(TOPIC, p, 0, 0, List.of(0), List.of(0), List.of(), Errors.NONE)).toList();
        return new Cluster("c", List.of(new Node(0, "localhost", 9092)), 0,
            Map.of(TOPIC, new Cluster.TopicInfo(TOPIC, null, false, parts)), Map.of());
    }

    @Test
    void shouldKeepEveryKeyAndAddNewOnesWhenThePartitionCountGrows() {
        TopicRoutes routes = new TopicRoutes();
        assertNull(routes.get(TOPIC));
        Cluster three = cluster(3);
        TopicRoutes.Route first = routes.route(TOPIC, three);
        assertSame(three, first.cluster());
        assertEquals(3, first.partitionCount());
        for (int p = 0; p < 3; p++) {
            assertEquals(new TopicPartition(TOPIC, p), first.partitions()[p]);
            assertSame(first.partitions()[p], first.key(p));
        }
        assertSame(first, routes.get(TOPIC));

        // new metadata, same count: a new route (the cluster is what a send compares), the same keys
        Cluster sameCount = cluster(3);
        TopicRoutes.Route second = routes.route(TOPIC, sameCount);
        assertSame(sameCount, second.cluster());
        assertSame(first.partitions(), second.partitions());
        assertSame(second, routes.get(TOPIC));

        TopicRoutes.Route grown = routes.route(TOPIC, cluster(5));
        assertEquals(5, grown.partitionCount());
        assertEquals(5, grown.partitions().length);
        for (int p = 0; p < 3; p++) {
            assertSame(first.partitions()[p], grown.partitions()[p], "partition " + p + " keeps its key");
        }
        for (int p = 3; p < 5; p++) {
            assertEquals(new TopicPartition(TOPIC, p), grown.partitions()[p]);
        }
        assertEquals(3, first.partitions().length, "a route already handed out is never changed");
        assertEquals(new TopicPartition(TOPIC, 9), grown.key(9), "past the keys (a gap in the metadata): a new key");

        // an older cluster routed later (another thread's send) counts its own partitions but drops no key
        TopicRoutes.Route older = routes.route(TOPIC, three);
        assertEquals(3, older.partitionCount());
        assertSame(grown.partitions(), older.partitions());
    }

    @Test
    void shouldHandOutOneInstancePerPartitionWhileOtherThreadsRouteGrowingAndOlderClusters() throws Exception {
        int maxPartitions = 200;
        List<Cluster> clusters = new ArrayList<>();
        for (int n = 1; n <= maxPartitions; n++) {
            clusters.add(cluster(n));
        }
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 100; round++) {
                TopicRoutes routes = new TopicRoutes();
                CountDownLatch start = new CountDownLatch(1);
                AtomicBoolean writing = new AtomicBoolean(true);
                // two writers grow the topic one partition at a time, racing each other; a third routes random
                // (mostly older) clusters; each returns the keys of every route it was handed
                List<Future<List<TopicPartition[]>>> writers = new ArrayList<>();
                for (int w = 0; w < 3; w++) {
                    boolean growing = w < 2;
                    writers.add(threads.submit(() -> {
                        start.await();
                        List<TopicPartition[]> handed = new ArrayList<>();
                        for (int i = 0; i < maxPartitions; i++) {
                            Cluster c = clusters.get(growing ? i : ThreadLocalRandom.current().nextInt(maxPartitions));
                            handed.add(routes.route(TOPIC, c).partitions());
                        }
                        return handed;
                    }));
                }
                Future<TopicPartition[]> reader = threads.submit(() -> {
                    start.await();
                    TopicPartition[] seen = new TopicPartition[maxPartitions];
                    boolean last = false;
                    while (!last && !Thread.currentThread().isInterrupted()) { // interrupted: a writer failed
                        last = !writing.get(); // one more full read after the writers are done
                        TopicRoutes.Route route = routes.get(TOPIC);
                        if (route == null) {
                            continue;
                        }
                        TopicPartition[] keys = route.partitions();
                        assertTrue(keys.length >= route.partitionCount(), keys.length + " keys for "
                            + route.partitionCount() + " partitions");
                        for (int p = 0; p < keys.length; p++) {
                            TopicPartition key = keys[p];
                            if (key == null || key.partition() != p || seen[p] != null && seen[p] != key) {
                                fail("partition " + p + ": key " + key + " where an earlier read saw " + seen[p]);
                            }
                            seen[p] = key;
                        }
                    }
                    return seen;
                });
                start.countDown();
                List<TopicPartition[]> observed = new ArrayList<>();
                for (Future<List<TopicPartition[]>> writer : writers) {
                    observed.addAll(writer.get());
                }
                writing.set(false);
                observed.add(reader.get());
                TopicPartition[] finalKeys = routes.get(TOPIC).partitions();
                assertEquals(maxPartitions, finalKeys.length, "round " + round + ": no key lost to a concurrent route");
                for (TopicPartition[] keys : observed) {
                    for (int p = 0; p < keys.length; p++) {
                        assertSame(finalKeys[p], keys[p], "round " + round + ": partition " + p + " has one key");
                    }
                }
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void shouldGiveTheAdaptivePartitionerTheRoutesKeys() {
        TopicRoutes routes = new TopicRoutes();
        TopicRoutes.Route route = routes.route(TOPIC, cluster(4));
        List<TopicPartition> asked = new ArrayList<>();
        BuiltInPartitioner sticky = new BuiltInPartitioner(100, true, tp -> {
            asked.add(tp);
            return tp.partition();
        }, routes);
        for (int i = 0; i < 200; i++) {
            int p = sticky.partition(TOPIC, route.cluster(), route.partitionCount());
            sticky.onAppend(TOPIC, p, 50, route.cluster());
        }
        assertTrue(asked.size() > 100, "the adaptive choice looked up queue sizes: " + asked.size());
        for (TopicPartition tp : asked) {
            assertSame(route.partitions()[tp.partition()], tp, "the queue-size lookup used the producer's key");
        }
    }
}
