package io.weir.broker.testing;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.common.TopicPartition;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Cluster metadata as a test sets it — topics, partition leaders, live brokers — for code that only
 * reads metadata (routing by leader). Topic changes through the store are refused: the controller's
 * path is tested with a real ZooKeeper. Thread-safe.
 */
public final class FixedMetadataStore implements MetadataStore {
    private final Map<String, TopicMetadata> topics = new ConcurrentHashMap<>();
    private final Map<TopicPartition, PartitionState> states = new ConcurrentHashMap<>();
    private final List<BrokerRegistration> live = new CopyOnWriteArrayList<>();

    /** Adds a topic of {@code partitions} partitions; partition i is led by {@code leaders[i]} (-1: none). */
    public FixedMetadataStore topic(String name, int partitions, int... leaders) {
        topics.put(name, new TopicMetadata(name, UUID.randomUUID(), partitions, (short) 1, Map.of()));
        for (int p = 0; p < leaders.length; p++) {
            leader(new TopicPartition(name, p), leaders[p], 0);
        }
        return this;
    }

    /** Sets the partition's leader and leader epoch. */
    public FixedMetadataStore leader(TopicPartition tp, int leader, int leaderEpoch) {
        states.put(tp, new PartitionState(leader, leaderEpoch, List.of(), 0, 0));
        return this;
    }

    /** Registers a live broker at {@code host:port}. */
    public FixedMetadataStore liveBroker(int id, String host, int port) {
        live.add(new BrokerRegistration(id, host, port, null, List.of()));
        return this;
    }

    @Override
    public String clusterId() {
        return "fixed";
    }

    @Override
    public Map<String, TopicMetadata> topics() {
        return Map.copyOf(topics);
    }

    @Override
    public boolean createTopic(TopicMetadata topic) {
        throw new UnsupportedOperationException("fixed metadata");
    }

    @Override
    public boolean deleteTopic(String name) {
        throw new UnsupportedOperationException("fixed metadata");
    }

    @Override
    public boolean updateTopic(TopicMetadata topic) {
        throw new UnsupportedOperationException("fixed metadata");
    }

    @Override
    public List<BrokerRegistration> liveBrokers() {
        return List.copyOf(live);
    }

    @Override
    public Optional<PartitionState> partitionState(TopicPartition tp) {
        return Optional.ofNullable(states.get(tp));
    }

    @Override
    public void close() {
    }
}
