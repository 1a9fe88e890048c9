package io.weir.admin;

import io.weir.admin.errors.GroupIdNotFoundException;
import io.weir.admin.errors.GroupNotEmptyException;
import io.weir.admin.errors.GroupSubscribedToTopicException;
import io.weir.admin.errors.UnknownTopicOrPartitionException;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.broker.testing.TestRecords;
import io.weir.common.TopicPartition;
import io.weir.consumer.ConsumerConfig;
import io.weir.consumer.Deserializers;
import io.weir.consumer.OffsetAndMetadata;
import io.weir.consumer.WeirConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin client's consumer-group calls against a real broker, with a Weir consumer as the group member. */
@Timeout(120)
class AdminConsumerGroupsTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of("group.initial.rebalance.delay.ms", "0", "offsets.topic.num.partitions", "3",
            "auto.create.topics.enable", "false"));
    private static Admin admin;

    @BeforeAll
    static void start() {
        admin = Admin.create(Map.of("bootstrap.servers", BROKER.bootstrapServers(), "default.api.timeout.ms", "20000"));
    }

    @AfterAll
    static void stop() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
    }

    private static Throwable failure(CompletableFuture<?> f) {
        return assertThrows(CompletionException.class, f::join).getCause();
    }

    private static void createTopic(String topic, int partitions, int recordsPerPartition) {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().join();
        TestRecords.produceToEachPartition(BROKER.bootstrapServers(), topic, partitions, 0, recordsPerPartition);
    }

    private static WeirConsumer<byte[], byte[]> consumer(String group, String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, Deserializers.ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, Deserializers.ByteArrayDeserializer.class.getName());
        return new WeirConsumer<>(p);
    }

    private static void pollUntil(WeirConsumer<?, ?> c, BooleanSupplier done, String what) {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!done.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, "timed out waiting until " + what);
            c.poll(Duration.ofMillis(50));
        }
    }

    private static void awaitState(String group, String state) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!state.equals(admin.describeConsumerGroups(List.of(group)).value(group).join().state())) {
            assertTrue(System.currentTimeMillis() < deadline, "group " + group + " never reached " + state);
            Thread.sleep(20);
        }
    }

    @Test
    void shouldListDescribeAlterAndDeleteAGroupAndItsOffsets() throws Exception {
        createTopic("orders", 2, 5);
        TopicPartition p0 = new TopicPartition("orders", 0);
        TopicPartition p1 = new TopicPartition("orders", 1);
        try (WeirConsumer<byte[], byte[]> c = consumer("g1", "client-one")) {
            c.subscribe(List.of("orders"));
            pollUntil(c, () -> c.assignment().size() == 2, "the consumer owns both partitions");
            c.commitSync(Map.of(p0, new OffsetAndMetadata(3, "m"), p1, new OffsetAndMetadata(5)));
            awaitState("g1", "Stable");

            ConsumerGroupListing listed = admin.listConsumerGroups().join().stream()
                .filter(g -> g.groupId().equals("g1")).findFirst().orElseThrow();
            assertEquals("consumer", listed.protocolType());
            assertEquals("Stable", listed.state());
            assertFalse(listed.isSimpleConsumerGroup());

            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("g1")).value("g1").join();
            assertEquals("Stable", d.state());
            assertEquals("consumer", d.protocolType());
            assertFalse(d.partitionAssignor().isEmpty());
            assertEquals(0, d.coordinator().id());
            assertEquals(1, d.members().size());
            MemberDescription m = d.members().get(0);
            assertTrue(m.clientId().startsWith("client-one"), m.clientId()); // Weir's consumer suffixes its group connection
            assertFalse(m.memberId().isEmpty());
            assertFalse(m.host().isEmpty());
            assertNull(m.groupInstanceId());
            assertEquals(Set.of(p0, p1), Set.copyOf(m.assignment()));

            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("g1").join();
            assertEquals(3, offsets.get(p0).offset());
            assertEquals("m", offsets.get(p0).metadata());
            assertEquals(5, offsets.get(p1).offset());
            assertEquals(Map.of(p1, offsets.get(p1)),
                admin.listConsumerGroupOffsets("g1", List.of(p1), AdminOptions.defaults()).join());

            // a live group refuses outside changes
            Throwable alter = failure(admin.alterConsumerGroupOffsets("g1", Map.of(p0, new OffsetAndMetadata(0))).value(p0));
            assertInstanceOf(GroupNotEmptyException.class, alter);
            assertTrue(alter.getMessage().contains("active members"), alter.getMessage());
            assertInstanceOf(GroupNotEmptyException.class, failure(admin.deleteConsumerGroups(List.of("g1")).value("g1")));
            assertInstanceOf(GroupSubscribedToTopicException.class,
                failure(admin.deleteConsumerGroupOffsets("g1", Set.of(p0)).value(p0)));
        }
        awaitState("g1", "Empty");
        ConsumerGroupDescription empty = admin.describeConsumerGroups(List.of("g1")).value("g1").join();
        assertTrue(empty.members().isEmpty());

        admin.alterConsumerGroupOffsets("g1", Map.of(p0, new OffsetAndMetadata(1))).all().join();
        assertEquals(1, admin.listConsumerGroupOffsets("g1").join().get(p0).offset());

        admin.deleteConsumerGroupOffsets("g1", Set.of(p1)).all().join();
        Map<TopicPartition, OffsetAndMetadata> left = admin.listConsumerGroupOffsets("g1").join();
        assertEquals(Set.of(p0), left.keySet());

        admin.deleteConsumerGroups(List.of("g1")).all().join();
        assertInstanceOf(GroupIdNotFoundException.class, failure(admin.describeConsumerGroups(List.of("g1")).value("g1")));
        assertTrue(admin.listConsumerGroupOffsets("g1").join().isEmpty());
        assertTrue(admin.listConsumerGroups().join().stream().noneMatch(g -> g.groupId().equals("g1")));
    }

    @Test
    void shouldReportUnknownGroups() {
        assertInstanceOf(GroupIdNotFoundException.class,
            failure(admin.describeConsumerGroups(List.of("no-such-group")).value("no-such-group")));
        assertInstanceOf(GroupIdNotFoundException.class,
            failure(admin.deleteConsumerGroups(List.of("no-such-group")).value("no-such-group")));
        TopicPartition tp = new TopicPartition("whatever", 0);
        assertInstanceOf(GroupIdNotFoundException.class,
            failure(admin.deleteConsumerGroupOffsets("no-such-group", Set.of(tp)).value(tp)));
        assertTrue(admin.listConsumerGroupOffsets("no-such-group").join().isEmpty());
    }

    @Test
    void shouldCreateASimpleGroupWhenAlteringOffsetsOfANewGroup() {
        createTopic("simple-t", 1, 2);
        TopicPartition tp = new TopicPartition("simple-t", 0);
        admin.alterConsumerGroupOffsets("simple-g", Map.of(tp, new OffsetAndMetadata(2))).all().join();
        ConsumerGroupListing listed = admin.listConsumerGroups().join().stream()
            .filter(g -> g.groupId().equals("simple-g")).findFirst().orElseThrow();
        assertTrue(listed.isSimpleConsumerGroup());
        assertEquals("Empty", listed.state());
        ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("simple-g")).value("simple-g").join();
        assertEquals("Empty", d.state());
        assertTrue(d.members().isEmpty());
        assertEquals(2, admin.listConsumerGroupOffsets("simple-g").join().get(tp).offset());

        TopicPartition missing = new TopicPartition("simple-t", 7);
        assertInstanceOf(UnknownTopicOrPartitionException.class,
            failure(admin.alterConsumerGroupOffsets("simple-g", Map.of(missing, new OffsetAndMetadata(0))).value(missing)));
    }

    @Test
    void shouldListEarliestAndLatestOffsets() {
        createTopic("lo", 2, 4);
        TopicPartition p0 = new TopicPartition("lo", 0);
        TopicPartition p1 = new TopicPartition("lo", 1);
        Map<TopicPartition, ListOffsetsResultInfo> latest = admin.listOffsets(Map.of(p0, OffsetSpec.latest(),
            p1, OffsetSpec.earliest())).all().join();
        assertEquals(4, latest.get(p0).offset());
        assertEquals(0, latest.get(p1).offset());
        TopicPartition missing = new TopicPartition("lo", 9);
        TopicPartition noTopic = new TopicPartition("no-such-topic", 0);
        AdminResult<TopicPartition, ListOffsetsResultInfo> r = admin.listOffsets(Map.of(missing, OffsetSpec.latest(),
            noTopic, OffsetSpec.latest()));
        assertInstanceOf(UnknownTopicOrPartitionException.class, failure(r.value(missing)));
        assertInstanceOf(UnknownTopicOrPartitionException.class, failure(r.value(noTopic)));
    }
}
