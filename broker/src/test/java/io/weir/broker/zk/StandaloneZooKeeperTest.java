package io.weir.broker.zk;

import io.weir.broker.metadata.LocalMetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broker without {@code zookeeper.connect}: its embedded ZooKeeper under the log dir, the import of
 * a pre-ZooKeeper (file-based) metadata directory, and a restart after a crash that left the old
 * session's registration in the embedded server's data.
 */
class StandaloneZooKeeperTest {

    @Test
    void shouldImportTheTopicsOfAFileBasedMetadataDirectoryOnceOnFirstStart() throws Exception {
        try (EmbeddedBroker b = new EmbeddedBroker()) {
            // what a broker of the previous version left in its log dir
            LocalMetadataStore old = new LocalMetadataStore(b.logDir(), null);
            UUID ordersId = UUID.randomUUID();
            old.createTopic(new TopicMetadata("orders", ordersId, 3, (short) 1, Map.of("retention.ms", "60000")));
            old.createTopic(new TopicMetadata("audit", UUID.randomUUID(), 1, (short) 1, Map.of()));
            String clusterId = old.clusterId();
            old.close();
            Files.writeString(b.logDir().resolve(LocalMetadataStore.DIR_NAME).resolve("producer_id_block"), "5000\n");

            b.start();
            TopicMetadata orders = b.broker().metadataStore().topic("orders").orElseThrow();
            assertEquals(ordersId, orders.topicId());
            assertEquals(3, orders.partitionCount());
            assertEquals("60000", orders.configs().get("retention.ms"));
            assertTrue(b.broker().metadataStore().topic("audit").isPresent());
            assertEquals(clusterId, b.broker().metadataStore().clusterId());
            assertTrue(initProducerId(b.port()) >= 5000, "producer ids continue after the file's high mark");
            assertTrue(Files.isDirectory(b.logDir().resolve(EmbeddedZooKeeper.DIR_NAME)), "ZooKeeper's data in the log dir");
            java.nio.file.Path metadataDir = b.logDir().resolve(LocalMetadataStore.DIR_NAME);
            assertTrue(Files.notExists(metadataDir.resolve("topics")), "the imported files are moved aside");
            assertTrue(Files.exists(metadataDir.resolve(ZkMetadataStore.IMPORTED_DIR).resolve("topics")
                .resolve("orders.properties")));

            try (Admin admin = Admin.create(Map.of("bootstrap.servers", b.bootstrapServers()))) {
                admin.deleteTopics(java.util.List.of("audit")).all().get();
                admin.createTopics(java.util.List.of(new NewTopic("later", 2, (short) 1))).all().get();
            }
            long before = initProducerId(b.port());
            b.restart();
            // imported once: the deleted topic stays deleted, the new one stays
            assertEquals(java.util.Set.of("orders", "later"), b.broker().metadataStore().topics().keySet().stream()
                .filter(t -> !t.startsWith("__")).collect(java.util.stream.Collectors.toSet()));
            assertEquals(ordersId, b.broker().metadataStore().topic("orders").orElseThrow().topicId());
            assertTrue(initProducerId(b.port()) > before);
        }
    }

    @Test
    void shouldEndTheSessionOfACrashedRunInsteadOfWaitingForItToExpire() throws Exception {
        try (EmbeddedBroker b = new EmbeddedBroker(Map.of("zookeeper.session.timeout.ms", "4000",
            "zookeeper.connection.timeout.ms", "1000"))) {
            b.start();
            b.broker().shutdown();
            // a run that crashed: its registration (with a 40 s session) is in the embedded server's data
            EmbeddedZooKeeper server = EmbeddedZooKeeper.start(b.logDir());
            CountDownLatch connected = new CountDownLatch(1);
            ZooKeeper crashed = new ZooKeeper(server.connectString(), 40_000, e -> {
                if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                    connected.countDown();
                }
            });
            assertTrue(connected.await(30, TimeUnit.SECONDS));
            crashed.create("/brokers/ids/0", "{}".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.EPHEMERAL);
            long crashedSession = crashed.getSessionId();
            crashed.getTestable().injectSessionExpiration(); // no close reaches the server
            server.close();
            crashed.close();

            // the broker would give up after 4 s + 2 x 1 s; the old session would last 40 s
            b.start();
            ZkMetadataStore store = (ZkMetadataStore) b.broker().metadataStore();
            Stat stat = store.client().checkExists().forPath(ZkPaths.broker(0));
            assertNotNull(stat);
            assertNotEquals(crashedSession, stat.getEphemeralOwner());
            assertEquals(store.client().getZookeeperClient().getZooKeeper().getSessionId(), stat.getEphemeralOwner());
        }
    }

    @Test
    void shouldLeaveNoZooKeeperOrCuratorThreadRunningAfterShutdown() throws Exception {
        java.util.Set<Thread> before = zkThreads();
        try (EmbeddedBroker b = new EmbeddedBroker()) {
            b.start();
            java.util.Set<Thread> running = zkThreads();
            running.removeAll(before);
            assertTrue(!running.isEmpty(), "the embedded server and its client run threads");
            b.broker().shutdown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            java.util.Set<Thread> leaked;
            do {
                leaked = zkThreads();
                leaked.removeAll(before);
                if (!leaked.isEmpty()) {
                    leaked.iterator().next().join(200);
                }
            } while (!leaked.isEmpty() && System.nanoTime() < deadline);
            assertTrue(leaked.isEmpty(), "threads left running after shutdown: " + leaked);
        }
    }

    /** Threads of ZooKeeper's server and client, Curator, and the broker's ZooKeeper helpers. */
    private static java.util.Set<Thread> zkThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).filter(t -> {
            String n = t.getName();
            return n.startsWith("weir-zk") || n.startsWith("Curator") || n.contains("SendThread")
                || n.contains("EventThread") || n.startsWith("NIOServerCxn") || n.startsWith("NIOWorker")
                || n.startsWith("SyncThread") || n.startsWith("ProcessThread") || n.startsWith("SessionTracker")
                || n.startsWith("RequestThrottler") || n.startsWith("ConnnectionExpirer")
                || n.startsWith("ConnectionExpirer");
        }).collect(java.util.stream.Collectors.toCollection(java.util.HashSet::new));
    }

    private static long initProducerId(int port) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            ByteBuffer frame = MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.INIT_PRODUCER_ID, (short) 4, 1, "t"),
                new InitProducerIdRequest().setTransactionalId(null).setTransactionTimeoutMs(60_000));
            socket.getOutputStream().write(frame.array(), 0, frame.limit());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] resp = new byte[in.readInt()];
            in.readFully(resp);
            InitProducerIdResponse r = (InitProducerIdResponse) MessageCodec.parseResponse(ApiKeys.INIT_PRODUCER_ID,
                (short) 4, ByteBuffer.wrap(resp)).body();
            assertEquals(Errors.NONE.code(), r.errorCode());
            return r.producerId();
        }
    }
}
