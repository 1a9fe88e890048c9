package io.weir.consumer;

import io.weir.common.config.AbstractConfig;
import io.weir.common.config.ConfigDef;
import io.weir.common.config.ConfigException;
import io.weir.protocol.client.CommonClientConfigs;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The consumer's configuration, with Kafka's key names, defaults and meanings. Construction fails
 * with a {@link ConfigException} naming the key when a key is unknown, missing or invalid, so a typo
 * never silently falls back to a default. Immutable.
 */
public final class ConsumerConfig extends AbstractConfig {
    public static final String BOOTSTRAP_SERVERS_CONFIG = CommonClientConfigs.BOOTSTRAP_SERVERS;
    public static final String CLIENT_ID_CONFIG = CommonClientConfigs.CLIENT_ID;
    public static final String REQUEST_TIMEOUT_MS_CONFIG = CommonClientConfigs.REQUEST_TIMEOUT_MS;
    public static final String RETRY_BACKOFF_MS_CONFIG = CommonClientConfigs.RETRY_BACKOFF_MS;
    public static final String GROUP_ID_CONFIG = "group.id";
    public static final String GROUP_INSTANCE_ID_CONFIG = "group.instance.id";
    public static final String GROUP_PROTOCOL_CONFIG = "group.protocol";
    public static final String ENABLE_AUTO_COMMIT_CONFIG = "enable.auto.commit";
    public static final String AUTO_COMMIT_INTERVAL_MS_CONFIG = "auto.commit.interval.ms";
    public static final String AUTO_OFFSET_RESET_CONFIG = "auto.offset.reset";
    public static final String MAX_POLL_RECORDS_CONFIG = "max.poll.records";
    public static final String MAX_POLL_INTERVAL_MS_CONFIG = "max.poll.interval.ms";
    public static final String SESSION_TIMEOUT_MS_CONFIG = "session.timeout.ms";
    public static final String HEARTBEAT_INTERVAL_MS_CONFIG = "heartbeat.interval.ms";
    public static final String FETCH_MIN_BYTES_CONFIG = "fetch.min.bytes";
    public static final String FETCH_MAX_BYTES_CONFIG = "fetch.max.bytes";
    public static final String FETCH_MAX_WAIT_MS_CONFIG = "fetch.max.wait.ms";
    public static final String MAX_PARTITION_FETCH_BYTES_CONFIG = "max.partition.fetch.bytes";
    public static final String CHECK_CRCS_CONFIG = "check.crcs";
    public static final String ISOLATION_LEVEL_CONFIG = "isolation.level";
    public static final String PARTITION_ASSIGNMENT_STRATEGY_CONFIG = "partition.assignment.strategy";
    public static final String KEY_DESERIALIZER_CLASS_CONFIG = "key.deserializer";
    public static final String VALUE_DESERIALIZER_CLASS_CONFIG = "value.deserializer";
    public static final String DEFAULT_API_TIMEOUT_MS_CONFIG = "default.api.timeout.ms";
    public static final String EXCLUDE_INTERNAL_TOPICS_CONFIG = "exclude.internal.topics";
    public static final String ALLOW_AUTO_CREATE_TOPICS_CONFIG = "allow.auto.create.topics";
    public static final String CLIENT_RACK_CONFIG = "client.rack";

    /** The assignors by their protocol names, and the Kafka class names accepted as aliases. */
    static final Map<String, String> ASSIGNOR_ALIASES = Map.of(
        "range", "range",
        "roundrobin", "roundrobin",
        "cooperative-sticky", "cooperative-sticky",
        "org.apache.kafka.clients.consumer.RangeAssignor", "range",
        "org.apache.kafka.clients.consumer.RoundRobinAssignor", "roundrobin",
        "org.apache.kafka.clients.consumer.CooperativeStickyAssignor", "cooperative-sticky");

