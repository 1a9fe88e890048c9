package io.weir.broker.network;

import io.weir.common.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The broker's network front: one acceptor thread for the listener hands each new connection to one
 * of {@code num.network.threads} {@link Processor}s (round robin); processors put complete request
 * frames on the {@link RequestChannel}, from which the handler pool takes them.
 *
 * <p>Limits, all enforced here: connections in total and per client IP (refused at accept), bytes
 * of requests being read or queued (one {@link RequestMemoryPool} shared by the processors), how long
 * a partial request may take and how long a connection may idle. The acceptor loop also runs the
 * processors' {@link ThreadWatchdog}, which replaces a network thread that died.
 *
 * <p>Thread-safe: start and shutdown from one thread; the rest runs on its own threads.
 */
public final class SocketServer {
    private static final Logger log = LoggerFactory.getLogger(SocketServer.class);

    /**
     * The network settings, validated once.
     *
     * @param numNetworkThreads       {@code num.network.threads}
     * @param maxRequestBytes         {@code socket.request.max.bytes}: largest frame
     * @param queuedMaxRequestBytes   {@code queued.max.request.bytes}: request bytes held at once
     *                                ({@code Long.MAX_VALUE}: unbounded); at least {@code maxRequestBytes}
     * @param requestReadTimeoutMs    {@code socket.request.read.timeout.ms}: most time one frame may take to arrive
     * @param connectionsMaxIdleMs    {@code connections.max.idle.ms}
     * @param maxConnections          {@code max.connections}
     * @param maxConnectionsPerIp     {@code max.connections.per.ip}
     * @param directWrites            the thread that answers a request writes the response to the socket itself
     *                                when the socket takes it (see {@link Processor}); default from the system
     *                                property {@value #DIRECT_WRITES_PROPERTY} (true unless set to false)
     * @param eagerReads              after a response has left, the network thread reads the connection's next
     *                                request at once instead of after another select round; default from the
     *                                system property {@value #EAGER_READS_PROPERTY} (true unless set to false)
     * @param readAheadFrames         complete requests a connection may have read beyond the one with a handler
     *                                (pipelined reads; they are handed to the handlers one at a time, in order);
     *                                0, the default, reads nothing while a request is in flight; default from the
     *                                system property {@value #READ_AHEAD_PROPERTY}, at most {@value #MAX_READ_AHEAD}
     */
    public record Settings(int numNetworkThreads, int maxRequestBytes, long queuedMaxRequestBytes,
                           long requestReadTimeoutMs, long connectionsMaxIdleMs, int maxConnections,
                           int maxConnectionsPerIp, boolean directWrites, boolean eagerReads,
                           int readAheadFrames) {
        /** Internal switch (for benchmarks comparing both paths in one build) of {@link #directWrites}. */
        public static final String DIRECT_WRITES_PROPERTY = "weir.network.direct.response.writes";
        /** Internal switch of {@link #eagerReads}. */
        public static final String EAGER_READS_PROPERTY = "weir.network.eager.reads";
        /** Internal switch of {@link #readAheadFrames}. */
        public static final String READ_AHEAD_PROPERTY = "weir.network.read.ahead.frames";
        /** The most {@link #readAheadFrames} may be. */
        public static final int MAX_READ_AHEAD = 16;

        /** The response path from the system properties {@value #DIRECT_WRITES_PROPERTY} and {@value #EAGER_READS_PROPERTY}. */
        public Settings(int numNetworkThreads, int maxRequestBytes, long queuedMaxRequestBytes,
                        long requestReadTimeoutMs, long connectionsMaxIdleMs, int maxConnections,
                        int maxConnectionsPerIp) {
            this(numNetworkThreads, maxRequestBytes, queuedMaxRequestBytes, requestReadTimeoutMs, connectionsMaxIdleMs,
                maxConnections, maxConnectionsPerIp, switchOn(DIRECT_WRITES_PROPERTY), switchOn(EAGER_READS_PROPERTY),
                Integer.getInteger(READ_AHEAD_PROPERTY, 0));
        }

        private static boolean switchOn(String property) {
            return !"false".equalsIgnoreCase(System.getProperty(property, "true").trim());
        }

        public Settings {
            if (numNetworkThreads < 1 || maxRequestBytes < 1 || requestReadTimeoutMs < 1 || connectionsMaxIdleMs < 1
                || maxConnections < 1 || maxConnectionsPerIp < 1) {
                throw new IllegalArgumentException("network settings must be positive: num.network.threads="
                    + numNetworkThreads + ", socket.request.max.bytes=" + maxRequestBytes
                    + ", socket.request.read.timeout.ms=" + requestReadTimeoutMs + ", connections.max.idle.ms="
                    + connectionsMaxIdleMs + ", max.connections=" + maxConnections + ", max.connections.per.ip="
                    + maxConnectionsPerIp);
            }
            if (readAheadFrames < 0 || readAheadFrames > MAX_READ_AHEAD) {
                throw new IllegalArgumentException(READ_AHEAD_PROPERTY + " must be in [0, " + MAX_READ_AHEAD + "]: "
                    + readAheadFrames);
            }
            if (queuedMaxRequestBytes < maxRequestBytes) {
                throw new IllegalArgumentException("queued.max.request.bytes (" + queuedMaxRequestBytes
                    + ") must be at least socket.request.max.bytes (" + maxRequestBytes + ")");
            }
        }

        /** Kafka's limits where Kafka has them, Weir's defaults for the rest. */
        public static Settings defaults(int numNetworkThreads, int maxRequestBytes) {
            return new Settings(numNetworkThreads, maxRequestBytes, Math.max(100L << 20, maxRequestBytes), 30_000,
                600_000, Integer.MAX_VALUE, Integer.MAX_VALUE);
        }

        public Settings withQueuedMaxRequestBytes(long bytes) {
            return new Settings(numNetworkThreads, maxRequestBytes, bytes, requestReadTimeoutMs, connectionsMaxIdleMs,
                maxConnections, maxConnectionsPerIp, directWrites, eagerReads, readAheadFrames);
        }

        public Settings withTimeouts(long readTimeoutMs, long maxIdleMs) {
            return new Settings(numNetworkThreads, maxRequestBytes, queuedMaxRequestBytes, readTimeoutMs, maxIdleMs,
                maxConnections, maxConnectionsPerIp, directWrites, eagerReads, readAheadFrames);
        }

        public Settings withConnectionLimits(int total, int perIp) {
            return new Settings(numNetworkThreads, maxRequestBytes, queuedMaxRequestBytes, requestReadTimeoutMs,
                connectionsMaxIdleMs, total, perIp, directWrites, eagerReads, readAheadFrames);
        }

        /** These settings with the response path switches set (see {@link #directWrites}, {@link #eagerReads}). */
        public Settings withResponsePath(boolean directWrites, boolean eagerReads) {
            return new Settings(numNetworkThreads, maxRequestBytes, queuedMaxRequestBytes, requestReadTimeoutMs,
                connectionsMaxIdleMs, maxConnections, maxConnectionsPerIp, directWrites, eagerReads, readAheadFrames);
        }

        /** These settings with {@link #readAheadFrames} set. */
        public Settings withReadAheadFrames(int frames) {
            return new Settings(numNetworkThreads, maxRequestBytes, queuedMaxRequestBytes, requestReadTimeoutMs,
                connectionsMaxIdleMs, maxConnections, maxConnectionsPerIp, directWrites, eagerReads, frames);
        }
    }

