package io.weir.protocol.client;

import java.util.Objects;

/**
 * A broker endpoint as a client sees it. Brokers named in {@code bootstrap.servers} get negative ids
 * (-1, -2, ...) until metadata reveals their real ids; a connection is kept per id. Immutable.
 *
 * @param id   broker id (negative for a bootstrap address)
 * @param host host name or address to connect to
 * @param port TCP port
 * @param rack rack id, or null
 */
public record Node(int id, String host, int port, String rack) {
    public Node {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    public Node(int id, String host, int port) {
        this(id, host, port, null);
    }

    /** True for an address from {@code bootstrap.servers} whose broker id is not known. */
    public boolean isBootstrap() {
        return id < 0;
    }

    /** {@code host:port}. */
    public String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    // equals and hashCode written out: a record's generated ones link through an invokedynamic bootstrap
    // on first use, tens of ms of a client's first request spent spinning method handles

    @Override
    public boolean equals(Object o) {
        return o instanceof Node n && id == n.id && port == n.port && host.equals(n.host) && Objects.equals(rack, n.rack);
    }

    @Override
    public int hashCode() {
        return ((31 * id + host.hashCode()) * 31 + port) * 31 + Objects.hashCode(rack);
    }

    @Override
    public String toString() {
        return address() + " (id: " + id + (rack == null ? "" : " rack: " + rack) + ")";
    }
}
