package io.weir.broker.api;

import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.log.ActiveProducer;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.DescribeProducersRequest;
import io.weir.protocol.message.DescribeProducersResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * DescribeProducers: the producers a partition leader has state for (id, epoch, last sequence and
 * timestamp, the coordinator epoch of its last marker, and the first offset of its open transaction),
 * read from the log's producer state. This is what {@code kafka-transactions describe-producers} and
 * {@code find-hanging} show.
 *
 * <p>Thread-safe.
 */
public final class DescribeProducersHandler implements ApiHandler {
    private final ReplicaManager replicaManager;

    public DescribeProducersHandler(ReplicaManager replicaManager) {
        this.replicaManager = replicaManager;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.DESCRIBE_PRODUCERS, VersionRange.all(ApiKeys.DESCRIBE_PRODUCERS));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        DescribeProducersRequest req = (DescribeProducersRequest) body;
        List<DescribeProducersResponse.TopicResponse> topics = new ArrayList<>();
        for (DescribeProducersRequest.TopicRequest t : req.topics()) {
            List<DescribeProducersResponse.PartitionResponse> partitions = new ArrayList<>();
            for (int p : t.partitionIndexes()) {
                DescribeProducersResponse.PartitionResponse pr = new DescribeProducersResponse.PartitionResponse()
                    .setPartitionIndex(p);
                Partition partition = replicaManager.partition(new TopicPartition(t.name(), p));
                if (partition == null) {
                    pr.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                        .setErrorMessage("This server does not host " + t.name() + "-" + p);
                } else if (!partition.isLeader()) {
                    pr.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code())
                        .setErrorMessage("This server is not the leader of " + t.name() + "-" + p);
                } else {
                    List<DescribeProducersResponse.ProducerState> producers = new ArrayList<>();
                    for (ActiveProducer a : partition.log().activeProducers()) {
                        producers.add(new DescribeProducersResponse.ProducerState().setProducerId(a.producerId())
                            .setProducerEpoch(a.epoch()).setLastSequence(a.lastSequence())
                            .setLastTimestamp(a.lastTimestamp()).setCoordinatorEpoch(a.coordinatorEpoch())
                            .setCurrentTxnStartOffset(a.currentTxnStartOffset()));
                    }
                    pr.setErrorCode(Errors.NONE.code()).setActiveProducers(producers);
                }
                partitions.add(pr);
            }
            topics.add(new DescribeProducersResponse.TopicResponse().setName(t.name()).setPartitions(partitions));
        }
        ctx.respond(new DescribeProducersResponse().setTopics(topics));
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        List<DescribeProducersResponse.TopicResponse> topics = new ArrayList<>();
        for (DescribeProducersRequest.TopicRequest t : ((DescribeProducersRequest) body).topics()) {
            List<DescribeProducersResponse.PartitionResponse> partitions = new ArrayList<>();
            for (int p : t.partitionIndexes()) {
                partitions.add(new DescribeProducersResponse.PartitionResponse().setPartitionIndex(p)
                    .setErrorCode(error.code()));
            }
            topics.add(new DescribeProducersResponse.TopicResponse().setName(t.name()).setPartitions(partitions));
        }
        return new DescribeProducersResponse().setTopics(topics);
    }
}
