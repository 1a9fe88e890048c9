package io.weir.broker.coordinator;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The thread pool a coordinator service (groups, transactions) runs its shards' operations on: a fixed number of
 * daemon threads named {@code <prefix>-<n>}, and its shutdown, which lets queued operations finish for a bounded
 * time before it interrupts them.
 */
public final class CoordinatorThreads {
    private static final long SHUTDOWN_WAIT_SECONDS = 10;

    private CoordinatorThreads() {
    }

    /** A fixed pool of {@code threads} daemon threads named {@code namePrefix-0}, {@code namePrefix-1}, ... */
    public static ExecutorService newPool(String namePrefix, int threads) {
        AtomicInteger n = new AtomicInteger();
        return Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, namePrefix + "-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Stops taking work, waits up to 10 s for what is queued, then interrupts what still runs; an interrupt of the
     * calling thread is kept.
     */
    public static void shutdown(ExecutorService pool) {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
