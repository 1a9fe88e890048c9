package io.weir.broker.transaction;

import io.weir.broker.testing.FixedMetadataStore;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where the routing marker writer sends each partition's marker, by the metadata it is given: local
 * leaders to the local writer, leaderless partitions and dead leaders retried, a gone topic dropped, an
 * unreachable leader answered with an error the coordinator retries. The metadata is a fixed store
 * (the cluster path is covered by {@code CoordinatorClusterTest}); the remote side is a real network
 * client against a port nothing listens on.
 */
class RoutingTransactionMarkerWriterTest {
    private static final int ME = 1;

    private final FixedMetadataStore metadata = new FixedMetadataStore();
    private final List<Set<TopicPartition>> localCalls = new ArrayList<>();
    private NetworkClient client;

    @AfterEach
    void tearDown() {
        if (client != null) {
            client.close();
        }
    }

    /** The local writer: records what it was given, and does not host {@code notHostedHere}. */
    private TransactionMarkerWriter local(TopicPartition notHostedHere) {
        return (producerId, producerEpoch, coordinatorEpoch, commit, partitions) -> {
            localCalls.add(Set.copyOf(partitions));
            Map<TopicPartition, Errors> out = new HashMap<>();
            partitions.forEach(tp -> out.put(tp, tp.equals(notHostedHere) ? Errors.UNKNOWN_TOPIC_OR_PARTITION
                : Errors.NONE));
            return CompletableFuture.completedFuture(out);
        };
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void shouldWriteLocalLeadersHereRetryLeaderlessAndUnreachableOnesAndDropGoneTopics() throws Exception {
        int deadPort = closedPort();
        // t-0 led here, t-1 without a leader, t-2 led by broker 3 (not registered), t-3 led by broker 2
        // (registered, unreachable), t-4 led here but not hosted here yet
        metadata.topic("t", 5, ME, -1, 3, 2, ME).liveBroker(ME, "127.0.0.1", 1).liveBroker(2, "127.0.0.1", deadPort);
        client = new NetworkClient(NetworkClient.Settings.defaults(List.of(new Node(-1, "127.0.0.1", deadPort)),
            "markers-test"), Time.SYSTEM);
        TopicPartition notHosted = new TopicPartition("t", 4);
        RoutingTransactionMarkerWriter writer = new RoutingTransactionMarkerWriter(ME, metadata, local(notHosted),
            new TransactionMarkerChannel(client, Time.SYSTEM, 300));

        Set<TopicPartition> partitions = Set.of(new TopicPartition("t", 0), new TopicPartition("t", 1),
            new TopicPartition("t", 2), new TopicPartition("t", 3), notHosted, new TopicPartition("gone", 0),
            new TopicPartition("t", 7));
        Map<TopicPartition, Errors> result = writer.writeMarkers(5, (short) 0, 0, true, partitions)
            .get(60, TimeUnit.SECONDS);

        assertEquals(List.of(Set.of(new TopicPartition("t", 0), notHosted)), localCalls,
            "only the partitions led here go to the local writer");
        assertEquals(Errors.NONE, result.get(new TopicPartition("t", 0)));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, result.get(new TopicPartition("t", 1)), "no leader: ask again");
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, result.get(new TopicPartition("t", 2)), "dead leader: ask again");
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, result.get(notHosted),
            "a leader that does not host the partition yet is asked again while the topic exists");
        Errors unreachable = result.get(new TopicPartition("t", 3));
        assertTrue(unreachable == Errors.REQUEST_TIMED_OUT || unreachable == Errors.NETWORK_EXCEPTION, unreachable.name());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION, result.get(new TopicPartition("gone", 0)), "dropped");
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION, result.get(new TopicPartition("t", 7)), "no such partition");
        for (TopicPartition tp : partitions) {
            boolean retried = TransactionCoordinatorService.RETRIABLE_MARKER_ERRORS.contains(result.get(tp));
            assertEquals(!tp.topic().equals("gone") && !tp.equals(new TopicPartition("t", 7)) && result.get(tp) != Errors.NONE,
                retried, tp + " " + result.get(tp));
        }
    }
}
