package io.weir.broker.network;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The broker's network front: one acceptor thread for the listener hands each new connection to one
 * of {@code num.network.threads} {@link Processor}s (round robin); processors put complete request
 * frames on the {@link RequestChannel}, from which the handler pool takes them.
 *
 * <p>Thread-safe: start and shutdown from one thread; the rest runs on its own threads.
 */
public final class SocketServer {
    private static final Logger log = LoggerFactory.getLogger(SocketServer.class);

    private final String host;
    private final int port;
    private final RequestChannel requestChannel;
    private final List<Processor> processors = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private ServerSocketChannel serverChannel;
    private Selector acceptSelector;
    private volatile boolean running;
    private int boundPort = -1;

    public SocketServer(String host, int port, int numNetworkThreads, int maxRequestBytes,
                        RequestChannel requestChannel) throws IOException {
        this.host = host;
        this.port = port;
        this.requestChannel = requestChannel;
        for (int i = 0; i < numNetworkThreads; i++) {
            processors.add(new Processor(i, requestChannel, maxRequestBytes));
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
        for (Processor p : processors) {
            Thread t = new Thread(p, "weir-network-" + threads.size());
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        Thread acceptor = new Thread(this::acceptLoop, "weir-acceptor-" + boundPort);
        acceptor.setDaemon(true);
        acceptor.start();
        threads.add(acceptor);
        log.info("listening on {}:{}", host, boundPort);
    }

    /** The port actually bound (useful with port 0). */
    public int boundPort() {
        return boundPort;
    }

    public RequestChannel requestChannel() {
        return requestChannel;
    }

    private void acceptLoop() {
        int next = 0;
        while (running) {
            try {
                acceptSelector.select(500);
                acceptSelector.selectedKeys().clear();
                SocketChannel ch;
                while ((ch = serverChannel.accept()) != null) {
                    processors.get(next++ % processors.size()).accept(ch);
                }
            } catch (IOException e) {
                if (running) {
                    log.warn("accept failed: {}", e.toString());
                }
            }
        }
    }

    /** Stops accepting, closes every connection and waits for the network threads. */
    public synchronized void shutdown() {
        if (!running) {
            return;
        }
        running = false;
        try {
            serverChannel.close();
            acceptSelector.wakeup();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Processor p : processors) {
            p.shutdown();
        }
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
