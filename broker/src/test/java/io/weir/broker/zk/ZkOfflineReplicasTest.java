package io.weir.broker.zk;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.common.TopicPartition;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The offline-replica entries in ZooKeeper: written by a broker, read back by partition, and counted only for a
 * broker registered under the epoch the entry names (a restarted broker's old entry hides nothing).
 */
class ZkOfflineReplicasTest {
    private static BrokerRegistration broker(int id, long epoch) {
        return new BrokerRegistration(id, "127.0.0.1", 9092 + id, null, List.of(), epoch);
    }

    @Test
    void shouldCountAnEntryOnlyForTheRegistrationThatWroteIt() throws Exception {
        try (TestingServer server = new TestingServer(true);
             CuratorFramework client = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100))) {
            client.start();
            assertTrue(client.blockUntilConnected(30, TimeUnit.SECONDS));
            ZkOfflineReplicas zk = new ZkOfflineReplicas(client);
            TopicPartition t0 = new TopicPartition("t", 0);
            TopicPartition t1 = new TopicPartition("t", 1);
            assertEquals(Map.of(), zk.read(List.of(broker(1, 10)), null));

            zk.report(1, 10, List.of(Path.of("/data/b")), Set.of(t0, t1));
            zk.report(2, 20, List.of(Path.of("/data/c")), Set.of(t1));
            assertEquals(Map.of(t0, Set.of(1), t1, Set.of(1, 2)), zk.read(List.of(broker(1, 10), broker(2, 20)), null));
            // broker 1 restarted (a new registration), broker 2 is not registered: neither entry counts
            assertEquals(Map.of(), zk.read(List.of(broker(1, 11)), null));
            // written again under the new registration: replaced, not added to
            zk.report(1, 11, List.of(Path.of("/data/b")), Set.of(t1));
            assertEquals(Map.of(t1, Set.of(1)), zk.read(List.of(broker(1, 11)), null));
        }
    }
}
