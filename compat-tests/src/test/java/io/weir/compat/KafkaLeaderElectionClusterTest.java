package io.weir.compat;

import io.weir.broker.Broker;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.ThreeBrokerCluster;
import io.weir.broker.zk.ZkMetadataStore;
import io.weir.common.TopicPartition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.weir.broker.testing.ThreeBrokerCluster.waitUntil;
import static io.weir.compat.KafkaTool.LEADER_ELECTION;
import static io.weir.compat.KafkaTool.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Apache Kafka's {@code kafka-leader-election.sh} (kafka-tools, in a JVM of its own) against three Weir brokers on
 * one real ZooKeeper: a broker that stopped and returned gets the leadership of its preferred partition back only
 * when the tool asks for a preferred election.
 */
class KafkaLeaderElectionClusterTest {
    private ThreeBrokerCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void kafkaLeaderElectionShouldGiveTheReturningPreferredReplicaItsLeadershipBack() throws Exception {
        cluster = ThreeBrokerCluster.start("/weir-compat", Map.of("auto.leader.rebalance.enable", "false"));
        List<EmbeddedBroker> brokers = cluster.brokers();
        Broker c = cluster.controller();
        String bootstrap = "127.0.0.1:" + c.boundPort();
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic("kle", 3, (short) 3))).all().get();
        }
        ZkMetadataStore store = (ZkMetadataStore) c.metadataStore();
        waitUntil(() -> store.image().states().size() >= 3, "the partitions have states");
        EmbeddedBroker victim = brokers.stream().filter(b -> b.broker() != c).findFirst().orElseThrow();
        int victimId = victim.broker().config().brokerId();
        TopicPartition target = null;
        for (int p = 0; p < 3; p++) {
            if (store.replicas(new TopicPartition("kle", p)).get(0) == victimId) {
                target = new TopicPartition("kle", p);
            }
        }
        TopicPartition tp = target;
        victim.broker().shutdown();
        waitUntil(() -> store.partitionState(tp).orElseThrow().leader() != victimId, "failover");
        victim.start();
        // the leader's ISR expansion (AlterPartition) brings the returning broker back in sync
        waitUntil(() -> {
            PartitionState s = store.readPartitionState(tp).orElseThrow();
            if (s.isr().contains(victimId)) {
                return true;
            }
            List<Integer> isr = new ArrayList<>(s.isr());
            isr.add(victimId);
            try {
                c.controller().updatePartitionState(tp, s, s.leader(), s.leaderEpoch(), isr);
            } catch (RuntimeException e) {
                // read again
            }
            return false;
        }, "the victim is back in the ISR");
        assertTrue(store.partitionState(tp).orElseThrow().leader() != victimId, "not the leader before the election");

        String out = ok(LEADER_ELECTION, null, "--bootstrap-server", bootstrap, "--election-type", "preferred",
            "--topic", "kle", "--partition", Integer.toString(tp.partition())).stdout();
        assertTrue(out.contains("Successfully completed leader election (PREFERRED) for partitions " + tp), out);
        assertEquals(victimId, store.partitionState(tp).orElseThrow().leader());

        ForkedProcess.Result all = ok(LEADER_ELECTION, null, "--bootstrap-server", bootstrap,
            "--election-type", "preferred", "--all-topic-partitions");
        assertFalse(all.stdout().contains("Error") || all.stderr().contains("Error"), all.toString());
    }
}
