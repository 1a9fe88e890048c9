package io.weir.broker;

import io.weir.broker.server.Partition;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.RawConnection;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.log.internals.LogSegment;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.message.AlterConfigsRequest;
import io.weir.protocol.message.AlterConfigsResponse;
import io.weir.protocol.message.AlterReplicaLogDirsRequest;
import io.weir.protocol.message.AlterReplicaLogDirsResponse;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.CreateTopicsResponse;
import io.weir.protocol.message.DeleteRecordsRequest;
import io.weir.protocol.message.DeleteRecordsResponse;
import io.weir.protocol.message.DescribeClusterRequest;
import io.weir.protocol.message.DescribeClusterResponse;
import io.weir.protocol.message.DescribeConfigsRequest;
import io.weir.protocol.message.DescribeConfigsResponse;
import io.weir.protocol.message.DescribeLogDirsRequest;
import io.weir.protocol.message.DescribeLogDirsResponse;
import io.weir.protocol.message.ElectLeadersRequest;
import io.weir.protocol.message.ElectLeadersResponse;
import io.weir.protocol.message.IncrementalAlterConfigsRequest;
import io.weir.protocol.message.IncrementalAlterConfigsResponse;
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.ListOffsetsResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.OffsetForLeaderEpochRequest;
import io.weir.protocol.message.OffsetForLeaderEpochResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartitionReplica;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.apache.kafka.common.errors.LogDirNotFoundException;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin APIs Kafka's tools call (DeleteRecords, AlterConfigs, DescribeLogDirs, AlterReplicaLogDirs,
 * ElectLeaders, OffsetForLeaderEpoch) and the authorized-operations answers, on the wire and through
 * kafka-clients' Admin, against one real broker.
 */
class AdminApisTest {
    private static EmbeddedBroker broker;
    private static Admin admin;

    @BeforeAll
    static void start() {
        broker = new EmbeddedBroker().start();
        admin = newAdmin();
    }

    private static Admin newAdmin() {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        return Admin.create(p);
    }

    @AfterAll
    static void stop() {
        admin.close();
        broker.close();
    }

    private ApiMessage call(ApiKeys api, short version, ApiMessage body) throws IOException {
        return RawConnection.callOnce(broker.port(), api, version, body);
    }

    private void createTopic(String name, int partitions, Map<String, String> configs) throws IOException {
        List<CreateTopicsRequest.CreatableTopicConfig> cfg = configs.entrySet().stream()
            .map(e -> new CreateTopicsRequest.CreatableTopicConfig().setName(e.getKey()).setValue(e.getValue())).toList();
        CreateTopicsResponse r = (CreateTopicsResponse) call(ApiKeys.CREATE_TOPICS, (short) 7, new CreateTopicsRequest()
            .setTimeoutMs(5_000).setTopics(List.of(new CreateTopicsRequest.CreatableTopic().setName(name)
                .setNumPartitions(partitions).setReplicationFactor((short) 1).setConfigs(cfg))));
        assertEquals(Errors.NONE.code(), r.topics().get(0).errorCode(), r.topics().get(0).errorMessage());
    }

    /** Produces {@code batches} batches of one keyed record each to partition 0. */
    private void produce(String topic, int batches) throws IOException {
        for (int i = 0; i < batches; i++) {
            ByteBuffer batch = new RecordBatchBuilder(CompressionType.NONE)
                .append(1_000L + i, ("k" + i).getBytes(), new byte[100]).build();
            ProduceResponse r = (ProduceResponse) call(ApiKeys.PRODUCE, (short) 9, new ProduceRequest().setAcks((short) 1)
                .setTimeoutMs(5_000).setTopicData(List.of(new ProduceRequest.TopicProduceData().setName(topic)
                    .setPartitionData(List.of(new ProduceRequest.PartitionProduceData().setIndex(0)
                        .setRecords(Records.wrap(batch)))))));
            assertEquals(Errors.NONE.code(), r.responses().get(0).partitionResponses().get(0).errorCode());
        }
    }