    private static final ConfigDef CONFIG = CommonClientConfigs.defineCommon(new ConfigDef(), 30_000)
        .define(GROUP_ID_CONFIG, ConfigDef.Type.STRING, null,
            "the consumer group to join; needed for subscribe() and offset commits")
        .define(GROUP_INSTANCE_ID_CONFIG, ConfigDef.Type.STRING, null,
            "static membership id: a restarted member with the same id keeps its partitions without a rebalance")
        .define(GROUP_PROTOCOL_CONFIG, ConfigDef.Type.STRING, "classic", ConfigDef.in("classic"),
            "group membership protocol; only the classic JoinGroup/SyncGroup protocol is implemented")
        .define(ENABLE_AUTO_COMMIT_CONFIG, ConfigDef.Type.BOOLEAN, true,
            "commit the consumed positions in the background every auto.commit.interval.ms (and on close)")
        .define(AUTO_COMMIT_INTERVAL_MS_CONFIG, ConfigDef.Type.INT, 5000, ConfigDef.atLeast(0),
            "how often positions are committed when enable.auto.commit is true")
        .define(AUTO_OFFSET_RESET_CONFIG, ConfigDef.Type.STRING, "latest", ConfigDef.in("latest", "earliest", "none"),
            "where to start when there is no committed offset or it is out of range")
        .define(MAX_POLL_RECORDS_CONFIG, ConfigDef.Type.INT, 500, ConfigDef.atLeast(1),
            "most records one poll() returns")
        .define(MAX_POLL_INTERVAL_MS_CONFIG, ConfigDef.Type.INT, 300_000, ConfigDef.atLeast(1),
            "longest time between poll() calls before the member leaves its group; also the rebalance timeout")
        .define(SESSION_TIMEOUT_MS_CONFIG, ConfigDef.Type.INT, 45_000, ConfigDef.atLeast(1),
            "the member is removed from its group after this long without heartbeats")
        .define(HEARTBEAT_INTERVAL_MS_CONFIG, ConfigDef.Type.INT, 3000, ConfigDef.atLeast(1),
            "time between heartbeats to the group coordinator")
        .define(FETCH_MIN_BYTES_CONFIG, ConfigDef.Type.INT, 1, ConfigDef.atLeast(0),
            "fewest bytes the broker should gather before answering a fetch (it waits up to fetch.max.wait.ms)")
        .define(FETCH_MAX_BYTES_CONFIG, ConfigDef.Type.INT, 52_428_800, ConfigDef.atLeast(0),
            "most bytes one fetch response should hold (a first batch larger than this is still returned)")
        .define(FETCH_MAX_WAIT_MS_CONFIG, ConfigDef.Type.INT, 500, ConfigDef.atLeast(0),
            "longest time the broker waits for fetch.min.bytes")
        .define(MAX_PARTITION_FETCH_BYTES_CONFIG, ConfigDef.Type.INT, 1_048_576, ConfigDef.atLeast(0),
            "most bytes per partition in one fetch response")
        .define(CHECK_CRCS_CONFIG, ConfigDef.Type.BOOLEAN, true,
            "verify each fetched batch's CRC-32C before handing its records out")
        .define(ISOLATION_LEVEL_CONFIG, ConfigDef.Type.STRING, "read_uncommitted",
            (name, value) -> {
                String v = value.toString().toLowerCase(Locale.ROOT);
                if (!v.equals("read_uncommitted") && !v.equals("read_committed")) {
                    throw new ConfigException(name, value, "must be one of read_uncommitted, read_committed");
                }
            },
            "read_committed hides records of open and aborted transactions")
        .define(PARTITION_ASSIGNMENT_STRATEGY_CONFIG, ConfigDef.Type.LIST, List.of("range", "cooperative-sticky"),
            (name, value) -> {
                List<?> l = (List<?>) value;
                if (l.isEmpty()) {
                    throw new ConfigException(name, value, "at least one assignor is required");
                }
                for (Object o : l) {
                    if (!ASSIGNOR_ALIASES.containsKey(o.toString())) {
                        throw new ConfigException(name, o, "unknown assignor; known: range, roundrobin, cooperative-sticky");
                    }
                }
            },
            "assignors in order of preference: range, roundrobin, cooperative-sticky (Kafka class names work too)")
        .define(KEY_DESERIALIZER_CLASS_CONFIG, ConfigDef.Type.STRING, null,
            "Deserializer class for keys (Weir's or Kafka's built-in class names), unless given to the constructor")
        .define(VALUE_DESERIALIZER_CLASS_CONFIG, ConfigDef.Type.STRING, null,
            "Deserializer class for values, unless given to the constructor")
        .define(DEFAULT_API_TIMEOUT_MS_CONFIG, ConfigDef.Type.INT, 60_000, ConfigDef.atLeast(0),
            "timeout of blocking calls that take no timeout (commitSync, position, committed...)")
        .define(EXCLUDE_INTERNAL_TOPICS_CONFIG, ConfigDef.Type.BOOLEAN, true,
            "a pattern subscription never matches internal topics")
        .define(ALLOW_AUTO_CREATE_TOPICS_CONFIG, ConfigDef.Type.BOOLEAN, true,
            "whether subscribing to a missing topic may create it (if the broker allows)")
        .define(CLIENT_RACK_CONFIG, ConfigDef.Type.STRING, "",
            "the consumer's rack, sent with subscriptions and fetches");

    public ConsumerConfig(Map<String, ?> props) {
        super(CONFIG, props);
        CommonClientConfigs.rejectUnknownKeys(this, "consumer");
        if (getInt(HEARTBEAT_INTERVAL_MS_CONFIG) >= getInt(SESSION_TIMEOUT_MS_CONFIG)) {
            throw new ConfigException(HEARTBEAT_INTERVAL_MS_CONFIG, getInt(HEARTBEAT_INTERVAL_MS_CONFIG),
                "must be lower than " + SESSION_TIMEOUT_MS_CONFIG + " (" + getInt(SESSION_TIMEOUT_MS_CONFIG) + ")");
        }
        String instance = getString(GROUP_INSTANCE_ID_CONFIG);
        if (instance != null && instance.isEmpty()) {
            throw new ConfigException(GROUP_INSTANCE_ID_CONFIG, instance, "must not be empty");
        }
    }

    /** The key table, for usage output. */
    public static ConfigDef configDef() {
        return CONFIG;
    }

    public String groupId() {
        String g = getString(GROUP_ID_CONFIG);
        return g == null || g.isEmpty() ? null : g;
    }

    public boolean readCommitted() {
        return getString(ISOLATION_LEVEL_CONFIG).equalsIgnoreCase("read_committed");
    }

    /** The configured assignors' protocol names, in preference order. */
    public List<String> assignorNames() {
        return getList(PARTITION_ASSIGNMENT_STRATEGY_CONFIG).stream().map(ASSIGNOR_ALIASES::get).distinct().toList();
    }
}
