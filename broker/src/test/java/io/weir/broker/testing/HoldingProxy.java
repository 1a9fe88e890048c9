package io.weir.broker.testing;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A TCP proxy on loopback for the Jepsen scenario: it relays each client connection to the broker frame by
 * frame (Kafka's 4-byte size prefix), and on request ({@link #holdNext}) holds the client-to-broker bytes of
 * the one connection whose next request has a given API key, from that request on. The client sees no answer,
 * times out and moves on (on a new connection, which is relayed normally); {@link Hold#release()} then sends
 * the held requests to the broker, late, on the original broker connection, and waits for the broker to answer
 * them (the answers go nowhere: the client has given that connection up).
 *
 * <p>Two threads per connection, blocking I/O: simple, and enough for tests. The broker must advertise the
 * proxy's address (advertised.listeners) so clients reconnect through it. Thread-safe.
 */
public final class HoldingProxy implements AutoCloseable {
    private static final int MAX_FRAME_BYTES = 64 * 1024 * 1024;
    private static final long ANSWER_WAIT_MS = 15_000;

    private final ServerSocket server;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final AtomicReference<Hold> armed = new AtomicReference<>();
    private volatile int targetPort;
    private volatile boolean closed;

    public HoldingProxy() throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "holding-proxy-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port();
    }

    public void setTarget(int port) {
        this.targetPort = port;
    }

    /** Holds the connection that next sends a request with {@code apiKey} (one connection, once). */
    public Hold holdNext(int apiKey) {
        Hold hold = new Hold(apiKey);
        if (!armed.compareAndSet(null, hold)) {
            throw new IllegalStateException("a hold is already armed");
        }
        return hold;
    }

    /** One held connection: its requests from the matching one on, until released. */
    public final class Hold {
        private final int apiKey;
        private final CountDownLatch held = new CountDownLatch(1);
        private volatile Link link;

        private Hold(int apiKey) {
            this.apiKey = apiKey;
        }

        /** True once a request with the API key arrived and is held. */
        public boolean awaitHeld(long timeoutMs) throws InterruptedException {
            return held.await(timeoutMs, TimeUnit.MILLISECONDS);
        }

        /** The held requests' count (the matching one and those behind it on its connection). */
        public int heldRequests() {
            Link l = link;
            return l == null ? 0 : l.heldCount();
        }

        /**
         * Sends the held requests to the broker and waits (bounded) until the broker answered them; true when it
         * did. A hold that never caught a request is disarmed.
         */
        public boolean release() throws InterruptedException {
            armed.compareAndSet(this, null);
            Link l = link;
            return l == null || l.release();
        }
    }

    private void acceptLoop() {
        ProxyConnections.acceptLoop(server, () -> targetPort, () -> closed, (client, upstream) -> {
            Link link = new Link(client, upstream);
            links.add(link);
            link.start();
        });
    }

    /** One client connection and its broker connection. */
    private final class Link {
        private final Socket client;
        private final Socket upstream;
        private final List<byte[]> heldFrames = new ArrayList<>();
        private final CountDownLatch released = new CountDownLatch(1);
        /** Guards forwarded and answered (never taken with this held, so the down pump never waits for a write). */
        private final Object counts = new Object();
        private long forwarded;
        private long answered;
        /** Guarded by this, which also orders the writes to the broker. */
        private boolean holding;

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void start() {
            Thread up = new Thread(this::pumpUp, "holding-proxy-up");
            up.setDaemon(true);
            up.start();
            Thread down = new Thread(this::pumpDown, "holding-proxy-down");
            down.setDaemon(true);
            down.start();
        }

        synchronized int heldCount() {
            return heldFrames.size();
        }

        private void pumpUp() {
            try {
                DataInputStream in = new DataInputStream(client.getInputStream());
                OutputStream out = upstream.getOutputStream();
                while (true) {
                    byte[] frame = readFrame(in);
                    if (frame == null) {
                        break;
                    }
                    Hold hold = armed.get();
                    synchronized (this) {
                        if (!holding && hold != null && frame.length >= 6 && apiKey(frame) == hold.apiKey
                            && armed.compareAndSet(hold, null)) {
                            holding = true;
                            hold.link = this;
                            hold.held.countDown();
                        }
                        if (holding) {
                            heldFrames.add(frame);
                            continue;
                        }
                        countForwarded(1);
                        out.write(frame);
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // the client went away, or close()
            }
            // the client is gone: a held connection stays open to the broker until its requests were released
            // and answered; any other one closes now
            boolean wasHeld;
            synchronized (this) {
                wasHeld = holding || !heldFrames.isEmpty() || released.getCount() == 0;
            }
            if (wasHeld && !closed) {
                try {
                    released.await(10, TimeUnit.MINUTES);
                    awaitAnswers();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            closeBoth();
        }

        /** Writes the held requests to the broker; true once the broker answered everything forwarded. */
        public boolean release() throws InterruptedException {
            synchronized (this) {
                try {
                    OutputStream out = upstream.getOutputStream();
                    countForwarded(heldFrames.size());
                    for (byte[] frame : heldFrames) {
                        out.write(frame);
                    }
                    out.flush();
                } catch (IOException e) {
                    return false;
                } finally {
                    heldFrames.clear();
                    holding = false;
                    released.countDown();
                }
            }
            return awaitAnswers();
        }

        private void countForwarded(int n) {
            synchronized (counts) {
                forwarded += n;
            }
        }

        private boolean awaitAnswers() throws InterruptedException {
            long deadline = System.currentTimeMillis() + ANSWER_WAIT_MS;
            synchronized (counts) {
                while (answered < forwarded && !upstream.isClosed()) {
                    long left = deadline - System.currentTimeMillis();
                    if (left <= 0) {
                        return false;
                    }
                    counts.wait(left);
                }
                return answered >= forwarded;
            }
        }

        private void pumpDown() {
            try {
                DataInputStream in = new DataInputStream(upstream.getInputStream());
                OutputStream out = client.getOutputStream();
                boolean clientGone = false;
                while (true) {
                    byte[] frame = readFrame(in);
                    if (frame == null) {
                        break;
                    }
                    synchronized (counts) {
                        answered++;
                        counts.notifyAll();
                    }
                    if (!clientGone) {
                        try {
                            out.write(frame);
                            out.flush();
                        } catch (IOException e) {
                            clientGone = true; // keep reading: the broker's answers to released requests count
                        }
                    }
                }
            } catch (IOException e) {
                // the broker closed the connection, or close()
            }
            // the broker closed the connection (or close()): nothing more will be answered
            ProxyConnections.closeQuietly(client);
            ProxyConnections.closeQuietly(upstream);
            synchronized (counts) {
                counts.notifyAll();
            }
        }

        private void closeBoth() {
            ProxyConnections.closeQuietly(client);
            ProxyConnections.closeQuietly(upstream);
            synchronized (counts) {
                counts.notifyAll();
            }
            links.remove(this);
        }
    }

    private static int apiKey(byte[] frame) {
        return ((frame[4] & 0xff) << 8) | (frame[5] & 0xff);
    }

    /** One size-prefixed frame, prefix included; null at a clean end of stream. */
    private static byte[] readFrame(DataInputStream in) throws IOException {
        int size;
        try {
            size = in.readInt();
        } catch (EOFException e) {
            return null;
        }
        if (size < 0 || size > MAX_FRAME_BYTES) {
            throw new IOException("bad frame size " + size);
        }
        byte[] frame = new byte[4 + size];
        frame[0] = (byte) (size >>> 24);
        frame[1] = (byte) (size >>> 16);
        frame[2] = (byte) (size >>> 8);
        frame[3] = (byte) size;
        in.readFully(frame, 4, size);
        return frame;
    }

    @Override
    public void close() {
        closed = true;
        ProxyConnections.closeQuietly(server);
        for (Link l : links) {
            l.released.countDown();
            l.closeBoth();
        }
    }
}
