package io.weir.admin;

import io.weir.common.config.AbstractConfig;
import io.weir.common.config.ConfigDef;
import io.weir.protocol.client.CommonClientConfigs;

import java.util.Map;

/**
 * The Admin client's configuration: the shared client keys ({@link CommonClientConfigs}) plus
 * {@code default.api.timeout.ms}. Construction fails with a {@link io.weir.common.config.ConfigException}
 * naming the key when a key is unknown, missing ({@code bootstrap.servers}) or invalid. Immutable.
 */
public final class AdminClientConfig extends AbstractConfig {
    public static final String BOOTSTRAP_SERVERS_CONFIG = CommonClientConfigs.BOOTSTRAP_SERVERS;
    public static final String CLIENT_ID_CONFIG = CommonClientConfigs.CLIENT_ID;
    public static final String REQUEST_TIMEOUT_MS_CONFIG = CommonClientConfigs.REQUEST_TIMEOUT_MS;
    public static final String DEFAULT_API_TIMEOUT_MS_CONFIG = "default.api.timeout.ms";

    /** Requests the admin client keeps outstanding per connection (not configurable, as in Kafka). */
    static final int MAX_IN_FLIGHT = 100;

    private static final ConfigDef CONFIG = CommonClientConfigs.defineCommon(new ConfigDef(), 30_000)
        .define(DEFAULT_API_TIMEOUT_MS_CONFIG, ConfigDef.Type.INT, 60_000, ConfigDef.atLeast(0),
            "default timeout of an Admin call, retries included; options.timeoutMs overrides it");

    public AdminClientConfig(Map<String, ?> props) {
        super(CONFIG, props);
        CommonClientConfigs.rejectUnknownKeys(this, "admin client");
    }

    /** The key table, for usage output. */
    public static ConfigDef configDef() {
        return CONFIG;
    }

    public int defaultApiTimeoutMs() {
        return getInt(DEFAULT_API_TIMEOUT_MS_CONFIG);
    }
}
