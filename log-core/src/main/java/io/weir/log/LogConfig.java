package io.weir.log;

import io.weir.common.config.ConfigException;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.TimestampType;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The per-topic log settings, with Kafka's names and defaults. Built once from a string map
 * (topic configs over broker defaults) and validated there: an error names the key and the allowed
 * values. Keys this class does not know are ignored (the broker owns those). Immutable.
 */
public final class LogConfig {
    public static final String SEGMENT_BYTES = "segment.bytes";
    public static final String SEGMENT_MS = "segment.ms";
    public static final String SEGMENT_INDEX_BYTES = "segment.index.bytes";
    public static final String INDEX_INTERVAL_BYTES = "index.interval.bytes";
    public static final String RETENTION_MS = "retention.ms";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String FLUSH_MESSAGES = "flush.messages";
    public static final String FLUSH_MS = "flush.ms";
    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String DELETE_RETENTION_MS = "delete.retention.ms";
    public static final String MIN_COMPACTION_LAG_MS = "min.compaction.lag.ms";
    public static final String MIN_CLEANABLE_DIRTY_RATIO = "min.cleanable.dirty.ratio";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    public static final String MESSAGE_TIMESTAMP_TYPE = "message.timestamp.type";
    public static final String FILE_DELETE_DELAY_MS = "file.delete.delay.ms";

    public final int segmentBytes;
    public final long segmentMs;
    public final int segmentIndexBytes;
    public final int indexIntervalBytes;
    /** -1 keeps data forever. */
    public final long retentionMs;
    /** -1 means no size limit. */
    public final long retentionBytes;
    /** Long.MAX_VALUE leaves flushing to the OS (and to rolls). */
    public final long flushMessages;
    public final long flushMs;
    public final boolean compact;
    public final boolean delete;
    public final long deleteRetentionMs;
    public final long minCompactionLagMs;
    public final double minCleanableDirtyRatio;
    public final int maxMessageBytes;
    public final TimestampType messageTimestampType;
    /** How long a deleted segment's files stay (renamed .deleted) so in-flight fetches finish. */
    public final long fileDeleteDelayMs;

    private final Map<String, String> originals;

    private LogConfig(Map<String, String> props) {
        this.originals = Map.copyOf(props);
        this.segmentBytes = intValue(props, SEGMENT_BYTES, 1024 * 1024 * 1024, RecordBatch.HEADER_SIZE, Integer.MAX_VALUE);
        this.segmentMs = longValue(props, SEGMENT_MS, 7L * 24 * 60 * 60 * 1000, 1, Long.MAX_VALUE);
        this.segmentIndexBytes = intValue(props, SEGMENT_INDEX_BYTES, 10 * 1024 * 1024, 12, Integer.MAX_VALUE);
        this.indexIntervalBytes = intValue(props, INDEX_INTERVAL_BYTES, 4096, 0, Integer.MAX_VALUE);
        this.retentionMs = longValue(props, RETENTION_MS, 7L * 24 * 60 * 60 * 1000, -1, Long.MAX_VALUE);
        this.retentionBytes = longValue(props, RETENTION_BYTES, -1, -1, Long.MAX_VALUE);
        this.flushMessages = longValue(props, FLUSH_MESSAGES, Long.MAX_VALUE, 1, Long.MAX_VALUE);
        this.flushMs = longValue(props, FLUSH_MS, Long.MAX_VALUE, 0, Long.MAX_VALUE);
        this.deleteRetentionMs = longValue(props, DELETE_RETENTION_MS, 24L * 60 * 60 * 1000, 0, Long.MAX_VALUE);
        this.minCompactionLagMs = longValue(props, MIN_COMPACTION_LAG_MS, 0, 0, Long.MAX_VALUE);
        this.maxMessageBytes = intValue(props, MAX_MESSAGE_BYTES, 1024 * 1024 + 12, 0, Integer.MAX_VALUE);
        this.fileDeleteDelayMs = longValue(props, FILE_DELETE_DELAY_MS, 60_000, 0, Long.MAX_VALUE);

        String ratio = props.getOrDefault(MIN_CLEANABLE_DIRTY_RATIO, "0.5").trim();
        try {
            this.minCleanableDirtyRatio = Double.parseDouble(ratio);
        } catch (NumberFormatException e) {
            throw new ConfigException(MIN_CLEANABLE_DIRTY_RATIO, ratio, "a number in [0, 1]");
        }
        if (!(minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1)) {
            throw new ConfigException(MIN_CLEANABLE_DIRTY_RATIO, ratio, "a number in [0, 1]");
        }

        String policy = props.getOrDefault(CLEANUP_POLICY, "delete");
        boolean c = false;
        boolean d = false;
        for (String part : policy.split(",")) {
            switch (part.trim().toLowerCase(Locale.ROOT)) {
                case "compact" -> c = true;
                case "delete" -> d = true;
                default -> throw new ConfigException(CLEANUP_POLICY, policy, "a list of [delete, compact]");
            }
        }
        this.compact = c;
        this.delete = d;

        String type = props.getOrDefault(MESSAGE_TIMESTAMP_TYPE, "CreateTime").trim();
        if (type.equals("CreateTime")) {
            this.messageTimestampType = TimestampType.CREATE_TIME;
        } else if (type.equals("LogAppendTime")) {
            this.messageTimestampType = TimestampType.LOG_APPEND_TIME;
        } else {
            throw new ConfigException(MESSAGE_TIMESTAMP_TYPE, type, "one of [CreateTime, LogAppendTime]");
        }
    }

    /** Validates and builds a config; absent keys take Kafka's defaults. */
    public static LogConfig fromMap(Map<String, String> props) {
        return new LogConfig(props);
    }

    public static LogConfig defaults() {
        return new LogConfig(Map.of());
    }

    /** This config with some keys overridden (validated again). */
    public LogConfig with(Map<String, String> overrides) {
        Map<String, String> m = new LinkedHashMap<>(originals);
        m.putAll(overrides);
        return new LogConfig(m);
    }

    public Map<String, String> originals() {
        return originals;
    }

    private static int intValue(Map<String, String> props, String key, int def, int min, int max) {
        long v = longValue(props, key, def, min, max);
        return (int) v;
    }

    private static long longValue(Map<String, String> props, String key, long def, long min, long max) {
        String s = props.get(key);
        if (s == null) {
            return def;
        }
        long v;
        try {
            v = Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key, s, "an integer in [" + min + ", " + max + "]");
        }
        if (v < min || v > max) {
            throw new ConfigException(key, s, "an integer in [" + min + ", " + max + "]");
        }
        return v;
    }

    @Override
    public String toString() {
        return "LogConfig" + originals;
    }
}
