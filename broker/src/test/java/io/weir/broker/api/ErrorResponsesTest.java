package io.weir.broker.api;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.LocalMetadataStore;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicConfigs;
import io.weir.broker.server.TopicService;
import io.weir.common.testing.MockTime;
import io.weir.log.LogManager;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.CreatePartitionsRequest;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.DeleteGroupsRequest;
import io.weir.protocol.message.DeleteTopicsRequest;
import io.weir.protocol.message.DescribeConfigsRequest;
import io.weir.protocol.message.DescribeGroupsRequest;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.IncrementalAlterConfigsRequest;
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.OffsetCommitRequest;
import io.weir.protocol.message.OffsetFetchRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every API and version the broker registers can answer with an error: the handler's error response
 * for a request with one item per list (and for an empty one) serializes at the request's version
 * and reads back. This is the path a handler bug takes, so it must never fail itself.
 */
class ErrorResponsesTest {
    @TempDir
    Path dir;
    private LogManager logManager;

    @AfterEach
    void close() {
        if (logManager != null) {
            logManager.close();
        }
    }

    private ApiHandlerRegistry brokerRegistry() {
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, dir.toString()));
        TopicConfigs topicConfigs = new TopicConfigs(config);
        LocalMetadataStore store = new LocalMetadataStore(dir, null);
        logManager = LogManager.open(dir, topicConfigs.defaultLogConfig(), Map.of(), new MockTime());
        ReplicaManager rm = new ReplicaManager(0, logManager, topicConfigs);
        TopicService topics = new TopicService(config, store, rm, topicConfigs);
        BrokerConfig.Endpoint advertised = config.advertisedListeners().get(0);
        return ApiHandlerRegistry.builder()
            .register(new ProduceHandler(rm, null))
            .register(new FetchHandler(store, rm, new FetchSessionCache(1), null))
            .register(new ListOffsetsHandler(rm))
            .register(new MetadataHandler(config, store, rm, topics, advertised))
            .register(new TopicAdminHandler(config, store, topics))
            .register(new ConfigsHandler(config, store, topics))
            .register(new ClusterHandler(config, store, advertised))
            .register(new DeleteRecordsHandler(rm))
            .register(new LogDirsHandler(rm))
            .register(new ElectLeadersHandler(store, rm))
            .register(new OffsetForLeaderEpochHandler(rm))
            .register(new ProducerIdHandler(null))
            .register(new GroupApisHandler(null))
            .register(new TransactionApisHandler(null, null, null, null, (short) 2))
            .register(new DescribeProducersHandler(rm))
            .register(new AlterPartitionHandler(null)) // error responses need no controller
            .register(new ControllerApisHandler(null))
            .register(new PartitionReassignmentsHandler(null))
            .build();
    }

    /** A request of {@code api} with one item in each list the error response walks. */
    private static ApiMessage populated(ApiKeys api) throws ReflectiveOperationException {
        return switch (api) {
            case LIST_OFFSETS -> new ListOffsetsRequest().setTopics(List.of(new ListOffsetsRequest.ListOffsetsTopic()
                .setName("t").setPartitions(List.of(new ListOffsetsRequest.ListOffsetsPartition().setPartitionIndex(1)))));
            case METADATA -> new MetadataRequest().setTopics(List.of(
                new MetadataRequest.MetadataRequestTopic().setName("t"),
                new MetadataRequest.MetadataRequestTopic().setName(null).setTopicId(UUID.randomUUID())));
            case CREATE_TOPICS -> new CreateTopicsRequest().setTopics(List.of(
                new CreateTopicsRequest.CreatableTopic().setName("t")));
            case DELETE_TOPICS -> new DeleteTopicsRequest().setTopicNames(List.of("t")).setTopics(List.of(
                new DeleteTopicsRequest.DeleteTopicState().setName("t"),
                new DeleteTopicsRequest.DeleteTopicState().setName(null).setTopicId(UUID.randomUUID())));
            case CREATE_PARTITIONS -> new CreatePartitionsRequest().setTopics(List.of(
                new CreatePartitionsRequest.CreatePartitionsTopic().setName("t").setCount(3)));
            case DESCRIBE_CONFIGS -> new DescribeConfigsRequest().setResources(List.of(
                new DescribeConfigsRequest.DescribeConfigsResource().setResourceType((byte) 2).setResourceName("t")));
            case INCREMENTAL_ALTER_CONFIGS -> new IncrementalAlterConfigsRequest().setResources(List.of(
                new IncrementalAlterConfigsRequest.AlterConfigsResource().setResourceType((byte) 2).setResourceName("t")));
            case FIND_COORDINATOR -> new FindCoordinatorRequest().setKey("g").setCoordinatorKeys(List.of("g", "h"));
            case OFFSET_COMMIT -> new OffsetCommitRequest().setGroupId("g").setTopics(List.of(
                new OffsetCommitRequest.OffsetCommitRequestTopic().setName("t").setPartitions(List.of(
                    new OffsetCommitRequest.OffsetCommitRequestPartition().setPartitionIndex(0)))));
            case OFFSET_FETCH -> new OffsetFetchRequest().setGroupId("g")
                .setTopics(List.of(new OffsetFetchRequest.OffsetFetchRequestTopic().setName("t")
                    .setPartitionIndexes(List.of(0, 1))))
                .setGroups(List.of(new OffsetFetchRequest.OffsetFetchRequestGroup().setGroupId("g")));
            case DESCRIBE_GROUPS -> new DescribeGroupsRequest().setGroups(List.of("g"));
            case DELETE_GROUPS -> new DeleteGroupsRequest().setGroupsNames(List.of("g"));
            case ADD_PARTITIONS_TO_TXN -> new io.weir.protocol.message.AddPartitionsToTxnRequest()
                .setV3AndBelowTopics(List.of(new io.weir.protocol.message.AddPartitionsToTxnRequest
                    .AddPartitionsToTxnTopic().setName("t").setPartitions(List.of(0, 1))))
                .setTransactions(List.of(new io.weir.protocol.message.AddPartitionsToTxnRequest
                    .AddPartitionsToTxnTransaction().setTransactionalId("x")));
            case TXN_OFFSET_COMMIT -> new io.weir.protocol.message.TxnOffsetCommitRequest().setTopics(List.of(
                new io.weir.protocol.message.TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic().setName("t")
                    .setPartitions(List.of(new io.weir.protocol.message.TxnOffsetCommitRequest
                        .TxnOffsetCommitRequestPartition().setPartitionIndex(0)))));
            case WRITE_TXN_MARKERS -> new io.weir.protocol.message.WriteTxnMarkersRequest().setMarkers(List.of(
                new io.weir.protocol.message.WriteTxnMarkersRequest.WritableTxnMarker().setTopics(List.of(
                    new io.weir.protocol.message.WriteTxnMarkersRequest.WritableTxnMarkerTopic().setName("t")
                        .setPartitionIndexes(List.of(0))))));
            case DESCRIBE_TRANSACTIONS -> new io.weir.protocol.message.DescribeTransactionsRequest()
                .setTransactionalIds(List.of("x"));
            case DESCRIBE_PRODUCERS -> new io.weir.protocol.message.DescribeProducersRequest().setTopics(List.of(
                new io.weir.protocol.message.DescribeProducersRequest.TopicRequest().setName("t")
                    .setPartitionIndexes(List.of(0))));
            case DELETE_RECORDS -> new io.weir.protocol.message.DeleteRecordsRequest().setTopics(List.of(
                new io.weir.protocol.message.DeleteRecordsRequest.DeleteRecordsTopic().setName("t").setPartitions(List.of(
                    new io.weir.protocol.message.DeleteRecordsRequest.DeleteRecordsPartition().setPartitionIndex(1)))));
            case OFFSET_FOR_LEADER_EPOCH -> new io.weir.protocol.message.OffsetForLeaderEpochRequest().setTopics(List.of(
                new io.weir.protocol.message.OffsetForLeaderEpochRequest.OffsetForLeaderTopic().setTopic("t").setPartitions(
                    List.of(new io.weir.protocol.message.OffsetForLeaderEpochRequest.OffsetForLeaderPartition()))));
            case ALTER_CONFIGS -> new io.weir.protocol.message.AlterConfigsRequest().setResources(List.of(
                new io.weir.protocol.message.AlterConfigsRequest.AlterConfigsResource().setResourceType((byte) 2)
                    .setResourceName("t")));
            case ALTER_REPLICA_LOG_DIRS -> new io.weir.protocol.message.AlterReplicaLogDirsRequest().setDirs(List.of(
                new io.weir.protocol.message.AlterReplicaLogDirsRequest.AlterReplicaLogDir().setPath("/d").setTopics(List.of(
                    new io.weir.protocol.message.AlterReplicaLogDirsRequest.AlterReplicaLogDirTopic().setName("t")
                        .setPartitions(List.of(0))))));
            case ALTER_PARTITION -> new io.weir.protocol.message.AlterPartitionRequest().setTopics(List.of(
                new io.weir.protocol.message.AlterPartitionRequest.TopicData().setTopicId(UUID.randomUUID()).setPartitions(
                    List.of(new io.weir.protocol.message.AlterPartitionRequest.PartitionData().setNewIsr(List.of(0))))));
            case ALTER_PARTITION_REASSIGNMENTS -> new io.weir.protocol.message.AlterPartitionReassignmentsRequest().setTopics(
                List.of(new io.weir.protocol.message.AlterPartitionReassignmentsRequest.ReassignableTopic().setName("t")
                    .setPartitions(List.of(new io.weir.protocol.message.AlterPartitionReassignmentsRequest
                        .ReassignablePartition().setPartitionIndex(0).setReplicas(List.of(1, 2))))));
            case ELECT_LEADERS -> new io.weir.protocol.message.ElectLeadersRequest().setTopicPartitions(List.of(
                new io.weir.protocol.message.ElectLeadersRequest.TopicPartitions().setTopic("t").setPartitions(List.of(0))));
            case LEADER_AND_ISR -> new io.weir.protocol.message.LeaderAndIsrRequest().setTopicStates(List.of(
                new io.weir.protocol.message.LeaderAndIsrRequest.LeaderAndIsrTopicState().setTopicName("t")
                    .setTopicId(UUID.randomUUID()).setPartitionStates(List.of(
                        new io.weir.protocol.message.LeaderAndIsrRequest.LeaderAndIsrPartitionState().setPartitionIndex(1)))));
            case STOP_REPLICA -> new io.weir.protocol.message.StopReplicaRequest().setTopicStates(List.of(
                new io.weir.protocol.message.StopReplicaRequest.StopReplicaTopicState().setTopicName("t")
                    .setPartitionStates(List.of(
                        new io.weir.protocol.message.StopReplicaRequest.StopReplicaPartitionState().setPartitionIndex(1)))));
            default -> empty(api);
        };
    }

    private static ApiMessage empty(ApiKeys api) throws ReflectiveOperationException {
        return (ApiMessage) Class.forName("io.weir.protocol.message." + api.apiName() + "Request")
            .getDeclaredConstructor().newInstance();
    }

    @Test
    void shouldBuildAWritableErrorResponseForEveryRegisteredApiAndVersion() throws Exception {
        ApiHandlerRegistry registry = brokerRegistry();
        int checked = 0;
        for (Map.Entry<ApiKeys, VersionRange> e : registry.apis().entrySet()) {
            ApiKeys api = e.getKey();
            for (short v = e.getValue().min(); v <= e.getValue().max(); v++) {
                RequestHeader header = RequestHeader.of(api, v, 42, "c");
                for (ApiMessage body : List.of(populated(api), empty(api))) {
                    ApiMessage resp = registry.handlerFor(api, v).errorResponse(header, body, Errors.UNKNOWN_SERVER_ERROR);
                    if (api == ApiKeys.PRODUCE) {
                        continue; // acks=0 by default: no response (checked in RequestDispatcherTest)
                    }
                    short version = v;
                    ByteBuffer frame = assertDoesNotThrow(() -> MessageCodec.serializeResponse(header, resp),
                        api.apiName() + " v" + v);
                    frame.getInt();
                    MessageCodec.ParsedResponse parsed = MessageCodec.parseResponse(api, version, frame.slice());
                    assertEquals(42, parsed.correlationId());
                    checked++;
                }
            }
        }
        assertTrue(checked > 100, "checked " + checked);
    }
}
