package io.weir.broker.zk;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.common.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The controller's fast detection of a dead broker (the config {@code controller.broker.liveness.timeout.ms}).
 * While this broker is the controller it keeps one idle TCP connection to the listener of every other
 * registered broker (on any other broker, to the controller's broker alone: a dead controller is fenced by
 * the first broker to find it dead, {@code ZkController#fenceDeadController}). When that connection closes it connects again at once; a broker whose listener then
 * <em>refuses</em> every connection ({@code ECONNREFUSED}: nothing listens on the port, which is what a
 * {@code kill -9}ed process leaves behind) for {@code timeoutMs} — after this probe had once been
 * connected to that same registration — is reported dead through {@link Fencer}: the controller fences it
 * exactly as the expiry of its ZooKeeper session would ({@link ZkController#fenceBroker}), so leaders move
 * and ISRs shrink after about {@code timeoutMs} instead of up to {@code zookeeper.session.timeout.ms}.
 *
 * <p>Why this and not KRaft-like heartbeats ({@code broker.session.timeout.ms}): a refused connection is
 * positive evidence that the process is gone, not merely silence, so it can act much sooner than a
 * heartbeat timeout without false positives. Anything else — a connect that times out, a host that does
 * not answer, a paused ({@code SIGSTOP}) or GC-bound broker whose kernel still accepts connections, a
 * network partition — is not evidence: it resets the window and leaves the broker to ZooKeeper's session
 * timeout, as before. Heartbeats would also need a new RPC, broker-side timers and a second notion of
 * liveness next to the ZooKeeper registration; this probe reuses the registration as the one notion (a
 * fenced broker is simply an unregistered one). A broker never seen connected under its current
 * registration is not fenced (its advertised address may not be reachable from here: fencing it would
 * flap), so a broker that died before this controller first reached it waits for its session.
 *
 * <p>Thread-safe: one daemon thread owns the selector and every connection ({@link #doWork} is its duty
 * cycle); {@link #watch} hands it the brokers to probe through a volatile snapshot and wakes it.
 */
public final class BrokerLivenessProbe implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerLivenessProbe.class);

    /** Called on the probe's thread once per dead registration; must not block for long. */
    @FunctionalInterface
    public interface Fencer {
        void fence(int brokerId, long brokerEpoch, String reason);
    }

    /** The longest a pass waits for I/O. */
    private static final long IDLE_WAIT_MS = 1_000;

    private final int selfId;
    private final long timeoutMs;
    private final long retryBackoffMs;
    private final Time time;
    private final Fencer fencer;
    private final Selector selector;
    private final Thread thread;
    /** The registrations to probe, as last handed over by {@link #watch}; read by the probe's thread. */
    private volatile List<BrokerRegistration> wanted = List.of();
    private volatile boolean closed;
    /** The probe thread's state: one entry per registration being probed. */
    private final Map<Integer, Watch> watches = new HashMap<>();
    private final ByteBuffer discard = ByteBuffer.allocate(64);
    /** The brokers whose current registration this probe has been connected to (read by tests). */
    private final Set<Integer> seenAlive = ConcurrentHashMap.newKeySet();

    /** One registration's probe state (the probe thread's only). */
    private static final class Watch {
        final int id;
        final long epoch;
        final InetSocketAddress address;
        SocketChannel channel;
        boolean connected;
        long connectStartedMs;
        /** Whether a connection to this registration's listener ever succeeded. */
        boolean seenAlive;
        /** When the first refusal of the current run of refusals happened; -1: none. */
        long refusedSinceMs = -1;
        int refusals;
        long nextAttemptMs;
        boolean fenced;

        Watch(BrokerRegistration b) {
            this.id = b.id();
            this.epoch = b.epoch();
            this.address = new InetSocketAddress(b.host(), b.port());
        }

        boolean sameRegistration(BrokerRegistration b) {
            return b.epoch() == epoch && b.port() == address.getPort() && b.host().equals(address.getHostString());
        }
    }

    /**
     * A probe for the controller on broker {@code selfId} (never probed); a broker refusing connections for
     * {@code timeoutMs} after being seen alive is reported to {@code fencer}. Not started.
     */
    public BrokerLivenessProbe(int selfId, long timeoutMs, Time time, Fencer fencer) {
        if (timeoutMs <= 0) {
            throw new IllegalArgumentException("timeoutMs must be positive: " + timeoutMs);
        }
        this.selfId = selfId;
        this.timeoutMs = timeoutMs;
        this.retryBackoffMs = Math.max(1, Math.min(100, timeoutMs / 4));
        this.time = time;
        this.fencer = fencer;
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot open the liveness probe's selector", e);
        }
        this.thread = new Thread(this::run, "weir-controller-liveness-" + selfId);
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /**
     * Probes exactly {@code brokers} (this broker left out) from now on: the controller calls it when its
     * term starts and whenever the registrations change, and with an empty list when its term ends.
     */
    public void watch(Collection<BrokerRegistration> brokers) {
        wanted = List.copyOf(brokers);
        selector.wakeup();
    }

    private void run() {
        while (!closed) {
            try {
                doWork(time.milliseconds());
            } catch (IOException | RuntimeException e) {
                if (closed) {
                    return;
                }
                log.warn("broker liveness probe: unexpected failure; going on", e);
                time.sleep(retryBackoffMs);
            }
        }
    }

    /**
     * One pass: takes the wanted registrations, starts the connections that are due, waits for I/O (at
     * most until the next attempt is due), and handles what happened. Returns how many events it handled.
     */
    int doWork(long nowMs) throws IOException {
        reconcile();
        long nextMs = nowMs + IDLE_WAIT_MS; // watch() wakes it sooner; connected watches need no timer
        for (Watch w : watches.values()) {
            if (w.fenced) {
                continue;
            }
            if (w.channel == null && nowMs >= w.nextAttemptMs) {
                startConnect(w, nowMs);
            }
            if (w.channel != null && !w.connected && nowMs - w.connectStartedMs >= timeoutMs) {
                // no answer at all: not evidence of death
                log.debug("broker liveness probe: connecting to broker {} at {} timed out", w.id, w.address);
                closeChannel(w);
                w.refusedSinceMs = -1;
                w.refusals = 0;
                w.nextAttemptMs = nowMs + retryBackoffMs;
            }
            if (w.channel == null) {
                nextMs = Math.min(nextMs, Math.max(w.nextAttemptMs, nowMs + 1));
            } else if (!w.connected) {
                nextMs = Math.min(nextMs, w.connectStartedMs + timeoutMs);
            }
        }
        long waitMs = Math.max(1, nextMs - nowMs);
        selector.select(waitMs);
        long afterMs = time.milliseconds();
        int handled = 0;
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
            SelectionKey key = it.next();
            it.remove();
            Watch w = (Watch) key.attachment();
            if (!key.isValid() || watches.get(w.id) != w || w.channel != key.channel()) {
                continue;
            }
            handled++;
            if (key.isConnectable()) {
                finishConnect(w, key, afterMs);
            } else if (key.isReadable()) {
                read(w, afterMs);
            }
        }
        for (Watch w : watches.values()) {
            if (!w.fenced && w.seenAlive && w.refusedSinceMs >= 0 && w.refusals >= 2
                && afterMs - w.refusedSinceMs >= timeoutMs) {
                w.fenced = true;
                closeChannel(w);
                String reason = "its listener " + w.address + " refused " + w.refusals + " connections over "
                    + (afterMs - w.refusedSinceMs) + " ms after its connection closed";
                log.warn("broker liveness probe: broker {} (epoch {}) is dead: {}", w.id, w.epoch, reason);
                fencer.fence(w.id, w.epoch, reason);
                handled++;
            }
        }
        return handled;
    }

    /** Drops the watches of registrations no longer wanted (or replaced), adds the new ones. */
    private void reconcile() {
        Map<Integer, BrokerRegistration> now = new HashMap<>();
        for (BrokerRegistration b : wanted) {
            if (b.id() != selfId) {
                now.put(b.id(), b);
            }
        }
        for (Iterator<Watch> it = watches.values().iterator(); it.hasNext(); ) {
            Watch w = it.next();
            BrokerRegistration b = now.get(w.id);
            if (b == null || !w.sameRegistration(b)) {
                closeChannel(w);
                it.remove();
                seenAlive.remove(w.id);
            }
        }
        for (BrokerRegistration b : now.values()) {
            watches.computeIfAbsent(b.id(), id -> new Watch(b));
        }
    }

    private void startConnect(Watch w, long nowMs) {
        try {
            SocketChannel ch = SocketChannel.open();
            w.channel = ch;
            w.connected = false;
            w.connectStartedMs = nowMs;
            ch.configureBlocking(false);
            if (ch.connect(w.address)) {
                onConnected(w, nowMs);
                ch.register(selector, SelectionKey.OP_READ, w);
            } else {
                ch.register(selector, SelectionKey.OP_CONNECT, w);
            }
        } catch (IOException e) {
            onConnectFailed(w, e, nowMs);
        }
    }

    private void finishConnect(Watch w, SelectionKey key, long nowMs) {
        try {
            if (w.channel.finishConnect()) {
                onConnected(w, nowMs);
                key.interestOps(SelectionKey.OP_READ);
            }
        } catch (IOException e) {
            onConnectFailed(w, e, nowMs);
        }
    }

    private void onConnected(Watch w, long nowMs) {
        if (!w.seenAlive || w.refusedSinceMs >= 0) {
            log.debug("broker liveness probe: connected to broker {} (epoch {}) at {}", w.id, w.epoch, w.address);
        }
        w.connected = true;
        w.seenAlive = true;
        seenAlive.add(w.id);
        w.refusedSinceMs = -1;
        w.refusals = 0;
    }

    private void onConnectFailed(Watch w, IOException e, long nowMs) {
        closeChannel(w);
        w.nextAttemptMs = nowMs + retryBackoffMs;
        if (isRefusal(e)) {
            if (w.refusedSinceMs < 0) {
                w.refusedSinceMs = nowMs;
                w.refusals = 0;
                if (w.seenAlive) {
                    log.info("broker liveness probe: broker {} at {} refuses connections; fencing it if it still"
                        + " does in {} ms", w.id, w.address, timeoutMs);
                }
            }
            w.refusals++;
        } else {
            log.debug("broker liveness probe: connecting to broker {} at {} failed: {}", w.id, w.address, e.toString());
            w.refusedSinceMs = -1;
            w.refusals = 0;
        }
    }

    /** A connection refused: nothing listens at the address (not a timeout, not an unreachable host). */
    static boolean isRefusal(IOException e) {
        return e instanceof ConnectException && e.getMessage() != null
            && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("refused");
    }

    private void read(Watch w, long nowMs) {
        int n;
        try {
            discard.clear();
            n = w.channel.read(discard);
        } catch (IOException e) {
            n = -1;
        }
        if (n < 0) {
            log.debug("broker liveness probe: the connection to broker {} at {} closed; connecting again", w.id,
                w.address);
            closeChannel(w);
            w.nextAttemptMs = nowMs; // at once: a refusal now is what tells a dead process
        }
    }

    private static void closeChannel(Watch w) {
        SocketChannel ch = w.channel;
        w.channel = null;
        w.connected = false;
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    /** Whether this probe has been connected to broker {@code brokerId}'s current registration (tests wait for it). */
    boolean hasSeenAlive(int brokerId) {
        return seenAlive.contains(brokerId);
    }

    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Watch w : watches.values()) {
            closeChannel(w);
        }
        try {
            selector.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
