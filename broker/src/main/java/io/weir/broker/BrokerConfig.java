package io.weir.broker;

import io.weir.broker.network.SocketServer;
import io.weir.common.config.AbstractConfig;
import io.weir.common.config.ConfigDef;
import io.weir.common.config.ConfigException;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.weir.common.config.ConfigDef.Type.BOOLEAN;
import static io.weir.common.config.ConfigDef.Type.INT;
import static io.weir.common.config.ConfigDef.Type.LIST;
import static io.weir.common.config.ConfigDef.Type.LONG;
import static io.weir.common.config.ConfigDef.Type.SHORT;
import static io.weir.common.config.ConfigDef.Type.STRING;
import static io.weir.common.config.ConfigDef.atLeast;
import static io.weir.common.config.ConfigDef.between;
import static io.weir.common.config.ConfigDef.in;

/**
 * The broker's configuration, with Kafka's key names and defaults where the meaning is the same
 * ({@code server.properties} written for Kafka mostly works; keys Weir does not know are logged and
 * ignored, as Kafka does). Immutable.
 */
public final class BrokerConfig extends AbstractConfig {
    public static final String BROKER_ID = "broker.id";
    public static final String LISTENERS = "listeners";
    public static final String ADVERTISED_LISTENERS = "advertised.listeners";
    public static final String LOG_DIRS = "log.dirs";
    public static final String LOG_DIR = "log.dir";
    public static final String NUM_PARTITIONS = "num.partitions";
    public static final String DEFAULT_REPLICATION_FACTOR = "default.replication.factor";
    public static final String AUTO_CREATE_TOPICS_ENABLE = "auto.create.topics.enable";
    public static final String DELETE_TOPIC_ENABLE = "delete.topic.enable";
    public static final String LOG_SEGMENT_BYTES = "log.segment.bytes";
    public static final String LOG_ROLL_MS = "log.roll.ms";
    public static final String LOG_ROLL_HOURS = "log.roll.hours";
    public static final String LOG_RETENTION_MS = "log.retention.ms";
    public static final String LOG_RETENTION_MINUTES = "log.retention.minutes";
    public static final String LOG_RETENTION_HOURS = "log.retention.hours";
    public static final String LOG_RETENTION_BYTES = "log.retention.bytes";
    public static final String LOG_RETENTION_CHECK_INTERVAL_MS = "log.retention.check.interval.ms";
    public static final String LOG_FLUSH_INTERVAL_MESSAGES = "log.flush.interval.messages";
    public static final String LOG_FLUSH_INTERVAL_MS = "log.flush.interval.ms";
    public static final String LOG_FLUSH_SCHEDULER_INTERVAL_MS = "log.flush.scheduler.interval.ms";
    public static final String LOG_CLEANUP_POLICY = "log.cleanup.policy";
    public static final String LOG_CLEANER_ENABLE = "log.cleaner.enable";
    public static final String LOG_VERIFY_ON_START = "log.verify.on.start";
    public static final String LOG_SCRUBBER_BYTES_PER_SECOND = "log.scrubber.bytes.per.second";
    public static final String LOG_INDEX_INTERVAL_BYTES = "log.index.interval.bytes";
    public static final String LOG_INDEX_SIZE_MAX_BYTES = "log.index.size.max.bytes";
    public static final String LOG_MESSAGE_TIMESTAMP_TYPE = "log.message.timestamp.type";
    public static final String MESSAGE_MAX_BYTES = "message.max.bytes";
    public static final String SOCKET_REQUEST_MAX_BYTES = "socket.request.max.bytes";
    public static final String NUM_NETWORK_THREADS = "num.network.threads";
    public static final String NUM_IO_THREADS = "num.io.threads";
    public static final String QUEUED_MAX_REQUESTS = "queued.max.requests";
    public static final String QUEUED_MAX_REQUEST_BYTES = "queued.max.request.bytes";
    public static final String SOCKET_REQUEST_READ_TIMEOUT_MS = "socket.request.read.timeout.ms";
    public static final String CONNECTIONS_MAX_IDLE_MS = "connections.max.idle.ms";
    public static final String MAX_CONNECTIONS = "max.connections";
    public static final String MAX_CONNECTIONS_PER_IP = "max.connections.per.ip";
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";
    public static final String REPLICA_LAG_TIME_MAX_MS = "replica.lag.time.max.ms";
    public static final String REPLICA_FETCH_MAX_BYTES = "replica.fetch.max.bytes";
    public static final String REPLICA_FETCH_RESPONSE_MAX_BYTES = "replica.fetch.response.max.bytes";
    public static final String REPLICA_FETCH_WAIT_MAX_MS = "replica.fetch.wait.max.ms";
    public static final String REPLICA_FETCH_MIN_BYTES = "replica.fetch.min.bytes";
    public static final String REPLICA_FETCH_BACKOFF_MS = "replica.fetch.backoff.ms";
    public static final String REPLICA_SOCKET_TIMEOUT_MS = "replica.socket.timeout.ms";
    public static final String REPLICA_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS = "replica.high.watermark.checkpoint.interval.ms";
    public static final String NUM_REPLICA_FETCHERS = "num.replica.fetchers";
    public static final String MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS = "max.incremental.fetch.session.cache.slots";
    public static final String ZOOKEEPER_CONNECT = "zookeeper.connect";
    public static final String ZOOKEEPER_SESSION_TIMEOUT_MS = "zookeeper.session.timeout.ms";
    public static final String ZOOKEEPER_CONNECTION_TIMEOUT_MS = "zookeeper.connection.timeout.ms";
    public static final String BROKER_RACK = "broker.rack";
    public static final String UNCLEAN_LEADER_ELECTION_ENABLE = "unclean.leader.election.enable";
    public static final String AUTO_LEADER_REBALANCE_ENABLE = "auto.leader.rebalance.enable";
    public static final String LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS = "leader.imbalance.check.interval.seconds";
    public static final String LEADER_IMBALANCE_PER_BROKER_PERCENTAGE = "leader.imbalance.per.broker.percentage";
    public static final String CONTROLLED_SHUTDOWN_ENABLE = "controlled.shutdown.enable";
    public static final String CONTROLLER_BROKER_LIVENESS_TIMEOUT_MS = "controller.broker.liveness.timeout.ms";
    public static final String CONTROLLED_SHUTDOWN_MAX_RETRIES = "controlled.shutdown.max.retries";
    public static final String CONTROLLED_SHUTDOWN_RETRY_BACKOFF_MS = "controlled.shutdown.retry.backoff.ms";
    public static final String CLUSTER_ID = "cluster.id";
    public static final String OFFSETS_TOPIC_NUM_PARTITIONS = "offsets.topic.num.partitions";
    public static final String OFFSETS_TOPIC_SEGMENT_BYTES = "offsets.topic.segment.bytes";
    public static final String OFFSETS_TOPIC_REPLICATION_FACTOR = "offsets.topic.replication.factor";
    public static final String OFFSETS_RETENTION_MINUTES = "offsets.retention.minutes";
    public static final String OFFSETS_RETENTION_CHECK_INTERVAL_MS = "offsets.retention.check.interval.ms";
    public static final String OFFSET_METADATA_MAX_BYTES = "offset.metadata.max.bytes";
    public static final String GROUP_MIN_SESSION_TIMEOUT_MS = "group.min.session.timeout.ms";
    public static final String GROUP_MAX_SESSION_TIMEOUT_MS = "group.max.session.timeout.ms";
    public static final String GROUP_INITIAL_REBALANCE_DELAY_MS = "group.initial.rebalance.delay.ms";
    public static final String GROUP_MAX_SIZE = "group.max.size";
    public static final String TRANSACTION_STATE_LOG_NUM_PARTITIONS = "transaction.state.log.num.partitions";
    public static final String TRANSACTION_STATE_LOG_SEGMENT_BYTES = "transaction.state.log.segment.bytes";
    public static final String TRANSACTION_STATE_LOG_REPLICATION_FACTOR = "transaction.state.log.replication.factor";
    public static final String TRANSACTION_STATE_LOG_MIN_ISR = "transaction.state.log.min.isr";
    public static final String TRANSACTION_MAX_TIMEOUT_MS = "transaction.max.timeout.ms";
    public static final String TRANSACTIONAL_ID_EXPIRATION_MS = "transactional.id.expiration.ms";
    public static final String TRANSACTION_VERSION = "transaction.version";
    public static final String PRODUCER_ID_EXPIRATION_MS = "producer.id.expiration.ms";
    public static final String PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS = "producer.id.expiration.check.interval.ms";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String COMPRESSION_GZIP_LEVEL = "compression.gzip.level";
    public static final String COMPRESSION_LZ4_LEVEL = "compression.lz4.level";
    public static final String COMPRESSION_ZSTD_LEVEL = "compression.zstd.level";
    /** Weir's own key: Kafka has no per-topic cap (its KRaft controller refuses any one operation of over 10,000 records). */
    public static final String TOPIC_MAX_PARTITIONS = "topic.max.partitions";

