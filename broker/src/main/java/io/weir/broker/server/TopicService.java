package io.weir.broker.server;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Creates, grows, reconfigures and deletes topics: validates the request, makes the change durable in
 * the {@link MetadataStore}, then applies it to the hosted partitions. Shared by the admin APIs and
 * by auto-creation. Changes are serialized (one lock) so two creates of one name cannot both win.
 */
public final class TopicService {
    private static final Logger log = LoggerFactory.getLogger(TopicService.class);

    private final BrokerConfig config;
    private final MetadataStore store;
    private final ReplicaManager replicaManager;
    private final TopicConfigs topicConfigs;
    private final TopicController controller;

    /** A service over a store without a cluster: this broker is the controller and holds every replica. */
    public TopicService(BrokerConfig config, MetadataStore store, ReplicaManager replicaManager,
                        TopicConfigs topicConfigs) {
        this(config, store, replicaManager, topicConfigs, TopicController.local(store, config.brokerId()));
    }

    public TopicService(BrokerConfig config, MetadataStore store, ReplicaManager replicaManager,
                        TopicConfigs topicConfigs, TopicController controller) {
        this.config = config;
        this.store = store;
        this.replicaManager = replicaManager;
        this.topicConfigs = topicConfigs;
        this.controller = controller;
    }

