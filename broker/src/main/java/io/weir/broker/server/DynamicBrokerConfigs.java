package io.weir.broker.server;

import java.util.List;
import java.util.Map;

/**
 * The broker configs that may change while the broker runs (IncrementalAlterConfigs on a BROKER resource):
 * the replication throttles {@code kafka-reassign-partitions.sh --throttle} sets and {@code --verify} clears.
 * Every other broker config is static (server.properties). Stored per broker, as Kafka's ZooKeeper mode
 * stored them in {@code /config/brokers/<id>}.
 *
 * <p>{@code follower.replication.throttled.rate} is applied by the replica fetchers and
 * {@code leader.replication.throttled.rate} by the leader's answers to follower fetches (a
 * {@link ReplicationThrottle} each); {@code replica.alter.log.dirs.io.max.bytes.per.second} by the
 * {@link LogDirMover} copying replicas between log directories.
 */
public interface DynamicBrokerConfigs {
    /** The keys that may be set dynamically; each takes a long of at least 0 (bytes per second). */
    List<String> KEYS = List.of("leader.replication.throttled.rate", "follower.replication.throttled.rate",
        "replica.alter.log.dirs.io.max.bytes.per.second");

    /** This broker's dynamic configs now. */
    Map<String, String> get();

    /** Replaces this broker's dynamic configs (an empty map removes them all). */
    void set(Map<String, String> configs);
}
