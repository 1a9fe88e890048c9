package io.weir.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The one place that records a failed log directory (Kafka's {@code LogDirFailureChannel}): whoever meets an
 * I/O error on a log's files (an append, roll, flush, index or checkpoint write, a read) reports the
 * directory holding it with {@link #maybeAddOfflineLogDir}; the first report of a directory marks it offline
 * and queues it once, and the broker's handler thread takes it off the queue ({@link #takeNextOfflineLogDir})
 * to close its logs, answer KAFKA_STORAGE_ERROR for its partitions and tell the controller. A directory stays
 * offline until the process restarts (its fix is an operator's, then a restart recovers it).
 *
 * <p>Thread-safe: many request and duty threads report, one handler takes.
 */
public final class LogDirFailureChannel {
    private static final Logger LOG = LoggerFactory.getLogger(LogDirFailureChannel.class);

    private final Set<Path> offline = ConcurrentHashMap.newKeySet();
    private final BlockingQueue<Path> queue = new LinkedBlockingQueue<>();

    /**
     * Marks {@code logDir} offline and queues it for the handler, the first time only (later reports of the
     * same directory are dropped: its logs are being taken offline already). Returns whether this call
     * marked it.
     */
    public boolean maybeAddOfflineLogDir(Path logDir, String message, Throwable cause) {
        if (!offline.add(logDir)) {
            return false;
        }
        LOG.error("{}: the log directory {} is taken offline", message, logDir, cause);
        queue.add(logDir);
        return true;
    }

    /** Whether {@code logDir} was reported failed. */
    public boolean isOffline(Path logDir) {
        return logDir != null && offline.contains(logDir);
    }

    /** The directories reported failed so far (a snapshot). */
    public Set<Path> offlineLogDirs() {
        return Set.copyOf(offline);
    }

    /** The next directory to take offline, waiting for one. */
    public Path takeNextOfflineLogDir() throws InterruptedException {
        return queue.take();
    }

    /** The next directory to take offline, waiting at most {@code timeout}; null when none came. */
    public Path pollNextOfflineLogDir(long timeout, TimeUnit unit) throws InterruptedException {
        return queue.poll(timeout, unit);
    }
}
