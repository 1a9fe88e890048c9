package io.weir.producer;

import io.weir.common.config.AbstractConfig;
import io.weir.common.config.ConfigDef;
import io.weir.common.config.ConfigException;
import io.weir.common.record.CompressionType;
import io.weir.protocol.client.CommonClientConfigs;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The producer's configuration: Kafka's key names, defaults and meanings, validated once at
 * construction. An unknown key or an invalid value fails with a {@link ConfigException} naming the
 * key and what is allowed.
 *
 * <p>Defaults follow Apache Kafka 4: {@code acks=all}, {@code enable.idempotence=true},
 * {@code linger.ms=5} (Kafka 4.0 raised it from 0: a few ms of batching costs little latency and
 * makes batches, and so throughput and compression, much better), {@code batch.size=16384},
 * {@code buffer.memory=32 MiB}, {@code delivery.timeout.ms=120000}.
 *
 * <p>Idempotence as in Kafka 3.2+: when {@code enable.idempotence} is left at its default and the
 * other settings cannot support it ({@code acks} not all, {@code retries=0}, more than 5 requests
 * in flight), it is turned off quietly; when it is set to true explicitly, such settings fail
 * construction.
 */
public final class ProducerConfig extends AbstractConfig {
    public static final String BOOTSTRAP_SERVERS_CONFIG = CommonClientConfigs.BOOTSTRAP_SERVERS;
    public static final String CLIENT_ID_CONFIG = CommonClientConfigs.CLIENT_ID;
    public static final String ACKS_CONFIG = "acks";
    public static final String BATCH_SIZE_CONFIG = "batch.size";
    public static final String LINGER_MS_CONFIG = "linger.ms";
    public static final String BUFFER_MEMORY_CONFIG = "buffer.memory";
    public static final String MAX_BLOCK_MS_CONFIG = "max.block.ms";
    public static final String COMPRESSION_TYPE_CONFIG = "compression.type";
    public static final String COMPRESSION_GZIP_LEVEL_CONFIG = "compression.gzip.level";
    public static final String COMPRESSION_LZ4_LEVEL_CONFIG = "compression.lz4.level";
    public static final String COMPRESSION_ZSTD_LEVEL_CONFIG = "compression.zstd.level";
    public static final String MAX_REQUEST_SIZE_CONFIG = "max.request.size";
    public static final String REQUEST_TIMEOUT_MS_CONFIG = CommonClientConfigs.REQUEST_TIMEOUT_MS;
    public static final String DELIVERY_TIMEOUT_MS_CONFIG = "delivery.timeout.ms";
    public static final String RETRIES_CONFIG = "retries";
    public static final String RETRY_BACKOFF_MS_CONFIG = CommonClientConfigs.RETRY_BACKOFF_MS;
    public static final String MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION =
        CommonClientConfigs.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION;
    public static final String ENABLE_IDEMPOTENCE_CONFIG = "enable.idempotence";
    public static final String PARTITIONER_CLASS_CONFIG = "partitioner.class";
    public static final String PARTITIONER_IGNORE_KEYS_CONFIG = "partitioner.ignore.keys";
    public static final String PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE_CONFIG = "partitioner.adaptive.partitioning.enable";
    public static final String PARTITIONER_AVAILABILITY_TIMEOUT_MS_CONFIG = "partitioner.availability.timeout.ms";
    public static final String KEY_SERIALIZER_CLASS_CONFIG = "key.serializer";
    public static final String VALUE_SERIALIZER_CLASS_CONFIG = "value.serializer";
    public static final String TRANSACTIONAL_ID_CONFIG = "transactional.id";
    public static final String TRANSACTION_TIMEOUT_CONFIG = "transaction.timeout.ms";
    public static final String METADATA_MAX_IDLE_CONFIG = "metadata.max.idle.ms";
    public static final String INTERCEPTOR_CLASSES_CONFIG = "interceptor.classes";

