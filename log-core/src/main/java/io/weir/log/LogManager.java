package io.weir.log;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.errors.StorageException;
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
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

/**
 * Owns the {@code log.dirs} directories (one or more, JBOD): opens every {@code <topic>-<partition>}
 * log in each at start, creates and deletes logs, checkpoints recovery points and log start offsets,
 * and offers the background duties as bounded, single-call methods ({@link #doRetention}, {@link #doFlush},
 * {@link #doCheckpoint}, {@link #doCleaning}, {@link #doProducerIdExpiration}) that return how much they did; the broker decides the
 * threads and the idle strategy, tests call them on one thread.
 *
 * <p>Several directories: each holds whole partitions and its own {@value #RECOVERY_POINT_CHECKPOINT},
 * {@value #LOG_START_OFFSET_CHECKPOINT}, {@code .clean_shutdown} marker and {@code .lock}. A new log goes
 * to the directory holding the fewest logs, the first listed on a tie (Kafka's rule). A partition found
 * in two directories at start is refused: which copy is current cannot be told.
 *
 * <p>A replica moved while it serves (AlterReplicaLogDirs; the copying is the broker's) is copied into a
 * {@link #newFutureLogDir} and swapped in by {@link #replaceCurrentWithFuture}; a {@code -future} found at
 * start beside the current log is kept for the broker to resume ({@link #futureLogDirsFound}); one without a
 * current log becomes the log only when its swap had begun (a crash between the swap's two renames: the original,
 * {@code <tp>.<id>-delete} with the copy's id, is there) and is deleted otherwise (the copy of a log deleted
 * while it moved); {@code -delete} directories (moved logs' originals) are deleted after that.
 *
 * <p>Crash handling: {@link #close()} writes the checkpoints and then a {@code .clean_shutdown}
 * marker in each directory. {@link #open} deletes the markers before anything else; the logs of a
 * directory that had its marker skip the recovery scan, those of one without it re-validate the data
 * after their checkpointed recovery point.
 *
 * <p>Ownership: {@link #open} takes an exclusive lock on {@code <dir>/.lock} in every directory before
 * it touches anything else and holds them until {@link #close()} (or {@link #halt()}), so a second broker, or a
 * second manager in this process, pointed at the same directory fails at start instead of both
 * writing the same segments. The OS drops the lock when the process dies.
 *
 * <p>A failed directory (Kafka's JBOD failure handling): an I/O error in a duty here ({@link #doRetention},
 * {@link #doFlush}, {@link #doCheckpoint}, ...), or one the broker meets on an append or read, is reported to the
 * {@link #failureChannel()}; the directory is offline from then on — no new log is placed there, no checkpoint or
 * clean-shutdown marker is written there — and {@link #takeOffline} removes its logs from the served set. The
 * next start, with the directory fixed, recovers it like any unclean stop.
 *
 * <p>Thread-safe: the log map is concurrent; creations are serialized so that placement sees every
 * earlier one; each {@link Log} documents its own locking.
 */