    private DeleteRecordsResponse.DeleteRecordsPartitionResult deleteRecords(String topic, int partition, long offset)
        throws IOException {
        DeleteRecordsResponse r = (DeleteRecordsResponse) call(ApiKeys.DELETE_RECORDS, (short) 2, new DeleteRecordsRequest()
            .setTimeoutMs(5_000).setTopics(List.of(new DeleteRecordsRequest.DeleteRecordsTopic().setName(topic)
                .setPartitions(List.of(new DeleteRecordsRequest.DeleteRecordsPartition().setPartitionIndex(partition)
                    .setOffset(offset))))));
        return r.topics().get(0).partitions().get(0);
    }

    private long earliest(String topic) throws IOException {
        ListOffsetsResponse r = (ListOffsetsResponse) call(ApiKeys.LIST_OFFSETS, (short) 7, new ListOffsetsRequest()
            .setReplicaId(-1).setTopics(List.of(new ListOffsetsRequest.ListOffsetsTopic().setName(topic)
                .setPartitions(List.of(new ListOffsetsRequest.ListOffsetsPartition().setPartitionIndex(0)
                    .setTimestamp(-2))))));
        return r.topics().get(0).partitions().get(0).offset();
    }

    private static Partition partition(String topic) {
        return broker.broker().replicaManager().partition(new TopicPartition(topic, 0));
    }

    // ------------------------------------------------------------------------------ DeleteRecords

