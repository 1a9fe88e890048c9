package io.weir.protocol;

/**
 * Where a config value reported by DescribeConfigs / CreateTopics comes from, with Kafka's wire codes
 * ({@code DescribeConfigsResponse.ConfigSource}). A released code never changes.
 */
public enum ConfigSource {
    UNKNOWN(0), DYNAMIC_TOPIC_CONFIG(1), DYNAMIC_BROKER_CONFIG(2), DYNAMIC_DEFAULT_BROKER_CONFIG(3),
    STATIC_BROKER_CONFIG(4), DEFAULT_CONFIG(5), DYNAMIC_BROKER_LOGGER_CONFIG(6), CLIENT_METRICS_CONFIG(7),
    GROUP_CONFIG(8);

    private final byte code;

    ConfigSource(int code) {
        this.code = (byte) code;
    }

    /** The code on the wire. */
    public byte code() {
        return code;
    }

    /** The source for a wire code; codes this version does not know map to {@link #UNKNOWN}. */
    public static ConfigSource forCode(byte code) {
        for (ConfigSource s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return UNKNOWN;
    }
}
