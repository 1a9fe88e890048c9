package io.weir.streams;

import io.weir.common.config.ConfigException;
import io.weir.streams.errors.DeserializationExceptionHandler;
import io.weir.streams.errors.LogAndFailExceptionHandler;
import io.weir.streams.errors.LogAndFailProcessingExceptionHandler;
import io.weir.streams.errors.LogAndFailProductionExceptionHandler;
import io.weir.streams.errors.ProcessingExceptionHandler;
import io.weir.streams.errors.ProductionExceptionHandler;
import io.weir.streams.processor.FailOnInvalidTimestamp;
import io.weir.streams.processor.TimestampExtractor;
import io.weir.streams.serialization.Serde;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The configuration keys of a stream job, named as Kafka Streams names them, and the reading of the
 * ones the topology needs (application id, default serdes). Runtime keys ({@code commit.interval.ms},
 * {@code processing.guarantee}, ...) are read by the runtime.
 */
public final class StreamsConfig {
    public static final String APPLICATION_ID_CONFIG = "application.id";
    public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
    public static final String DEFAULT_KEY_SERDE_CLASS_CONFIG = "default.key.serde";
    public static final String DEFAULT_VALUE_SERDE_CLASS_CONFIG = "default.value.serde";
    public static final String STATE_DIR_CONFIG = "state.dir";
    public static final String NUM_STREAM_THREADS_CONFIG = "num.stream.threads";
    public static final String COMMIT_INTERVAL_MS_CONFIG = "commit.interval.ms";
    public static final String PROCESSING_GUARANTEE_CONFIG = "processing.guarantee";
    public static final String NUM_STANDBY_REPLICAS_CONFIG = "num.standby.replicas";
    public static final String STATESTORE_UNCOMMITTED_MAX_BYTES_CONFIG = "statestore.uncommitted.max.bytes";
    public static final String DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG = "deserialization.exception.handler";
    /** Kafka's name before 4.0 for {@link #DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG}; read when the new one is absent. */
    public static final String DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG = "default.deserialization.exception.handler";
    /** A {@link io.weir.streams.processor.TimestampExtractor} class for sources that name none; default: fail on invalid. */
    /** Class of the {@link ProductionExceptionHandler}; {@link LogAndFailProductionExceptionHandler} by default. */
    public static final String DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG = "default.production.exception.handler";
    /** Class of the {@link ProcessingExceptionHandler} (KIP-1033); {@link LogAndFailProcessingExceptionHandler} by default. */
    public static final String PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG = "processing.exception.handler";
    /** How often, at most, committed records of repartition topics are deleted (DeleteRecords); 30000 ms. */
    public static final String REPARTITION_PURGE_INTERVAL_MS_CONFIG = "repartition.purge.interval.ms";
    public static final long DEFAULT_REPARTITION_PURGE_INTERVAL_MS = 30_000L;
    public static final String DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG = "default.timestamp.extractor";
    public static final String ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG = "errors.dead.letter.queue.topic.name";
    /**
     * Bytes of record cache per instance, divided evenly among its stream threads (default 10 MiB; 0 turns
     * caching off: every update reaches the changelog and downstream at once).
     */
    public static final String STATESTORE_CACHE_MAX_BYTES_CONFIG = "statestore.cache.max.bytes";
    /** Kafka's name before 3.4 for {@link #STATESTORE_CACHE_MAX_BYTES_CONFIG}; read when the new one is absent. */
    public static final String CACHE_MAX_BYTES_BUFFERING_CONFIG = "cache.max.bytes.buffering";
    public static final long DEFAULT_STATESTORE_CACHE_MAX_BYTES = 10L * 1024 * 1024;
    /** {@code host:port} where this instance answers interactive queries (shared with the group for metadata). */
    public static final String APPLICATION_SERVER_CONFIG = "application.server";
    /**
     * Weir's own: a directory (local, or shared by the job's instances) where each active task publishes
     * snapshots of its persistent stores (RocksDB checkpoints tagged with their changelog offsets), and from
     * which a task that finds no local state for a store (a new host, a lost disk) bootstraps it before
     * replaying only the changelog after the snapshot. Unset (the default): no snapshots.
     */
    public static final String STATE_SNAPSHOT_DIR_CONFIG = "state.snapshot.dir";
    /** Weir's own: how often an active task publishes snapshots of its stores, at a commit (default 10 minutes). */
    public static final String STATE_SNAPSHOT_INTERVAL_MS_CONFIG = "state.snapshot.interval.ms";
    public static final long DEFAULT_STATE_SNAPSHOT_INTERVAL_MS = 600_000L;
    /**
     * Weir's own (default true): each stream thread's consumer is a static group member (KIP-345) with
     * {@code group.instance.id} = {@code <application.id>-<process id>-<thread index>}; the process id is kept in
     * the state directory, so an instance restarted on the same directory (after a crash or a SIGKILL) rejoins
     * as the same members and takes its tasks back at once, instead of waiting {@code session.timeout.ms} for
     * the coordinator to drop the dead members. A {@code group.instance.id} given by the user (plain or
     * {@code consumer.}-prefixed) is used as the prefix instead ({@code <group.instance.id>-<thread index>}, as
     * Kafka Streams does), whatever this key says. {@code false}: dynamic members.
     */
    public static final String STATIC_MEMBERSHIP_ENABLE_CONFIG = "streams.static.membership.enable";
    /**
     * Weir's own (default true): a clean {@code close()} makes each stream thread's static member leave the
     * group (LeaveGroup with its instance id), so the other instances take its tasks over at once (a
     * scale-down). {@code false} keeps the members in the group after close, as Kafka's static members do: an
     * instance that restarts within {@code session.timeout.ms} (a rolling bounce) gets its tasks back with no
     * rebalance at all, but one that never comes back holds its tasks idle until the session times out.
     */
    public static final String LEAVE_GROUP_ON_CLOSE_CONFIG = "streams.leave.group.on.close";
    /**
     * Kafka's: the version an application is upgraded from in a rolling bounce. Rebalances are cooperative (KIP-429:
     * a rebalance revokes only the tasks that move; the others keep running) unless this names a version before 2.4
     * ({@code 0.10.0} .. {@code 2.3}), which makes them eager, as those versions were. Unset (the default): cooperative.
     */
    public static final String UPGRADE_FROM_CONFIG = "upgrade.from";
    /**
     * Kafka's (KIP-708): a comma-separated list of client tag keys; standby replicas go to instances whose values of
     * these tags differ from the active task's (and from the task's other standbys') where the instances allow.
     */
    public static final String RACK_AWARE_ASSIGNMENT_TAGS_CONFIG = "rack.aware.assignment.tags";
    /** Kafka's (KIP-708): {@code client.tag.<key>=<value>} tags this instance, e.g. {@code client.tag.zone=eu-1a}. */
    public static final String CLIENT_TAG_PREFIX = "client.tag.";
    /** The default (and Weir's recommended) guarantee. */
    public static final String EXACTLY_ONCE = "exactly_once";
    public static final String AT_LEAST_ONCE = "at_least_once";