public final class LogManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogManager.class);

    public static final String CLEAN_SHUTDOWN_FILE = ".clean_shutdown";
    public static final String RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint";
    public static final String LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint";
    public static final String LOCK_FILE = ".lock";
    /** The suffix of Kafka's copy of a replica being moved to another directory. */
    public static final String FUTURE_DIR_SUFFIX = "-future";
    /** The suffix of a moved log's original, renamed before it is deleted. */
    public static final String DELETE_DIR_SUFFIX = "-delete";

    /** One directory of {@code log.dirs}: its lock, checkpoint files and what opening it found. */
    private static final class LogDir {
        final Path path;
        final FileChannel lockChannel;
        final CheckpointFile recoveryPoints;
        final CheckpointFile logStartOffsets;
        boolean hadMarker;
        boolean hadCheckpoint;

        LogDir(Path path, FileChannel lockChannel) {
            this.path = path;
            this.lockChannel = lockChannel;
            this.recoveryPoints = new CheckpointFile(path.resolve(RECOVERY_POINT_CHECKPOINT));
            this.logStartOffsets = new CheckpointFile(path.resolve(LOG_START_OFFSET_CHECKPOINT));
        }
    }

    private final List<LogDir> dirs;
    private final LogConfig defaultConfig;
    private final Time time;
    private final Map<TopicPartition, Log> logs = new ConcurrentHashMap<>();
    private final Object createLock = new Object();
    /**
     * Read-held by each duty pass ({@code do*}), write-held by {@link #withDutiesPaused}: a log being swapped is
     * touched by no retention, flush, cleaning, scrub, expiration or checkpoint pass.
     */
    private final ReentrantReadWriteLock moveLock = new ReentrantReadWriteLock();
    private final LogCleaner cleaner;
    /** Where an I/O error in a directory is reported; its logs then leave this manager ({@link #takeOffline}). */
    private final LogDirFailureChannel failureChannel = new LogDirFailureChannel();
    /** The {@code -future} copies found at start beside a current log: moves the broker resumes. */
    private final Map<TopicPartition, Path> futureDirsFound = new LinkedHashMap<>();
    private final boolean hadCleanShutdown;
    private long lastScrubMs = -1;
    private int scrubTurn;
    private boolean freshDirectory;

    private LogManager(List<Path> logDirs, LogConfig defaultConfig, Map<TopicPartition, LogConfig> topicConfigs,
                       Time time) {
        this.defaultConfig = defaultConfig;
        this.time = time;
        this.cleaner = new LogCleaner(time);
        this.dirs = lockDirectories(logDirs);
        try {
            this.hadCleanShutdown = loadLogs(topicConfigs);
        } catch (RuntimeException e) {
            logs.values().forEach(Log::close);
            logs.clear();
            releaseLocks();
            throw e;
        }
    }

    /** Locks every directory, in order; if one cannot be locked, releases those already locked. */
    private static List<LogDir> lockDirectories(List<Path> logDirs) {
        if (logDirs.isEmpty()) {
            throw new IllegalArgumentException("no log directory given");
        }
        Map<Path, Path> seen = new HashMap<>();
        for (Path p : logDirs) {
            Path earlier = seen.put(p.toAbsolutePath().normalize(), p);
            if (earlier != null) {
                throw new IllegalArgumentException("log.dirs lists the directory " + p.toAbsolutePath().normalize()
                    + " twice (" + earlier + ", " + p + "): each directory may appear once");
            }
        }
        List<LogDir> out = new ArrayList<>();
        try {
            for (Path p : logDirs) {
                out.add(new LogDir(p, lockDirectory(p)));
            }
        } catch (RuntimeException e) {
            for (LogDir d : out) {
                releaseLock(d);
            }
            throw e;
        }
        return List.copyOf(out);
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

    private static void releaseLock(LogDir dir) {
        try {
            dir.lockChannel.close(); // releases the lock
        } catch (IOException e) {
            LOG.warn("Cannot release the lock on {}", dir.path, e);
        }
    }

    private void releaseLocks() {
        for (LogDir d : dirs) {
            releaseLock(d);
        }
    }

    /**
     * Deletes every directory's clean-shutdown marker, checks that no partition is in two directories,
     * and opens every log; returns whether every directory had its marker.
     */
    private boolean loadLogs(Map<TopicPartition, LogConfig> topicConfigs) {
        Map<TopicPartition, Path> found = new LinkedHashMap<>();
        // the originals of moved logs, <tp>.<id>-delete: deleted once the copies of swaps they began are in place
        List<Path> originals = new ArrayList<>();
        Set<String> swapsBegun = new HashSet<>();
        for (LogDir dir : dirs) {
            try {
                dir.hadMarker = Files.deleteIfExists(dir.path.resolve(CLEAN_SHUTDOWN_FILE));
                // the marker must be gone before anything is written: a crash from here on is unclean
                FileUtils.fsyncDirectory(dir.path);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open log directory " + dir.path, e);
            }
            dir.hadCheckpoint = Files.exists(dir.path.resolve(RECOVERY_POINT_CHECKPOINT));
            for (Path d : movedDirs(dir.path, DELETE_DIR_SUFFIX)) {
                String n = d.getFileName().toString();
                swapsBegun.add(n.substring(0, n.length() - DELETE_DIR_SUFFIX.length()));
                originals.add(d);
            }
            for (Path d : partitionDirs(dir.path)) {
                TopicPartition tp = TopicPartition.fromDirName(d.getFileName().toString());
                Path other = found.putIfAbsent(tp, d);
                if (other != null) {
                    throw new IllegalStateException("partition " + tp + " has a log in two log directories, "
                        + other.toAbsolutePath() + " and " + d.toAbsolutePath() + ": which copy is current cannot be"
                        + " told, so the broker does not start; keep one (move the other away) and start again");
                }
            }
        }
        // a copy beside a current log is a move under way, resumed by the broker (futureLogDirsFound); one
        // without is complete (its original was renamed before the copy's rename)
        for (LogDir dir : dirs) {
            for (Path d : movedDirs(dir.path, FUTURE_DIR_SUFFIX)) {
                TopicPartition tp = movedPartition(d.getFileName().toString(), FUTURE_DIR_SUFFIX);
                if (found.containsKey(tp)) {
                    if (found.get(tp).getParent().equals(dir.path) || futureDirsFound.containsKey(tp)) {
                        LOG.warn("Deleting {}: a copy of {} for a move between log directories that cannot be resumed"
                            + " (another copy, or the log itself, is in that directory)", d, tp);
                        deleteTree(d);
                    } else {
                        LOG.info("Found {}: the move of {} from {} is resumed", d, tp, found.get(tp).getParent());
                        futureDirsFound.put(tp, d);
                    }
                } else if (!swapsBegun.contains(name(d).substring(0, name(d).length() - FUTURE_DIR_SUFFIX.length()))) {
                    // no original renamed away by this move's swap: the copy of a log deleted meanwhile (a topic
                    // deleted while it moved), never the partition's log
                    LOG.warn("Deleting {}: a copy of {} for a move whose log is gone", d, tp);
                    deleteTree(d);
                } else {
                    Path to = dir.path.resolve(tp.dirName());
                    LOG.info("Finishing the move of {} to {}", tp, dir.path);
                    try {
                        Files.move(d, to, StandardCopyOption.ATOMIC_MOVE);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot rename " + d + " to " + to, e);
                    }
                    FileUtils.fsyncDirectory(dir.path);
                    found.put(tp, to);
                }
            }
        }
        for (Path d : originals) {
            LOG.info("Deleting {}: the original of a log moved to another directory", d);
            deleteTree(d);
        }
        boolean allClean = true;
        for (LogDir dir : dirs) {
            boolean clean = dir.hadMarker;
            Map<TopicPartition, Long> points = readCheckpoint(dir.recoveryPoints);
            Map<TopicPartition, Long> starts = readCheckpoint(dir.logStartOffsets);
            if (points == null) {
                clean = false;
                points = Map.of();
            }
            if (starts == null) {
                starts = Map.of();
            }
            for (Path d : partitionDirs(dir.path)) {
                TopicPartition tp = TopicPartition.fromDirName(d.getFileName().toString());
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
            allClean &= dir.hadMarker;
        }
        boolean fresh = logs.isEmpty();
        for (LogDir dir : dirs) {
            fresh &= !dir.hadMarker && !dir.hadCheckpoint;
        }
        freshDirectory = fresh;
        return allClean;
    }

    /** The {@code <topic>-<partition>} directories in {@code logDir}, sorted by name. */
    private static List<Path> partitionDirs(Path logDir) {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> entries = Files.list(logDir)) {
            for (Path d : entries.filter(Files::isDirectory).sorted().toList()) {
                String name = d.getFileName().toString();
                if (TopicPartition.fromDirName(name) != null) {
                    out.add(d);
                } else if (movedPartition(name, FUTURE_DIR_SUFFIX) != null || movedPartition(name, DELETE_DIR_SUFFIX) != null) {
                    continue; // handled by loadLogs
                } else if (!name.startsWith("__weir_") && !name.equals("__zookeeper")) {
                    // the broker keeps its own metadata beside the logs, in directories named __weir_*, and
                    // a standalone broker's embedded ZooKeeper keeps its data in __zookeeper
                    LOG.warn("Ignoring {}: not a <topic>-<partition> directory", d);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + logDir, e);
        }
        return out;
    }

    /** The partition of a {@code <topic>-<partition>.<id><suffix>} directory name, or null for another name. */
    private static String name(Path p) {
        return p.getFileName().toString();
    }

    private static TopicPartition movedPartition(String name, String suffix) {
        if (!name.endsWith(suffix)) {
            return null;
        }
        String base = name.substring(0, name.length() - suffix.length());
        int dot = base.lastIndexOf('.');
        return dot <= 0 ? null : TopicPartition.fromDirName(base.substring(0, dot));
    }

    /** The {@code <topic>-<partition>.<id><suffix>} directories in {@code logDir}. */
    private static List<Path> movedDirs(Path logDir, String suffix) {
        try (Stream<Path> entries = Files.list(logDir)) {
            return entries.filter(Files::isDirectory)
                .filter(d -> movedPartition(d.getFileName().toString(), suffix) != null).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + logDir, e);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
        FileUtils.fsyncDirectory(root.getParent());
    }

    /**
     * Opens the directory and every log in it. {@code topicConfigs} overrides {@code defaultConfig}
     * per partition (the broker knows the topic configs).
     */
    public static LogManager open(Path logDir, LogConfig defaultConfig, Map<TopicPartition, LogConfig> topicConfigs,
                                  Time time) {
        return open(List.of(logDir), defaultConfig, topicConfigs, time, false);
    }

    /**
     * As {@link #open(List, LogConfig, Map, Time, boolean)} with one directory.
     */
    public static LogManager open(Path logDir, LogConfig defaultConfig, Map<TopicPartition, LogConfig> topicConfigs,
                                  Time time, boolean verifyOnStart) {
        return open(List.of(logDir), defaultConfig, topicConfigs, time, verifyOnStart);
    }

    /**
     * Opens the directories ({@code log.dirs}, in their configured order) and every log in them.
     * {@code topicConfigs} overrides {@code defaultConfig} per partition (the broker knows the topic
     * configs). With {@code verifyOnStart} (broker config {@code log.verify.on.start}) every inactive
     * segment is also re-validated before the manager is returned, not only the tail after the recovery
     * point, and damage found is quarantined (see {@link Log#scrub}).
     */
    public static LogManager open(List<Path> logDirs, LogConfig defaultConfig, Map<TopicPartition, LogConfig> topicConfigs,
                                  Time time, boolean verifyOnStart) {
        LogManager m = new LogManager(logDirs, defaultConfig, topicConfigs, time);
        if (verifyOnStart) {
            long bytes = 0;
            for (Log log : m.logs.values()) {
                bytes += log.scrub(Long.MAX_VALUE);
            }
            LOG.info("log.verify.on.start: re-validated {} bytes of {} logs in {}", bytes, m.logs.size(), logDirs);
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
        moveLock.readLock().lock();
        try {
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
                try {
                    done += log.scrub(budget - done);
                } catch (UncheckedIOException e) {
                    reportFailure(log.dir().getParent(), "an I/O error scrubbing the log of " + log.topicPartition(), e);
                }
            }
            scrubTurn = all.isEmpty() ? 0 : (scrubTurn + 1) % all.size();
            return done;
        } finally {
            moveLock.readLock().unlock();
        }
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
     * Whether every directory held no logs, no checkpoint and no clean-shutdown marker when opened: a
     * first start, not a recovery.
     */
    public boolean wasFreshDirectory() {
        return freshDirectory;
    }

    /** Whether the previous run ended with {@link #close()} (in every directory). */
    public boolean hadCleanShutdown() {
        return hadCleanShutdown;
    }

    /** The first directory of {@code log.dirs}: where the broker keeps its own files beside logs. */
    public Path logDir() {
        return dirs.get(0).path;
    }

    /** Every directory, in the configured order. */
    public List<Path> logDirs() {
        List<Path> out = new ArrayList<>(dirs.size());
        for (LogDir d : dirs) {
            out.add(d.path);
        }
        return out;
    }

    /** The directory (one of {@link #logDirs()}) holding the partition's log, or null if there is none. */
    public Path logDirOf(TopicPartition tp) {
        Log log = logs.get(tp);
        return log == null ? null : log.dir().getParent();
    }

    public Log getLog(TopicPartition tp) {
        return logs.get(tp);
    }

    public Collection<Log> allLogs() {
        return List.copyOf(logs.values());
    }

    /**
     * The partition's log, created empty with {@code config} if absent, in the directory holding the
     * fewest logs (the first listed on a tie).
     */
    public Log getOrCreateLog(TopicPartition tp, LogConfig config) {
        if (!tp.isValid()) {
            throw new IllegalArgumentException("no log can exist for partition " + tp);
        }
        Log existing = logs.get(tp);
        if (existing != null) {
            return existing;
        }
        // serialized so each placement counts every log created before it
        synchronized (createLock) {
            return logs.computeIfAbsent(tp, t -> Log.open(nextLogDir().resolve(t.dirName()), config, 0L, 0L, true, time));
        }
    }

    /** The directory with the fewest logs; the first listed among equals. */
    private Path nextLogDir() {
        List<LogDir> online = new ArrayList<>(dirs);
        online.removeIf(d -> failureChannel.isOffline(d.path));
        if (online.isEmpty()) {
            throw new io.weir.common.errors.StorageException("no log can be created: every log directory " + logDirs()
                + " is offline");
        }
        if (online.size() == 1) {
            return online.get(0).path;
        }
        Map<Path, Integer> counts = new HashMap<>();
        for (Log log : logs.values()) {
            counts.merge(log.dir().getParent(), 1, Integer::sum);
        }
        LogDir best = online.get(0);
        int bestCount = counts.getOrDefault(best.path, 0);
        for (LogDir d : online) {
            int n = counts.getOrDefault(d.path, 0);
            if (n < bestCount) {
                best = d;
                bestCount = n;
            }
        }
        return best.path;
    }

    /**
     * Runs {@code work} on each log; an I/O error on one (an {@link UncheckedIOException}) reports its
     * directory to the {@link #failureChannel()} and the pass goes on with the others.
     */
    private long eachLog(java.util.function.ToLongFunction<Log> work) {
        long n = 0;
        for (Log log : logs.values()) {
            try {
                n += work.applyAsLong(log);
            } catch (UncheckedIOException e) {
                reportFailure(log.dir().getParent(), "an I/O error on the log of " + log.topicPartition(), e);
            }
        }
        return n;
    }

    /**
     * Where an I/O error in one of the directories is reported (see {@link LogDirFailureChannel}): the duties
     * here report their own; the broker reports those of appends and reads, and takes each reported directory
     * offline with {@link #takeOffline}.
     */
    public LogDirFailureChannel failureChannel() {
        return failureChannel;
    }

    /** Reports an I/O error in {@code logDir} (one of {@link #logDirs()}) to the {@link #failureChannel()}. */
    public void reportFailure(Path logDir, String what, Throwable cause) {
        failureChannel.maybeAddOfflineLogDir(logDir, what, cause);
    }

    /** Whether {@code logDir} was reported failed: it holds no served log and gets no new one. */
    public boolean isOffline(Path logDir) {
        return failureChannel.isOffline(logDir);
    }

    /** The directories not reported failed, in the configured order. */
    public List<Path> onlineLogDirs() {
        List<Path> out = new ArrayList<>(dirs.size());
        for (LogDir d : dirs) {
            if (!failureChannel.isOffline(d.path)) {
                out.add(d.path);
            }
        }
        return out;
    }

    /**
     * Takes a failed directory's logs out of this manager (Kafka's {@code handleLogDirFailure}): each is
     * removed from the served set and its files closed without a flush ({@link Log#closeHandlers}); no
     * checkpoint or clean-shutdown marker is written there again, so the next start recovers the directory.
     * Returns the partitions whose logs it held.
     */
    public List<TopicPartition> takeOffline(Path logDir) {
        failureChannel.maybeAddOfflineLogDir(logDir, "taken offline", null);
        List<TopicPartition> out = new ArrayList<>();
        synchronized (createLock) {
            for (Log log : List.copyOf(logs.values())) {
                if (log.dir().getParent().equals(logDir) && logs.remove(log.topicPartition(), log)) {
                    out.add(log.topicPartition());
                    log.closeHandlers();
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ moves while serving (LogDirMover)

    /**
     * The {@code <topic>-<partition>.<id>-future} directories {@link #open} found beside a current log of
     * the partition in another directory: moves under way when the broker stopped, to be resumed (or
     * deleted) by their owner; this manager does not open them.
     */
    public Map<TopicPartition, Path> futureLogDirsFound() {
        return Map.copyOf(futureDirsFound);
    }

    /**
     * A new, not yet existing {@code <targetDir>/<topic>-<partition>.<id>-future} path for a copy of the
     * partition's log that is brought up to date while the log keeps serving (AlterReplicaLogDirs).
     *
     * @throws IllegalArgumentException if {@code targetDir} is none of this manager's directories
     */
    public Path newFutureLogDir(TopicPartition tp, Path targetDir) {
        if (dirOf(targetDir) == null) {
            throw new IllegalArgumentException(targetDir + " is not one of the log directories " + logDirs());
        }
        return targetDir.resolve(tp.dirName() + "." + UUID.randomUUID().toString().replace("-", "") + FUTURE_DIR_SUFFIX);
    }

    private LogDir dirOf(Path path) {
        for (LogDir d : dirs) {
            if (d.path.equals(path)) {
                return d;
            }
        }
        return null;
    }

    /**
     * Runs {@code action} while no duty pass ({@code do*}) runs, waiting for one under way: a log being
     * swapped for its copy is touched by no retention, flush, cleaning, scrub, expiration or checkpoint.
     */
    public <T> T withDutiesPaused(java.util.function.Supplier<T> action) {
        moveLock.writeLock().lock();
        try {
            return action.get();
        } finally {
            moveLock.writeLock().unlock();
        }
    }

    /** The current log replaced by its complete copy: the new log, and where the old one's files now are. */
    public record ReplacedLog(Log log, Path oldDir) {
    }

    /**
     * Swaps the partition's current log for {@code future}, its complete copy in another directory
     * (opened from a {@link #newFutureLogDir} path). Called inside {@link #withDutiesPaused} by an owner
     * that holds every append and truncation of the partition back: {@code future} is closed (flushed,
     * producer state snapshotted), the current log's directory is renamed {@code <tp>.<id>-delete}, the
     * copy's renamed to {@code <tp>}, each rename followed by an fsync of its directory, and the copy is
     * opened there and becomes the partition's log. The old {@link Log} stays open for reads in flight:
     * its owner releases it ({@link Log#releaseRenamedAway}) and deletes {@code oldDir} later. A crash between
     * the renames leaves a {@code -future} without a current log, which {@link #open} finishes.
     *
     * <p>An I/O error fails a directory, as Kafka's swap does: reported to the {@link #failureChannel()}, thrown as
     * a {@link StorageException}. The copy's directory (closing the copy, renaming it in place, opening it there):
     * the copy is renamed back to its {@code -future} name, the original is renamed back and stays the partition's
     * log, so no failure leaves the partition serving from a log renamed away (which the next start deletes).
     * A copy whose end differs from the log's is refused before anything is renamed. The log's directory (renaming it away, or back): the log
     * stays in the map and goes offline with its directory.
     *
     * @throws StorageException if a directory failed
     * @throws IllegalStateException if the copy does not end where the log does (nothing renamed)
     */
    public ReplacedLog replaceCurrentWithFuture(TopicPartition tp, Log future) {
        if (!moveLock.isWriteLockedByCurrentThread()) {
            throw new IllegalStateException("replaceCurrentWithFuture runs inside withDutiesPaused");
        }
        synchronized (createLock) {
            Log old = logs.get(tp);
            if (old == null) {
                throw new IllegalArgumentException("no log of " + tp + " to replace");
            }
            Path source = old.dir();
            Path futureDir = future.dir();
            String name = futureDir.getFileName().toString();
            String id = name.substring(tp.dirName().length() + 1, name.length() - FUTURE_DIR_SUFFIX.length());
            Path renamed = source.resolveSibling(tp.dirName() + "." + id + DELETE_DIR_SUFFIX);
            Path moved = futureDir.resolveSibling(tp.dirName());
            LogConfig config = old.config();
            long logStartOffset = future.logStartOffset();
            Path targetDir = futureDir.getParent();
            Path sourceDir = source.getParent();
            if (future.logEndOffset() != old.logEndOffset()) {
                // checked before anything is renamed: the owner could not take the copy once the log is renamed away
                throw new IllegalStateException(tp + ": the copy ends at " + future.logEndOffset() + ", the log at "
                    + old.logEndOffset());
            }
            try {
                future.close();
            } catch (UncheckedIOException e) {
                future.closeHandlers();
                throw failed(targetDir, "cannot close the copy of " + tp + " before its swap", e);
            }
            long recoveryPoint = future.logEndOffset();
            try {
                Files.move(source, renamed, StandardCopyOption.ATOMIC_MOVE);
                FileUtils.fsyncDirectory(sourceDir);
            } catch (IOException | UncheckedIOException e) {
                // the source directory failed: the log goes offline with it; the copy stays for the next start,
                // which resumes the move (the rename, atomic, did not happen) or finishes it (only the fsync failed)
                throw failed(sourceDir, "cannot rename the log of " + tp + " away for its copy", e);
            }
            try {
                Files.move(futureDir, moved, StandardCopyOption.ATOMIC_MOVE);
                FileUtils.fsyncDirectory(targetDir);
            } catch (IOException | UncheckedIOException e) {
                // the target directory failed: the original goes back, and the log keeps serving from it
                reportFailure(targetDir, "cannot rename the copy of " + tp + " in place", e);
                StorageException back = renameLogBack(tp, source, renamed, e, "after its copy failed");
                if (back != null) {
                    throw back;
                }
                throw new StorageException("the log directory " + targetDir + " failed while the copy of " + tp
                    + " was swapped in; the log stays in " + sourceDir, e);
            }
            Log log;
            try {
                log = Log.open(moved, config, recoveryPoint, logStartOffset, true, time);
            } catch (RuntimeException e) {
                // the copy cannot be opened in place: both go back, and the log keeps serving from its directory
                // (renamed away, it would be deleted at the next start with every record acknowledged since)
                throw putBack(tp, source, renamed, futureDir, moved, e);
            }
            old.renamedAway(renamed);
            logs.put(tp, log);
            LOG.info("Moved the log of {} from {} to {}", tp, source.getParent(), moved.getParent());
            doCheckpoint();
            return new ReplacedLog(log, renamed);
        }
    }

    /**
     * Undoes both renames of a swap whose copy could not be opened in place: the copy goes back to its
     * {@code -future} name (kept for the next start, which resumes the move) and the log to its own name.
     * The copy's directory is reported failed; a failed rename back of the log fails its directory too.
     */
    private StorageException putBack(TopicPartition tp, Path source, Path renamed, Path futureDir, Path moved,
                                     RuntimeException e) {
        Path targetDir = futureDir.getParent();
        Path sourceDir = source.getParent();
        reportFailure(targetDir, "cannot open the copy of " + tp + " in place", e);
        try {
            Files.move(moved, futureDir, StandardCopyOption.ATOMIC_MOVE);
            FileUtils.fsyncDirectory(targetDir);
        } catch (IOException | UncheckedIOException back) {
            // the copy stays under the log's name in a failed directory; the log going back below is what counts
            e.addSuppressed(back);
        }
        StorageException back = renameLogBack(tp, source, renamed, e, "after its copy failed to open");
        if (back != null) {
            return back;
        }
        return new StorageException("the log directory " + targetDir + " failed while the copy of " + tp
            + " was opened in place; the log stays in " + sourceDir, e);
    }

    /**
     * Renames a log renamed away for a swap ({@code renamed}) back to {@code source} and fsyncs its directory;
     * null when done, else the source directory is reported failed and its exception returned ({@code cause}
     * gets the rename's error as suppressed).
     */
    private StorageException renameLogBack(TopicPartition tp, Path source, Path renamed, Exception cause, String when) {
        try {
            Files.move(renamed, source, StandardCopyOption.ATOMIC_MOVE);
            FileUtils.fsyncDirectory(source.getParent());
            return null;
        } catch (IOException | UncheckedIOException back) {
            cause.addSuppressed(back);
            return failed(source.getParent(), "cannot rename the log of " + tp + " back " + when, back);
        }
    }

    private StorageException failed(Path logDir, String what, Exception e) {
        reportFailure(logDir, what, e);
        return new StorageException("the log directory " + logDir + " failed: " + what, e);
    }

    /** Deletes a directory tree (the original of a moved log, a cancelled copy) and fsyncs its parent. */
    public static void deleteDirectory(Path root) {
        if (Files.exists(root)) {
            deleteTree(root);
        }
    }

    /** Closes and deletes the partition's log; returns whether there was one. */
    public boolean deleteLog(TopicPartition tp) {
        Log log = logs.remove(tp);
        if (log == null) {
            return false;
        }
        log.delete();
        FileUtils.fsyncDirectory(log.dir().getParent());
        return true;
    }

    /** Retention on every log; returns segments deleted. */
    public int doRetention(long nowMs) {
        moveLock.readLock().lock();
        try {
            return (int) eachLog(log -> log.deleteOldSegments(nowMs));
        } finally {
            moveLock.readLock().unlock();
        }
    }

    /** flush.ms on every log; returns logs flushed. */
    public int doFlush(long nowMs) {
        moveLock.readLock().lock();
        try {
            return (int) eachLog(log -> log.maybeFlushByTime(nowMs) ? 1 : 0);
        } finally {
            moveLock.readLock().unlock();
        }
    }

    /**
     * {@code producer.id.expiration.ms} on every log: forgets producers idle for at least
     * {@code producerIdExpirationMs} that have no open transaction; returns how many were removed.
     */
    public int doProducerIdExpiration(long nowMs, long producerIdExpirationMs) {
        moveLock.readLock().lock();
        try {
            return (int) eachLog(log -> log.removeExpiredProducers(nowMs, producerIdExpirationMs));
        } finally {
            moveLock.readLock().unlock();
        }
    }

    /**
     * Writes the recovery point and log start offset checkpoints, in each directory those of its own
     * logs; returns entries written.
     */
    public int doCheckpoint() {
        moveLock.readLock().lock();
        try {
            Map<Path, Map<TopicPartition, Long>> points = new HashMap<>();
            Map<Path, Map<TopicPartition, Long>> starts = new HashMap<>();
            for (Log log : logs.values()) {
                Path parent = log.dir().getParent();
                points.computeIfAbsent(parent, k -> new LinkedHashMap<>()).put(log.topicPartition(), log.recoveryPoint());
                starts.computeIfAbsent(parent, k -> new LinkedHashMap<>()).put(log.topicPartition(), log.logStartOffset());
            }
            int n = 0;
            for (LogDir d : dirs) {
                if (failureChannel.isOffline(d.path)) {
                    continue;
                }
                Map<TopicPartition, Long> p = points.getOrDefault(d.path, Map.of());
                try {
                    d.recoveryPoints.write(p);
                    d.logStartOffsets.write(starts.getOrDefault(d.path, Map.of()));
                } catch (UncheckedIOException e) {
                    reportFailure(d.path, "cannot write the checkpoints of " + d.path, e);
                    continue;
                }
                n += p.size();
            }
            return n;
        } finally {
            moveLock.readLock().unlock();
        }
    }

    /** Compacts each log with cleanup.policy=compact once (its dirty, inactive part); returns bytes of segments rewritten. */
    public long doCleaning(long nowMs) {
        moveLock.readLock().lock();
        try {
            return eachLog(log -> log.config().compact ? cleaner.clean(log, nowMs) : 0);
        } finally {
            moveLock.readLock().unlock();
        }
    }

    /**
     * Closes every log (flush + producer snapshot), writes checkpoints, then the clean shutdown marker in
     * each directory, and releases the directory locks; the logs and the directory of a failed (offline) directory get
     * neither a flush nor a marker. If a log cannot be closed the others still are, no marker is
     * written (the next start recovers), and the lock is released before the failure is rethrown.
     */
    @Override
    public void close() {
        RuntimeException failure = null;
        try {
            for (Log log : logs.values()) {
                if (failureChannel.isOffline(log.dir().getParent())) {
                    log.closeHandlers(); // a failed directory not taken offline yet: nothing more is written there
                    continue;
                }
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
                for (LogDir d : dirs) {
                    if (failureChannel.isOffline(d.path)) {
                        continue; // never marked clean: the next start recovers what it holds
                    }
                    try {
                        Files.write(d.path.resolve(CLEAN_SHUTDOWN_FILE), new byte[0]);
                        FileUtils.fsyncDirectory(d.path);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot write " + CLEAN_SHUTDOWN_FILE + " in " + d.path, e);
                    }
                }
            }
        } finally {
            releaseLocks();
            logs.clear();
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Stops as kill -9 would, for tests and tools that simulate a crash in one process: releases the
     * directory locks and nothing else. No flush, checkpoint or clean-shutdown marker; the logs' files
     * stay open until the garbage collector closes them, so the next {@link #open} recovers.
     */
    public void halt() {
        releaseLocks();
        logs.clear();
    }
}
