package io.weir.log.internals;

import io.weir.common.Time;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.log.AbortedTxn;
import io.weir.log.Log;
import io.weir.log.LogConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Compacts a log with {@code cleanup.policy=compact}: keeps, for every key, only its latest record.
 *
 * <p>One pass: (1) map each key in the dirty part (offsets from the log's first dirty offset up to the
 * first segment that is active or younger than {@code min.compaction.lag.ms}) to its latest offset;
 * (2) rewrite every inactive, cleanable segment, keeping a record unless the map holds a later offset
 * for its key, and dropping tombstones (null values) in segments older than
 * {@code delete.retention.ms}. Offsets never change (gaps remain); batches that lose no record are
 * copied byte for byte; others are rebuilt with the same base offset, compression, producer id, epoch,
 * base sequence, transactional flag and leader epoch. Control batches are always kept. A segment is
 * swapped in through {@link Log#replaceSegment}, which is crash-safe.
 *
 * <p>Transactions: only segments wholly below the first unstable offset (the oldest open transaction)
 * are cleaned, so an undecided transaction is never judged. Records of aborted transactions (found
 * through the segments' aborted-transaction index) neither shadow older committed values of their keys
 * nor survive the rewrite: otherwise an aborted write would remove the committed value a read_committed
 * reader (a streams changelog restore) needs, and then be filtered out itself, losing the key.
 *
 * <p>The key map is bounded ({@code maxKeys}): once full, known keys still update and new keys are not
 * added, which is safe (every mapped offset exists) but leaves the dirty part dirty for a later pass.
 *
 * <p>Not thread-safe: one cleaner thread calls {@link #clean} (it runs concurrently with appends and
 * reads on the log).
 */
public final class LogCleaner {
    private static final Logger LOG = LoggerFactory.getLogger(LogCleaner.class);
    private static final int DEFAULT_MAX_KEYS = 1 << 20;

    private final Time time;
    private final int maxKeys;
    /** Per log directory: segments with a base offset below this had their expired tombstones removed. */
    private final Map<java.nio.file.Path, Long> tombstonePassEnd = new HashMap<>();

    public LogCleaner(Time time) {
        this(time, DEFAULT_MAX_KEYS);
    }

    public LogCleaner(Time time, int maxKeys) {
        this.time = time;
        this.maxKeys = maxKeys;
    }

    /** Cleans the log once; returns the bytes of the segments it rewrote. */
    public long clean(Log log, long nowMs) {
        LogConfig cfg = log.config();
        List<LogSegment> segs = log.segments();
        int cleanableEnd = 0;
        long firstUnstable = log.firstUnstableOffset().orElse(Long.MAX_VALUE);
        // never the active segment; only segments older than the compaction lag and wholly below any open transaction
        while (cleanableEnd < segs.size() - 1
            && segs.get(cleanableEnd + 1).baseOffset() <= firstUnstable
            && (segs.get(cleanableEnd).sizeInBytes() == 0
                || nowMs - segs.get(cleanableEnd).largestTimestamp() >= cfg.minCompactionLagMs)) {
            cleanableEnd++;
        }
        if (cleanableEnd == 0) {
            return 0;
        }
        long endOffset = segs.get(cleanableEnd).baseOffset();
        long firstDirty = Math.max(log.firstDirtyOffset(), log.logStartOffset());
        long deleteHorizonMs = nowMs - cfg.deleteRetentionMs;
        if (firstDirty >= endOffset) {
            // nothing new to map, but tombstones may have aged past delete.retention.ms since the last pass
            return removeExpiredTombstones(log, segs, cleanableEnd, deleteHorizonMs, nowMs);
        }
        AbortedBatches aborted = new AbortedBatches(log.collectAbortedTransactions(log.logStartOffset(), endOffset));
        Map<ByteBuffer, Long> latest = new HashMap<>();
        boolean complete = true;
        for (int i = 0; i < cleanableEnd; i++) {
            LogSegment s = segs.get(i);
            if (segs.get(i + 1).baseOffset() <= firstDirty) {
                continue;
            }
            FileBatchReader reader = s.batchesFrom(0);
            RecordBatch batch;
            while ((batch = reader.next()) != null) {
                if (batch.isControlBatch() || batch.lastOffset() < firstDirty || aborted.contains(batch)) {
                    continue;
                }
                for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
                    Record r = it.next();
                    if (r.offset() < firstDirty || !r.hasKey()) {
                        continue;
                    }
                    ByteBuffer key = r.key();
                    if (latest.size() >= maxKeys && !latest.containsKey(key)) {
                        complete = false;
                        continue;
                    }
                    latest.put(copy(key), r.offset());
                }
            }
        }
        long rewritten = 0;
        for (int i = 0; i < cleanableEnd; i++) {
            LogSegment s = segs.get(i);
            boolean dropTombstones = s.largestTimestamp() < deleteHorizonMs;
            if (countRemovable(s, latest, dropTombstones, aborted) == 0) {
                continue;
            }
            int before = s.sizeInBytes();
            if (cleanSegment(log, s, latest, dropTombstones, aborted, nowMs)) {
                rewritten += before;
            }
        }
        if (complete) {
            log.markCleanedUpTo(endOffset);
        }
        if (rewritten > 0) {
            LOG.info("{}: cleaned {} bytes below offset {} ({} keys)", log.topicPartition(), rewritten, endOffset, latest.size());
        }
        return rewritten;
    }

    /**
     * Rewrites segments that crossed the delete horizon since the last tombstone pass, dropping their
     * tombstones. Each segment is checked once per log (tracked by base offset, in memory).
     */
    private long removeExpiredTombstones(Log log, List<LogSegment> segs, int cleanableEnd, long deleteHorizonMs, long nowMs) {
        long checkedBelow = tombstonePassEnd.getOrDefault(log.dir(), Long.MIN_VALUE);
        long rewritten = 0;
        Map<ByteBuffer, Long> none = Map.of();
        AbortedBatches aborted = new AbortedBatches(log.collectAbortedTransactions(log.logStartOffset(),
            segs.get(cleanableEnd).baseOffset()));
        for (int i = 0; i < cleanableEnd; i++) {
            LogSegment s = segs.get(i);
            if (s.baseOffset() < checkedBelow || s.sizeInBytes() == 0) {
                continue;
            }
            if (s.largestTimestamp() >= deleteHorizonMs) {
                // not yet expired: check it again next time
                break;
            }
            int before = s.sizeInBytes();
            if (countRemovable(s, none, true, aborted) > 0 && cleanSegment(log, s, none, true, aborted, nowMs)) {
                rewritten += before;
            }
            tombstonePassEnd.put(log.dir(), s.baseOffset() + 1);
        }
        return rewritten;
    }

    private static ByteBuffer copy(ByteBuffer key) {
        ByteBuffer c = ByteBuffer.allocate(key.remaining());
        c.put(key.duplicate()).flip();
        return c;
    }

    private static boolean retain(Record r, Map<ByteBuffer, Long> latest, boolean dropTombstones) {
        if (!r.hasKey()) {
            return true;
        }
        Long newest = latest.get(r.key());
        if (newest != null && newest > r.offset()) {
            return false;
        }
        return !(dropTombstones && !r.hasValue());
    }

    private static int countRemovable(LogSegment s, Map<ByteBuffer, Long> latest, boolean dropTombstones,
                                      AbortedBatches aborted) {
        int n = 0;
        FileBatchReader reader = s.batchesFrom(0);
        RecordBatch batch;
        while ((batch = reader.next()) != null) {
            if (batch.isControlBatch()) {
                continue;
            }
            if (aborted.contains(batch)) {
                n += batch.recordCount();
                continue;
            }
            for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
                if (!retain(it.next(), latest, dropTombstones)) {
                    n++;
                }
            }
        }
        return n;
    }

    private boolean cleanSegment(Log log, LogSegment s, Map<ByteBuffer, Long> latest, boolean dropTombstones,
                                 AbortedBatches aborted, long nowMs) {
        LogConfig cfg = log.config();
        LogSegment cleaned = LogSegment.open(log.dir(), s.baseOffset(), cfg.segmentIndexBytes, cfg.indexIntervalBytes,
            ".cleaned", true, time.milliseconds());
        boolean swapped = false;
        try {
            FileBatchReader reader = s.batchesFrom(0);
            RecordBatch batch;
            while ((batch = reader.next()) != null) {
                if (batch.isControlBatch()) {
                    cleaned.append(batch.lastOffset(), batch.slice());
                    continue;
                }
                if (aborted.contains(batch)) {
                    continue;
                }
                int kept = 0;
                for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
                    if (retain(it.next(), latest, dropTombstones)) {
                        kept++;
                    }
                }
                if (kept == batch.recordCount()) {
                    cleaned.append(batch.lastOffset(), batch.slice());
                } else if (kept > 0) {
                    ByteBuffer rebuilt = rebuild(batch, latest, dropTombstones);
                    RecordBatch view = new RecordBatch().wrap(rebuilt, 0);
                    cleaned.append(view.lastOffset(), rebuilt);
                }
            }
            for (AbortedTxn txn : s.txnIndex().allAbortedTxns()) {
                cleaned.txnIndex().append(txn);
            }
            cleaned.onBecomeInactiveSegment();
            cleaned.flush();
            swapped = log.replaceSegment(s, cleaned);
            return swapped;
        } finally {
            if (!swapped) {
                cleaned.deleteIfExists();
            }
        }
    }

    private static ByteBuffer rebuild(RecordBatch batch, Map<ByteBuffer, Long> latest, boolean dropTombstones) {
        RecordBatchBuilder b = new RecordBatchBuilder(batch.compressionType(), batch.sizeInBytes())
            .baseOffset(batch.baseOffset())
            .timestampType(batch.timestampType())
            .partitionLeaderEpoch(batch.partitionLeaderEpoch())
            .transactional(batch.isTransactional());
        if (batch.hasProducerId()) {
            b.producer(batch.producerId(), batch.producerEpoch(), batch.baseSequence());
        }
        for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
            Record r = it.next();
            if (retain(r, latest, dropTombstones)) {
                b.appendWithOffset(r.offset(), r.timestamp(), r.key(), r.value(), r.headers());
            }
        }
        return b.build();
    }

    /** Which transactional batches belong to aborted transactions, from the aborted-transaction index. */
    private static final class AbortedBatches {
        private final Map<Long, List<AbortedTxn>> byProducer = new HashMap<>();

        AbortedBatches(List<AbortedTxn> txns) {
            for (AbortedTxn t : txns) {
                byProducer.computeIfAbsent(t.producerId(), k -> new java.util.ArrayList<>()).add(t);
            }
        }

        /** True for a data batch of a transaction that ended with an ABORT marker. */
        boolean contains(RecordBatch batch) {
            if (!batch.isTransactional() || batch.isControlBatch()) {
                return false;
            }
            List<AbortedTxn> txns = byProducer.get(batch.producerId());
            if (txns == null) {
                return false;
            }
            for (AbortedTxn t : txns) {
                // the transaction spans [its first offset, its abort marker]
                if (t.firstOffset() <= batch.baseOffset() && batch.lastOffset() < t.lastOffset()) {
                    return true;
                }
            }
            return false;
        }
    }
}
