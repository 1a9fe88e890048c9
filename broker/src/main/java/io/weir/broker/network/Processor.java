package io.weir.broker.network;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A network thread: owns a {@link Selector} and the connections the acceptor gave it. Reads one
 * request frame at a time per connection, hands it to the {@link RequestChannel} and mutes the
 * connection until the handler answers, so responses leave in request order.
 *
 * <p>Frame sizes are checked as soon as the 4 size bytes arrive: a negative size or one above
 * {@code socket.request.max.bytes} closes the connection before anything is allocated.
 *
 * <p>Only its own thread touches the selector and connections; other threads talk to it through
 * the {@link #accept} and {@link #enqueue} queues, which wake the selector.
 */
final class Processor implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Processor.class);
    private static final AtomicLong CONNECTION_IDS = new AtomicLong();

    record Outcome(String connectionId, Send send, boolean close) {
    }

    private final int id;
    private final Selector selector;
    private final RequestChannel requestChannel;
    private final int maxRequestBytes;
    private final ConcurrentLinkedQueue<SocketChannel> newConnections = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    private final Map<String, Connection> connections = new HashMap<>();
    private volatile boolean running = true;

    Processor(int id, RequestChannel requestChannel, int maxRequestBytes) throws IOException {
        this.id = id;
        this.selector = Selector.open();
        this.requestChannel = requestChannel;
        this.maxRequestBytes = maxRequestBytes;
    }

    void accept(SocketChannel channel) {
        newConnections.add(channel);
        selector.wakeup();
    }

    void enqueue(Outcome outcome) {
        outcomes.add(outcome);
        selector.wakeup();
    }

    int connectionCount() {
        return connections.size();
    }

    void shutdown() {
        running = false;
        selector.wakeup();
    }

    @Override
    public void run() {
        try {
            while (running) {
                registerNewConnections();
                processOutcomes();
                selector.select(300);
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    Connection c = (Connection) key.attachment();
                    try {
                        if (key.isValid() && key.isReadable()) {
                            read(c);
                        }
                        if (key.isValid() && key.isWritable()) {
                            write(c);
                        }
                    } catch (IOException | RuntimeException e) {
                        log.debug("closing connection {} from {}: {}", c.id, c.address, e.toString());
                        close(c);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        } catch (IOException e) {
            log.error("network thread {} failed", id, e);
        } finally {
            for (Connection c : connections.values().toArray(new Connection[0])) {
                close(c);
            }
            try {
                selector.close();
            } catch (IOException ignored) {
                // shutting down
            }
        }
    }

    private void registerNewConnections() {
        SocketChannel ch;
        while ((ch = newConnections.poll()) != null) {
            try {
                ch.configureBlocking(false);
                ch.socket().setTcpNoDelay(true);
                String cid = id + "-" + CONNECTION_IDS.incrementAndGet();
                String address = String.valueOf(ch.getRemoteAddress() instanceof InetSocketAddress isa
                    ? isa.getAddress().getHostAddress() + ":" + isa.getPort() : ch.getRemoteAddress());
                Connection c = new Connection(cid, ch, address);
                c.key = ch.register(selector, SelectionKey.OP_READ, c);
                connections.put(cid, c);
            } catch (IOException e) {
                log.debug("could not register new connection: {}", e.toString());
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
        }
    }

    private void processOutcomes() {
        Outcome o;
        while ((o = outcomes.poll()) != null) {
            Connection c = connections.get(o.connectionId());
            if (c == null) {
                continue; // closed meanwhile
            }
            if (o.close()) {
                close(c);
            } else if (o.send() == null) {
                unmute(c);
            } else {
                c.send = o.send();
                c.key.interestOps(SelectionKey.OP_WRITE);
            }
        }
    }

    private void read(Connection c) throws IOException, InterruptedException {
        if (c.payload == null) {
            int n = c.channel.read(c.sizeBuffer);
            if (n < 0) {
                close(c);
                return;
            }
            if (c.sizeBuffer.hasRemaining()) {
                return;
            }
            int size = c.sizeBuffer.getInt(0);
            if (size < 0 || size > maxRequestBytes) {
                log.warn("closing connection {} from {}: request size {} is outside [0, {}] (socket.request.max.bytes)",
                    c.id, c.address, size, maxRequestBytes);
                close(c);
                return;
            }
            c.payload = ByteBuffer.allocate(size);
        }
        int n = c.channel.read(c.payload);
        if (n < 0) {
            close(c);
            return;
        }
        if (!c.payload.hasRemaining()) {
            ByteBuffer frame = c.payload;
            frame.flip();
            c.payload = null;
            c.sizeBuffer.clear();
            c.key.interestOps(0); // muted until the handler answers
            requestChannel.put(new RequestChannel.Request(this, c.id, frame, System.nanoTime(), c.address));
        }
    }

    private void write(Connection c) throws IOException {
        Send s = c.send;
        if (s == null) {
            c.key.interestOps(SelectionKey.OP_READ);
            return;
        }
        s.writeTo(c.channel);
        if (s.completed()) {
            c.send = null;
            unmute(c);
        }
    }

    private void unmute(Connection c) {
        if (c.key.isValid()) {
            c.key.interestOps(SelectionKey.OP_READ);
        }
    }

    private void close(Connection c) {
        connections.remove(c.id);
        if (c.key != null) {
            c.key.cancel();
        }
        try {
            c.channel.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    private static final class Connection {
        final String id;
        final SocketChannel channel;
        final String address;
        final ByteBuffer sizeBuffer = ByteBuffer.allocate(4);
        ByteBuffer payload;
        Send send;
        SelectionKey key;

        Connection(String id, SocketChannel channel, String address) {
            this.id = id;
            this.channel = channel;
            this.address = address;
        }
    }
}