    private static final ConfigDef CONFIG = CommonClientConfigs.defineCommon(new ConfigDef(), 30_000)
        .define(ACKS_CONFIG, ConfigDef.Type.STRING, "all", ConfigDef.in("all", "-1", "0", "1"),
            "acknowledgements the leader waits for: 0 none, 1 the leader's log, all (-1) every in-sync replica")
        .define(BATCH_SIZE_CONFIG, ConfigDef.Type.INT, 16_384, ConfigDef.atLeast(0),
            "target size in bytes of one partition's batch; a batch is sent when full or after linger.ms")
        .define(LINGER_MS_CONFIG, ConfigDef.Type.LONG, 5L, ConfigDef.atLeast(0L),
            "how long a batch waits for more records before it is sent")
        .define(BUFFER_MEMORY_CONFIG, ConfigDef.Type.LONG, 32L * 1024 * 1024, ConfigDef.atLeast(0L),
            "bytes of records the producer may buffer; send() blocks when they are used up")
        .define(MAX_BLOCK_MS_CONFIG, ConfigDef.Type.LONG, 60_000L, ConfigDef.atLeast(0L),
            "how long send() and partitionsFor() may block waiting for metadata or buffer memory")
        .define(COMPRESSION_TYPE_CONFIG, ConfigDef.Type.STRING, "none",
            ConfigDef.in("none", "gzip", "snappy", "lz4", "zstd"), "codec applied to each batch")
        .define(COMPRESSION_GZIP_LEVEL_CONFIG, ConfigDef.Type.INT, CompressionType.GZIP.defaultLevel,
            level(CompressionType.GZIP), "gzip level (1-9, -1 the codec default)")
        .define(COMPRESSION_LZ4_LEVEL_CONFIG, ConfigDef.Type.INT, CompressionType.LZ4.defaultLevel,
            level(CompressionType.LZ4), "lz4 level (1-17)")
        .define(COMPRESSION_ZSTD_LEVEL_CONFIG, ConfigDef.Type.INT, CompressionType.ZSTD.defaultLevel,
            level(CompressionType.ZSTD), "zstd level (-131072-22)")
        .define(MAX_REQUEST_SIZE_CONFIG, ConfigDef.Type.INT, 1024 * 1024, ConfigDef.atLeast(1),
            "largest Produce request, and so the largest record, in bytes")
        .define(DELIVERY_TIMEOUT_MS_CONFIG, ConfigDef.Type.INT, 120_000, ConfigDef.atLeast(0),
            "upper bound on the time from send() to the callback, retries included")
        .define(RETRIES_CONFIG, ConfigDef.Type.INT, Integer.MAX_VALUE, ConfigDef.atLeast(0),
            "how often a failed batch is retried (delivery.timeout.ms usually ends retries first)")
        .define(MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, ConfigDef.Type.INT, 5, ConfigDef.atLeast(1),
            "unacknowledged Produce requests per broker; at most 5 with idempotence")
        .define(ENABLE_IDEMPOTENCE_CONFIG, ConfigDef.Type.BOOLEAN, true,
            "write each record exactly once per partition, in order, despite retries")
        .define(PARTITIONER_CLASS_CONFIG, ConfigDef.Type.CLASS, null,
            "a Partitioner implementation; unset uses the built-in key hash / uniform sticky partitioner")
        .define(PARTITIONER_IGNORE_KEYS_CONFIG, ConfigDef.Type.BOOLEAN, false,
            "when true the built-in partitioner treats keyed records as keyless")
        .define(PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE_CONFIG, ConfigDef.Type.BOOLEAN, true,
            "when true the sticky partitioner favours partitions whose queues are short")
        .define(PARTITIONER_AVAILABILITY_TIMEOUT_MS_CONFIG, ConfigDef.Type.LONG, 0L, ConfigDef.atLeast(0L),
            "accepted for compatibility; only 0 (off) is implemented")
        .define(KEY_SERIALIZER_CLASS_CONFIG, ConfigDef.Type.CLASS, null, "Serializer class for keys")
        .define(VALUE_SERIALIZER_CLASS_CONFIG, ConfigDef.Type.CLASS, null, "Serializer class for values")
        .define(TRANSACTIONAL_ID_CONFIG, ConfigDef.Type.STRING, null,
            "the id that makes this producer transactional: a newer producer with the same id fences this one,"
                + " and its open transaction is aborted; implies enable.idempotence=true")
        .define(TRANSACTION_TIMEOUT_CONFIG, ConfigDef.Type.INT, 60_000, ConfigDef.atLeast(1),
            "how long a transaction may stay open before the coordinator aborts it (at most the broker's"
                + " transaction.max.timeout.ms)")
        .define(METADATA_MAX_IDLE_CONFIG, ConfigDef.Type.LONG, 300_000L, ConfigDef.atLeast(5_000L),
            "accepted for compatibility: topics stay in the producer's metadata for its lifetime")
        .define(INTERCEPTOR_CLASSES_CONFIG, ConfigDef.Type.LIST, "",
            "producer interceptors (not implemented: must be empty)");

    private final boolean idempotence;
    private final short acks;
    private final CompressionType compression;
    private final int compressionLevel;