    /**
     * Runs a controller write: null when it succeeded, else the error (a deposed controller is
     * NOT_CONTROLLER; a topic another write created meanwhile exists; a request written for the
     * controller that it has not completed in time is REQUEST_TIMED_OUT, as in Kafka).
     */
    private Result viaController(Runnable write, Result ignored) {
        try {
            write.run();
            return null;
        } catch (TopicController.NotControllerException e) {
            return Result.error(Errors.NOT_CONTROLLER, e.getMessage());
        } catch (TopicController.NotCompletedException e) {
            return Result.error(Errors.REQUEST_TIMED_OUT, e.getMessage());
        } catch (RuntimeException e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof org.apache.zookeeper.KeeperException.NodeExistsException) {
                    return Result.error(Errors.TOPIC_ALREADY_EXISTS, "Topic already exists.");
                }
            }
            throw e;
        }
    }

    /** An error with its message, or {@link #OK}. */
    public record Result(Errors error, String message, TopicMetadata topic) {
        static Result error(Errors e, String m) {
            return new Result(e, m, null);
        }
    }

    public static final Result OK = new Result(Errors.NONE, null, null);

    public TopicConfigs topicConfigs() {
        return topicConfigs;
    }

    /**
     * Creates a topic. {@code partitions} or {@code replicationFactor} of -1 take the broker defaults;
     * {@code assignment} (partition → replica broker ids), when not empty, fixes both.
     */
    public Result create(String name, int partitions, short replicationFactor,
                         Map<Integer, List<Integer>> assignment, Map<String, String> configs, boolean validateOnly) {
        return create(name, partitions, replicationFactor, assignment, configs, validateOnly, null);
    }

    /**
     * {@link #create(String, int, short, Map, Map, boolean)} for a CreateTopics request: a broker that
     * is not the controller waits at most {@code timeoutMs} for the controller to complete the creation
     * (REQUEST_TIMED_OUT past it; the topic is still created), and answers once the request is written
     * when {@code timeoutMs <= 0}, as Kafka does.
     */
    public Result create(String name, int partitions, short replicationFactor, Map<Integer, List<Integer>> assignment,
                         Map<String, String> configs, boolean validateOnly, long timeoutMs) {
        return create(name, partitions, replicationFactor, assignment, configs, validateOnly, Long.valueOf(timeoutMs));
    }

    /** {@code timeoutMs} null: the controller's own bound on the wait (requests without a timeout). */
    private synchronized Result create(String name, int partitions, short replicationFactor,
                                       Map<Integer, List<Integer>> assignment, Map<String, String> configs,
                                       boolean validateOnly, Long timeoutMs) {
        String bad = TopicMetadata.validateName(name);
        if (bad != null) {
            return Result.error(Errors.INVALID_TOPIC_EXCEPTION, bad);
        }
        if (store.topic(name).isPresent()) {
            return Result.error(Errors.TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
        }
        if (collides(name)) {
            return Result.error(Errors.INVALID_TOPIC_EXCEPTION, "Topic '" + name
                + "' collides with an existing topic whose name differs only in '.' versus '_'.");
        }
        if (!assignment.isEmpty()) {
            if (partitions != -1 || replicationFactor != -1) {
                return Result.error(Errors.INVALID_REQUEST,
                    "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
            }
            List<Integer> live = controller.liveBrokerIds();
            for (int p = 0; p < assignment.size(); p++) {
                List<Integer> replicas = assignment.get(p);
                if (replicas == null || replicas.isEmpty()) {
                    return Result.error(Errors.INVALID_REPLICA_ASSIGNMENT, "Partitions must be numbered 0.."
                        + (assignment.size() - 1) + " with at least one replica each");
                }
                for (int b : replicas) {
                    if (!live.contains(b)) {
                        return Result.error(Errors.INVALID_REPLICA_ASSIGNMENT, "Broker " + b + " is not alive");
                    }
                }
            }
            partitions = assignment.size();
            replicationFactor = (short) assignment.get(0).size();
        }
        if (partitions == -1) {
            partitions = config.getInt(BrokerConfig.NUM_PARTITIONS);
        }
        if (replicationFactor == -1) {
            replicationFactor = config.getShort(BrokerConfig.DEFAULT_REPLICATION_FACTOR);
        }
        if (partitions <= 0) {
            return Result.error(Errors.INVALID_PARTITIONS, "Number of partitions must be larger than 0.");
        }
        if (partitions > maxPartitions()) {
            return tooManyPartitions(partitions);
        }
        if (replicationFactor <= 0) {
            return Result.error(Errors.INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0.");
        }
        int liveBrokers = controller.liveBrokerIds().size();
        if (replicationFactor > liveBrokers) {
            return Result.error(Errors.INVALID_REPLICATION_FACTOR, "Unable to replicate the partition "
                + replicationFactor + " time(s): The target replication factor of " + replicationFactor
                + " cannot be reached because only " + liveBrokers + " broker(s) are registered.");
        }
        String invalid = topicConfigs.validate(configs);
        if (invalid != null) {
            return Result.error(Errors.INVALID_CONFIG, invalid);
        }
        TopicMetadata topic = new TopicMetadata(name, UUID.randomUUID(), partitions, replicationFactor, configs);
        if (validateOnly) {
            return new Result(Errors.NONE, null, topic);
        }
        Result created = viaController(() -> {
            if (timeoutMs == null) {
                controller.createTopic(topic, assignment);
            } else {
                controller.createTopic(topic, assignment, timeoutMs);
            }
        }, null);
        if (created != null) {
            return created;
        }
        if (controller.callerHostsPartitions()) {
            replicaManager.hostTopic(topic);
        }
        log.info("created topic {} with {} partitions, replication factor {}, configs {}", name, partitions,
            replicationFactor, configs);
        return new Result(Errors.NONE, null, topic);
    }

    private int maxPartitions() {
        return config.getInt(BrokerConfig.TOPIC_MAX_PARTITIONS);
    }

    private Result tooManyPartitions(int partitions) {
        return Result.error(Errors.INVALID_PARTITIONS, "Number of partitions " + partitions + " exceeds "
            + BrokerConfig.TOPIC_MAX_PARTITIONS + " " + maxPartitions() + ".");
    }

    private boolean collides(String name) {
        String norm = name.replace('.', '_');
        for (String existing : store.topics().keySet()) {
            if (!existing.equals(name) && existing.replace('.', '_').equals(norm)) {
                return true;
            }
        }
        return false;
    }

    /** Creates a topic with the broker defaults because a client asked for it by name. */
    public Result autoCreate(String name) {
        if (TopicMetadata.isInternal(name)) {
            return Result.error(Errors.UNKNOWN_TOPIC_OR_PARTITION, "Internal topic " + name + " is not created here");
        }
        Result r = create(name, -1, (short) -1, Map.of(), Map.of(), false);
        if ((r.error() == Errors.TOPIC_ALREADY_EXISTS || r.error() == Errors.REQUEST_TIMED_OUT)
            && store.topic(name).isPresent()) {
            // created (by another request, or still being completed by the controller)
            return new Result(Errors.NONE, null, store.topic(name).orElseThrow());
        }
        return r;
    }

    public Result delete(String name) {
        return delete(name, null);
    }

    /** {@link #delete(String)} for a DeleteTopics request, waiting at most {@code timeoutMs} as {@link #create(String, int, short, Map, Map, boolean, long)}. */
    public Result delete(String name, long timeoutMs) {
        return delete(name, Long.valueOf(timeoutMs));
    }

    private synchronized Result delete(String name, Long timeoutMs) {
        if (!config.getBoolean(BrokerConfig.DELETE_TOPIC_ENABLE)) {
            return Result.error(Errors.TOPIC_DELETION_DISABLED, "Topic deletion is disabled.");
        }
        TopicMetadata topic = store.topic(name).orElse(null);
        if (topic == null) {
            return Result.error(Errors.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
        }
        Result deleted = viaController(() -> {
            if (timeoutMs == null) {
                controller.deleteTopic(topic);
            } else {
                controller.deleteTopic(topic, timeoutMs);
            }
        }, null);
        if (deleted != null) {
            return deleted;
        }
        if (controller.callerHostsPartitions()) {
            replicaManager.deleteTopic(topic);
        }
        log.info("deleted topic {}", name);
        return new Result(Errors.NONE, null, topic);
    }

    /**
     * Grows a topic to {@code newCount} partitions through the controller: UNKNOWN_TOPIC_OR_PARTITION,
     * REASSIGNMENT_IN_PROGRESS while any of its partitions is being reassigned (Kafka's rule), INVALID_PARTITIONS
     * for a count that does not grow it, or the partition limit's error.
     */
    public Result createPartitions(String name, int newCount, boolean validateOnly) {
        return createPartitions(name, newCount, validateOnly, null);
    }

    /**
     * {@link #createPartitions(String, int, boolean)} for a CreatePartitions request, waiting at most
     * {@code timeoutMs} as {@link #create(String, int, short, Map, Map, boolean, long)}.
     */
    public Result createPartitions(String name, int newCount, boolean validateOnly, long timeoutMs) {
        return createPartitions(name, newCount, validateOnly, Long.valueOf(timeoutMs));
    }

    private synchronized Result createPartitions(String name, int newCount, boolean validateOnly, Long timeoutMs) {
        TopicMetadata topic = store.topic(name).orElse(null);
        if (topic == null) {
            return Result.error(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + name + "' does not exist.");
        }
        if (isBeingReassigned(topic)) {
            // Kafka's rule: the new partitions' assignment would be computed from replicas that are moving
            return Result.error(Errors.REASSIGNMENT_IN_PROGRESS, "A partition reassignment is in progress for the topic '"
                + name + "'.");
        }
        if (newCount < topic.partitionCount()) {
            return Result.error(Errors.INVALID_PARTITIONS, "Topic currently has " + topic.partitionCount()
                + " partitions, which is higher than the requested " + newCount + ".");
        }
        if (newCount == topic.partitionCount()) {
            return Result.error(Errors.INVALID_PARTITIONS, "Topic already has " + newCount + " partitions.");
        }
        if (newCount > maxPartitions()) {
            return tooManyPartitions(newCount);
        }
        TopicMetadata grown = topic.withPartitionCount(newCount);
        if (!validateOnly) {
            Result grew = viaController(() -> {
                if (timeoutMs == null) {
                    controller.addPartitions(topic, newCount);
                } else {
                    controller.addPartitions(topic, newCount, timeoutMs);
                }
            }, null);
            if (grew != null) {
                return grew;
            }
            if (controller.callerHostsPartitions()) {
                replicaManager.hostPartitions(grown, topic.partitionCount(), newCount);
            }
            log.info("topic {} now has {} partitions", name, newCount);
        }
        return new Result(Errors.NONE, null, grown);
    }

    /** Whether a partition of {@code topic} is being reassigned, as this broker's metadata shows. */
    private boolean isBeingReassigned(TopicMetadata topic) {
        if (!(controller instanceof PartitionReassigner reassigner)) {
            return false;
        }
        java.util.Set<io.weir.common.TopicPartition> partitions = new java.util.HashSet<>();
        for (int p = 0; p < topic.partitionCount(); p++) {
            partitions.add(new io.weir.common.TopicPartition(topic.name(), p));
        }
        return !reassigner.listPartitionReassignments(partitions).isEmpty();
    }

    /** Applies set/delete/append/subtract operations (Kafka's IncrementalAlterConfigs op codes 0-3). */
    public synchronized Result alterConfigs(String name, List<ConfigOp> ops, boolean validateOnly) {
        TopicMetadata topic = store.topic(name).orElse(null);
        if (topic == null) {
            return Result.error(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + name + "' does not exist.");
        }
        Map<String, String> next = new HashMap<>(topic.configs());
        for (ConfigOp op : ops) {
            if (!TopicConfigs.topicKeys().contains(op.name())) {
                return Result.error(Errors.INVALID_CONFIG, "Unknown topic config name: " + op.name());
            }
            switch (op.op()) {
                case 0 -> next.put(op.name(), op.value());
                case 1 -> next.remove(op.name());
                case 2, 3 -> {
                    if (TopicConfigs.typeOf(op.name()) != io.weir.common.config.ConfigDef.Type.LIST) {
                        return Result.error(Errors.INVALID_CONFIG, "Config " + op.name() + " is not a list: "
                            + (op.op() == 2 ? "APPEND" : "SUBTRACT") + " is not allowed");
                    }
                    java.util.LinkedHashSet<String> items = new java.util.LinkedHashSet<>(listItems(
                        next.getOrDefault(op.name(), topicConfigs.brokerDefaults().get(op.name()))));
                    List<String> given = listItems(op.value());
                    if (op.op() == 2) {
                        items.addAll(given);
                    } else {
                        items.removeAll(given);
                    }
                    next.put(op.name(), String.join(",", items));
                }
                default -> {
                    return Result.error(Errors.INVALID_REQUEST, "Unknown config operation " + op.op());
                }
            }
        }
        String invalid = topicConfigs.validate(next);
        if (invalid != null) {
            return Result.error(Errors.INVALID_CONFIG, invalid);
        }
        TopicMetadata changed = topic.withConfigs(next);
        if (!validateOnly) {
            store.updateTopic(changed);
            replicaManager.updateTopicConfig(changed);
            log.info("topic {} configs are now {}", name, next);
        }
        return new Result(Errors.NONE, null, changed);
    }

    /**
     * Replaces the topic's whole set of overrides with {@code configs} (the legacy AlterConfigs API:
     * keys not named go back to their defaults).
     */
    public synchronized Result replaceConfigs(String name, Map<String, String> configs, boolean validateOnly) {
        TopicMetadata topic = store.topic(name).orElse(null);
        if (topic == null) {
            return Result.error(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + name + "' does not exist.");
        }
        String invalid = topicConfigs.validate(configs);
        if (invalid != null) {
            return Result.error(Errors.INVALID_CONFIG, invalid);
        }
        TopicMetadata changed = topic.withConfigs(new HashMap<>(configs));
        if (!validateOnly) {
            store.updateTopic(changed);
            replicaManager.updateTopicConfig(changed);
            log.info("topic {} configs are now {}", name, configs);
        }
        return new Result(Errors.NONE, null, changed);
    }

    /** The items of a comma-separated list value; none for null or blank. */
    private static List<String> listItems(String value) {
        if (value == null || value.isBlank()) {
            return List.of();
        }
        return List.of(value.trim().split("\\s*,\\s*"));
    }

    /** One incremental config change. */
    public record ConfigOp(String name, int op, String value) {
    }
}
