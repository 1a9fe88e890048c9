package io.weir.broker.zk;

import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.ReplicaFetcherManager;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.TopicPartition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static io.weir.broker.zk.ZkTestCluster.partition;
import static io.weir.broker.zk.ZkTestCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A follower's fetch answers are applied, and its next fetches sent, by a fetch chain on the fetcher's
 * client I/O thread (no hand-off to the fetcher thread per round trip), and acks=all produces are
 * acknowledged through it.
 */
class ReplicaFetchChainTest {
    private ZkTestCluster cluster;

    @BeforeEach
    void startZooKeeper() throws Exception {
        cluster = new ZkTestCluster("/weir-fetch-chain");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    @Test
    void shouldSendTheNextFetchFromTheAnswerOnTheClientIoThread() throws Exception {
        List<EmbeddedBroker> brokers = cluster.startBrokers(2, Map.of("replica.lag.time.max.ms", "600000"));
        EmbeddedBroker leader = brokers.get(0);
        EmbeddedBroker follower = brokers.get(1);
        String topic = "chain";
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", leader.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, Map.of(0, List.of(0, 1)))
                .configs(Map.of("min.insync.replicas", "2")))).all().get(60, TimeUnit.SECONDS);
        }
        waitUntil(() -> partition(leader, tp) != null && partition(leader, tp).isLeader()
            && partition(leader, tp).isr().size() == 2, "broker 0 leads with both replicas in sync");
        ReplicaFetcherManager fetchers = follower.broker().replicaManager().fetcherManager();
        Set<String> senders = ConcurrentHashMap.newKeySet();
        fetchers.onFetchSent(r -> senders.add(Thread.currentThread().getName()));

        Map<String, Object> props = new HashMap<>(Map.of("bootstrap.servers", leader.bootstrapServers(), "acks", "all",
            "linger.ms", "0", "key.serializer", ByteArraySerializer.class.getName(),
            "value.serializer", ByteArraySerializer.class.getName()));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < 20; i++) {
                // one at a time: every acknowledgement needs the follower's next fetch
                producer.send(new ProducerRecord<>(topic, 0, null, ("v" + i).getBytes(StandardCharsets.UTF_8)))
                    .get(60, TimeUnit.SECONDS);
            }
        }
        assertEquals(20, partition(follower, tp).log().logEndOffset());
        assertTrue(fetchers.chainedFetches() > 0, "fetches chained: " + fetchers.chainedFetches());
        assertTrue(senders.stream().anyMatch(n -> n.startsWith("weir-network-")),
            "a fetch went out from the client's I/O thread: " + senders);

        fetchers.onFetchSent(null);
    }

    /**
     * A follower can start fetching a new partition before its leader knows the topic (the controller's
     * LeaderAndIsr reaches the brokers one at a time): the leader answers UNKNOWN_TOPIC_ID and its fetch session
     * takes no entry for the partition. Once the leader has the topic, the follower must name the partition
     * again, or its incremental fetches never ask for it and every acks=all produce waits for the ISR shrink.
     */
    @Test
    void shouldFetchAPartitionWhoseLeaderDidNotKnowTheTopicAtTheFirstFetch() throws Exception {
        EmbeddedBroker leader = cluster.broker(0, Map.of("replica.lag.time.max.ms", "600000"));
        leader.start();
        waitUntil(() -> leader.broker().controller().isActive(), "broker 0 is the controller");
        EmbeddedBroker follower = cluster.broker(1, Map.of("replica.lag.time.max.ms", "600000"));
        follower.start();
        for (EmbeddedBroker b : List.of(leader, follower)) {
            waitUntil(() -> b.broker().metadataStore().liveBrokers().size() == 2
                && b.broker().metadataStore().liveBrokers().stream().allMatch(r -> r.epoch() >= 0),
                "both brokers registered, with their epochs");
        }
        TopicMetadata topic = new TopicMetadata("early", UUID.randomUUID(), 1, (short) 2,
            Map.of("min.insync.replicas", "2"));
        TopicPartition tp = new TopicPartition(topic.name(), 0);
        ReplicaFetcherManager fetchers = follower.broker().replicaManager().fetcherManager();
        long incrementalBefore = fetchers.incrementalFetches();

        // the follower has the controller's state first: it fetches from broker 0, which does not know the topic
        int controllerEpoch = leader.broker().controller().controllerEpoch();
        follower.broker().replicaManager().hostPartition(topic, 0, List.of(0, 1),
            new PartitionState(0, 0, List.of(0, 1), controllerEpoch, 0));
        waitUntil(() -> fetchers.fetchedPartitions().containsKey(tp) && fetchers.incrementalFetches() > incrementalBefore,
            "the follower fetched " + tp + " in full, was refused, and fetched again after its backoff");

        leader.broker().controller().createTopic(topic, Map.of(0, List.of(0, 1)));
        waitUntil(() -> partition(leader, tp) != null && partition(leader, tp).isLeader(), "broker 0 leads " + tp);

        Map<String, Object> props = new HashMap<>(Map.of("bootstrap.servers", leader.bootstrapServers(), "acks", "all",
            "key.serializer", ByteArraySerializer.class.getName(),
            "value.serializer", ByteArraySerializer.class.getName()));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            producer.send(new ProducerRecord<>(topic.name(), 0, null, "v".getBytes(StandardCharsets.UTF_8)))
                .get(60, TimeUnit.SECONDS);
        }
        assertEquals(1, partition(follower, tp).log().logEndOffset());
        assertEquals(List.of(0, 1), partition(leader, tp).isr(), "acknowledged with the follower in the ISR");
    }
}
