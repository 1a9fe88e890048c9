package io.weir.broker.zk;

import io.weir.broker.server.ReplicaFetcherManager;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import io.weir.protocol.message.FetchRequest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.weir.broker.zk.ZkTestCluster.partition;
import static io.weir.broker.zk.ZkTestCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Followers fetch in incremental fetch sessions (KIP-227): after the first full fetch, fetches name only the
 * partitions whose position moved; when the leader loses the session (evicted here) the follower falls back
 * to a full fetch and replication goes on.
 */
class ReplicaFetchSessionTest {
    private static final int PARTITIONS = 4;

    private ZkTestCluster cluster;

    @BeforeEach
    void startZooKeeper() throws Exception {
        cluster = new ZkTestCluster("/weir-fetch-sessions");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    /** The fetches a follower sent, in order: session epoch and the partitions each named. */
    private record Sent(int sessionEpoch, Set<Integer> partitions) {
    }

    private static Sent sent(FetchRequest r) {
        Set<Integer> ps = new TreeSet<>();
        for (FetchRequest.FetchTopic t : r.topics()) {
            for (FetchRequest.FetchPartition p : t.partitions()) {
                ps.add(p.partition());
            }
        }
        return new Sent(r.sessionEpoch(), ps);
    }

    private static void produce(EmbeddedBroker leader, String topic, int partition, int count) throws Exception {
        Map<String, Object> props = new HashMap<>(Map.of("bootstrap.servers", leader.bootstrapServers(), "acks", "all",
            "key.serializer", ByteArraySerializer.class.getName(),
            "value.serializer", ByteArraySerializer.class.getName()));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            List<Future<?>> acks = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                acks.add(producer.send(new ProducerRecord<>(topic, partition, null,
                    ("v" + i).getBytes(StandardCharsets.UTF_8))));
            }
            for (Future<?> f : acks) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldFetchOnlyChangedPartitionsAndFallBackToAFullFetchWhenTheSessionIsLost() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(2, Map.of("replica.lag.time.max.ms", "600000"));
        EmbeddedBroker leader = brokers.get(0);
        EmbeddedBroker follower = brokers.get(1);
        String topic = "sessions";
        Map<Integer, List<Integer>> assignment = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            assignment.put(p, List.of(0, 1)); // broker 0 leads every partition, broker 1 follows them all
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", leader.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, assignment))).all().get(60, TimeUnit.SECONDS);
        }
        ReplicaFetcherManager fetchers = follower.broker().replicaManager().fetcherManager();
        waitUntil(() -> fetchers.fetchedPartitions().size() == PARTITIONS
            && fetchers.fetchedPartitions().values().stream().allMatch(id -> id == 0), "broker 1 follows every partition");
        for (int p = 0; p < PARTITIONS; p++) {
            TopicPartition tp = new TopicPartition(topic, p);
            waitUntil(() -> partition(leader, tp) != null && partition(leader, tp).isLeader(), "broker 0 leads " + tp);
        }
        waitUntil(() -> leader.broker().fetchSessions().followerSessionIds().size() == 1
            && leader.broker().fetchSessions().get(leader.broker().fetchSessions().followerSessionIds().get(0))
                .partitions().size() == PARTITIONS, "the leader's session for the follower holds every partition");
        long settled = fetchers.incrementalFetches();
        waitUntil(() -> fetchers.incrementalFetches() > settled + 2, "the follower fetches in its session");

        // steady: only the partition that receives records is named again
        ConcurrentLinkedQueue<Sent> log = new ConcurrentLinkedQueue<>();
        fetchers.onFetchSent(r -> log.add(sent(r)));
        TopicPartition p2 = new TopicPartition(topic, 2);
        produce(leader, topic, 2, 20);
        waitUntil(() -> partition(follower, p2).log().logEndOffset() == 20, "the follower has partition 2's records");
        List<Sent> steady = List.copyOf(log);
        assertFalse(steady.isEmpty());
        assertTrue(steady.stream().allMatch(s -> s.sessionEpoch() > 0), "no full fetch: " + steady);
        assertTrue(steady.stream().allMatch(s -> Set.of(2).containsAll(s.partitions())),
            "incremental fetches name only the partition that moved: " + steady);
        assertTrue(steady.stream().anyMatch(s -> s.partitions().equals(Set.of(2))), steady.toString());

        // the leader loses the session: the follower's next fetch is refused, then it fetches in full and goes on
        long resets = fetchers.sessionResets();
        long fulls = fetchers.fullFetches();
        log.clear();
        for (int id : leader.broker().fetchSessions().followerSessionIds()) {
            leader.broker().fetchSessions().remove(id);
        }
        TopicPartition p1 = new TopicPartition(topic, 1);
        produce(leader, topic, 1, 10);
        waitUntil(() -> partition(follower, p1).log().logEndOffset() == 10, "the follower has partition 1's records");
        assertTrue(fetchers.sessionResets() > resets, "the leader refused the lost session");
        assertTrue(fetchers.fullFetches() > fulls, "the follower fetched in full again");
        List<Sent> after = List.copyOf(log);
        assertTrue(after.stream().anyMatch(s -> s.sessionEpoch() == 0 && s.partitions().equals(Set.of(0, 1, 2, 3))),
            "a full fetch names every partition: " + after);
        waitUntil(() -> leader.broker().fetchSessions().followerSessionIds().size() == 1, "a new follower session");
        long incremental = fetchers.incrementalFetches();
        waitUntil(() -> fetchers.incrementalFetches() > incremental, "incremental fetches resume");
        for (int p = 0; p < PARTITIONS; p++) {
            TopicPartition tp = new TopicPartition(topic, p);
            assertEquals(partition(leader, tp).log().logEndOffset(), partition(follower, tp).log().logEndOffset(), tp.toString());
        }
        fetchers.onFetchSent(null);
    }
}
