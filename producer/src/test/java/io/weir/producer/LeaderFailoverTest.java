package io.weir.producer;

import io.weir.protocol.client.FakeFailoverCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The producer after its partition leader dies (issue 12): a {@link FakeFailoverCluster} plays a cluster whose
 * leader (node 1) is gone, its port refusing connections, while the metadata keeps naming it for a few
 * refreshes (the election takes a moment) and then names node 2 with a newer leader epoch. The next
 * batch must reach node 2 soon after the metadata says so, not after {@code request.timeout.ms}:
 * a refused connect fails the attempt at once, as in kafka-clients.
 */
class LeaderFailoverTest {
    private static final String TOPIC = "failover";

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void shouldDeliverToTheNewLeaderWithoutWaitingOutTheRequestTimeoutAfterTheLeaderDies() throws Exception {
        FakeFailoverCluster cluster = new FakeFailoverCluster(TOPIC);
        toClose.add(cluster);
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", cluster.bootstrapServers());
        p.put("key.serializer", Serializers.StringSerializer.class.getName());
        p.put("value.serializer", Serializers.StringSerializer.class.getName());
        p.put("linger.ms", "0");
        // far above the bound below: waiting out one request timeout fails the test
        p.put("request.timeout.ms", "60000");
        p.put("delivery.timeout.ms", "120000");
        WeirProducer<String, String> producer = new WeirProducer<>(p);
        toClose.add(producer);

        RecordMetadata before = producer.send(new ProducerRecord<>(TOPIC, 0, null, "before")).get(20, TimeUnit.SECONDS);
        assertEquals(0, before.offset());

        cluster.killLeader(); // the leader's process is gone: its connections drop and its port refuses connects

        RecordMetadata after = producer.send(new ProducerRecord<>(TOPIC, 0, null, "after")).get(20, TimeUnit.SECONDS);
        assertEquals(1, after.offset());
        assertEquals(2, cluster.leaderId(), "delivered by the new leader");
    }
}
