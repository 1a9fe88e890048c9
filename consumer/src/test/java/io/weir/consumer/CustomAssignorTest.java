package io.weir.consumer;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.common.TopicPartition;
import io.weir.consumer.internals.PartitionAssignor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An assignor instance given to the consumer (the seam Weir streams plugs its assignor into): the leader sees
 * every member's subscription userData, and each member is told of its assignment with the userData the
 * leader gave it.
 */
@Timeout(120)
class CustomAssignorTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        WeirConsumerGroupTest.groupBrokerOverrides());

    /** Gives every partition to the member tagged "first", and tells every member all tags in member order. */
    private static final class Tagging implements PartitionAssignor {
        private final String tag;
        volatile String told;
        volatile List<TopicPartition> assigned;

        Tagging(String tag) {
            this.tag = tag;
        }

        @Override
        public String name() {
            return "tagging";
        }

        @Override
        public List<RebalanceProtocol> supportedProtocols() {
            return List.of(RebalanceProtocol.EAGER);
        }

        @Override
        public ByteBuffer subscriptionUserData(int generation) {
            return ByteBuffer.wrap(tag.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public Map<String, List<TopicPartition>> assign(Map<String, Integer> partitionsPerTopic,
                                                        Map<String, ConsumerProtocol.Subscription> subscriptions) {
            throw new AssertionError("the consumer must call assignWithUserData");
        }

        @Override
        public Map<String, ConsumerProtocol.Assignment> assignWithUserData(Map<String, Integer> partitionsPerTopic,
                                                                          Map<String, ConsumerProtocol.Subscription> subs) {
            Map<String, String> tags = new TreeMap<>();
            subs.forEach((m, s) -> tags.put(m, StandardCharsets.UTF_8.decode(s.userData().duplicate()).toString()));
            String all = String.join(",", new TreeSet<>(tags.values()));
            List<TopicPartition> every = new ArrayList<>();
            for (int p = 0; p < partitionsPerTopic.get("tagged"); p++) {
                every.add(new TopicPartition("tagged", p));
            }
            Map<String, ConsumerProtocol.Assignment> out = new LinkedHashMap<>();
            tags.forEach((m, t) -> out.put(m, new ConsumerProtocol.Assignment(t.equals("first") ? every : List.of(),
                ByteBuffer.wrap(all.getBytes(StandardCharsets.UTF_8)))));
            return out;
        }

        @Override
        public void onAssignment(ConsumerProtocol.Assignment assignment, int generation) {
            told = StandardCharsets.UTF_8.decode(assignment.userData().duplicate()).toString();
            assigned = assignment.partitions();
        }
    }

    @Test
    void shouldCarryUserDataBothWays() throws Exception {
        WeirConsumerGroupTest.createTopic(BROKER.embedded(), "tagged", 3);
        Tagging first = new Tagging("first");
        Tagging second = new Tagging("second");
        try (WeirConsumer<String, String> c1 = new WeirConsumer<>(WeirConsumerGroupTest.weirProps(BROKER.embedded(), "tags", Map.of()),
                 new Deserializers.StringDeserializer(), new Deserializers.StringDeserializer(), List.of(first));
             WeirConsumer<String, String> c2 = new WeirConsumer<>(WeirConsumerGroupTest.weirProps(BROKER.embedded(), "tags", Map.of()),
                 new Deserializers.StringDeserializer(), new Deserializers.StringDeserializer(), List.of(second))) {
            c1.subscribe(List.of("tagged"));
            c2.subscribe(List.of("tagged"));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!"first,second".equals(first.told) || !"first,second".equals(second.told)) {
                assertTrue(System.nanoTime() - deadline < 0, "both assignors to be told \"first,second\" in 60 s, first was told "
                    + first.told + ", second " + second.told);
                c1.poll(Duration.ofMillis(50));
                c2.poll(Duration.ofMillis(50));
            }
            assertEquals(3, first.assigned.size());
            assertEquals(List.of(), second.assigned);
            assertEquals(3, c1.assignment().size());
            assertEquals(0, c2.assignment().size());
        }
    }
}
