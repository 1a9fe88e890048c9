package io.weir.consumer;

import io.weir.common.TopicPartition;
import io.weir.protocol.client.FakeFailoverCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The consumer after its partition leader dies (issue 12): a {@link FakeFailoverCluster} plays a cluster whose
 * leader (node 1) is gone, its port refusing connections, while the metadata keeps naming it for a few
 * refreshes (the election takes a moment) and then names node 2 with a newer leader epoch. Fetches and
 * ListOffsets must reach node 2 soon after the metadata says so, not after a request times out
 * ({@code request.timeout.ms} is 60 s here, far above the 20 s functional bound).
 *
 * <p>The position reset failed before the fix (its ListOffsets waited on the dead node until the lookup's
 * deadline). The fetch case already recovered before it (a fetch for the new leader is not held back by
 * the stale one), and guards that the fail-fast fetch path keeps re-routing without a tight retry loop.
 */
class ConsumerLeaderFailoverTest {
    private static final String TOPIC = "failover";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private FakeFailoverCluster cluster;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void shouldFetchFromTheNewLeaderWithoutWaitingOutTheRequestTimeoutAfterTheLeaderDies() throws Exception {
        cluster = new FakeFailoverCluster(TOPIC);
        toClose.add(cluster);
        cluster.append("before");
        WeirConsumer<String, String> consumer = consumer();
        consumer.assign(List.of(TP));
        consumer.seek(TP, 0);
        assertEquals(List.of("before"), pollUntilRecords(consumer));

        cluster.killLeader(); // the leader's process is gone: its connections drop and its port refuses connects
        cluster.append("after");

        assertEquals(List.of("after"), pollUntilRecords(consumer));
        assertEquals(2, cluster.leaderId(), "fetched from the new leader");
    }

    @Test
    void shouldResetThePositionThroughTheNewLeaderWithoutWaitingOutTheLookupDeadline() throws Exception {
        cluster = new FakeFailoverCluster(TOPIC);
        toClose.add(cluster);
        cluster.append("only");
        cluster.killLeader(); // dead before the consumer starts; metadata names it for a few answers more

        WeirConsumer<String, String> consumer = consumer();
        consumer.assign(List.of(TP));
        ExecutorService exec = Executors.newSingleThreadExecutor();
        toClose.add(exec::shutdownNow);
        CompletableFuture<Long> position = CompletableFuture.supplyAsync(
            () -> consumer.position(TP, Duration.ofSeconds(60)), exec);
        try {
            assertEquals(0L, position.get(20, TimeUnit.SECONDS));
        } finally {
            consumer.wakeup(); // frees the consumer for close() if the lookup still waits
            exec.shutdown();
            exec.awaitTermination(70, TimeUnit.SECONDS);
        }
        assertEquals(2, cluster.leaderId(), "offsets listed by the new leader");
    }

    private WeirConsumer<String, String> consumer() {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", cluster.bootstrapServers());
        c.put("key.deserializer", Deserializers.StringDeserializer.class.getName());
        c.put("value.deserializer", Deserializers.StringDeserializer.class.getName());
        c.put("auto.offset.reset", "earliest");
        // far above the bound of each wait below: waiting out one request timeout fails the test
        c.put("request.timeout.ms", "60000");
        c.put("default.api.timeout.ms", "60000");
        WeirConsumer<String, String> consumer = new WeirConsumer<>(c);
        toClose.add(consumer);
        return consumer;
    }

    /** Polls until records arrive, for at most 20 s (a functional bound, far below the request timeout). */
    private static List<String> pollUntilRecords(WeirConsumer<String, String> consumer) {
        long giveUpNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> values = new ArrayList<>();
        while (values.isEmpty() && System.nanoTime() < giveUpNs) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                values.add(r.value());
            }
        }
        return values;
    }
}
