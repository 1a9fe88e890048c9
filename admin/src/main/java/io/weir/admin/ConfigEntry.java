package io.weir.admin;

/**
 * One config value of a resource, with where it comes from and the synonyms behind it (the keys that
 * set it at each level, in precedence order; empty unless the broker reported them). {@code value} is
 * null when sensitive or unset.
 */
public record ConfigEntry(String name, String value, ConfigSource source, boolean isSensitive, boolean isReadOnly,
                          java.util.List<ConfigSynonym> synonyms) {
    /** A key that sets this config at one level, with its value there. */
    public record ConfigSynonym(String name, String value, ConfigSource source) {
    }

    public ConfigEntry {
        synonyms = synonyms == null ? java.util.List.of() : java.util.List.copyOf(synonyms);
    }

    public ConfigEntry(String name, String value, ConfigSource source, boolean isSensitive, boolean isReadOnly) {
        this(name, value, source, isSensitive, isReadOnly, java.util.List.of());
    }

    /** Where a config value comes from (wire ids as in Kafka's DescribeConfigs). */
    public enum ConfigSource {
        UNKNOWN((byte) -1), DYNAMIC_TOPIC_CONFIG((byte) 1), DYNAMIC_BROKER_CONFIG((byte) 2),
        DYNAMIC_DEFAULT_BROKER_CONFIG((byte) 3), STATIC_BROKER_CONFIG((byte) 4), DEFAULT_CONFIG((byte) 5),
        DYNAMIC_BROKER_LOGGER_CONFIG((byte) 6), CLIENT_METRICS_CONFIG((byte) 7), GROUP_CONFIG((byte) 8);

        private final byte id;

        ConfigSource(byte id) {
            this.id = id;
        }

        public byte id() {
            return id;
        }

        public static ConfigSource forId(byte id) {
            for (ConfigSource s : values()) {
                if (s.id == id) {
                    return s;
                }
            }
            return UNKNOWN;
        }
    }

    public ConfigEntry(String name, String value) {
        this(name, value, ConfigSource.UNKNOWN, false, false);
    }

    /** True when the value is the default (not set for this resource or its broker). */
    public boolean isDefault() {
        return source == ConfigSource.DEFAULT_CONFIG;
    }
}
