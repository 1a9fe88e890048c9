package io.weir.broker.server;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.errors.OffsetOutOfRangeException;
import io.weir.common.errors.StorageException;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.common.utils.FileUtils;
import io.weir.log.FetchDataInfo;
import io.weir.log.Log;
import io.weir.log.LogManager;
import io.weir.log.LogOffsetMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Moves replicas between this broker's log directories while they keep serving (AlterReplicaLogDirs),
 * as Kafka's future replica and {@code ReplicaAlterLogDirsThread} do. A move creates a <em>future log</em>,
 * {@code <target>/<topic>-<partition>.<id>-future}, and answers at once; a background thread then copies
 * the current log's batches into it with their offsets, leader epochs and producer state (the follower
 * append path, {@link Log#appendAsFollower}), a bounded chunk per step, while the current log takes
 * produce and fetch as before. Once the copy has reached the log end it last saw, the swap runs with the
 * log manager's duty passes paused and the partition's role write lock held (appends and truncations wait,
 * fetches go on): the remaining tail is copied, the log start and leader epochs opened at the log end are
 * carried over, the future log is flushed and renamed in place of the current one
 * ({@link LogManager#replaceCurrentWithFuture}) and the partition serves from it. The old log's files stay
 * (renamed {@code -delete}) for {@code file.delete.delay.ms} so that fetches holding them finish.
 *
 * <p>While a move runs, a truncation of the current log ({@link #truncated}, {@link #truncatedFully}) is
 * applied to the future log too; each copy step holds the move's monitor across its read of the current
 * log and its append to the future one, and a truncation of the future log takes the same monitor after
 * the current log was truncated, so data cut from the current log never survives in the copy. A move is
 * cancelled ({@link #cancel}) when the replica is deleted or moved back; its future log is deleted. A move
 * of a partition this broker does not host (yet) waits.
 *
 * <p>Failed directories (Kafka's JBOD handling of a future replica): an I/O error writing the copy (truncating it
 * with the log, closing, renaming or opening it in the swap, deleting it on cancel) is reported to the log manager's failure channel as a failure of the target directory,
 * and the move is abandoned while the replica keeps serving from its own directory (a swap that renamed the log
 * away renames it back first); an I/O error reading the log is a failure of the source directory, whose handler
 * takes the replica offline. A move into an offline directory is refused, and the failure handler ends every move
 * into or out of a failed one ({@link #logDirFailed}); nothing is written or deleted in a failed directory.
 *
 * <p>Crashes: until the current log is renamed, the future log is a prefix of it that {@link LogManager#open}
 * keeps and the broker resumes ({@link #resume}, recovering the copy's tail first); after, the copy is the
 * log. A future log whose current log is gone (deleted while it moved) is deleted: at start by the log manager,
 * while running by {@link #doWork}.
 *
 * <p>One thread serves every move (Kafka's {@code num.replica.alter.log.dirs.threads}; a step is bounded, so
 * one is enough here): it runs {@link #doWork}, a duty pass, and idles when a pass did nothing. The copying
 * is throttled to {@code replica.alter.log.dirs.io.max.bytes.per.second} ({@link #setThrottle}).
 *
 * <p>Thread-safe. Lock order: log manager duties, partition role lock, a move's monitor; the monitor of
 * this class (starting and cancelling moves) is never held while taking the others except a move's monitor.
 */
public final class LogDirMover implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogDirMover.class);

    /** The bytes one copy step reads from a current log: bounds how long a step holds the move's monitor. */
    static final int COPY_CHUNK_BYTES = 1024 * 1024;
    /** The bytes one {@link #doWork} call copies at most, over every move. */
    static final int MAX_BYTES_PER_PASS = 8 * COPY_CHUNK_BYTES;
    private static final long IDLE_WAIT_MS = 100;

    private enum State { COPYING, DONE, CANCELLED }

    /** One move under way. {@link #state} and every change of {@link #future} are guarded by the monitor. */
    private static final class Move {
        final TopicPartition tp;
        final Log future;
        /** The directory of the log being copied (a move ends with its swap, so it does not change). */
        final Path sourceDir;
        State state = State.COPYING;

        Move(TopicPartition tp, Log future, Path sourceDir) {
            this.tp = tp;
            this.future = future;
            this.sourceDir = sourceDir;
        }

        Path targetDir() {
            return future.dir().getParent();
        }
    }

    /** A replaced log kept for reads in flight until {@code releaseAtMs}. */
    private record RetiredLog(Log log, Path dir, long releaseAtMs) {
    }

    /**
     * Where a hosted replica is, read at one instant ({@link #placement}): its log's directory (null if it has
     * no log), size and end, and the copy of a move under way (directory null when there is none).
     */
    public record Placement(Path dir, long size, long logEndOffset, Path futureDir, long futureSize,
                            long futureLogEndOffset) {
    }

    private final LogManager logManager;
    private final Function<TopicPartition, Partition> hosted;
    private final Time time;
    private final Consumer<TopicPartition> onSwapped;
    private final Map<TopicPartition, Move> moves = new ConcurrentHashMap<>();
    /** Guarded by itself. */
    private final Deque<RetiredLog> retired = new ArrayDeque<>();
    private volatile boolean pausedForTest;
    /** Run inside a swap, after the log manager serves the copy and before the move ends (tests hold it there). */
    private volatile Runnable inSwapForTest = () -> { };
    /** {@code replica.alter.log.dirs.io.max.bytes.per.second}; Long.MAX_VALUE: unthrottled. */
    private volatile long bytesPerSecond = Long.MAX_VALUE;
    /** Bytes the throttle lets the next pass copy (negative: a batch larger than the allowance was copied); doWork's. */
    private long allowanceBytes = -1;
    private long lastPassMs = -1;
    /** Guards {@link #thread}, {@link #closed} and {@link #wakeRequested}. */
    private final Object signal = new Object();
    private Thread thread;
    private boolean closed;
    private boolean wakeRequested;

    /**
     * @param hosted the partition this broker hosts, or null
     * @param onSwapped told (on the mover's thread, no lock held) after a replica serves from its new directory
     */
    LogDirMover(LogManager logManager, Function<TopicPartition, Partition> hosted, Time time,
                Consumer<TopicPartition> onSwapped) {
        this.logManager = logManager;
        this.hosted = hosted;
        this.time = time;
        this.onSwapped = onSwapped;
    }

    /**
     * Starts moving the partition's log to {@code targetDir} (one of the log manager's directories), or
     * does nothing when it is moving there already; moving it to the directory it is in cancels a move
     * under way elsewhere. Returns false when there is no log of the partition.
     *
     * @throws IllegalArgumentException if {@code targetDir} is none of the log directories
     * @throws StorageException if {@code targetDir} is offline, or the future log cannot be created there (an I/O
     *     error, which fails the directory)
     */
    public synchronized boolean move(TopicPartition tp, Path targetDir) {
        Path dir = logManager.newFutureLogDir(tp, targetDir); // refuses a path that is no log directory
        if (logManager.isOffline(targetDir)) {
            throw new StorageException("cannot move " + tp + " to " + targetDir + ": the log directory is offline");
        }
        Move m = moves.get(tp);
        if (m != null && m.targetDir().equals(targetDir)) {
            return true;
        }
        if (m != null) {
            cancel(tp); // waits for a swap under way: the log is then where that left it
        }
        Log current = logManager.getLog(tp);
        if (current == null) {
            return false;
        }
        if (current.dir().getParent().equals(targetDir)) {
            return true;
        }
        Log future;
        try {
            future = Log.open(dir, tp, current.config(), 0L, 0L, true, time);
        } catch (UncheckedIOException e) {
            throw dirFailed(targetDir, "creating the copy of " + tp, e);
        }
        try {
            FileUtils.fsyncDirectory(targetDir);
        } catch (UncheckedIOException e) {
            future.closeHandlers();
            throw dirFailed(targetDir, "creating the copy of " + tp, e);
        }
        moves.put(tp, new Move(tp, future, current.dir().getParent()));
        LOG.info("Moving the log of {} from {} to {}: copying while it serves", tp, current.dir().getParent(), targetDir);
        wake();
        return true;
    }

    /**
     * Resumes a move found at start ({@link LogManager#futureLogDirsFound}): the copy is opened, its tail
     * after the last flush re-validated, and the copying goes on from its end. Without a current log of
     * the partition the copy is deleted.
     */
    public synchronized void resume(TopicPartition tp, Path futureDir) {
        Log current = logManager.getLog(tp);
        if (current == null || moves.containsKey(tp)) {
            LOG.info("Deleting {}: no move of {} to resume", futureDir, tp);
            LogManager.deleteDirectory(futureDir);
            return;
        }
        Log future = Log.open(futureDir, tp, current.config(), 0L, 0L, false, time);
        moves.put(tp, new Move(tp, future, current.dir().getParent()));
        LOG.info("Resuming the move of {} from {} to {} at offset {}", tp, current.dir().getParent(),
            futureDir.getParent(), future.logEndOffset());
        wake();
    }

    /**
     * Cancels the partition's move, if any, and deletes its future log; returns whether there was one. Never
     * throws (a topic deletion goes on after it): a copy in an offline directory is only let go of, and an I/O
     * error deleting the copy fails its directory (reported to the failure channel), the files left for the
     * next start, which deletes a copy without its log.
     */
    public synchronized boolean cancel(TopicPartition tp) {
        Move m = moves.remove(tp);
        if (m == null) {
            return false;
        }
        synchronized (m) {
            if (m.state != State.COPYING) {
                return false; // swapped in meanwhile: it is the log now
            }
            m.state = State.CANCELLED;
            if (logManager.isOffline(m.targetDir())) {
                m.future.closeHandlers(); // nothing is written or deleted in a failed directory
            } else {
                try {
                    m.future.delete();
                    FileUtils.fsyncDirectory(m.targetDir());
                } catch (UncheckedIOException e) {
                    m.future.closeHandlers();
                    logManager.reportFailure(m.targetDir(), "an I/O error deleting the copy of " + tp, e);
                } catch (RuntimeException e) {
                    m.future.closeHandlers();
                    LOG.warn("Cannot delete the copy of {} in {}", tp, m.targetDir(), e);
                }
            }
        }
        LOG.info("Cancelled the move of {} to {}", tp, m.targetDir());
        return true;
    }

    /**
     * A log directory failed (Kafka's {@code handleLogDirFailure} for future replicas): each move into it or out of
     * it is abandoned ({@link #abandon}). Returns how many.
     */
    public synchronized int logDirFailed(Path logDir) {
        int n = 0;
        for (Move m : List.copyOf(moves.values())) {
            if (m.targetDir().equals(logDir) || m.sourceDir.equals(logDir)) {
                n += abandon(m) ? 1 : 0;
            }
        }
        return n;
    }

    /**
     * Ends a move whose directory failed, without writing to a failed directory: a copy in a failed target is
     * only let go of ({@link Log#closeHandlers}); its files are left for the next start, as is a copy whose
     * source failed (closed: the next start resumes it beside the recovered log). Returns whether it ended the move.
     */
    private synchronized boolean abandon(Move m) {
        if (!moves.remove(m.tp, m)) {
            return false;
        }
        synchronized (m) {
            if (m.state != State.COPYING) {
                return false;
            }
            m.state = State.CANCELLED;
            if (logManager.isOffline(m.targetDir())) {
                m.future.closeHandlers();
            } else {
                try {
                    m.future.close();
                } catch (UncheckedIOException e) {
                    m.future.closeHandlers();
                    logManager.reportFailure(m.targetDir(), "an I/O error closing the copy of " + m.tp, e);
                }
            }
        }
        LOG.warn("Abandoned the move of {} from {} to {}: a log directory failed", m.tp, m.sourceDir, m.targetDir());
        return true;
    }

    /** Reports an I/O error of a move in {@code logDir} to the failure channel; returns what to throw. */
    private StorageException dirFailed(Path logDir, String what, UncheckedIOException e) {
        logManager.reportFailure(logDir, "an I/O error " + what, e);
        return new StorageException("the log directory " + logDir + " failed " + what, e);
    }

    /** Runs an operation on a move's copy: its I/O error fails the target directory. */
    private void onCopy(Move m, String what, Runnable op) {
        try {
            op.run();
        } catch (UncheckedIOException e) {
            throw dirFailed(m.targetDir(), what + " the copy of " + m.tp, e);
        }
    }

    /** The partition's future log while a move is under way, else null (DescribeLogDirs lists it). */
    public Log futureLog(TopicPartition tp) {
        Move m = moves.get(tp);
        return m == null ? null : m.future;
    }

    /**
     * The replica's directory, log and copy under way, read under the partition's role lock, which a swap holds
     * from its first rename until the partition serves from the copy and the move is over: never half-swapped
     * (the log manager already naming the new directory while the move still lists its copy there, which
     * DescribeLogDirs would answer as two replicas of the partition in one directory and none in the other).
     */
    public Placement placement(Partition p) {
        TopicPartition tp = p.topicPartition();
        return p.underRoleReadLock(() -> {
            Log log = p.log();
            Log future = futureLog(tp);
            return new Placement(logManager.logDirOf(tp), log.sizeInBytes(), log.logEndOffset(),
                future == null ? null : future.dir().getParent(), future == null ? 0 : future.sizeInBytes(),
                future == null ? 0 : future.logEndOffset());
        });
    }

    /** How many moves are under way. */
    public int movesInProgress() {
        return moves.size();
    }

    /**
     * The current log of a moving partition was truncated to {@code offset}: so is its copy. Called after
     * the truncation, under the partition's role read lock.
     */
    void truncated(TopicPartition tp, long offset) {
        truncateCopy(tp, "truncating", future -> {
            if (offset < future.logEndOffset()) {
                future.truncateTo(offset);
            }
        });
    }

    /** The current log of a moving partition restarted empty at {@code offset}: so does its copy. */
    void truncatedFully(TopicPartition tp, long offset) {
        truncateCopy(tp, "restarting", future -> future.truncateFullyAndStartAt(offset));
    }

    /**
     * Applies a truncation of the current log to the move's copy. Never throws: the caller's truncation of the
     * log succeeded, and a failure here is the copy's, not the log's. An I/O error fails the copy's directory
     * (reported to the failure channel) and abandons the move; any other error abandons it too.
     */
    private void truncateCopy(TopicPartition tp, String what, Consumer<Log> op) {
        Move m = moves.get(tp);
        if (m == null) {
            return;
        }
        RuntimeException failure = null;
        synchronized (m) {
            if (m.state != State.COPYING) {
                return;
            }
            try {
                op.accept(m.future);
            } catch (UncheckedIOException e) {
                logManager.reportFailure(m.targetDir(), "an I/O error " + what + " the copy of " + tp, e);
                failure = e;
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (failure != null) {
            // outside the move's monitor: the mover's monitor is taken before a move's
            LOG.warn("Cannot apply a truncation of {} to its copy in {}; the move is abandoned", tp, m.targetDir(), failure);
            abandon(m);
        }
    }

    /**
     * Caps the copying at about {@code bytesPerSecond} ({@code replica.alter.log.dirs.io.max.bytes.per.second},
     * over every move; the tail copied during a swap is not counted against it, since appends wait for it).
     */
    public void setThrottle(long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("replica.alter.log.dirs.io.max.bytes.per.second must be positive, not "
                + bytesPerSecond);
        }
        this.bytesPerSecond = bytesPerSecond;
    }

    /** The throttle in bytes per second (Long.MAX_VALUE: none). */
    long throttleBytesPerSecond() {
        return bytesPerSecond;
    }

    /** Test seam: a paused mover's thread runs no pass (moves stay observable); {@link #doWork} still works. */
    void setInSwapForTest(Runnable hook) {
        this.inSwapForTest = hook;
    }

    void setPausedForTest(boolean paused) {
        this.pausedForTest = paused;
        wake();
    }

    /**
     * One bounded pass: releases replaced logs whose delay is over, then copies up to
     * {@link #MAX_BYTES_PER_PASS} bytes over the moves of hosted partitions, and swaps in each copy that
     * reached its log end. Returns the work done (bytes copied, plus one per swap and per released log).
     */
    public long doWork(long nowMs) {
        long done = releaseRetired(nowMs);
        long allowed = allowance(nowMs);
        long copied = 0;
        for (Move m : List.copyOf(moves.values())) {
            if (copied >= allowed) {
                break;
            }
            Partition p = hosted.apply(m.tp);
            if (p == null) {
                if (logManager.getLog(m.tp) == null) {
                    LOG.info("Cancelling the move of {} to {}: its log is gone", m.tp, m.targetDir());
                    cancel(m.tp);
                }
                continue; // resumed before the partition is hosted, or stopped without deletion: waits
            }
            long step;
            try {
                step = copyStep(m, p.log(), (int) Math.min(COPY_CHUNK_BYTES, allowed - copied));
            } catch (CorruptRecordException e) {
                LOG.error("Cannot move {}: its log has a damaged stretch ({}); the move is cancelled", m.tp, e.getMessage());
                cancel(m.tp);
                continue;
            } catch (StorageException e) {
                abandon(m); // the failed directory is reported: its handler takes it offline
                continue;
            } catch (RuntimeException e) {
                LOG.error("Cannot copy {} to {}; the move is cancelled", m.tp, m.targetDir(), e);
                cancel(m.tp);
                continue;
            }
            copied += Math.max(0, step);
            if (step < 0) {
                done += swap(m, p, nowMs) ? 1 : 0;
            }
        }
        if (allowanceBytes != Long.MAX_VALUE) {
            allowanceBytes -= copied;
        }
        return done + copied;
    }

    /** The bytes this pass may copy: the throttle's allowance, refilled for the time since the last pass. */
    private long allowance(long nowMs) {
        long rate = bytesPerSecond;
        if (rate == Long.MAX_VALUE) {
            allowanceBytes = Long.MAX_VALUE;
            lastPassMs = nowMs;
            return MAX_BYTES_PER_PASS;
        }
        if (lastPassMs < 0 || allowanceBytes == Long.MAX_VALUE) {
            allowanceBytes = rate; // a first pass, or the throttle was just set: one second's worth
        } else if (nowMs > lastPassMs) {
            long elapsedMs = Math.min(1000, nowMs - lastPassMs); // the allowance never exceeds one second's worth
            long refill = rate > Long.MAX_VALUE / 1000 ? rate : rate * elapsedMs / 1000;
            allowanceBytes = Math.min(rate, allowanceBytes + refill);
        }
        lastPassMs = nowMs;
        return Math.max(0, Math.min(MAX_BYTES_PER_PASS, allowanceBytes));
    }

    /**
     * Copies the next chunk of the partition's current log into its future log, without swapping
     * (the mover's step; tests call it while the mover is paused to stop a copy half-way). Returns the
     * bytes appended, or -1 when the copy has reached the current log's end.
     */
    long copyStep(TopicPartition tp, int maxBytes) {
        Move m = moves.get(tp);
        Partition p = hosted.apply(tp);
        return m == null || p == null ? 0 : copyStep(m, p.log(), maxBytes);
    }

    private long copyStep(Move m, Log current, int maxBytes) {
        synchronized (m) {
            return m.state == State.COPYING ? copyLocked(m, current, maxBytes) : 0;
        }
    }

    /**
     * One chunk from {@code current} to the move's copy; the move's monitor is held. -1: caught up.
     *
     * @throws StorageException on an I/O error, reported as a failure of the copy's directory (writing the copy)
     *     or of the current log's (reading it)
     */
    private long copyLocked(Move m, Log current, int maxBytes) {
        Log future = m.future;
        long from = future.logEndOffset();
        LogOffsetMetadata end = current.logEndOffsetMetadata();
        if (from > end.messageOffset()) {
            // defensive: every truncation is passed on (truncated())
            onCopy(m, "truncating", () -> future.truncateTo(end.messageOffset()));
            return 0;
        }
        long start = current.logStartOffset();
        if (from < start) {
            // retention or DeleteRecords went past the copy
            onCopy(m, "truncating", () -> future.truncateFullyAndStartAt(start));
            from = start;
        }
        if (from == end.messageOffset()) {
            return -1;
        }
        FetchDataInfo info;
        try {
            info = current.read(from, maxBytes, end, true);
        } catch (OffsetOutOfRangeException e) {
            return 0; // the log start moved meanwhile: the next step starts there
        } catch (UncheckedIOException e) {
            throw dirFailed(m.sourceDir, "reading the log of " + m.tp + " to copy it", e);
        }
        int size = info.records().sizeInBytes();
        if (size == 0) {
            return 0;
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        try {
            while (buf.hasRemaining()) {
                if (info.records().readInto(buf, buf.position()) <= 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw dirFailed(m.sourceDir, "reading the log of " + m.tp + " to copy it",
                new UncheckedIOException("cannot read " + info.records(), e));
        }
        buf.flip();
        RecordBatch batch = new RecordBatch();
        int first = -1;
        int limit = 0;
        for (int at = 0; at + RecordBatch.LOG_OVERHEAD <= buf.limit(); ) {
            int batchSize = RecordBatch.LOG_OVERHEAD + buf.getInt(at + RecordBatch.LENGTH_OFFSET);
            if (at + batchSize > buf.limit()) {
                break; // a partial batch at the end of the region
            }
            batch.wrap(buf, at);
            if (batch.nextOffset() > from) {
                if (first < 0) {
                    if (batch.baseOffset() < from) {
                        // a batch straddles the copy's end (rewritten by the cleaner): copy it whole next time
                        long cut = batch.baseOffset();
                        onCopy(m, "truncating", () -> future.truncateTo(cut));
                        return 0;
                    }
                    first = at;
                }
                limit = at + batchSize;
            }
            at += batchSize;
        }
        if (first < 0) {
            return 0;
        }
        ByteBuffer batches = buf.duplicate().position(first).limit(limit).slice();
        onCopy(m, "appending to", () -> future.appendAsFollower(MemoryRecords.readableRecords(batches)));
        return limit - first;
    }

    /** Swaps a caught-up copy in for the current log; returns whether it did. */
    private boolean swap(Move m, Partition p, long nowMs) {
        RetiredLog old;
        try {
            synchronized (m) {
                if (m.state != State.COPYING) {
                    return false;
                }
                // fsync what is copied before appends are held: the swap then fsyncs only the tail
                onCopy(m, "flushing", m.future::flush);
            }
            old = logManager.withDutiesPaused(() -> p.underRoleWriteLock(() -> {
                synchronized (m) {
                    if (m.state != State.COPYING || hosted.apply(m.tp) != p || logManager.getLog(m.tp) != p.log()) {
                        return null;
                    }
                    Log current = p.log();
                    Log future = m.future;
                    // appends wait now: what arrived since the last step is all that is left
                    int idle = 0;
                    while (true) {
                        long before = future.logEndOffset();
                        long n = copyLocked(m, current, COPY_CHUNK_BYTES);
                        if (n < 0) {
                            break;
                        }
                        // a step that copies nothing realigns the copy (log start, a straddling batch) once
                        idle = n == 0 && future.logEndOffset() == before ? idle + 1 : 0;
                        if (idle > 2) {
                            throw new IllegalStateException(m.tp + ": the copy makes no progress at offset " + before
                                + " (log end " + current.logEndOffset() + ")");
                        }
                    }
                    if (current.logStartOffset() > future.logStartOffset()) {
                        onCopy(m, "moving the log start of", () -> future.deleteRecordsBefore(current.logStartOffset()));
                    }
                    for (Map.Entry<Integer, Long> e : current.leaderEpochEntries().entrySet()) {
                        if (e.getKey() > future.latestLeaderEpoch() && e.getValue() == future.logEndOffset()) {
                            // opened at the log end, nothing written yet
                            onCopy(m, "opening a leader epoch in", () -> future.assignLeaderEpoch(e.getKey()));
                        }
                    }
                    if (!current.leaderEpochEntries().equals(future.leaderEpochEntries())) {
                        LOG.warn("{}: the copy's leader epochs {} differ from the log's {}", m.tp,
                            future.leaderEpochEntries(), current.leaderEpochEntries());
                    }
                    if (future.logEndOffset() != current.logEndOffset()) {
                        throw new IllegalStateException(m.tp + ": the copy ends at " + future.logEndOffset()
                            + ", the log at " + current.logEndOffset());
                    }
                    LogManager.ReplacedLog replaced;
                    try {
                        replaced = logManager.replaceCurrentWithFuture(m.tp, future);
                    } catch (StorageException e) {
                        // a directory failed (reported); the copy is closed and the log where it was: no move now
                        m.state = State.CANCELLED;
                        moves.remove(m.tp, m);
                        throw e;
                    }
                    inSwapForTest.run();
                    m.state = State.DONE;
                    moves.remove(m.tp, m); // no longer a move once the log serves from its new directory
                    p.replaceLog(replaced.log());
                    return new RetiredLog(current, replaced.oldDir(), nowMs + current.config().fileDeleteDelayMs);
                }
            }));
        } catch (StorageException e) {
            // a directory failed and is reported: the failure handler takes it offline; a copy's is abandoned
            LOG.warn("Cannot swap the copy of {} in {} for its log: {}", m.tp, m.targetDir(), e.getMessage());
            abandon(m);
            return false;
        } catch (RuntimeException e) {
            LOG.error("Cannot swap the copy of {} in {} for its log", m.tp, m.targetDir(), e);
            return false;
        }
        if (old == null) {
            return false;
        }
        synchronized (retired) {
            retired.add(old);
        }
        onSwapped.accept(m.tp);
        return true;
    }

    /** Releases the files of replaced logs whose delay is over and deletes their directories. */
    private int releaseRetired(long nowMs) {
        List<RetiredLog> due = new ArrayList<>();
        synchronized (retired) {
            while (!retired.isEmpty() && retired.peek().releaseAtMs() <= nowMs) {
                due.add(retired.poll());
            }
        }
        for (RetiredLog r : due) {
            try {
                r.log().releaseRenamedAway();
                LogManager.deleteDirectory(r.dir());
            } catch (RuntimeException e) {
                LOG.warn("Cannot delete {}, the original of a moved log (the next start deletes it)", r.dir(), e);
            }
        }
        return due.size();
    }

    private void wake() {
        synchronized (signal) {
            if (closed) {
                return;
            }
            wakeRequested = true;
            if (thread == null) {
                thread = new Thread(this::run, "weir-log-dir-mover");
                thread.setDaemon(true);
                thread.start();
            }
            signal.notifyAll();
        }
    }

    private void run() {
        while (true) {
            synchronized (signal) {
                if (closed) {
                    return;
                }
                wakeRequested = false;
            }
            long done;
            try {
                done = pausedForTest ? 0 : doWork(time.milliseconds());
            } catch (RuntimeException e) {
                LOG.error("The log dir mover failed a pass", e);
                done = 0;
            }
            if (done == 0) {
                synchronized (signal) {
                    if (!closed && !wakeRequested) {
                        try {
                            signal.wait(IDLE_WAIT_MS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }
            }
        }
    }

    /**
     * Stops the thread (waiting for its pass), closes every future log (flushed: the next start resumes
     * the moves) and releases every replaced log.
     */
    @Override
    public void close() {
        Thread t;
        synchronized (signal) {
            closed = true;
            t = thread;
            signal.notifyAll();
        }
        if (t != null) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            for (Move m : List.copyOf(moves.values())) {
                synchronized (m) {
                    if (m.state == State.COPYING) {
                        m.state = State.CANCELLED;
                        try {
                            m.future.close();
                        } catch (RuntimeException e) {
                            LOG.warn("Cannot close the copy of {} cleanly (the next start recovers it)", m.tp, e);
                        }
                    }
                }
            }
            moves.clear();
        }
        releaseRetired(Long.MAX_VALUE);
    }
}
