package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.RawConnection;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.message.AddPartitionsToTxnRequest;
import io.weir.protocol.message.AddPartitionsToTxnResponse;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.DescribeTransactionsRequest;
import io.weir.protocol.message.DescribeTransactionsResponse;
import io.weir.protocol.message.EndTxnRequest;
import io.weir.protocol.message.EndTxnResponse;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.FindCoordinatorResponse;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import io.weir.protocol.message.ListTransactionsRequest;
import io.weir.protocol.message.ListTransactionsResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import io.weir.protocol.message.WriteTxnMarkersRequest;
import io.weir.protocol.message.WriteTxnMarkersResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad transactional input on the wire gets Kafka's error codes for the request's version, nothing is
 * appended, and the connection keeps serving.
 */
class TransactionProtocolErrorsTest {
    private EmbeddedBroker broker;
    private RawConnection connection;

    @BeforeEach
    void start() throws IOException {
        broker = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "2",
            "transaction.max.timeout.ms", "60000", "group.initial.rebalance.delay.ms", "0")).start();
        connection = new RawConnection(broker.port());
        call(ApiKeys.CREATE_TOPICS, (short) 7, new CreateTopicsRequest().setTimeoutMs(5_000).setTopics(List.of(
            new CreateTopicsRequest.CreatableTopic().setName("e").setNumPartitions(1).setReplicationFactor((short) 1))));
        FindCoordinatorResponse fc = (FindCoordinatorResponse) call(ApiKeys.FIND_COORDINATOR, (short) 4,
            new FindCoordinatorRequest().setKeyType((byte) 1).setCoordinatorKeys(List.of("raw-txn")));
        assertEquals(Errors.NONE.code(), fc.coordinators().get(0).errorCode());
        assertEquals(broker.port(), fc.coordinators().get(0).port());
    }

    @AfterEach
    void stop() throws IOException {
        connection.close();
        broker.close();
    }

    private ApiMessage call(ApiKeys api, short version, ApiMessage body) throws IOException {
        return connection.call(api, version, body);
    }

    private InitProducerIdResponse init(String id, int timeoutMs) throws IOException {
        return (InitProducerIdResponse) call(ApiKeys.INIT_PRODUCER_ID, (short) 4, new InitProducerIdRequest()
            .setTransactionalId(id).setTransactionTimeoutMs(timeoutMs));
    }

    private short endTxn(short version, String id, long pid, short epoch, boolean commit) throws IOException {
        return ((EndTxnResponse) call(ApiKeys.END_TXN, version, new EndTxnRequest().setTransactionalId(id)
            .setProducerId(pid).setProducerEpoch(epoch).setCommitted(commit))).errorCode();
    }

    private short produce(short version, String id, long pid, short epoch) throws IOException {
        ByteBuffer batch = new RecordBatchBuilder(CompressionType.NONE).producer(pid, epoch, 0).transactional(true)
            .append(1L, (byte[]) null, "v".getBytes(StandardCharsets.UTF_8)).build();
        ProduceResponse r = (ProduceResponse) call(ApiKeys.PRODUCE, version, new ProduceRequest().setTransactionalId(id)
            .setAcks((short) -1).setTimeoutMs(5_000).setTopicData(List.of(new ProduceRequest.TopicProduceData()
                .setName("e").setPartitionData(List.of(new ProduceRequest.PartitionProduceData().setIndex(0)
                    .setRecords(Records.wrap(batch)))))));
        return r.responses().get(0).partitionResponses().get(0).errorCode();
    }

    private long logEnd() {
        return broker.broker().replicaManager().partition(new TopicPartition("e", 0)).log().logEndOffset();
    }

    @Test
    void shouldAnswerBadTransactionRequestsWithKafkasErrorCodes() throws IOException {
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING.code(), endTxn((short) 4, "nobody", 1, (short) 0, true),
            "EndTxn for an unknown transactional id");
        assertEquals(Errors.INVALID_TRANSACTION_TIMEOUT.code(), init("raw-txn", 60_001).errorCode());
        InitProducerIdResponse first = init("raw-txn", 10_000);
        assertEquals(Errors.NONE.code(), first.errorCode());
        InitProducerIdResponse second = init("raw-txn", 10_000);
        assertEquals(first.producerId(), second.producerId());
        assertEquals(first.producerEpoch() + 1, second.producerEpoch());
        long pid = second.producerId();
        short epoch = second.producerEpoch();

        assertEquals(Errors.PRODUCER_FENCED.code(), endTxn((short) 4, "raw-txn", pid, first.producerEpoch(), true),
            "EndTxn with a stale epoch");
        assertEquals(Errors.INVALID_PRODUCER_EPOCH.code(), endTxn((short) 1, "raw-txn", pid, first.producerEpoch(), true),
            "the same before PRODUCER_FENCED existed (v1)");
        assertEquals(Errors.INVALID_TXN_STATE.code(), endTxn((short) 4, "raw-txn", pid, epoch, true),
            "nothing to commit");

        AddPartitionsToTxnResponse added = (AddPartitionsToTxnResponse) call(ApiKeys.ADD_PARTITIONS_TO_TXN, (short) 3,
            new AddPartitionsToTxnRequest().setV3AndBelowTransactionalId("raw-txn").setV3AndBelowProducerId(pid)
                .setV3AndBelowProducerEpoch(epoch).setV3AndBelowTopics(List.of(
                    new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic().setName("missing").setPartitions(List.of(0)),
                    new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic().setName("e").setPartitions(List.of(0)))));
        Map<String, Short> byTopic = new java.util.HashMap<>();
        added.resultsByTopicV3AndBelow().forEach(t -> byTopic.put(t.name(),
            t.resultsByPartition().get(0).partitionErrorCode()));
        assertEquals(Map.of("missing", Errors.UNKNOWN_TOPIC_OR_PARTITION.code(),
            "e", Errors.OPERATION_NOT_ATTEMPTED.code()), byTopic, "AddPartitions for a topic that does not exist");

        // partition verification (transactions V1): "e"-0 is not in the transaction
        assertEquals(Errors.TRANSACTION_ABORTABLE.code(), produce((short) 11, "raw-txn", pid, epoch));
        assertEquals(Errors.INVALID_TXN_STATE.code(), produce((short) 10, "raw-txn", pid, epoch));
        assertEquals(0, logEnd(), "nothing appended");

        DescribeTransactionsResponse described = (DescribeTransactionsResponse) call(ApiKeys.DESCRIBE_TRANSACTIONS,
            (short) 0, new DescribeTransactionsRequest().setTransactionalIds(List.of("raw-txn", "nobody")));
        assertEquals("Empty", described.transactionStates().get(0).transactionState());
        assertEquals(pid, described.transactionStates().get(0).producerId());
        assertEquals(Errors.TRANSACTIONAL_ID_NOT_FOUND.code(), described.transactionStates().get(1).errorCode());

        ListTransactionsResponse listed = (ListTransactionsResponse) call(ApiKeys.LIST_TRANSACTIONS, (short) 1,
            new ListTransactionsRequest().setStateFilters(List.of("Empty", "Bogus")));
        assertEquals(List.of("Bogus"), listed.unknownStateFilters());
        assertEquals(1, listed.transactionStates().size());

        WriteTxnMarkersResponse markers = (WriteTxnMarkersResponse) call(ApiKeys.WRITE_TXN_MARKERS, (short) 1,
            new WriteTxnMarkersRequest().setMarkers(List.of(new WriteTxnMarkersRequest.WritableTxnMarker()
                .setProducerId(pid).setProducerEpoch(epoch).setTransactionResult(false).setCoordinatorEpoch(0)
                .setTopics(List.of(new WriteTxnMarkersRequest.WritableTxnMarkerTopic().setName("missing")
                    .setPartitionIndexes(List.of(0)))))));
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(),
            markers.markers().get(0).topics().get(0).partitions().get(0).errorCode());
    }

    @Test
    void shouldAppendATransactionalBatchOnlyOnceItsPartitionIsInTheTransaction() throws IOException {
        InitProducerIdResponse p = init("raw-txn", 10_000);
        AddPartitionsToTxnResponse added = (AddPartitionsToTxnResponse) call(ApiKeys.ADD_PARTITIONS_TO_TXN, (short) 3,
            new AddPartitionsToTxnRequest().setV3AndBelowTransactionalId("raw-txn").setV3AndBelowProducerId(p.producerId())
                .setV3AndBelowProducerEpoch(p.producerEpoch()).setV3AndBelowTopics(List.of(
                    new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic().setName("e").setPartitions(List.of(0)))));
        assertEquals(Errors.NONE.code(), added.resultsByTopicV3AndBelow().get(0).resultsByPartition().get(0)
            .partitionErrorCode());
        assertEquals(Errors.NONE.code(), produce((short) 10, "raw-txn", p.producerId(), p.producerEpoch()));
        assertEquals(1, logEnd());
        assertEquals(Errors.NONE.code(), endTxn((short) 4, "raw-txn", p.producerId(), p.producerEpoch(), false));
        long deadline = System.currentTimeMillis() + 60_000; // markers are written asynchronously: generous under load
        while (!"CompleteAbort".equals(((DescribeTransactionsResponse) call(ApiKeys.DESCRIBE_TRANSACTIONS, (short) 0,
            new DescribeTransactionsRequest().setTransactionalIds(List.of("raw-txn")))).transactionStates().get(0)
            .transactionState())) {
            assertTrue(System.currentTimeMillis() < deadline, "the abort never completed");
        }
        assertEquals(2, logEnd(), "the abort marker");
        // a produce of the ended transaction, delayed in the network (V1: same epoch), cannot reopen it
        assertEquals(Errors.TRANSACTION_ABORTABLE.code(),
            produce((short) 11, "raw-txn", p.producerId(), p.producerEpoch(), 1, "late"));
        assertEquals(2, logEnd(), "nothing appended after the marker");
    }

    /** An abort after AddOffsetsToTxn, before the offsets topic exists (no TxnOffsetCommit came), completes. */
    @Test
    void shouldCompleteAnAbortWhoseOffsetsPartitionWasNeverWritten() throws IOException {
        InitProducerIdResponse p = init("raw-txn", 10_000);
        short added = ((io.weir.protocol.message.AddOffsetsToTxnResponse) call(ApiKeys.ADD_OFFSETS_TO_TXN, (short) 3,
            new io.weir.protocol.message.AddOffsetsToTxnRequest().setTransactionalId("raw-txn")
                .setProducerId(p.producerId()).setProducerEpoch(p.producerEpoch()).setGroupId("never-created")))
            .errorCode();
        assertEquals(Errors.NONE.code(), added);
        assertEquals(Errors.NONE.code(), endTxn((short) 4, "raw-txn", p.producerId(), p.producerEpoch(), false));
        long deadline = System.currentTimeMillis() + 60_000; // markers are written asynchronously: generous under load
        InitProducerIdResponse next;
        do {
            next = init("raw-txn", 10_000); // CONCURRENT_TRANSACTIONS until the abort completed
            assertTrue(System.currentTimeMillis() < deadline, "the abort never completed");
        } while (next.errorCode() == Errors.CONCURRENT_TRANSACTIONS.code());
        assertEquals(Errors.NONE.code(), next.errorCode());
    }

    private short txnOffsetCommit(short version, InitProducerIdResponse p, String memberId, int generation)
        throws IOException {
        io.weir.protocol.message.TxnOffsetCommitResponse r = (io.weir.protocol.message.TxnOffsetCommitResponse) call(
            ApiKeys.TXN_OFFSET_COMMIT, version, new io.weir.protocol.message.TxnOffsetCommitRequest()
                .setTransactionalId("raw-txn").setGroupId("raw-g").setProducerId(p.producerId())
                .setProducerEpoch(p.producerEpoch()).setMemberId(memberId).setGenerationId(generation)
                .setTopics(List.of(new io.weir.protocol.message.TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic()
                    .setName("e").setPartitions(List.of(new io.weir.protocol.message.TxnOffsetCommitRequest
                        .TxnOffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(1))))));
        return r.topics().get(0).partitions().get(0).errorCode();
    }

    private short txnOffsetCommitV5(long pid, short epoch, long offset) throws IOException {
        io.weir.protocol.message.TxnOffsetCommitResponse r = (io.weir.protocol.message.TxnOffsetCommitResponse) call(
            ApiKeys.TXN_OFFSET_COMMIT, (short) 5, new io.weir.protocol.message.TxnOffsetCommitRequest()
                .setTransactionalId("raw-txn").setGroupId("raw-g").setProducerId(pid).setProducerEpoch(epoch)
                .setMemberId("").setGenerationId(-1)
                .setTopics(List.of(new io.weir.protocol.message.TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic()
                    .setName("e").setPartitions(List.of(new io.weir.protocol.message.TxnOffsetCommitRequest
                        .TxnOffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(offset))))));
        return r.topics().get(0).partitions().get(0).errorCode();
    }

    /**
     * Transactions V2 keeps the producer id from one transaction to the next, and the group coordinator
     * keeps a transaction's pending offsets by producer id until its marker: so the TxnOffsetCommit (v5,
     * which adds the offsets partition itself) of transaction N+1 must not reach the offsets partition
     * before N's marker does, or that marker would settle N+1's offsets too. The transaction coordinator
     * answers CONCURRENT_TRANSACTIONS (retriable) while N's markers are being written, and nothing is
     * appended. Here N's markers are withheld (the coordinator "dies" after PrepareAbort).
     */
    @Test
    void shouldHoldBackTheNextTransactionsOffsetCommitUntilThePreviousMarkersAreWritten() throws IOException {
        call(ApiKeys.FIND_COORDINATOR, (short) 4, new FindCoordinatorRequest().setKeyType((byte) 0)
            .setCoordinatorKeys(List.of("raw-g")));
        InitProducerIdResponse p = init("raw-txn", 10_000);
        long pid = p.producerId();
        assertEquals(Errors.NONE.code(), txnOffsetCommitV5(pid, p.producerEpoch(), 5));
        broker.broker().transactionCoordinator().dropMarkersForTesting(true);
        EndTxnResponse aborted = (EndTxnResponse) call(ApiKeys.END_TXN, (short) 5, new EndTxnRequest()
            .setTransactionalId("raw-txn").setProducerId(pid).setProducerEpoch(p.producerEpoch()).setCommitted(false));
        assertEquals(Errors.NONE.code(), aborted.errorCode());
        TopicPartition offsetsPartition = broker.broker().groupCoordinator().offsetsPartitionFor("raw-g");
        long offsetsEnd = broker.broker().replicaManager().partition(offsetsPartition).log().logEndOffset();

        assertEquals(Errors.CONCURRENT_TRANSACTIONS.code(), txnOffsetCommitV5(pid, aborted.producerEpoch(), 7),
            "transaction N+1's offsets wait for transaction N's markers");
        assertEquals(offsetsEnd, broker.broker().replicaManager().partition(offsetsPartition).log().logEndOffset(),
            "nothing appended to " + offsetsPartition);
    }

    /** KIP-447: a transactional offset commit is fenced by the group's generation and member id. */
    @Test
    void shouldRefuseATransactionalOffsetCommitFromAStaleGenerationOrUnknownMember() throws IOException {
        call(ApiKeys.FIND_COORDINATOR, (short) 4, new FindCoordinatorRequest().setKeyType((byte) 0)
            .setCoordinatorKeys(List.of("raw-g")));
        io.weir.protocol.message.JoinGroupRequest join = new io.weir.protocol.message.JoinGroupRequest()
            .setGroupId("raw-g").setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000).setProtocolType("consumer")
            .setProtocols(List.of(new io.weir.protocol.message.JoinGroupRequest.JoinGroupRequestProtocol()
                .setName("range").setMetadata(new byte[] {0, 0})));
        var first = (io.weir.protocol.message.JoinGroupResponse) call(ApiKeys.JOIN_GROUP, (short) 5, join.setMemberId(""));
        var joined = (io.weir.protocol.message.JoinGroupResponse) call(ApiKeys.JOIN_GROUP, (short) 5,
            join.setMemberId(first.memberId()));
        assertEquals(Errors.NONE.code(), joined.errorCode());
        call(ApiKeys.SYNC_GROUP, (short) 3, new io.weir.protocol.message.SyncGroupRequest().setGroupId("raw-g")
            .setGenerationId(joined.generationId()).setMemberId(joined.memberId()).setAssignments(List.of(
                new io.weir.protocol.message.SyncGroupRequest.SyncGroupRequestAssignment()
                    .setMemberId(joined.memberId()).setAssignment(new byte[0]))));

        InitProducerIdResponse p = init("raw-txn", 10_000);
        assertEquals(Errors.INVALID_TXN_STATE.code(), txnOffsetCommit((short) 3, p, joined.memberId(),
            joined.generationId()), "V1: the offsets partition must be added first (v3 predates TRANSACTION_ABORTABLE)");
        call(ApiKeys.ADD_OFFSETS_TO_TXN, (short) 3, new io.weir.protocol.message.AddOffsetsToTxnRequest()
            .setTransactionalId("raw-txn").setProducerId(p.producerId()).setProducerEpoch(p.producerEpoch())
            .setGroupId("raw-g"));
        assertEquals(Errors.ILLEGAL_GENERATION.code(),
            txnOffsetCommit((short) 3, p, joined.memberId(), joined.generationId() + 1));
        assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), txnOffsetCommit((short) 3, p, "stranger", joined.generationId()));
        assertEquals(Errors.NONE.code(), txnOffsetCommit((short) 3, p, joined.memberId(), joined.generationId()));
        assertEquals(Errors.NONE.code(), endTxn((short) 4, "raw-txn", p.producerId(), p.producerEpoch(), true));
    }

    private short produce(short version, String id, long pid, short epoch, int sequence, String value)
        throws IOException {
        ByteBuffer batch = new RecordBatchBuilder(CompressionType.NONE).producer(pid, epoch, sequence).transactional(true)
            .append(1L, (byte[]) null, value.getBytes(StandardCharsets.UTF_8)).build();
        ProduceResponse r = (ProduceResponse) call(ApiKeys.PRODUCE, version, new ProduceRequest().setTransactionalId(id)
            .setAcks((short) -1).setTimeoutMs(5_000).setTopicData(List.of(new ProduceRequest.TopicProduceData()
                .setName("e").setPartitionData(List.of(new ProduceRequest.PartitionProduceData().setIndex(0)
                    .setRecords(Records.wrap(batch)))))));
        return r.responses().get(0).partitionResponses().get(0).errorCode();
    }

    /**
     * The holes transactions V2 closes (the 2024 Jepsen analysis): a produce or an EndTxn of transaction 1
     * delayed in the network until the producer has begun transaction 2 cannot land in transaction 2 —
     * the epoch bumped at the end of transaction 1 fences both.
     */
    @Test
    void shouldFenceADelayedProduceOrEndTxnOfAnEndedTransactionWithV2() throws IOException {
        InitProducerIdResponse p = init("raw-txn", 10_000);
        long pid = p.producerId();
        assertEquals(Errors.NONE.code(), produce((short) 12, "raw-txn", pid, p.producerEpoch(), 0, "t1"),
            "Produce v12 adds the partition implicitly");
        EndTxnResponse ended = (EndTxnResponse) call(ApiKeys.END_TXN, (short) 5, new EndTxnRequest()
            .setTransactionalId("raw-txn").setProducerId(pid).setProducerEpoch(p.producerEpoch()).setCommitted(true));
        assertEquals(Errors.NONE.code(), ended.errorCode());
        assertEquals(p.producerEpoch() + 1, ended.producerEpoch(), "EndTxn v5 bumps the epoch");
        short next = ended.producerEpoch();
        short status;
        long deadline = System.currentTimeMillis() + 60_000; // markers are written asynchronously: generous under load
        do {
            status = produce((short) 12, "raw-txn", pid, next, 0, "t2"); // retriable while the markers are written
            assertTrue(System.currentTimeMillis() < deadline, "transaction 1 never completed");
        } while (status == Errors.NOT_ENOUGH_REPLICAS.code());
        assertEquals(Errors.NONE.code(), status, "transaction 2 begins");
        long endBefore = logEnd();

        assertEquals(Errors.INVALID_PRODUCER_EPOCH.code(),
            produce((short) 12, "raw-txn", pid, p.producerEpoch(), 1, "late"), "a delayed produce of transaction 1");
        assertEquals(endBefore, logEnd(), "nothing appended");
        assertEquals(Errors.PRODUCER_FENCED.code(), endTxn((short) 5, "raw-txn", pid, p.producerEpoch(), true),
            "a delayed EndTxn of transaction 1 does not commit transaction 2");
        DescribeTransactionsResponse described = (DescribeTransactionsResponse) call(ApiKeys.DESCRIBE_TRANSACTIONS,
            (short) 0, new DescribeTransactionsRequest().setTransactionalIds(List.of("raw-txn")));
        assertEquals("Ongoing", described.transactionStates().get(0).transactionState());
    }
}