    static final ConfigDef DEF = new ConfigDef()
        .define(BROKER_ID, INT, 0, atLeast(0), "This broker's id in the cluster.")
        .define(LISTENERS, LIST, "PLAINTEXT://127.0.0.1:9092", "Listener URIs to bind, e.g. PLAINTEXT://127.0.0.1:9092.")
        .define(ADVERTISED_LISTENERS, LIST, null, "Listener URIs given to clients in metadata (default: listeners).")
        .define(LOG_DIRS, LIST, null, "Comma-separated directories holding partition logs; a new partition goes to the one holding the"
            + " fewest, the first listed on a tie (default: log.dir).")
        .define(LOG_DIR, STRING, "/tmp/weir-logs", "Directory holding partition logs when log.dirs is not set.")
        .define(NUM_PARTITIONS, INT, 1, atLeast(1), "Partitions of an auto-created topic.")
        .define(DEFAULT_REPLICATION_FACTOR, SHORT, (short) 1, atLeast(1), "Replication factor of an auto-created topic.")
        .define(AUTO_CREATE_TOPICS_ENABLE, BOOLEAN, true, "Create a topic on first metadata request or produce.")
        .define(DELETE_TOPIC_ENABLE, BOOLEAN, true, "Allow DeleteTopics.")
        .define(LOG_SEGMENT_BYTES, INT, 1 << 30, atLeast(14), "Segment size at which a new segment is rolled.")
        .define(LOG_ROLL_MS, LONG, null, atLeast(1), "Segment age at which a new segment is rolled (overrides hours).")
        .define(LOG_ROLL_HOURS, INT, 168, atLeast(1), "Segment age in hours at which a new segment is rolled.")
        .define(LOG_RETENTION_MS, LONG, null, "Retention time in ms (-1 = forever); overrides minutes and hours.")
        .define(LOG_RETENTION_MINUTES, INT, null, "Retention time in minutes; overrides hours.")
        .define(LOG_RETENTION_HOURS, INT, 168, "Retention time in hours.")
        .define(LOG_RETENTION_BYTES, LONG, -1L, "Retention size per partition in bytes (-1 = unbounded).")
        .define(LOG_RETENTION_CHECK_INTERVAL_MS, LONG, 300_000L, atLeast(1), "How often retention runs.")
        .define(LOG_FLUSH_INTERVAL_MESSAGES, LONG, Long.MAX_VALUE, atLeast(1), "fsync after this many records.")
        .define(LOG_FLUSH_INTERVAL_MS, LONG, null, atLeast(0), "fsync when the oldest unflushed data is this old.")
        .define(LOG_FLUSH_SCHEDULER_INTERVAL_MS, LONG, Long.MAX_VALUE, atLeast(1), "How often the flusher checks.")
        .define(LOG_CLEANUP_POLICY, LIST, "delete", ConfigDef.eachIn("delete", "compact"), "delete and/or compact.")
        .define(LOG_CLEANER_ENABLE, BOOLEAN, true, "Run the log cleaner for compacted topics.")
        .define(LOG_VERIFY_ON_START, BOOLEAN, false, "Weir's: at start, re-validate every segment, not only the"
            + " tail after the recovery point; damage found is quarantined (reads of it fail with CORRUPT_MESSAGE).")
        .define(LOG_SCRUBBER_BYTES_PER_SECOND, LONG, 1024L * 1024, atLeast(0), "Weir's: the background scrubber"
            + " re-validates old segments at this rate and quarantines damage it finds; 0 turns it off.")
        .define(LOG_INDEX_INTERVAL_BYTES, INT, 4096, atLeast(0), "Bytes between offset index entries.")
        .define(LOG_INDEX_SIZE_MAX_BYTES, INT, 10 * 1024 * 1024, atLeast(4), "Maximum size of an index file.")
        .define(LOG_MESSAGE_TIMESTAMP_TYPE, STRING, "CreateTime", in("CreateTime", "LogAppendTime"),
            "Whether record timestamps are the producer's or the broker's.")
        .define(MESSAGE_MAX_BYTES, INT, 1024 * 1024 + 12, atLeast(0), "Largest record batch the broker accepts.")
        .define(SOCKET_REQUEST_MAX_BYTES, INT, 100 * 1024 * 1024, atLeast(1), "Largest request frame.")
        .define(NUM_NETWORK_THREADS, INT, 3, between(1, 64), "Network (selector) threads.")
        .define(NUM_IO_THREADS, INT, 8, between(1, 256), "Request handler threads.")
        .define(QUEUED_MAX_REQUESTS, INT, 500, atLeast(1), "Requests queued between network and handler threads.")
        .define(QUEUED_MAX_REQUEST_BYTES, LONG, null,
            "Most bytes of requests held at once, being read, queued or handled; when reached, network threads stop "
                + "reading until handlers free some. Default: 100 MB, or socket.request.max.bytes if larger; "
                + "-1 = unbounded (Kafka's default). At least socket.request.max.bytes.")
        .define(SOCKET_REQUEST_READ_TIMEOUT_MS, LONG, 30_000L, atLeast(1),
            "Most time a connection may take to send one request once its first byte arrived; then it is closed.")
        .define(CONNECTIONS_MAX_IDLE_MS, LONG, 600_000L, atLeast(1),
            "A connection that neither sends nor receives for this long (and has no request in progress) is closed.")
        .define(MAX_CONNECTIONS, INT, Integer.MAX_VALUE, atLeast(1), "Most connections the broker accepts at once.")
        .define(MAX_CONNECTIONS_PER_IP, INT, Integer.MAX_VALUE, atLeast(1),
            "Most connections the broker accepts at once from one client IP address.")
        .define(MIN_INSYNC_REPLICAS, INT, 1, atLeast(1), "Replicas that must have a record for acks=all.")
        .define(REPLICA_LAG_TIME_MAX_MS, LONG, 30_000L, atLeast(1),
            "A follower that has not caught up with the leader's log end for this long leaves the ISR.")
        .define(REPLICA_FETCH_MAX_BYTES, INT, 1024 * 1024, atLeast(0),
            "Bytes a follower asks for per partition in one fetch (at least one batch is returned).")
        .define(REPLICA_FETCH_RESPONSE_MAX_BYTES, INT, 10 * 1024 * 1024, atLeast(0),
            "Bytes a follower asks for in one fetch, over all partitions.")
        .define(REPLICA_FETCH_WAIT_MAX_MS, INT, 500, atLeast(0),
            "Longest time a follower's fetch waits at the leader for replica.fetch.min.bytes.")
        .define(REPLICA_FETCH_MIN_BYTES, INT, 1, atLeast(1), "Bytes a follower's fetch waits for at the leader.")
        .define(REPLICA_FETCH_BACKOFF_MS, INT, 1000, atLeast(0), "A follower's pause after a failed fetch.")
        .define(REPLICA_SOCKET_TIMEOUT_MS, INT, 30_000, atLeast(1),
            "Request timeout of a follower's fetches (above replica.fetch.wait.max.ms).")
        .define(REPLICA_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS, LONG, 5_000L, atLeast(1),
            "How often the high watermarks are written to replication-offset-checkpoint.")
        .define(NUM_REPLICA_FETCHERS, INT, 1, between(1, 64), "Fetcher threads per source broker.")
        .define(MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS, INT, 1000, atLeast(0), "Most incremental fetch sessions"
            + " (KIP-227) this broker keeps, consumers' and followers' together; 0 turns them off.")
        .define(ZOOKEEPER_CONNECT, STRING, null, "ZooKeeper ensemble of the cluster, host:port[,host:port...][/chroot];"
            + " unset = standalone: the broker runs an embedded ZooKeeper with its data in <log dir>/__zookeeper.")
        .define(ZOOKEEPER_SESSION_TIMEOUT_MS, INT, 18_000, atLeast(1),
            "ZooKeeper session timeout: a broker that stops heartbeating is unregistered (and loses the"
                + " controllership) after this long.")
        .define(ZOOKEEPER_CONNECTION_TIMEOUT_MS, INT, null, atLeast(1),
            "Most time to wait for the ZooKeeper connection at startup (default: zookeeper.session.timeout.ms).")
        .define(BROKER_RACK, STRING, null, "The broker's rack, published in its registration and in Metadata.")
        .define(UNCLEAN_LEADER_ELECTION_ENABLE, BOOLEAN, false, "Whether a partition with no live in-sync replica"
            + " may be led by an out-of-sync one (losing the records it lacks); a topic's own setting wins.")
        .define(AUTO_LEADER_REBALANCE_ENABLE, BOOLEAN, true, "Whether the controller moves leadership back to"
            + " preferred replicas when a broker leads too few of the partitions it is preferred for.")
        .define(LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS, LONG, 300L, atLeast(1),
            "How often the controller checks the leader imbalance.")
        .define(LEADER_IMBALANCE_PER_BROKER_PERCENTAGE, INT, 10, between(0, 100), "The share of a broker's"
            + " preferred partitions that may be led elsewhere before the controller elects the preferred leaders.")
        .define(CONTROLLER_BROKER_LIVENESS_TIMEOUT_MS, LONG, 2_000L, atLeast(0), "How long a broker's listener must"
            + " refuse the controller's connections (after the controller was connected to it) before the controller"
            + " fences it as dead, moving its leaderships and shrinking the ISRs, without waiting for"
            + " zookeeper.session.timeout.ms (the other brokers watch the controller's broker the same way, and"
            + " the first to find it dead hands the controllership on). Only a refused connection counts (nothing listens: the process is gone);"
            + " a broker that does not answer at all is left to its session timeout. 0 turns the probe off.")
        .define(CONTROLLED_SHUTDOWN_ENABLE, BOOLEAN, true, "Whether a stopping broker first asks the controller to"
            + " move the leadership of its partitions to other in-sync replicas.")
        .define(CONTROLLED_SHUTDOWN_MAX_RETRIES, INT, 3, atLeast(1), "Attempts of a controlled shutdown before the"
            + " broker stops anyway.")
        .define(CONTROLLED_SHUTDOWN_RETRY_BACKOFF_MS, LONG, 5000L, atLeast(0),
            "How long one attempt of a controlled shutdown waits for the leaderships to move.")
        .define(CLUSTER_ID, STRING, null, "Cluster id (default: generated once and kept in the log dir).")
        .define(OFFSETS_TOPIC_NUM_PARTITIONS, INT, 50, between(1, 10_000),
            "Partitions of __consumer_offsets when it is created (a group's coordinator is the leader of one).")
        .define(OFFSETS_TOPIC_SEGMENT_BYTES, INT, 100 * 1024 * 1024, atLeast(1024), "Segment size of __consumer_offsets.")
        .define(OFFSETS_TOPIC_REPLICATION_FACTOR, SHORT, (short) 3, atLeast(1),
            "Replication factor of __consumer_offsets when it is created; fewer live brokers: one replica on each.")
        .define(OFFSETS_RETENTION_MINUTES, INT, 10080, atLeast(1),
            "Committed offsets of a group without members are deleted after this long.")
        .define(OFFSETS_RETENTION_CHECK_INTERVAL_MS, LONG, 600_000L, atLeast(1), "How often expired offsets are deleted.")
        .define(OFFSET_METADATA_MAX_BYTES, INT, 4096, atLeast(0), "Largest metadata string of one committed offset.")
        .define(GROUP_MIN_SESSION_TIMEOUT_MS, INT, 6000, atLeast(1), "Smallest session.timeout.ms a member may ask for.")
        .define(GROUP_MAX_SESSION_TIMEOUT_MS, INT, 1_800_000, atLeast(1), "Largest session.timeout.ms a member may ask for.")
        .define(GROUP_INITIAL_REBALANCE_DELAY_MS, INT, 3000, atLeast(0),
            "How long the first rebalance of an empty group waits for more members to join.")
        .define(GROUP_MAX_SIZE, INT, Integer.MAX_VALUE, atLeast(1), "Most members one group may have.")
        .define(TRANSACTION_STATE_LOG_NUM_PARTITIONS, INT, 50, between(1, 10_000),
            "Partitions of __transaction_state when it is created (a transactional id's coordinator leads one).")
        .define(TRANSACTION_STATE_LOG_SEGMENT_BYTES, INT, 100 * 1024 * 1024, atLeast(1024),
            "Segment size of __transaction_state.")
        .define(TRANSACTION_STATE_LOG_REPLICATION_FACTOR, SHORT, (short) 3, atLeast(1),
            "Replication factor of __transaction_state when it is created; fewer live brokers: one replica on each.")
        .define(TRANSACTION_STATE_LOG_MIN_ISR, INT, 2, atLeast(1),
            "min.insync.replicas of __transaction_state (capped at its replication factor).")
        .define(TRANSACTION_MAX_TIMEOUT_MS, INT, 900_000, atLeast(1),
            "Largest transaction.timeout.ms a producer may ask for (InitProducerId answers INVALID_TRANSACTION_TIMEOUT).")
        .define(TRANSACTIONAL_ID_EXPIRATION_MS, LONG, 604_800_000L, atLeast(1),
            "A transactional id with no transaction for this long is forgotten.")
        .define(PRODUCER_ID_EXPIRATION_MS, LONG, 86_400_000L, atLeast(1),
            "A partition forgets a producer (its epoch and last sequences) when its last write is this old and it "
                + "has no open transaction; its next batch is then accepted at any sequence.")
        .define(PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS, LONG, 600_000L, atLeast(1),
            "How often partitions look for producers idle past producer.id.expiration.ms.")
        .define(TRANSACTION_VERSION, SHORT, (short) 2, between(0, 2),
            "The finalized level of the transaction.version feature advertised in ApiVersions: 2 makes current "
                + "clients use transactions V2 (KIP-890: epoch bump at every end, implicit partition adds); 0 or 1 "
                + "keeps them on V1 (with partition verification).")
        .define(TOPIC_MAX_PARTITIONS, INT, 10_000, atLeast(1),
            "Most partitions one topic may have; CreateTopics and CreatePartitions asking for more answer "
                + "INVALID_PARTITIONS (every partition preallocates its index files).")
        .define(COMPRESSION_TYPE, STRING, "producer", in("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
            "Default codec of topics: producer keeps the producer's; a codec makes the broker recompress to it.")
        .define(COMPRESSION_GZIP_LEVEL, INT, -1, level(io.weir.common.record.CompressionType.GZIP),
            "Default gzip level when a topic's compression.type is gzip.")
        .define(COMPRESSION_LZ4_LEVEL, INT, 9, level(io.weir.common.record.CompressionType.LZ4),
            "Default lz4 level when a topic's compression.type is lz4.")
        .define(COMPRESSION_ZSTD_LEVEL, INT, 3, level(io.weir.common.record.CompressionType.ZSTD),
            "Default zstd level when a topic's compression.type is zstd.");

    /** A compression level in the codec's range (Kafka's ranges), as a config validator. */
    public static ConfigDef.Validator level(io.weir.common.record.CompressionType codec) {
        return (name, value) -> {
            try {
                codec.validateLevel(((Number) value).intValue());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(name, value, "must be in [" + codec.minLevel + ", " + codec.maxLevel + "]"
                    + (codec == io.weir.common.record.CompressionType.GZIP ? " or -1" : ""));
            }
        };
    }

    /** The default of a broker config as a string (lists comma-separated), or null when it has none. */
    public static String defaultValueOf(String key) {
        ConfigDef.Key k = DEF.keys().get(key);
        return k == null || k.defaultValue() == null || k.defaultValue() == ConfigDef.NO_DEFAULT ? null
            : asString(k.defaultValue());
    }

    /** A config value as DescribeConfigs reports it: lists comma-separated, null stays null. */
    public static String asString(Object v) {
        return v == null ? null : v instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList())
            : String.valueOf(v);
    }

