package io.weir.broker;

import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.RawConnection;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.ListOffsetsResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.OffsetForLeaderEpochRequest;
import io.weir.protocol.message.OffsetForLeaderEpochResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.apache.curator.test.TestingServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.weir.broker.testing.ThreeBrokerCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broker with two {@code log.dirs} whose directory fails (JBOD): the fault is real — the directory is
 * renamed away while the broker runs, so the logs' open files still work but the next roll (a new segment
 * file, the topic has tiny segments) fails with an I/O error, as a failed disk would. The failed directory's
 * partitions answer KAFKA_STORAGE_ERROR while the other directory's keep serving; with every directory failed
 * the broker stops; renaming the directories back (the operator's fix) and starting again recovers them.
 */
class BrokerLogDirFailureTest {
    private static final String TOPIC = "jbod";
    private static final int PARTITIONS = 4;
    private static final short PRODUCE_V = 9;
    private static final short FETCH_V = 12;

    private TestingServer zookeeper;
    private EmbeddedBroker embedded;
    private Path dirA;
    private Path dirB;
    private Broker broker;

    @BeforeEach
    void setUp() throws Exception {
        zookeeper = new TestingServer(true);
        embedded = EmbeddedBroker.withLogDirs(Map.of(BrokerConfig.ZOOKEEPER_CONNECT,
            zookeeper.getConnectString() + "/jbod", "controlled.shutdown.enable", "false"), "a", "b");
        dirA = embedded.logDir("a");
        dirB = embedded.logDir("b");
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (embedded != null) {
            embedded.close();
        }
        if (zookeeper != null) {
            zookeeper.close();
        }
    }

    private Broker start() {
        return embedded.start().broker();
    }

    private void createTopic() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + broker.boundPort()))) {
            // every batch after a segment's first rolls a new segment: the next append touches the directory
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1).configs(Map.of("segment.bytes", "100"))))
                .all().get();
        }
        waitUntil(() -> {
            for (int p = 0; p < PARTITIONS; p++) {
                var partition = broker.replicaManager().partition(new TopicPartition(TOPIC, p));
                if (partition == null || !partition.isLeader()) {
                    return false;
                }
            }
            return true;
        }, "every partition led");
    }

    private List<Integer> partitionsIn(Path dir) {
        List<Integer> out = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            if (dir.equals(broker.replicaManager().logManager().logDirOf(new TopicPartition(TOPIC, p)))) {
                out.add(p);
            }
        }
        return out;
    }

    private static Path moveAway(Path dir) throws Exception {
        Path moved = dir.resolveSibling(dir.getFileName() + ".failed");
        Files.move(dir, moved, StandardCopyOption.ATOMIC_MOVE);
        return moved;
    }

    private Errors produce(RawConnection c, int partition, String value) throws Exception {
        ByteBuffer batch = new RecordBatchBuilder(CompressionType.NONE)
            .append(1L, null, value.getBytes(StandardCharsets.UTF_8)).build();
        ProduceResponse r = (ProduceResponse) c.call(ApiKeys.PRODUCE, PRODUCE_V, new ProduceRequest().setAcks((short) 1)
            .setTimeoutMs(5_000).setTopicData(List.of(new ProduceRequest.TopicProduceData().setName(TOPIC)
                .setPartitionData(List.of(new ProduceRequest.PartitionProduceData().setIndex(partition)
                    .setRecords(Records.wrap(batch)))))));
        return Errors.forCode(r.responses().get(0).partitionResponses().get(0).errorCode());
    }

    private FetchResponse.PartitionData fetch(RawConnection c, int partition) throws Exception {
        FetchResponse r = (FetchResponse) c.call(ApiKeys.FETCH, FETCH_V, new FetchRequest().setReplicaId(-1)
            .setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20).setTopics(List.of(new FetchRequest.FetchTopic()
                .setTopic(TOPIC).setPartitions(List.of(new FetchRequest.FetchPartition().setPartition(partition)
                    .setFetchOffset(0).setPartitionMaxBytes(1 << 20))))));
        return r.responses().get(0).partitions().get(0);
    }

    private Errors listOffsets(RawConnection c, int partition) throws Exception {
        ListOffsetsResponse r = (ListOffsetsResponse) c.call(ApiKeys.LIST_OFFSETS, (short) 5, new ListOffsetsRequest()
            .setReplicaId(-1).setTopics(List.of(new ListOffsetsRequest.ListOffsetsTopic().setName(TOPIC)
                .setPartitions(List.of(new ListOffsetsRequest.ListOffsetsPartition().setPartitionIndex(partition)
                    .setCurrentLeaderEpoch(-1).setTimestamp(-1L))))));
        return Errors.forCode(r.topics().get(0).partitions().get(0).errorCode());
    }

    private Errors offsetForLeaderEpoch(RawConnection c, int partition) throws Exception {
        OffsetForLeaderEpochResponse r = (OffsetForLeaderEpochResponse) c.call(ApiKeys.OFFSET_FOR_LEADER_EPOCH, (short) 4,
            new OffsetForLeaderEpochRequest().setReplicaId(-1).setTopics(List.of(
                new OffsetForLeaderEpochRequest.OffsetForLeaderTopic().setTopic(TOPIC).setPartitions(List.of(
                    new OffsetForLeaderEpochRequest.OffsetForLeaderPartition().setPartition(partition)
                        .setCurrentLeaderEpoch(-1).setLeaderEpoch(0))))));
        return Errors.forCode(r.topics().get(0).partitions().get(0).errorCode());
    }

    private MetadataResponse.MetadataResponsePartition metadata(RawConnection c, int partition) {
        MetadataResponse r;
        try {
            r = (MetadataResponse) c.call(ApiKeys.METADATA, (short) 9, new MetadataRequest().setTopics(
            List.of(new MetadataRequest.MetadataRequestTopic().setName(TOPIC))));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return r.topics().get(0).partitions().stream().filter(p -> p.partitionIndex() == partition).findFirst()
            .orElseThrow();
    }

    @Test
    void shouldTakeTheFailedDirectoryOfflineAloneAndKeepServingTheOther() throws Exception {
        broker = start();
        createTopic();
        List<Integer> inA = partitionsIn(dirA);
        List<Integer> inB = partitionsIn(dirB);
        assertEquals(2, inA.size(), "partitions " + inA + " in " + dirA);
        assertEquals(2, inB.size(), "partitions " + inB + " in " + dirB);
        try (RawConnection c = new RawConnection(broker.boundPort())) {
            for (int p = 0; p < PARTITIONS; p++) {
                assertEquals(Errors.NONE, produce(c, p, "before-" + p));
            }
            Path moved = moveAway(dirB);

            // the append rolls, the new segment cannot be created: the produce fails and the directory goes offline
            assertEquals(Errors.KAFKA_STORAGE_ERROR, produce(c, inB.get(0), "lost"));
            waitUntil(() -> inB.stream().allMatch(p -> broker.replicaManager().isOffline(new TopicPartition(TOPIC, p))),
                "the partitions of " + dirB + " taken offline");
            assertTrue(broker.replicaManager().logManager().isOffline(dirB));
            for (int p : inB) {
                assertEquals(Errors.KAFKA_STORAGE_ERROR, produce(c, p, "refused"), "produce to " + p);
                assertEquals(Errors.KAFKA_STORAGE_ERROR, Errors.forCode(fetch(c, p).errorCode()), "fetch of " + p);
                assertEquals(Errors.KAFKA_STORAGE_ERROR, listOffsets(c, p), "list offsets of " + p);
                assertEquals(Errors.KAFKA_STORAGE_ERROR, offsetForLeaderEpoch(c, p), "offset for leader epoch of " + p);
            }
            for (int p : inA) {
                assertEquals(Errors.NONE, produce(c, p, "after-" + p), "the other directory still takes writes");
                FetchResponse.PartitionData d = fetch(c, p);
                assertEquals(Errors.NONE, Errors.forCode(d.errorCode()));
                assertEquals(2, d.highWatermark(), "both records of " + p);
                assertEquals(Errors.NONE, listOffsets(c, p));
                assertEquals(Errors.NONE, offsetForLeaderEpoch(c, p));
            }
            // the controller learned it: no leader for the failed replicas, listed offline
            for (int p : inB) {
                waitUntil(() -> metadata(c, p).offlineReplicas().equals(List.of(0)), "broker 0 offline for " + p);
                assertEquals(-1, metadata(c, p).leaderId());
            }
            for (int p : inA) {
                assertEquals(List.of(), metadata(c, p).offlineReplicas());
                assertEquals(0, metadata(c, p).leaderId());
            }
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    "127.0.0.1:" + broker.boundPort()))) {
                Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0);
                LogDirDescription a = dirs.get(dirA.toAbsolutePath().normalize().toString());
                LogDirDescription b = dirs.get(dirB.toAbsolutePath().normalize().toString());
                assertNull(a.error());
                assertEquals(2, a.replicaInfos().size(), "" + a.replicaInfos());
                assertInstanceOf(KafkaStorageException.class, b.error());
                assertTrue(b.replicaInfos().isEmpty());
            }
            assertTrue(broker.isRunning(), "one directory is still online");

            // the operator's fix: the directory is back; a restart recovers it with what it held
            broker.shutdown();
            Files.move(moved, dirB, StandardCopyOption.ATOMIC_MOVE);
        }
        broker = start();
        waitUntil(() -> inB.stream().allMatch(p -> {
            var partition = broker.replicaManager().partition(new TopicPartition(TOPIC, p));
            return partition != null && partition.isLeader();
        }), "the recovered partitions led again");
        try (RawConnection c = new RawConnection(broker.boundPort())) {
            for (int p : inB) {
                FetchResponse.PartitionData d = fetch(c, p);
                assertEquals(Errors.NONE, Errors.forCode(d.errorCode()));
                assertEquals(1, d.highWatermark(), "the record of " + p + " written before the failure");
                assertEquals(Errors.NONE, produce(c, p, "again-" + p));
                waitUntil(() -> metadata(c, p).offlineReplicas().isEmpty() && metadata(c, p).leaderId() == 0,
                    "broker 0 online again for " + p);
            }
        }
    }

    @Test
    void shouldStopTheBrokerWhenEveryLogDirectoryFailed() throws Exception {
        broker = start();
        createTopic();
        int inA = partitionsIn(dirA).get(0);
        int inB = partitionsIn(dirB).get(0);
        Path movedA;
        Path movedB;
        try (RawConnection c = new RawConnection(broker.boundPort())) {
            assertEquals(Errors.NONE, produce(c, inA, "a"));
            assertEquals(Errors.NONE, produce(c, inB, "b"));
            movedB = moveAway(dirB);
            assertEquals(Errors.KAFKA_STORAGE_ERROR, produce(c, inB, "lost"));
            waitUntil(() -> broker.replicaManager().isOffline(new TopicPartition(TOPIC, inB)), dirB + " offline");
            assertTrue(broker.isRunning());
            movedA = moveAway(dirA);
            try {
                assertEquals(Errors.KAFKA_STORAGE_ERROR, produce(c, inA, "lost"));
            } catch (java.io.IOException e) {
                // the last directory failed on this very produce: the broker may stop before its answer is written
            }
        }
        waitUntil(() -> !broker.isRunning(), "the broker stopped");
        broker.awaitShutdown(); // already stopped: returns at once
        assertTrue(broker.stoppedByLogDirFailure());
        assertFalse(Files.exists(movedA.resolve(io.weir.log.LogManager.CLEAN_SHUTDOWN_FILE)),
            "no clean-shutdown marker in a failed directory");

        Files.move(movedA, dirA, StandardCopyOption.ATOMIC_MOVE);
        Files.move(movedB, dirB, StandardCopyOption.ATOMIC_MOVE);
        broker = start();
        assertFalse(broker.replicaManager().logManager().hadCleanShutdown(), "recovered after the failure");
        waitUntil(() -> {
            var a = broker.replicaManager().partition(new TopicPartition(TOPIC, inA));
            var b = broker.replicaManager().partition(new TopicPartition(TOPIC, inB));
            return a != null && a.isLeader() && b != null && b.isLeader();
        }, "both partitions led again");
        try (RawConnection c = new RawConnection(broker.boundPort())) {
            assertEquals(1, fetch(c, inA).highWatermark());
            assertEquals(1, fetch(c, inB).highWatermark());
            assertEquals(Errors.NONE, produce(c, inA, "a2"));
            assertEquals(Errors.NONE, produce(c, inB, "b2"));
        }
    }

    @Test
    void shouldAbandonAMoveIntoTheFailedDirectoryAndKeepServingTheMovingReplica() throws Exception {
        broker = start();
        createTopic();
        int inA = partitionsIn(dirA).get(0);
        int inB = partitionsIn(dirB).get(0);
        TopicPartition moving = new TopicPartition(TOPIC, inA);
        io.weir.broker.server.LogDirMoverTesting.setPaused(broker, true); // the move stays under way
        try (RawConnection c = new RawConnection(broker.boundPort());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                 "127.0.0.1:" + broker.boundPort()))) {
            assertEquals(Errors.NONE, produce(c, inA, "a"));
            assertEquals(Errors.NONE, produce(c, inB, "b"));
            String b = dirB.toAbsolutePath().normalize().toString();
            admin.alterReplicaLogDirs(Map.of(new org.apache.kafka.common.TopicPartitionReplica(TOPIC, inA, 0), b))
                .all().get();
            assertEquals(1, broker.replicaManager().logDirMover().movesInProgress());

            moveAway(dirB);
            assertEquals(Errors.KAFKA_STORAGE_ERROR, produce(c, inB, "lost"));
            waitUntil(() -> broker.replicaManager().logDirMover().movesInProgress() == 0,
                "the move into the failed " + dirB + " abandoned");
            assertTrue(broker.replicaManager().logManager().isOffline(dirB));
            assertEquals(dirA, broker.replicaManager().logManager().logDirOf(moving));
            assertEquals(Errors.NONE, produce(c, inA, "a2"), "the moving replica keeps serving from its directory");
            assertEquals(2, fetch(c, inA).highWatermark());
            var refused = admin.alterReplicaLogDirs(Map.of(new org.apache.kafka.common.TopicPartitionReplica(TOPIC, inA, 0),
                b)).all();
            java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.ExecutionException.class, refused::get);
            assertInstanceOf(KafkaStorageException.class, e.getCause(), "no move into an offline directory");
        }
    }
}
