package io.weir.broker.network;

import io.weir.common.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A network thread: owns a {@link Selector} and the connections the acceptor gave it. Reads one
 * request frame at a time per connection, hands it to the {@link RequestChannel} and mutes the
 * connection until the handler answers, so responses leave in request order (read-ahead, below, reads
 * a few more but still hands them over one at a time).
 *
 * <p>Memory: a frame's size is checked as soon as its 4 size bytes arrive (negative or above
 * {@code socket.request.max.bytes} closes the connection), but nothing is allocated from that size.
 * Bytes are read through one bounded scratch buffer per thread and copied into the connection's
 * frame buffer, which grows (at most doubling) as bytes arrive; every byte of frame capacity is
 * reserved in the shared {@link RequestMemoryPool} first, so a connection holds at most twice what
 * it has actually sent, and a stalled connection that declared 100 MB and sent 10 bytes holds 10.
 * When the pool runs dry, connections that need more memory stop reading (their OP_READ interest is
 * dropped) until the pool says memory was freed; the others go on. Reading through our own small
 * direct buffer also keeps NIO from caching a temporary direct buffer as large as the frame.
 *
 * <p>Time: the injected clock's monotonic reading is taken once per loop iteration. A connection that has held a partial
 * frame for longer than {@code socket.request.read.timeout.ms}, or has done nothing for
 * {@code connections.max.idle.ms}, is closed; a connection whose request is with a handler (a long
 * poll, a rebalance) is neither.
 *
 * <p>Errors: any {@link Throwable} while serving one connection (an {@link OutOfMemoryError} from
 * one allocation included) closes that connection only. If the selector itself fails the thread
 * ends, closing its connections, and the {@link SocketServer}'s watchdog starts a fresh processor.
 *
 * <p>Responses ({@link SocketServer.Settings#directWrites}, on by default; off with
 * {@code -Dweir.network.direct.response.writes=false}): the thread that answers a request (a request
 * handler, or the thread that completes a delayed fetch or produce) writes the response to the socket
 * itself, non-blocking, in {@link #respond}. That is safe because the connection is muted while its
 * request is in flight: this thread neither reads nor writes it until the request's outcome comes back
 * through the {@link #enqueue} queue, and the previous response was written whole before the request
 * was read. If the socket takes the whole response, the answering thread hands over only a note
 * ("written: read again"); otherwise it hands over the rest of the {@link Send}, which this thread
 * finishes on OP_WRITE as it does with the switch off. Either way the hand-off (a queue and a selector
 * wake-up) stays: OP_READ interest set by another thread would only take effect at the next select,
 * but the response no longer waits for it. A write that fails (the peer is gone, or this thread closed
 * the connection meanwhile: an error, shutdown, a dead processor) drops the response and hands over
 * a close, which this thread ignores for a connection it has closed already. An answering thread whose
 * interrupt flag is set (a handler or reaper being stopped) writes nothing and hands over the whole
 * response: an interruptible channel written by an interrupted thread is closed (the socket here; a
 * segment's file survives it, see {@code InterruptSafeFileChannel}). Responses keep request
 * order because one request per connection is in flight.
 *
 * <p>Eager reads ({@link SocketServer.Settings#eagerReads}, on by default; off with
 * {@code -Dweir.network.eager.reads=false}): when a response has left (or a request needs none), this
 * thread tries to read the connection's next request at once, as the next request is often already in
 * the socket buffer, instead of waiting for the next select round to report it.
 *
 * <p>Read-ahead ({@link SocketServer.Settings#readAheadFrames}, off by default; on with
 * {@code -Dweir.network.read.ahead.frames=N}): while a connection's request is with a handler (or its
 * response is being written), up to N more complete requests are read and held, their bytes reserved in
 * the {@link RequestMemoryPool} as any other but never below a reserve ({@link #readAheadReserveBytes}) that
 * stays for other connections' next requests; the next one is handed to the handlers as soon as the
 * response before it has left, so requests still reach the handlers one at a time per connection, in
 * order, and responses keep request order (a producer with {@code max.in.flight} 5 does not wait for a
 * read per request). A client that closes its end while requests of it are in the broker gets their
 * responses before the connection closes; a connection closed by the broker drops the read-ahead requests.
 *
 * <p>Only its own thread touches the selector and the connections' state; other threads talk to it
 * through the {@link #accept} and {@link #enqueue} queues, which wake the selector, and write to a
 * muted connection's channel only in {@link #respond}.
 */
final class Processor implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Processor.class);
    private static final AtomicLong CONNECTION_IDS = new AtomicLong();
    /** The most one socket read takes; also the most a frame's buffer grows by before bytes arrive. */
    static final int READ_CHUNK_BYTES = 64 * 1024;
    private static final long SELECT_TIMEOUT_MS = 300;
    /** Reads of one connection per select round, so one fast sender of a large frame cannot starve the rest. */
    private static final int MAX_READS_PER_SELECT = 16;

    /** What a handler decided for a request; {@code stages} is non-null only for a debug-sampled request. */
    record Outcome(String connectionId, Send send, boolean close, RequestStages stages) {
    }

    private record NewConnection(SocketChannel channel, InetAddress address) {
    }

    private final int id;
    private final Selector selector;
    private final RequestChannel requestChannel;
    private final RequestMemoryPool pool;
    private final ConnectionQuotas quotas;
    private final Time time;
    private final SocketServer.Settings settings;
    private final long sweepIntervalMs;
    /**
     * Pool bytes a read-ahead read leaves available: {@code socket.request.max.bytes}, or half the pool if
     * that is less. Memory of requests read ahead comes back only when they are answered, and a connection
     * whose request waits (a produce with acks=all) may hold several; without a reserve, many such
     * connections could fill the pool and keep out the requests that would let theirs complete (the
     * followers' fetches that advance the high watermark).
     */
    private final long readAheadReserveBytes;
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(READ_CHUNK_BYTES);
    private final ConcurrentLinkedQueue<NewConnection> newConnections = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    private final Map<String, Connection> connections = new HashMap<>();
    private final List<Connection> waitingForMemory = new ArrayList<>();
    private final Runnable wakeup;
    private long nextSweepMs;
    /** Requests framed by this thread, for the 1-in-N debug sample of {@link RequestStages}. */
    private long framedRequests;
    private volatile int waitingForMemoryCount;
    /** Requests framed by an eager read (written by this thread only). */
    private volatile long eagerlyReadRequests;
    /** This thread is in an eager read ({@link #resume}). */
    private boolean readingEagerly;
    private volatile int connectionCount;
    private volatile boolean running = true;
    private boolean closed; // guarded by newConnections

    Processor(int id, RequestChannel requestChannel, RequestMemoryPool pool, ConnectionQuotas quotas,
              SocketServer.Settings settings, Time time) throws IOException {
        this.id = id;
        this.selector = Selector.open();
        this.requestChannel = requestChannel;
        this.pool = pool;
        this.quotas = quotas;
        this.settings = settings;
        this.time = time;
        this.sweepIntervalMs = Math.max(1, Math.min(1_000,
            Math.min(settings.requestReadTimeoutMs(), settings.connectionsMaxIdleMs()) / 4));
        this.readAheadReserveBytes = Math.min(settings.maxRequestBytes(), pool.capacityBytes() / 2);
        this.wakeup = selector::wakeup;
    }

    /**
     * Hands a new connection (whose quota slot the acceptor took) to this processor; false if this
     * processor has stopped, in which case the caller still owns the connection.
     */
    boolean accept(SocketChannel channel, InetAddress address) {
        synchronized (newConnections) { // against markClosed: after it, nothing is added that no one would drain
            if (closed) {
                return false;
            }
            newConnections.add(new NewConnection(channel, address));
        }
        selector.wakeup();
        return true;
    }

    private void markClosed() {
        synchronized (newConnections) {
            closed = true;
        }
    }

    void enqueue(Outcome outcome) {
        outcomes.add(outcome);
        selector.wakeup();
    }

    /**
     * Answers a request of connection {@code connectionId}, called once per request by the thread that
     * completed it. With {@link SocketServer.Settings#directWrites} it writes what the socket takes now
     * (the connection is muted with this request in flight, so no other thread touches the channel) and
     * hands this thread only what is left (see the class comment). Never throws for a failed write: the
     * response is dropped and the connection closed.
     */
    void respond(String connectionId, SocketChannel channel, Send send, RequestStages stages) {
        // An interrupted thread must not write: SocketChannel.write closes the socket when called with
        // the interrupt flag set (a segment's file is not closed: InterruptSafeFileChannel holds the flag
        // back and reopens). Hand the whole response to this network thread instead, the only writer then.
        if (settings.directWrites() && channel != null && !Thread.currentThread().isInterrupted()) {
            if (stages != null) {
                stages.mark(RequestStages.Stage.PICKED); // the writer starts: here, the answering thread
            }
            try {
                send.writeTo(channel);
            } catch (IOException | RuntimeException e) {
                // the peer is gone, or the network thread closed the channel under us: drop the response
                log.debug("closing connection {}: writing its response failed: {}", connectionId, e.toString());
                enqueue(new Outcome(connectionId, null, true, null));
                return;
            }
            if (send.completed()) {
                if (stages != null) {
                    stages.mark(RequestStages.Stage.WRITTEN);
                    stages.report(connectionId);
                }
                enqueue(new Outcome(connectionId, null, false, null)); // written: unmute and read
                return;
            }
        }
        enqueue(new Outcome(connectionId, send, false, stages));
    }

    int connectionCount() {
        return connectionCount;
    }

    /** Requests read right after the previous response left, without waiting for a select round. */
    long eagerlyReadRequests() {
        return eagerlyReadRequests;
    }

    /** Connections muted because the request memory pool could not give them the bytes they need. */
    int waitingForMemoryCount() {
        return waitingForMemoryCount;
    }

    void shutdown() {
        running = false;
        selector.wakeup();
    }

    /**
     * One pass of the network loop. A method of its own, not the body of {@link #run}'s loop, so the JIT
     * compiles it like any hot method after a few thousand passes: a loop inside a method that never returns
     * is compiled only by on-stack replacement, which a loop blocking in {@code select} reaches after tens of
     * seconds (measured: this loop was still at the first compile tier 16 s into a 10,000 records/s run).
     */
    private void iterate() throws IOException {
        // monotonic: a wall-clock step must not close every connection as idle
        long nowMs = time.nanoseconds() / 1_000_000;
        registerNewConnections(nowMs);
        processOutcomes(nowMs);
        unmuteIfMemoryFreed();
        if (nowMs >= nextSweepMs) {
            closeExpired(nowMs);
            nextSweepMs = nowMs + sweepIntervalMs;
        }
        connectionCount = connections.size();
        selector.select(SELECT_TIMEOUT_MS); // an IOException here ends the thread: the watchdog replaces it
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
            SelectionKey key = keys.next();
            keys.remove();
            serve((Connection) key.attachment(), key, nowMs);
        }
    }

    @Override
    public void run() {
        pool.onMemoryFreed(wakeup);
        try {
            while (running) {
                iterate();
            }
        } catch (IOException e) {
            log.error("network thread {} failed", id, e);
        } finally {
            markClosed();
            pool.removeListener(wakeup);
            for (Connection c : connections.values().toArray(new Connection[0])) {
                close(c);
            }
            NewConnection nc;
            while ((nc = newConnections.poll()) != null) {
                closeQuietly(nc.channel());
                quotas.release(nc.address());
            }
            connectionCount = 0;
            try {
                selector.close();
            } catch (IOException ignored) {
                // shutting down
            }
        }
    }

    private void serve(Connection c, SelectionKey key, long nowMs) {
        try {
            if (key.isValid() && key.isReadable()) {
                read(c, nowMs);
            }
            if (key.isValid() && key.isWritable()) {
                write(c, nowMs);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } catch (Throwable t) {
            closeAfterError(c, t);
        }
    }

    private void closeAfterError(Connection c, Throwable t) {
        close(c); // first: it gives back the memory of a half-read frame
        try {
            if (t instanceof IOException) {
                log.debug("closing connection {} from {}: {}", c.id, c.address, t.toString());
            } else if (t instanceof OutOfMemoryError) {
                log.error("closing connection {} from {}: out of memory while reading a request of {} bytes: {}",
                    c.id, c.address, c.frameSize, t.toString());
            } else {
                log.error("closing connection {} from {} after an unexpected error", c.id, c.address, t);
            }
        } catch (Throwable ignored) {
            // logging failed too (out of memory); the connection is closed, which is what matters
        }
    }

    private void registerNewConnections(long nowMs) {
        NewConnection nc;
        while ((nc = newConnections.poll()) != null) {
            SocketChannel ch = nc.channel();
            try {
                ch.configureBlocking(false);
                ch.socket().setTcpNoDelay(true);
                String cid = id + "-" + CONNECTION_IDS.incrementAndGet();
                String address = String.valueOf(ch.getRemoteAddress() instanceof InetSocketAddress isa
                    ? isa.getAddress().getHostAddress() + ":" + isa.getPort() : ch.getRemoteAddress());
                Connection c = new Connection(cid, ch, address, nc.address(), nowMs);
                connections.put(cid, c);
                c.key = ch.register(selector, SelectionKey.OP_READ, c);
            } catch (IOException | RuntimeException e) {
                log.debug("could not register new connection: {}", e.toString());
                Connection c = findByChannel(ch);
                if (c != null) {
                    close(c);
                } else {
                    closeQuietly(ch);
                    quotas.release(nc.address());
                }
            }
        }
    }

    private Connection findByChannel(SocketChannel ch) {
        for (Connection c : connections.values()) {
            if (c.channel == ch) {
                return c;
            }
        }
        return null;
    }

    private void processOutcomes(long nowMs) {
        Outcome o;
        while ((o = outcomes.poll()) != null) {
            Connection c = connections.get(o.connectionId());
            if (c == null) {
                continue; // closed meanwhile
            }
            c.inFlight = false;
            c.lastActivityMs = nowMs;
            try {
                if (o.close()) {
                    close(c);
                } else if (o.send() == null) {
                    resume(c, nowMs);
                } else {
                    c.send = o.send();
                    c.sendStages = o.stages();
                    if (c.sendStages != null) {
                        c.sendStages.mark(RequestStages.Stage.PICKED);
                    }
                    // the socket almost always takes a response at once: write now instead of waiting a
                    // select round for OP_WRITE; only what it does not take waits for writability
                    write(c, nowMs);
                    if (c.send != null) {
                        updateInterest(c);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
                return;
            } catch (IOException | RuntimeException e) {
                closeAfterError(c, e);
            }
        }
    }

    private void read(Connection c, long nowMs) throws IOException, InterruptedException {
        if (c.frameSize < 0) {
            int n = c.channel.read(c.sizeBuffer);
            if (n < 0) {
                endOfStream(c);
                return;
            }
            if (n == 0) {
                return;
            }
            c.lastActivityMs = nowMs;
            if (c.frameStartMs < 0) {
                c.frameStartMs = nowMs;
            }
            if (c.sizeBuffer.hasRemaining()) {
                return;
            }
            int size = c.sizeBuffer.getInt(0);
            if (size < 0 || size > settings.maxRequestBytes()) {
                log.warn("closing connection {} from {}: request size {} is outside [0, {}] (socket.request.max.bytes)",
                    c.id, c.address, size, settings.maxRequestBytes());
                close(c);
                return;
            }
            c.frameSize = size;
            if (size == 0) {
                frameComplete(c);
                return;
            }
        }
        readFrameBytes(c, nowMs);
    }

    /**
     * Reads what has arrived of the current frame, reserving pool memory for each byte before it is
     * read (so a failed reservation leaves the bytes in the socket, not in limbo).
     * Invariant: {@code c.reservedBytes == c.frame.capacity()} (0 without a frame).
     */
    private void readFrameBytes(Connection c, long nowMs) throws IOException, InterruptedException {
        long keep = keepAvailable(c);
        for (int reads = 0; reads < MAX_READS_PER_SELECT; reads++) {
            int received = c.frame == null ? 0 : c.frame.position();
            int spare = c.reservedBytes - received;
            int want = Math.min(scratch.capacity(), c.frameSize - received);
            int granted = want > spare ? pool.reserveUpTo(want - spare, keep) : 0;
            int limit = Math.min(want, spare + granted);
            if (limit == 0) {
                muteForMemory(c);
                return;
            }
            scratch.clear().limit(limit);
            int n;
            try {
                n = c.channel.read(scratch);
            } catch (Throwable t) {
                pool.release(granted);
                throw t;
            }
            if (n <= 0) {
                pool.release(granted);
                if (n < 0) {
                    endOfStream(c);
                }
                return;
            }
            c.lastActivityMs = nowMs;
            int beyond = Math.max(0, n - spare); // bytes that need capacity the frame does not have yet
            pool.release(granted - beyond);
            if (beyond > 0) {
                grow(c, received + n, beyond, keep);
            }
            scratch.flip();
            c.frame.put(scratch);
            if (c.frame.position() == c.frameSize) {
                frameComplete(c);
                return;
            }
            if (n < limit) {
                return; // the socket has nothing more for now
            }
        }
        // more is waiting: the selector reports it again, after the other ready connections had their turn
    }

    /**
     * Replaces the frame buffer by one of at least {@code neededBytes}, doubling when the pool
     * allows so a large frame is copied O(log n) times. {@code newlyReservedBytes} were reserved by
     * the caller; on failure they are given back. The old buffer is garbage once copied (briefly
     * both exist: at most half a frame per network thread beyond the pool). The slack leaves
     * {@code keepBytes} in the pool, as the read did.
     */
    private void grow(Connection c, int neededBytes, int newlyReservedBytes, long keepBytes) {
        int capacity = c.frame == null ? 0 : c.frame.capacity();
        int target = (int) Math.min(c.frameSize, Math.max(neededBytes, 2L * capacity));
        int slack = pool.reserveUpTo(target - neededBytes, keepBytes);
        ByteBuffer bigger;
        try {
            bigger = ByteBuffer.allocate(neededBytes + slack);
        } catch (Throwable t) {
            pool.release(newlyReservedBytes + slack);
            throw t;
        }
        if (c.frame != null) {
            c.frame.flip();
            bigger.put(c.frame);
        }
        c.frame = bigger;
        c.reservedBytes = bigger.capacity();
    }

    private void frameComplete(Connection c) throws InterruptedException {
        ByteBuffer frame = c.frame == null ? ByteBuffer.allocate(0) : c.frame;
        frame.flip();
        int reserved = c.reservedBytes;
        c.frame = null;
        c.reservedBytes = 0;
        c.frameSize = -1;
        c.frameStartMs = -1;
        c.sizeBuffer.clear();
        if (readingEagerly) {
            eagerlyReadRequests++; // only this thread writes it; before the request is handed over (tests read it)
        }
        long receivedNs = time.nanoseconds();
        RequestStages stages = null;
        if (RequestStages.SAMPLE_EVERY > 0 && framedRequests++ % RequestStages.SAMPLE_EVERY == 0 && frame.limit() >= 8) {
            stages = new RequestStages(time, frame.getShort(0), frame.getInt(4), receivedNs);
        }
        RequestChannel.Request request = new RequestChannel.Request(this, c.id, c.channel, frame, receivedNs,
            c.address, pool, reserved, stages);
        if (c.busy()) {
            c.readAhead.add(request); // read ahead: handed over when the responses before it have left
            updateInterest(c);
            return;
        }
        dispatch(c, request);
    }

    /** Hands the connection's next request to the handlers; the connection is muted to all but read-ahead. */
    private void dispatch(Connection c, RequestChannel.Request request) throws InterruptedException {
        c.inFlight = true;
        updateInterest(c);
        try {
            requestChannel.put(request);
        } catch (InterruptedException e) {
            request.closeConnection(); // gives its memory back
            throw e;
        }
    }

    /**
     * Sets the connection's interest from its state: write while a response is left to write; read while
     * no request is in flight and no response is being written, or, with read-ahead, while fewer than
     * {@link SocketServer.Settings#readAheadFrames} requests wait behind the one in flight; never while
     * it waits for pool memory or after the client's end of stream.
     */
    private void updateInterest(Connection c) {
        if (!c.key.isValid()) {
            return;
        }
        int ops = c.send != null ? SelectionKey.OP_WRITE : 0;
        if (mayRead(c)) {
            ops |= SelectionKey.OP_READ;
        }
        c.key.interestOps(ops);
    }

    /**
     * Pool bytes a read of this connection must leave: none for its next request, {@link #readAheadReserveBytes}
     * for one read ahead (a request of it is in flight or its response is being written).
     */
    private long keepAvailable(Connection c) {
        return c.busy() ? readAheadReserveBytes : 0;
    }

    private boolean mayRead(Connection c) {
        if (c.waitingForMemory || c.endOfStream) {
            return false;
        }
        return !c.busy() || c.readAhead.size() < settings.readAheadFrames();
    }

    /**
     * The client closed its end. Without requests of its own in the broker the connection closes now; else
     * (possible only with read-ahead) it reads nothing more and closes once their responses have left.
     */
    private void endOfStream(Connection c) {
        if (c.busy()) {
            c.endOfStream = true;
            updateInterest(c);
        } else {
            close(c);
        }
    }

    private void muteForMemory(Connection c) {
        if (!c.waitingForMemory) {
            c.waitingForMemory = true;
            updateInterest(c);
            waitingForMemory.add(c);
            waitingForMemoryCount = waitingForMemory.size();
        }
    }

    /**
     * Lets the connections waiting for memory read again once the pool has some for them (above the
     * read-ahead reserve for one reading ahead); those that still find none mute again.
     */
    private void unmuteIfMemoryFreed() {
        if (waitingForMemory.isEmpty()) {
            return;
        }
        for (Iterator<Connection> it = waitingForMemory.iterator(); it.hasNext(); ) {
            Connection c = it.next();
            if (pool.availableAbove(keepAvailable(c))) { // if not, the next release wakes this thread
                it.remove();
                c.waitingForMemory = false;
                updateInterest(c);
            }
        }
        waitingForMemoryCount = waitingForMemory.size();
    }

    private void closeExpired(long nowMs) {
        for (Connection c : connections.values().toArray(new Connection[0])) {
            if (c.inFlight) {
                continue; // a handler holds its request: a long poll or a rebalance is not idleness
            }
            if (c.frameStartMs >= 0 && nowMs - c.frameStartMs > settings.requestReadTimeoutMs()) {
                log.info("closing connection {} from {}: it sent {} of a {}-byte request in {} ms "
                        + "(socket.request.read.timeout.ms={})", c.id, c.address,
                    c.frame == null ? c.sizeBuffer.position() : c.frame.position(), c.frameSize,
                    nowMs - c.frameStartMs, settings.requestReadTimeoutMs());
                close(c);
            } else if (nowMs - c.lastActivityMs > settings.connectionsMaxIdleMs()) {
                log.debug("closing connection {} from {}: idle for {} ms (connections.max.idle.ms={})", c.id,
                    c.address, nowMs - c.lastActivityMs, settings.connectionsMaxIdleMs());
                close(c);
            }
        }
    }

    private void write(Connection c, long nowMs) throws IOException, InterruptedException {
        Send s = c.send;
        if (s == null) {
            updateInterest(c);
            return;
        }
        if (s.writeTo(c.channel) > 0) {
            c.lastActivityMs = nowMs;
        }
        if (s.completed()) {
            c.send = null;
            if (c.sendStages != null) {
                c.sendStages.mark(RequestStages.Stage.WRITTEN);
                c.sendStages.report(c.id);
                c.sendStages = null;
            }
            resume(c, nowMs);
        }
    }

    /**
     * The connection's response has left (or it needs none): hand over its next read-ahead request, or
     * close it after the client's end of stream; then read on, at once when eager.
     */
    private void resume(Connection c, long nowMs) throws IOException, InterruptedException {
        if (!c.key.isValid()) {
            return;
        }
        RequestChannel.Request next = c.readAhead.poll();
        if (next != null) {
            dispatch(c, next);
        } else if (c.endOfStream) {
            close(c);
            return;
        } else {
            if (c.waitingForMemory && pool.availableAbove(0) && waitingForMemory.remove(c)) {
                c.waitingForMemory = false; // its partial frame, read ahead until now, is its next request
                waitingForMemoryCount = waitingForMemory.size();
            }
            updateInterest(c);
        }
        if (settings.eagerReads() && mayRead(c)) {
            readingEagerly = true;
            try {
                read(c, nowMs);
            } finally {
                readingEagerly = false;
            }
        }
    }

    private void close(Connection c) {
        if (c.closed) {
            return;
        }
        c.closed = true;
        connections.remove(c.id);
        if (c.waitingForMemory && waitingForMemory.remove(c)) {
            waitingForMemoryCount = waitingForMemory.size();
        }
        if (c.key != null) {
            c.key.cancel();
        }
        closeQuietly(c.channel);
        pool.release(c.reservedBytes);
        c.reservedBytes = 0;
        c.frame = null;
        RequestChannel.Request r;
        while ((r = c.readAhead.poll()) != null) {
            r.discard();
        }
        quotas.release(c.inetAddress);
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    private static final class Connection {
        final String id;
        final SocketChannel channel;
        final String address;
        final InetAddress inetAddress;
        final ByteBuffer sizeBuffer = ByteBuffer.allocate(4);
        /** Size of the frame being read, or -1 while its size bytes are read. */
        int frameSize = -1;
        /** Bytes read so far of the current frame (position) in a buffer of reserved capacity. */
        ByteBuffer frame;
        int reservedBytes;
        /** When the first byte of the current frame arrived, or -1 between frames. */
        long frameStartMs = -1;
        long lastActivityMs;
        /** A request of this connection is with a handler. */
        boolean inFlight;
        boolean waitingForMemory;
        /** The client closed its end while requests of it were in the broker (read-ahead only). */
        boolean endOfStream;
        boolean closed;
        /** Complete requests read behind the one in flight, oldest first (read-ahead; empty without it). */
        final ArrayDeque<RequestChannel.Request> readAhead = new ArrayDeque<>(2);
        Send send;
        /** The debug stamps of the request {@link #send} answers, or null. */
        RequestStages sendStages;
        SelectionKey key;

        Connection(String id, SocketChannel channel, String address, InetAddress inetAddress, long nowMs) {
            this.id = id;
            this.channel = channel;
            this.address = address;
            this.inetAddress = inetAddress;
            this.lastActivityMs = nowMs;
        }

        /** A request of this connection is with a handler or its response is still being written. */
        boolean busy() {
            return inFlight || send != null;
        }
    }
}
