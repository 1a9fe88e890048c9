package io.weir.consumer.internals;

import io.weir.consumer.ConsumerProtocol;
import io.weir.common.TopicPartition;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weir's subscription and assignment bytes against kafka-clients' ConsumerProtocol, both ways. */
class ConsumerProtocolCompatibilityTest {
    private static org.apache.kafka.common.TopicPartition k(String t, int p) {
        return new org.apache.kafka.common.TopicPartition(t, p);
    }

    @Test
    void kafkaShouldReadWeirSubscriptions() {
        ByteBuffer bytes = ConsumerProtocol.serializeSubscription(new ConsumerProtocol.Subscription(List.of("a", "b"),
            new CooperativeStickyWrapper().userData(7), List.of(new TopicPartition("a", 0), new TopicPartition("b", 3)),
            7, "rack1"));
        ConsumerPartitionAssignor.Subscription s =
            org.apache.kafka.clients.consumer.internals.ConsumerProtocol.deserializeSubscription(bytes);
        assertEquals(List.of("a", "b"), s.topics());
        assertEquals(List.of(k("a", 0), k("b", 3)), s.ownedPartitions());
        assertEquals(Optional.of(7), s.generationId());
        assertEquals(Optional.of("rack1"), s.rackId());
        assertEquals(7, s.userData().getInt(0));
    }

    @Test
    void weirShouldReadKafkaSubscriptionsOfEveryVersion() {
        for (short v = 0; v <= 3; v++) {
            ConsumerPartitionAssignor.Subscription ks = new ConsumerPartitionAssignor.Subscription(List.of("x"), null,
                List.of(k("x", 1)), 4, Optional.of("r"));
            ByteBuffer bytes = org.apache.kafka.clients.consumer.internals.ConsumerProtocol.serializeSubscription(ks, v);
            ConsumerProtocol.Subscription s = ConsumerProtocol.deserializeSubscription(bytes);
            assertEquals(List.of("x"), s.topics());
            assertNull(s.userData());
            assertEquals(v >= 1 ? List.of(new TopicPartition("x", 1)) : List.of(), s.ownedPartitions());
            assertEquals(v >= 2 ? 4 : -1, s.generationId());
            assertEquals(v >= 3 ? "r" : null, s.rackId());
        }
    }

    @Test
    void assignmentsShouldRoundTripBothWays() {
        ByteBuffer weir = ConsumerProtocol.serializeAssignment(new ConsumerProtocol.Assignment(
            List.of(new TopicPartition("a", 2), new TopicPartition("a", 5), new TopicPartition("c", 0)), null));
        ConsumerPartitionAssignor.Assignment ka =
            org.apache.kafka.clients.consumer.internals.ConsumerProtocol.deserializeAssignment(weir);
        assertEquals(List.of(k("a", 2), k("a", 5), k("c", 0)), ka.partitions());
        ByteBuffer kafka = org.apache.kafka.clients.consumer.internals.ConsumerProtocol.serializeAssignment(
            new ConsumerPartitionAssignor.Assignment(List.of(k("z", 9)), ByteBuffer.wrap(new byte[] {1, 2})));
        ConsumerProtocol.Assignment wa = ConsumerProtocol.deserializeAssignment(kafka);
        assertEquals(List.of(new TopicPartition("z", 9)), wa.partitions());
        assertEquals(2, wa.userData().remaining());
    }

    private static Map<String, ConsumerProtocol.Subscription> members(int n, List<String> topics,
                                                                   Map<String, List<TopicPartition>> owned, int gen) {
        Map<String, ConsumerProtocol.Subscription> m = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String id = "m" + i;
            m.put(id, new ConsumerProtocol.Subscription(topics, null, owned.getOrDefault(id, List.of()), gen, null));
        }
        return m;
    }

    private static void assertValid(Map<String, List<TopicPartition>> a, int expectedTotal) {
        Set<TopicPartition> seen = new HashSet<>();
        int total = 0;
        for (List<TopicPartition> l : a.values()) {
            for (TopicPartition tp : l) {
                assertTrue(seen.add(tp), "assigned twice: " + tp);
                total++;
            }
        }
        assertEquals(expectedTotal, total);
    }

    @Test
    void rangeAndRoundRobinShouldMatchKafkasLayout() {
        Map<String, List<TopicPartition>> r = new PartitionAssignor.Range().assign(Map.of("t", 5),
            members(2, List.of("t"), Map.of(), -1));
        assertEquals(List.of(new TopicPartition("t", 0), new TopicPartition("t", 1), new TopicPartition("t", 2)), r.get("m0"));
        assertEquals(List.of(new TopicPartition("t", 3), new TopicPartition("t", 4)), r.get("m1"));
        Map<String, List<TopicPartition>> rr = new PartitionAssignor.RoundRobin().assign(Map.of("t", 5),
            members(2, List.of("t"), Map.of(), -1));
        assertEquals(List.of(new TopicPartition("t", 0), new TopicPartition("t", 2), new TopicPartition("t", 4)), rr.get("m0"));
    }

    @Test
    void cooperativeStickyShouldMoveOnlyWhatTheNewMemberTakes() {
        PartitionAssignor a = new PartitionAssignor.CooperativeSticky();
        Map<String, List<TopicPartition>> first = a.assign(Map.of("t", 4), members(1, List.of("t"), Map.of(), -1));
        assertEquals(4, first.get("m0").size());
        // m1 joins: first round keeps two on m0, revokes two from it, gives m1 nothing yet
        Map<String, List<TopicPartition>> second = a.assign(Map.of("t", 4),
            members(2, List.of("t"), Map.of("m0", first.get("m0")), 1));
        assertEquals(2, second.get("m0").size());
        assertTrue(first.get("m0").containsAll(second.get("m0")));
        assertEquals(List.of(), second.get("m1"));
        // second round: the revoked two go to m1, m0 keeps its two
        Map<String, List<TopicPartition>> third = a.assign(Map.of("t", 4),
            members(2, List.of("t"), Map.of("m0", second.get("m0")), 2));
        assertEquals(second.get("m0"), third.get("m0"));
        assertEquals(2, third.get("m1").size());
        assertValid(third, 4);
    }

    /** Kafka's cooperative-sticky userData is the generation as an int32. */
    private static final class CooperativeStickyWrapper {
        ByteBuffer userData(int gen) {
            return new PartitionAssignor.CooperativeSticky().subscriptionUserData(gen);
        }
    }
}
