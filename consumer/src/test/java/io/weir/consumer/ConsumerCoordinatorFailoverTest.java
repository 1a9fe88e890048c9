package io.weir.consumer;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.ThreeBrokerCluster;
import io.weir.common.TopicPartition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Weir's consumer when its group coordinator's broker dies (issue 12: "a consumer group keeps consuming
 * with committed offsets intact while the broker leading its {@code __consumer_offsets} partition is
 * killed"). Three in-JVM brokers on one ZooKeeper, an rf-3 topic and rf-3 {@code __consumer_offsets}; a
 * member of a group commits synchronously after every poll; midway the broker coordinating the group is
 * stopped without controlled shutdown (its sockets close under the consumer, its ZooKeeper session goes, the
 * controller moves every leadership it held). The consumer must find the new coordinator (the partition's
 * new leader, which loads the group from the replicated log) and go on: the committed offsets it reads
 * from there are at least its last successful commit, no successful commit ever goes backwards, every
 * record is consumed at least once, and the final commit is at the end of every partition.
 *
 * <p>{@code request.timeout.ms} and {@code session.timeout.ms} are far above the bound of each wait
 * below, so a consumer that waits one out instead of rediscovering the coordinator fails the test.
 */
class ConsumerCoordinatorFailoverTest {
    private static final String TOPIC = "input";
    private static final String GROUP = "survivor";
    private static final int PARTITIONS = 3;
    private static final int RECORDS = 3_000;

    private ThreeBrokerCluster cluster;

    @AfterEach
    void tearDown() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void shouldKeepConsumingWithCommittedOffsetsIntactWhenTheCoordinatorsBrokerDies() throws Exception {
        String bootstrap = startClusterWithRecords();
        Map<String, Object> c = consumerProps(bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);

        Set<TopicPartition> partitions = new HashSet<>();
        for (int p = 0; p < PARTITIONS; p++) {
            partitions.add(new TopicPartition(TOPIC, p));
        }
        Set<String> consumed = new HashSet<>();
        Map<TopicPartition, Long> lastCommit = new HashMap<>();
        try (WeirConsumer<String, String> consumer = new WeirConsumer<>(c)) {
            consumer.subscribe(List.of(TOPIC));
            consumeAndCommit(consumer, consumed, lastCommit, RECORDS / 3, "a third of the records before the kill");

            int coordinator = coordinatorOf(bootstrap);
            Map<TopicPartition, Long> beforeKill = new HashMap<>(lastCommit);
            stopBroker(coordinator);

            // the committed offsets, read through the new coordinator, are the last successful commit
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(partitions, Duration.ofSeconds(60));
            for (Map.Entry<TopicPartition, Long> e : beforeKill.entrySet()) {
                OffsetAndMetadata now = committed.get(e.getKey());
                assertTrue(now != null && now.offset() >= e.getValue(), e.getKey() + ": committed " + e.getValue()
                    + " before the coordinator died, the new coordinator serves " + now);
            }
            consumeAndCommit(consumer, consumed, lastCommit, RECORDS, "every record, after the coordinator died");
            assertTrue(coordinatorOf(bootstrap) != coordinator, "another broker coordinates the group");
        }
        for (int i = 0; i < RECORDS; i++) {
            assertTrue(consumed.contains(Integer.toString(i)), "record " + i + " consumed");
        }
        Map<String, Object> reader = new HashMap<>(c);
        try (WeirConsumer<String, String> fresh = new WeirConsumer<>(reader)) {
            Map<TopicPartition, OffsetAndMetadata> end = fresh.committed(partitions, Duration.ofSeconds(60));
            for (TopicPartition tp : partitions) {
                assertEquals((long) RECORDS / PARTITIONS, end.get(tp).offset(), tp + ": the final commit is served");
            }
        }
    }

    /**
     * The same failover with auto-commit and nothing but poll(): the consumer must look the coordinator up
     * again by itself (no commitSync or committed() call does it for the application), so its heartbeats
     * and auto-commits go on, and the group's committed offsets, read by kafka-clients' Admin, reach the
     * end of every partition.
     */
    @Test
    void shouldFindTheNewCoordinatorFromPollAloneAndGoOnAutoCommitting() throws Exception {
        String bootstrap = startClusterWithRecords();
        Map<String, Object> c = consumerProps(bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, true);
        c.put(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, 100);
        Set<String> consumed = new HashSet<>();
        try (WeirConsumer<String, String> consumer = new WeirConsumer<>(c)) {
            consumer.subscribe(List.of(TOPIC));
            pollUntil(consumer, consumed, () -> consumed.size() >= RECORDS / 3, "a third of the records before the kill");
            int coordinator = coordinatorOf(bootstrap);
            stopBroker(coordinator);
            pollUntil(consumer, consumed, () -> consumed.size() >= RECORDS, "every record, after the coordinator died");
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                pollUntil(consumer, consumed, () -> committedTotal(admin) == RECORDS,
                    "auto-commits at the end of every partition through the new coordinator");
            }
            assertTrue(coordinatorOf(bootstrap) != coordinator, "another broker coordinates the group");
        }
    }

    private static long committedTotal(Admin admin) {
        try {
            return admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                .values().stream().mapToLong(o -> o == null ? 0 : o.offset()).sum();
        } catch (Exception e) {
            return -1; // the coordinator is moving: ask again
        }
    }

    /** Polls until {@code done} holds, for at most 90 s (a functional bound, far below the client timeouts). */
    private static void pollUntil(WeirConsumer<String, String> consumer, Set<String> consumed,
                                  java.util.function.BooleanSupplier done, String what) {
        long giveUpNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > giveUpNs) {
                fail("waiting for " + what + ": consumed " + consumed.size() + " of " + RECORDS);
            }
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                consumed.add(r.value());
            }
        }
    }

    /** Starts three brokers, an rf-3 topic and the records in it; returns the bootstrap list of all three. */
    private String startClusterWithRecords() throws Exception {
        cluster = ThreeBrokerCluster.start("/weir-consumer-coordinator", Map.of("group.initial.rebalance.delay.ms", "0",
            "offsets.topic.num.partitions", "3", "offsets.topic.replication.factor", "3"));
        String bootstrap = cluster.brokers().stream().map(EmbeddedBroker::bootstrapServers)
            .collect(Collectors.joining(","));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get(60, TimeUnit.SECONDS);
        }
        Map<String, Object> pp = new HashMap<>();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, Integer.toString(i)));
            }
            producer.flush();
        }
        return bootstrap;
    }

    private static Map<String, Object> consumerProps(String bootstrap) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50);
        c.put(ConsumerConfig.RETRY_BACKOFF_MS_CONFIG, 50);
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
        // far above each functional bound below: waiting one of them out fails the test
        c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 300_000);
        c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 300_000);
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 300_000);
        c.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 300_000);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, Deserializers.StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, Deserializers.StringDeserializer.class.getName());
        return c;
    }

    /** Stops broker {@code id} without controlled shutdown: no leadership is handed over first. */
    private void stopBroker(int id) {
        cluster.brokers().stream().filter(b -> b.broker().config().brokerId() == id).findFirst().orElseThrow()
            .broker().shutdown();
    }

    /**
     * Polls and commits every position after each poll until {@code target} distinct records were
     * consumed (a functional bound of 90 s per call, far below the client timeouts); every successful
     * commit is at or after the previous one of its partition.
     */
    private static void consumeAndCommit(WeirConsumer<String, String> consumer, Set<String> consumed,
                                         Map<TopicPartition, Long> lastCommit, int target, String what) {
        long giveUpNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (consumed.size() < target) {
            if (System.nanoTime() > giveUpNs) {
                fail("consumed " + consumed.size() + " of " + target + " records, waiting for " + what
                    + "; last commit " + lastCommit);
            }
            ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
            for (ConsumerRecord<String, String> r : records) {
                consumed.add(r.value());
            }
            if (records.isEmpty()) {
                continue;
            }
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (TopicPartition tp : consumer.assignment()) {
                offsets.put(tp, new OffsetAndMetadata(consumer.position(tp)));
            }
            consumer.commitSync(offsets, Duration.ofSeconds(60));
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
                long previous = lastCommit.getOrDefault(e.getKey(), 0L);
                assertTrue(e.getValue().offset() >= previous, e.getKey() + ": commit " + e.getValue().offset()
                    + " goes back from " + previous);
                lastCommit.put(e.getKey(), e.getValue().offset());
            }
        }
    }

    /** The id of the broker coordinating the group, as kafka-clients' Admin finds it. */
    private static int coordinatorOf(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000))) {
            long giveUpNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try {
                    return admin.describeConsumerGroups(List.of(GROUP)).all().get(30, TimeUnit.SECONDS).get(GROUP)
                        .coordinator().id();
                } catch (Exception e) {
                    if (System.nanoTime() > giveUpNs) {
                        throw e;
                    }
                }
            }
        }
    }
}
