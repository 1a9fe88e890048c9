package io.weir.log.internals;

import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.log.AbortedTxn;
import io.weir.log.BatchValidator;
import io.weir.log.CompletedTxn;
import io.weir.log.CorruptIndexException;
import io.weir.log.FetchDataInfo;
import io.weir.log.FileRegion;
import io.weir.log.LogOffsetMetadata;
import io.weir.log.TimestampAndOffset;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * One segment of a partition log: the {@code <base>.log} file of batches and its three indexes. The
 * segment owns the file's bytes: appends, reads, offset and timestamp lookups, truncation, recovery.
 *
 * <p>Thread-safety: one writer (the log's append lock serializes {@link #append}, {@link #truncateTo},
 * {@link #recover}, {@link #onBecomeInactiveSegment}); any number of concurrent readers. Publication
 * rule: the appender writes the bytes and then stores {@link #sizeInBytes()} (volatile), so a reader
 * that bounds itself by a size it has read sees complete batches only. Index lookups lock the index.
 * The one file channel all of them share survives the interrupt of any of them ({@link InterruptSafeFileChannel}).
 */
public final class LogSegment implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogSegment.class);

    public static final String LOG_SUFFIX = ".log";
    public static final String INDEX_SUFFIX = ".index";
    public static final String TIME_INDEX_SUFFIX = ".timeindex";
    public static final String TXN_INDEX_SUFFIX = ".txnindex";

    private final long baseOffset;
    private final int indexIntervalBytes;
    private final int maxIndexSize;
    private final long createdMs;
    private volatile Path logFile;
    /** Shared by every read, transfer and append of the segment; an interrupted user cannot close it. */
    private final InterruptSafeFileChannel channel;
    private final OffsetIndex offsetIndex;
    private final TimeIndex timeIndex;
    private final TransactionIndex txnIndex;
    private final RecordBatch scratch = new RecordBatch();
    private final java.util.concurrent.atomic.LongAdder headerReads = new java.util.concurrent.atomic.LongAdder();

    private volatile int size;
    private int bytesSinceLastIndexEntry;
    private volatile long maxTimestampSoFar = RecordBatch.NO_TIMESTAMP;
    private volatile long offsetOfMaxTimestampSoFar;
    /** Max timestamp of the first batch: the reference for time-based rolling; NO_TIMESTAMP if unknown. */
    private long rollingBasedTimestamp = RecordBatch.NO_TIMESTAMP;

    private LogSegment(Path dir, long baseOffset, int maxIndexSize, int indexIntervalBytes, String suffix,
                       boolean active, long createdMs) throws IOException {
        this.baseOffset = baseOffset;
        this.indexIntervalBytes = indexIntervalBytes;
        this.maxIndexSize = maxIndexSize;
        this.createdMs = createdMs;
        this.logFile = file(dir, baseOffset, LOG_SUFFIX + suffix);
        this.channel = InterruptSafeFileChannel.open(logFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        OffsetIndex offsets = null;
        boolean ok = false;
        try {
            long fileSize = channel.size();
            // positions are int32 in the index: anything beyond that is garbage for recovery to cut
            this.size = (int) Math.min(fileSize, Integer.MAX_VALUE);
            offsets = new OffsetIndex(file(dir, baseOffset, INDEX_SUFFIX + suffix), baseOffset, maxIndexSize, active);
            this.timeIndex = new TimeIndex(file(dir, baseOffset, TIME_INDEX_SUFFIX + suffix), baseOffset, maxIndexSize, active);
            this.txnIndex = new TransactionIndex(file(dir, baseOffset, TXN_INDEX_SUFFIX + suffix), baseOffset);
            ok = true;
        } finally {
            if (!ok) {
                // the time index is the last thing that can fail, so only the offset index may be mapped
                if (offsets != null) {
                    offsets.release();
                }
                channel.close();
            }
        }
        this.offsetIndex = offsets;
    }

    /**
     * Opens (creating if absent) the segment with the given base offset in {@code dir}. {@code suffix}
     * is appended to every file name ("" for a live segment, ".cleaned" while the cleaner writes one).
     * An existing segment's in-memory state (max timestamp, first timestamp) is loaded from its
     * indexes; call {@link #recover} if the indexes cannot be trusted.
     */
    public static LogSegment open(Path dir, long baseOffset, int maxIndexSize, int indexIntervalBytes, String suffix,
                                  boolean active, long nowMs) {
        try {
            LogSegment s = new LogSegment(dir, baseOffset, maxIndexSize, indexIntervalBytes, suffix, active, nowMs);
            try {
                s.loadStateFromIndexes();
            } catch (RuntimeException e) {
                s.releaseHandles();
                throw e;
            }
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open segment " + baseOffset + " in " + dir, e);
        }
    }

    public static Path file(Path dir, long offset, String suffix) {
        return dir.resolve(filenamePrefix(offset) + suffix);
    }

    /** The 20-digit zero-padded offset that names a segment's files and snapshots. */
    public static String filenamePrefix(long offset) {
        String digits = Long.toString(offset);
        return "0".repeat(Math.max(0, 20 - digits.length())) + digits;
    }

    /** The offset a file name starts with. */
    public static long offsetFromFileName(String name) {
        int dot = name.indexOf('.');
        return Long.parseLong(dot < 0 ? name : name.substring(0, dot));
    }

    private void loadStateFromIndexes() {
        TimeIndex.TimestampOffset last = timeIndex.lastEntry();
        if (last.timestamp() >= 0) {
            maxTimestampSoFar = last.timestamp();
            offsetOfMaxTimestampSoFar = last.offset();
        }
        if (size > 0) {
            try {
                RecordBatch first = readHeaderAt(0, ByteBuffer.allocate(RecordBatch.HEADER_SIZE), new RecordBatch());
                if (first != null) {
                    rollingBasedTimestamp = first.maxTimestamp();
                }
            } catch (CorruptRecordException e) {
                // a damaged first batch must not stop the log from opening: recovery cuts it (found by fuzzing)
                LOG.warn("{}: first batch unreadable ({}); recovery will cut it", logFile, e.getMessage());
            }
        }
    }

    public long baseOffset() {
        return baseOffset;
    }

    public Path logFile() {
        return logFile;
    }

    public int sizeInBytes() {
        return size;
    }

    public OffsetIndex offsetIndex() {
        return offsetIndex;
    }

    public TimeIndex timeIndex() {
        return timeIndex;
    }

    public TransactionIndex txnIndex() {
        return txnIndex;
    }

    /** Largest batch max timestamp seen; NO_TIMESTAMP if the segment holds no timestamped batch. */
    public long maxTimestampSoFar() {
        return maxTimestampSoFar;
    }

    public long offsetOfMaxTimestampSoFar() {
        return offsetOfMaxTimestampSoFar;
    }

    /** The timestamp retention compares with: the largest record timestamp, else the file's mtime. */
    public long largestTimestamp() {
        long ts = maxTimestampSoFar;
        if (ts >= 0) {
            return ts;
        }
        try {
            return Files.getLastModifiedTime(logFile).toMillis();
        } catch (IOException e) {
            return RecordBatch.NO_TIMESTAMP;
        }
    }

    /** Whether {@code offset} can be stored relative to this segment's base in an int32. */
    public boolean canHoldOffset(long offset) {
        long rel = offset - baseOffset;
        return rel >= 0 && rel <= Integer.MAX_VALUE;
    }

    /**
     * Whether appending {@code bytes} bytes holding offsets up to {@code maxOffset} with timestamps up to
     * {@code maxTimestamp} needs a new segment first: the size would pass {@code segmentBytes}, the
     * segment has been open for {@code segmentMs} (measured from the first batch's timestamp, or from
     * creation when it has none), an index is full, or an offset would not fit the index.
     */
    public boolean shouldRoll(int bytes, long maxOffset, long maxTimestamp, long nowMs, int segmentBytes, long segmentMs) {
        if (size == 0) {
            return false;
        }
        long waited = rollingBasedTimestamp >= 0 ? maxTimestamp - rollingBasedTimestamp : nowMs - createdMs;
        return size > segmentBytes - bytes
            || waited > segmentMs
            || offsetIndex.isFull()
            || timeIndex.isFull()
            || !canHoldOffset(maxOffset);
    }

    /**
     * Appends {@code records} (whole, valid batches with offsets assigned, in increasing order) at the
     * end of the file and adds index entries every {@code index.interval.bytes}. Caller holds the
     * log's append lock. No allocation: batches are walked with one reused flyweight.
     */
    public void append(long largestOffset, ByteBuffer records) {
        if (!canHoldOffset(largestOffset)) {
            throw new IllegalArgumentException("offset " + largestOffset + " does not fit segment " + baseOffset);
        }
        int physicalPosition = size;
        int length = records.remaining();
        try {
            ByteBuffer src = records.duplicate();
            long pos = physicalPosition;
            while (src.hasRemaining()) {
                pos += channel.write(src, pos);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + logFile, e);
        }
        int base = records.position();
        for (int at = base; at < records.limit(); ) {
            RecordBatch batch = scratch.wrap(records, at);
            indexBatch(batch, physicalPosition + (at - base));
            at += batch.sizeInBytes();
        }
        // publish last: readers bound by size never see a partial append
        size = physicalPosition + length;
    }

    private void indexBatch(RecordBatch batch, int position) {
        long batchMaxTs = batch.maxTimestamp();
        if (rollingBasedTimestamp < 0 && position == 0) {
            rollingBasedTimestamp = batchMaxTs;
        }
        if (batchMaxTs > maxTimestampSoFar) {
            offsetOfMaxTimestampSoFar = batch.lastOffset();
            maxTimestampSoFar = batchMaxTs;
        }
        // the index is sparse: once full (the segment rolls before the next append) batches simply go
        // unindexed, whether a multi-batch append filled it midway or recovery is re-reading the segment
        if (bytesSinceLastIndexEntry > indexIntervalBytes && !offsetIndex.isFull()) {
            offsetIndex.append(batch.baseOffset(), position);
            timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar);
            bytesSinceLastIndexEntry = 0;
        }
        bytesSinceLastIndexEntry += batch.sizeInBytes();
    }

    /**
     * Whether a batch with base offset {@code baseOffset} starts at {@code position}: one 8-byte read,
     * to trust a position remembered in offset metadata.
     */
    public boolean batchStartsAt(int position, long baseOffset) {
        if (position < 0 || position + RecordBatch.HEADER_SIZE > size) {
            return false;
        }
        headerReads.increment();
        ByteBuffer b = ByteBuffer.allocate(8);
        try {
            while (b.hasRemaining()) {
                if (channel.read(b, position + b.position()) < 0) {
                    return false;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + logFile, e);
        }
        return b.getLong(0) == baseOffset;
    }

    /** How many batch headers this segment has read from its file (a cost figure for tests and metrics). */
    public long headerReads() {
        return headerReads.sum();
    }

    /** Header fields of the batch at {@code position}, or null past the end; only header getters are valid. */
    /**
     * A thread's header buffer and batch view for {@link #translateOffset}, the scan every fetch and
     * index lookup runs: reads are lock-free and concurrent, so the scratch is per thread, and a scan
     * allocates neither a buffer nor a {@code RecordBatch} per header it looks at. Only
     * {@code translateOffset} uses it, and it calls nothing that scans again.
     */
    private static final class HeaderScan {
        final ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        final RecordBatch view = new RecordBatch();
    }

    private static final ThreadLocal<HeaderScan> HEADER_SCAN = ThreadLocal.withInitial(HeaderScan::new);

    /** Reads the header at {@code position} into {@code header} and wraps {@code view} over it; null at the end. */
    private RecordBatch readHeaderAt(int position, ByteBuffer header, RecordBatch view) {
        headerReads.increment();
        int limit = size;
        if (position + RecordBatch.HEADER_SIZE > limit) {
            if (position < limit) {
                throw new CorruptRecordException("partial batch header at position " + position + " of " + logFile);
            }
            return null;
        }
        header.clear();
        try {
            while (header.hasRemaining()) {
                if (channel.read(header, position + header.position()) < 0) {
                    throw new CorruptRecordException("unexpected end of " + logFile + " at " + position);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + logFile, e);
        }
        RecordBatch b = view.wrap(header, 0);
        int length = b.batchLength();
        if (length < RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD
            || (long) position + RecordBatch.LOG_OVERHEAD + length > limit) {
            throw new CorruptRecordException("batch at position " + position + " of " + logFile + " has bad length " + length);
        }
        return b;
    }

    /** Where the first batch holding an offset at or above {@code offset} starts, scanning from a position. */
    public record BatchPosition(long baseOffset, long lastOffset, int position, int size) {
    }

    /**
     * Finds the first batch whose last offset is at least {@code offset}, starting the scan at the
     * larger of the index's hint and {@code startingPosition}, and not looking at bytes beyond
     * {@code maxPosition}. Null if there is none.
     */
    public BatchPosition translateOffset(long offset, int startingPosition, int maxPosition) {
        int pos = Math.max(offsetIndex.lookup(offset).position(), startingPosition);
        HeaderScan scan = HEADER_SCAN.get();
        int limit = Math.min(maxPosition, size);
        while (pos < limit) {
            RecordBatch b = readHeaderAt(pos, scan.header, scan.view);
            if (b == null) {
                return null;
            }
            if (b.lastOffset() >= offset) {
                return new BatchPosition(b.baseOffset(), b.lastOffset(), pos, b.sizeInBytes());
            }
            pos += b.sizeInBytes();
        }
        return null;
    }

    /**
     * Reads from the batch holding {@code startOffset}: at most {@code maxBytes} (but a whole first batch
     * if {@code minOneBatch}; nothing if the first batch does not fit otherwise), never past
     * {@code maxPosition}. Null when no batch at or after the offset
     * lies below {@code maxPosition}.
     */
    public FetchDataInfo read(long startOffset, int maxBytes, int maxPosition, boolean minOneBatch) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes " + maxBytes);
        }
        BatchPosition start = translateOffset(startOffset, 0, maxPosition);
        if (start == null) {
            return null;
        }
        LogOffsetMetadata at = new LogOffsetMetadata(startOffset, baseOffset, start.position());
        int adjustedMax = minOneBatch ? Math.max(maxBytes, start.size()) : maxBytes;
        if (adjustedMax < start.size()) {
            // not even the first batch fits: answer nothing rather than a cut batch (Fetch v3+, as Kafka
            // does), since a client given only part of a batch cannot make progress and fails the poll
            return FetchDataInfo.empty(at);
        }
        int bytes = Math.min(Math.min(maxPosition, size) - start.position(), adjustedMax);
        return new FetchDataInfo(at, new FileRegion(logFile, channel, start.position(), bytes), null);
    }

    /** The offset after the last batch (the base offset when empty). */
    public long readNextOffset() {
        OffsetIndex.OffsetPosition hint = offsetIndex.lastEntry();
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        long next = baseOffset;
        int pos = hint.position();
        RecordBatch b;
        RecordBatch view = new RecordBatch();
        while ((b = readHeaderAt(pos, header, view)) != null) {
            next = b.nextOffset();
            pos += b.sizeInBytes();
        }
        return next;
    }

    /**
     * The first record at or after {@code startingOffset} whose timestamp is at least {@code timestamp},
     * or null if the segment has none. The time index narrows where the scan starts; the batch found is
     * read and its records walked for the exact offset.
     */
    public TimestampAndOffset findOffsetByTimestamp(long timestamp, long startingOffset) {
        TimeIndex.TimestampOffset hint = timeIndex.lookup(timestamp);
        int pos = offsetIndex.lookup(Math.max(hint.offset(), startingOffset)).position();
        FileBatchReader reader = new FileBatchReader(channel, pos, size);
        RecordBatch batch;
        while ((batch = reader.next()) != null) {
            if (batch.maxTimestamp() >= timestamp && batch.lastOffset() >= startingOffset) {
                Iterator<Record> it = batch.records();
                while (it.hasNext()) {
                    Record r = it.next();
                    if (r.timestamp() >= timestamp && r.offset() >= startingOffset) {
                        return new TimestampAndOffset(r.timestamp(), r.offset());
                    }
                }
            }
        }
        return null;
    }

    /** Batches from {@code position} to the current end, read one at a time (see {@link FileBatchReader}). */
    public FileBatchReader batchesFrom(int position) {
        return new FileBatchReader(channel, position, size);
    }

    /**
     * Removes every batch holding an offset at or above {@code offset} (a batch straddling it goes
     * whole) and the index entries for them. Returns the bytes removed.
     */
    public int truncateTo(long offset) {
        BatchPosition from = translateOffset(offset, 0, size);
        if (from == null) {
            return 0;
        }
        // cut at the start of the batch holding the offset: a batch is never split, and the indexes lose
        // everything from that batch on (an entry keyed by its base offset would point past the new end)
        int cut = from.position();
        offsetIndex.truncateTo(from.baseOffset());
        timeIndex.truncateTo(from.baseOffset());
        txnIndex.truncateTo(from.baseOffset());
        int removed = size - cut;
        try {
            channel.truncate(cut);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate " + logFile, e);
        }
        size = cut;
        bytesSinceLastIndexEntry = 0;
        TimeIndex.TimestampOffset last = timeIndex.lastEntry();
        // the time index's last entry is the best cheap bound on what remains (Kafka does the same)
        maxTimestampSoFar = last.timestamp();
        offsetOfMaxTimestampSoFar = last.timestamp() >= 0 ? last.offset() : baseOffset;
        if (cut == 0) {
            rollingBasedTimestamp = RecordBatch.NO_TIMESTAMP;
        }
        return removed;
    }

    /** Where a {@link #verify} pass stopped, and the damage it found there (null when none). */
    public record VerifyResult(int nextPosition, long nextOffset, int bytesVerified, Damage damage) {
    }

    /**
     * A damaged stretch of this segment: offsets [{@code firstOffset}, {@code endOffset}) at file
     * positions [{@code position}, {@code endPosition}), and what was wrong.
     */
    public record Damage(long segmentBaseOffset, long firstOffset, long endOffset, int position, int endPosition,
                         String reason) {
    }

    /**
     * Re-validates batches from {@code position} (where offset {@code expectedOffset} starts) as
     * recovery does, about {@code maxBytes} worth (at least one batch), without changing anything. On
     * damage it finds where intact batches resume (after the damaged batch if its length is sound,
     * else at the next offset-index entry holding a valid batch) and reports the stretch in between;
     * {@code segmentEndOffset} closes a stretch that runs to the end of the file.
     */
    public VerifyResult verify(int position, long expectedOffset, int maxBytes, long segmentEndOffset) {
        int end = size;
        FileBatchReader reader = new FileBatchReader(channel, position, end);
        int verified = 0;
        long next = expectedOffset;
        while (verified < Math.max(1, maxBytes)) {
            int at = reader.position();
            RecordBatch batch;
            try {
                batch = reader.next();
                if (batch == null) {
                    break;
                }
                BatchValidator.validateBatch(batch, RECOVERY_RULES, logFile);
                if (batch.baseOffset() < next) {
                    throw new CorruptRecordException("batch at position " + at + " has base offset " + batch.baseOffset()
                        + ", below the expected " + next);
                }
            } catch (CorruptRecordException | InvalidRecordException e) {
                return new VerifyResult(at, next, verified, damageFrom(at, next, segmentEndOffset, e.getMessage()));
            }
            verified += batch.sizeInBytes();
            next = batch.nextOffset();
        }
        return new VerifyResult(reader.position(), next, verified, null);
    }

    private Damage damageFrom(int position, long firstOffset, long segmentEndOffset, String reason) {
        List<Integer> candidates = new ArrayList<>();
        ByteBuffer len = ByteBuffer.allocate(RecordBatch.LOG_OVERHEAD);
        try {
            if (channel.read(len, position) == RecordBatch.LOG_OVERHEAD) {
                long after = (long) position + RecordBatch.LOG_OVERHEAD + len.getInt(RecordBatch.LENGTH_OFFSET);
                if (after > position && after < size) {
                    candidates.add((int) after);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + logFile, e);
        }
        for (OffsetIndex.OffsetPosition e : offsetIndex.entriesAfterPosition(position)) {
            candidates.add(e.position());
        }
        for (int candidate : candidates) {
            try {
                RecordBatch b = new FileBatchReader(channel, candidate, size).next();
                if (b != null && b.baseOffset() >= firstOffset) {
                    BatchValidator.validateBatch(b, RECOVERY_RULES, logFile);
                    return new Damage(baseOffset, firstOffset, b.baseOffset(), position, candidate, reason);
                }
            } catch (CorruptRecordException | InvalidRecordException ignored) {
                // not an intact batch either: try the next candidate
            }
        }
        return new Damage(baseOffset, firstOffset, Math.max(firstOffset + 1, segmentEndOffset), position, size, reason);
    }

    /** Recovery checks batches as a follower's: compacted batches are fine; 64 MiB decompressed at most. */
    private static final BatchValidator.Rules RECOVERY_RULES =
        new BatchValidator.Rules(io.weir.log.AppendOrigin.REPLICATION, false, 1 << 20);

    /**
     * Re-reads every batch, checks it ({@link BatchValidator}: length, magic, CRC, every record; offsets increasing and inside this
     * segment) and rebuilds the offset and time indexes. Cuts the file at the first batch that fails:
     * a torn write, a bad CRC, a zero-filled tail, a length running past the end. {@code visitor} sees
     * each valid batch in order. Returns the bytes cut. The transaction index is kept as it is (but for
     * entries of cut batches): {@link #recover(ProducerStateManager)} rebuilds it too.
     */

    public long recover(Consumer<RecordBatch> visitor) {
        offsetIndex.reset();
        timeIndex.reset();
        // an inactive segment's indexes were trimmed; give them room to be rebuilt (trimmed again on roll)
        offsetIndex.resize(maxIndexSize);
        timeIndex.resize(maxIndexSize);
        bytesSinceLastIndexEntry = 0;
        maxTimestampSoFar = RecordBatch.NO_TIMESTAMP;
        offsetOfMaxTimestampSoFar = baseOffset;
        rollingBasedTimestamp = RecordBatch.NO_TIMESTAMP;
        long fileSize;
        try {
            fileSize = channel.size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int end = (int) Math.min(fileSize, Integer.MAX_VALUE);
        FileBatchReader reader = new FileBatchReader(channel, 0, end);
        int validBytes = 0;
        long lastOffset = baseOffset - 1;
        while (true) {
            RecordBatch batch;
            try {
                batch = reader.next();
                if (batch == null) {
                    break;
                }
                // every record, as on append: a CRC-valid batch a consumer cannot read is cut like a torn one
                BatchValidator.validateBatch(batch, RECOVERY_RULES, logFile);
                if (batch.baseOffset() <= lastOffset || !canHoldOffset(batch.lastOffset())) {
                    throw new CorruptRecordException("batch at position " + reader.batchPosition() + " has offsets "
                        + batch.baseOffset() + ".." + batch.lastOffset() + " after offset " + lastOffset
                        + " in segment " + baseOffset);
                }
            } catch (CorruptRecordException | InvalidRecordException e) {
                LOG.warn("Truncating {} at position {}: {}", logFile, validBytes, e.getMessage());
                break;
            }
            indexBatch(batch, reader.batchPosition());
            visitor.accept(batch);
            lastOffset = batch.lastOffset();
            validBytes = reader.position();
        }
        long truncated = fileSize - validBytes;
        if (truncated > 0) {
            try {
                channel.truncate(validBytes);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot truncate " + logFile, e);
            }
            txnIndex.truncateTo(lastOffset + 1);
        }
        size = validBytes;
        return truncated;
    }

    /**
     * {@link #recover(Consumer)}, rebuilding the transaction index as well: {@code producerState} must
     * hold the state as of this segment's base offset (a transaction aborted here may have started in
     * an earlier segment). Every valid batch is applied to it, and each abort marker that completes a
     * transaction adds the entry the append added, so an index lost or cut short in a crash comes back
     * from the log itself.
     */
    public long recover(ProducerStateManager producerState) {
        txnIndex.reset();
        return recover(batch -> {
            CompletedTxn done = producerState.update(batch);
            if (done != null && done.isAborted()) {
                txnIndex.append(new AbortedTxn(done.producerId(), done.firstOffset(), done.lastOffset(),
                    producerState.lastStableOffset(done)));
            }
        });
    }

    /** Checks that the indexes are consistent; throws {@link CorruptIndexException} if not. */
    public void sanityCheckIndexes() {
        offsetIndex.sanityCheck();
        timeIndex.sanityCheck();
        OffsetIndex.OffsetPosition last = offsetIndex.lastEntry();
        // an entry names the start of a batch, so it lies strictly below the end of the file
        if (offsetIndex.entries() > 0 && last.position() >= size) {
            throw new CorruptIndexException("index " + offsetIndex.file() + " points at position " + last.position()
                + " past the end of the log (" + size + ")");
        }
    }

    /**
     * Called when a newer segment takes over appends: records the final max timestamp in the time
     * index and trims both indexes to their real size.
     */
    public void onBecomeInactiveSegment() {
        if (maxTimestampSoFar >= 0) {
            timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar);
        }
        offsetIndex.trimToValidSize();
        timeIndex.trimToValidSize();
    }

    /** Gives the indexes their full preallocated size again: this segment takes appends again. */
    public void onBecomeActiveSegment() {
        offsetIndex.resize(maxIndexSize);
        timeIndex.resize(maxIndexSize);
    }

    /** Makes the segment's bytes and indexes durable (fsync). */
    public void flush() {
        try {
            channel.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot flush " + logFile, e);
        }
        offsetIndex.flush();
        timeIndex.flush();
        txnIndex.flush();
    }

    /** Changes the suffix of every file of this segment (e.g. to ".deleted"), each by an atomic rename. */
    public void changeFileSuffixes(String oldSuffix, String newSuffix) throws IOException {
        Path dir = logFile.getParent();
        Path target = renamed(logFile, oldSuffix, newSuffix);
        channel.moveTo(target); // the channel reopens from the new name if an interrupt closes it
        logFile = target;
        offsetIndex.renameTo(renamed(offsetIndex.file(), oldSuffix, newSuffix));
        timeIndex.renameTo(renamed(timeIndex.file(), oldSuffix, newSuffix));
        txnIndex.renameTo(renamed(txnIndex.file(), oldSuffix, newSuffix));
        assert dir.equals(logFile.getParent());
    }

    private static Path renamed(Path p, String oldSuffix, String newSuffix) {
        String name = p.getFileName().toString();
        if (!name.endsWith(oldSuffix)) {
            throw new IllegalArgumentException(p + " does not end with '" + oldSuffix + "'");
        }
        return p.resolveSibling(name.substring(0, name.length() - oldSuffix.length()) + newSuffix);
    }

    /** Closes the file and indexes (trimming the indexes); the files stay. */
    @Override
    public void close() {
        if (maxTimestampSoFar >= 0 && channel.isOpen()) {
            timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar);
        }
        offsetIndex.close();
        timeIndex.close();
        txnIndex.close();
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + logFile, e);
        }
    }

    /**
     * Closes the channel and unmaps the indexes without writing, trimming or deleting anything by name: for a
     * segment whose directory was renamed away (its names may now be another log's files).
     */
    public void releaseHandles() {
        offsetIndex.release();
        timeIndex.release();
        txnIndex.close();
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + logFile, e);
        }
    }

    /** Closes and deletes every file of this segment. */
    public void deleteIfExists() {
        try {
            channel.close();
            offsetIndex.deleteIfExists();
            timeIndex.deleteIfExists();
            txnIndex.deleteIfExists();
            Files.deleteIfExists(logFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete segment " + logFile, e);
        }
    }

    @Override
    public String toString() {
        return "LogSegment(baseOffset=" + baseOffset + ", size=" + size + ", file=" + logFile + ")";
    }
}
