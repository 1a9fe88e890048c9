package io.weir.protocol.client;

import io.weir.common.config.AbstractConfig;
import io.weir.common.config.ConfigDef;
import io.weir.common.config.ConfigException;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The configuration keys every Weir client shares (Kafka's names, defaults and meanings), defined
 * once so that the producer, consumer and admin validate them the same way. A client builds its own
 * {@link ConfigDef} with {@link #defineCommon(ConfigDef)} plus its own keys, then turns the parsed
 * config into {@link NetworkClient.Settings} with {@link #networkSettings}.
 */
public final class CommonClientConfigs {
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String CLIENT_ID = "client.id";
    public static final String REQUEST_TIMEOUT_MS = "request.timeout.ms";
    public static final String RECONNECT_BACKOFF_MS = "reconnect.backoff.ms";
    public static final String RECONNECT_BACKOFF_MAX_MS = "reconnect.backoff.max.ms";
    public static final String RETRY_BACKOFF_MS = "retry.backoff.ms";
    public static final String RETRY_BACKOFF_MAX_MS = "retry.backoff.max.ms";
    public static final String METADATA_MAX_AGE_MS = "metadata.max.age.ms";
    public static final String CONNECTIONS_MAX_IDLE_MS = "connections.max.idle.ms";
    public static final String SOCKET_CONNECTION_SETUP_TIMEOUT_MS = "socket.connection.setup.timeout.ms";
    public static final String SEND_BUFFER_BYTES = "send.buffer.bytes";
    public static final String RECEIVE_BUFFER_BYTES = "receive.buffer.bytes";
    public static final String SECURITY_PROTOCOL = "security.protocol";
    public static final String MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION = "max.in.flight.requests.per.connection";

    private CommonClientConfigs() {
    }

    /** Adds the shared keys to {@code def} and returns it. */
    public static ConfigDef defineCommon(ConfigDef def, int defaultRequestTimeoutMs) {
        return def
            .define(BOOTSTRAP_SERVERS, ConfigDef.Type.LIST, ConfigDef.NO_DEFAULT, CommonClientConfigs::validateBootstrap,
                "host:port pairs used to find the cluster; any live broker of the cluster will do")
            .define(CLIENT_ID, ConfigDef.Type.STRING, "", "id sent with every request, for broker logs and quotas")
            .define(REQUEST_TIMEOUT_MS, ConfigDef.Type.INT, defaultRequestTimeoutMs, ConfigDef.atLeast(0),
                "how long to wait for the response to one request before failing it and closing the connection")
            .define(RECONNECT_BACKOFF_MS, ConfigDef.Type.LONG, 50L, ConfigDef.atLeast(0L),
                "initial wait before reconnecting to a broker after a failed connection")
            .define(RECONNECT_BACKOFF_MAX_MS, ConfigDef.Type.LONG, 1000L, ConfigDef.atLeast(0L),
                "the reconnect wait doubles per consecutive failure up to this")
            .define(RETRY_BACKOFF_MS, ConfigDef.Type.LONG, 100L, ConfigDef.atLeast(0L),
                "initial wait before retrying a failed request or metadata refresh")
            .define(RETRY_BACKOFF_MAX_MS, ConfigDef.Type.LONG, 1000L, ConfigDef.atLeast(0L),
                "the retry wait doubles per consecutive failure up to this")
            .define(METADATA_MAX_AGE_MS, ConfigDef.Type.LONG, 300_000L, ConfigDef.atLeast(0L),
                "refresh metadata at least this often even without errors")
            .define(CONNECTIONS_MAX_IDLE_MS, ConfigDef.Type.LONG, 300_000L,
                "close connections idle this long; -1 never")
            .define(SOCKET_CONNECTION_SETUP_TIMEOUT_MS, ConfigDef.Type.LONG, 10_000L, ConfigDef.atLeast(0L),
                "how long a connection may take to connect and finish the ApiVersions handshake")
            .define(SEND_BUFFER_BYTES, ConfigDef.Type.INT, 128 * 1024, ConfigDef.atLeast(-1),
                "SO_SNDBUF; -1 for the OS default")
            .define(RECEIVE_BUFFER_BYTES, ConfigDef.Type.INT, 64 * 1024, ConfigDef.atLeast(-1),
                "SO_RCVBUF; -1 for the OS default")
            .define(SECURITY_PROTOCOL, ConfigDef.Type.STRING, "PLAINTEXT", ConfigDef.in("PLAINTEXT"),
                "protocol used to talk to brokers (only PLAINTEXT is implemented)");
    }

    /** Fails with a message naming the key if any configured key is not defined for this client. */
    public static void rejectUnknownKeys(AbstractConfig config, String clientKind) {
        Set<String> unknown = config.unknownKeys();
        if (!unknown.isEmpty()) {
            String key = unknown.iterator().next();
            throw new ConfigException("Unknown configuration " + key + " for the " + clientKind
                + (unknown.size() > 1 ? " (also unknown: " + String.join(", ", unknown) + ")" : ""));
        }
    }

    /** Parses {@code bootstrap.servers} into bootstrap nodes with ids -1, -2, ... */
    public static List<Node> parseBootstrapServers(List<String> servers) {
        List<Node> nodes = new ArrayList<>();
        int id = -1;
        for (String s : servers) {
            if (s.isEmpty()) {
                continue;
            }
            nodes.add(parseHostPort(s, id--));
        }
        if (nodes.isEmpty()) {
            throw new ConfigException(BOOTSTRAP_SERVERS, servers, "at least one host:port is required");
        }
        return nodes;
    }

    private static Node parseHostPort(String s, int id) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new ConfigException(BOOTSTRAP_SERVERS, s, "expected host:port");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(BOOTSTRAP_SERVERS, s, "port is not a number");
        }
        if (port <= 0 || port > 65535) {
            throw new ConfigException(BOOTSTRAP_SERVERS, s, "port must be in 1..65535");
        }
        return new Node(id, host, port);
    }

    private static void validateBootstrap(String name, Object value) {
        List<?> list = (List<?>) value;
        List<String> strings = new ArrayList<>();
        list.forEach(o -> strings.add(o.toString()));
        parseBootstrapServers(strings);
    }

    /** Network settings from a client config that defined the common keys. */
    public static NetworkClient.Settings networkSettings(AbstractConfig config, int maxInFlightPerConnection) {
        return new NetworkClient.Settings(
            parseBootstrapServers(config.getList(BOOTSTRAP_SERVERS)),
            config.getString(CLIENT_ID),
            config.getInt(REQUEST_TIMEOUT_MS),
            config.getLong(RECONNECT_BACKOFF_MS),
            config.getLong(RECONNECT_BACKOFF_MAX_MS),
            config.getLong(RETRY_BACKOFF_MS),
            config.getLong(RETRY_BACKOFF_MAX_MS),
            config.getLong(METADATA_MAX_AGE_MS),
            config.getLong(CONNECTIONS_MAX_IDLE_MS),
            config.getLong(SOCKET_CONNECTION_SETUP_TIMEOUT_MS),
            config.getInt(SEND_BUFFER_BYTES),
            config.getInt(RECEIVE_BUFFER_BYTES),
            maxInFlightPerConnection,
            NetworkClient.Settings.DEFAULT_MAX_RESPONSE_BYTES,
            NetworkClient.Settings.DEFAULT_MAX_QUEUED_CALLS);
    }
}