    @Test
    void deleteRecordsShouldMoveTheLogStartDropWholeSegmentsAndSurviveRestart() throws Exception {
        createTopic("dr", 1, Map.of("segment.bytes", "400"));
        produce("dr", 12);
        int segmentsBefore = partition("dr").log().numberOfSegments();
        assertTrue(segmentsBefore > 3, "segments " + segmentsBefore);

        DeleteRecordsResponse.DeleteRecordsPartitionResult r = deleteRecords("dr", 0, 7);
        assertEquals(Errors.NONE.code(), r.errorCode());
        assertEquals(7, r.lowWatermark());
        assertEquals(7, earliest("dr"));
        List<LogSegment> segments = partition("dr").log().segments();
        assertTrue(segments.get(0).baseOffset() <= 7, "the segment holding offset 7 stays");
        assertTrue(segments.size() < segmentsBefore, "whole segments below the new start are gone");
        assertTrue(segments.size() < 2 || segments.get(1).baseOffset() > 7);

        // a smaller offset changes nothing; -1 means the high watermark
        assertEquals(7, deleteRecords("dr", 0, 3).lowWatermark());
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), deleteRecords("dr", 0, 13).errorCode());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), deleteRecords("dr", 5, 1).errorCode());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), deleteRecords("nope", 0, 1).errorCode());
        assertEquals(10, deleteRecords("dr", 0, 10).lowWatermark());

        admin.close();
        broker.restart();
        admin = newAdmin();
        assertEquals(10, earliest("dr"));
        assertEquals(12, deleteRecords("dr", 0, -1).lowWatermark());
        assertEquals(12, earliest("dr"));
    }

    @Test
    void deleteRecordsShouldRefuseACompactedTopic() throws Exception {
        createTopic("dr-compact", 1, Map.of("cleanup.policy", "compact"));
        produce("dr-compact", 2);
        assertEquals(Errors.POLICY_VIOLATION.code(), deleteRecords("dr-compact", 0, 1).errorCode());
        assertEquals(0, earliest("dr-compact"));
    }

    @Test
    void adminDeleteRecordsShouldReportLowWatermarksAndErrors() throws Exception {
        createTopic("dr-admin", 1, Map.of());
        produce("dr-admin", 5);
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition("dr-admin", 0);
        assertEquals(3, admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(3))).lowWatermarks().get(tp).get()
            .lowWatermark());
        ExecutionException tooFar = assertThrows(ExecutionException.class, () -> admin.deleteRecords(
            Map.of(tp, RecordsToDelete.beforeOffset(99))).lowWatermarks().get(tp).get());
        assertInstanceOf(OffsetOutOfRangeException.class, tooFar.getCause());
        createTopic("dr-admin-compact", 1, Map.of("cleanup.policy", "compact"));
        org.apache.kafka.common.TopicPartition compacted = new org.apache.kafka.common.TopicPartition("dr-admin-compact", 0);
        ExecutionException policy = assertThrows(ExecutionException.class, () -> admin.deleteRecords(
            Map.of(compacted, RecordsToDelete.beforeOffset(0))).lowWatermarks().get(compacted).get());
        assertInstanceOf(PolicyViolationException.class, policy.getCause());
    }

    // ------------------------------------------------------------------------------ OffsetForLeaderEpoch

    private OffsetForLeaderEpochResponse.EpochEndOffset epochEnd(String topic, int partition, int current, int epoch)
        throws IOException {
        OffsetForLeaderEpochResponse r = (OffsetForLeaderEpochResponse) call(ApiKeys.OFFSET_FOR_LEADER_EPOCH, (short) 4,
            new OffsetForLeaderEpochRequest().setReplicaId(-1).setTopics(List.of(
                new OffsetForLeaderEpochRequest.OffsetForLeaderTopic().setTopic(topic).setPartitions(List.of(
                    new OffsetForLeaderEpochRequest.OffsetForLeaderPartition().setPartition(partition)
                        .setCurrentLeaderEpoch(current).setLeaderEpoch(epoch))))));
        return r.topics().get(0).partitions().get(0);
    }

    @Test
    void offsetForLeaderEpochShouldAnswerFromTheLogsEpochCache() throws Exception {
        createTopic("ofle", 1, Map.of());
        OffsetForLeaderEpochResponse.EpochEndOffset empty = epochEnd("ofle", 0, 0, 0);
        assertEquals(Errors.NONE.code(), empty.errorCode());
        assertEquals(0, empty.leaderEpoch());
        assertEquals(0, empty.endOffset());
        produce("ofle", 3);
        OffsetForLeaderEpochResponse.EpochEndOffset e = epochEnd("ofle", 0, -1, 0);
        assertEquals(0, e.leaderEpoch());
        assertEquals(3, e.endOffset());
        assertEquals(Map.of(0, 0L), partition("ofle").log().leaderEpochEntries());
        OffsetForLeaderEpochResponse.EpochEndOffset newer = epochEnd("ofle", 0, -1, 4);
        assertEquals(-1, newer.leaderEpoch());
        assertEquals(-1, newer.endOffset());
        assertEquals(Errors.UNKNOWN_LEADER_EPOCH.code(), epochEnd("ofle", 0, 1, 0).errorCode());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), epochEnd("ofle", 3, -1, 0).errorCode());
    }

    @Test
    void kafkaConsumerShouldValidateASeekedPositionWithOffsetForLeaderEpoch() throws Exception {
        createTopic("validate", 1, Map.of());
        produce("validate", 5);
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("auto.offset.reset", "none");
        p.put("enable.auto.commit", "false");
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition("validate", 0);
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> c = new org.apache.kafka.clients.consumer
                .KafkaConsumer<>(p, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                    new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            c.assign(List.of(tp));
            // a position inside epoch 0's range validates, and fetching goes on from it
            c.seek(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(3, Optional.of(0), ""));
            List<Long> offsets = new java.util.ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (offsets.size() < 2 && System.currentTimeMillis() < deadline) {
                c.poll(java.time.Duration.ofMillis(100)).forEach(r -> offsets.add(r.offset()));
            }
            assertEquals(List.of(3L, 4L), offsets);

            // a position past where epoch 0 ended is a truncated log: Kafka's consumer says so
            c.seek(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(9, Optional.of(0), ""));
            org.apache.kafka.clients.consumer.LogTruncationException truncated = assertThrows(
                org.apache.kafka.clients.consumer.LogTruncationException.class, () -> {
                    long until = System.currentTimeMillis() + 30_000;
                    while (System.currentTimeMillis() < until) {
                        c.poll(java.time.Duration.ofMillis(100));
                    }
                });
            assertEquals(5L, truncated.divergentOffsets().get(tp).offset());
        }
    }

    // ------------------------------------------------------------------------------ ElectLeaders

    @Test
    void electLeadersShouldAnswerElectionNotNeededPerPartition() throws Exception {
        createTopic("elect", 2, Map.of());
        ElectLeadersResponse r = (ElectLeadersResponse) call(ApiKeys.ELECT_LEADERS, (short) 2, new ElectLeadersRequest()
            .setElectionType((byte) 0).setTopicPartitions(List.of(
                new ElectLeadersRequest.TopicPartitions().setTopic("elect").setPartitions(List.of(0, 1, 7)),
                new ElectLeadersRequest.TopicPartitions().setTopic("missing").setPartitions(List.of(0)))));
        assertEquals(Errors.NONE.code(), r.errorCode());
        List<ElectLeadersResponse.PartitionResult> elect = r.replicaElectionResults().get(0).partitionResult();
        assertEquals(Errors.ELECTION_NOT_NEEDED.code(), elect.get(0).errorCode());
        assertEquals(Errors.ELECTION_NOT_NEEDED.code(), elect.get(1).errorCode());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), elect.get(2).errorCode());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(),
            r.replicaElectionResults().get(1).partitionResult().get(0).errorCode());

        ElectLeadersResponse all = (ElectLeadersResponse) call(ApiKeys.ELECT_LEADERS, (short) 1,
            new ElectLeadersRequest().setElectionType((byte) 1).setTopicPartitions(null));
        assertEquals(Errors.NONE.code(), all.errorCode());
        assertTrue(all.replicaElectionResults().isEmpty());

        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition("elect", 1);
        Map<org.apache.kafka.common.TopicPartition, Optional<Throwable>> viaAdmin =
            admin.electLeaders(ElectionType.PREFERRED, Set.of(tp)).partitions().get();
        assertInstanceOf(ElectionNotNeededException.class, viaAdmin.get(tp).orElseThrow());
        assertTrue(admin.electLeaders(ElectionType.UNCLEAN, null).partitions().get().isEmpty());
    }

    // ------------------------------------------------------------------------------ log dirs

    @Test
    void describeLogDirsShouldListEachPartitionsSizeAndLag() throws Exception {
        createTopic("dirs", 2, Map.of());
        produce("dirs", 4);
        DescribeLogDirsResponse r = (DescribeLogDirsResponse) call(ApiKeys.DESCRIBE_LOG_DIRS, (short) 4,
            new DescribeLogDirsRequest().setTopics(List.of(new DescribeLogDirsRequest.DescribableLogDirTopic()
                .setTopic("dirs").setPartitions(List.of(0, 1)))));
        assertEquals(1, r.results().size());
        DescribeLogDirsResponse.DescribeLogDirsResult dir = r.results().get(0);
        assertEquals(broker.logDir().toAbsolutePath().normalize().toString(), dir.logDir());
        assertTrue(dir.totalBytes() > 0 && dir.usableBytes() >= 0);
        assertEquals(1, dir.topics().size());
        List<DescribeLogDirsResponse.DescribeLogDirsPartition> parts = dir.topics().get(0).partitions();
        assertEquals(2, parts.size());
        assertEquals(partition("dirs").log().sizeInBytes(), parts.get(0).partitionSize());
        assertTrue(parts.get(0).partitionSize() > 0);
        assertEquals(0, parts.get(1).partitionSize());
        assertEquals(0, parts.get(0).offsetLag());

        Map<Integer, Map<String, LogDirDescription>> viaAdmin = admin.describeLogDirs(List.of(0)).allDescriptions().get();
        LogDirDescription d = viaAdmin.get(0).get(dir.logDir());
        ReplicaInfo info = d.replicaInfos().get(new org.apache.kafka.common.TopicPartition("dirs", 0));
        assertEquals(parts.get(0).partitionSize(), info.size());
        assertFalse(info.isFuture());
        assertEquals(dir.logDir(), admin.describeReplicaLogDirs(List.of(new TopicPartitionReplica("dirs", 0, 0)))
            .all().get().get(new TopicPartitionReplica("dirs", 0, 0)).getCurrentReplicaLogDir());
    }

    @Test
    void alterReplicaLogDirsShouldAnswerPerPartition() throws Exception {
        createTopic("move", 1, Map.of());
        String own = broker.logDir().toAbsolutePath().toString();
        AlterReplicaLogDirsResponse r = (AlterReplicaLogDirsResponse) call(ApiKeys.ALTER_REPLICA_LOG_DIRS, (short) 2,
            new AlterReplicaLogDirsRequest().setDirs(List.of(
                new AlterReplicaLogDirsRequest.AlterReplicaLogDir().setPath(own).setTopics(List.of(
                    new AlterReplicaLogDirsRequest.AlterReplicaLogDirTopic().setName("move").setPartitions(List.of(0, 4)))),
                new AlterReplicaLogDirsRequest.AlterReplicaLogDir().setPath("/no/such/dir").setTopics(List.of(
                    new AlterReplicaLogDirsRequest.AlterReplicaLogDirTopic().setName("other").setPartitions(List.of(0)))))));
        assertEquals(Errors.NONE.code(), r.results().get(0).partitions().get(0).errorCode());
        assertEquals(Errors.REPLICA_NOT_AVAILABLE.code(), r.results().get(0).partitions().get(1).errorCode());
        assertEquals(Errors.LOG_DIR_NOT_FOUND.code(), r.results().get(1).partitions().get(0).errorCode());

        admin.alterReplicaLogDirs(Map.of(new TopicPartitionReplica("move", 0, 0), own)).all().get();
        ExecutionException e = assertThrows(ExecutionException.class, () -> admin.alterReplicaLogDirs(
            Map.of(new TopicPartitionReplica("move", 0, 0), "/elsewhere")).all().get());
        assertInstanceOf(LogDirNotFoundException.class, e.getCause());
    }

    // ------------------------------------------------------------------------------ AlterConfigs (legacy)

    private Map<String, DescribeConfigsResponse.DescribeConfigsResourceResult> describeTopic(String topic) throws IOException {
        DescribeConfigsResponse r = (DescribeConfigsResponse) call(ApiKeys.DESCRIBE_CONFIGS, (short) 4,
            new DescribeConfigsRequest().setResources(List.of(new DescribeConfigsRequest.DescribeConfigsResource()
                .setResourceType((byte) 2).setResourceName(topic).setConfigurationKeys(null))));
        Map<String, DescribeConfigsResponse.DescribeConfigsResourceResult> out = new java.util.HashMap<>();
        r.results().get(0).configs().forEach(c -> out.put(c.name(), c));
        return out;
    }

    @Test
    void legacyAlterConfigsShouldReplaceTheWholeSetOfOverrides() throws Exception {
        createTopic("legacy", 1, Map.of("retention.ms", "1000"));
        AlterConfigsResponse r = (AlterConfigsResponse) call(ApiKeys.ALTER_CONFIGS, (short) 1, new AlterConfigsRequest()
            .setResources(List.of(new AlterConfigsRequest.AlterConfigsResource().setResourceType((byte) 2)
                .setResourceName("legacy").setConfigs(List.of(
                    new AlterConfigsRequest.AlterableConfig().setName("segment.ms").setValue("60000"))))));
        assertEquals(Errors.NONE.code(), r.responses().get(0).errorCode());
        Map<String, DescribeConfigsResponse.DescribeConfigsResourceResult> cfg = describeTopic("legacy");
        assertEquals("60000", cfg.get("segment.ms").value());
        assertEquals(1, cfg.get("segment.ms").configSource()); // DYNAMIC_TOPIC_CONFIG
        assertEquals(5, cfg.get("retention.ms").configSource()); // back to DEFAULT_CONFIG
        assertEquals(60000, partition("legacy").log().config().segmentMs);

        AlterConfigsResponse bad = (AlterConfigsResponse) call(ApiKeys.ALTER_CONFIGS, (short) 2, new AlterConfigsRequest()
            .setResources(List.of(
                new AlterConfigsRequest.AlterConfigsResource().setResourceType((byte) 2).setResourceName("legacy")
                    .setConfigs(List.of(new AlterConfigsRequest.AlterableConfig().setName("segment.ms").setValue("x"))),
                new AlterConfigsRequest.AlterConfigsResource().setResourceType((byte) 2).setResourceName("nope")
                    .setConfigs(List.of()),
                new AlterConfigsRequest.AlterConfigsResource().setResourceType((byte) 4).setResourceName("0")
                    .setConfigs(List.of()))));
        assertEquals(Errors.INVALID_CONFIG.code(), bad.responses().get(0).errorCode());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), bad.responses().get(1).errorCode());
        assertEquals(Errors.INVALID_REQUEST.code(), bad.responses().get(2).errorCode());
        assertEquals("60000", describeTopic("legacy").get("segment.ms").value());
    }

    // ------------------------------------------------------------------------------ authorized operations (bug 5)

    private static int bits(AclOperation... ops) {
        int b = 0;
        for (AclOperation op : ops) {
            b |= 1 << op.code();
        }
        return b;
    }

    private static final int TOPIC_OPS = bits(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE,
        AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS,
        AclOperation.ALTER_CONFIGS);
    private static final int CLUSTER_OPS = bits(AclOperation.CREATE, AclOperation.CLUSTER_ACTION,
        AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER,
        AclOperation.DESCRIBE);

    @Test
    void shouldReportEveryOperationAllowedWhenAsked() throws Exception {
        createTopic("ops", 1, Map.of());
        MetadataResponse m = (MetadataResponse) call(ApiKeys.METADATA, (short) 10, new MetadataRequest()
            .setTopics(List.of(new MetadataRequest.MetadataRequestTopic().setName("ops")))
            .setIncludeClusterAuthorizedOperations(true).setIncludeTopicAuthorizedOperations(true));
        assertEquals(TOPIC_OPS, m.topics().get(0).topicAuthorizedOperations());
        assertEquals(CLUSTER_OPS, m.clusterAuthorizedOperations());
        MetadataResponse notAsked = (MetadataResponse) call(ApiKeys.METADATA, (short) 12, new MetadataRequest()
            .setTopics(List.of(new MetadataRequest.MetadataRequestTopic().setName("ops"))));
        assertEquals(Integer.MIN_VALUE, notAsked.topics().get(0).topicAuthorizedOperations());

        DescribeClusterResponse c = (DescribeClusterResponse) call(ApiKeys.DESCRIBE_CLUSTER, (short) 1,
            new DescribeClusterRequest().setIncludeClusterAuthorizedOperations(true));
        assertEquals(CLUSTER_OPS, c.clusterAuthorizedOperations());

        Set<AclOperation> clusterOps = admin.describeCluster(new DescribeClusterOptions().includeAuthorizedOperations(true))
            .authorizedOperations().get();
        assertEquals(EnumSet.of(AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER, AclOperation.DESCRIBE), clusterOps);
        Set<AclOperation> topicOps = admin.describeTopics(List.of("ops"),
            new DescribeTopicsOptions().includeAuthorizedOperations(true)).allTopicNames().get().get("ops")
            .authorizedOperations();
        assertEquals(EnumSet.of(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DESCRIBE,
            AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS), topicOps);
        assertNull(admin.describeCluster().authorizedOperations().get());
    }
}