    private StreamsConfig() {
    }

    /** A boolean config: {@code true}/{@code false} (any case), else refused naming the key. */
    public static boolean booleanConfig(Map<String, Object> configs, String key, boolean defaultValue) {
        Object v = configs.get(key);
        if (v == null) {
            return defaultValue;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim();
        if (s.equalsIgnoreCase("true")) {
            return true;
        }
        if (s.equalsIgnoreCase("false")) {
            return false;
        }
        throw new ConfigException(key, v, "must be true or false");
    }

    /** The properties as a map of String keys. */
    public static Map<String, Object> toMap(Properties props) {
        Map<String, Object> map = new HashMap<>();
        if (props != null) {
            for (String name : props.stringPropertyNames()) {
                map.put(name, props.getProperty(name));
            }
            props.forEach((k, v) -> map.put(String.valueOf(k), v));
        }
        return map;
    }

    /** {@code application.id}: required, a valid topic-name prefix. */
    public static String applicationId(Map<String, Object> configs) {
        Object id = configs.get(APPLICATION_ID_CONFIG);
        if (id == null || id.toString().isEmpty()) {
            throw new ConfigException(APPLICATION_ID_CONFIG, id, "is required (it prefixes the job's internal topics and names its group)");
        }
        return id.toString();
    }

    /** The configured deserialization exception handler, configured; {@link LogAndFailExceptionHandler} by default. */
    public static DeserializationExceptionHandler deserializationExceptionHandler(Map<String, Object> configs) {
        String key = configs.containsKey(DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG) ? DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG
            : DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG;
        Object v = configs.get(key);
        DeserializationExceptionHandler handler;
        if (v == null) {
            handler = new LogAndFailExceptionHandler();
        } else if (v instanceof DeserializationExceptionHandler h) {
            handler = h;
        } else {
            handler = instantiate(key, v, DeserializationExceptionHandler.class);
        }
        handler.configure(configs);
        return handler;
    }

    /** The configured production exception handler, configured; {@link LogAndFailProductionExceptionHandler} by default. */
    public static ProductionExceptionHandler productionExceptionHandler(Map<String, Object> configs) {
        Object v = configs.get(DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG);
        ProductionExceptionHandler handler = v == null ? new LogAndFailProductionExceptionHandler()
            : v instanceof ProductionExceptionHandler h ? h
            : instantiate(DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, v, ProductionExceptionHandler.class);
        handler.configure(configs);
        return handler;
    }

    /** The configured processing exception handler, configured; {@link LogAndFailProcessingExceptionHandler} by default. */
    public static ProcessingExceptionHandler processingExceptionHandler(Map<String, Object> configs) {
        Object v = configs.get(PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG);
        ProcessingExceptionHandler handler = v == null ? new LogAndFailProcessingExceptionHandler()
            : v instanceof ProcessingExceptionHandler h ? h
            : instantiate(PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, v, ProcessingExceptionHandler.class);
        handler.configure(configs);
        return handler;
    }

    /** {@code repartition.purge.interval.ms}: 30000 by default; negative or non-numeric values are refused. */
    public static long repartitionPurgeIntervalMs(Map<String, Object> configs) {
        Object v = configs.get(REPARTITION_PURGE_INTERVAL_MS_CONFIG);
        if (v == null) {
            return DEFAULT_REPARTITION_PURGE_INTERVAL_MS;
        }
        long ms;
        try {
            ms = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(REPARTITION_PURGE_INTERVAL_MS_CONFIG, v, "is not a number of milliseconds");
        }
        if (ms < 0) {
            throw new ConfigException(REPARTITION_PURGE_INTERVAL_MS_CONFIG, v, "must be >= 0");
        }
        return ms;
    }

    /**
     * The instance's record cache size: {@code statestore.cache.max.bytes}, else the deprecated
     * {@code cache.max.bytes.buffering}, else 10 MiB; a negative or non-numeric value is refused.
     */
    public static long cacheMaxBytes(Map<String, Object> configs) {
        String key = configs.containsKey(STATESTORE_CACHE_MAX_BYTES_CONFIG) || !configs.containsKey(CACHE_MAX_BYTES_BUFFERING_CONFIG)
            ? STATESTORE_CACHE_MAX_BYTES_CONFIG : CACHE_MAX_BYTES_BUFFERING_CONFIG;
        Object v = configs.get(key);
        if (v == null) {
            return DEFAULT_STATESTORE_CACHE_MAX_BYTES;
        }
        long bytes;
        try {
            bytes = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key, v, "is not a number of bytes");
        }
        if (bytes < 0) {
            throw new ConfigException(key, v, "must be >= 0");
        }
        return bytes;
    }

