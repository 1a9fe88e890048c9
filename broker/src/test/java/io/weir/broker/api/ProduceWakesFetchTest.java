package io.weir.broker.api;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.LocalMetadataStore;
import io.weir.broker.network.Send;
import io.weir.broker.purgatory.DelayedOperationPurgatory;
import io.weir.broker.purgatory.WheelTimer;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicConfigs;
import io.weir.broker.server.TopicService;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.testing.MockTime;
import io.weir.log.LogManager;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.Records;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The produce → append → wake a parked fetch path through the real produce and fetch handlers, a real
 * log and purgatories without reapers on a mock clock that never moves: a parked fetch is answered by
 * the append alone, and only after the producer's own acknowledgement was handed to its connection
 * (issue 14: the acknowledgement must not wait behind the consumer's read and response).
 */
class ProduceWakesFetchTest {
    private static final String TOPIC = "t";
    private static final short FETCH_V = 12;
    private static final short PRODUCE_V = 9;

    @TempDir
    Path dir;

    private final MockTime time = new MockTime();
    private LogManager logManager;
    private DelayedOperationPurgatory<TopicPartition, DelayedFetch> fetches;
    private DelayedOperationPurgatory<TopicPartition, DelayedProduce> produces;
    private RequestDispatcher dispatcher;
    /** Every response of both connections, in the order they were handed over: "connection:api". */
    private final List<String> handedOver = new ArrayList<>();
    private final CapturingSink producerConnection = new CapturingSink();
    private final CapturingSink consumerConnection = new CapturingSink();

    @BeforeEach
    void start() {
        BrokerConfig config = new BrokerConfig(Map.of(BrokerConfig.LOG_DIRS, dir.toString()));
        TopicConfigs topicConfigs = new TopicConfigs(config);
        LocalMetadataStore store = new LocalMetadataStore(dir, null);
        logManager = LogManager.open(dir, topicConfigs.defaultLogConfig(), Map.of(), time);
        ReplicaManager replicaManager = new ReplicaManager(0, logManager, topicConfigs);
        TopicService topics = new TopicService(config, store, replicaManager, topicConfigs);
        assertEquals(Errors.NONE, topics.create(TOPIC, 1, (short) 1, Map.of(), Map.of(), false).error());
        fetches = new DelayedOperationPurgatory<>("fetch", new WheelTimer(time), 100, false);
        produces = new DelayedOperationPurgatory<>("produce", new WheelTimer(time), 100, false);
        replicaManager.setAppendListener(tp -> {
            produces.checkAndComplete(tp);
            fetches.checkAndComplete(tp);
        });
        dispatcher = new RequestDispatcher(ApiHandlerRegistry.builder()
            .register(new ProduceHandler(replicaManager, produces))
            .register(new FetchHandler(store, replicaManager, new FetchSessionCache(10), fetches))
            .build());
    }

    @AfterEach
    void stop() {
        fetches.close();
        produces.close();
        logManager.close();
    }

    private ResponseSink recording(String name, CapturingSink sink) {
        return new ResponseSink() {
            @Override
            public void respond(Send response) {
                handedOver.add(name);
                sink.respond(response);
            }

            @Override
            public void noResponse() {
                handedOver.add(name + ":none");
                sink.noResponse();
            }

            @Override
            public void closeConnection() {
                handedOver.add(name + ":closed");
                sink.closeConnection();
            }
        };
    }

    private static ByteBuffer frameOnly(ByteBuffer sized) {
        ByteBuffer b = sized.duplicate();
        b.position(b.position() + 4);
        return b.slice();
    }

    private void fetchFromOffset0() {
        FetchRequest req = new FetchRequest().setReplicaId(-1).setMaxWaitMs(500).setMinBytes(1)
            .setMaxBytes(1 << 20).setIsolationLevel((byte) 0).setSessionId(0).setSessionEpoch(-1)
            .setTopics(List.of(new FetchRequest.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                new FetchRequest.FetchPartition().setPartition(0).setFetchOffset(0).setPartitionMaxBytes(1 << 20)))));
        dispatcher.handle(frameOnly(MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.FETCH, FETCH_V, 1, "consumer"),
            req)), recording("consumer", consumerConnection), "consumer");
    }

    private void produce(short acks, int records) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        for (int i = 0; i < records; i++) {
            b.append(1L, ("key-" + i).getBytes(StandardCharsets.UTF_8), new byte[100]);
        }
        ProduceRequest req = new ProduceRequest().setAcks(acks).setTimeoutMs(30_000).setTopicData(List.of(
            new ProduceRequest.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                new ProduceRequest.PartitionProduceData().setIndex(0).setRecords(Records.wrap(b.build()))))));
        dispatcher.handle(frameOnly(MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.PRODUCE, PRODUCE_V, 2,
            "producer"), req)), recording("producer", producerConnection), "producer");
    }

    @Test
    void shouldAnswerAParkedFetchOnAppendWithoutAnyClockAdvanceAndAfterTheProducersAcknowledgement() {
        fetchFromOffset0();
        assertEquals(List.of(), handedOver, "nothing to read: the fetch is parked");

        produce((short) 1, 3);

        assertEquals(List.of("producer", "consumer"), handedOver,
            "the append answered the parked fetch at once, after the produce response was handed over");
        ProduceResponse ack = (ProduceResponse) MessageCodec.parseResponse(ApiKeys.PRODUCE, PRODUCE_V,
            producerConnection.last().response()).body();
        assertEquals(Errors.NONE.code(), ack.responses().get(0).partitionResponses().get(0).errorCode());
        FetchResponse fetched = (FetchResponse) MessageCodec.parseResponse(ApiKeys.FETCH, FETCH_V,
            consumerConnection.last().response()).body();
        assertEquals(3, fetched.responses().get(0).partitions().get(0).highWatermark());
        assertEquals(0, fetches.delayed(), "no timer entry is left behind");
    }

    @Test
    void shouldAnswerAParkedFetchOnAnAcksAllAppendAfterTheProducersAcknowledgement() {
        fetchFromOffset0();

        produce((short) -1, 1);

        assertEquals(List.of("producer", "consumer"), handedOver);
    }

    @Test
    void shouldAnswerAParkedFetchWhenTheProducerAsksForNoAcknowledgement() {
        fetchFromOffset0();

        produce((short) 0, 1);

        assertEquals(List.of("producer:none", "consumer"), handedOver);
    }
}
