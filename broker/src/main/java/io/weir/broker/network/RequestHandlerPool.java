package io.weir.broker.network;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Consumer;

/**
 * The request-handler threads ({@code num.io.threads}): each takes requests from the
 * {@link RequestChannel} and runs the handler on them. A {@link Throwable} from one request, an
 * {@link OutOfMemoryError} from one oversized allocation or a {@link StackOverflowError} included,
 * fails only that request: it is logged once with its API, version and client, and its connection
 * is closed if the handler had not completed it (no response can be framed without knowing how far
 * the handler got). The thread goes on with the next request. A thread that dies anyway is replaced
 * by a {@link ThreadWatchdog} whose {@link #checkThreads} the owner runs periodically.
 *
 * <p>Thread-safe: start and shutdown from one thread.
 */
public final class RequestHandlerPool {
    private static final Logger log = LoggerFactory.getLogger(RequestHandlerPool.class);

    private final RequestChannel channel;
    private final Consumer<RequestChannel.Request> handler;
    private final ThreadWatchdog watchdog;
    private volatile boolean running = true;

    public RequestHandlerPool(RequestChannel channel, Consumer<RequestChannel.Request> handler, int threads,
                              String threadNamePrefix) {
        this.channel = channel;
        this.handler = handler;
        this.watchdog = new ThreadWatchdog(threadNamePrefix, slot -> this::loop);
        watchdog.start(threads);
    }

    private void loop() {
        while (running) {
            RequestChannel.Request r;
            try {
                r = channel.poll(300);
            } catch (InterruptedException e) {
                return;
            }
            if (r != null) {
                handleSafely(r);
            }
        }
    }

    private void handleSafely(RequestChannel.Request r) {
        try {
            handler.accept(r);
        } catch (Throwable t) {
            // the request's frame may be what exhausted the heap: close the connection first, which
            // drops this request's memory, then log
            boolean closed = !r.completed();
            r.closeConnection();
            try {
                log.error("request handler failed on {}{}", r.describe(),
                    closed ? "; closed the connection" : "", t);
            } catch (Throwable ignored) {
                // logging itself failed (out of memory): the request is already failed and closed
            }
        }
    }

    /** Replaces handler threads that died; returns how many. A duty, called by the owner's scheduler. */
    public int checkThreads(long nowMs) {
        return watchdog.doWork(nowMs);
    }

    /** Handler threads replaced by the watchdog since start. */
    public long threadReplacements() {
        return watchdog.replacements();
    }

    /** Stops the threads after their current request and waits for them up to {@code timeoutMs} each. */
    public void shutdown(long timeoutMs) {
        List<Thread> threads = watchdog.stop();
        running = false;
        for (Thread t : threads) {
            try {
                t.join(timeoutMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
