package io.weir.broker.network;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * The request-handler threads ({@code num.io.threads}): each takes requests from the
 * {@link RequestChannel} and runs the handler on them. A {@link Throwable} from one request, an
 * {@link OutOfMemoryError} from one oversized allocation or a {@link StackOverflowError} included,
 * fails only that request: it is logged once with its API, version and client and, if the handler
 * had not completed it, answered with the {@code errorResponse} (an UNKNOWN_SERVER_ERROR response
 * built by whoever knows the API's response layout) or, where none can be built, its connection is
 * closed. The thread goes on with the next request. A thread that dies anyway is replaced
 * by a {@link ThreadWatchdog} whose {@link #checkThreads} the owner runs periodically.
 *
 * <p>Thread-safe: start and shutdown from one thread.
 */
public final class RequestHandlerPool {
    private static final Logger log = LoggerFactory.getLogger(RequestHandlerPool.class);

    private final RequestChannel channel;
    private final Consumer<RequestChannel.Request> handler;
    private final BiFunction<RequestChannel.Request, Throwable, Send> errorResponse;
    private final ThreadWatchdog watchdog;
    private volatile boolean running = true;

    /** A pool that closes the connection of a request whose handler failed. */
    public RequestHandlerPool(RequestChannel channel, Consumer<RequestChannel.Request> handler, int threads,
                              String threadNamePrefix) {
        this(channel, handler, (request, error) -> null, threads, threadNamePrefix);
    }

    /**
     * @param errorResponse the response to a request whose handler threw (it must start with its 4-byte
     *                      size), or null when none can be framed; then the connection is closed
     */
    public RequestHandlerPool(RequestChannel channel, Consumer<RequestChannel.Request> handler,
                              BiFunction<RequestChannel.Request, Throwable, Send> errorResponse, int threads,
                              String threadNamePrefix) {
        this.channel = channel;
        this.handler = handler;
        this.errorResponse = errorResponse;
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
                r.mark(RequestStages.Stage.DEQUEUED);
                handleSafely(r);
            }
        }
    }

    private void handleSafely(RequestChannel.Request r) {
        try {
            handler.accept(r);
        } catch (Throwable t) {
            // complete the request before logging: that gives back its memory, which may be what ran out
            String outcome = r.completed() ? "" : fail(r, t);
            try {
                log.error("request handler failed on {}{}", r.describe(), outcome, t);
            } catch (Throwable ignored) {
                // logging itself failed (out of memory): the request is already failed
            }
        }
    }

    private String fail(RequestChannel.Request r, Throwable t) {
        Send response = null;
        try {
            response = errorResponse.apply(r, t);
        } catch (Throwable ignored) {
            // no error response then: close
        }
        if (response != null) {
            r.respond(response);
            return "; answered with an error";
        }
        r.closeConnection();
        return "; closed the connection";
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