    /** The documentation line of a broker config, or null for a key the broker does not define. */
    public static String docOf(String key) {
        ConfigDef.Key k = DEF.keys().get(key);
        return k == null ? null : k.doc();
    }

    /** The declared type of a broker config, or null for a key the broker does not define. */
    public static ConfigDef.Type typeOf(String key) {
        ConfigDef.Key k = DEF.keys().get(key);
        return k == null ? null : k.type();
    }

    /** A listener: name (security protocol), host and port. */
    public record Endpoint(String listenerName, String host, int port) {
        public static Endpoint parse(String key, String uri) {
            try {
                URI u = new URI(uri.trim());
                if (u.getScheme() == null || u.getPort() < 0) {
                    throw new ConfigException(key, uri, "expected NAME://host:port");
                }
                String host = u.getHost() == null ? "0.0.0.0" : u.getHost();
                return new Endpoint(u.getScheme().toUpperCase(java.util.Locale.ROOT), host, u.getPort());
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException(key, uri, "expected NAME://host:port");
            }
        }
    }

    public BrokerConfig(Map<String, ?> props) {
        super(DEF, props);
        if (listeners().isEmpty()) {
            throw new ConfigException(LISTENERS, "", "at least one listener is needed");
        }
        queuedMaxRequestBytes(); // validates it against socket.request.max.bytes
    }

