package io.weir.broker.transaction;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Markers sent to a real broker over the channel: many queued at once (several of one producer, which
 * must go in separate requests) each get the leader's answer for each of their partitions, and the
 * markers the leader accepted are in its log.
 */
class TransactionMarkerChannelTest {
    private EmbeddedBroker broker;
    private NetworkClient client;

    @AfterEach
    void tearDown() {
        if (client != null) {
            client.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void shouldAnswerEveryQueuedMarkerWithTheLeadersResultPerPartition() throws Exception {
        broker = new EmbeddedBroker().start();
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers",
            broker.bootstrapServers()))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("m", 2, (short) 1))).all()
                .get(60, TimeUnit.SECONDS);
        }
        client = new NetworkClient(NetworkClient.Settings.defaults(List.of(new Node(-1, "127.0.0.1", broker.port())),
            "channel-test"), Time.SYSTEM);
        TransactionMarkerChannel channel = new TransactionMarkerChannel(client, Time.SYSTEM, 30_000);
        Node leader = new Node(broker.broker().config().brokerId(), "127.0.0.1", broker.port());
        Set<TopicPartition> both = Set.of(new TopicPartition("m", 0), new TopicPartition("m", 1));

        List<CompletableFuture<Map<TopicPartition, Errors>>> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            // producers 100..104, each four times: one per request, the rest wait for the next
            sent.add(channel.send(leader, 100 + i % 5, (short) 0, 0, false, both));
        }
        sent.add(channel.send(leader, 200, (short) 0, 0, false, Set.of(new TopicPartition("missing", 0))));

        int accepted = 0;
        for (int i = 0; i < 20; i++) {
            Map<TopicPartition, Errors> r = sent.get(i).get(60, TimeUnit.SECONDS);
            assertEquals(both, r.keySet(), "marker " + i + " answered for each of its partitions");
            for (Errors e : r.values()) {
                assertTrue(e != Errors.NETWORK_EXCEPTION && e != Errors.REQUEST_TIMED_OUT && e != Errors.UNKNOWN_SERVER_ERROR,
                    "marker " + i + ": the leader's answer, not a transport failure: " + e);
                if (e == Errors.NONE) {
                    accepted++;
                }
            }
        }
        assertEquals(Map.of(new TopicPartition("missing", 0), Errors.UNKNOWN_TOPIC_OR_PARTITION),
            sent.get(20).get(60, TimeUnit.SECONDS));
        long logged = broker.broker().replicaManager().partition(new TopicPartition("m", 0)).log().logEndOffset()
            + broker.broker().replicaManager().partition(new TopicPartition("m", 1)).log().logEndOffset();
        assertTrue(accepted > 0, "a marker of an idle producer is written");
        assertEquals(accepted, logged, "every accepted marker, and only those, is in the log");
    }
}
