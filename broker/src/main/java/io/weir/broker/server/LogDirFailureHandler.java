package io.weir.broker.server;

import io.weir.common.TopicPartition;
import io.weir.log.LogDirFailureChannel;
import io.weir.log.LogManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Takes failed log directories offline, one at a time, as the {@link LogDirFailureChannel} reports them
 * (Kafka's {@code LogDirFailureHandler} thread): the replica manager stops serving the directory's partitions
 * and the log manager closes their logs ({@link ReplicaManager#handleLogDirFailure}); then the controller is
 * told which replicas are offline here ({@link Reporter}, retried until it succeeds, and again whenever this
 * broker registers under a new broker epoch), so it moves their leaderships and drops them from the ISRs. When
 * no directory is left online the broker cannot serve anything: {@code onAllFailed} stops it (Kafka halts the
 * process) and the handler stops too.
 *
 * <p>{@link #doWork} is the duty cycle; {@link #start} runs it on a daemon thread. Thread-safe.
 */
public final class LogDirFailureHandler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LogDirFailureHandler.class);
    /** How long a pass waits for a failed directory before it checks the report again. */
    static final long POLL_MS = 500;

    /** Tells the controller this broker's offline replicas (throws when it cannot: the next pass retries). */
    @FunctionalInterface
    public interface Reporter {
        void report(long brokerEpoch, List<Path> offlineLogDirs, Set<TopicPartition> offlinePartitions);
    }

    private final ReplicaManager replicaManager;
    private final LogManager logManager;
    private final LongSupplier brokerEpoch;
    private final Reporter reporter;
    private final Runnable onAllFailed;
    private volatile Thread thread;
    private volatile boolean running = true;
    /** The broker epoch the offline replicas were last reported under; -1: nothing to report or not yet. */
    private long reportedEpoch = -1;
    private boolean reportPending;
    private volatile boolean allFailed;

    public LogDirFailureHandler(ReplicaManager replicaManager, LongSupplier brokerEpoch, Reporter reporter,
                                Runnable onAllFailed) {
        this.replicaManager = replicaManager;
        this.logManager = replicaManager.logManager();
        this.brokerEpoch = brokerEpoch;
        this.reporter = reporter;
        this.onAllFailed = onAllFailed;
    }

    /** Starts the handler thread. */
    public LogDirFailureHandler start(int brokerId) {
        Thread t = new Thread(this::run, "weir-log-dir-failure-handler-" + brokerId);
        t.setDaemon(true);
        thread = t;
        t.start();
        return this;
    }

    private void run() {
        while (running && !allFailed) {
            try {
                doWork(POLL_MS);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("handling a failed log directory failed; trying again", e);
            }
        }
    }

    /**
     * One pass: takes the next failed directory offline (waiting at most {@code pollMs} for one), then reports
     * the offline replicas if they changed or the broker registered again since. Returns how many directories
     * it took offline (0 or 1).
     */
    public synchronized int doWork(long pollMs) throws InterruptedException {
        LogDirFailureChannel channel = logManager.failureChannel();
        Path dir = allFailed ? null : channel.pollNextOfflineLogDir(pollMs, TimeUnit.MILLISECONDS);
        int done = 0;
        if (dir != null) {
            replicaManager.handleLogDirFailure(dir);
            done = 1;
            if (logManager.onlineLogDirs().isEmpty()) {
                allFailed = true;
                log.error("Shutdown broker {} because all log dirs in {} have failed", replicaManager.brokerId(),
                    logManager.logDirs());
                onAllFailed.run();
                return done;
            }
            reportPending = true;
        }
        long epoch = brokerEpoch.getAsLong();
        if (!allFailed && epoch >= 0 && (reportPending || reportedEpoch >= 0 && reportedEpoch != epoch)) {
            List<Path> offlineDirs = logManager.logDirs().stream().filter(logManager::isOffline).toList();
            try {
                reporter.report(epoch, offlineDirs, replicaManager.offlinePartitions());
                reportedEpoch = epoch;
                reportPending = false;
            } catch (RuntimeException e) {
                log.warn("cannot tell the controller about the offline replicas of {} yet; retrying", offlineDirs, e);
            }
        }
        return done;
    }

    /** Whether every log directory failed (the broker is stopping). */
    public boolean allLogDirsFailed() {
        return allFailed;
    }

    /** Stops the thread (waits for a pass under way). */
    @Override
    public void close() {
        running = false;
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