    /**
     * {@code queued.max.request.bytes} in effect: unset is 100 MB or {@code socket.request.max.bytes}
     * if larger; -1 is unbounded ({@code Long.MAX_VALUE}). A value below {@code socket.request.max.bytes}
     * is refused: a frame the pool could never hold would stall its connection forever.
     */
    public long queuedMaxRequestBytes() {
        Long configured = (Long) get(QUEUED_MAX_REQUEST_BYTES);
        int maxRequest = getInt(SOCKET_REQUEST_MAX_BYTES);
        if (configured == null) {
            return Math.max(100L * 1024 * 1024, maxRequest);
        }
        if (configured == -1) {
            return Long.MAX_VALUE;
        }
        if (configured < maxRequest) {
            throw new ConfigException(QUEUED_MAX_REQUEST_BYTES, configured,
                "must be -1 (unbounded) or at least socket.request.max.bytes (" + maxRequest + ")");
        }
        return configured;
    }

    /** The network front's settings (threads, frame and memory limits, timeouts, connection limits). */
    public SocketServer.Settings socketSettings() {
        return new SocketServer.Settings(getInt(NUM_NETWORK_THREADS), getInt(SOCKET_REQUEST_MAX_BYTES),
            queuedMaxRequestBytes(), getLong(SOCKET_REQUEST_READ_TIMEOUT_MS), getLong(CONNECTIONS_MAX_IDLE_MS),
            getInt(MAX_CONNECTIONS), getInt(MAX_CONNECTIONS_PER_IP));
    }

