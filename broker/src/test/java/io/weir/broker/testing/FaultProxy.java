package io.weir.broker.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy for fault tests: listens on 127.0.0.1 (port 0), forwards every connection to a target
 * broker, and injects faults at random points, from a seed so a failing run can be replayed:
 * <ul>
 *   <li>drop a response: bytes from the broker are swallowed and the connection is cut, so the
 *       broker acted on a request whose answer the client never sees;</li>
 *   <li>cut a request: the client's bytes are forwarded only in part and the connection is cut;</li>
 *   <li>{@link #cutAll()} cuts every open connection now.</li>
 * </ul>
 * Faults come either by chance ({@link #setFaults}) or every Nth chunk ({@link #setPeriodicFaults}), where a test
 * that needs at least some faults gets them for certain once enough chunks passed (chance alone can fall short).
 * Faults are bounded by {@code maxFaults}, so a test always ends. The target can change
 * ({@link #setTarget}) for a broker restarted on a new port. Two threads per connection, blocking
 * I/O: simple, and fine for tests. Thread-safe.
 */
public final class FaultProxy implements AutoCloseable {
    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Random random;
    private final AtomicInteger faults = new AtomicInteger();
    private volatile int targetPort;
    private volatile double dropResponseProbability;
    private volatile double cutRequestProbability;
    private volatile int dropEveryNthResponse;
    private volatile int cutEveryNthRequest;
    private final AtomicLong responseChunks = new AtomicLong();
    private final AtomicLong requestChunks = new AtomicLong();
    private volatile int maxFaults;
    private volatile boolean closed;

    public FaultProxy(int targetPort, long seed) throws IOException {
        this.targetPort = targetPort;
        this.random = new Random(seed);
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "fault-proxy-acceptor");
        this.acceptor.setDaemon(true);
        this.acceptor.start();
    }

    /** {@code 127.0.0.1:port} to give clients as bootstrap.servers. */
    public String bootstrapServers() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    public int port() {
        return server.getLocalPort();
    }

    public void setTarget(int port) {
        this.targetPort = port;
    }

    /**
     * Turns on random faults: each chunk read from the broker is dropped (and its connection cut)
     * with {@code dropResponse} probability, each chunk from the client is cut short with
     * {@code cutRequest} probability, until {@code maxFaults} faults happened.
     */
    public void setFaults(double dropResponse, double cutRequest, int maxFaults) {
        set(dropResponse, cutRequest, 0, 0, maxFaults);
    }

    /**
     * Turns on faults at fixed places: every {@code dropEveryNthResponse}th chunk read from the broker is dropped
     * (and its connection cut), every {@code cutEveryNthRequest}th chunk from the client is cut short (at a random
     * point from the seed), until {@code maxFaults} faults happened; 0 turns one kind off. Which chunk a request or
     * response ends up in still varies from run to run, but the count does not: {@code k} chunks bring
     * {@code k / N} faults.
     */
    public void setPeriodicFaults(int dropEveryNthResponse, int cutEveryNthRequest, int maxFaults) {
        set(0, 0, dropEveryNthResponse, cutEveryNthRequest, maxFaults);
    }

    private void set(double dropResponse, double cutRequest, int dropEvery, int cutEvery, int maxFaults) {
        this.maxFaults = 0;   // no fault from a mix of the old and new settings while they change
        this.dropResponseProbability = dropResponse;
        this.cutRequestProbability = cutRequest;
        this.dropEveryNthResponse = dropEvery;
        this.cutEveryNthRequest = cutEvery;
        this.responseChunks.set(0);
        this.requestChunks.set(0);
        this.faults.set(0);
        this.maxFaults = maxFaults;
    }

    /** Number of faults injected since {@link #setFaults}. */
    public int faultsInjected() {
        return faults.get();
    }

    /** Cuts every open connection. */
    public void cutAll() {
        for (Socket s : sockets) {
            ProxyConnections.closeQuietly(s);
        }
    }

    /** Whether the chunk just read gets a fault: every Nth chunk when {@code every} is set, else by chance. */
    private boolean roll(double p, int every, AtomicLong chunks) {
        boolean hit;
        if (every > 0) {
            hit = chunks.incrementAndGet() % every == 0;
        } else if (p <= 0) {
            return false;
        } else {
            synchronized (random) {
                hit = random.nextDouble() < p;
            }
        }
        if (!hit) {
            return false;
        }
        if (faults.incrementAndGet() > maxFaults) {
            faults.decrementAndGet();
            return false;
        }
        return true;
    }

    private int randomInt(int bound) {
        synchronized (random) {
            return random.nextInt(bound);
        }
    }

    private void acceptLoop() {
        ProxyConnections.acceptLoop(server, () -> targetPort, () -> closed, (client, upstream) -> {
            sockets.add(client);
            sockets.add(upstream);
            start(client, upstream, false);
            start(upstream, client, true);
        });
    }

    private void start(Socket from, Socket to, boolean fromBroker) {
        Thread t = new Thread(() -> pump(from, to, fromBroker), "fault-proxy-" + (fromBroker ? "down" : "up"));
        t.setDaemon(true);
        t.start();
    }

    private void pump(Socket from, Socket to, boolean fromBroker) {
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (fromBroker && roll(dropResponseProbability, dropEveryNthResponse, responseChunks)) {
                    break; // swallow the response, then cut
                }
                if (!fromBroker && roll(cutRequestProbability, cutEveryNthRequest, requestChunks)) {
                    out.write(buf, 0, randomInt(n + 1));
                    out.flush();
                    break;
                }
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // the other side or a fault closed the connection
        } finally {
            ProxyConnections.closeQuietly(from);
            ProxyConnections.closeQuietly(to);
            sockets.remove(from);
            sockets.remove(to);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        cutAll();
    }
}
