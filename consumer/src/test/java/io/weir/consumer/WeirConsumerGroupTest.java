package io.weir.consumer;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.broker.testing.TestRecords;
import io.weir.common.TopicPartition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Weir's consumer in groups run by the broker's group coordinator: sharing partitions, taking over
 * from members that leave or die, mixed groups with Apache kafka-clients consumers, commits across
 * a broker restart, at-least-once redelivery, auto-commit on close and cooperative rebalancing.
 *
 * <p>A group only rebalances while its members poll, so the tests poll every member in turn with
 * short timeouts until a condition holds or a deadline passes.
 */
@Timeout(180)
class WeirConsumerGroupTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(groupBrokerOverrides());

    static Map<String, String> groupBrokerOverrides() {
        return Map.of("group.initial.rebalance.delay.ms", "0", "offsets.topic.num.partitions", "5",
            "group.min.session.timeout.ms", "500");
    }

    // ------------------------------------------------------------------ fixtures

    /** One record as the tests compare them, whichever client read it. */
    record Rec(int partition, long offset, String value) {
    }

    /** A group member: Weir's consumer or kafka-clients', behind the few calls the tests need. */
    interface Member extends AutoCloseable {
        List<Rec> poll(long timeoutMs);

        Set<Integer> assignment();

        @Override
        void close();
    }

    static final class WeirMember implements Member {
        final WeirConsumer<String, String> consumer;

        WeirMember(WeirConsumer<String, String> consumer) {
            this.consumer = consumer;
        }

        @Override
        public List<Rec> poll(long timeoutMs) {
            List<Rec> out = new ArrayList<>();
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(timeoutMs))) {
                out.add(new Rec(r.partition(), r.offset(), r.value()));
            }
            return out;
        }

        @Override
        public Set<Integer> assignment() {
            return consumer.assignment().stream().map(TopicPartition::partition).collect(Collectors.toSet());
        }

        @Override
        public void close() {
            consumer.close(Duration.ofSeconds(10));
        }
    }

    static final class KafkaMember implements Member {
        final KafkaConsumer<String, String> consumer;

        KafkaMember(KafkaConsumer<String, String> consumer) {
            this.consumer = consumer;
        }

        @Override
        public List<Rec> poll(long timeoutMs) {
            List<Rec> out = new ArrayList<>();
            consumer.poll(Duration.ofMillis(timeoutMs)).forEach(r -> out.add(new Rec(r.partition(), r.offset(), r.value())));
            return out;
        }

        @Override
        public Set<Integer> assignment() {
            return consumer.assignment().stream().map(org.apache.kafka.common.TopicPartition::partition)
                .collect(Collectors.toSet());
        }

        @Override
        public void close() {
            consumer.close(Duration.ofSeconds(10));
        }
    }

    static Map<String, Object> weirProps(EmbeddedBroker b, String group, Map<String, Object> extra) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000);
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 100);
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 20_000);
        p.putAll(extra);
        return p;
    }

    static WeirConsumer<String, String> weir(EmbeddedBroker b, String group, Map<String, Object> extra) {
        return new WeirConsumer<>(weirProps(b, group, extra), new Deserializers.StringDeserializer(),
            new Deserializers.StringDeserializer());
    }

    static WeirMember weirMember(String group, Map<String, Object> extra) {
        return new WeirMember(weir(BROKER.embedded(), group, extra));
    }

    static KafkaMember kafkaMember(String group, Map<String, Object> extra) {
        Map<String, Object> p = new HashMap<>();
        p.put(org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(org.apache.kafka.clients.consumer.ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(org.apache.kafka.clients.consumer.ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(org.apache.kafka.clients.consumer.ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000);
        p.put(org.apache.kafka.clients.consumer.ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 100);
        p.put(org.apache.kafka.clients.consumer.ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 20_000);
        p.putAll(extra);
        return new KafkaMember(new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer()));
    }

    static void createTopic(EmbeddedBroker b, String name, int partitions) throws Exception {
        try (Admin a = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers()))) {
            a.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    /** Produces {@code perPartition} records to each partition, values "p-i" (i counts from {@code from}). */
    static void produce(EmbeddedBroker b, String topic, int partitions, int from, int perPartition) {
        TestRecords.produceToEachPartition(b.bootstrapServers(), topic, partitions, from, perPartition);
    }

    /** Polls every member in turn until {@code done} holds; each member's records go to its own sink. */
    static void pollUntil(BooleanSupplier done, String what, Map<Member, List<Rec>> sinks, Member... members) {
        long deadline = System.currentTimeMillis() + DEADLINE.toMillis();
        while (!done.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, "timed out waiting until " + what);
            for (Member m : members) {
                List<Rec> got = m.poll(50);
                if (sinks != null) {
                    sinks.computeIfAbsent(m, k -> new ArrayList<>()).addAll(got);
                }
            }
        }
    }

    static int total(Map<Member, List<Rec>> sinks) {
        return sinks.values().stream().mapToInt(List::size).sum();
    }

    static List<Rec> all(Map<Member, List<Rec>> sinks) {
        List<Rec> out = new ArrayList<>();
        sinks.values().forEach(out::addAll);
        return out;
    }

    static Set<String> expectedValues(int partitions, int from, int perPartition) {
        Set<String> s = new TreeSet<>();
        for (int p = 0; p < partitions; p++) {
            for (int i = from; i < from + perPartition; i++) {
                s.add(p + "-" + i);
            }
        }
        return s;
    }

    /** Every record exactly once, and each member only read partitions it was assigned. */
    static void assertEveryRecordOnce(Map<Member, List<Rec>> sinks, int partitions, int from, int perPartition) {
        List<Rec> all = all(sinks);
        assertEquals(partitions * perPartition, all.size(), "no record twice: " + all);
        assertEquals(expectedValues(partitions, from, perPartition),
            all.stream().map(Rec::value).collect(Collectors.toCollection(TreeSet::new)));
    }

    static void assertDisjointCover(int partitions, Member... members) {
        Set<Integer> union = new HashSet<>();
        int sum = 0;
        for (Member m : members) {
            union.addAll(m.assignment());
            sum += m.assignment().size();
        }
        assertEquals(partitions, union.size(), "every partition has an owner");
        assertEquals(partitions, sum, "no partition has two owners");
    }

    // ------------------------------------------------------------------ sharing and taking over

    @Test
    void twoMembersShouldGetOnePartitionEachAndTogetherReadEveryRecordOnce() throws Exception {
        createTopic(BROKER.embedded(), "share", 2);
        Map<Member, List<Rec>> sinks = new HashMap<>();
        try (WeirMember c1 = weirMember("share-g", Map.of()); WeirMember c2 = weirMember("share-g", Map.of())) {
            c1.consumer.subscribe(List.of("share"));
            c2.consumer.subscribe(List.of("share"));
            pollUntil(() -> c1.assignment().size() == 1 && c2.assignment().size() == 1, "one partition each", sinks, c1, c2);
            assertDisjointCover(2, c1, c2);
            produce(BROKER.embedded(), "share", 2, 0, 100);
            pollUntil(() -> total(sinks) >= 200, "everything was read", sinks, c1, c2);
            for (Member m : List.of(c1, c2)) {
                int owned = m.assignment().iterator().next();
                assertTrue(sinks.get(m).stream().allMatch(r -> r.partition() == owned), "a member read only its partition");
            }
        }
        assertEveryRecordOnce(sinks, 2, 0, 100);
    }

    @Test
    void aThirdMemberShouldGetNothingAndTakeOverWhenAMemberCloses() throws Exception {
        createTopic(BROKER.embedded(), "takeover", 2);
        produce(BROKER.embedded(), "takeover", 2, 0, 10);
        Map<Member, List<Rec>> sinks = new HashMap<>();
        try (WeirMember c1 = weirMember("takeover-g", Map.of()); WeirMember c2 = weirMember("takeover-g", Map.of());
             WeirMember c3 = weirMember("takeover-g", Map.of())) {
            c1.consumer.subscribe(List.of("takeover"));
            c2.consumer.subscribe(List.of("takeover"));
            pollUntil(() -> c1.assignment().size() == 1 && c2.assignment().size() == 1, "one partition each", null, c1, c2);
            c3.consumer.subscribe(List.of("takeover"));
            pollUntil(() -> c3.consumer.groupMemberId().length() > 0 && c1.assignment().size() == 1
                && c2.assignment().size() == 1 && c3.assignment().isEmpty() && stable(c1, c2, c3),
                "the third member joined with nothing", null, c1, c2, c3);
            c1.close();
            // range is not sticky: which of the two gets the freed partition depends on the member ids
            pollUntil(() -> c3.assignment().size() == 1 && c2.assignment().size() == 1 && stable(c2, c3),
                "the third took over a partition after the member closed", sinks, c2, c3);
            assertDisjointCover(2, c2, c3);
        }
    }

    /** All given Weir members have joined the same, current generation. */
    static boolean stable(WeirMember... members) {
        Set<Integer> generations = new HashSet<>();
        for (WeirMember m : members) {
            generations.add(m.consumer.groupGeneration());
        }
        return generations.size() == 1 && !generations.contains(-1);
    }

    /**
     * A static member sends no LeaveGroup on a plain close; {@code closeAndLeaveGroup} makes it leave with its
     * instance id, so the other member gets its partition at once. The session (120 s) is longer than the
     * wait (60 s): a member that did not leave would be removed only when it expired.
     */
    @Test
    void aStaticMemberShouldLeaveAtOnceWhenClosedWithLeaveGroup() throws Exception {
        createTopic(BROKER.embedded(), "static-leave", 2);
        Map<String, Object> slow = Map.of(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 120_000);
        Map<String, Object> first = new HashMap<>(slow);
        first.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "static-leave-1");
        Map<String, Object> second = new HashMap<>(slow);
        second.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "static-leave-2");
        try (WeirMember c1 = weirMember("static-leave-g", first); WeirMember c2 = weirMember("static-leave-g", second)) {
            c1.consumer.subscribe(List.of("static-leave"));
            c2.consumer.subscribe(List.of("static-leave"));
            pollUntil(() -> c1.assignment().size() == 1 && c2.assignment().size() == 1 && stable(c1, c2),
                "both joined", null, c1, c2);
            c1.consumer.closeAndLeaveGroup(Duration.ofSeconds(10));
            pollUntil(() -> c2.assignment().size() == 2 && stable(c2), "the remaining member took both partitions",
                null, c2);
        }
    }

    @Test
    void aThirdMemberShouldTakeOverWhenAMemberDiesAfterTheSessionTimeout() throws Exception {
        createTopic(BROKER.embedded(), "dies", 2);
        // 3 s: a stall of a second on a loaded machine (GC, CPU) does not expel a member that heartbeats
        Map<String, Object> fast = Map.of(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 3000,
            ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 100);
        try (WeirMember c1 = weirMember("dies-g", fast); WeirMember c2 = weirMember("dies-g", fast);
             WeirMember c3 = weirMember("dies-g", fast)) {
            c1.consumer.subscribe(List.of("dies"));
            c2.consumer.subscribe(List.of("dies"));
            c3.consumer.subscribe(List.of("dies"));
            pollUntil(() -> c1.assignment().size() + c2.assignment().size() + c3.assignment().size() == 2
                && stable(c1, c2, c3), "all three joined", null, c1, c2, c3);
            WeirMember dying = !c1.assignment().isEmpty() ? c1 : c2;
            WeirMember survivor = dying == c1 ? c2 : c1;
            Set<Integer> lost = dying.assignment();
            long diedAt = System.currentTimeMillis();
            dying.consumer.abandonForTest(); // no LeaveGroup: only the session timeout removes it
            Set<Integer> survivorHad = survivor.assignment();
            WeirMember idle = c3.assignment().isEmpty() ? c3 : survivor == c3 ? c1 : c3;
            pollUntil(() -> {
                Set<Integer> union = new HashSet<>(survivor.assignment());
                union.addAll(idle.assignment());
                return union.size() == 2 && survivor.assignment().size() + idle.assignment().size() == 2;
            }, "the dead member's partition moved", null, survivor, idle);
            assertTrue(System.currentTimeMillis() - diedAt >= 900, "not before the session timeout");
            assertTrue(survivor.assignment().containsAll(lost) || idle.assignment().containsAll(lost));
            assertTrue(survivorHad.size() == 1);
        }
    }

    /**
     * A join round completes on the network thread (JoinGroup, SyncGroup) while the application is
     * busy between polls; from then on the coordinator expects heartbeats in the new generation,
     * so the member must send them before it next polls, or it is expelled after the session timeout.
     */
    @Test
    void aMemberWhoseJoinCompletesBetweenPollsShouldHeartbeatAndStayInTheGroup() throws Exception {
        createTopic(BROKER.embedded(), "busy", 2);
        Map<String, Object> fast = Map.of(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 1000,
            ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 100);
        try (WeirMember c1 = weirMember("busy-g", fast); WeirMember c2 = weirMember("busy-g", fast)) {
            c1.consumer.subscribe(List.of("busy"));
            pollUntil(() -> c1.assignment().size() == 2, "the first member owns both", null, c1);
            c2.consumer.subscribe(List.of("busy"));
            pollUntil(() -> !c2.consumer.groupMemberId().isEmpty(), "the second member sent its JoinGroup", null, c2);
            pollUntil(() -> c1.assignment().size() == 1 && stable(c1), "the round completed", null, c1);
            int generation = c1.consumer.groupGeneration();
            // c2 is busy for longer than a session timeout; only c1 polls
            long busyUntil = System.currentTimeMillis() + 4500;
            while (System.currentTimeMillis() < busyUntil) {
                c1.poll(50);
                assertEquals(generation, c1.consumer.groupGeneration(), "the group rebalanced: c2 was expelled");
            }
            pollUntil(() -> c2.assignment().size() == 1, "the second member applied its assignment", null, c2);
            assertEquals(generation, c2.consumer.groupGeneration());
            assertDisjointCover(2, c1, c2);
        }
    }

    @Test
    void aMemberThatStopsPollingShouldLeaveAfterMaxPollIntervalAndItsPartitionMove() throws Exception {
        createTopic(BROKER.embedded(), "stuck", 2);
        Map<String, Object> shortPoll = Map.of(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 1500);
        try (WeirMember c1 = weirMember("stuck-g", shortPoll); WeirMember c2 = weirMember("stuck-g", shortPoll)) {
            c1.consumer.subscribe(List.of("stuck"));
            c2.consumer.subscribe(List.of("stuck"));
            pollUntil(() -> c1.assignment().size() == 1 && c2.assignment().size() == 1, "one partition each", null, c1, c2);
            // c1 stops polling; its heartbeat thread leaves the group after max.poll.interval.ms
            pollUntil(() -> c2.assignment().size() == 2, "the polling member owns both", null, c2);
            // and the stuck member rejoins when it polls again
            pollUntil(() -> c1.assignment().size() == 1 && c2.assignment().size() == 1 && stable(c1, c2),
                "the stuck member rejoined", null, c1, c2);
            assertDisjointCover(2, c1, c2);
        }
    }

    @Test
    void aSecondGroupShouldReceiveEveryRecordIndependently() throws Exception {
        createTopic(BROKER.embedded(), "twice", 2);
        produce(BROKER.embedded(), "twice", 2, 0, 50);
        Map<Member, List<Rec>> a = new HashMap<>();
        Map<Member, List<Rec>> b = new HashMap<>();
        try (WeirMember b1 = weirMember("twice-b", Map.of())) {
            b1.consumer.subscribe(List.of("twice"));
            try (WeirMember a1 = weirMember("twice-a", Map.of()); WeirMember a2 = weirMember("twice-a", Map.of())) {
                a1.consumer.subscribe(List.of("twice"));
                a2.consumer.subscribe(List.of("twice"));
                // group a commits nothing, so a rebalance could hand a partition over before it was read:
                // wait for one partition each before reading
                pollUntil(() -> a1.assignment().size() == 1 && a2.assignment().size() == 1, "group a shared", null, a1, a2);
                a1.consumer.seekToBeginning(List.of());
                a2.consumer.seekToBeginning(List.of());
                pollUntil(() -> total(a) >= 100, "group a read everything", a, a1, a2);
            }
            pollUntil(() -> total(b) >= 100, "group b read everything", b, b1);
            assertEquals(Set.of(0, 1), b1.assignment());
        }
        assertEveryRecordOnce(a, 2, 0, 50);
        assertEveryRecordOnce(b, 2, 0, 50);
    }

    // ------------------------------------------------------------------ mixed groups

    @ParameterizedTest
    @CsvSource({"range,weir", "range,kafka", "roundrobin,weir", "roundrobin,kafka", "cooperative-sticky,weir",
        "cooperative-sticky,kafka"})
    void weirAndKafkaConsumersShouldShareOneGroupWithoutOverlap(String assignor, String leader) throws Exception {
        String topic = "mixed-" + assignor + "-" + leader;
        createTopic(BROKER.embedded(), topic, 4);
        String kafkaAssignor = switch (assignor) {
            case "range" -> RangeAssignor.class.getName();
            case "roundrobin" -> RoundRobinAssignor.class.getName();
            default -> CooperativeStickyAssignor.class.getName();
        };
        Map<Member, List<Rec>> sinks = new HashMap<>();
        try (WeirMember w = weirMember(topic + "-g", Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, assignor));
             KafkaMember k = kafkaMember(topic + "-g", Map.of(
                 org.apache.kafka.clients.consumer.ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, kafkaAssignor))) {
            // the first member to join leads, so its assignor hands out the partitions to both
            Member first = leader.equals("weir") ? w : k;
            Member second = first == w ? k : w;
            subscribe(first, topic);
            pollUntil(() -> first.assignment().size() == 4, "the first member owns everything", null, first);
            subscribe(second, topic);
            pollUntil(() -> w.assignment().size() == 2 && k.assignment().size() == 2 && stable(w), "two each", null, w, k);
            assertDisjointCover(4, w, k);
            produce(BROKER.embedded(), topic, 4, 0, 50);
            pollUntil(() -> total(sinks) >= 200, "everything was read", sinks, w, k);
            for (Member m : List.of(w, k)) {
                Set<Integer> owned = m.assignment();
                assertTrue(sinks.getOrDefault(m, List.of()).stream().allMatch(r -> owned.contains(r.partition())));
                assertEquals(100, sinks.getOrDefault(m, List.of()).size(), "each read its two partitions");
            }
            // the leader leaves: the other member leads and takes everything
            first.close();
            pollUntil(() -> second.assignment().size() == 4, "the second member owns everything", null, second);
        }
        assertEveryRecordOnce(sinks, 4, 0, 50);
    }

    static void subscribe(Member m, String topic) {
        if (m instanceof WeirMember w) {
            w.consumer.subscribe(List.of(topic));
        } else {
            ((KafkaMember) m).consumer.subscribe(List.of(topic));
        }
    }

    /**
     * The second round of a cooperative rebalance waits for every member to rejoin; a member that
     * polls slowly holds it up to the rebalance timeout. Meanwhile the other member must go on
     * consuming the partitions it keeps: its poll() may not block on the pending JoinGroup.
     */
    @Test
    void cooperativeMemberShouldKeepConsumingRetainedPartitionsWhileTheGroupWaitsForASlowMember() throws Exception {
        String topic = "coop-slow";
        createTopic(BROKER.embedded(), topic, 4);
        produce(BROKER.embedded(), topic, 4, 0, 20);
        // the rebalance timeout (max.poll.interval.ms) at 60 s: a poll() that blocked on the pending rebalance would
        // take that long, one that does not takes well under the 30 s allowed below, even on a loaded machine
        Map<String, Object> coop = Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, "cooperative-sticky",
            ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 60_000);
        Recorder r1 = new Recorder();
        Map<Member, List<Rec>> sinks = new HashMap<>();
        try (WeirMember c1 = weirMember("coop-slow-g", coop); WeirMember c2 = weirMember("coop-slow-g", coop)) {
            r1.consumer = c1.consumer;
            c1.consumer.subscribe(List.of(topic), r1);
            pollUntil(() -> total(sinks) >= 80, "the first member read everything", sinks, c1);
            c2.consumer.subscribe(List.of(topic));
            pollUntil(() -> !c2.consumer.groupMemberId().isEmpty(), "the second member sent its JoinGroup", sinks, c2);
            // from here on c2 does not poll: the first round completes without it (its JoinGroup and SyncGroup
            // run on its network thread), c1 revokes two partitions and rejoins, and that round waits for c2
            pollUntil(() -> c1.assignment().size() == 2, "the first round revoked two partitions", sinks, c1);
            Set<Integer> kept = c1.assignment();
            produce(BROKER.embedded(), topic, 4, 20, 10);
            // a long poll returns the new records as soon as they are fetched, not when the rebalance ends
            long deadline = System.currentTimeMillis() + 60_000;
            while (sinks.get(c1).stream().filter(r -> r.offset() >= 20).count() < 20) {
                assertTrue(System.currentTimeMillis() < deadline, "the first member did not read the partitions it kept");
                long startMs = System.currentTimeMillis();
                List<Rec> got = c1.poll(60_000);
                assertTrue(System.currentTimeMillis() - startMs < 30_000, "poll() blocked on the pending rebalance");
                sinks.get(c1).addAll(got);
            }
            assertTrue(sinks.get(c1).stream().filter(r -> r.offset() >= 20).allMatch(r -> kept.contains(r.partition())));
            assertTrue(c2.assignment().isEmpty() && sinks.getOrDefault(c2, List.of()).isEmpty());
            pollUntil(() -> total(sinks) >= 120 && c2.assignment().size() == 2 && stable(c1, c2), "the slow member caught up",
                sinks, c1, c2);
        }
        List<Rec> all = all(sinks);
        assertEquals(120, all.size(), "no record twice");
        assertEquals(expectedValues(4, 0, 30), all.stream().map(Rec::value).collect(Collectors.toCollection(TreeSet::new)));
    }

    @Test
    void cooperativeMixedGroupOfThreeShouldMoveOnlyWhatTheNewcomerTakes() throws Exception {
        String topic = "coop3";
        createTopic(BROKER.embedded(), topic, 6);
        Recorder r1 = new Recorder();
        try (WeirMember w1 = weirMember("coop3-g", Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                 "cooperative-sticky"));
             KafkaMember k = kafkaMember("coop3-g", Map.of(
                 org.apache.kafka.clients.consumer.ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                 CooperativeStickyAssignor.class.getName()));
             WeirMember w2 = weirMember("coop3-g", Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                 "cooperative-sticky"))) {
            r1.consumer = w1.consumer;
            k.consumer.subscribe(List.of(topic)); // kafka-clients leads
            pollUntil(() -> k.assignment().size() == 6, "the Kafka member owns everything", null, k);
            w1.consumer.subscribe(List.of(topic), r1);
            pollUntil(() -> k.assignment().size() == 3 && w1.assignment().size() == 3 && stable(w1), "three each",
                null, k, w1);
            Set<Integer> w1Before = w1.assignment();
            r1.revoked.clear();
            w2.consumer.subscribe(List.of(topic));
            pollUntil(() -> k.assignment().size() == 2 && w1.assignment().size() == 2 && w2.assignment().size() == 2
                && stable(w1, w2), "two each", null, k, w1, w2);
            assertDisjointCover(6, k, w1, w2);
            assertTrue(w1Before.containsAll(w1.assignment()), "sticky: the first Weir member kept two of its own");
            Set<TopicPartition> revoked = new HashSet<>();
            r1.revoked.forEach(revoked::addAll);
            assertEquals(1, revoked.size(), "one partition moved away from the first Weir member: " + revoked);
            assertTrue(w2.consumer.assignment().containsAll(revoked));
            assertTrue(r1.lost.isEmpty());
        }
    }

    // ------------------------------------------------------------------ commits

    @Test
    void commitsShouldSurviveABrokerRestartAndANewConsumerResumeThere() throws Exception {
        try (EmbeddedBroker own = new EmbeddedBroker(groupBrokerOverrides()).start()) {
            createTopic(own, "durable", 2);
            produce(own, "durable", 2, 0, 10);
            TopicPartition p0 = new TopicPartition("durable", 0);
            TopicPartition p1 = new TopicPartition("durable", 1);
            try (WeirConsumer<String, String> c = weir(own, "durable-g", Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1))) {
                c.subscribe(List.of("durable"));
                WeirMember m = new WeirMember(c);
                Map<Member, List<Rec>> got = new HashMap<>();
                pollUntil(() -> total(got) >= 1, "a record", got, m);
                c.commitSync(Map.of(p0, new OffsetAndMetadata(5, "five"), p1, new OffsetAndMetadata(7)));
                c.commitSync(Map.of(p0, new OffsetAndMetadata(6, "six")));
                assertEquals(6, c.committed(Set.of(p0)).get(p0).offset());
            }
            own.restart();
            try (WeirConsumer<String, String> c = weir(own, "durable-g", Map.of())) {
                Map<TopicPartition, OffsetAndMetadata> committed = c.committed(Set.of(p0, p1), Duration.ofSeconds(30));
                assertEquals(6, committed.get(p0).offset());
                assertEquals("six", committed.get(p0).metadata());
                assertEquals(7, committed.get(p1).offset());
                c.subscribe(List.of("durable"));
                WeirMember m = new WeirMember(c);
                Map<Member, List<Rec>> sinks = new HashMap<>();
                pollUntil(() -> total(sinks) >= 7, "the rest after the commits", sinks, m);
                assertEquals(List.of("0-6", "0-7", "0-8", "0-9"), sinks.get(m).stream().filter(r -> r.partition() == 0)
                    .map(Rec::value).toList());
                assertEquals(List.of("1-7", "1-8", "1-9"), sinks.get(m).stream().filter(r -> r.partition() == 1)
                    .map(Rec::value).toList());
                // commitSync() with no arguments commits the positions; a third consumer sees them
                c.commitSync();
            }
            try (WeirConsumer<String, String> c = weir(own, "durable-g", Map.of())) {
                Map<TopicPartition, OffsetAndMetadata> committed = c.committed(Set.of(p0, p1), Duration.ofSeconds(30));
                assertEquals(10, committed.get(p0).offset());
                assertEquals(10, committed.get(p1).offset());
            }
        }
    }

    @Test
    void recordsAfterTheLastCommitShouldBeRedeliveredToTheNextMember() throws Exception {
        createTopic(BROKER.embedded(), "alo", 1);
        produce(BROKER.embedded(), "alo", 1, 0, 20);
        TopicPartition tp = new TopicPartition("alo", 0);
        try (WeirMember c = weirMember("alo-g", Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5))) {
            c.consumer.subscribe(List.of("alo"));
            Map<Member, List<Rec>> got = new HashMap<>();
            pollUntil(() -> total(got) >= 5, "first records", got, c);
            c.consumer.commitSync(Map.of(tp, new OffsetAndMetadata(5)));
            pollUntil(() -> total(got) >= 20, "the rest, never committed", got, c);
        } // closes without committing the rest, as a crash would
        try (WeirMember c = weirMember("alo-g", Map.of())) {
            c.consumer.subscribe(List.of("alo"));
            Map<Member, List<Rec>> again = new HashMap<>();
            pollUntil(() -> total(again) >= 15, "redelivery", again, c);
            assertEquals(5, again.get(c).get(0).offset());
            assertEquals(15, again.get(c).size());
        }
    }

    @Test
    void autoCommitShouldCommitThePositionOnClose() throws Exception {
        createTopic(BROKER.embedded(), "auto", 2);
        produce(BROKER.embedded(), "auto", 2, 0, 10);
        try (WeirMember c = weirMember("auto-g", Map.of(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, true,
            ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, 600_000))) {
            c.consumer.subscribe(List.of("auto"));
            Map<Member, List<Rec>> got = new HashMap<>();
            pollUntil(() -> total(got) >= 20, "everything", got, c);
        }
        try (WeirConsumer<String, String> c = weir(BROKER.embedded(), "auto-g", Map.of())) {
            Map<TopicPartition, OffsetAndMetadata> committed = c.committed(
                Set.of(new TopicPartition("auto", 0), new TopicPartition("auto", 1)), Duration.ofSeconds(30));
            assertEquals(10, committed.get(new TopicPartition("auto", 0)).offset());
            assertEquals(10, committed.get(new TopicPartition("auto", 1)).offset());
        }
    }

    // ------------------------------------------------------------------ cooperative rebalancing

    /** Records what a member was given and what it had to give back; commits what it gives back. */
    static final class Recorder implements ConsumerRebalanceListener {
        final List<Set<TopicPartition>> revoked = new ArrayList<>();
        final List<Set<TopicPartition>> assigned = new ArrayList<>();
        final Set<TopicPartition> lost = new HashSet<>();
        WeirConsumer<String, String> consumer;

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            revoked.add(new HashSet<>(partitions));
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (TopicPartition tp : partitions) {
                offsets.put(tp, new OffsetAndMetadata(consumer.position(tp)));
            }
            if (!offsets.isEmpty()) {
                consumer.commitSync(offsets);
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            assigned.add(new HashSet<>(partitions));
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            lost.addAll(partitions);
        }
    }

    /**
     * The group leader assigned while a subscribed topic did not exist yet, so none of its partitions went
     * to anyone. When the topic appears in the leader's metadata the group must rebalance; before, nothing
     * noticed (the member kept an empty assignment until some other rebalance). The member that joins
     * first stays the leader: once the member subscribed to the missing topic, once the other one (which
     * watches the topic only for the group). Auto-creation is off so the topic exists only once the test
     * creates it; a short metadata.max.age.ms lets the leader see it.
     */
    @ParameterizedTest(name = "leader subscribes to the missing topic: {0}")
    @ValueSource(booleans = {true, false})
    void theLeaderShouldRebalanceWhenASubscribedTopicMissingFromItsAssignmentAppears(boolean leaderSubscribes)
        throws Exception {
        String present = "present-" + leaderSubscribes;
        String later = "appears-later-" + leaderSubscribes;
        String group = "appears-g-" + leaderSubscribes;
        createTopic(BROKER.embedded(), present, 2);
        Map<String, Object> extra = Map.of(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false,
            "metadata.max.age.ms", 500L);
        try (WeirMember c1 = weirMember(group, extra); WeirMember c2 = weirMember(group, extra)) {
            WeirMember leader = leaderSubscribes ? c2 : c1;
            WeirMember follower = leaderSubscribes ? c1 : c2;
            c1.consumer.subscribe(List.of(present));
            c2.consumer.subscribe(List.of(later));
            pollUntil(() -> leader.consumer.groupGeneration() >= 0, "the first member joined alone", null, leader);
            pollUntil(() -> c1.assignment().size() == 2 && stable(c1, c2), "both members joined one generation",
                null, c1, c2);
            assertEquals(Set.of(), c2.assignment(), "the topic does not exist yet");
            int generation = c1.consumer.groupGeneration();

            createTopic(BROKER.embedded(), later, 3);
            pollUntil(() -> c2.assignment().size() == 3 && c1.assignment().size() == 2 && stable(c1, c2),
                "the new topic's partitions were assigned", null, leader, follower);
            assertEquals(Set.of(0, 1, 2), c2.assignment());
            assertTrue(c2.consumer.groupGeneration() > generation, "assigned in a later generation");
        }
    }

    @Test
    void cooperativeRebalanceShouldRevokeOnlyThePartitionsTheNewMemberTakes() throws Exception {
        String topic = "coop";
        createTopic(BROKER.embedded(), topic, 4);
        produce(BROKER.embedded(), topic, 4, 0, 20);
        Map<String, Object> coop = Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, "cooperative-sticky");
        Recorder r1 = new Recorder();
        Map<Member, List<Rec>> sinks = new HashMap<>();
        try (WeirMember c1 = weirMember("coop-g", coop); WeirMember c2 = weirMember("coop-g", coop)) {
            r1.consumer = c1.consumer;
            c1.consumer.subscribe(List.of(topic), r1);
            pollUntil(() -> total(sinks) >= 80, "the first member read everything", sinks, c1);
            assertEquals(4, c1.assignment().size());
            r1.revoked.clear();
            r1.assigned.clear();

            c2.consumer.subscribe(List.of(topic));
            Set<Integer> before = c1.assignment();
            // while c2 joins, c1 keeps its retained partitions: they never leave its assignment
            Set<Integer> retainedThroughout = new HashSet<>(before);
            long deadline = System.currentTimeMillis() + DEADLINE.toMillis();
            while (!(c1.assignment().size() == 2 && c2.assignment().size() == 2 && stable(c1, c2))) {
                assertTrue(System.currentTimeMillis() < deadline, "timed out waiting for two each");
                sinks.computeIfAbsent(c1, k -> new ArrayList<>()).addAll(c1.poll(50));
                retainedThroughout.retainAll(c1.assignment());
                sinks.computeIfAbsent(c2, k -> new ArrayList<>()).addAll(c2.poll(50));
                retainedThroughout.retainAll(c1.assignment());
            }
            assertEquals(c1.assignment(), retainedThroughout, "the retained partitions never left the first member");
            Set<TopicPartition> moved = c2.consumer.assignment();
            assertEquals(List.of(moved), r1.revoked, "only the moved partitions were revoked, once");
            assertTrue(r1.assigned.stream().allMatch(Set::isEmpty), "nothing new was assigned to the first member");
            assertTrue(r1.lost.isEmpty());

            produce(BROKER.embedded(), topic, 4, 20, 10);
            pollUntil(() -> total(sinks) >= 120, "the new records", sinks, c1, c2);
            Set<Integer> c2Parts = c2.assignment();
            assertTrue(sinks.get(c2).stream().allMatch(r -> c2Parts.contains(r.partition()) && r.offset() >= 20),
                "the new member starts where the first committed on revoke");
        }
        List<Rec> all = all(sinks);
        assertEquals(120, all.size(), "no record twice");
        Set<String> expected = expectedValues(4, 0, 30);
        assertEquals(expected, all.stream().map(Rec::value).collect(Collectors.toCollection(TreeSet::new)));
    }
}
