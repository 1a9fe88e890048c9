package io.weir.producer;

import io.weir.common.TopicPartition;
import io.weir.producer.internals.BuiltInPartitioner;
import io.weir.producer.internals.Murmur2;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.Node;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PartitionerTest {
    static Cluster cluster(String topic, int partitions, int... leaderless) {
        List<Cluster.PartitionInfo> parts = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            int leader = 0;
            for (int l : leaderless) {
                if (l == p) {
                    leader = -1;
                }
            }
            parts.add(new Cluster.PartitionInfo(topic, p, leader, 0, List.of(0), List.of(0), List.of(),
                leader < 0 ? Errors.LEADER_NOT_AVAILABLE : Errors.NONE));
        }
        return new Cluster("c", List.of(new Node(0, "localhost", 9092)), 0,
            Map.of(topic, new Cluster.TopicInfo(topic, null, false, parts)), Map.of());
    }

    @Test
    void shouldHashKeysExactlyLikeKafkaClients() {
        Random rnd = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            byte[] key = new byte[rnd.nextInt(64)];
            rnd.nextBytes(key);
            assertEquals(Utils.murmur2(key), Murmur2.hash(key), "murmur2 of key #" + i);
            int partitions = 1 + rnd.nextInt(200);
            assertEquals(Utils.toPositive(Utils.murmur2(key)) % partitions, Murmur2.partitionForKey(key, partitions));
        }
        for (int i = 0; i < 5_000; i++) {
            byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
            assertEquals(Utils.toPositive(Utils.murmur2(key)) % 12, Murmur2.partitionForKey(key, 12));
        }
    }

    @Test
    void shouldSpreadRoundRobinEvenlyOverPartitionsWithLeaders() {
        Cluster c = cluster("t", 5, 2);
        RoundRobinPartitioner rr = new RoundRobinPartitioner();
        int[] counts = new int[5];
        for (int i = 0; i < 4_000; i++) {
            counts[rr.partition("t", null, null, "v", null, c)]++;
        }
        assertEquals(0, counts[2], "the leaderless partition gets nothing");
        for (int p : new int[] {0, 1, 3, 4}) {
            assertEquals(1_000, counts[p]);
        }
    }

    @Test
    void shouldStickToOnePartitionUntilBatchSizeBytesThenSpreadUniformly() {
        Cluster c = cluster("t", 4);
        BuiltInPartitioner sticky = new BuiltInPartitioner(1_000, false, tp -> 0);
        int first = sticky.partition("t", c);
        for (int i = 0; i < 9; i++) {
            assertEquals(first, sticky.partition("t", c));
            sticky.onAppend("t", first, 100, c);
        }
        assertEquals(first, sticky.partition("t", c));
        sticky.onAppend("t", first, 100, c); // 1000 bytes: switch
        assertTrue(sticky.partition("t", c) != first, "moves on after batch.size bytes");

        int[] counts = new int[4];
        for (int i = 0; i < 40_000; i++) {
            int p = sticky.partition("t", c);
            counts[p]++;
            sticky.onAppend("t", p, 100, c);
        }
        for (int n : counts) {
            assertTrue(n > 7_000 && n < 13_000, "uniform over batches: " + java.util.Arrays.toString(counts));
        }
    }

    @Test
    void shouldFavourPartitionsWithShortQueuesWhenAdaptive() {
        Cluster c = cluster("t", 3);
        // partition 0's leader is backed up with 20 queued batches; 1 and 2 keep up
        BuiltInPartitioner sticky = new BuiltInPartitioner(100, true, tp -> tp.equals(new TopicPartition("t", 0)) ? 20 : 0);
        int[] counts = new int[3];
        for (int i = 0; i < 30_000; i++) {
            int p = sticky.partition("t", c);
            counts[p]++;
            sticky.onAppend("t", p, 100, c);
        }
        assertTrue(counts[0] * 5 < counts[1] && counts[0] * 5 < counts[2], java.util.Arrays.toString(counts));
    }

    @Test
    void shouldSkipLeaderlessPartitionsWhenSticking() {
        Cluster c = cluster("t", 3, 1);
        BuiltInPartitioner sticky = new BuiltInPartitioner(10, false, tp -> 0);
        for (int i = 0; i < 1_000; i++) {
            int p = sticky.partition("t", c);
            assertTrue(p != 1);
            sticky.onAppend("t", p, 10, c);
        }
    }
}
