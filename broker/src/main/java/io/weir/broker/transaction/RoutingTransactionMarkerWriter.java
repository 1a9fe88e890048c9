package io.weir.broker.transaction;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Node;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The transaction coordinator's {@link TransactionMarkerWriter} in a cluster: each partition's marker
 * goes to the partition's leader as the cluster's metadata names it — through the local writer when
 * that is this broker, as one WriteTxnMarkers request per other leader otherwise
 * ({@link TransactionMarkerChannel}). On one broker every leader is local, so it behaves as the local
 * writer alone.
 *
 * <p>A partition without a live leader, or whose leader does not host it yet, answers
 * NOT_LEADER_OR_FOLLOWER (the coordinator retries after reading the leaders again); only a partition
 * whose topic is gone from the metadata answers UNKNOWN_TOPIC_OR_PARTITION, and the coordinator then
 * drops that marker.
 *
 * <p>Thread-safe.
 */
public final class RoutingTransactionMarkerWriter implements TransactionMarkerWriter {
    private final int brokerId;
    private final MetadataStore store;
    private final TransactionMarkerWriter local;
    private final TransactionMarkerChannel remote;

    /**
     * @param local  writes markers to partitions this broker leads
     * @param remote sends the others to their leaders
     */
    public RoutingTransactionMarkerWriter(int brokerId, MetadataStore store, TransactionMarkerWriter local,
                                          TransactionMarkerChannel remote) {
        this.brokerId = brokerId;
        this.store = store;
        this.local = local;
        this.remote = remote;
    }

    @Override
    public CompletableFuture<Map<TopicPartition, Errors>> writeMarkers(long producerId, short producerEpoch,
                                                                     int coordinatorEpoch, boolean commit,
                                                                     Set<TopicPartition> partitions) {
        Map<TopicPartition, Errors> decided = new LinkedHashMap<>();
        Set<TopicPartition> here = new LinkedHashSet<>();
        Map<Integer, Set<TopicPartition>> byLeader = new HashMap<>();
        Map<Integer, Node> leaders = new HashMap<>();
        for (TopicPartition tp : partitions) {
            if (!topicHas(tp)) {
                decided.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
                continue;
            }
            Optional<PartitionState> state = store.partitionState(tp);
            int leader = state.map(PartitionState::leader).orElse(brokerId); // no recorded state: a lone broker
            if (leader == brokerId) {
                here.add(tp);
                continue;
            }
            Node node = leader < 0 ? null : liveNode(leader);
            if (node == null) {
                decided.put(tp, Errors.NOT_LEADER_OR_FOLLOWER);
            } else {
                leaders.put(leader, node);
                byLeader.computeIfAbsent(leader, l -> new LinkedHashSet<>()).add(tp);
            }
        }
        List<CompletableFuture<Map<TopicPartition, Errors>>> parts = new ArrayList<>();
        if (!here.isEmpty()) {
            parts.add(local.writeMarkers(producerId, producerEpoch, coordinatorEpoch, commit, here));
        }
        byLeader.forEach((leader, tps) -> parts.add(remote.send(leaders.get(leader), producerId, producerEpoch,
            coordinatorEpoch, commit, tps)));
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture[0])).thenApply(v -> {
            Map<TopicPartition, Errors> out = new LinkedHashMap<>(decided);
            for (CompletableFuture<Map<TopicPartition, Errors>> f : parts) {
                f.join().forEach((tp, e) -> out.put(tp, retriableWhileTheTopicExists(tp, e)));
            }
            return out;
        });
    }

    /**
     * A leader that does not know the partition yet (its metadata lags the creation) is asked again;
     * the marker is dropped as UNKNOWN_TOPIC_OR_PARTITION only once the topic is gone here too.
     */
    private Errors retriableWhileTheTopicExists(TopicPartition tp, Errors e) {
        return e == Errors.UNKNOWN_TOPIC_OR_PARTITION && topicHas(tp) ? Errors.NOT_LEADER_OR_FOLLOWER : e;
    }

    private boolean topicHas(TopicPartition tp) {
        Optional<TopicMetadata> topic = store.topic(tp.topic());
        return topic.isPresent() && tp.partition() >= 0 && tp.partition() < topic.get().partitionCount();
    }

    private Node liveNode(int id) {
        for (BrokerRegistration b : store.liveBrokers()) {
            if (b.id() == id) {
                return new Node(b.id(), b.host(), b.port(), b.rack());
            }
        }
        return null;
    }
}
