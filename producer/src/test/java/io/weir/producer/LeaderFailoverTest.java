package io.weir.producer;

import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.FakeBroker;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The producer after its partition leader dies (issue 12): two {@link FakeBroker}s play a cluster whose
 * leader (node 1) is gone, its port refusing connections, while the metadata keeps naming it for a few
 * refreshes (the election takes a moment) and then names node 2 with a newer leader epoch. The next
 * batch must reach node 2 soon after the metadata says so, not after {@code request.timeout.ms}:
 * a refused connect fails the attempt at once, as in kafka-clients.
 */
class LeaderFailoverTest {
    private static final String TOPIC = "failover";
    /** Metadata answers after the leader died that still name it, as while a controller elects a new one. */
    private static final int STALE_ANSWERS = 3;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final AtomicInteger leader = new AtomicInteger(1);
    private final AtomicInteger staleAnswersLeft = new AtomicInteger(-1);
    private final AtomicLong nextOffset = new AtomicLong();
    private FakeBroker first;
    private FakeBroker second;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void shouldDeliverToTheNewLeaderWithoutWaitingOutTheRequestTimeoutAfterTheLeaderDies() throws Exception {
        first = broker(1);
        second = broker(2);
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", "127.0.0.1:" + second.port());
        p.put("key.serializer", Serializers.StringSerializer.class.getName());
        p.put("value.serializer", Serializers.StringSerializer.class.getName());
        p.put("linger.ms", "0");
        // far above the bound below: waiting out one request timeout fails the test
        p.put("request.timeout.ms", "60000");
        p.put("delivery.timeout.ms", "120000");
        WeirProducer<String, String> producer = new WeirProducer<>(p);
        toClose.add(producer);

        RecordMetadata before = producer.send(new ProducerRecord<>(TOPIC, 0, null, "before")).get(20, TimeUnit.SECONDS);
        assertEquals(0, before.offset());

        staleAnswersLeft.set(STALE_ANSWERS);
        first.close(); // the leader's process is gone: its connections drop and its port refuses connects

        RecordMetadata after = producer.send(new ProducerRecord<>(TOPIC, 0, null, "after")).get(20, TimeUnit.SECONDS);
        assertEquals(1, after.offset());
        assertEquals(2, leader.get(), "delivered by the new leader");
    }

    private FakeBroker broker(int id) throws IOException {
        FakeBroker b = new FakeBroker((header, request, connection) -> handle(id, request));
        toClose.add(b);
        return b;
    }

    private ApiMessage handle(int brokerId, ApiMessage request) {
        if (request instanceof MetadataRequest) {
            return metadata();
        }
        if (request instanceof InitProducerIdRequest) {
            return new InitProducerIdResponse().setProducerId(4711).setProducerEpoch((short) 0);
        }
        if (request instanceof ProduceRequest produce) {
            return produce(brokerId, produce);
        }
        return null;
    }

    private synchronized MetadataResponse metadata() {
        if (staleAnswersLeft.get() == 0) {
            leader.set(2); // elected
        } else if (staleAnswersLeft.get() > 0) {
            staleAnswersLeft.decrementAndGet();
        }
        int leaderId = leader.get();
        List<MetadataResponse.MetadataResponseBroker> brokers = new ArrayList<>();
        if (leaderId == 1) {
            brokers.add(new MetadataResponse.MetadataResponseBroker().setNodeId(1).setHost("127.0.0.1")
                .setPort(first.port()));
        }
        brokers.add(new MetadataResponse.MetadataResponseBroker().setNodeId(2).setHost("127.0.0.1")
            .setPort(second.port()));
        MetadataResponse.MetadataResponsePartition partition = new MetadataResponse.MetadataResponsePartition()
            .setPartitionIndex(0).setLeaderId(leaderId).setLeaderEpoch(leaderId == 1 ? 5 : 6)
            .setReplicaNodes(List.of(1, 2)).setIsrNodes(leaderId == 1 ? List.of(1, 2) : List.of(2));
        return new MetadataResponse().setClusterId("fake").setControllerId(2).setBrokers(brokers)
            .setTopics(List.of(new MetadataResponse.MetadataResponseTopic().setName(TOPIC)
                .setPartitions(List.of(partition))));
    }

    private synchronized ProduceResponse produce(int brokerId, ProduceRequest request) {
        List<ProduceResponse.TopicProduceResponse> topics = new ArrayList<>();
        for (ProduceRequest.TopicProduceData t : request.topicData()) {
            List<ProduceResponse.PartitionProduceResponse> parts = new ArrayList<>();
            for (ProduceRequest.PartitionProduceData d : t.partitionData()) {
                ProduceResponse.PartitionProduceResponse r = new ProduceResponse.PartitionProduceResponse()
                    .setIndex(d.index());
                if (brokerId == leader.get()) {
                    parts.add(r.setBaseOffset(nextOffset.getAndIncrement()));
                } else {
                    parts.add(r.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code()).setBaseOffset(-1));
                }
            }
            topics.add(new ProduceResponse.TopicProduceResponse().setName(t.name()).setPartitionResponses(parts));
        }
        return new ProduceResponse().setResponses(topics);
    }
}
