package io.weir.protocol;

import io.weir.protocol.message.*;

/**
 * The APIs Weir implements, with the version range of each. This is exactly what a broker
 * advertises in ApiVersions, so an API appears here only when its messages are generated and tested.
 *
 * <p>The ranges come from the generated message classes (one source of truth: the {@code .spec}
 * files). Header versions follow Kafka's rule: flexible versions use request header v2 and response
 * header v1, except that ApiVersions responses always use response header v0 so a client that sent
 * a too-new version can still read the error.
 */
public enum ApiKeys {
    PRODUCE(ProduceRequest.API_KEY, "Produce", ProduceRequest.LOWEST_VERSION, ProduceRequest.HIGHEST_VERSION,
        ProduceRequest.FLEXIBLE_FROM),
    FETCH(FetchRequest.API_KEY, "Fetch", FetchRequest.LOWEST_VERSION, FetchRequest.HIGHEST_VERSION,
        FetchRequest.FLEXIBLE_FROM),
    LIST_OFFSETS(ListOffsetsRequest.API_KEY, "ListOffsets", ListOffsetsRequest.LOWEST_VERSION,
        ListOffsetsRequest.HIGHEST_VERSION, ListOffsetsRequest.FLEXIBLE_FROM),
    METADATA(MetadataRequest.API_KEY, "Metadata", MetadataRequest.LOWEST_VERSION, MetadataRequest.HIGHEST_VERSION,
        MetadataRequest.FLEXIBLE_FROM),
    API_VERSIONS(ApiVersionsRequest.API_KEY, "ApiVersions", ApiVersionsRequest.LOWEST_VERSION,
        ApiVersionsRequest.HIGHEST_VERSION, ApiVersionsRequest.FLEXIBLE_FROM),
    CREATE_TOPICS(CreateTopicsRequest.API_KEY, "CreateTopics", CreateTopicsRequest.LOWEST_VERSION,
        CreateTopicsRequest.HIGHEST_VERSION, CreateTopicsRequest.FLEXIBLE_FROM),
    DELETE_TOPICS(DeleteTopicsRequest.API_KEY, "DeleteTopics", DeleteTopicsRequest.LOWEST_VERSION,
        DeleteTopicsRequest.HIGHEST_VERSION, DeleteTopicsRequest.FLEXIBLE_FROM),
    DESCRIBE_CONFIGS(DescribeConfigsRequest.API_KEY, "DescribeConfigs", DescribeConfigsRequest.LOWEST_VERSION,
        DescribeConfigsRequest.HIGHEST_VERSION, DescribeConfigsRequest.FLEXIBLE_FROM),
    CREATE_PARTITIONS(CreatePartitionsRequest.API_KEY, "CreatePartitions", CreatePartitionsRequest.LOWEST_VERSION,
        CreatePartitionsRequest.HIGHEST_VERSION, CreatePartitionsRequest.FLEXIBLE_FROM),
    INCREMENTAL_ALTER_CONFIGS(IncrementalAlterConfigsRequest.API_KEY, "IncrementalAlterConfigs",
        IncrementalAlterConfigsRequest.LOWEST_VERSION, IncrementalAlterConfigsRequest.HIGHEST_VERSION,
        IncrementalAlterConfigsRequest.FLEXIBLE_FROM),
    OFFSET_COMMIT(OffsetCommitRequest.API_KEY, "OffsetCommit", OffsetCommitRequest.LOWEST_VERSION, OffsetCommitRequest.HIGHEST_VERSION,
        OffsetCommitRequest.FLEXIBLE_FROM),
    OFFSET_FETCH(OffsetFetchRequest.API_KEY, "OffsetFetch", OffsetFetchRequest.LOWEST_VERSION, OffsetFetchRequest.HIGHEST_VERSION,
        OffsetFetchRequest.FLEXIBLE_FROM),
    FIND_COORDINATOR(FindCoordinatorRequest.API_KEY, "FindCoordinator", FindCoordinatorRequest.LOWEST_VERSION, FindCoordinatorRequest.HIGHEST_VERSION,
        FindCoordinatorRequest.FLEXIBLE_FROM),
    JOIN_GROUP(JoinGroupRequest.API_KEY, "JoinGroup", JoinGroupRequest.LOWEST_VERSION, JoinGroupRequest.HIGHEST_VERSION,
        JoinGroupRequest.FLEXIBLE_FROM),
    HEARTBEAT(HeartbeatRequest.API_KEY, "Heartbeat", HeartbeatRequest.LOWEST_VERSION, HeartbeatRequest.HIGHEST_VERSION,
        HeartbeatRequest.FLEXIBLE_FROM),
    LEAVE_GROUP(LeaveGroupRequest.API_KEY, "LeaveGroup", LeaveGroupRequest.LOWEST_VERSION, LeaveGroupRequest.HIGHEST_VERSION,
        LeaveGroupRequest.FLEXIBLE_FROM),
    SYNC_GROUP(SyncGroupRequest.API_KEY, "SyncGroup", SyncGroupRequest.LOWEST_VERSION, SyncGroupRequest.HIGHEST_VERSION,
        SyncGroupRequest.FLEXIBLE_FROM),
    INIT_PRODUCER_ID(InitProducerIdRequest.API_KEY, "InitProducerId", InitProducerIdRequest.LOWEST_VERSION, InitProducerIdRequest.HIGHEST_VERSION,
        InitProducerIdRequest.FLEXIBLE_FROM),
    ADD_OFFSETS_TO_TXN(AddOffsetsToTxnRequest.API_KEY, "AddOffsetsToTxn", AddOffsetsToTxnRequest.LOWEST_VERSION, AddOffsetsToTxnRequest.HIGHEST_VERSION,
        AddOffsetsToTxnRequest.FLEXIBLE_FROM),
    END_TXN(EndTxnRequest.API_KEY, "EndTxn", EndTxnRequest.LOWEST_VERSION, EndTxnRequest.HIGHEST_VERSION,
        EndTxnRequest.FLEXIBLE_FROM),
    TXN_OFFSET_COMMIT(TxnOffsetCommitRequest.API_KEY, "TxnOffsetCommit", TxnOffsetCommitRequest.LOWEST_VERSION, TxnOffsetCommitRequest.HIGHEST_VERSION,
        TxnOffsetCommitRequest.FLEXIBLE_FROM),
    LIST_GROUPS(ListGroupsRequest.API_KEY, "ListGroups", ListGroupsRequest.LOWEST_VERSION, ListGroupsRequest.HIGHEST_VERSION,
        ListGroupsRequest.FLEXIBLE_FROM),
    ADD_PARTITIONS_TO_TXN(AddPartitionsToTxnRequest.API_KEY, "AddPartitionsToTxn", AddPartitionsToTxnRequest.LOWEST_VERSION, AddPartitionsToTxnRequest.HIGHEST_VERSION,
        AddPartitionsToTxnRequest.FLEXIBLE_FROM),
    DESCRIBE_GROUPS(DescribeGroupsRequest.API_KEY, "DescribeGroups", DescribeGroupsRequest.LOWEST_VERSION,
        DescribeGroupsRequest.HIGHEST_VERSION, DescribeGroupsRequest.FLEXIBLE_FROM),
    DELETE_GROUPS(DeleteGroupsRequest.API_KEY, "DeleteGroups", DeleteGroupsRequest.LOWEST_VERSION,
        DeleteGroupsRequest.HIGHEST_VERSION, DeleteGroupsRequest.FLEXIBLE_FROM),
    OFFSET_DELETE(OffsetDeleteRequest.API_KEY, "OffsetDelete", OffsetDeleteRequest.LOWEST_VERSION,
        OffsetDeleteRequest.HIGHEST_VERSION, OffsetDeleteRequest.FLEXIBLE_FROM),
    DESCRIBE_CLUSTER(DescribeClusterRequest.API_KEY, "DescribeCluster", DescribeClusterRequest.LOWEST_VERSION,
        DescribeClusterRequest.HIGHEST_VERSION, DescribeClusterRequest.FLEXIBLE_FROM),
    DELETE_RECORDS(DeleteRecordsRequest.API_KEY, "DeleteRecords", DeleteRecordsRequest.LOWEST_VERSION,
        DeleteRecordsRequest.HIGHEST_VERSION, DeleteRecordsRequest.FLEXIBLE_FROM),
    OFFSET_FOR_LEADER_EPOCH(OffsetForLeaderEpochRequest.API_KEY, "OffsetForLeaderEpoch",
        OffsetForLeaderEpochRequest.LOWEST_VERSION, OffsetForLeaderEpochRequest.HIGHEST_VERSION,
        OffsetForLeaderEpochRequest.FLEXIBLE_FROM),
    ALTER_CONFIGS(AlterConfigsRequest.API_KEY, "AlterConfigs", AlterConfigsRequest.LOWEST_VERSION,
        AlterConfigsRequest.HIGHEST_VERSION, AlterConfigsRequest.FLEXIBLE_FROM),
    ALTER_REPLICA_LOG_DIRS(AlterReplicaLogDirsRequest.API_KEY, "AlterReplicaLogDirs",
        AlterReplicaLogDirsRequest.LOWEST_VERSION, AlterReplicaLogDirsRequest.HIGHEST_VERSION,
        AlterReplicaLogDirsRequest.FLEXIBLE_FROM),
    DESCRIBE_LOG_DIRS(DescribeLogDirsRequest.API_KEY, "DescribeLogDirs", DescribeLogDirsRequest.LOWEST_VERSION,
        DescribeLogDirsRequest.HIGHEST_VERSION, DescribeLogDirsRequest.FLEXIBLE_FROM),
    ALTER_PARTITION_REASSIGNMENTS(AlterPartitionReassignmentsRequest.API_KEY, "AlterPartitionReassignments",
        AlterPartitionReassignmentsRequest.LOWEST_VERSION, AlterPartitionReassignmentsRequest.HIGHEST_VERSION,
        AlterPartitionReassignmentsRequest.FLEXIBLE_FROM),
    LIST_PARTITION_REASSIGNMENTS(ListPartitionReassignmentsRequest.API_KEY, "ListPartitionReassignments",
        ListPartitionReassignmentsRequest.LOWEST_VERSION, ListPartitionReassignmentsRequest.HIGHEST_VERSION,
        ListPartitionReassignmentsRequest.FLEXIBLE_FROM),
    ELECT_LEADERS(ElectLeadersRequest.API_KEY, "ElectLeaders", ElectLeadersRequest.LOWEST_VERSION,
        ElectLeadersRequest.HIGHEST_VERSION, ElectLeadersRequest.FLEXIBLE_FROM),
    WRITE_TXN_MARKERS(WriteTxnMarkersRequest.API_KEY, "WriteTxnMarkers", WriteTxnMarkersRequest.LOWEST_VERSION,
        WriteTxnMarkersRequest.HIGHEST_VERSION, WriteTxnMarkersRequest.FLEXIBLE_FROM),
    ALTER_PARTITION(AlterPartitionRequest.API_KEY, "AlterPartition", AlterPartitionRequest.LOWEST_VERSION,
        AlterPartitionRequest.HIGHEST_VERSION, AlterPartitionRequest.FLEXIBLE_FROM),
    DESCRIBE_PRODUCERS(DescribeProducersRequest.API_KEY, "DescribeProducers", DescribeProducersRequest.LOWEST_VERSION,
        DescribeProducersRequest.HIGHEST_VERSION, DescribeProducersRequest.FLEXIBLE_FROM),
    DESCRIBE_TRANSACTIONS(DescribeTransactionsRequest.API_KEY, "DescribeTransactions",
        DescribeTransactionsRequest.LOWEST_VERSION, DescribeTransactionsRequest.HIGHEST_VERSION,
        DescribeTransactionsRequest.FLEXIBLE_FROM),
    LIST_TRANSACTIONS(ListTransactionsRequest.API_KEY, "ListTransactions", ListTransactionsRequest.LOWEST_VERSION,
        ListTransactionsRequest.HIGHEST_VERSION, ListTransactionsRequest.FLEXIBLE_FROM),
    // the ZooKeeper-mode controller's requests to brokers (last in the enum: ordinals of the others stay put)
    LEADER_AND_ISR(LeaderAndIsrRequest.API_KEY, "LeaderAndIsr", LeaderAndIsrRequest.LOWEST_VERSION,
        LeaderAndIsrRequest.HIGHEST_VERSION, LeaderAndIsrRequest.FLEXIBLE_FROM),
    STOP_REPLICA(StopReplicaRequest.API_KEY, "StopReplica", StopReplicaRequest.LOWEST_VERSION,
        StopReplicaRequest.HIGHEST_VERSION, StopReplicaRequest.FLEXIBLE_FROM),
    UPDATE_METADATA(UpdateMetadataRequest.API_KEY, "UpdateMetadata", UpdateMetadataRequest.LOWEST_VERSION,
        UpdateMetadataRequest.HIGHEST_VERSION, UpdateMetadataRequest.FLEXIBLE_FROM);

