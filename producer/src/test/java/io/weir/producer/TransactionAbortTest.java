package io.weir.producer;

import io.weir.protocol.Errors;
import io.weir.protocol.client.FakeBroker;
import io.weir.protocol.message.ApiVersionsRequest;
import io.weir.protocol.message.ApiVersionsResponse;
import io.weir.protocol.message.EndTxnRequest;
import io.weir.protocol.message.EndTxnResponse;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.FindCoordinatorResponse;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import io.weir.producer.internals.TransactionManager;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The abort of a transaction whose batch is in flight and comes back with a retriable error
 * (CONCURRENT_TRANSACTIONS: the previous transaction's markers are still being written): the batch
 * must fail, not be retried, or the abort's flush would wait for it forever. A scripted
 * {@link FakeBroker} holds the Produce answer until the abort has begun.
 */
class TransactionAbortTest {
    private static final String TOPIC = "t";

    /**
     * UNKNOWN_PRODUCER_ID for a transactional batch: the producer cannot get a new id by itself (only the
     * coordinator hands them out, after an abort), so the batch fails and the transaction is abortable —
     * rather than waiting, unsent, for a producer id that never comes.
     */
    @Test
    void shouldMakeTheTransactionAbortableOnUnknownProducerId() throws Exception {
        FakeBroker[] self = new FakeBroker[1];
        try (FakeBroker b = new FakeBroker((header, req, conn) -> {
            if (req instanceof ProduceRequest) {
                return new ProduceResponse().setResponses(List.of(new ProduceResponse.TopicProduceResponse()
                    .setName(TOPIC).setPartitionResponses(List.of(new ProduceResponse.PartitionProduceResponse()
                        .setIndex(0).setErrorCode(Errors.UNKNOWN_PRODUCER_ID.code()).setBaseOffset(-1)))));
            }
            return scripted(self[0], req);
        })) {
            self[0] = b;
            Map<String, Object> p = WeirProducerIntegrationTest.props("127.0.0.1:" + b.port());
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "txn");
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000L);
            try (WeirProducer<String, String> producer = new WeirProducer<>(p)) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, 0, "k", "v"));
                assertThrows(TransactionAbortableException.class, producer::commitTransaction);
                producer.abortTransaction();
                assertEquals(TransactionManager.State.READY, producer.transactionState());
            }
        }
    }

    /** The answers of a one-broker cluster with transactions V2 (Produce is the test's). */
    private static io.weir.protocol.ApiMessage scripted(FakeBroker self, io.weir.protocol.ApiMessage req) {
        if (req instanceof ApiVersionsRequest) {
            return FakeBroker.allVersions().setFinalizedFeaturesEpoch(1).setFinalizedFeatures(List.of(
                new ApiVersionsResponse.FinalizedFeatureKey().setName("transaction.version")
                    .setMinVersionLevel((short) 0).setMaxVersionLevel((short) 2)));
        }
        if (req instanceof MetadataRequest) {
            return new MetadataResponse().setClusterId("fake").setControllerId(1).setBrokers(List.of(
                new MetadataResponse.MetadataResponseBroker().setNodeId(1).setHost("127.0.0.1")
                    .setPort(self.port()))).setTopics(List.of(new MetadataResponse.MetadataResponseTopic()
                .setName(TOPIC).setPartitions(List.of(new MetadataResponse.MetadataResponsePartition()
                    .setPartitionIndex(0).setLeaderId(1).setReplicaNodes(List.of(1)).setIsrNodes(List.of(1))))));
        }
        if (req instanceof FindCoordinatorRequest) {
            return new FindCoordinatorResponse().setCoordinators(List.of(new FindCoordinatorResponse.Coordinator()
                .setKey("txn").setNodeId(1).setHost("127.0.0.1").setPort(self.port())));
        }
        if (req instanceof InitProducerIdRequest) {
            return new InitProducerIdResponse().setProducerId(42).setProducerEpoch((short) 0);
        }
        if (req instanceof EndTxnRequest) {
            return new EndTxnResponse().setProducerId(42).setProducerEpoch((short) 1);
        }
        return null;
    }

    @Test
    void shouldNotRetryAnInFlightBatchOnceTheAbortBegan() throws Exception {
        CountDownLatch produceArrived = new CountDownLatch(1);
        CountDownLatch answerProduce = new CountDownLatch(1);
        FakeBroker[] self = new FakeBroker[1];
        try (FakeBroker b = new FakeBroker((header, req, conn) -> {
            if (req instanceof ProduceRequest) {
                produceArrived.countDown();
                try {
                    answerProduce.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new ProduceResponse().setResponses(List.of(new ProduceResponse.TopicProduceResponse()
                    .setName(TOPIC).setPartitionResponses(List.of(new ProduceResponse.PartitionProduceResponse()
                        .setIndex(0).setErrorCode(Errors.CONCURRENT_TRANSACTIONS.code()).setBaseOffset(-1)))));
            }
            return scripted(self[0], req);
        })) {
            self[0] = b;
            Map<String, Object> p = WeirProducerIntegrationTest.props("127.0.0.1:" + b.port());
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "txn");
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000L);
            try (WeirProducer<String, String> producer = new WeirProducer<>(p)) {
                producer.initTransactions();
                producer.beginTransaction();
                Future<RecordMetadata> sent = producer.send(new ProducerRecord<>(TOPIC, 0, "k", "v"));
                assertTrue(produceArrived.await(10, TimeUnit.SECONDS), "the batch went out");
                CompletableFuture<Void> abort = CompletableFuture.runAsync(producer::abortTransaction);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (producer.transactionState() != TransactionManager.State.ABORTING_TRANSACTION) {
                    assertTrue(System.nanoTime() - deadline < 0, "the abort to begin in 30 s, the transaction is "
                        + producer.transactionState() + (abort.isDone() ? ", the abort call ended" : ""));
                    Thread.onSpinWait(); // the abort begins while the batch is in flight
                }
                answerProduce.countDown();
                abort.get(30, TimeUnit.SECONDS); // before the fix: TimeoutException after max.block.ms
                assertEquals(TransactionManager.State.READY, producer.transactionState());
                ExecutionException e = assertThrows(ExecutionException.class, () -> sent.get(5, TimeUnit.SECONDS));
                assertInstanceOf(io.weir.protocol.ApiException.class, e.getCause());
                assertEquals(1, b.received(io.weir.protocol.ApiKeys.PRODUCE).size(), "the batch was not retried");
            }
        }
    }
}