    private final String host;
    private final int port;
    private final RequestChannel requestChannel;
    private final Settings settings;
    private final Time time;
    private final RequestMemoryPool pool;
    private final ConnectionQuotas quotas;
    private final AtomicReferenceArray<Processor> processors;
    private final ThreadWatchdog processorWatchdog;
    private Thread acceptor;
    private int nextProcessor; // acceptor thread only
    private ServerSocketChannel serverChannel;
    private Selector acceptSelector;
    private volatile boolean running;
    private int boundPort = -1;

    /** A server with {@link Settings#defaults} and the system clock. */
    public SocketServer(String host, int port, int numNetworkThreads, int maxRequestBytes,
                        RequestChannel requestChannel) {
        this(host, port, Settings.defaults(numNetworkThreads, maxRequestBytes), requestChannel, Time.SYSTEM);
    }

    public SocketServer(String host, int port, Settings settings, RequestChannel requestChannel, Time time) {
        this.host = host;
        this.port = port;
        this.settings = settings;
        this.requestChannel = requestChannel;
        this.time = time;
        this.pool = new RequestMemoryPool(settings.queuedMaxRequestBytes());
        this.quotas = new ConnectionQuotas(settings.maxConnections(), settings.maxConnectionsPerIp());
        this.processors = new AtomicReferenceArray<>(settings.numNetworkThreads());
        this.processorWatchdog = new ThreadWatchdog("weir-network-", this::newProcessor);
    }

