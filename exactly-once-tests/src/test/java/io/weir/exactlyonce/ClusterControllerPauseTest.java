package io.weir.exactlyonce;

import io.weir.broker.testing.BrokerProcess;
import io.weir.broker.zk.EmbeddedZooKeeper;
import io.weir.common.utils.Json;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static io.weir.exactlyonce.Clusters.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A paused controller cannot change anything when it resumes (epoch fencing): three broker processes on
 * one ZooKeeper; the controller's JVM is stopped with SIGSTOP until its ZooKeeper session expires and
 * another broker is elected at a higher controller epoch; a topic is created under the new controller;
 * then the old one resumes with SIGCONT. Afterwards every partition state written since the new
 * controller took office carries a newer controller epoch than the old controller's (whatever the old
 * controller tried on resuming, on its new session, failed the epoch-version check), the old broker's own
 * metadata names the new controller, and it rejoins the cluster as a broker whose preferred leaderships
 * the new controller gives back.
 */
class ClusterControllerPauseTest {
    private static final int BROKERS = 3;
    private static final String CHROOT = "/pause";

    @TempDir
    Path dir;

    @Test
    void shouldFenceAPausedControllerThatResumesAfterAnotherWasElected() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir.resolve("zk"));
             CuratorFramework client = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100))) {
            client.start();
            assertTrue(client.blockUntilConnected(30, TimeUnit.SECONDS), "connected to ZooKeeper");
            List<BrokerProcess> brokers = new ArrayList<>();
            try {
                for (int i = 0; i < BROKERS; i++) {
                    brokers.add(new BrokerProcess(dir.resolve("broker-" + i)));
                }
                for (int i = 0; i < BROKERS; i++) {
                    brokers.get(i).start("broker.id=" + i, "zookeeper.connect=" + zk.connectString() + CHROOT,
                        "zookeeper.session.timeout.ms=6000", "offsets.topic.num.partitions=1",
                        "transaction.state.log.num.partitions=1",
                        // the rebalance check runs every second: on resuming, the old controller's worker has
                        // one due at once, with leaderships to move back to its own broker
                        "leader.imbalance.check.interval.seconds=1");
                }
                Clusters.awaitRegistered(brokers);
                String all = String.join(",", brokers.stream().map(BrokerProcess::bootstrapServers).toList());
                try (Admin admin = admin(all)) {
                    admin.createTopics(List.of(new NewTopic("before", 3, (short) BROKERS))).all().get(60, TimeUnit.SECONDS);
                    waitUntil(() -> liveBrokers(admin) == BROKERS, "three live brokers");
                }
                int oldController = controllerId(client);
                int oldEpoch = controllerEpoch(client);
                assertTrue(oldController >= 0 && oldEpoch > 0, "a controller at epoch " + oldEpoch);
                BrokerProcess paused = brokers.get(oldController);
                String others = String.join(",", brokers.stream().filter(b -> b != paused)
                    .map(BrokerProcess::bootstrapServers).toList());

                signal("STOP", paused.pid());
                try {
                    // its session expires; another broker takes office at a newer epoch
                    // one read per check: two could see the old controller's node, then none (its session just
                    // expired, no one elected yet), and take that -1 for "another broker"
                    waitUntil(() -> isAnother(controllerIdUnchecked(client), oldController),
                        "another broker is the controller");
                    int newEpoch = controllerEpoch(client);
                    assertTrue(newEpoch > oldEpoch, "the new controller's epoch " + newEpoch + " follows " + oldEpoch);
                    // every write after this marker comes after the old controller lost its session
                    client.create().withMode(CreateMode.EPHEMERAL).forPath(CHROOT + "-marker", new byte[0]);
                    long fenceZxid = client.checkExists().forPath(CHROOT + "-marker").getCzxid();
                    try (Admin admin = admin(others)) {
                        admin.createTopics(List.of(new NewTopic("during", 3, (short) 2))).all().get(60, TimeUnit.SECONDS);
                    }
                    for (int p = 0; p < 3; p++) {
                        assertTrue(partitionControllerEpoch(client, "during", p, new Stat()) >= newEpoch,
                            "a partition created by the new controller carries its epoch");
                    }

                    signal("CONT", paused.pid());
                    try (Admin old = admin(paused.bootstrapServers())) {
                        waitUntil(() -> isAnother(controllerSeenBy(old), oldController),
                            "the resumed broker's metadata names the new controller");
                    }
                    try (Admin admin = admin(others)) {
                        waitUntil(() -> liveBrokers(admin) == BROKERS, "the resumed broker registered again");
                        // the new controller gives the resumed broker its preferred leaderships back
                        waitUntil(() -> leads(admin, "before", oldController), "the resumed broker leads again");
                    }
                    assertTrue(controllerEpoch(client) >= newEpoch);
                    assertNotEquals(oldController, controllerId(client), "the old controller did not take office again"
                        + " behind the new one's back");
                    for (String topic : List.of("before", "during", "__consumer_offsets")) {
                        List<String> partitions = client.checkExists().forPath(CHROOT + "/brokers/topics/" + topic) == null
                            ? List.of() : client.getChildren().forPath(CHROOT + "/brokers/topics/" + topic + "/partitions");
                        for (String p : partitions) {
                            Stat stat = new Stat();
                            int epoch = partitionControllerEpoch(client, topic, Integer.parseInt(p), stat);
                            if (stat.getMzxid() > fenceZxid) {
                                assertTrue(epoch >= newEpoch, topic + "-" + p + " was written after the old controller"
                                    + " lost its session, at controller epoch " + epoch + " (the new one is " + newEpoch + ")");
                            }
                        }
                    }
                } finally {
                    signal("CONT", paused.pid()); // never leave a stopped process behind
                }
            } finally {
                for (BrokerProcess b : brokers) {
                    b.close();
                }
            }
        }
    }

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        return Admin.create(p);
    }

    private static int liveBrokers(Admin admin) {
        try {
            return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
        } catch (Exception e) {
            return -1;
        }
    }

    private static boolean leads(Admin admin, String topic, int broker) {
        try {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic)
                .partitions().stream().anyMatch(p -> p.leader() != null && p.leader().id() == broker);
        } catch (Exception e) {
            return false;
        }
    }

    private static int controllerSeenBy(Admin admin) {
        try {
            Node c = admin.describeCluster().controller().get(10, TimeUnit.SECONDS);
            return c == null ? -1 : c.id();
        } catch (Exception e) {
            return -1;
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertTrue(kill.waitFor(30, TimeUnit.SECONDS), "kill -" + signal + " finished");
        assertEquals(0, kill.exitValue(), "kill -" + signal + " " + pid);
    }

    private static int controllerId(CuratorFramework client) throws Exception {
        if (client.checkExists().forPath(CHROOT + "/controller") == null) {
            return -1;
        }
        return Json.intField(Json.parseObject(client.getData().forPath(CHROOT + "/controller")), "brokerid", -1);
    }

    /** Whether {@code controller} names a broker, and not {@code old}. */
    private static boolean isAnother(int controller, int old) {
        return controller >= 0 && controller != old;
    }

    private static int controllerIdUnchecked(CuratorFramework client) {
        try {
            return controllerId(client);
        } catch (Exception e) {
            return -1; // deleted between the check and the read
        }
    }

    private static int controllerEpoch(CuratorFramework client) throws Exception {
        return Integer.parseInt(new String(client.getData().forPath(CHROOT + "/controller_epoch"), StandardCharsets.UTF_8).trim());
    }

    private static int partitionControllerEpoch(CuratorFramework client, String topic, int partition, Stat stat)
        throws Exception {
        byte[] data = client.getData().storingStatIn(stat)
            .forPath(CHROOT + "/brokers/topics/" + topic + "/partitions/" + partition + "/state");
        return Json.intField(Json.parseObject(data), "controller_epoch", -1);
    }
}