    private static final ApiKeys[] BY_ID;

    static {
        int max = 0;
        for (ApiKeys k : values()) {
            max = Math.max(max, k.id);
        }
        BY_ID = new ApiKeys[max + 1];
        for (ApiKeys k : values()) {
            BY_ID[k.id] = k;
        }
    }

    private final short id;
    private final String apiName;
    private final short lowestVersion;
    private final short highestVersion;
    private final short flexibleFrom;

    ApiKeys(short id, String apiName, short lowestVersion, short highestVersion, short flexibleFrom) {
        this.id = id;
        this.apiName = apiName;
        this.lowestVersion = lowestVersion;
        this.highestVersion = highestVersion;
        this.flexibleFrom = flexibleFrom;
    }

    /** The key on the wire. */
    public short id() {
        return id;
    }

    /** The protocol name, e.g. "Produce". */
    public String apiName() {
        return apiName;
    }

    public short lowestVersion() {
        return lowestVersion;
    }

    public short highestVersion() {
        return highestVersion;
    }

    /** First flexible version (compact encodings, tagged fields); Short.MAX_VALUE if never. */
    public short flexibleFrom() {
        return flexibleFrom;
    }

    public boolean isVersionSupported(short version) {
        return version >= lowestVersion && version <= highestVersion;
    }

    public boolean isFlexible(short version) {
        return version >= flexibleFrom;
    }

    /** 2 for flexible versions (tagged fields after the client id), else 1. */
    public short requestHeaderVersion(short version) {
        return isFlexible(version) ? (short) 2 : (short) 1;
    }

    /** 1 for flexible versions, else 0; always 0 for ApiVersions. */
    public short responseHeaderVersion(short version) {
        if (this == API_VERSIONS) {
            return 0;
        }
        return isFlexible(version) ? (short) 1 : (short) 0;
    }

    /** The implemented API with this key, or null if Weir does not implement it. */
    public static ApiKeys forId(short id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
