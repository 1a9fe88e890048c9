package io.weir.broker.network;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * Keeps a fixed set of long-running threads alive (network processors, request handlers). Their
 * loops already survive any error from one request; this is the last line: a thread that dies
 * anyway is logged and replaced by a fresh one built by the same factory, and
 * {@link #replacements()} counts it (the broker has no metrics system yet; tests and operators read
 * the counter).
 *
 * <p>{@link #doWork} is a duty: the owner calls it periodically from a thread of its own. Thread-safe.
 */
public final class ThreadWatchdog {
    private static final Logger log = LoggerFactory.getLogger(ThreadWatchdog.class);

    private final String threadNamePrefix;
    private final IntFunction<Runnable> factory;
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong replacements = new AtomicLong();
    private boolean stopped;

    /**
     * @param threadNamePrefix name of slot {@code i}'s thread is this prefix followed by {@code i}
     * @param factory builds the work of slot {@code i}, for the first thread and for every replacement
     */
    public ThreadWatchdog(String threadNamePrefix, IntFunction<Runnable> factory) {
        this.threadNamePrefix = threadNamePrefix;
        this.factory = factory;
    }

    /** Starts {@code count} supervised threads (slots 0..count-1). */
    public synchronized void start(int count) {
        for (int i = 0; i < count; i++) {
            threads.add(newThread(i));
        }
    }

    private Thread newThread(int slot) {
        Thread t = new Thread(factory.apply(slot), threadNamePrefix + slot);
        t.setDaemon(true);
        t.setUncaughtExceptionHandler((thread, e) -> log.error("thread {} died", thread.getName(), e));
        t.start();
        return t;
    }

    /** Replaces every supervised thread that has died; returns how many it replaced. */
    public synchronized int doWork(long nowMs) {
        if (stopped) {
            return 0;
        }
        int replaced = 0;
        for (int i = 0; i < threads.size(); i++) {
            Thread t = threads.get(i);
            if (!t.isAlive()) {
                log.error("thread {} has died; starting a replacement", t.getName());
                threads.set(i, newThread(i));
                replacements.incrementAndGet();
                replaced++;
            }
        }
        return replaced;
    }

    /** Stops replacing threads (call before asking them to stop) and returns them, for joining. */
    public synchronized List<Thread> stop() {
        stopped = true;
        return List.copyOf(threads);
    }

    /** Threads replaced since start. */
    public long replacements() {
        return replacements.get();
    }
}
