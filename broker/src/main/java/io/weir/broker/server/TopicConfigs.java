package io.weir.broker.server;

import io.weir.broker.BrokerConfig;
import io.weir.log.LogConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Topic-level configuration: which keys a topic accepts, the broker-wide defaults behind each
 * (from {@code log.*} broker keys, as Kafka maps them), and validation of overrides. Immutable.
 */
public final class TopicConfigs {
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";

    /** Topic keys and the broker key that sets their default. */
    private static final Map<String, String> BROKER_SYNONYM = new LinkedHashMap<>();

    static {
        BROKER_SYNONYM.put(LogConfig.CLEANUP_POLICY, BrokerConfig.LOG_CLEANUP_POLICY);
        BROKER_SYNONYM.put(LogConfig.SEGMENT_BYTES, BrokerConfig.LOG_SEGMENT_BYTES);
        BROKER_SYNONYM.put(LogConfig.SEGMENT_MS, BrokerConfig.LOG_ROLL_MS);
        BROKER_SYNONYM.put(LogConfig.SEGMENT_INDEX_BYTES, BrokerConfig.LOG_INDEX_SIZE_MAX_BYTES);
        BROKER_SYNONYM.put(LogConfig.INDEX_INTERVAL_BYTES, BrokerConfig.LOG_INDEX_INTERVAL_BYTES);
        BROKER_SYNONYM.put(LogConfig.RETENTION_MS, BrokerConfig.LOG_RETENTION_MS);
        BROKER_SYNONYM.put(LogConfig.RETENTION_BYTES, BrokerConfig.LOG_RETENTION_BYTES);
        BROKER_SYNONYM.put(LogConfig.FLUSH_MESSAGES, BrokerConfig.LOG_FLUSH_INTERVAL_MESSAGES);
        BROKER_SYNONYM.put(LogConfig.FLUSH_MS, BrokerConfig.LOG_FLUSH_INTERVAL_MS);
        BROKER_SYNONYM.put(LogConfig.MAX_MESSAGE_BYTES, BrokerConfig.MESSAGE_MAX_BYTES);
        BROKER_SYNONYM.put(LogConfig.MESSAGE_TIMESTAMP_TYPE, BrokerConfig.LOG_MESSAGE_TIMESTAMP_TYPE);
        BROKER_SYNONYM.put(LogConfig.DELETE_RETENTION_MS, "log.cleaner.delete.retention.ms");
        BROKER_SYNONYM.put(LogConfig.MIN_COMPACTION_LAG_MS, "log.cleaner.min.compaction.lag.ms");
        BROKER_SYNONYM.put(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "log.cleaner.min.cleanable.ratio");
        BROKER_SYNONYM.put(LogConfig.FILE_DELETE_DELAY_MS, "log.segment.delete.delay.ms");
        BROKER_SYNONYM.put(MIN_INSYNC_REPLICAS, BrokerConfig.MIN_INSYNC_REPLICAS);
    }

    private final Map<String, String> brokerDefaults;
    private final LogConfig defaultLogConfig;

    public TopicConfigs(BrokerConfig config) {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(LogConfig.CLEANUP_POLICY, String.join(",", config.getList(BrokerConfig.LOG_CLEANUP_POLICY)));
        d.put(LogConfig.SEGMENT_BYTES, Integer.toString(config.getInt(BrokerConfig.LOG_SEGMENT_BYTES)));
        d.put(LogConfig.SEGMENT_MS, Long.toString(config.logRollMs()));
        d.put(LogConfig.SEGMENT_INDEX_BYTES, Integer.toString(config.getInt(BrokerConfig.LOG_INDEX_SIZE_MAX_BYTES)));
        d.put(LogConfig.INDEX_INTERVAL_BYTES, Integer.toString(config.getInt(BrokerConfig.LOG_INDEX_INTERVAL_BYTES)));
        d.put(LogConfig.RETENTION_MS, Long.toString(config.logRetentionMs()));
        d.put(LogConfig.RETENTION_BYTES, Long.toString(config.getLong(BrokerConfig.LOG_RETENTION_BYTES)));
        d.put(LogConfig.FLUSH_MESSAGES, Long.toString(config.getLong(BrokerConfig.LOG_FLUSH_INTERVAL_MESSAGES)));
        d.put(LogConfig.FLUSH_MS, Long.toString(config.logFlushIntervalMs()));
        d.put(LogConfig.MAX_MESSAGE_BYTES, Integer.toString(config.getInt(BrokerConfig.MESSAGE_MAX_BYTES)));
        d.put(LogConfig.MESSAGE_TIMESTAMP_TYPE, config.getString(BrokerConfig.LOG_MESSAGE_TIMESTAMP_TYPE));
        LogConfig base = LogConfig.fromMap(d);
        d.put(LogConfig.DELETE_RETENTION_MS, Long.toString(base.deleteRetentionMs));
        d.put(LogConfig.MIN_COMPACTION_LAG_MS, Long.toString(base.minCompactionLagMs));
        d.put(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, Double.toString(base.minCleanableDirtyRatio));
        d.put(LogConfig.FILE_DELETE_DELAY_MS, Long.toString(base.fileDeleteDelayMs));
        d.put(MIN_INSYNC_REPLICAS, Integer.toString(config.getInt(BrokerConfig.MIN_INSYNC_REPLICAS)));
        this.brokerDefaults = Map.copyOf(d);
        this.defaultLogConfig = LogConfig.fromMap(logKeysOnly(d));
    }

    public static Set<String> topicKeys() {
        return BROKER_SYNONYM.keySet();
    }

    /** The broker key that sets the default of a topic key, or null. */
    public static String brokerSynonym(String topicKey) {
        return BROKER_SYNONYM.get(topicKey);
    }

    public Map<String, String> brokerDefaults() {
        return brokerDefaults;
    }

    public LogConfig defaultLogConfig() {
        return defaultLogConfig;
    }

    /**
     * Checks topic overrides: every key known, every value valid. Returns null when valid, else a
     * message naming the offending key.
     */
    public String validate(Map<String, String> overrides) {
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!BROKER_SYNONYM.containsKey(e.getKey())) {
                return "Unknown topic config name: " + e.getKey();
            }
            if (e.getValue() == null) {
                return "Null value not supported for topic config: " + e.getKey();
            }
        }
        try {
            logConfig(overrides);
            String isr = overrides.get(MIN_INSYNC_REPLICAS);
            if (isr != null && Integer.parseInt(isr.trim()) < 1) {
                return "Invalid value " + isr + " for configuration " + MIN_INSYNC_REPLICAS + ": must be at least 1";
            }
        } catch (NumberFormatException e) {
            return "Invalid value " + overrides.get(MIN_INSYNC_REPLICAS) + " for configuration " + MIN_INSYNC_REPLICAS;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
        return null;
    }

    /** The log config of a topic with these overrides. */
    public LogConfig logConfig(Map<String, String> overrides) {
        return defaultLogConfig.with(logKeysOnly(overrides));
    }

    public int minInsyncReplicas(Map<String, String> overrides) {
        String v = overrides.get(MIN_INSYNC_REPLICAS);
        return Integer.parseInt(v != null ? v.trim() : brokerDefaults.get(MIN_INSYNC_REPLICAS));
    }

    private static Map<String, String> logKeysOnly(Map<String, String> m) {
        Map<String, String> out = new LinkedHashMap<>(m);
        out.remove(MIN_INSYNC_REPLICAS);
        return out;
    }
}
