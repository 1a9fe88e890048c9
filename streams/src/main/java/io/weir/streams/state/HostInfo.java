package io.weir.streams.state;

/**
 * An instance's endpoint for interactive queries, from its {@code application.server} config
 * ({@code host:port}): what {@code queryMetadataForKey} names so a caller can ask the right instance.
 */
public record HostInfo(String host, int port) {
    /** Not known (no instance has the key's partition, or no {@code application.server} is set). */
    public static final HostInfo UNAVAILABLE = new HostInfo("unavailable", -1);

    /** Parses {@code host:port} (IPv6 hosts may be bracketed). */
    public static HostInfo buildFromEndpoint(String endpoint) {
        if (endpoint == null || endpoint.isBlank()) {
            return null;
        }
        int sep = endpoint.lastIndexOf(':');
        if (sep <= 0 || sep == endpoint.length() - 1) {
            throw new IllegalArgumentException("application.server must be host:port, got " + endpoint);
        }
        String host = endpoint.substring(0, sep);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new HostInfo(host, Integer.parseInt(endpoint.substring(sep + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("application.server must be host:port, got " + endpoint, e);
        }
    }

    /** {@code host:port}. */
    public String endpoint() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
