package io.weir.broker.api;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.TopicConfigs;
import io.weir.protocol.ConfigSource;
import io.weir.protocol.ConfigType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The configs of a topic or of this broker as DescribeConfigs and CreateTopics report them: value,
 * source (topic override, static broker config, default) and type. Shared by the topic-admin and
 * configs handlers. Thread-safe.
 */
final class ConfigEntries {
    /** One config as reported. */
    record Entry(String name, String value, ConfigSource source, ConfigType type) {
    }

    private final BrokerConfig config;
    private final TopicConfigs topicConfigs;

    ConfigEntries(BrokerConfig config, TopicConfigs topicConfigs) {
        this.config = config;
        this.topicConfigs = topicConfigs;
    }

    List<Entry> topic(TopicMetadata t) {
        List<Entry> out = new ArrayList<>();
        for (String key : TopicConfigs.topicKeys()) {
            String override = t.configs().get(key);
            if (override != null) {
                out.add(new Entry(key, override, ConfigSource.DYNAMIC_TOPIC_CONFIG, typeOf(key)));
            } else {
                String broker = TopicConfigs.brokerSynonym(key);
                ConfigSource source = broker != null && config.originals().containsKey(broker)
                    ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
                out.add(new Entry(key, topicConfigs.brokerDefaults().get(key), source, typeOf(key)));
            }
        }
        return out;
    }

    /** Broker configs are static (server.properties); all are reported as strings. */
    List<Entry> broker() {
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : config.values().entrySet()) {
            Object v = e.getValue();
            String value = v == null ? null : v instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList())
                : String.valueOf(v);
            out.add(new Entry(e.getKey(), value, config.originals().containsKey(e.getKey())
                ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG, ConfigType.STRING));
        }
        return out;
    }

    private static ConfigType typeOf(String key) {
        return switch (key) {
            case "cleanup.policy" -> ConfigType.LIST;
            case "message.timestamp.type" -> ConfigType.STRING;
            case "min.cleanable.dirty.ratio" -> ConfigType.DOUBLE;
            case "segment.bytes", "segment.index.bytes", "index.interval.bytes", "max.message.bytes",
                "min.insync.replicas" -> ConfigType.INT;
            default -> ConfigType.LONG;
        };
    }
}
