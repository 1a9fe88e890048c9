package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.TestRecords;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Consumer groups with Apache kafka-clients consumers against a Weir broker's group coordinator. */
class ConsumerGroupTest {
    private static EmbeddedBroker broker;

    @BeforeAll
    static void start() {
        broker = new EmbeddedBroker(Map.of("group.initial.rebalance.delay.ms", "0",
            "offsets.topic.num.partitions", "5", "group.min.session.timeout.ms", "500")).start();
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static KafkaConsumer<String, String> consumer(String group, Map<String, String> extra) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "100");
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "10000");
        p.putAll(extra);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return Admin.create(p);
    }

    private static void createTopic(String name, int partitions) throws Exception {
        try (Admin a = admin()) {
            a.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    /** Produces {@code perPartition} records to each partition, values "p-i". */
    private static void produce(String topic, int partitions, int perPartition) {
        TestRecords.produceToEachPartition(broker.bootstrapServers(), topic, partitions, 0, perPartition);
    }

    /** Polls every consumer in turn until the condition holds (a group only rebalances while its members poll). */
    @SafeVarargs
    private static void pollUntil(BooleanSupplier done, String what, List<ConsumerRecord<String, String>> sink,
                                  KafkaConsumer<String, String>... consumers) {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!done.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, "timed out waiting until " + what);
            for (KafkaConsumer<String, String> c : consumers) {
                c.poll(Duration.ofMillis(50)).forEach(r -> {
                    if (sink != null) {
                        sink.add(r);
                    }
                });
            }
        }
    }

    @Test
    void membersShouldSharePartitionsAndAThirdShouldTakeOverWhenOneLeaves() throws Exception {
        createTopic("share", 2);
        try (KafkaConsumer<String, String> c1 = consumer("share-g", Map.of());
             KafkaConsumer<String, String> c2 = consumer("share-g", Map.of());
             KafkaConsumer<String, String> c3 = consumer("share-g", Map.of())) {
            c1.subscribe(List.of("share"));
            c2.subscribe(List.of("share"));
            pollUntil(() -> c1.assignment().size() == 1 && c2.assignment().size() == 1, "each of two has one partition",
                null, c1, c2);
            assertTrue(java.util.Collections.disjoint(c1.assignment(), c2.assignment()));

            c3.subscribe(List.of("share"));
            pollUntil(() -> c1.assignment().size() == 1 && c2.assignment().size() == 1 && c3.assignment().isEmpty()
                && groupMembers("share-g") == 3, "the third member joined with nothing", null, c1, c2, c3);

            Set<TopicPartition> before = new HashSet<>(c1.assignment());
            c1.close();
            pollUntil(() -> c2.assignment().size() == 1 && c3.assignment().size() == 1
                && c3.assignment().equals(before) || c2.assignment().equals(before) && c3.assignment().size() == 1,
                "the third took over the leaver's partition", null, c2, c3);
            Set<TopicPartition> all = new HashSet<>(c2.assignment());
            all.addAll(c3.assignment());
            assertEquals(2, all.size());
        }
    }

    private static int groupMembers(String group) {
        try (Admin a = admin()) {
            ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get().get(group);
            return d.groupState() == GroupState.STABLE ? d.members().size() : -1;
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aSecondGroupShouldReceiveEveryRecordIndependently() throws Exception {
        createTopic("twice", 2);
        produce("twice", 2, 50);
        List<ConsumerRecord<String, String>> groupA = new ArrayList<>();
        List<ConsumerRecord<String, String>> groupB = new ArrayList<>();
        try (KafkaConsumer<String, String> a1 = consumer("twice-a", Map.of());
             KafkaConsumer<String, String> a2 = consumer("twice-a", Map.of());
             KafkaConsumer<String, String> b1 = consumer("twice-b", Map.of())) {
            a1.subscribe(List.of("twice"));
            a2.subscribe(List.of("twice"));
            b1.subscribe(List.of("twice"));
            // a1 may join alone first and read part of both partitions; with nothing committed, a2 would read
            // its partition again after the rebalance: count from once the two share the partitions
            pollUntil(() -> a1.assignment().size() == 1 && a2.assignment().size() == 1, "group a shared", null, a1, a2);
            a1.seekToBeginning(a1.assignment());
            a2.seekToBeginning(a2.assignment());
            pollUntil(() -> groupA.size() >= 100, "group a read everything", groupA, a1, a2);
            pollUntil(() -> groupB.size() >= 100, "group b read everything", groupB, b1);
        }
        assertEquals(100, new HashSet<>(groupA.stream().map(ConsumerRecord::value).toList()).size());
        assertEquals(100, groupA.size(), "no record twice within a group");
        assertEquals(100, new HashSet<>(groupB.stream().map(ConsumerRecord::value).toList()).size());
    }

    @Test
    void commitsShouldSurviveABrokerRestart() throws Exception {
        createTopic("durable", 2);
        produce("durable", 2, 10);
        TopicPartition p0 = new TopicPartition("durable", 0);
        TopicPartition p1 = new TopicPartition("durable", 1);
        try (KafkaConsumer<String, String> c = consumer("durable-g", Map.of())) {
            c.subscribe(List.of("durable"));
            pollUntil(() -> c.assignment().size() == 2, "assigned", null, c);
            c.commitSync(Map.of(p0, new OffsetAndMetadata(5, "five"), p1, new OffsetAndMetadata(7)));
            c.commitSync(Map.of(p0, new OffsetAndMetadata(6, "six")));
        }
        broker.restart();
        try (KafkaConsumer<String, String> c = consumer("durable-g", Map.of())) {
            Map<TopicPartition, OffsetAndMetadata> committed = c.committed(Set.of(p0, p1), Duration.ofSeconds(30));
            assertEquals(6, committed.get(p0).offset());
            assertEquals("six", committed.get(p0).metadata());
            assertEquals(7, committed.get(p1).offset());
            // and consumption resumes there
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            c.subscribe(List.of("durable"));
            pollUntil(() -> got.size() >= 7, "the rest after the commits", got, c);
            assertEquals(List.of("0-6", "0-7", "0-8", "0-9"), got.stream().filter(r -> r.partition() == 0)
                .map(ConsumerRecord::value).toList());
            assertEquals(List.of("1-7", "1-8", "1-9"), got.stream().filter(r -> r.partition() == 1)
                .map(ConsumerRecord::value).toList());
        }
    }

    @Test
    void recordsAfterTheLastCommitShouldBeRedeliveredToTheNextMember() throws Exception {
        createTopic("alo", 1);
        produce("alo", 1, 20);
        TopicPartition tp = new TopicPartition("alo", 0);
        try (KafkaConsumer<String, String> c = consumer("alo-g", Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5"))) {
            c.subscribe(List.of("alo"));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            pollUntil(() -> got.size() >= 5, "first records", got, c);
            c.commitSync(Map.of(tp, new OffsetAndMetadata(5)));
            pollUntil(() -> got.size() >= 20, "the rest, never committed", got, c);
        } // closes without committing the rest, as a crash would
        try (KafkaConsumer<String, String> c = consumer("alo-g", Map.of())) {
            c.subscribe(List.of("alo"));
            List<ConsumerRecord<String, String>> again = new ArrayList<>();
            pollUntil(() -> again.size() >= 15, "redelivery", again, c);
            assertEquals(5, again.get(0).offset());
            assertEquals(15, again.size());
        }
    }

    @Test
    void autoCommitShouldCommitThePositionOnClose() throws Exception {
        createTopic("auto", 2);
        produce("auto", 2, 10);
        try (KafkaConsumer<String, String> c = consumer("auto-g", Map.of(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true",
            ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, "600000"))) {
            c.subscribe(List.of("auto"));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            pollUntil(() -> got.size() >= 20, "everything", got, c);
        }
        try (KafkaConsumer<String, String> c = consumer("auto-g", Map.of())) {
            Map<TopicPartition, OffsetAndMetadata> committed = c.committed(
                Set.of(new TopicPartition("auto", 0), new TopicPartition("auto", 1)), Duration.ofSeconds(30));
            assertEquals(10, committed.get(new TopicPartition("auto", 0)).offset());
            assertEquals(10, committed.get(new TopicPartition("auto", 1)).offset());
        }
    }

    /** Records what a consumer was given and what it had to give back. */
    private static final class Recorder implements ConsumerRebalanceListener {
        final Set<TopicPartition> revoked = new HashSet<>();
        final Set<TopicPartition> lost = new HashSet<>();

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            revoked.addAll(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            lost.addAll(partitions);
        }
    }

    @Test
    void cooperativeRebalanceShouldMoveOnlyThePartitionsTheNewMemberTakes() throws Exception {
        createTopic("coop", 4);
        Map<String, String> coop = Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
            CooperativeStickyAssignor.class.getName());
        Recorder r1 = new Recorder();
        try (KafkaConsumer<String, String> c1 = consumer("coop-g", coop);
             KafkaConsumer<String, String> c2 = consumer("coop-g", coop)) {
            c1.subscribe(List.of("coop"), r1);
            pollUntil(() -> c1.assignment().size() == 4, "the first member owns everything", null, c1);
            r1.revoked.clear();
            c2.subscribe(List.of("coop"));
            pollUntil(() -> c1.assignment().size() == 2 && c2.assignment().size() == 2, "two each", null, c1, c2);
            assertEquals(c2.assignment(), r1.revoked, "only the partitions that moved were revoked");
            assertTrue(r1.lost.isEmpty());
        }
    }

    @Test
    void adminShouldListDescribeAndDeleteGroupsAndOffsets() throws Exception {
        createTopic("adm", 1);
        produce("adm", 1, 3);
        TopicPartition tp = new TopicPartition("adm", 0);
        try (Admin a = admin()) {
            try (KafkaConsumer<String, String> c = consumer("adm-g", Map.of())) {
                c.subscribe(List.of("adm"));
                pollUntil(() -> !c.assignment().isEmpty(), "assigned", null, c);
                c.commitSync(Map.of(tp, new OffsetAndMetadata(2)));
                assertTrue(a.listGroups().all().get().stream().anyMatch(g -> g.groupId().equals("adm-g")));
                ConsumerGroupDescription d = a.describeConsumerGroups(List.of("adm-g")).all().get().get("adm-g");
                assertEquals(GroupState.STABLE, d.groupState());
                assertEquals(Set.of(tp), d.members().iterator().next().assignment().topicPartitions());
                ExecutionException busy = assertThrows(ExecutionException.class,
                    () -> a.deleteConsumerGroups(List.of("adm-g")).all().get());
                assertInstanceOf(GroupNotEmptyException.class, busy.getCause());
            }
            assertEquals(2, a.listConsumerGroupOffsets("adm-g").partitionsToOffsetAndMetadata().get().get(tp).offset());
            a.deleteConsumerGroupOffsets("adm-g", Set.of(tp)).all().get();
            assertTrue(a.listConsumerGroupOffsets("adm-g").partitionsToOffsetAndMetadata().get().isEmpty());
            a.deleteConsumerGroups(List.of("adm-g")).all().get();
            assertTrue(a.listGroups().all().get().stream().noneMatch(g -> g.groupId().equals("adm-g")));
        }
    }
}