    /** The configured default timestamp extractor; {@link FailOnInvalidTimestamp} when none is set. */
    public static TimestampExtractor timestampExtractor(Map<String, Object> configs) {
        Object v = configs.get(DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG);
        if (v == null) {
            return new FailOnInvalidTimestamp();
        }
        return v instanceof TimestampExtractor t ? t : instantiate(DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, v, TimestampExtractor.class);
    }

    private static <T> T instantiate(String key, Object v, Class<T> type) {
        try {
            Class<?> c = v instanceof Class<?> cl ? cl : Class.forName(v.toString().trim(), true, StreamsConfig.class.getClassLoader());
            if (!type.isAssignableFrom(c)) {
                throw new ConfigException(key, v, "is not a " + type.getName());
            }
            return type.cast(c.getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException e) {
            throw new ConfigException(key, v, "cannot be instantiated: " + e);
        }
    }

    /**
     * The serde configured under {@code key} (a Serde instance, a Serde class, or a class name), configured
     * for key or value use; null if the key is absent.
     */
    public static Serde<?> serde(Map<String, Object> configs, String key, boolean isKey) {
        Object v = configs.get(key);
        if (v == null) {
            return null;
        }
        Serde<?> serde = v instanceof Serde<?> s ? s : instantiate(key, v, Serde.class);
        serde.configure(configs, isKey);
        return serde;
    }
}