    private Processor newProcessor(int slot) {
        try {
            Processor p = new Processor(slot, requestChannel, pool, quotas, settings, time);
            processors.set(slot, p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector for network thread " + slot, e);
        }
    }

    /** Binds the listener and starts the threads. */
    public synchronized void start() throws IOException {
        serverChannel = ServerSocketChannel.open();
        serverChannel.socket().setReuseAddress(true);
        serverChannel.bind(new InetSocketAddress(host, port), 512);
        serverChannel.configureBlocking(false);
        boundPort = ((InetSocketAddress) serverChannel.getLocalAddress()).getPort();
        acceptSelector = Selector.open();
        serverChannel.register(acceptSelector, SelectionKey.OP_ACCEPT);
        running = true;
        processorWatchdog.start(settings.numNetworkThreads());
        acceptor = new Thread(this::acceptLoop, "weir-acceptor-" + boundPort);
        acceptor.setDaemon(true);
        acceptor.start();
        log.info("listening on {}:{}", host, boundPort);
    }

    /** The port actually bound (useful with port 0). */
    public int boundPort() {
        return boundPort;
    }

    public RequestChannel requestChannel() {
        return requestChannel;
    }

    public RequestMemoryPool memoryPool() {
        return pool;
    }

    public ConnectionQuotas connectionQuotas() {
        return quotas;
    }

    /** Network threads replaced by the watchdog since start. */
    public long threadReplacements() {
        return processorWatchdog.replacements();
    }

    /**
     * Requests the network threads read right after the connection's previous response left, without
     * waiting for another select round ({@link Settings#eagerReads}); counts since each thread started.
     */
    public long eagerlyReadRequests() {
        long n = 0;
        for (int i = 0; i < processors.length(); i++) {
            Processor p = processors.get(i);
            n += p == null ? 0 : p.eagerlyReadRequests();
        }
        return n;
    }

    /** Connections muted until the request memory pool has room for their next bytes. */
    public int connectionsWaitingForMemory() {
        int n = 0;
        for (int i = 0; i < processors.length(); i++) {
            Processor p = processors.get(i);
            n += p == null ? 0 : p.waitingForMemoryCount();
        }
        return n;
    }

    private record Unassigned(SocketChannel channel, InetAddress address) {
    }

    private void acceptLoop() {
        // connections accepted while every network thread was down: handed over once one is back
        List<Unassigned> unassigned = new ArrayList<>();
        while (running) {
            try {
                acceptSelector.select(unassigned.isEmpty() ? 500 : 20);
                acceptSelector.selectedKeys().clear();
                processorWatchdog.doWork(time.milliseconds());
                for (Iterator<Unassigned> it = unassigned.iterator(); it.hasNext(); ) {
                    Unassigned u = it.next();
                    if (handOver(u.channel(), u.address())) {
                        it.remove();
                    }
                }
                SocketChannel ch;
                while ((ch = serverChannel.accept()) != null) {
                    InetAddress address = admit(ch);
                    if (address != null && !handOver(ch, address)) {
                        unassigned.add(new Unassigned(ch, address));
                    }
                }
            } catch (Throwable t) {
                if (running) {
                    try {
                        log.warn("accept failed: {}", t.toString());
                    } catch (Throwable ignored) {
                        // out of memory: try again on the next round
                    }
                }
            }
        }
        for (Unassigned u : unassigned) {
            closeQuietly(u.channel());
            quotas.release(u.address());
        }
    }

    /** The client's address if the connection is within the limits (its slot taken); else closes it. */
    private InetAddress admit(SocketChannel ch) {
        InetAddress address;
        try {
            address = ((InetSocketAddress) ch.getRemoteAddress()).getAddress();
        } catch (IOException e) {
            closeQuietly(ch);
            return null;
        }
        if (!quotas.tryAcquire(address)) {
            log.debug("refusing a connection from {}: over max.connections ({}) or max.connections.per.ip ({})",
                address.getHostAddress(), settings.maxConnections(), settings.maxConnectionsPerIp());
            closeQuietly(ch);
            return null;
        }
        return address;
    }

    /** Gives the connection to the next running processor (round robin); false if none is running. */
    private boolean handOver(SocketChannel ch, InetAddress address) {
        int n = processors.length();
        for (int i = 0; i < n; i++) {
            Processor p = processors.get(Math.floorMod(nextProcessor++, n));
            if (p.accept(ch, address)) {
                return true;
            }
        }
        return false;
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    /** Stops accepting, closes every connection and waits for the network threads. */
    public synchronized void shutdown() {
        if (!running) {
            return;
        }
        List<Thread> threads = new ArrayList<>(processorWatchdog.stop());
        running = false;
        try {
            serverChannel.close();
            acceptSelector.wakeup();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (int i = 0; i < processors.length(); i++) {
            processors.get(i).shutdown();
        }
        threads.add(acceptor);
        for (Thread t : threads) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            acceptSelector.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
