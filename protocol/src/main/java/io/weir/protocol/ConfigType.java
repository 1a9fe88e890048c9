package io.weir.protocol;

/**
 * The value type of a config reported by DescribeConfigs v3+, with Kafka's wire codes
 * ({@code DescribeConfigsResponse.ConfigType}); tools use it to parse and display values.
 */
public enum ConfigType {
    UNKNOWN(0), BOOLEAN(1), STRING(2), INT(3), SHORT(4), LONG(5), DOUBLE(6), LIST(7), CLASS(8), PASSWORD(9);

    private final byte code;

    ConfigType(int code) {
        this.code = (byte) code;
    }

    /** The code on the wire. */
    public byte code() {
        return code;
    }

    /** The type for a wire code; codes this version does not know map to {@link #UNKNOWN}. */
    public static ConfigType forCode(byte code) {
        for (ConfigType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return UNKNOWN;
    }
}