    public ProducerConfig(Map<String, ?> props) {
        super(CONFIG, props);
        CommonClientConfigs.rejectUnknownKeys(this, "producer");
        String a = getString(ACKS_CONFIG);
        this.acks = "all".equalsIgnoreCase(a) ? (short) -1 : Short.parseShort(a);
        this.compression = CompressionType.forName(getString(COMPRESSION_TYPE_CONFIG));
        this.compressionLevel = switch (compression) {
            case GZIP -> getInt(COMPRESSION_GZIP_LEVEL_CONFIG);
            case LZ4 -> getInt(COMPRESSION_LZ4_LEVEL_CONFIG);
            case ZSTD -> getInt(COMPRESSION_ZSTD_LEVEL_CONFIG);
            default -> 0;
        };
        String transactionalId = getString(TRANSACTIONAL_ID_CONFIG);
        if (transactionalId != null && transactionalId.isEmpty()) {
            throw new ConfigException(TRANSACTIONAL_ID_CONFIG, transactionalId, "must be non-empty when set");
        }
        if (!getList(INTERCEPTOR_CLASSES_CONFIG).isEmpty()) {
            throw new ConfigException(INTERCEPTOR_CLASSES_CONFIG, getList(INTERCEPTOR_CLASSES_CONFIG),
                "interceptors are not implemented");
        }
        boolean explicit = props.containsKey(ENABLE_IDEMPOTENCE_CONFIG);
        boolean wanted = getBoolean(ENABLE_IDEMPOTENCE_CONFIG);
        String conflict = null;
        if (acks != -1) {
            conflict = ACKS_CONFIG + " must be all (-1) for idempotence, not " + a;
        } else if (getInt(RETRIES_CONFIG) == 0) {
            conflict = RETRIES_CONFIG + " must be greater than 0 for idempotence";
        } else if (getInt(MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION) > 5) {
            conflict = MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION + " must be at most 5 for idempotence, not "
                + getInt(MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
        }
        if (transactionalId != null && explicit && !wanted) {
            throw new ConfigException("Cannot set a " + TRANSACTIONAL_ID_CONFIG + " without enabling idempotence"
                + " (" + ENABLE_IDEMPOTENCE_CONFIG + "=false)");
        }
        if (transactionalId != null && conflict != null) {
            throw new ConfigException("Invalid configuration for " + TRANSACTIONAL_ID_CONFIG + " (transactions need"
                + " idempotence): " + conflict);
        }
        if (wanted && explicit && conflict != null) {
            throw new ConfigException("Invalid configuration for " + ENABLE_IDEMPOTENCE_CONFIG + "=true: " + conflict);
        }
        this.idempotence = wanted && conflict == null;
        long lingerPlusRequest = getLong(LINGER_MS_CONFIG) + getInt(REQUEST_TIMEOUT_MS_CONFIG);
        if (props.containsKey(DELIVERY_TIMEOUT_MS_CONFIG) && getInt(DELIVERY_TIMEOUT_MS_CONFIG) < lingerPlusRequest) {
            throw new ConfigException(DELIVERY_TIMEOUT_MS_CONFIG, getInt(DELIVERY_TIMEOUT_MS_CONFIG),
                "must be at least linger.ms + request.timeout.ms = " + lingerPlusRequest);
        }
    }

    public static ProducerConfig fromProperties(Properties props) {
        Map<String, Object> map = new HashMap<>();
        props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k)));
        props.forEach((k, v) -> map.put(String.valueOf(k), v));
        return new ProducerConfig(map);
    }

    /** The transactional id, or null for a producer without transactions. */
    public String transactionalId() {
        return getString(TRANSACTIONAL_ID_CONFIG);
    }

    /** Whether idempotence is on after the rules in the class comment. */
    public boolean idempotenceEnabled() {
        return idempotence;
    }

    /** acks as the wire value: -1, 0 or 1. */
    public short acks() {
        return acks;
    }

    public CompressionType compressionType() {
        return compression;
    }

    /** The level of the configured codec (0 for none and snappy). */
    public int compressionLevel() {
        return compressionLevel;
    }

    /** delivery.timeout.ms, raised to linger.ms + request.timeout.ms when left at its default (Kafka's rule). */
    public long deliveryTimeoutMs() {
        long lingerPlusRequest = getLong(LINGER_MS_CONFIG) + getInt(REQUEST_TIMEOUT_MS_CONFIG);
        return Math.max(getInt(DELIVERY_TIMEOUT_MS_CONFIG), originals().containsKey(DELIVERY_TIMEOUT_MS_CONFIG)
            ? 0 : lingerPlusRequest);
    }

    /** The keys, types, defaults and docs, for tools' usage output. */
    public static ConfigDef configDef() {
        return CONFIG;
    }

    private static ConfigDef.Validator level(CompressionType type) {
        return (name, value) -> {
            try {
                type.validateLevel((Integer) value);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(name, value, "allowed range is [" + type.minLevel + ", " + type.maxLevel
                    + "] (or " + type.defaultLevel + ")");
            }
        };
    }
}
