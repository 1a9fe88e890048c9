package io.weir.broker.server;

import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;

import java.util.List;
import java.util.Map;

/**
 * The controller's topic operations, the one way topics are created, deleted or grown. In a cluster
 * this is {@code io.weir.broker.zk.ZkController}: on the elected controller it writes ZooKeeper under
 * its epoch fence; on any other broker it writes the request into ZooKeeper (as Kafka's ZooKeeper
 * mode did) and waits for the controller to complete it.
 */
public interface TopicController {
    /** Ids of the brokers a new replica may go to. */
    List<Integer> liveBrokerIds();

    /**
     * Creates the topic; {@code assignment} (partition → replicas, leader first) may be empty, and the
     * controller then spreads replicas over the live brokers.
     */
    void createTopic(TopicMetadata topic, Map<Integer, List<Integer>> assignment);

    void deleteTopic(TopicMetadata topic);

    /** Grows the topic from {@code topic.partitionCount()} to {@code newCount} partitions. */
    void addPartitions(TopicMetadata topic, int newCount);

    /**
     * {@link #createTopic(TopicMetadata, Map)} for a request with Kafka's {@code timeoutMs}: a broker
     * that writes the request for the controller waits at most {@code timeoutMs} for the result (then
     * {@link NotCompletedException}), and not at all when {@code timeoutMs <= 0}. A controller that
     * writes the change itself ignores it.
     */
    default void createTopic(TopicMetadata topic, Map<Integer, List<Integer>> assignment, long timeoutMs) {
        createTopic(topic, assignment);
    }

    /** {@link #deleteTopic(TopicMetadata)} waiting at most {@code timeoutMs}, as {@link #createTopic(TopicMetadata, Map, long)}. */
    default void deleteTopic(TopicMetadata topic, long timeoutMs) {
        deleteTopic(topic);
    }

    /** {@link #addPartitions(TopicMetadata, int)} waiting at most {@code timeoutMs}, as {@link #createTopic(TopicMetadata, Map, long)}. */
    default void addPartitions(TopicMetadata topic, int newCount, long timeoutMs) {
        addPartitions(topic, newCount);
    }

    /**
     * Whether the caller must apply a change to the local partitions itself; false when the broker's
     * metadata listener applies every change (to the replicas assigned to it) before the write returns.
     */
    default boolean callerHostsPartitions() {
        return true;
    }

    /**
     * Thrown when the request was written for the controller but its result (partition leaders, the
     * deletion) was not visible in this broker's metadata in time: Kafka's REQUEST_TIMED_OUT; the
     * controller still completes it.
     */
    class NotCompletedException extends RuntimeException {
        public NotCompletedException(String message) {
            super(message);
        }
    }

    /** Thrown on a broker that is not the controller (or no longer is). */
    class NotControllerException extends RuntimeException {
        public NotControllerException(String message) {
            super(message);
        }
    }

    /**
     * The controller of a store that holds topics without a cluster (unit tests with a
     * {@code LocalMetadataStore}): writes straight to the store, every replica on {@code brokerId}.
     */
    static TopicController local(MetadataStore store, int brokerId) {
        return new TopicController() {
            @Override
            public List<Integer> liveBrokerIds() {
                return List.of(brokerId);
            }

            @Override
            public void createTopic(TopicMetadata topic, Map<Integer, List<Integer>> assignment) {
                store.createTopic(topic);
            }

            @Override
            public void deleteTopic(TopicMetadata topic) {
                store.deleteTopic(topic.name());
            }

            @Override
            public void addPartitions(TopicMetadata topic, int newCount) {
                store.updateTopic(topic.withPartitionCount(newCount));
            }
        };
    }
}