    /** {@code zookeeper.connection.timeout.ms}, defaulting to the session timeout. */
    public int zookeeperConnectionTimeoutMs() {
        Integer ms = (Integer) get(ZOOKEEPER_CONNECTION_TIMEOUT_MS);
        return ms != null ? ms : getInt(ZOOKEEPER_SESSION_TIMEOUT_MS);
    }

    public int brokerId() {
        return getInt(BROKER_ID);
    }

    public List<Endpoint> listeners() {
        List<Endpoint> out = new ArrayList<>();
        for (String s : getList(LISTENERS)) {
            out.add(Endpoint.parse(LISTENERS, s));
        }
        return out;
    }

    public List<Endpoint> advertisedListeners() {
        List<String> adv = getList(ADVERTISED_LISTENERS);
        if (adv == null || adv.isEmpty()) {
            return listeners();
        }
        List<Endpoint> out = new ArrayList<>();
        for (String s : adv) {
            out.add(Endpoint.parse(ADVERTISED_LISTENERS, s));
        }
        return out;
    }

    public List<String> logDirs() {
        List<String> dirs = getList(LOG_DIRS);
        return dirs == null || dirs.isEmpty() ? List.of(getString(LOG_DIR)) : dirs;
    }

    public long logRollMs() {
        Long ms = (Long) get(LOG_ROLL_MS);
        return ms != null ? ms : getInt(LOG_ROLL_HOURS) * 3_600_000L;
    }

    public long logRetentionMs() {
        Long ms = (Long) get(LOG_RETENTION_MS);
        if (ms != null) {
            return ms < 0 ? -1 : ms;
        }
        Integer minutes = (Integer) get(LOG_RETENTION_MINUTES);
        if (minutes != null) {
            return minutes < 0 ? -1 : minutes * 60_000L;
        }
        int hours = getInt(LOG_RETENTION_HOURS);
        return hours < 0 ? -1 : hours * 3_600_000L;
    }

    /** The flush interval in ms, or Long.MAX_VALUE when fsync is left to segment rolls and the OS. */
    public long logFlushIntervalMs() {
        Long ms = (Long) get(LOG_FLUSH_INTERVAL_MS);
        return ms != null ? ms : Long.MAX_VALUE;
    }
}
