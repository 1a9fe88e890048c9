package io.weir.broker.network;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts open connections, in total and per client IP, so the acceptor can refuse one over
 * {@code max.connections} or {@code max.connections.per.ip} before it costs a processor anything.
 * Every {@link #tryAcquire} that returned true is matched by exactly one {@link #release} when that
 * connection closes. Thread-safe: the acceptor acquires, network threads release.
 */
public final class ConnectionQuotas {
    private final int maxConnections;
    private final int maxConnectionsPerIp;
    private final Map<InetAddress, Integer> perIp = new HashMap<>();
    private int total;
    private final AtomicLong refused = new AtomicLong();

    public ConnectionQuotas(int maxConnections, int maxConnectionsPerIp) {
        if (maxConnections < 1 || maxConnectionsPerIp < 1) {
            throw new IllegalArgumentException("connection limits must be at least 1: max.connections="
                + maxConnections + ", max.connections.per.ip=" + maxConnectionsPerIp);
        }
        this.maxConnections = maxConnections;
        this.maxConnectionsPerIp = maxConnectionsPerIp;
    }

    /** Takes a slot for a new connection from {@code address}; false (and nothing taken) when over a limit. */
    public boolean tryAcquire(InetAddress address) {
        synchronized (this) {
            if (total >= maxConnections) {
                refused.incrementAndGet();
                return false;
            }
            int n = perIp.getOrDefault(address, 0);
            if (n >= maxConnectionsPerIp) {
                refused.incrementAndGet();
                return false;
            }
            perIp.put(address, n + 1);
            total++;
            return true;
        }
    }

    /** Gives back the slot of a connection from {@code address} that has closed. */
    public void release(InetAddress address) {
        synchronized (this) {
            Integer n = perIp.get(address);
            assert n != null && n > 0 : "released a connection never acquired for " + address;
            if (n == null) {
                return;
            }
            if (n == 1) {
                perIp.remove(address);
            } else {
                perIp.put(address, n - 1);
            }
            total--;
        }
    }

    public synchronized int connections() {
        return total;
    }

    public synchronized int connections(InetAddress address) {
        return perIp.getOrDefault(address, 0);
    }

    /** Connections refused at accept since start. */
    public long refusedConnections() {
        return refused.get();
    }
}
