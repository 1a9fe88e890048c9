package io.weir.log;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.utils.FileUtils;
import io.weir.log.internals.CheckpointFile;
import io.weir.log.internals.LogCleaner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Owns one {@code log.dirs} directory: opens every {@code <topic>-<partition>} log in it at start,
 * creates and deletes logs, checkpoints recovery points and log start offsets, and offers the
 * background duties as bounded, single-call methods ({@link #doRetention}, {@link #doFlush},
 * {@link #doCheckpoint}, {@link #doCleaning}, {@link #doProducerIdExpiration}) that return how much they did; the broker decides the
 * threads and the idle strategy, tests call them on one thread.
 *
 * <p>Crash handling: {@link #close()} writes the checkpoints and then a {@code .clean_shutdown}
 * marker. {@link #open} deletes the marker before anything else; with it present the recovery scan is
 * skipped, without it every log re-validates the data after its checkpointed recovery point.
 *
 * <p>Ownership: {@link #open} takes an exclusive lock on {@code <dir>/.lock} before it touches
 * anything else and holds it until {@link #close()} (or {@link #halt()}), so a second broker, or a
 * second manager in this process, pointed at the same directory fails at start instead of both
 * writing the same segments. The OS drops the lock when the process dies.
 *
 * <p>Thread-safe: the log map is concurrent; each {@link Log} documents its own locking.
 */
public final class LogManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogManager.class);

    public static final String CLEAN_SHUTDOWN_FILE = ".clean_shutdown";
    public static final String RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint";
    public static final String LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint";
    public static final String LOCK_FILE = ".lock";

    private final Path logDir;
    private final LogConfig defaultConfig;
    private final Time time;
    private final Map<TopicPartition, Log> logs = new ConcurrentHashMap<>();
    private final CheckpointFile recoveryPoints;
    private final CheckpointFile logStartOffsets;
    private final LogCleaner cleaner;
    private final boolean hadCleanShutdown;
    private long lastScrubMs = -1;
    private int scrubTurn;
    private boolean freshDirectory;
    private final FileChannel lockChannel;

    private LogManager(Path logDir, LogConfig defaultConfig, Map<TopicPartition, LogConfig> topicConfigs, Time time) {
        this.logDir = logDir;
        this.defaultConfig = defaultConfig;
        this.time = time;
        this.recoveryPoints = new CheckpointFile(logDir.resolve(RECOVERY_POINT_CHECKPOINT));
        this.logStartOffsets = new CheckpointFile(logDir.resolve(LOG_START_OFFSET_CHECKPOINT));
        this.cleaner = new LogCleaner(time);
        this.lockChannel = lockDirectory(logDir);
        try {
            this.hadCleanShutdown = loadLogs(topicConfigs);
        } catch (RuntimeException e) {
            logs.values().forEach(Log::close);
            releaseLock();
            throw e;
        }
    }

    /** Creates the directory and takes {@code .lock} in it, or fails naming the directory. */
    private static FileChannel lockDirectory(Path logDir) {
        FileChannel channel = null;
        try {
            Files.createDirectories(logDir);
            channel = FileChannel.open(logDir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // held by another manager in this JVM
            }
            if (lock == null) {
                throw new IllegalStateException("log directory " + logDir.toAbsolutePath() + " is in use: "
                    + logDir.resolve(LOCK_FILE).toAbsolutePath() + " is locked by another broker process or another"
                    + " log manager in this one; each log directory belongs to exactly one broker");
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot lock log directory " + logDir, io);
            }
            throw (RuntimeException) e;
        }
    }

    private void releaseLock() {
        try {
            lockChannel.close(); // releases the lock
        } catch (IOException e) {
            LOG.warn("Cannot release the lock on {}", logDir, e);
        }
    }

    /** Deletes the clean-shutdown marker and opens every log; returns whether the marker was there. */
    private boolean loadLogs(Map<TopicPartition, LogConfig> topicConfigs) {
        boolean hadMarker;
        try {
            Path marker = logDir.resolve(CLEAN_SHUTDOWN_FILE);
            hadMarker = Files.deleteIfExists(marker);
            // the marker must be gone before anything is written: a crash from here on is unclean
            FileUtils.fsyncDirectory(logDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open log directory " + logDir, e);
        }
        boolean clean = hadMarker;
        boolean hadCheckpoint = Files.exists(logDir.resolve(RECOVERY_POINT_CHECKPOINT));
        Map<TopicPartition, Long> points = readCheckpoint(recoveryPoints);
        Map<TopicPartition, Long> starts = readCheckpoint(logStartOffsets);
        if (points == null) {
            clean = false;
            points = Map.of();
        }
        if (starts == null) {
            starts = Map.of();
        }
        try (Stream<Path> dirs = Files.list(logDir)) {
            for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
                TopicPartition tp = TopicPartition.fromDirName(d.getFileName().toString());
                if (tp == null) {
                    // the broker keeps its own metadata beside the logs, in directories named __weir_*, and
                    // a standalone broker's embedded ZooKeeper keeps its data in __zookeeper
                    String name = d.getFileName().toString();
                    if (!name.startsWith("__weir_") && !name.equals("__zookeeper")) {
                        LOG.warn("Ignoring {}: not a <topic>-<partition> directory", d);
                    }
                    continue;
                }
                LogConfig cfg = topicConfigs.getOrDefault(tp, defaultConfig);
                Log log = Log.open(d, cfg, points.getOrDefault(tp, 0L), starts.getOrDefault(tp, 0L), clean, time);
                Log.RecoveryReport r = log.recoveryReport();
                if (r.recovered() && (r.bytesTruncated() > 0 || r.segmentsDeleted() > 0)) {
                    LOG.warn("{}: unclean shutdown recovery truncated {} bytes and deleted {} segments", tp,
                        r.bytesTruncated(), r.segmentsDeleted());
                } else if (r.recovered()) {
                    LOG.info("{}: unclean shutdown recovery found no damage; log end offset {}", tp, log.logEndOffset());
                }
                logs.put(tp, log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + logDir, e);
        }
        freshDirectory = !hadMarker && !hadCheckpoint && logs.isEmpty();
        return hadMarker;
    }

    /**
     * Opens the directory and every log in it. {@code topicConfigs} overrides {@code defaultConfig}
     * per partition (the broker knows the topic configs).
     */
    public static LogManager open(Path logDir, LogConfig defaultConfig, Map<TopicPartition, LogConfig> topicConfigs,
                                  Time time) {
        return new LogManager(logDir, defaultConfig, topicConfigs, time);
    }

    /**
     * As {@link #open}; with {@code verifyOnStart} (broker config {@code log.verify.on.start}) every
     * inactive segment is also re-validated before the manager is returned, not only the tail after
     * the recovery point, and damage found is quarantined (see {@link Log#scrub}).
     */
    public static LogManager open(Path logDir, LogConfig defaultConfig, Map<TopicPartition, LogConfig> topicConfigs,
                                  Time time, boolean verifyOnStart) {
        LogManager m = new LogManager(logDir, defaultConfig, topicConfigs, time);
        if (verifyOnStart) {
            long bytes = 0;
            for (Log log : m.logs.values()) {
                bytes += log.scrub(Long.MAX_VALUE);
            }
            LOG.info("log.verify.on.start: re-validated {} bytes of {} logs in {}", bytes, m.logs.size(), logDir);
        }
        return m;
    }

    /**
     * The scrubber duty: re-validates old segments of every log at about {@code bytesPerSecond} (the
     * budget is the time since the last call times the rate, spread over the logs in turn), so damage
     * below the recovery point, which recovery never looks at, is found and quarantined. Returns the
     * bytes verified.
     */
    public long doScrub(long nowMs, long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            return 0;
        }
        long elapsedMs = lastScrubMs < 0 ? 1000 : Math.max(0, nowMs - lastScrubMs);
        lastScrubMs = nowMs;
        long budget = Math.max(1, bytesPerSecond * elapsedMs / 1000);
        long done = 0;
        List<Log> all = new java.util.ArrayList<>(logs.values());
        for (int i = 0; i < all.size() && done < budget; i++) {
            Log log = all.get((scrubTurn + i) % all.size());
            done += log.scrub(budget - done);
        }
        scrubTurn = all.isEmpty() ? 0 : (scrubTurn + 1) % all.size();
        return done;
    }

    private static Map<TopicPartition, Long> readCheckpoint(CheckpointFile file) {
        try {
            return file.read();
        } catch (IOException e) {
            LOG.warn("Ignoring unreadable checkpoint: {}", e.getMessage());
            return null;
        }
    }

    /**
     * Whether the directory held no logs, no checkpoint and no clean-shutdown marker when opened: a
     * first start, not a recovery.
     */
    public boolean wasFreshDirectory() {
        return freshDirectory;
    }

    /** Whether the previous run ended with {@link #close()}. */
    public boolean hadCleanShutdown() {
        return hadCleanShutdown;
    }

    public Path logDir() {
        return logDir;
    }

    public Log getLog(TopicPartition tp) {
        return logs.get(tp);
    }

    public Collection<Log> allLogs() {
        return List.copyOf(logs.values());
    }

    /** The partition's log, created empty with {@code config} if absent. */
    public Log getOrCreateLog(TopicPartition tp, LogConfig config) {
        if (!tp.isValid()) {
            throw new IllegalArgumentException("no log can exist for partition " + tp);
        }
        return logs.computeIfAbsent(tp, t -> Log.open(logDir.resolve(t.dirName()), config, 0L, 0L, true, time));
    }

    /** Closes and deletes the partition's log; returns whether there was one. */
    public boolean deleteLog(TopicPartition tp) {
        Log log = logs.remove(tp);
        if (log == null) {
            return false;
        }
        log.delete();
        FileUtils.fsyncDirectory(logDir);
        return true;
    }

    /** Retention on every log; returns segments deleted. */
    public int doRetention(long nowMs) {
        int n = 0;
        for (Log log : logs.values()) {
            n += log.deleteOldSegments(nowMs);
        }
        return n;
    }

    /** flush.ms on every log; returns logs flushed. */
    public int doFlush(long nowMs) {
        int n = 0;
        for (Log log : logs.values()) {
            if (log.maybeFlushByTime(nowMs)) {
                n++;
            }
        }
        return n;
    }

    /**
     * {@code producer.id.expiration.ms} on every log: forgets producers idle for at least
     * {@code producerIdExpirationMs} that have no open transaction; returns how many were removed.
     */
    public int doProducerIdExpiration(long nowMs, long producerIdExpirationMs) {
        int n = 0;
        for (Log log : logs.values()) {
            n += log.removeExpiredProducers(nowMs, producerIdExpirationMs);
        }
        return n;
    }

    /** Writes the recovery point and log start offset checkpoints; returns entries written. */
    public int doCheckpoint() {
        Map<TopicPartition, Long> points = new LinkedHashMap<>();
        Map<TopicPartition, Long> starts = new LinkedHashMap<>();
        for (Log log : logs.values()) {
            points.put(log.topicPartition(), log.recoveryPoint());
            starts.put(log.topicPartition(), log.logStartOffset());
        }
        recoveryPoints.write(points);
        logStartOffsets.write(starts);
        return points.size();
    }

    /** Compacts each log with cleanup.policy=compact once (its dirty, inactive part); returns bytes of segments rewritten. */
    public long doCleaning(long nowMs) {
        long n = 0;
        for (Log log : logs.values()) {
            if (log.config().compact) {
                n += cleaner.clean(log, nowMs);
            }
        }
        return n;
    }

    /**
     * Closes every log (flush + producer snapshot), writes checkpoints, then the clean shutdown marker,
     * and releases the directory lock. If a log cannot be closed the others still are, no marker is
     * written (the next start recovers), and the lock is released before the failure is rethrown.
     */
    @Override
    public void close() {
        RuntimeException failure = null;
        try {
            for (Log log : logs.values()) {
                try {
                    log.close();
                } catch (RuntimeException e) {
                    // keep closing the others; without the marker the next start recovers this one
                    LOG.error("Cannot close {} cleanly", log, e);
                    failure = failure == null ? e : failure;
                }
            }
            if (failure == null) {
                doCheckpoint();
                try {
                    Files.write(logDir.resolve(CLEAN_SHUTDOWN_FILE), new byte[0]);
                    FileUtils.fsyncDirectory(logDir);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write " + CLEAN_SHUTDOWN_FILE + " in " + logDir, e);
                }
            }
        } finally {
            releaseLock();
            logs.clear();
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Stops as kill -9 would, for tests and tools that simulate a crash in one process: releases the
     * directory lock and nothing else. No flush, checkpoint or clean-shutdown marker; the logs' files
     * stay open until the garbage collector closes them, so the next {@link #open} recovers.
     */
    public void halt() {
        releaseLock();
        logs.clear();
    }
}
