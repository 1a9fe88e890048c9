package io.weir.protocol.client;

import io.weir.common.record.CompressionType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.message.FetchRequest;
import io.weir.protocol.message.FetchResponse;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;
import io.weir.protocol.message.ListOffsetsRequest;
import io.weir.protocol.message.ListOffsetsResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A two-node cluster of {@link FakeBroker}s whose partition leader dies, for the clients' failover tests
 * (issue 12). Node 1 leads partition 0 of the topic (leader epoch 5), node 2 follows. After
 * {@link #killLeader()} node 1's port refuses connections while the metadata keeps naming it for
 * {@link #STALE_ANSWERS} more answers (as while a controller elects a new leader), then names node 2 with
 * leader epoch 6.
 *
 * <p>Both nodes answer Metadata, InitProducerId, Produce, ListOffsets and Fetch; a partition request to the
 * node that does not lead answers NOT_LEADER_OR_FOLLOWER. The partition's log lives here, one value per
 * offset, so what a producer sends (or the test {@link #append appends}) a consumer can fetch; an empty fetch
 * is held up to its max wait, as a real broker holds it. Thread-safe: every connection has its own thread.
 */
public final class FakeFailoverCluster implements AutoCloseable {
    /** Metadata answers after the leader died that still name it, as while a controller elects a new one. */
    public static final int STALE_ANSWERS = 3;
    private static final int OLD_LEADER = 1;
    private static final int NEW_LEADER = 2;

    private final String topic;
    private final AtomicInteger leader = new AtomicInteger(OLD_LEADER);
    private final AtomicInteger staleAnswersLeft = new AtomicInteger(-1);
    /** The partition's log: the value at index i has offset i. Guarded by itself; appends notify waiting fetches. */
    private final List<byte[]> log = new ArrayList<>();
    private final FakeBroker first;
    private final FakeBroker second;

    /** Starts both nodes; node 1 leads {@code topic}'s partition 0. */
    public FakeFailoverCluster(String topic) throws IOException {
        this.topic = topic;
        this.first = new FakeBroker((header, request, connection) -> handle(OLD_LEADER, request));
        try {
            this.second = new FakeBroker((header, request, connection) -> handle(NEW_LEADER, request));
        } catch (IOException | RuntimeException e) {
            first.close();
            throw e;
        }
    }

    /** The surviving node's address: bootstrapping through it works before and after the leader dies. */
    public String bootstrapServers() {
        return "127.0.0.1:" + second.port();
    }

    /** The node that leads the partition now (1 until the metadata has named the new leader, then 2). */
    public int leaderId() {
        return leader.get();
    }

    /** Appends a record with this value to the partition, as if a producer had. */
    public void append(String value) {
        synchronized (log) {
            appendLocked(value.getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Kills the leader: its process is gone, its connections drop and its port refuses connects; the
     * metadata names it {@link #STALE_ANSWERS} more times, then names node 2.
     */
    public void killLeader() throws IOException {
        staleAnswersLeft.set(STALE_ANSWERS);
        first.close();
    }

    @Override
    public void close() throws IOException {
        try {
            second.close();
        } finally {
            first.close();
        }
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
            leader.set(NEW_LEADER); // elected
        } else if (staleAnswersLeft.get() > 0) {
            staleAnswersLeft.decrementAndGet();
        }
        int leaderId = leader.get();
        List<MetadataResponse.MetadataResponseBroker> brokers = new ArrayList<>();
        if (leaderId == OLD_LEADER) {
            brokers.add(new MetadataResponse.MetadataResponseBroker().setNodeId(OLD_LEADER).setHost("127.0.0.1")
                .setPort(first.port()));
        }
        brokers.add(new MetadataResponse.MetadataResponseBroker().setNodeId(NEW_LEADER).setHost("127.0.0.1")
            .setPort(second.port()));
        MetadataResponse.MetadataResponsePartition partition = new MetadataResponse.MetadataResponsePartition()
            .setPartitionIndex(0).setLeaderId(leaderId).setLeaderEpoch(leaderId == OLD_LEADER ? 5 : 6)
            .setReplicaNodes(List.of(OLD_LEADER, NEW_LEADER))
            .setIsrNodes(leaderId == OLD_LEADER ? List.of(OLD_LEADER, NEW_LEADER) : List.of(NEW_LEADER));
        return new MetadataResponse().setClusterId("fake").setControllerId(NEW_LEADER).setBrokers(brokers)
            .setTopics(List.of(new MetadataResponse.MetadataResponseTopic().setName(topic)
                .setPartitions(List.of(partition))));
    }

    /** Appends every record of each batch the leader receives; the answer's base offset is the first one's. */
    private ProduceResponse produce(int brokerId, ProduceRequest request) {
        List<ProduceResponse.TopicProduceResponse> topics = new ArrayList<>();
        for (ProduceRequest.TopicProduceData t : request.topicData()) {
            List<ProduceResponse.PartitionProduceResponse> parts = new ArrayList<>();
            for (ProduceRequest.PartitionProduceData d : t.partitionData()) {
                ProduceResponse.PartitionProduceResponse r = new ProduceResponse.PartitionProduceResponse()
                    .setIndex(d.index());
                if (brokerId != leader.get()) {
                    parts.add(r.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code()).setBaseOffset(-1));
                } else {
                    parts.add(r.setBaseOffset(appendAll(d.records())));
                }
            }
            topics.add(new ProduceResponse.TopicProduceResponse().setName(t.name()).setPartitionResponses(parts));
        }
        return new ProduceResponse().setResponses(topics);
    }

    private long appendAll(Records records) {
        synchronized (log) {
            long baseOffset = log.size();
            if (records != null) {
                for (RecordBatch batch : MemoryRecords.readableRecords(records.buffer().duplicate())) {
                    for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
                        appendLocked(it.next().valueBytes());
                    }
                }
            }
            return baseOffset;
        }
    }

    private void appendLocked(byte[] value) {
        log.add(value);
        log.notifyAll();
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
                b.append(0L, null, log.get(i));
            }
            return d.setRecords(Records.wrap(b.build()));
        }
    }
}
