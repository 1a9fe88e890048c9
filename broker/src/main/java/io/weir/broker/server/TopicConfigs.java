package io.weir.broker.server;

import io.weir.broker.BrokerConfig;
import io.weir.common.config.ConfigDef;
import io.weir.common.config.ConfigException;
import io.weir.common.record.CompressionType;
import io.weir.log.LogConfig;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Topic-level configuration: every topic key Kafka 4.x defines, the broker-wide default behind each
 * (from the broker key Kafka maps it to, or Kafka's default where Weir has no such broker key), its
 * type, and validation of overrides. Keys Weir implements change behaviour (the log's settings,
 * {@code min.insync.replicas}, {@code compression.type} with its levels); the others (tiered storage,
 * throttles, preallocation, ...) are accepted, type-checked, stored and reported with their values, so
 * no client or tool written for Kafka meets "unknown topic config". Immutable.
 */
public final class TopicConfigs {
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String COMPRESSION_GZIP_LEVEL = "compression.gzip.level";
    public static final String COMPRESSION_LZ4_LEVEL = "compression.lz4.level";
    public static final String COMPRESSION_ZSTD_LEVEL = "compression.zstd.level";

    /**
     * One topic key: its type, the broker key that sets its default (null if none), whether Weir acts on
     * it, and the default used when Weir has no broker key for it (Kafka's default).
     */
    private record Key(String name, ConfigDef.Type type, String brokerSynonym, boolean implemented,
                       String fixedDefault) {
    }

    private static final Map<String, Key> KEYS = new LinkedHashMap<>();

    private static void implemented(String name, ConfigDef.Type type, String brokerSynonym) {
        KEYS.put(name, new Key(name, type, brokerSynonym, true, null));
    }

    private static void accepted(String name, ConfigDef.Type type, String brokerSynonym, String kafkaDefault) {
        KEYS.put(name, new Key(name, type, brokerSynonym, false, kafkaDefault));
    }

    static {
        implemented(LogConfig.CLEANUP_POLICY, ConfigDef.Type.LIST, BrokerConfig.LOG_CLEANUP_POLICY);
        implemented(COMPRESSION_TYPE, ConfigDef.Type.STRING, BrokerConfig.COMPRESSION_TYPE);
        implemented(COMPRESSION_GZIP_LEVEL, ConfigDef.Type.INT, BrokerConfig.COMPRESSION_GZIP_LEVEL);
        implemented(COMPRESSION_LZ4_LEVEL, ConfigDef.Type.INT, BrokerConfig.COMPRESSION_LZ4_LEVEL);
        implemented(COMPRESSION_ZSTD_LEVEL, ConfigDef.Type.INT, BrokerConfig.COMPRESSION_ZSTD_LEVEL);
        implemented(LogConfig.DELETE_RETENTION_MS, ConfigDef.Type.LONG, "log.cleaner.delete.retention.ms");
        implemented(LogConfig.FILE_DELETE_DELAY_MS, ConfigDef.Type.LONG, "log.segment.delete.delay.ms");
        implemented(LogConfig.FLUSH_MESSAGES, ConfigDef.Type.LONG, BrokerConfig.LOG_FLUSH_INTERVAL_MESSAGES);
        implemented(LogConfig.FLUSH_MS, ConfigDef.Type.LONG, BrokerConfig.LOG_FLUSH_INTERVAL_MS);
        accepted("follower.replication.throttled.replicas", ConfigDef.Type.LIST,
            "follower.replication.throttled.replicas", "");
        implemented(LogConfig.INDEX_INTERVAL_BYTES, ConfigDef.Type.INT, BrokerConfig.LOG_INDEX_INTERVAL_BYTES);
        accepted("leader.replication.throttled.replicas", ConfigDef.Type.LIST, "leader.replication.throttled.replicas", "");
        accepted("local.retention.bytes", ConfigDef.Type.LONG, "log.local.retention.bytes", "-2");
        accepted("local.retention.ms", ConfigDef.Type.LONG, "log.local.retention.ms", "-2");
        accepted("max.compaction.lag.ms", ConfigDef.Type.LONG, "log.cleaner.max.compaction.lag.ms",
            Long.toString(Long.MAX_VALUE));
        implemented(LogConfig.MAX_MESSAGE_BYTES, ConfigDef.Type.INT, BrokerConfig.MESSAGE_MAX_BYTES);
        // Weir bounds what one batch may inflate to on the broker at 64 MB
        accepted("max.decompressed.message.bytes", ConfigDef.Type.INT, null,
            Integer.toString(io.weir.common.record.RecordBatch.DEFAULT_MAX_DECOMPRESSED_BYTES));
        accepted("message.downconversion.enable", ConfigDef.Type.BOOLEAN, "log.message.downconversion.enable", "true");
        accepted("message.timestamp.after.max.ms", ConfigDef.Type.LONG, "log.message.timestamp.after.max.ms", "3600000");
        accepted("message.timestamp.before.max.ms", ConfigDef.Type.LONG, "log.message.timestamp.before.max.ms",
            Long.toString(Long.MAX_VALUE));
        implemented(LogConfig.MESSAGE_TIMESTAMP_TYPE, ConfigDef.Type.STRING, BrokerConfig.LOG_MESSAGE_TIMESTAMP_TYPE);
        implemented(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, ConfigDef.Type.DOUBLE, "log.cleaner.min.cleanable.ratio");
        implemented(LogConfig.MIN_COMPACTION_LAG_MS, ConfigDef.Type.LONG, "log.cleaner.min.compaction.lag.ms");
        implemented(MIN_INSYNC_REPLICAS, ConfigDef.Type.INT, BrokerConfig.MIN_INSYNC_REPLICAS);
        accepted("preallocate", ConfigDef.Type.BOOLEAN, "log.preallocate", "false");
        accepted("remote.copy.lag.bytes", ConfigDef.Type.LONG, "log.remote.copy.lag.bytes", "0");
        accepted("remote.copy.lag.ms", ConfigDef.Type.LONG, "log.remote.copy.lag.ms", "0");
        accepted("remote.log.copy.disable", ConfigDef.Type.BOOLEAN, null, "false");
        accepted("remote.log.delete.on.disable", ConfigDef.Type.BOOLEAN, null, "false");
        accepted("remote.storage.enable", ConfigDef.Type.BOOLEAN, null, "false");
        implemented(LogConfig.RETENTION_BYTES, ConfigDef.Type.LONG, BrokerConfig.LOG_RETENTION_BYTES);
        implemented(LogConfig.RETENTION_MS, ConfigDef.Type.LONG, BrokerConfig.LOG_RETENTION_MS);
        implemented(LogConfig.SEGMENT_BYTES, ConfigDef.Type.INT, BrokerConfig.LOG_SEGMENT_BYTES);
        implemented(LogConfig.SEGMENT_INDEX_BYTES, ConfigDef.Type.INT, BrokerConfig.LOG_INDEX_SIZE_MAX_BYTES);
        accepted("segment.jitter.ms", ConfigDef.Type.LONG, "log.roll.jitter.ms", "0");
        implemented(LogConfig.SEGMENT_MS, ConfigDef.Type.LONG, BrokerConfig.LOG_ROLL_MS);
        // the controller acts on it (ZkController's failover); the log does not
        implemented(BrokerConfig.UNCLEAN_LEADER_ELECTION_ENABLE, ConfigDef.Type.BOOLEAN,
            BrokerConfig.UNCLEAN_LEADER_ELECTION_ENABLE);
        accepted("errors.deadletterqueue.group.enable", ConfigDef.Type.BOOLEAN, "errors.deadletterqueue.group.enable",
            "false");
    }

    /** Type checks (and value checks where Weir acts on the key) for every topic key. */
    private static final ConfigDef TYPES = new ConfigDef();

    static {
        for (Key k : KEYS.values()) {
            ConfigDef.Validator v = switch (k.name()) {
                case COMPRESSION_TYPE -> ConfigDef.in("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer");
                case COMPRESSION_GZIP_LEVEL -> BrokerConfig.level(CompressionType.GZIP);
                case COMPRESSION_LZ4_LEVEL -> BrokerConfig.level(CompressionType.LZ4);
                case COMPRESSION_ZSTD_LEVEL -> BrokerConfig.level(CompressionType.ZSTD);
                default -> null;
            };
            TYPES.define(k.name(), k.type(), null, v, k.implemented() ? "implemented" : "accepted and stored");
        }
    }

    /** The codec a topic's batches are stored in ({@code null}: the producer's), and its level. */
    public record Compression(CompressionType codec, int level) {
        public static final Compression PRODUCER = new Compression(null, 0);

        public boolean keepsProducerCodec() {
            return codec == null;
        }
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
        d.put(COMPRESSION_TYPE, config.getString(BrokerConfig.COMPRESSION_TYPE).toLowerCase(Locale.ROOT));
        d.put(COMPRESSION_GZIP_LEVEL, Integer.toString(config.getInt(BrokerConfig.COMPRESSION_GZIP_LEVEL)));
        d.put(COMPRESSION_LZ4_LEVEL, Integer.toString(config.getInt(BrokerConfig.COMPRESSION_LZ4_LEVEL)));
        d.put(COMPRESSION_ZSTD_LEVEL, Integer.toString(config.getInt(BrokerConfig.COMPRESSION_ZSTD_LEVEL)));
        d.put(BrokerConfig.UNCLEAN_LEADER_ELECTION_ENABLE,
            Boolean.toString(config.getBoolean(BrokerConfig.UNCLEAN_LEADER_ELECTION_ENABLE)));
        Map<String, String> ordered = new LinkedHashMap<>();
        for (Key k : KEYS.values()) {
            ordered.put(k.name(), k.implemented() ? d.get(k.name()) : k.fixedDefault());
        }
        this.brokerDefaults = Collections.unmodifiableMap(ordered);
        this.defaultLogConfig = LogConfig.fromMap(logKeysOnly(d));
    }

    /** Every topic key, in a fixed order (the order DescribeConfigs lists them in). */
    public static Set<String> topicKeys() {
        return Collections.unmodifiableSet(KEYS.keySet());
    }

    /** The broker key that sets the default of a topic key, or null. */
    public static String brokerSynonym(String topicKey) {
        Key k = KEYS.get(topicKey);
        return k == null ? null : k.brokerSynonym();
    }

    /** Whether Weir acts on the key (false: accepted, stored and reported only). */
    public static boolean isImplemented(String topicKey) {
        Key k = KEYS.get(topicKey);
        return k != null && k.implemented();
    }

    /** The value type of a topic key, or null for an unknown key. */
    public static ConfigDef.Type typeOf(String topicKey) {
        Key k = KEYS.get(topicKey);
        return k == null ? null : k.type();
    }

    /** The value each key takes on a topic without an override. */
    public Map<String, String> brokerDefaults() {
        return brokerDefaults;
    }

    public LogConfig defaultLogConfig() {
        return defaultLogConfig;
    }

    /**
     * Checks topic overrides: every key known, every value of its type and valid. Returns null when
     * valid, else a message naming the offending key.
     */
    public String validate(Map<String, String> overrides) {
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!KEYS.containsKey(e.getKey())) {
                return "Unknown topic config name: " + e.getKey();
            }
            if (e.getValue() == null) {
                return "Null value not supported for topic config: " + e.getKey();
            }
        }
        try {
            TYPES.parse(overrides);
            logConfig(overrides);
            String isr = overrides.get(MIN_INSYNC_REPLICAS);
            if (isr != null && Integer.parseInt(isr.trim()) < 1) {
                return "Invalid value " + isr + " for configuration " + MIN_INSYNC_REPLICAS + ": must be at least 1";
            }
        } catch (ConfigException e) {
            return e.getMessage();
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

    /**
     * The codec a topic with these overrides stores its batches in (Kafka's {@code compression.type}:
     * {@code producer} keeps each batch's own, {@code uncompressed} or a codec name makes the broker
     * recompress to it) and the level from {@code compression.<codec>.level}.
     */
    public Compression compression(Map<String, String> overrides) {
        String type = value(overrides, COMPRESSION_TYPE).trim().toLowerCase(Locale.ROOT);
        if (type.equals("producer")) {
            return Compression.PRODUCER;
        }
        CompressionType codec = type.equals("uncompressed") ? CompressionType.NONE : CompressionType.forName(type);
        String levelKey = switch (codec) {
            case GZIP -> COMPRESSION_GZIP_LEVEL;
            case LZ4 -> COMPRESSION_LZ4_LEVEL;
            case ZSTD -> COMPRESSION_ZSTD_LEVEL;
            default -> null;
        };
        int level = levelKey == null ? codec.defaultLevel : Integer.parseInt(value(overrides, levelKey).trim());
        return new Compression(codec, level);
    }

    private String value(Map<String, String> overrides, String key) {
        String v = overrides.get(key);
        return v != null ? v : brokerDefaults.get(key);
    }

    /** Only the keys the log itself reads (LogConfig ignores others, but stays free of broker-owned ones). */
    private static Map<String, String> logKeysOnly(Map<String, String> m) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : m.entrySet()) {
            Key k = KEYS.get(e.getKey());
            if (k != null && k.implemented() && !e.getKey().equals(MIN_INSYNC_REPLICAS)
                && !e.getKey().startsWith("compression.") && !e.getKey().equals(BrokerConfig.UNCLEAN_LEADER_ELECTION_ENABLE)) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }
}
