package io.weir.log;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.errors.OffsetOutOfRangeException;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordTooLargeException;
import io.weir.common.record.TimestampType;
import io.weir.common.utils.Crc32c;
import io.weir.common.utils.FileUtils;
import io.weir.log.internals.FileBatchReader;
import io.weir.log.internals.LeaderEpochFileCache;
import io.weir.log.internals.LogSegment;
import io.weir.log.internals.ProducerStateManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * One partition's log: a directory of segments, the offsets (log start, log end, recovery point) and
 * the producer state. Appends assign offsets in place; fetches return file regions of segments.
 *
 * <p><b>Locking rule.</b> Everything that changes the log (append, roll, retention, truncation,
 * segment replacement by the cleaner, close) runs under {@link #lock}. Reads take no lock: they read
 * the volatile {@link #endOffsetMetadata} once (offset, active segment, byte position: one immutable
 * value) and then the concurrent segment map, and never look past that position; since segment bytes
 * below a published position never change, a read sees a consistent prefix. fsync never runs under
 * {@link #lock}: a rolled segment is flushed after the append releases it, and flushes serialize on
 * their own {@link #flushLock}. Segments removed by retention or truncation are renamed
 * {@code .deleted} and their files closed only after {@code file.delete.delay.ms}, so a fetch that
 * already holds a region of one still completes.
 *
 * <p>Lock order: {@link #lock} before {@link #flushLock} is never needed; code holding
 * {@link #flushLock} never takes {@link #lock}.
 */
public final class Log implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Log.class);

    /** ListOffsets' special timestamps. */
    public static final long LATEST_TIMESTAMP = -1L;
    public static final long EARLIEST_TIMESTAMP = -2L;
    public static final long MAX_TIMESTAMP = -3L;

    static final String DELETED_SUFFIX = ".deleted";
    static final String CLEANED_SUFFIX = ".cleaned";
    static final String SWAP_SUFFIX = ".swap";
    private static final int SNAPSHOTS_RETAINED = 3;

    private final Path dir;
    /** Where {@link #dir} was renamed away to (a moved replica's original), or null. */
    private volatile Path renamedAwayTo;
    private final TopicPartition topicPartition;
    private final Time time;
    private volatile LogConfig config;

    private final ReentrantLock lock = new ReentrantLock();
    /** A producer snapshot captured at a roll under {@link #lock}, written after it is released. */
    private final java.util.concurrent.atomic.AtomicReference<ProducerStateManager.Snapshot> pendingSnapshot =
        new java.util.concurrent.atomic.AtomicReference<>();
    private final ReentrantLock flushLock = new ReentrantLock();
    private final ConcurrentSkipListMap<Long, LogSegment> segments = new ConcurrentSkipListMap<>();
    private final ProducerStateManager producerState;
    /** Leader epoch → first offset it wrote; changed under {@link #lock}, its file written outside it. */
    private final LeaderEpochFileCache leaderEpochs;
    /** Segments removed from the log whose files are deleted later; guarded by itself. */
    private final Deque<PendingDelete> pendingDeletes = new ArrayDeque<>();
    private final RecordBatch scratch = new RecordBatch();
    private final RecordBatch previousScratch = new RecordBatch();

    private volatile LogOffsetMetadata endOffsetMetadata;
    private volatile long logStartOffset;
    private volatile long recoveryPoint;
    private volatile long lastFlushMs;
    /** Records appended since open; written under {@link #lock}. */
    private volatile long appendedRecords;
    /** {@link #appendedRecords} at the last flush; written under {@link #flushLock}. */
    private volatile long flushedRecordsMark;
    /** The cleaner's progress: offsets below this are compacted; in memory only (a restart recleans). */
    private volatile long firstDirtyOffset;

    private record PendingDelete(LogSegment segment, long deleteAtMs) {
    }

    /** What opening the log found and fixed. */
    public record RecoveryReport(boolean recovered, long bytesTruncated, int segmentsDeleted, int indexesRebuilt) {
    }

    private Log(Path dir, TopicPartition tp, LogConfig config, Time time) {
        this.dir = dir;
        this.topicPartition = tp;
        this.config = config;
        this.time = time;
        this.producerState = new ProducerStateManager(dir, SNAPSHOTS_RETAINED);
        this.leaderEpochs = LeaderEpochFileCache.load(dir);
    }

    /**
     * Opens (creating if needed) the log in {@code dir}. After an unclean shutdown
     * ({@code hadCleanShutdown == false}) every segment holding offsets at or above
     * {@code recoveryPoint} is re-validated, cut at the first bad batch, and its indexes rebuilt;
     * later segments after a cut are deleted. Missing or inconsistent indexes are rebuilt either way.
     * Producer state is loaded from the newest valid snapshot and the batches after it.
     */
    public static Log open(Path dir, LogConfig config, long recoveryPoint, long logStartOffset,
                           boolean hadCleanShutdown, Time time) {
        TopicPartition tp = TopicPartition.fromDirName(dir.getFileName().toString());
        if (tp == null) {
            throw new IllegalArgumentException("log directory " + dir + " is not named <topic>-<partition>");
        }
        return open(dir, tp, config, recoveryPoint, logStartOffset, hadCleanShutdown, time);
    }

    /**
     * As {@link #open(Path, LogConfig, long, long, boolean, Time)} for a directory whose name does not
     * say the partition: the copy of a replica being moved to another log directory
     * ({@code <topic>-<partition>.<id>-future}).
     */
    public static Log open(Path dir, TopicPartition tp, LogConfig config, long recoveryPoint, long logStartOffset,
                           boolean hadCleanShutdown, Time time) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        Log log = new Log(dir, tp, config, time);
        try {
            log.load(recoveryPoint, logStartOffset, hadCleanShutdown);
            log.loadQuarantine();
        } catch (RuntimeException | Error e) {
            // no one else holds this log: release what loading opened before it failed
            log.closeSegmentsAfterFailedOpen(e);
            throw e;
        }
        return log;
    }

    /**
     * Closes every segment that a failed {@link #open} had opened, adding what closing throws to
     * {@code cause} as suppressed. A segment whose orderly close fails still has its handles released.
     */
    private void closeSegmentsAfterFailedOpen(Throwable cause) {
        for (LogSegment s : segments.values()) {
            try {
                s.close();
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
                try {
                    s.releaseHandles();
                } catch (RuntimeException again) {
                    cause.addSuppressed(again);
                }
            }
        }
        segments.clear();
    }

    // ------------------------------------------------------------------------------------ loading

    private RecoveryReport loadReport;

    private void load(long checkpointedRecoveryPoint, long checkpointedLogStart, boolean cleanShutdown) {
        long nowMs = time.milliseconds();
        List<Long> swapped = completeSwapsAndCleanTempFiles();
        List<Long> bases = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString())
                .filter(n -> n.endsWith(LogSegment.LOG_SUFFIX) && n.length() == 20 + LogSegment.LOG_SUFFIX.length())
                .forEach(n -> bases.add(LogSegment.offsetFromFileName(n)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        bases.sort(null);
        // after an unclean stop, segments from the one holding the recovery point on are recovered below
        // (their preallocated indexes are typically zero-filled), so they skip the index check here
        long recoverFromBase = Long.MAX_VALUE;
        if (!cleanShutdown) {
            recoverFromBase = bases.isEmpty() ? 0 : bases.get(0);
            for (long b : bases) {
                if (b <= checkpointedRecoveryPoint) {
                    recoverFromBase = b;
                }
            }
        }
        int rebuilt = 0;
        long truncated = 0;
        for (int i = 0; i < bases.size(); i++) {
            long base = bases.get(i);
            boolean last = i == bases.size() - 1;
            boolean indexMissing = !Files.exists(LogSegment.file(dir, base, LogSegment.INDEX_SUFFIX))
                || !Files.exists(LogSegment.file(dir, base, LogSegment.TIME_INDEX_SUFFIX));
            LogSegment s = LogSegment.open(dir, base, config.segmentIndexBytes, config.indexIntervalBytes, "", last, nowMs);
            // in the map at once, so a failed open closes it with the others
            segments.put(base, s);
            boolean rebuild = indexMissing || swapped.contains(base);
            if (base >= recoverFromBase) {
                continue;
            }
            if (!rebuild) {
                try {
                    s.sanityCheckIndexes();
                } catch (CorruptIndexException e) {
                    LOG.warn("{}: rebuilding indexes of segment {}: {}", topicPartition, base, e.getMessage());
                    rebuild = true;
                }
            }
            if (rebuild) {
                long cut = s.recover(b -> { });
                if (cut > 0) {
                    LOG.warn("{}: rebuilding indexes of segment {} also cut {} bytes", topicPartition, base, cut);
                    truncated += cut;
                }
                if (!last) {
                    s.onBecomeInactiveSegment();
                }
                rebuilt++;
            }
        }

        int deleted = 0;
        boolean recovered = false;
        if (!cleanShutdown && !segments.isEmpty()) {
            recovered = true;
            // producer state as of the first recovered segment: recovery replays the batches after it
            // and rebuilds each segment's transaction index from the abort markers it meets
            Long firstRecovered = segments.ceilingKey(recoverFromBase);
            if (firstRecovered != null) {
                loadProducerStateFrom(Math.max(checkpointedLogStart, segments.firstKey()), firstRecovered);
            }
            Iterator<LogSegment> it = segments.tailMap(recoverFromBase, true).values().iterator();
            while (it.hasNext()) {
                LogSegment s = it.next();
                long cut = s.recover(producerState);
                truncated += cut;
                if (s != segments.lastEntry().getValue()) {
                    s.onBecomeInactiveSegment();
                }
                if (cut > 0) {
                    // the log must be contiguous: whatever follows a damaged segment is unreachable
                    while (it.hasNext()) {
                        LogSegment later = it.next();
                        LOG.warn("{}: deleting segment {} after the damaged segment {}", topicPartition,
                            later.baseOffset(), s.baseOffset());
                        it.remove();
                        later.deleteIfExists();
                        deleted++;
                    }
                    s.onBecomeActiveSegment();
                }
            }
        }
        if (segments.isEmpty()) {
            long base = Math.max(0, checkpointedLogStart);
            segments.put(base, LogSegment.open(dir, base, config.segmentIndexBytes, config.indexIntervalBytes, "", true, nowMs));
        }
        LogSegment active = segments.lastEntry().getValue();
        long next = active.readNextOffset();
        endOffsetMetadata = new LogOffsetMetadata(next, active.baseOffset(), active.sizeInBytes());
        logStartOffset = Math.min(Math.max(checkpointedLogStart, segments.firstKey()), next);
        if (recovered) {
            // recovered bytes came from the page cache: make them durable before trusting them
            Long flushFrom = segments.floorKey(Math.min(checkpointedRecoveryPoint, next));
            for (LogSegment s : segments.tailMap(flushFrom == null ? segments.firstKey() : flushFrom, true).values()) {
                s.flush();
            }
            recoveryPoint = next;
        } else {
            recoveryPoint = Math.min(checkpointedRecoveryPoint, next);
        }
        lastFlushMs = nowMs;
        firstDirtyOffset = logStartOffset;
        // the checkpoint may name epochs whose data recovery cut off, or that retention removed
        leaderEpochs.truncateFromEnd(next);
        leaderEpochs.truncateFromStart(logStartOffset);
        leaderEpochs.flush();
        loadProducerState(next);
        loadReport = new RecoveryReport(recovered, truncated, deleted, rebuilt);
        if (truncated > 0 || deleted > 0) {
            LOG.warn("{}: recovery cut {} bytes and deleted {} segments; log end offset is {}", topicPartition,
                truncated, deleted, next);
        }
    }

    /**
     * Finishes a cleaner swap interrupted by a crash and removes temp files. A {@code X.log.swap} is a
     * committed cleaning: the segments it covers are replaced by it. {@code .cleaned} files are an
     * uncommitted cleaning and {@code .deleted} files are segments already removed: both go.
     * Returns the base offsets of swapped-in segments (their indexes are rebuilt).
     */
    private List<Long> completeSwapsAndCleanTempFiles() {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        List<Long> swapped = new ArrayList<>();
        try {
            for (Path p : files) {
                String n = p.getFileName().toString();
                if (n.endsWith(CLEANED_SUFFIX) || n.endsWith(DELETED_SUFFIX) || n.endsWith(".tmp")) {
                    Files.deleteIfExists(p);
                }
            }
            for (Path p : files) {
                String n = p.getFileName().toString();
                if (!n.endsWith(LogSegment.LOG_SUFFIX + SWAP_SUFFIX)) {
                    continue;
                }
                long base = LogSegment.offsetFromFileName(n);
                long lastOffset = lastOffsetOf(p, base);
                List<Long> covered = new ArrayList<>();
                for (Path q : files) {
                    String m = q.getFileName().toString();
                    if (m.endsWith(LogSegment.LOG_SUFFIX) && m.length() == 20 + LogSegment.LOG_SUFFIX.length()) {
                        long b = LogSegment.offsetFromFileName(m);
                        if (b >= base && b <= lastOffset) {
                            covered.add(b);
                        }
                    }
                }
                for (long b : covered) {
                    for (String suffix : List.of(LogSegment.LOG_SUFFIX, LogSegment.INDEX_SUFFIX,
                        LogSegment.TIME_INDEX_SUFFIX, LogSegment.TXN_INDEX_SUFFIX)) {
                        Files.deleteIfExists(LogSegment.file(dir, b, suffix));
                    }
                }
                Path txnSwap = LogSegment.file(dir, base, LogSegment.TXN_INDEX_SUFFIX + SWAP_SUFFIX);
                if (Files.exists(txnSwap)) {
                    Files.move(txnSwap, LogSegment.file(dir, base, LogSegment.TXN_INDEX_SUFFIX), StandardCopyOption.ATOMIC_MOVE);
                }
                Files.move(p, LogSegment.file(dir, base, LogSegment.LOG_SUFFIX), StandardCopyOption.ATOMIC_MOVE);
                LOG.info("{}: completed an interrupted cleaner swap of segment {} (replaced {})", topicPartition, base, covered);
                swapped.add(base);
            }
            // index swaps are rebuilt from the data rather than trusted
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    if (p.getFileName().toString().endsWith(SWAP_SUFFIX)) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean up " + dir, e);
        }
        FileUtils.fsyncDirectory(dir);
        return swapped;
    }

    private static long lastOffsetOf(Path logFile, long base) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(logFile)) {
            FileBatchReader reader = new FileBatchReader(ch, 0, (int) Math.min(ch.size(), Integer.MAX_VALUE));
            long last = base - 1;
            try {
                RecordBatch b;
                while ((b = reader.next()) != null) {
                    last = b.lastOffset();
                }
            } catch (CorruptRecordException e) {
                // the torn tail is cut when the segment is recovered
            }
            return last;
        }
    }

    /** Loads the newest usable snapshot and replays the batches after it up to {@code endOffset}. Under lock or at load. */
    private void loadProducerState(long endOffset) {
        producerState.deleteSnapshotsAbove(endOffset);
        loadProducerStateFrom(logStartOffset, endOffset);
    }

    /**
     * The state as of {@code endOffset}: the newest snapshot at or below it, then the batches from there
     * (or from {@code logStart} without one). Reads no segment at or above {@code endOffset}, so it is
     * safe on segments recovery has yet to check.
     */
    private void loadProducerStateFrom(long logStart, long endOffset) {
        OptionalLong snap = producerState.loadLatestSnapshot(endOffset);
        long from = Math.max(snap.orElse(logStart), logStart);
        replayProducerState(from, endOffset);
        producerState.updateMapEndOffset(endOffset);
    }

    private void replayProducerState(long from, long endOffset) {
        Long start = segments.floorKey(from);
        for (LogSegment s : (start == null ? segments : segments.tailMap(start, true)).values()) {
            if (s.baseOffset() >= endOffset) {
                break;
            }
            LogSegment.BatchPosition pos = s.translateOffset(from, 0, s.sizeInBytes());
            if (pos == null) {
                continue;
            }
            FileBatchReader reader = s.batchesFrom(pos.position());
            RecordBatch b;
            while ((b = reader.next()) != null && b.baseOffset() < endOffset) {
                producerState.update(b);
            }
        }
    }

    // ------------------------------------------------------------------------------------ accessors

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public Path dir() {
        return dir;
    }

    public LogConfig config() {
        return config;
    }

    /** Changes the config (topic config update); applies to the next appends, rolls and retention runs. */
    public void updateConfig(LogConfig newConfig) {
        this.config = newConfig;
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    public long logEndOffset() {
        return endOffsetMetadata.messageOffset();
    }

    public LogOffsetMetadata logEndOffsetMetadata() {
        return endOffsetMetadata;
    }

    /** Offsets below this are fsynced. */
    public long recoveryPoint() {
        return recoveryPoint;
    }

    public RecoveryReport recoveryReport() {
        return loadReport;
    }

    public long firstDirtyOffset() {
        return firstDirtyOffset;
    }

    /** Records the cleaner's progress (called by {@link io.weir.log.internals.LogCleaner}). */
    public void markCleanedUpTo(long offset) {
        firstDirtyOffset = Math.max(firstDirtyOffset, offset);
    }

    /** The first offset of the oldest open transaction, if any (the last stable offset's bound). */
    public OptionalLong firstUnstableOffset() {
        lock.lock();
        try {
            return producerState.firstUnstableOffset();
        } finally {
            lock.unlock();
        }
    }

    /** A snapshot of the segment list, oldest first; the last is the active segment. */
    public List<LogSegment> segments() {
        return new ArrayList<>(segments.values());
    }

    public int numberOfSegments() {
        return segments.size();
    }

    public LogSegment activeSegment() {
        return segments.lastEntry().getValue();
    }

    /** Total bytes of all segments. */
    public long sizeInBytes() {
        long total = 0;
        for (LogSegment s : segments.values()) {
            total += s.sizeInBytes();
        }
        return total;
    }

    // ------------------------------------------------------------------------------------ leader epochs

    /**
     * Records that this replica leads at {@code leaderEpoch} from the current log end on (called when it
     * becomes leader, before it appends anything in that epoch); an epoch not newer than the latest known
     * is ignored. The checkpoint is written before this returns.
     */
    public void assignLeaderEpoch(int leaderEpoch) {
        lock.lock();
        try {
            leaderEpochs.assign(leaderEpoch, endOffsetMetadata.messageOffset());
        } finally {
            lock.unlock();
        }
        leaderEpochs.flush();
    }

    /** The latest leader epoch that wrote (or leads) this log, or -1 if none is known. */
    public int latestLeaderEpoch() {
        return leaderEpochs.latestEpoch();
    }

    /**
     * Where {@code leaderEpoch} ended in this log (OffsetForLeaderEpoch): the latest epoch ends at the
     * log end, an older one where the next began; {@link EpochEndOffset} of -1s when unknown.
     */
    public EpochEndOffset endOffsetForEpoch(int leaderEpoch) {
        // the log end is read first: a concurrent append can only make the answer for the latest epoch larger
        long end = logEndOffset();
        return leaderEpochs.endOffsetFor(leaderEpoch, end);
    }

    /** The leader-epoch history (epoch → start offset), for tests and tools. */
    public java.util.SortedMap<Integer, Long> leaderEpochEntries() {
        return leaderEpochs.entries();
    }

    // ------------------------------------------------------------------------------------ appends

    /**
     * Checks a batch against the producer state, as {@link #appendAsLeader} will. The broker may call
     * this first to answer early; {@link #appendAsLeader} repeats the check under the lock, which is
     * what counts.
     */
    public ProducerAppendCheck checkProducerBatch(RecordBatch batch) {
        lock.lock();
        try {
            return producerState.check(batch);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Appends batches as the leader for a coordinator of this broker ({@link AppendOrigin#COORDINATOR}):
     * validates every batch ({@link BatchValidator}: structure, CRC, every record,
     * max.message.bytes, keys for compacted topics) before taking the lock, then checks idempotence,
     * assigns offsets and the leader epoch in place (both outside the CRC) and writes the bytes. The
     * first invalid batch rejects the whole request with nothing appended: a
     * {@link CorruptRecordException}, {@link RecordTooLargeException} or {@link InvalidRecordException};
     * an idempotence verdict other than OK comes back in {@link LogAppendInfo#producerCheck()}.
     * Under LogAppendTime the batch's timestamp type and max timestamp are set and its CRC recomputed.
     *
     * <p>{@code records} is modified in place; the caller must not share it with another thread.
     */
    public LogAppendInfo appendAsLeader(MemoryRecords records, int leaderEpoch) {
        return appendAsLeader(records, leaderEpoch, AppendOrigin.COORDINATOR);
    }

    /**
     * {@link #appendAsLeader(MemoryRecords, int)} for batches from {@code origin}: a
     * {@link AppendOrigin#CLIENT}'s batches are held to a producer's rules (no control batches,
     * consistent producer fields); see {@link BatchValidator}.
     */
    public LogAppendInfo appendAsLeader(MemoryRecords records, int leaderEpoch, AppendOrigin origin) {
        LogConfig cfg = config;
        validate(records, cfg, origin);
        long nowMs = time.milliseconds();
        ByteBuffer buf = records.buffer();
        if (!buf.hasRemaining()) {
            return LogAppendInfo.empty(logEndOffset());
        }
        boolean logAppendTime = cfg.messageTimestampType == TimestampType.LOG_APPEND_TIME;
        LogAppendInfo info;
        long rolledTo;
        lock.lock();
        try {
            for (int at = buf.position(); at < buf.limit(); at += scratch.sizeInBytes()) {
                scratch.wrap(buf, at);
                if (!scratch.hasProducerId()) {
                    continue;
                }
                // a request rarely holds two batches of one producer; the second must follow the first
                RecordBatch previous = findLastSameProducer(buf, at, scratch.producerId());
                ProducerAppendCheck check = producerState.check(scratch, previous);
                if (!check.isOk()) {
                    return LogAppendInfo.notAppended(check);
                }
            }
            long offset = endOffsetMetadata.messageOffset();
            for (int at = buf.position(); at < buf.limit(); at += scratch.sizeInBytes()) {
                scratch.wrap(buf, at);
                scratch.setBaseOffset(offset);
                scratch.setPartitionLeaderEpoch(leaderEpoch);
                if (logAppendTime) {
                    setLogAppendTime(buf, at, nowMs);
                }
                offset = scratch.nextOffset();
            }
            long before = segments.lastKey();
            info = appendLocked(buf, nowMs, logAppendTime ? nowMs : -1, cfg);
            rolledTo = segments.lastKey() != before ? segments.lastKey() : -1;
        } finally {
            lock.unlock();
        }
        afterAppend(rolledTo, cfg, nowMs);
        return info;
    }

    private RecordBatch findLastSameProducer(ByteBuffer buf, int end, long producerId) {
        int found = -1;
        for (int p = buf.position(); p < end; p += previousScratch.sizeInBytes()) {
            previousScratch.wrap(buf, p);
            if (previousScratch.producerId() == producerId) {
                found = p;
            }
        }
        return found < 0 ? null : previousScratch.wrap(buf, found);
    }

    private static void setLogAppendTime(ByteBuffer buf, int start, long nowMs) {
        short attributes = buf.getShort(start + RecordBatch.ATTRIBUTES_OFFSET);
        buf.putShort(start + RecordBatch.ATTRIBUTES_OFFSET, (short) (attributes | RecordBatch.TIMESTAMP_TYPE_MASK));
        buf.putLong(start + RecordBatch.MAX_TIMESTAMP_OFFSET, nowMs);
        int size = RecordBatch.LOG_OVERHEAD + buf.getInt(start + RecordBatch.LENGTH_OFFSET);
        long crc = Crc32c.compute(buf, start + RecordBatch.ATTRIBUTES_OFFSET, size - RecordBatch.ATTRIBUTES_OFFSET);
        buf.putInt(start + RecordBatch.CRC_OFFSET, (int) crc);
    }

    /**
     * Appends a follower's fetched batches with their offsets as the leader assigned them. Every batch
     * is validated ({@link BatchValidator} as {@link AppendOrigin#REPLICATION}: compacted batches
     * pass); the first must start at or after the log end and each must start after the previous one
     * ends, else {@link InvalidRecordException} and nothing is appended.
     */
    public LogAppendInfo appendAsFollower(MemoryRecords records) {
        LogConfig cfg = config;
        validate(records, cfg, AppendOrigin.REPLICATION);
        long nowMs = time.milliseconds();
        ByteBuffer buf = records.buffer();
        if (!buf.hasRemaining()) {
            return LogAppendInfo.empty(logEndOffset());
        }
        LogAppendInfo info;
        long rolledTo;
        lock.lock();
        try {
            long expected = endOffsetMetadata.messageOffset();
            for (int at = buf.position(); at < buf.limit(); at += scratch.sizeInBytes()) {
                scratch.wrap(buf, at);
                if (scratch.baseOffset() < expected) {
                    throw new InvalidRecordException(topicPartition + ": follower batch at offset " + scratch.baseOffset()
                        + " does not start at or after " + expected);
                }
                expected = scratch.nextOffset();
            }
            long before = segments.lastKey();
            info = appendLocked(buf, nowMs, -1, cfg);
            rolledTo = segments.lastKey() != before ? segments.lastKey() : -1;
        } finally {
            lock.unlock();
        }
        afterAppend(rolledTo, cfg, nowMs);
        return info;
    }

    /** Every rule of {@link BatchValidator}, checked before the lock is taken. Throws on the first bad batch. */
    private void validate(MemoryRecords records, LogConfig cfg, AppendOrigin origin) {
        BatchValidator.validate(records, new BatchValidator.Rules(origin, cfg.compact, cfg.maxMessageBytes), topicPartition);
    }

    /** Rolls if needed, writes, updates producer state and the end offset. Caller holds {@link #lock}. */
    private LogAppendInfo appendLocked(ByteBuffer buf, long nowMs, long logAppendTimeMs, LogConfig cfg) {
        long firstOffset = -1;
        long lastOffset = -1;
        long maxTimestamp = RecordBatch.NO_TIMESTAMP;
        long offsetOfMax = -1;
        int count = 0;
        for (int at = buf.position(); at < buf.limit(); at += scratch.sizeInBytes()) {
            scratch.wrap(buf, at);
            if (firstOffset < 0) {
                firstOffset = scratch.baseOffset();
            }
            lastOffset = scratch.lastOffset();
            count += scratch.recordCount();
            if (scratch.maxTimestamp() > maxTimestamp) {
                maxTimestamp = scratch.maxTimestamp();
                offsetOfMax = scratch.lastOffset();
            }
        }
        LogSegment segment = maybeRoll(buf.remaining(), firstOffset, lastOffset, maxTimestamp, nowMs, cfg);
        segment.append(lastOffset, buf);
        for (int at = buf.position(); at < buf.limit(); at += scratch.sizeInBytes()) {
            scratch.wrap(buf, at);
            leaderEpochs.assign(scratch.partitionLeaderEpoch(), scratch.baseOffset());
            CompletedTxn done = producerState.update(scratch);
            if (done != null && done.isAborted()) {
                segment.txnIndex().append(new AbortedTxn(done.producerId(), done.firstOffset(), done.lastOffset(),
                    producerState.lastStableOffset(done)));
            }
        }
        endOffsetMetadata = new LogOffsetMetadata(lastOffset + 1, segment.baseOffset(), segment.sizeInBytes());
        appendedRecords += count;
        return new LogAppendInfo(firstOffset, lastOffset, maxTimestamp, offsetOfMax, logAppendTimeMs, count,
            buf.remaining(), ProducerAppendCheck.OK);
    }

    private LogSegment maybeRoll(int bytes, long firstOffset, long lastOffset, long maxTimestamp, long nowMs, LogConfig cfg) {
        LogSegment active = segments.lastEntry().getValue();
        if (!active.shouldRoll(bytes, lastOffset, maxTimestamp, nowMs, cfg.segmentBytes, cfg.segmentMs)) {
            return active;
        }
        return rollLocked(Math.max(firstOffset, endOffsetMetadata.messageOffset()), nowMs);
    }

    /** Starts a new active segment at {@code newBase}; the old one is flushed after the lock is released. */
    private LogSegment rollLocked(long newBase, long nowMs) {
        LogSegment old = segments.lastEntry().getValue();
        if (old.sizeInBytes() == 0 && old.baseOffset() == newBase) {
            return old;
        }
        old.onBecomeInactiveSegment();
        producerState.updateMapEndOffset(newBase);
        // serialized now, written (two fsyncs) by writePendingSnapshot() once the lock is released
        pendingSnapshot.set(producerState.captureSnapshot());
        LogConfig cfg = config;
        LogSegment fresh = LogSegment.open(dir, newBase, cfg.segmentIndexBytes, cfg.indexIntervalBytes, "", true, nowMs);
        segments.put(newBase, fresh);
        LOG.debug("{}: rolled to a new segment at offset {}", topicPartition, newBase);
        return fresh;
    }

    /** Forces a roll (tests, admin tools); returns the new active segment's base offset. */
    public long roll() {
        long nowMs = time.milliseconds();
        long base;
        lock.lock();
        try {
            base = rollLocked(logEndOffset(), nowMs).baseOffset();
            endOffsetMetadata = new LogOffsetMetadata(logEndOffset(), base, segments.get(base).sizeInBytes());
        } finally {
            lock.unlock();
        }
        writePendingSnapshot();
        flushUpTo(base);
        return base;
    }

    /** Writes the producer snapshot the last roll captured, if any. Never under {@link #lock}. */
    private void writePendingSnapshot() {
        ProducerStateManager.Snapshot snap = pendingSnapshot.getAndSet(null);
        if (snap != null) {
            producerState.writeSnapshot(snap);
        }
    }

    private void afterAppend(long rolledTo, LogConfig cfg, long nowMs) {
        writePendingSnapshot();
        leaderEpochs.flush();
        if (rolledTo >= 0) {
            // always fsync a rolled segment: the recovery point then moves past it
            flushUpTo(rolledTo);
        }
        if (appendedRecords - flushedRecordsMark >= cfg.flushMessages) {
            flush();
        }
    }

    // ------------------------------------------------------------------------------------ flush

    /** Fsyncs everything appended so far and moves the recovery point to the log end. Returns whether it did work. */
    public boolean flush() {
        return flushUpTo(logEndOffset());
    }

    /**
     * Fsyncs the segments holding offsets in [recoveryPoint, offset) and moves the recovery point to
     * {@code offset}. Never under {@link #lock}; appends continue meanwhile.
     */
    public boolean flushUpTo(long offset) {
        flushLock.lock();
        try {
            long appended = appendedRecords;
            long target = Math.min(offset, logEndOffset());
            if (target <= recoveryPoint) {
                return false;
            }
            Long from = segments.floorKey(recoveryPoint);
            ConcurrentNavigableMap<Long, LogSegment> range = from == null ? segments.headMap(target, false)
                : segments.subMap(from, true, target, false);
            for (LogSegment s : range.values()) {
                try {
                    s.flush();
                } catch (UncheckedIOException e) {
                    if (segments.get(s.baseOffset()) == s) {
                        throw e;
                    }
                    // removed by retention or truncation meanwhile: nothing to make durable
                }
            }
            recoveryPoint = target;
            if (target >= logEndOffset()) {
                flushedRecordsMark = appended;
            }
            lastFlushMs = time.milliseconds();
            return true;
        } finally {
            flushLock.unlock();
        }
    }

    /** The flush.ms duty: flushes if there are unflushed records and flush.ms has passed. */
    public boolean maybeFlushByTime(long nowMs) {
        LogConfig cfg = config;
        if (cfg.flushMs == Long.MAX_VALUE || nowMs - lastFlushMs < cfg.flushMs || logEndOffset() <= recoveryPoint) {
            return false;
        }
        return flush();
    }

    // ------------------------------------------------------------------------------------ reads

    /**
     * Reads from {@code startOffset}: up to {@code maxBytes} (at least one whole batch if
     * {@code minOneBatch}), stopping before {@code maxOffsetExclusive} (the high watermark or last
     * stable offset for consumers; {@code Long.MAX_VALUE} for followers). Lock-free. Reading exactly at
     * the log end gives an empty result; outside [logStart, logEnd] throws {@link OffsetOutOfRangeException}.
     * The first batch returned may start before {@code startOffset} (it holds it).
     */
    public FetchDataInfo read(long startOffset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        return read(startOffset, maxBytes, new LogOffsetMetadata(maxOffsetExclusive), minOneBatch);
    }

    /**
     * As {@link #read(long, int, long, boolean)}, bounded by {@code upperBound}: when it carries its
     * segment and byte position (the high watermark as the partition keeps it), the read stops there
     * after checking one batch header, instead of looking the offset up in the index and scanning
     * headers from there on every fetch.
     */
    public FetchDataInfo read(long startOffset, int maxBytes, LogOffsetMetadata upperBound, boolean minOneBatch) {
        long maxOffsetExclusive = upperBound.messageOffset();
        Quarantine ahead = null;
        if (!quarantined.isEmpty()) {
            for (Quarantine q : quarantined) {
                if (q.endOffset() <= logStartOffset) {
                    continue; // removed by retention since
                }
                if (startOffset >= q.firstOffset() && startOffset < q.endOffset()) {
                    throw new CorruptRecordException(topicPartition + ": offsets [" + q.firstOffset() + ", "
                        + q.endOffset() + ") are quarantined (damaged on disk: " + q.reason() + "); seek to "
                        + q.endOffset() + " to continue past them");
                }
                if (q.firstOffset() > startOffset && (ahead == null || q.firstOffset() < ahead.firstOffset())) {
                    ahead = q;
                }
            }
        }
        LogOffsetMetadata end = endOffsetMetadata;
        long start = logStartOffset;
        if (startOffset == end.messageOffset()) {
            return FetchDataInfo.empty(end);
        }
        if (startOffset > end.messageOffset() || startOffset < start) {
            throw new OffsetOutOfRangeException(topicPartition + ": offset " + startOffset + " is outside ["
                + start + ", " + end.messageOffset() + "]");
        }
        long maxOffset = Math.min(maxOffsetExclusive, end.messageOffset());
        if (startOffset >= maxOffset) {
            return FetchDataInfo.empty(new LogOffsetMetadata(startOffset));
        }
        Map.Entry<Long, LogSegment> e = segments.floorEntry(startOffset);
        while (e != null && e.getKey() <= end.segmentBaseOffset()) {
            LogSegment s = e.getValue();
            int maxPosition = s.baseOffset() == end.segmentBaseOffset() ? end.relativePositionInSegment() : s.sizeInBytes();
            Map.Entry<Long, LogSegment> next = segments.higherEntry(e.getKey());
            if (maxOffset < end.messageOffset() && (next == null || next.getKey() > maxOffset)) {
                int known = upperBound.relativePositionInSegment();
                if (upperBound.messageOffset() == maxOffset && upperBound.segmentBaseOffset() == s.baseOffset()
                        && known >= 0 && known < maxPosition && s.batchStartsAt(known, maxOffset)) {
                    // the header check guards against metadata from before the segment was rewritten
                    maxPosition = known;
                } else {
                    LogSegment.BatchPosition bound = s.translateOffset(maxOffset, 0, maxPosition);
                    if (bound != null) {
                        maxPosition = bound.position();
                    }
                }
            }
            if (ahead != null && ahead.segmentBaseOffset() == s.baseOffset()) {
                maxPosition = Math.min(maxPosition, ahead.position()); // never hand out damaged bytes
            }
            FetchDataInfo info = s.read(startOffset, maxBytes, maxPosition, minOneBatch);
            if (info != null) {
                return info;
            }
            e = next;
        }
        return FetchDataInfo.empty(end);
    }

    /** Aborted transactions overlapping [startOffset, upperBoundOffset), for read_committed fetches. */
    public List<AbortedTxn> collectAbortedTransactions(long startOffset, long upperBoundOffset) {
        List<AbortedTxn> out = new ArrayList<>();
        Long from = segments.floorKey(startOffset);
        for (LogSegment s : (from == null ? segments : segments.tailMap(from, true)).values()) {
            if (s.baseOffset() >= upperBoundOffset) {
                break;
            }
            out.addAll(s.txnIndex().collectAbortedTxns(startOffset, upperBoundOffset));
        }
        return out;
    }

    /**
     * ListOffsets: {@link #EARLIEST_TIMESTAMP} → log start, {@link #LATEST_TIMESTAMP} → log end,
     * {@link #MAX_TIMESTAMP} → the record with the largest timestamp, else the first record whose
     * timestamp is at least {@code timestamp}. Null when no record qualifies.
     */
    public TimestampAndOffset fetchOffsetByTimestamp(long timestamp) {
        if (timestamp == EARLIEST_TIMESTAMP) {
            return new TimestampAndOffset(RecordBatch.NO_TIMESTAMP, logStartOffset);
        }
        if (timestamp == LATEST_TIMESTAMP) {
            return new TimestampAndOffset(RecordBatch.NO_TIMESTAMP, logEndOffset());
        }
        if (timestamp == MAX_TIMESTAMP) {
            LogSegment best = null;
            for (LogSegment s : segments.values()) {
                if (s.maxTimestampSoFar() >= 0 && (best == null || s.maxTimestampSoFar() > best.maxTimestampSoFar())) {
                    best = s;
                }
            }
            if (best == null) {
                return null;
            }
            // Kafka since 3.8 (KAFKA-16310): the offset of the first record carrying the largest timestamp,
            // not the last offset of its batch; the segment knows the batch, a scan from its time index finds the record
            TimestampAndOffset record = best.findOffsetByTimestamp(best.maxTimestampSoFar(), logStartOffset);
            return record != null ? record : new TimestampAndOffset(best.maxTimestampSoFar(), best.offsetOfMaxTimestampSoFar());
        }
        return offsetForTimestamp(timestamp);
    }

    /** The first record at or after the log start whose timestamp is at least {@code timestamp}; null if none. */
    public TimestampAndOffset offsetForTimestamp(long timestamp) {
        long start = logStartOffset;
        long end = logEndOffset();
        for (LogSegment s : segments.values()) {
            if (s.maxTimestampSoFar() < timestamp) {
                continue;
            }
            TimestampAndOffset found = s.findOffsetByTimestamp(timestamp, start);
            if (found != null && found.offset() < end) {
                return found;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------ retention

    /**
     * Deletes whole segments, oldest first and never the active one, while they are older than
     * retention.ms (by their largest timestamp) or the log is over retention.bytes; the log start
     * moves to the next segment. Also deletes the files of segments removed more than
     * file.delete.delay.ms ago. Returns the number of segments removed from the log.
     *
     * @throws UncheckedIOException if a segment's files could not be renamed or deleted (an I/O error of the
     *     log's directory, which the caller reports); the segments are out of the log all the same
     */
    public int deleteOldSegments(long nowMs) {
        LogConfig cfg = config;
        int removed = 0;
        IOException renameFailure = null;
        if (cfg.delete) {
            lock.lock();
            try {
                long excess = cfg.retentionBytes >= 0 ? sizeInBytes() - cfg.retentionBytes : Long.MIN_VALUE;
                while (segments.size() > 1) {
                    LogSegment oldest = segments.firstEntry().getValue();
                    boolean expired = cfg.retentionMs >= 0 && nowMs - oldest.largestTimestamp() > cfg.retentionMs;
                    boolean overSize = cfg.retentionBytes >= 0 && excess - oldest.sizeInBytes() >= 0;
                    if (!expired && !overSize) {
                        break;
                    }
                    excess -= oldest.sizeInBytes();
                    IOException e = removeSegmentLocked(oldest, nowMs, cfg);
                    if (e != null && renameFailure == null) {
                        renameFailure = e;
                    }
                    logStartOffset = Math.max(logStartOffset, segments.firstKey());
                    removed++;
                }
            } finally {
                lock.unlock();
            }
            if (removed > 0) {
                leaderEpochs.truncateFromStart(logStartOffset);
                leaderEpochs.flush();
                LOG.info("{}: retention removed {} segments; log start offset is {}", topicPartition, removed, logStartOffset);
            }
        }
        deleteExpiredFiles(nowMs);
        if (renameFailure != null) {
            // the log is consistent (the segments are out of it), but its directory failed: its owner reports it
            throw new UncheckedIOException(topicPartition + ": retention cannot rename a segment for deletion",
                renameFailure);
        }
        return removed;
    }

    /**
     * Moves the log start to {@code offset} (DeleteRecords) and removes the segments wholly below it.
     * Returns the new log start offset.
     */
    public long deleteRecordsBefore(long offset) {
        long start = deleteRecordsBeforeLocked(offset);
        leaderEpochs.flush();
        return start;
    }

    private long deleteRecordsBeforeLocked(long offset) {
        long nowMs = time.milliseconds();
        lock.lock();
        try {
            if (offset > logEndOffset()) {
                throw new OffsetOutOfRangeException(topicPartition + ": cannot delete records before " + offset
                    + ", above the log end " + logEndOffset());
            }
            if (offset <= logStartOffset) {
                return logStartOffset;
            }
            logStartOffset = offset;
            while (segments.size() > 1) {
                Map.Entry<Long, LogSegment> second = segments.higherEntry(segments.firstKey());
                if (second.getKey() > offset) {
                    break;
                }
                removeSegmentLocked(segments.firstEntry().getValue(), nowMs, config);
            }
            firstDirtyOffset = Math.max(firstDirtyOffset, logStartOffset);
            leaderEpochs.truncateFromStart(logStartOffset);
            return logStartOffset;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the segment out of the log and renames its files {@code .deleted}, to be deleted after
     * file.delete.delay.ms. Returns the I/O error of a failed rename (the segment is out of the log all the
     * same; its files go under their old names), or null.
     */
    private IOException removeSegmentLocked(LogSegment segment, long nowMs, LogConfig cfg) {
        segments.remove(segment.baseOffset(), segment);
        IOException failed = null;
        try {
            segment.changeFileSuffixes("", DELETED_SUFFIX);
        } catch (IOException e) {
            LOG.warn("{}: cannot rename segment {} for deletion", topicPartition, segment.baseOffset(), e);
            failed = e;
        }
        synchronized (pendingDeletes) {
            pendingDeletes.add(new PendingDelete(segment, nowMs + cfg.fileDeleteDelayMs));
        }
        return failed;
    }

    private void deleteExpiredFiles(long nowMs) {
        while (true) {
            PendingDelete p;
            synchronized (pendingDeletes) {
                p = pendingDeletes.peek();
                if (p == null || p.deleteAtMs() > nowMs) {
                    return;
                }
                pendingDeletes.poll();
            }
            p.segment().deleteIfExists();
        }
    }

    // ------------------------------------------------------------------------------------ truncation

    /**
     * Removes every offset at or above {@code targetOffset} (a follower diverged from its leader), and
     * every leader epoch starting there or later (even when no data is removed). A batch straddling the
     * target goes whole. Returns whether any data was removed.
     */
    public boolean truncateTo(long targetOffset) {
        boolean truncated = truncateToLocked(targetOffset);
        leaderEpochs.flush();
        return truncated;
    }

    private boolean truncateToLocked(long targetOffset) {
        if (targetOffset < 0) {
            throw new IllegalArgumentException("cannot truncate to negative offset " + targetOffset);
        }
        long nowMs = time.milliseconds();
        lock.lock();
        try {
            if (targetOffset >= logEndOffset()) {
                // no data above the target, but an epoch this replica opened there (it led without writing)
                // is not the leader's: it must go, or the batches fetched next could not record their epochs
                leaderEpochs.truncateFromEnd(targetOffset);
                return false;
            }
            if (targetOffset < segments.firstKey()) {
                truncateFullyAndStartAtLocked(targetOffset, nowMs);
                return true;
            }
            LogConfig cfg = config;
            while (segments.lastKey() > targetOffset) {
                removeSegmentLocked(segments.lastEntry().getValue(), nowMs, cfg);
            }
            LogSegment active = segments.lastEntry().getValue();
            LogSegment.BatchPosition cut = active.translateOffset(targetOffset, 0, active.sizeInBytes());
            active.truncateTo(targetOffset);
            active.onBecomeActiveSegment();
            long newEnd = cut == null || cut.baseOffset() >= targetOffset ? targetOffset : cut.baseOffset();
            endOffsetMetadata = new LogOffsetMetadata(newEnd, active.baseOffset(), active.sizeInBytes());
            dropQuarantineFrom(newEnd);
            recoveryPoint = Math.min(recoveryPoint, newEnd);
            firstDirtyOffset = Math.min(firstDirtyOffset, newEnd);
            leaderEpochs.truncateFromEnd(newEnd);
            loadProducerState(newEnd);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Deletes every segment and restarts the log empty at {@code newOffset} (a follower far behind its leader). */
    public void truncateFullyAndStartAt(long newOffset) {
        long nowMs = time.milliseconds();
        lock.lock();
        try {
            truncateFullyAndStartAtLocked(newOffset, nowMs);
        } finally {
            lock.unlock();
        }
        leaderEpochs.flush();
    }

    private void truncateFullyAndStartAtLocked(long newOffset, long nowMs) {
        LogConfig cfg = config;
        for (LogSegment s : new ArrayList<>(segments.values())) {
            removeSegmentLocked(s, nowMs, cfg);
        }
        LogSegment fresh = LogSegment.open(dir, newOffset, cfg.segmentIndexBytes, cfg.indexIntervalBytes, "", true, nowMs);
        segments.put(newOffset, fresh);
        endOffsetMetadata = new LogOffsetMetadata(newOffset, newOffset, 0);
        dropQuarantineFrom(Long.MIN_VALUE);
        logStartOffset = newOffset;
        recoveryPoint = newOffset;
        firstDirtyOffset = newOffset;
        leaderEpochs.clear();
        producerState.deleteSnapshotsAbove(-1);
        producerState.clear();
        producerState.updateMapEndOffset(newOffset);
    }

    // ------------------------------------------------------------------------------------ cleaner hooks

    /**
     * Replaces {@code old} (still in the log) with {@code cleaned}, whose files carry the
     * {@code .cleaned} suffix and which holds a subset of old's batches with the same base offset.
     * Crash-safe: renaming the cleaned log file to {@code .swap} is the commit point, and opening the
     * log completes or discards a half-done swap. Returns false (and deletes the cleaned files) if
     * {@code old} left the log meanwhile.
     */
    public boolean replaceSegment(LogSegment old, LogSegment cleaned) {
        long nowMs = time.milliseconds();
        lock.lock();
        try {
            if (segments.get(old.baseOffset()) != old || old == segments.lastEntry().getValue()) {
                cleaned.deleteIfExists();
                return false;
            }
            cleaned.changeFileSuffixes(CLEANED_SUFFIX, SWAP_SUFFIX);
            FileUtils.fsyncDirectory(dir);
            removeSegmentLocked(old, nowMs, config);
            cleaned.changeFileSuffixes(SWAP_SUFFIX, "");
            FileUtils.fsyncDirectory(dir);
            segments.put(cleaned.baseOffset(), cleaned);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(topicPartition + ": cannot swap in cleaned segment " + cleaned.baseOffset(), e);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------ scrubbing

    /** A stretch of offsets found damaged on disk: reads of it fail with a clear error instead of a stall. */
    public record Quarantine(long firstOffset, long endOffset, long segmentBaseOffset, int position, String reason) {
    }

    static final String QUARANTINE_FILE = "quarantine";
    private final List<Quarantine> quarantined = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Where the next {@link #scrub} continues: a segment, a position in it and the offset found there. */
    private long scrubSegment = -1;
    private int scrubPosition;
    private long scrubOffset;
    private final Object scrubLock = new Object();

    /** The quarantined stretches, oldest first. */
    public List<Quarantine> quarantined() {
        return List.copyOf(quarantined);
    }

    /**
     * Re-validates about {@code maxBytes} of the inactive segments (the active one is still being
     * written; recovery checks it after a crash), continuing where the last call stopped and starting
     * over at the log start after the last inactive segment. Damage found is logged, quarantined
     * (persisted in {@code quarantine} beside the segments, so a restart keeps it) and skipped. Returns
     * the bytes verified; 0 when there is no inactive segment.
     */
    public long scrub(long maxBytes) {
        synchronized (scrubLock) {
            long done = 0;
            int guard = segments.size() + 1;
            while (done < maxBytes && guard-- > 0) {
                Map.Entry<Long, LogSegment> active = segments.lastEntry();
                Map.Entry<Long, LogSegment> e = scrubSegment < 0 ? segments.firstEntry() : segments.ceilingEntry(scrubSegment);
                if (e == null || active == null || e.getKey().equals(active.getKey())) {
                    scrubSegment = -1; // a full pass is done: start over next time
                    return done;
                }
                if (e.getKey() != scrubSegment) {
                    scrubSegment = e.getKey();
                    scrubPosition = 0;
                    scrubOffset = e.getKey();
                }
                LogSegment seg = e.getValue();
                Map.Entry<Long, LogSegment> next = segments.higherEntry(e.getKey());
                long segmentEnd = next == null ? logEndOffset() : next.getKey();
                LogSegment.VerifyResult r = seg.verify(scrubPosition, scrubOffset,
                    (int) Math.min(Integer.MAX_VALUE, maxBytes - done), segmentEnd);
                done += r.bytesVerified();
                if (r.damage() != null) {
                    LogSegment.Damage d = r.damage();
                    quarantine(new Quarantine(d.firstOffset(), d.endOffset(), d.segmentBaseOffset(), d.position(),
                        d.reason()), seg);
                    done += d.endPosition() - d.position();
                    scrubPosition = d.endPosition();
                    scrubOffset = d.endOffset();
                } else {
                    scrubPosition = r.nextPosition();
                    scrubOffset = r.nextOffset();
                }
                if (scrubPosition >= seg.sizeInBytes()) {
                    scrubSegment = segmentEnd; // on to the next segment, from its start
                    scrubPosition = 0;
                    scrubOffset = segmentEnd;
                }
            }
            return done;
        }
    }

    private void quarantine(Quarantine q, LogSegment seg) {
        for (Quarantine known : quarantined) {
            if (known.firstOffset() == q.firstOffset()) {
                return;
            }
        }
        LOG.error("{}: offsets [{}, {}) at positions [{}, ...) of {} are damaged on disk ({}); quarantined: consumers"
            + " reading them get CORRUPT_MESSAGE and can seek to {} (restore the segment from a replica or a"
            + " backup to repair)", topicPartition, q.firstOffset(), q.endOffset(), q.position(), seg.logFile(),
            q.reason(), q.endOffset());
        quarantined.add(q);
        writeQuarantine();
    }

    /** A truncation removed offsets from {@code offset} on: their quarantine goes with them (new data may reuse them). */
    private void dropQuarantineFrom(long offset) {
        if (quarantined.removeIf(q -> q.endOffset() > offset)) {
            writeQuarantine();
        }
    }

    private void writeQuarantine() {
        StringBuilder b = new StringBuilder();
        for (Quarantine q : quarantined) {
            b.append(q.firstOffset()).append(' ').append(q.endOffset()).append(' ').append(q.segmentBaseOffset())
                .append(' ').append(q.position()).append(' ').append(q.reason().replace('\n', ' ')).append('\n');
        }
        try {
            FileUtils.atomicWrite(dir.resolve(QUARANTINE_FILE),
                ByteBuffer.wrap(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (IOException e) {
            LOG.error("{}: cannot persist the quarantine list in {}", topicPartition, dir, e);
        }
    }

    private void loadQuarantine() {
        Path f = dir.resolve(QUARANTINE_FILE);
        if (!Files.exists(f)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(f, java.nio.charset.StandardCharsets.UTF_8)) {
                String[] parts = line.split(" ", 5);
                if (parts.length < 4) {
                    continue;
                }
                Quarantine q = new Quarantine(Long.parseLong(parts[0]), Long.parseLong(parts[1]),
                    Long.parseLong(parts[2]), Integer.parseInt(parts[3]), parts.length == 5 ? parts[4] : "");
                // a stretch that retention or a truncation removed since is gone with its segment
                if (segments.containsKey(q.segmentBaseOffset()) && q.firstOffset() < logEndOffset()) {
                    quarantined.add(q);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: ignoring unreadable {}: {}", topicPartition, f, e.toString());
        }
    }

    // ------------------------------------------------------------------------------------ lifecycle

    /** Flushes, snapshots producer state and closes every segment. The files stay. */
    @Override
    public void close() {
        // the fsyncs (segments, snapshot) run outside the lock; appends have stopped by now, and the
        // final locked section catches any that raced in
        flush();
        writePendingSnapshot();
        ProducerStateManager.Snapshot snap;
        lock.lock();
        try {
            producerState.updateMapEndOffset(logEndOffset());
            snap = producerState.captureSnapshot();
        } finally {
            lock.unlock();
        }
        producerState.writeSnapshot(snap);
        lock.lock();
        try {
            if (logEndOffset() > recoveryPoint) {
                flush(); // an append raced with close: rare, so the fsync under the lock is acceptable
            }
            for (LogSegment s : segments.values()) {
                s.close();
            }
        } finally {
            lock.unlock();
        }
        deleteExpiredFiles(Long.MAX_VALUE);
    }

    /**
     * Closes every segment's files without flushing or snapshotting anything (Kafka's {@code closeHandlers}):
     * for a log whose directory failed, where a flush would only fail again. Errors are logged, not thrown;
     * whatever was not fsynced is left to the recovery of the next start.
     */
    public void closeHandlers() {
        lock.lock();
        try {
            for (LogSegment s : segments.values()) {
                try {
                    s.close();
                } catch (RuntimeException e) {
                    LOG.debug("{}: closing segment {} of a failed log directory: {}", topicPartition, s.baseOffset(),
                        e.toString());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Closes the log and deletes its directory. */
    public void delete() {
        lock.lock();
        try {
            for (LogSegment s : segments.values()) {
                s.deleteIfExists();
            }
            segments.clear();
        } finally {
            lock.unlock();
        }
        deleteExpiredFiles(Long.MAX_VALUE);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    /**
     * Records that this log's directory was renamed to {@code to} (the swap of a moved replica,
     * {@link LogManager#replaceCurrentWithFuture}): its files are no longer under {@link #dir()}, which may
     * hold another log of the partition later (the replica moved back).
     */
    void renamedAway(Path to) {
        this.renamedAwayTo = to;
    }

    /** Where this log's directory was renamed away to, or null while it is at {@link #dir()}. */
    public Path renamedAwayTo() {
        return renamedAwayTo;
    }

    /**
     * Releases every file of a log whose directory was renamed away (the original of a replica moved to
     * another log directory, renamed {@code -delete}): channels closed, indexes unmapped, nothing written,
     * trimmed or deleted by name, since {@link #dir()} may now hold the partition's log again (moved back);
     * the renamed directory ({@link #renamedAwayTo}) is deleted by path by its owner. Call it once no read can
     * still need the files.
     *
     * @throws IllegalStateException if this log was not renamed away (use {@link #close})
     */
    public void releaseRenamedAway() {
        if (renamedAwayTo == null) {
            throw new IllegalStateException(dir + " was not renamed away: releaseRenamedAway is for a log renamed away");
        }
        lock.lock();
        try {
            for (LogSegment s : segments.values()) {
                s.releaseHandles();
            }
            segments.clear();
        } finally {
            lock.unlock();
        }
        while (true) {
            PendingDelete p;
            synchronized (pendingDeletes) {
                p = pendingDeletes.poll();
            }
            if (p == null) {
                break;
            }
            p.segment().releaseHandles();
        }
    }

    /** Whether any thread holds the append lock right now; for tests of what runs outside it. */
    boolean isLocked() {
        return lock.isLocked();
    }

    /** A copy of the producer state of every producer with state in this log (DescribeProducers). */
    public List<ActiveProducer> activeProducers() {
        lock.lock();
        try {
            return producerState.activeProducers();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops the producers idle for at least {@code producerIdExpirationMs} (see
     * {@link ProducerStateManager#removeExpiredProducers}); the broker's expiration duty calls it for
     * every log. The removal reaches disk with the next producer snapshot (the next roll or the clean
     * close). After a crash, a snapshot older than the removal may bring a producer back until the
     * duty runs again. Returns how many were removed.
     */
    public int removeExpiredProducers(long nowMs, long producerIdExpirationMs) {
        lock.lock();
        try {
            return producerState.removeExpiredProducers(nowMs, producerIdExpirationMs);
        } finally {
            lock.unlock();
        }
    }

    /** One producer's state, read under the append lock; empty when the partition does not know it. */
    public java.util.Optional<ActiveProducer> activeProducer(long producerId) {
        lock.lock();
        try {
            ProducerStateManager.ProducerEntry e = producerState.entry(producerId);
            return e == null ? java.util.Optional.empty() : java.util.Optional.of(new ActiveProducer(producerId,
                e.epoch(), e.lastSequence(), e.lastTimestamp(), e.coordinatorEpoch(), e.currentTxnFirstOffset()));
        } finally {
            lock.unlock();
        }
    }

    /** The producer state, for tests and tools; not thread-safe against appends. */
    public ProducerStateManager producerStateManager() {
        return producerState;
    }

    @Override
    public String toString() {
        return "Log(" + topicPartition + ", start=" + logStartOffset + ", end=" + logEndOffset() + ", segments="
            + segments.size() + ")";
    }
}
