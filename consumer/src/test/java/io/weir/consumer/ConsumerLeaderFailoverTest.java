package io.weir.consumer;

import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.client.FakeBroker;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.ListOffsetsResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The consumer after its partition leader dies (issue 12): two {@link FakeBroker}s play a cluster whose
 * leader (node 1) is gone, its port refusing connections, while the metadata keeps naming it for a few
 * refreshes (the election takes a moment) and then names node 2 with a newer leader epoch. Fetches and
 * ListOffsets must reach node 2 soon after the metadata says so, not after a request times out
 * ({@code request.timeout.ms} is 60 s here, far above the 20 s functional bound).
 *
 * <p>The position reset failed before the fix (its ListOffsets waited on the dead node until the lookup's
 * deadline). The fetch case already recovered before it (a fetch for the new leader is not held back by
 * the stale one), and guards that the fail-fast fetch path keeps re-routing without a tight retry loop.
 */
class ConsumerLeaderFailoverTest {
    private static final String TOPIC = "failover";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    /** Metadata answers after the leader died that still name it, as while a controller elects a new one. */
    private static final int STALE_ANSWERS = 3;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final AtomicInteger leader = new AtomicInteger(1);
    private final AtomicInteger staleAnswersLeft = new AtomicInteger(-1);
    /** The partition's log: value i is at offset i. Guarded by itself; appends notify waiting fetches. */
    private final List<String> log = new ArrayList<>();
    private FakeBroker first;
    private FakeBroker second;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void shouldFetchFromTheNewLeaderWithoutWaitingOutTheRequestTimeoutAfterTheLeaderDies() throws Exception {
        first = broker(1);
        second = broker(2);
        append("before");
        WeirConsumer<String, String> consumer = consumer();
        consumer.assign(List.of(TP));
        consumer.seek(TP, 0);
        assertEquals(List.of("before"), pollUntilRecords(consumer));

        staleAnswersLeft.set(STALE_ANSWERS);
        first.close(); // the leader's process is gone: its connections drop and its port refuses connects
        append("after");

        assertEquals(List.of("after"), pollUntilRecords(consumer));
        assertEquals(2, leader.get(), "fetched from the new leader");
    }

    @Test
    void shouldResetThePositionThroughTheNewLeaderWithoutWaitingOutTheLookupDeadline() throws Exception {
        first = broker(1);
        second = broker(2);
        append("only");
        staleAnswersLeft.set(STALE_ANSWERS);
        first.close(); // dead before the consumer starts; metadata names it for a few answers more

        WeirConsumer<String, String> consumer = consumer();
        consumer.assign(List.of(TP));
        ExecutorService exec = Executors.newSingleThreadExecutor();
        toClose.add(exec::shutdownNow);
        CompletableFuture<Long> position = CompletableFuture.supplyAsync(
            () -> consumer.position(TP, Duration.ofSeconds(60)), exec);
        try {
            assertEquals(0L, position.get(20, TimeUnit.SECONDS));
        } finally {
            consumer.wakeup(); // frees the consumer for close() if the lookup still waits
            exec.shutdown();
            exec.awaitTermination(70, TimeUnit.SECONDS);
        }
        assertEquals(2, leader.get(), "offsets listed by the new leader");
    }

    private WeirConsumer<String, String> consumer() {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", "127.0.0.1:" + second.port());
        c.put("key.deserializer", Deserializers.StringDeserializer.class.getName());
        c.put("value.deserializer", Deserializers.StringDeserializer.class.getName());
        c.put("auto.offset.reset", "earliest");
        // far above the bound of each wait below: waiting out one request timeout fails the test
        c.put("request.timeout.ms", "60000");
        c.put("default.api.timeout.ms", "60000");
        WeirConsumer<String, String> consumer = new WeirConsumer<>(c);
        toClose.add(consumer);
        return consumer;
    }

    /** Polls until records arrive, for at most 20 s (a functional bound, far below the request timeout). */
    private static List<String> pollUntilRecords(WeirConsumer<String, String> consumer) {
        long giveUpNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> values = new ArrayList<>();
        while (values.isEmpty() && System.nanoTime() < giveUpNs) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                values.add(r.value());
            }
        }
        return values;
    }

    private void append(String value) {
        synchronized (log) {
            log.add(value);
            log.notifyAll();
        }
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
        if (request instanceof ListOffsetsRequest list) {
            return listOffsets(brokerId, list);
        }
        if (request instanceof FetchRequest fetch) {
            return fetch(brokerId, fetch);
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

    private ListOffsetsResponse listOffsets(int brokerId, ListOffsetsRequest request) {
        List<ListOffsetsResponse.ListOffsetsTopicResponse> topics = new ArrayList<>();
        for (ListOffsetsRequest.ListOffsetsTopic t : request.topics()) {
            List<ListOffsetsResponse.ListOffsetsPartitionResponse> parts = new ArrayList<>();
            for (ListOffsetsRequest.ListOffsetsPartition p : t.partitions()) {
                ListOffsetsResponse.ListOffsetsPartitionResponse r = new ListOffsetsResponse.ListOffsetsPartitionResponse()
                    .setPartitionIndex(p.partitionIndex()).setTimestamp(-1);
                if (brokerId != leader.get()) {
                    parts.add(r.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code()).setOffset(-1));
                } else if (p.timestamp() == -2L) {
                    parts.add(r.setOffset(0));
                } else {
                    synchronized (log) {
                        parts.add(r.setOffset(log.size()));
                    }
                }
            }
            topics.add(new ListOffsetsResponse.ListOffsetsTopicResponse().setName(t.name()).setPartitions(parts));
        }
        return new ListOffsetsResponse().setTopics(topics);
    }

    /** Answers from the log at the fetch offset, holding the fetch up to its max wait while nothing is new. */
    private FetchResponse fetch(int brokerId, FetchRequest request) {
        List<FetchResponse.FetchableTopicResponse> topics = new ArrayList<>();
        for (FetchRequest.FetchTopic t : request.topics()) {
            List<FetchResponse.PartitionData> parts = new ArrayList<>();
            for (FetchRequest.FetchPartition p : t.partitions()) {
                FetchResponse.PartitionData d = new FetchResponse.PartitionData().setPartitionIndex(p.partition());
                if (brokerId != leader.get()) {
                    parts.add(d.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code()).setHighWatermark(-1)
                        .setRecords(Records.empty()));
                    continue;
                }
                parts.add(read(d, p.fetchOffset(), request.maxWaitMs()));
            }
            topics.add(new FetchResponse.FetchableTopicResponse().setTopic(t.topic()).setTopicId(t.topicId())
                .setPartitions(parts));
        }
        return new FetchResponse().setResponses(topics);
    }

    private FetchResponse.PartitionData read(FetchResponse.PartitionData d, long offset, int maxWaitMs) {
        synchronized (log) {
            if (log.size() <= offset) {
                try {
                    log.wait(Math.max(1, maxWaitMs)); // a long poll, as a real broker holds an empty fetch
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            d.setHighWatermark(log.size()).setLastStableOffset(log.size()).setLogStartOffset(0);
            if (log.size() <= offset) {
                return d.setRecords(Records.empty());
            }
            RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE).baseOffset(offset);
            for (int i = (int) offset; i < log.size(); i++) {
                b.append(0L, null, log.get(i).getBytes(StandardCharsets.UTF_8));
            }
            return d.setRecords(Records.wrap(b.build()));
        }
    }
}
