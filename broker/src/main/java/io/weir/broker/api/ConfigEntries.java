package io.weir.broker.api;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.TopicConfigs;
import io.weir.common.config.ConfigDef;
import io.weir.protocol.ConfigSource;
import io.weir.protocol.ConfigType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The configs of a topic or of this broker as DescribeConfigs and CreateTopics report them: value,
 * source (topic override, static broker config, default), type, and the synonyms behind the value in
 * precedence order (what {@code kafka-configs.sh --describe --all} prints). Shared by the topic-admin
 * and configs handlers. Thread-safe.
 */
final class ConfigEntries {
    /** One synonym of a config: the key that sets it at one level, its value there and that level. */
    record Synonym(String name, String value, ConfigSource source) {
    }

    /** One config as reported; {@code documentation} is what DescribeConfigs v3+ returns when asked. */
    record Entry(String name, String value, ConfigSource source, ConfigType type, List<Synonym> synonyms,
                 String documentation) {
        Entry(String name, String value, ConfigSource source, ConfigType type) {
            this(name, value, source, type, List.of(), null);
        }
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
            List<Synonym> synonyms = new ArrayList<>(3);
            String override = t.configs().get(key);
            if (override != null) {
                synonyms.add(new Synonym(key, override, ConfigSource.DYNAMIC_TOPIC_CONFIG));
            }
            String broker = TopicConfigs.brokerSynonym(key);
            String brokerDefault = topicConfigs.brokerDefaults().get(key);
            boolean staticBroker = broker != null && TopicConfigs.isImplemented(key)
                && config.originals().containsKey(broker);
            if (staticBroker) {
                synonyms.add(new Synonym(broker, brokerDefault, ConfigSource.STATIC_BROKER_CONFIG));
            }
            if (broker != null) {
                String builtIn = TopicConfigs.isImplemented(key) && BrokerConfig.typeOf(broker) != null
                    ? BrokerConfig.defaultValueOf(broker) : brokerDefault;
                synonyms.add(new Synonym(broker, builtIn != null ? builtIn : brokerDefault, ConfigSource.DEFAULT_CONFIG));
            }
            ConfigType type = configType(TopicConfigs.typeOf(key));
            String doc = TopicConfigs.isImplemented(key) ? "Kafka's topic config " + key + "; Weir applies it."
                : "Kafka's topic config " + key + "; Weir accepts, stores and reports it but does not act on it.";
            if (override != null) {
                out.add(new Entry(key, override, ConfigSource.DYNAMIC_TOPIC_CONFIG, type, synonyms, doc));
            } else {
                out.add(new Entry(key, brokerDefault, staticBroker ? ConfigSource.STATIC_BROKER_CONFIG
                    : ConfigSource.DEFAULT_CONFIG, type, synonyms, doc));
            }
        }
        return out;
    }

    /** Broker configs are static (server.properties): each with its declared type and where its value comes from. */
    List<Entry> broker() {
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : config.values().entrySet()) {
            String key = e.getKey();
            String value = BrokerConfig.asString(e.getValue());
            boolean set = config.originals().containsKey(key);
            List<Synonym> synonyms = new ArrayList<>(2);
            if (set) {
                synonyms.add(new Synonym(key, value, ConfigSource.STATIC_BROKER_CONFIG));
            }
            synonyms.add(new Synonym(key, BrokerConfig.defaultValueOf(key), ConfigSource.DEFAULT_CONFIG));
            out.add(new Entry(key, value, set ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG,
                configType(BrokerConfig.typeOf(key)), synonyms, BrokerConfig.docOf(key)));
        }
        return out;
    }

    static ConfigType configType(ConfigDef.Type type) {
        if (type == null) {
            return ConfigType.UNKNOWN;
        }
        return switch (type) {
            case BOOLEAN -> ConfigType.BOOLEAN;
            case INT -> ConfigType.INT;
            case SHORT -> ConfigType.SHORT;
            case LONG -> ConfigType.LONG;
            case DOUBLE -> ConfigType.DOUBLE;
            case STRING -> ConfigType.STRING;
            case LIST -> ConfigType.LIST;
            case CLASS -> ConfigType.CLASS;
        };
    }
}
