package io.weir.protocol.client;

import io.weir.common.Time;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.FrameReader;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.ProtocolDecodeException;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ApiVersionsRequest;
import io.weir.protocol.message.ApiVersionsResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client side of the Kafka protocol: connections to brokers, the ApiVersions handshake, request
 * correlation, timeouts, reconnect and retry backoff, and the {@link Metadata} cache. Every Weir
 * client (producer, consumer, admin, and later broker-to-broker fetchers) builds on it.
 *
 * <h2>Threads</h2>
 * One dedicated I/O thread ({@code weir-network-<client.id>}) owns the NIO {@link Selector} and every
 * connection; nothing else touches a socket. {@link #send} may be called from any thread: it puts the
 * call on a bounded queue and wakes the selector (see {@link #wakeup()}). Futures complete <em>on the
 * I/O thread</em>, so callbacks attached with {@code thenApply}/{@code whenComplete} must be short and
 * must not block (calling {@link #send} from a callback is fine: it only enqueues). Blocking work belongs
 * in the {@code *Async} variants or on the caller's thread after {@code join()}. The class is thread-safe.
 *
 * <p>An owner may run its own loop on the I/O thread instead of a thread of its own: {@link #attach} an
 * {@link IoTask}, whose {@link IoTask#poll} runs once per loop iteration, before the calls queued by
 * {@link #send} are taken, so a call the task sends goes out in the same iteration. The producer's sender
 * does so (one I/O thread per producer, as kafka-clients has): each hand-off between two threads costs a
 * wakeup and a context switch per request. Other threads make the task look again with {@link #wakeup()},
 * which costs at most one {@link Selector#wakeup()} per loop iteration however often it is called.
 * Clients without a task (consumer, admin) behave as before.
 *
 * <h2>Connections</h2>
 * One connection per node id: bootstrap addresses use ids -1, -2, ... until the first metadata
 * response names the brokers, after which only brokers from metadata are used. A new connection
 * first sends ApiVersions; each request then goes out at the highest version both the
 * {@link RequestBuilder} (by default {@link ApiKeys}' range) and the broker support. At most
 * {@code max.in.flight.requests.per.connection} requests are outstanding per connection. A request
 * without a response after {@code request.timeout.ms} closes its connection (the broker may be
 * stuck; Kafka does the same). After a failed connection the node is avoided for
 * {@code reconnect.backoff.ms}, doubling per consecutive failure up to
 * {@code reconnect.backoff.max.ms}, with 20% jitter. Response frames above
 * {@link Settings#maxResponseBytes()} are rejected as soon as their size is read.
 *
 * <h2>Calls and retries</h2>
 * A call has a deadline. Until then, a lost connection or timed-out request (when
 * {@link RequestBuilder#retryOnDisconnect()} allows) and a response with a retriable top-level error
 * ({@link RequestBuilder#retriableError}) are retried after {@code retry.backoff.ms} (exponential up
 * to {@code retry.backoff.max.ms}), choosing the node again through the call's {@link NodeSelector}.
 * Errors that make metadata stale also request a metadata refresh. At the deadline the future fails
 * with {@link TimeoutException}, whose cause is the last failure seen. A call whose builder says
 * {@link RequestBuilder#waitForConnection()} false does not wait for a connection at all: if its node is
 * unknown, backing off, or refuses the connect, it fails at once with {@link DisconnectException} and its
 * owner re-routes it (the producer's Produce: otherwise a batch for a dead leader would sit out
 * {@code request.timeout.ms} while metadata already names the new leader).
 */
public final class NetworkClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NetworkClient.class);
    private static final String SOFTWARE_NAME = "weir-java";
    private static final String SOFTWARE_VERSION = "0.1.0";
    private static final long MAX_POLL_MS = 1_000;

    /**
     * Network settings shared by all clients; see {@link CommonClientConfigs} for the keys.
     *
     * @param maxResponseBytes largest response frame accepted (not a Kafka key: clients size it from
     *                         their own limits, e.g. the consumer from {@code fetch.max.bytes})
     * @param maxQueuedCalls   bound on calls waiting to be sent; {@link #send} fails beyond it
     */
    public record Settings(List<Node> bootstrapNodes, String clientId, int requestTimeoutMs, long reconnectBackoffMs,
                           long reconnectBackoffMaxMs, long retryBackoffMs, long retryBackoffMaxMs,
                           long metadataMaxAgeMs, long connectionsMaxIdleMs, long connectionSetupTimeoutMs,
                           int sendBufferBytes, int receiveBufferBytes, int maxInFlightPerConnection,
                           int maxResponseBytes, int maxQueuedCalls) {
        public static final int DEFAULT_MAX_RESPONSE_BYTES = 100 * 1024 * 1024;
        public static final int DEFAULT_MAX_QUEUED_CALLS = 10_000;

        public Settings {
            bootstrapNodes = List.copyOf(bootstrapNodes);
            if (bootstrapNodes.isEmpty()) {
                throw new IllegalArgumentException("at least one bootstrap node is required");
            }
            if (maxInFlightPerConnection < 1) {
                throw new IllegalArgumentException("maxInFlightPerConnection must be at least 1");
            }
            if (maxResponseBytes < 1 || maxQueuedCalls < 1) {
                throw new IllegalArgumentException("maxResponseBytes and maxQueuedCalls must be positive");
            }
        }

        /** Kafka's defaults for everything but the bootstrap list and client id. */
        public static Settings defaults(List<Node> bootstrapNodes, String clientId) {
            return new Settings(bootstrapNodes, clientId, 30_000, 50, 1_000, 100, 1_000, 300_000, 300_000, 10_000,
                128 * 1024, 64 * 1024, 5, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_QUEUED_CALLS);
        }
    }

    private enum State { DISCONNECTED, CONNECTING, HANDSHAKING, READY }

    /** One attempt-spanning request. Owned by the I/O thread once dequeued. */
    private static final class Call {
        final NodeSelector target;
        final RequestBuilder builder;
        final long deadlineMs;
        final CompletableFuture<ApiMessage> future;
        int attempts;
        long nextAttemptMs;
        Node node; // pinned for the current attempt, null until chosen
        Throwable lastFailure;
        boolean internal; // the client's own metadata refresh, not a caller's request

        Call(NodeSelector target, RequestBuilder builder, long deadlineMs, CompletableFuture<ApiMessage> future) {
            this.target = target;
            this.builder = builder;
            this.deadlineMs = deadlineMs;
            this.future = future;
        }
    }

    private record InFlight(Call call, ApiKeys api, short version, long sentMs) {
    }

    /** Per-node connection state. Fields are written only by the I/O thread; a few are read elsewhere as hints. */
    private static final class Conn {
        final Node node;
        volatile State state = State.DISCONNECTED;
        SocketChannel channel;
        SelectionKey key;
        FrameReader reader;
        final ArrayDeque<ByteBuffer> writes = new ArrayDeque<>();
        final LinkedHashMap<Integer, InFlight> inFlight = new LinkedHashMap<>();
        volatile int inFlightCount;
        Map<Short, short[]> brokerVersions = Map.of();
        long stateChangeMs;
        long lastActivityMs;
        volatile long backoffUntilMs;
        int consecutiveFailures;
        short apiVersionsVersion = ApiKeys.API_VERSIONS.highestVersion();

        Conn(Node node) {
            this.node = node;
        }

        boolean canSend(int maxInFlight) {
            return state == State.READY && inFlight.size() < maxInFlight;
        }
    }

    /**
     * Work an owner runs on this client's I/O thread instead of on a thread of its own (see
     * {@link #attach}). It must never block: every connection of the client waits while it runs.
     */
    @FunctionalInterface
    public interface IoTask {
        /**
         * Runs once per I/O loop iteration, before the calls queued by {@link #send} are taken (so the
         * calls it sends leave in this iteration). Returns the most milliseconds the loop may then wait
         * for I/O before calling it again ({@link #wakeup()} cuts the wait short); 0 means "call me again
         * at once" (the loop only polls the selector without waiting), so a task must return 0 only while it
         * has work left, or the loop spins. A thrown exception is logged and the task is called again after a
         * short backoff; it never stops the loop.
         */
        long poll(long nowMs);

        /**
         * Called once on the I/O thread when the loop stops (the client was closed, or the loop died), after
         * the last {@link #poll}: the task is never polled again, so it settles whatever it still holds now
         * (a close asked for from inside {@link #poll} or a callback stops the loop before the next poll).
         * Runs before outstanding calls are failed. A thrown exception is logged.
         */
        default void onClientClosed(long nowMs) {
        }
    }

    /** The wait after an I/O-loop iteration failed unexpectedly: 10 ms doubling to 1 s while failures repeat. */
    private static final ExponentialBackoff LOOP_FAILURE_BACKOFF =
        new ExponentialBackoff(10, 1_000, ExponentialBackoff.DEFAULT_JITTER);

    private final Settings settings;
    private final Time time;
    private final Metadata metadata;
    private volatile Map<String, Short> finalizedFeatures = Map.of();
    private volatile boolean featuresKnown;
    private final ExponentialBackoff reconnectBackoff;
    private final ExponentialBackoff retryBackoff;
    private final Selector selector;
    private final Thread ioThread;
    /** The owner's loop, run on the I/O thread each iteration; null for clients without one. */
    private volatile IoTask task;
    /** Where large response frames are read into, or null (a new array each). */
    private volatile ReceiveBufferPool receiveBuffers;
    /**
     * Set by the first {@link #wakeup()} off the I/O thread since the loop last looked: later ones skip the
     * syscall.
     */
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    /** Counts real {@link Selector#wakeup()} calls (for tests: coalescing is otherwise invisible). */
    private final AtomicLong selectorWakeups = new AtomicLong();
    /** Counts {@code selectNow}s, the loop's rare non-waiting selects (for tests: a task's "look again at once"). */
    private final AtomicLong immediateSelects = new AtomicLong();
    /** I/O thread only: a wakeup was asked for on the I/O thread itself, so the next select must not block. */
    private boolean wakeupOnIoThread;
    private int taskFailures;
    private final ConcurrentLinkedQueue<Call> submissions = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedCalls = new AtomicInteger();
    private final Map<Integer, Conn> conns = new ConcurrentHashMap<>();
    private final List<Call> pending = new ArrayList<>();
    /** Direct buffer requests are serialized into when they can be written at once (I/O thread only). */
    private ByteBuffer scratch;
    private static final int MIN_SCRATCH_BYTES = 64 * 1024;
    /** Frames above this are serialized into their own heap buffer (the scratch buffer never grows past it). */
    private static final int MAX_SCRATCH_BYTES = 2 * 1024 * 1024;
    private int nextCorrelationId;
    private boolean metadataCallOutstanding;
    private volatile boolean closing;
    /** Whether metadata requests ask the broker to create missing topics (producers and consumers: Kafka's default). */
    private volatile boolean allowAutoTopicCreation;
    private volatile long closeDeadlineMs;

    public NetworkClient(Settings settings, Time time) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.time = Objects.requireNonNull(time, "time");
        this.reconnectBackoff = new ExponentialBackoff(settings.reconnectBackoffMs(), settings.reconnectBackoffMaxMs(),
            ExponentialBackoff.DEFAULT_JITTER);
        this.retryBackoff = new ExponentialBackoff(settings.retryBackoffMs(), settings.retryBackoffMaxMs(),
            ExponentialBackoff.DEFAULT_JITTER);
        this.metadata = new Metadata(settings.bootstrapNodes(), retryBackoff, settings.metadataMaxAgeMs());
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a selector", e);
        }
        String id = settings.clientId() == null || settings.clientId().isEmpty() ? "client" : settings.clientId();
        this.ioThread = new Thread(this::run, "weir-network-" + id);
        this.ioThread.setDaemon(true);
        this.ioThread.start();
    }

    /** The metadata cache this client keeps fresh. */
    /**
     * The finalized feature levels (name to max version level) from the latest ApiVersions answer on
     * any connection, empty before the first handshake or from brokers that finalize none. Clients
     * switch protocol behaviour on them (the producer uses transactions V2 when
     * {@code transaction.version} is at least 2). Thread-safe.
     */
    public Map<String, Short> finalizedFeatures() {
        return finalizedFeatures;
    }

    /** Whether an ApiVersions handshake has completed on some connection, so {@link #finalizedFeatures()} is known. */
    public boolean featuresKnown() {
        return featuresKnown;
    }

    /**
     * Makes metadata refreshes ask the broker to auto-create the topics they name (if the broker's
     * {@code auto.create.topics.enable} allows it), as Kafka's producer always does and its consumer does
     * with {@code allow.auto.create.topics}. Off by default (admin clients).
     */
    public void allowAutoTopicCreation(boolean allow) {
        this.allowAutoTopicCreation = allow;
    }

    public Metadata metadata() {
        return metadata;
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Sends a request to the node chosen by {@code target}, retrying as described in the class
     * comment until {@code deadlineMs} (absolute, on this client's {@link Time}). The future gets the
     * response body (cast it to the API's response class), or fails with {@link TimeoutException},
     * {@link DisconnectException}, {@link UnsupportedVersionException} or {@link ProtocolDecodeException}.
     */
    public CompletableFuture<ApiMessage> send(NodeSelector target, RequestBuilder request, long deadlineMs) {
        CompletableFuture<ApiMessage> f = new CompletableFuture<>();
        if (closing) {
            f.completeExceptionally(new IllegalStateException("the client is closed"));
            return f;
        }
        if (queuedCalls.incrementAndGet() > settings.maxQueuedCalls()) {
            queuedCalls.decrementAndGet();
            f.completeExceptionally(new IllegalStateException("more than " + settings.maxQueuedCalls()
                + " calls are queued; the client is overloaded"));
            return f;
        }
        submissions.add(new Call(target, request, deadlineMs, f));
        wakeup();
        return f;
    }

    /** Sends {@code request} unchanged to node {@code nodeId} (known from metadata). */
    public CompletableFuture<ApiMessage> send(int nodeId, ApiMessage request, long deadlineMs) {
        return send(NodeSelector.node(nodeId), RequestBuilder.of(request), deadlineMs);
    }

    /** Sends {@code request} unchanged to {@code node}. */
    public CompletableFuture<ApiMessage> send(Node node, ApiMessage request, long deadlineMs) {
        return send(NodeSelector.fixed(node), RequestBuilder.of(request), deadlineMs);
    }

    /**
     * A future completed with the cluster after the next successful metadata refresh (one is
     * requested now), or failed with {@link TimeoutException} at {@code deadlineMs}.
     */
    public CompletableFuture<Cluster> refreshMetadata(long deadlineMs) {
        CompletableFuture<Cluster> f = metadata.awaitUpdate(deadlineMs);
        wakeup();
        return f;
    }

    /**
     * Reads large response frames into arrays of {@code pool} from now on: for an owner that hands a frame's
     * array back ({@link ReceiveBufferPool#release}) once nothing refers to the frame (the consumer's fetcher).
     */
    public void useReceiveBuffers(ReceiveBufferPool pool) {
        this.receiveBuffers = pool;
    }

    private ByteBuffer allocateFrame(int size) {
        ReceiveBufferPool pool = receiveBuffers;
        return pool == null ? ByteBuffer.allocate(size) : pool.allocate(size);
    }

    /**
     * Runs {@code task} on the I/O thread once per loop iteration from now on (see {@link IoTask}); at most
     * one task per client, attached once. The task keeps being called until the client is closed, so an
     * owner that is done makes its task return at once.
     */
    public void attach(IoTask task) {
        Objects.requireNonNull(task, "task");
        synchronized (this) {
            if (this.task != null) {
                throw new IllegalStateException("a task is attached already");
            }
            this.task = task;
        }
        wakeup();
    }

    /**
     * Makes the I/O thread run a loop iteration (the attached task, the queued calls) soon. From another
     * thread, the first call since the loop last woke costs one {@link Selector#wakeup()} and later ones
     * nothing; on the I/O thread (from the task or a callback) it only keeps the next wait for I/O from
     * blocking. Thread-safe.
     */
    public void wakeup() {
        if (Thread.currentThread() == ioThread) {
            wakeupOnIoThread = true;
        } else if (!wakeupPending.get() && wakeupPending.compareAndSet(false, true)) {
            selectorWakeups.incrementAndGet();
            selector.wakeup();
        }
    }

    /** Whether the caller runs on this client's I/O thread (in an {@link IoTask} or a callback of a call). */
    public boolean inIoThread() {
        return Thread.currentThread() == ioThread;
    }

    /**
     * Whether the I/O thread still runs: false once the client has closed, or once its loop died (only an
     * {@link Error} can end it early). Lets an owner stop waiting for work only that thread could do.
     */
    public boolean isAlive() {
        return ioThread.isAlive();
    }

    /** How many of the I/O loop's selects were a {@code selectNow} (each iteration makes one select); for tests. */
    long immediateSelects() {
        return immediateSelects.get();
    }

    /** How many times {@link #wakeup()} really woke the selector; for tests. */
    long selectorWakeups() {
        return selectorWakeups.get();
    }

    /** Requests written (or queued for writing) to {@code nodeId} and not yet answered; for tests. */
    int inFlightCount(int nodeId) {
        Conn c = conns.get(nodeId);
        return c == null ? 0 : c.inFlightCount;
    }

    /**
     * The usable node with the fewest in-flight requests: a ready connection with nothing in flight
     * wins at once; then the least loaded ready one; then one already connecting; then any node not
     * in reconnect backoff. Null if every node is backing off. Nodes come from the latest metadata
     * (bootstrap addresses before it); the scan starts at a random node to spread load. Safe from
     * any thread, but exact only on the I/O thread (e.g. inside a {@link NodeSelector}).
     */
    public Node leastLoadedNode() {
        List<Node> nodes = metadata.cluster().nodes();
        if (nodes.isEmpty()) {
            nodes = settings.bootstrapNodes();
        }
        long nowMs = time.milliseconds();
        int offset = ThreadLocalRandom.current().nextInt(nodes.size());
        Node bestReady = null;
        int bestInFlight = Integer.MAX_VALUE;
        Node connecting = null;
        Node connectable = null;
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get((offset + i) % nodes.size());
            Conn c = conns.get(n.id());
            State s = c == null ? State.DISCONNECTED : c.state;
            if (s == State.READY) {
                int load = c.inFlightCount;
                if (load == 0) {
                    return n;
                }
                if (load < bestInFlight && load < settings.maxInFlightPerConnection()) {
                    bestReady = n;
                    bestInFlight = load;
                }
            } else if (s == State.CONNECTING || s == State.HANDSHAKING) {
                if (connecting == null) {
                    connecting = n;
                }
            } else if (connectable == null && (c == null || nowMs >= c.backoffUntilMs)) {
                connectable = n;
            }
        }
        return bestReady != null ? bestReady : connecting != null ? connecting : connectable;
    }

    /**
     * Milliseconds until a connection to {@code nodeId} may be attempted again: the rest of its
     * reconnect backoff after a failed or lost connection, else 0 (a hint off the I/O thread). Callers
     * that route their own retries ({@link RequestBuilder#waitForConnection()} false) hold work for a
     * node while this is positive, as kafka-clients' sender skips a node that is not ready.
     */
    public long connectionDelayMs(int nodeId, long nowMs) {
        Conn c = conns.get(nodeId);
        if (c == null || c.state != State.DISCONNECTED) {
            return 0;
        }
        return Math.max(0, c.backoffUntilMs - nowMs);
    }

    /** Whether a connection to {@code nodeId} is ready for requests right now (a hint off the I/O thread). */
    public boolean isReady(int nodeId) {
        Conn c = conns.get(nodeId);
        return c != null && c.state == State.READY;
    }

    /**
     * Stops the client: calls still outstanding after {@code timeoutMs} fail with
     * {@link DisconnectException}, connections close, and the I/O thread ends. Idempotent.
     */
    public void close(long timeoutMs) {
        if (!closing) {
            closeDeadlineMs = time.milliseconds() + Math.max(0, timeoutMs);
            closing = true;
        }
        wakeup();
        if (Thread.currentThread() != ioThread) {
            try {
                ioThread.join(Math.max(1, timeoutMs) + 5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        close(0);
    }

    // ---------------------------------------------------------------- I/O thread

    private void run() {
        int loopFailures = 0;
        try {
            while (true) {
                try {
                    if (!iterate()) {
                        break;
                    }
                    loopFailures = 0;
                } catch (RuntimeException | IOException e) {
                    // A bug in one call must not kill the thread every other call depends on; but an
                    // iteration that keeps failing must not spin either: back off, and log less often.
                    loopFailures++;
                    long waitMs = LOOP_FAILURE_BACKOFF.backoffMs(loopFailures - 1);
                    if (Integer.bitCount(loopFailures) == 1) { // the 1st, 2nd, 4th, 8th... failure in a row
                        log.error("Unexpected error in the network client I/O loop (failure {} in a row; next try in"
                            + " {} ms)", loopFailures, waitMs, e);
                    }
                    if (closing && loopFailures >= 3) {
                        break;
                    }
                    time.sleep(waitMs);
                }
            }
        } finally {
            try {
                closeTask();
            } finally {
                shutdown();
            }
        }
    }

    /**
     * One I/O-loop iteration; false once the loop should stop. A method of its own, not the body of
     * {@link #run}'s loop, so the JIT compiles it after a few thousand iterations like any hot method: a loop
     * body inside a method that never returns waits for on-stack replacement, which a loop blocking in
     * {@code select} a few thousand times a second reaches only after tens of seconds (measured: the loop ran
     * interpreted for ~20 s, and its late optimising compile and the deoptimisations it set off stalled
     * requests for tens of milliseconds half a minute into a run).
     */
    private boolean iterate() throws IOException {
        long nowMs = time.milliseconds();
        // before the task looks at its state: a wakeup() from now on must wake the select below
        if (wakeupPending.get()) {
            wakeupPending.set(false);
        }
        long taskPollMs = pollTask(nowMs);
        drainSubmissions();
        wakeupOnIoThread = false; // what the task (or an earlier callback) queued is taken now
        if (closing && (nowMs >= closeDeadlineMs || noUserCallsOutstanding())) {
            return false;
        }
        long pollMs = Math.min(runOnce(nowMs), taskPollMs);
        if (wakeupOnIoThread || taskPollMs == 0) {
            // a callback run by this iteration queued a call or asked the task to look again, or the task
            // itself has more to do at once
            wakeupOnIoThread = false;
            immediateSelects.incrementAndGet();
            selector.selectNow();
        } else {
            selector.select(Math.max(1, Math.min(pollMs, MAX_POLL_MS)));
        }
        handleSelected(time.milliseconds());
        return true;
    }

    /** Tells the attached task, if any, that it will not be polled again. */
    private void closeTask() {
        IoTask t = task;
        if (t == null) {
            return;
        }
        try {
            t.onClientClosed(time.milliseconds());
        } catch (Throwable e) {
            log.error("The task on the network client I/O thread failed while the client closed", e);
        }
    }

    /** Runs the attached task, if any; returns the most it lets the loop wait. */
    private long pollTask(long nowMs) {
        IoTask t = task;
        if (t == null) {
            return MAX_POLL_MS;
        }
        try {
            long waitMs = t.poll(nowMs);
            taskFailures = 0;
            return Math.max(0, waitMs);
        } catch (RuntimeException e) {
            // the task's bug must not stop the calls of everyone else; but a task that keeps failing must not
            // spin the loop either: it is called again after a growing wait (I/O still wakes the loop)
            taskFailures++;
            long waitMs = LOOP_FAILURE_BACKOFF.backoffMs(taskFailures - 1);
            if (Integer.bitCount(taskFailures) == 1) {
                log.error("The task on the network client I/O thread failed (failure {} in a row; next call in at"
                    + " most {} ms)", taskFailures, waitMs, e);
            }
            return waitMs;
        }
    }

    private boolean noUserCallsOutstanding() {
        for (Call p : pending) {
            if (!p.internal) {
                return false;
            }
        }
        for (Conn c : conns.values()) {
            for (InFlight f : c.inFlight.values()) {
                if (f.call() != null && !f.call().internal) {
                    return false;
                }
            }
        }
        return true;
    }

    private void drainSubmissions() {
        Call c;
        while ((c = submissions.poll()) != null) {
            queuedCalls.decrementAndGet();
            pending.add(c);
        }
    }

    /** One pass over timers and pending calls; returns how long the selector may sleep. */
    private long runOnce(long nowMs) {
        long pollMs = MAX_POLL_MS;
        pollMs = Math.min(pollMs, maybeRefreshMetadata(nowMs));
        pollMs = Math.min(pollMs, metadata.expireWaiters(nowMs) - nowMs);
        pollMs = Math.min(pollMs, checkConnectionTimers(nowMs));
        pollMs = Math.min(pollMs, processPending(nowMs));
        return Math.max(0, pollMs);
    }

    private long maybeRefreshMetadata(long nowMs) {
        if (metadataCallOutstanding || closing) {
            return MAX_POLL_MS;
        }
        long wait = metadata.timeToNextUpdate(nowMs);
        if (wait > 0) {
            return wait;
        }
        metadataCallOutstanding = true;
        Metadata.RefreshRequest refresh = metadata.refreshStarted(nowMs);
        Set<String> topics = refresh.topics();
        RequestBuilder builder = new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return ApiKeys.METADATA;
            }

            @Override
            public short oldestAllowedVersion() {
                return 1; // v0 reads an empty topic list as "all topics"
            }

            @Override
            public ApiMessage build(short version) {
                MetadataRequest r = new MetadataRequest().setAllowAutoTopicCreation(allowAutoTopicCreation && topics != null);
                if (topics == null) {
                    r.setTopics(null);
                } else {
                    List<MetadataRequest.MetadataRequestTopic> list = new ArrayList<>();
                    for (String t : topics) {
                        list.add(new MetadataRequest.MetadataRequestTopic().setName(t));
                    }
                    r.setTopics(list);
                }
                return r;
            }
        };
        Call call = new Call(NodeSelector.leastLoaded(), builder, nowMs + settings.requestTimeoutMs(),
            new CompletableFuture<>());
        // completes on this thread, synchronously with the response
        call.internal = true;
        call.future.whenComplete((resp, err) -> {
            metadataCallOutstanding = false;
            long now = time.milliseconds();
            if (err != null) {
                log.debug("Metadata refresh failed: {}", err.toString());
                metadata.refreshFailed(now);
            } else {
                metadata.update((MetadataResponse) resp, refresh.version(), now);
            }
        });
        pending.add(call);
        return 0;
    }

    /** Connection setup timeouts, request timeouts and idle connections; returns the next timer. */
    private long checkConnectionTimers(long nowMs) {
        long next = MAX_POLL_MS;
        for (Conn c : new ArrayList<>(conns.values())) {
            switch (c.state) {
                case CONNECTING, HANDSHAKING -> {
                    long expiry = c.stateChangeMs + settings.connectionSetupTimeoutMs();
                    if (nowMs >= expiry) {
                        disconnect(c, nowMs, new DisconnectException("Connection to " + c.node.address()
                            + " was not ready within " + settings.connectionSetupTimeoutMs() + " ms"), true);
                    } else {
                        next = Math.min(next, expiry - nowMs);
                    }
                }
                case READY -> {
                    for (InFlight f : c.inFlight.values()) {
                        // the caller's deadline holds even while the request is on the wire; a late
                        // response then finds the future done and is dropped
                        Call call = f.call();
                        if (call != null && !call.future.isDone()) {
                            if (nowMs >= call.deadlineMs) {
                                failTimedOut(call);
                            } else {
                                next = Math.min(next, call.deadlineMs - nowMs);
                            }
                        }
                    }
                    if (!c.inFlight.isEmpty()) {
                        InFlight oldest = c.inFlight.values().iterator().next();
                        long expiry = oldest.sentMs() + settings.requestTimeoutMs();
                        if (nowMs >= expiry) {
                            disconnect(c, nowMs, new TimeoutException(oldest.api().apiName() + " request to "
                                + c.node.address() + " got no response within " + settings.requestTimeoutMs()
                                + " ms"), false);
                        } else {
                            next = Math.min(next, expiry - nowMs);
                        }
                    } else if (settings.connectionsMaxIdleMs() >= 0) {
                        long expiry = c.lastActivityMs + settings.connectionsMaxIdleMs();
                        if (nowMs >= expiry) {
                            disconnect(c, nowMs, new IdleClose(), false);
                        } else {
                            next = Math.min(next, expiry - nowMs);
                        }
                    }
                }
                case DISCONNECTED -> {
                    if (c.backoffUntilMs > nowMs) {
                        next = Math.min(next, c.backoffUntilMs - nowMs);
                    }
                }
            }
        }
        return next;
    }

    /** Tries to send every pending call; returns the time until one may make progress. */
    private long processPending(long nowMs) {
        long next = MAX_POLL_MS;
        // a snapshot: completing a call may run callbacks that add calls
        List<Call> calls = new ArrayList<>(pending);
        pending.clear();
        List<Call> keep = new ArrayList<>();
        for (Call call : calls) {
            if (call.future.isDone()) {
                continue; // cancelled by the caller
            }
            if (nowMs >= call.deadlineMs) {
                failTimedOut(call);
                continue;
            }
            next = Math.min(next, call.deadlineMs - nowMs);
            if (nowMs < call.nextAttemptMs) {
                next = Math.min(next, call.nextAttemptMs - nowMs);
                keep.add(call);
                continue;
            }
            if (!trySend(call, nowMs)) {
                keep.add(call);
            }
        }
        pending.addAll(0, keep);
        return next;
    }

    /** Returns true if the call left the pending list (sent or failed). */
    private boolean trySend(Call call, long nowMs) {
        if (call.node == null) {
            Node n;
            try {
                n = call.target.select(metadata.cluster(), this);
            } catch (RuntimeException e) {
                complete(call, null, e);
                return true;
            }
            if (n == null) {
                if (call.lastFailure == null) {
                    call.lastFailure = new DisconnectException("no broker is available for "
                        + call.builder.api().apiName());
                }
                metadata.requestUpdate();
                if (!call.builder.waitForConnection()) {
                    complete(call, null, call.lastFailure);
                    return true;
                }
                return false;
            }
            call.node = n;
        }
        Conn c = conns.computeIfAbsent(call.node.id(), id -> new Conn(call.node));
        if (!c.node.equals(call.node)) {
            // the broker with this id moved (new host/port in metadata): reconnect to the new address
            disconnect(c, nowMs, new DisconnectException("broker " + c.node.id() + " moved"), false);
            conns.remove(c.node.id());
            c = conns.computeIfAbsent(call.node.id(), id -> new Conn(call.node));
        }
        switch (c.state) {
            case DISCONNECTED -> {
                if (nowMs >= c.backoffUntilMs) {
                    connect(c, nowMs);
                } else if (!call.builder.waitForConnection()) {
                    complete(call, null, new DisconnectException("Connection to " + c.node.address()
                        + " is in reconnect backoff after a failure", call.lastFailure));
                    return true;
                } else {
                    call.node = null; // let the selector pick another node while this one backs off
                }
                return false;
            }
            case CONNECTING, HANDSHAKING -> {
                return false;
            }
            default -> {
            }
        }
        if (!c.canSend(settings.maxInFlightPerConnection())) {
            return false;
        }
        short version = chooseVersion(c, call.builder);
        if (version < 0) {
            complete(call, null, new UnsupportedVersionException("broker " + c.node + " supports no version of "
                + call.builder.api().apiName() + " in " + call.builder.oldestAllowedVersion() + "-"
                + call.builder.latestAllowedVersion()));
            return true;
        }
        ApiMessage body;
        try {
            body = call.builder.build(version);
        } catch (RuntimeException e) {
            complete(call, null, e);
            return true;
        }
        call.attempts++;
        enqueue(c, call, call.builder.api(), version, body, nowMs);
        return true;
    }

    /** The reason used when an idle connection is closed: no backoff, no metadata refresh. */
    private static final class IdleClose extends RuntimeException {
        private static final long serialVersionUID = 1L;

        IdleClose() {
            super("connection idle for longer than connections.max.idle.ms", null, false, false);
        }
    }

    private static short chooseVersion(Conn c, RequestBuilder b) {
        short[] range = c.brokerVersions.get(b.api().id());
        if (range == null) {
            return -1;
        }
        int low = Math.max(b.oldestAllowedVersion(), range[0]);
        int high = Math.min(b.latestAllowedVersion(), range[1]);
        return low > high ? -1 : (short) high;
    }

    private void enqueue(Conn c, Call call, ApiKeys api, short version, ApiMessage body, long nowMs) {
        int correlationId = nextCorrelationId++;
        if (nextCorrelationId < 0) {
            nextCorrelationId = 0;
        }
        RequestHeader header = RequestHeader.of(api, version, correlationId, settings.clientId());
        int size = MessageCodec.requestSize(header, body);
        boolean oneWay = call != null && !call.builder.expectsResponse();
        if (!oneWay) {
            c.inFlight.put(correlationId, new InFlight(call, api, version, nowMs));
            c.inFlightCount = c.inFlight.size();
        }
        c.lastActivityMs = nowMs;
        if (c.writes.isEmpty() && c.channel != null && c.state != State.CONNECTING && 4L + size <= MAX_SCRATCH_BYTES) {
            writeThroughScratch(c, header, body, size, nowMs);
        } else {
            ByteBuffer frame = ByteBuffer.allocate(4 + size);
            MessageCodec.writeRequest(header, body, size, frame);
            c.writes.add(frame.flip());
            flushWrites(c, nowMs);
        }
        if (oneWay) {
            complete(call, null, null);
        }
    }

    /**
     * Sends a request when nothing is queued before it on the connection: serialized into the one reused
     * direct {@link #scratch} buffer and written at once, so a request (a produce request's batches above
     * all) costs neither a new heap buffer nor the JDK's copy of a heap buffer into a direct one. Whatever
     * the socket does not take now is copied into a heap buffer and queued, so the scratch buffer is free
     * again when this returns: nothing (a producer's batch buffer included) is read after the call.
     */
    private void writeThroughScratch(Conn c, RequestHeader header, ApiMessage body, int size, long nowMs) {
        int frameBytes = 4 + size;
        if (scratch == null || scratch.capacity() < frameBytes) {
            scratch = ByteBuffer.allocateDirect(Math.max(MIN_SCRATCH_BYTES, Integer.highestOneBit(frameBytes - 1) << 1));
        }
        ByteBuffer buf = scratch.clear();
        MessageCodec.writeRequest(header, body, size, buf);
        buf.flip();
        try {
            c.channel.write(buf);
        } catch (IOException e) {
            disconnect(c, nowMs, new DisconnectException("Write to " + c.node.address() + " failed: " + e, e),
                c.state != State.READY);
            return;
        }
        if (buf.hasRemaining()) {
            ByteBuffer rest = ByteBuffer.allocate(buf.remaining());
            rest.put(buf).flip();
            c.writes.add(rest);
        }
        flushWrites(c, nowMs); // sets OP_WRITE while something is left
    }

    private void connect(Conn c, long nowMs) {
        SocketChannel ch = null;
        try {
            ch = SocketChannel.open();
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            if (settings.sendBufferBytes() > 0) {
                ch.setOption(StandardSocketOptions.SO_SNDBUF, settings.sendBufferBytes());
            }
            if (settings.receiveBufferBytes() > 0) {
                ch.setOption(StandardSocketOptions.SO_RCVBUF, settings.receiveBufferBytes());
            }
            c.channel = ch;
            c.reader = new FrameReader(settings.maxResponseBytes(), this::allocateFrame);
            c.state = State.CONNECTING;
            c.stateChangeMs = nowMs;
            c.lastActivityMs = nowMs;
            boolean connected = ch.connect(new InetSocketAddress(c.node.host(), c.node.port()));
            c.key = ch.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, c);
            if (connected) {
                startHandshake(c, nowMs);
            }
        } catch (IOException | RuntimeException e) {
            if (c.channel == null && ch != null) {
                closeQuietly(ch);
            }
            disconnect(c, nowMs, new DisconnectException("Connection to " + c.node.address() + " failed: " + e, e),
                true);
        }
    }

    private void startHandshake(Conn c, long nowMs) {
        c.state = State.HANDSHAKING;
        c.stateChangeMs = nowMs;
        short v = c.apiVersionsVersion;
        ApiVersionsRequest req = new ApiVersionsRequest();
        if (v >= 3) {
            req.setClientSoftwareName(SOFTWARE_NAME).setClientSoftwareVersion(SOFTWARE_VERSION);
        }
        enqueue(c, null, ApiKeys.API_VERSIONS, v, req, nowMs);
    }

    private void handleSelected(long nowMs) {
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
            SelectionKey key = it.next();
            it.remove();
            Conn c = (Conn) key.attachment();
            if (!key.isValid() || c.key != key) {
                continue;
            }
            try {
                if (key.isConnectable()) {
                    if (c.channel.finishConnect()) {
                        key.interestOps(SelectionKey.OP_READ);
                        startHandshake(c, nowMs);
                    }
                }
                if (key.isValid() && key.isWritable()) {
                    flushWrites(c, nowMs);
                }
                if (key.isValid() && key.isReadable()) {
                    readResponses(c, nowMs);
                }
            } catch (IOException e) {
                disconnect(c, nowMs, new DisconnectException("Connection to " + c.node.address() + " failed: " + e, e),
                    c.state != State.READY);
            } catch (ProtocolDecodeException e) {
                // a frame size over the limit or a broken stream: the connection cannot be trusted
                disconnect(c, nowMs, new DisconnectException("Bad response from " + c.node.address() + ": "
                    + e.getMessage(), e), false);
            }
        }
    }

    private void flushWrites(Conn c, long nowMs) {
        if (c.channel == null || c.state == State.CONNECTING) {
            return; // written once connected
        }
        try {
            while (!c.writes.isEmpty()) {
                ByteBuffer b = c.writes.peek();
                c.channel.write(b);
                if (b.hasRemaining()) {
                    break;
                }
                c.writes.poll();
            }
            int ops = SelectionKey.OP_READ | (c.writes.isEmpty() ? 0 : SelectionKey.OP_WRITE);
            if (c.key.isValid() && c.key.interestOps() != ops) {
                c.key.interestOps(ops);
            }
        } catch (IOException e) {
            disconnect(c, nowMs, new DisconnectException("Write to " + c.node.address() + " failed: " + e, e),
                c.state != State.READY);
        }
    }

    private void readResponses(Conn c, long nowMs) throws IOException {
        // bounded: at most one socket-buffer's worth of frames per wakeup, so one busy connection
        // cannot starve the others
        for (int i = 0; i < 64 && c.channel != null; i++) {
            ByteBuffer frame = c.reader.read(c.channel);
            if (frame == null) {
                return;
            }
            c.lastActivityMs = nowMs;
            handleFrame(c, frame, nowMs);
        }
    }

    private void handleFrame(Conn c, ByteBuffer frame, long nowMs) {
        if (frame.remaining() < 4) {
            throw new ProtocolDecodeException("correlation_id", 0, "response frame of " + frame.remaining() + " bytes");
        }
        int correlationId = frame.getInt(frame.position());
        InFlight f = c.inFlight.remove(correlationId);
        c.inFlightCount = c.inFlight.size();
        if (f == null) {
            throw new ProtocolDecodeException("correlation_id", 0, "response with unknown correlation id "
                + correlationId);
        }
        if (f.call() == null) {
            handleApiVersions(c, f, frame, nowMs);
            return;
        }
        ApiMessage body;
        try {
            body = MessageCodec.parseResponse(f.api(), f.version(), frame).body();
        } catch (ProtocolDecodeException e) {
            // the frame boundary held, so only this call is affected
            complete(f.call(), null, e);
            return;
        }
        Call call = f.call();
        Errors retry = Errors.NONE;
        try {
            retry = call.builder.retriableError(body);
        } catch (RuntimeException e) {
            log.warn("retriableError() of a {} builder threw", f.api().apiName(), e);
        }
        if (retry != Errors.NONE && retry.isRetriable()) {
            metadata.requestUpdateForError(retry);
            if (scheduleRetry(call, nowMs, retry.exception("broker " + c.node.id() + " answered " + retry))) {
                return;
            }
        }
        complete(call, body, null);
    }

    private void handleApiVersions(Conn c, InFlight f, ByteBuffer frame, long nowMs) {
        ApiVersionsResponse resp;
        try {
            resp = (ApiVersionsResponse) MessageCodec.parseResponse(ApiKeys.API_VERSIONS, f.version(),
                frame.duplicate()).body();
        } catch (ProtocolDecodeException e) {
            // a broker that does not know our version answers in v0 so that we can read its range
            resp = (ApiVersionsResponse) MessageCodec.parseResponse(ApiKeys.API_VERSIONS, (short) 0, frame).body();
        }
        Errors err = Errors.forCode(resp.errorCode());
        Map<Short, short[]> versions = new HashMap<>();
        for (ApiVersionsResponse.ApiVersion v : resp.apiKeys()) {
            versions.put(v.apiKey(), new short[] {v.minVersion(), v.maxVersion()});
        }
        if (err == Errors.UNSUPPORTED_VERSION) {
            short[] range = versions.get(ApiKeys.API_VERSIONS.id());
            short retryVersion = range == null ? -1 : (short) Math.min(range[1], ApiKeys.API_VERSIONS.highestVersion());
            if (retryVersion >= ApiKeys.API_VERSIONS.lowestVersion() && retryVersion < f.version()) {
                c.apiVersionsVersion = retryVersion;
                startHandshake(c, nowMs);
                return;
            }
        }
        if (err != Errors.NONE) {
            disconnect(c, nowMs, new DisconnectException("ApiVersions to " + c.node.address() + " failed: " + err),
                true);
            return;
        }
        c.brokerVersions = versions;
        Map<String, Short> features = new HashMap<>();
        for (ApiVersionsResponse.FinalizedFeatureKey feature : resp.finalizedFeatures()) {
            features.put(feature.name(), feature.maxVersionLevel());
        }
        finalizedFeatures = Map.copyOf(features);
        featuresKnown = true;
        c.state = State.READY;
        c.stateChangeMs = nowMs;
        c.consecutiveFailures = 0;
        log.debug("Connection to {} is ready", c.node);
    }

    /**
     * Closes a connection and settles what was in flight on it: retriable calls go back to pending,
     * others fail. {@code connectFailure} marks a connection that never became ready, which grows the
     * reconnect backoff.
     */
    private void disconnect(Conn c, long nowMs, RuntimeException ex, boolean connectFailure) {
        if (c.key != null) {
            c.key.cancel();
        }
        if (c.channel != null) {
            closeQuietly(c.channel);
        }
        c.key = null;
        c.channel = null;
        c.reader = null;
        c.writes.clear();
        boolean wasReady = c.state == State.READY;
        c.state = State.DISCONNECTED;
        c.stateChangeMs = nowMs;
        if (connectFailure || !wasReady) {
            c.backoffUntilMs = nowMs + reconnectBackoff.backoffMs(c.consecutiveFailures);
            c.consecutiveFailures++;
        } else {
            // a ready connection that broke: reconnect after the base backoff
            c.backoffUntilMs = nowMs + reconnectBackoff.backoffMs(0);
        }
        c.apiVersionsVersion = ApiKeys.API_VERSIONS.highestVersion();
        List<InFlight> lost = new ArrayList<>(c.inFlight.values());
        c.inFlight.clear();
        c.inFlightCount = 0;
        if (!connectFailure && wasReady && lost.isEmpty() && ex instanceof IdleClose) {
            log.debug("Closed idle connection to {}", c.node);
        } else {
            log.debug("Disconnected from {}: {}", c.node, ex.getMessage());
            metadata.requestUpdate();
        }
        for (InFlight f : lost) {
            Call call = f.call();
            if (call == null) {
                continue;
            }
            if (call.builder.retryOnDisconnect() && scheduleRetry(call, nowMs, ex)) {
                continue;
            }
            complete(call, null, ex);
        }
        for (Iterator<Call> it = pending.iterator(); it.hasNext(); ) {
            Call p = it.next();
            if (p.node != null && p.node.id() == c.node.id()) {
                if (!p.builder.waitForConnection()) {
                    it.remove(); // never sent: its owner re-routes it (the producer, to the leader metadata names next)
                    complete(p, null, ex);
                    continue;
                }
                p.node = null; // choose again: the selector may prefer another node now
                p.lastFailure = ex;
            }
        }
    }

    /** Puts the call back in pending after a backoff if the deadline allows; false if it does not. */
    private boolean scheduleRetry(Call call, long nowMs, Throwable cause) {
        long wait = retryBackoff.backoffMs(Math.max(0, call.attempts - 1));
        call.lastFailure = cause;
        if (nowMs + wait >= call.deadlineMs || closing) {
            return false;
        }
        call.nextAttemptMs = nowMs + wait;
        call.node = null;
        pending.add(call);
        return true;
    }

    private void failTimedOut(Call call) {
        Throwable last = call.lastFailure;
        String why = last == null ? "" : ": " + last.getMessage();
        complete(call, null, new TimeoutException("Timed out waiting for a " + call.builder.api().apiName()
            + " response after " + call.attempts + " attempt(s)" + why, last));
    }

    private void complete(Call call, ApiMessage body, Throwable error) {
        try {
            if (error == null) {
                call.future.complete(body);
            } else {
                call.future.completeExceptionally(error);
            }
        } catch (RuntimeException e) {
            // CompletableFuture runs dependent stages inline; a throwing callback is the caller's bug
            log.warn("A callback of a {} call threw", call.builder.api().apiName(), e);
        }
    }

    private void shutdown() {
        DisconnectException closed = new DisconnectException("the client was closed");
        for (Conn c : conns.values()) {
            if (c.channel != null) {
                List<InFlight> lost = new ArrayList<>(c.inFlight.values());
                c.inFlight.clear();
                closeQuietly(c.channel);
                c.channel = null;
                c.state = State.DISCONNECTED;
                for (InFlight f : lost) {
                    if (f.call() != null) {
                        complete(f.call(), null, closed);
                    }
                }
            }
        }
        drainSubmissions();
        for (Call c : pending) {
            complete(c, null, closed);
        }
        pending.clear();
        metadata.failWaiters(closed);
        try {
            selector.close();
        } catch (IOException e) {
            log.debug("closing the selector failed", e);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing useful to do: the connection is gone either way
        }
    }
}
