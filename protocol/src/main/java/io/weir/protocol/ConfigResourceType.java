package io.weir.protocol;

/**
 * The resource types of DescribeConfigs and IncrementalAlterConfigs, with Kafka's wire codes
 * ({@code ConfigResource.Type}). ACL resource types use other codes and are not this enum.
 */
public enum ConfigResourceType {
    UNKNOWN(0), ANY(1), TOPIC(2), GROUP(3), BROKER(4), BROKER_LOGGER(8), CLIENT_METRICS(16);

    private final byte code;

    ConfigResourceType(int code) {
        this.code = (byte) code;
    }

    /** The code on the wire. */
    public byte code() {
        return code;
    }

    /** The type for a wire code; codes this version does not know map to {@link #UNKNOWN}. */
    public static ConfigResourceType forCode(byte code) {
        for (ConfigResourceType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return UNKNOWN;
    }
}
