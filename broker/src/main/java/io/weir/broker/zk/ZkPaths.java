package io.weir.broker.zk;

/**
 * The znodes Weir keeps in ZooKeeper (under the chroot of {@code zookeeper.connect}), laid out as
 * Apache Kafka's ZooKeeper mode laid them out, so the tree reads familiarly in {@code zkCli.sh}.
 */
public final class ZkPaths {
    private ZkPaths() {
    }

    /** {"version":"1","id":"<cluster id>"} */
    public static final String CLUSTER_ID = "/cluster/id";
    /** one ephemeral child per live broker: {"version":5,"host","port","rack","endpoints",...} */
    public static final String BROKER_IDS = "/brokers/ids";
    /** one child per topic: {"version":3,"topic_id","partitions":{"0":[replicas]}} */
    public static final String BROKER_TOPICS = "/brokers/topics";
    /** one child per topic: {"version":1,"config":{overrides}} */
    public static final String CONFIG_TOPICS = "/config/topics";
    /** ephemeral, the active controller: {"version":2,"brokerid":N,"timestamp":"ms"} */
    public static final String CONTROLLER = "/controller";
    /** the controller epoch as a decimal string; its znode version fences deposed controllers */
    public static final String CONTROLLER_EPOCH = "/controller_epoch";
    /** the Curator LeaderLatch that elects the controller */
    public static final String CONTROLLER_ELECTION = "/weir/controller_election";
    /** {"version":1,"broker":N,"block_start":"s","block_end":"e"} (end inclusive) */
    public static final String PRODUCER_ID_BLOCK = "/latest_producer_id_block";

    /** one child per topic whose deletion a broker asked the controller for (Kafka's marker) */
    public static final String DELETE_TOPICS = "/admin/delete_topics";

    /**
     * Weir's: one persistent sequential child per leader election a broker that is not the controller
     * asks for (ElectLeaders): {"version":1,"election_type":0|1,"partitions":[{"topic","partition"}]|null};
     * the controller adds "results" and the asking broker reads and deletes it. (Kafka's
     * {@code /admin/preferred_replica_election} held one preferred election at a time.)
     */
    public static final String LEADER_ELECTIONS = "/weir/leader_elections";
    /**
     * Weir's: one persistent sequential child per AlterPartitionReassignments a broker that is not the
     * controller forwards: {"version":1,"allow_replication_factor_change":bool,"partitions":[{"topic",
     * "partition","replicas":[..]|null}]}; answered in place with "results" as {@link #LEADER_ELECTIONS}.
     * The reassignments in progress themselves live in the topic znodes ({@code adding_replicas},
     * {@code removing_replicas}), as in Kafka's ZooKeeper mode, so they survive a controller failover.
     */
    public static final String PARTITION_REASSIGNMENTS = "/weir/partition_reassignments";
    /**
     * Weir's: one ephemeral child per broker with a failed log directory, named by its id, listing the replicas
     * it took offline ({@link ZkOfflineReplicas}; Kafka's ZooKeeper mode used {@code /log_dir_event_notification}).
     */
    public static final String OFFLINE_REPLICAS = "/weir/offline_replicas";
    /** Weir's: one ephemeral child per broker in a controlled shutdown, named by its id. */
    public static final String CONTROLLED_SHUTDOWN = "/weir/controlled_shutdown";

    public static String controlledShutdown(int brokerId) {
        return CONTROLLED_SHUTDOWN + "/" + brokerId;
    }

    public static String deleteTopic(String topic) {
        return DELETE_TOPICS + "/" + topic;
    }

    public static String broker(int id) {
        return BROKER_IDS + "/" + id;
    }

    public static String topic(String topic) {
        return BROKER_TOPICS + "/" + topic;
    }

    /** A broker's dynamic configs (the replication throttles): {"version":1,"config":{overrides}} */
    public static String brokerConfig(int brokerId) {
        return "/config/brokers/" + brokerId;
    }

    public static String topicConfig(String topic) {
        return CONFIG_TOPICS + "/" + topic;
    }

    public static String partitions(String topic) {
        return topic(topic) + "/partitions";
    }

    public static String partition(String topic, int partition) {
        return partitions(topic) + "/" + partition;
    }

    public static String partitionState(String topic, int partition) {
        return partition(topic, partition) + "/state";
    }
}
