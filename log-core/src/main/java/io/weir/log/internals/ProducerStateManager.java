package io.weir.log.internals;

import io.weir.common.record.ControlRecordType;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.utils.Crc32c;
import io.weir.common.utils.FileUtils;
import io.weir.log.ActiveProducer;
import io.weir.log.CompletedTxn;
import io.weir.log.ProducerAppendCheck;
import io.weir.log.ProducerAppendCheck.Result;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The idempotence and transaction state of one partition: per producer id its epoch, its last five
 * batches (sequences and offsets, to answer retries), its transaction coordinator epoch and the first
 * offset of its open transaction. Updated on every append; checked before one.
 *
 * <p>Durability: {@link #takeSnapshot} writes the state as of an offset to {@code <offset>.snapshot}
 * in the log directory (on roll and on clean close). On start the log loads the latest valid snapshot
 * and replays the batches after it, so the state survives kill -9 whatever the snapshot's age.
 *
 * <p>Snapshot file (big-endian):
 * <pre>
 *  version int16 (1) | crc int32 (CRC-32C of the bytes after it) | producerCount int32
 *  per producer: producerId int64 | epoch int16 | coordinatorEpoch int32 | txnFirstOffset int64
 *                | lastTimestamp int64 | batchCount int8 (&lt;= 5)
 *     per batch, oldest first: firstSeq int32 | lastSeq int32 | firstOffset int64 | offsetDelta int32 | timestamp int64
 * </pre>
 *
 * <p>Not thread-safe: the owning log calls it under its append lock, except {@link #writeSnapshot},
 * which it calls after releasing that lock (the snapshot's fsyncs never run under it).
 */
public final class ProducerStateManager {
    private static final Logger LOG = LoggerFactory.getLogger(ProducerStateManager.class);

    public static final String SNAPSHOT_SUFFIX = ".snapshot";
    /** How many batches per producer are remembered for duplicate detection (Kafka's client limit of in-flight requests). */
    public static final int BATCHES_RETAINED = 5;
    private static final short SNAPSHOT_VERSION = 1;
    private static final int PRODUCER_HEADER_BYTES = 8 + 2 + 4 + 8 + 8 + 1;
    private static final int BATCH_BYTES = 4 + 4 + 8 + 4 + 8;
    private static final int MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024;

    private final Path dir;
    private final int snapshotsRetained;
    private final Map<Long, ProducerEntry> producers = new HashMap<>();
    /** First offset of each open transaction → its producer: the smallest key is the first unstable offset. */
    private final TreeMap<Long, Long> ongoingTxns = new TreeMap<>();
    /** The state reflects every batch below this offset. */
    private long mapEndOffset;
    /**
     * Guards the snapshot files: writes (outside the log's lock) and deletions above an offset
     * (truncation, under it). Lock order: the log's lock, then this; never the reverse.
     */
    private final Object files = new Object();
    /** Bumped by every truncation of the snapshot files; a captured snapshot of an older generation is stale. */
    private long filesGeneration;
    private volatile Runnable snapshotWriteObserver;

    public ProducerStateManager(Path dir, int snapshotsRetained) {
        this.dir = dir;
        this.snapshotsRetained = Math.max(1, snapshotsRetained);
    }

    /** One producer's state. The last batches are a ring of primitive arrays: no allocation per append. */
    public static final class ProducerEntry {
        final long producerId;
        short epoch = RecordBatch.NO_PRODUCER_EPOCH;
        int coordinatorEpoch = -1;
        long currentTxnFirstOffset = -1;
        long lastTimestamp = RecordBatch.NO_TIMESTAMP;
        final int[] firstSeq = new int[BATCHES_RETAINED];
        final int[] lastSeq = new int[BATCHES_RETAINED];
        final long[] firstOffset = new long[BATCHES_RETAINED];
        final int[] offsetDelta = new int[BATCHES_RETAINED];
        final long[] timestamp = new long[BATCHES_RETAINED];
        int count;
        /** Index of the oldest batch in the ring. */
        int head;

        ProducerEntry(long producerId) {
            this.producerId = producerId;
        }

        public long producerId() {
            return producerId;
        }

        public short epoch() {
            return epoch;
        }

        public int coordinatorEpoch() {
            return coordinatorEpoch;
        }

        public long currentTxnFirstOffset() {
            return currentTxnFirstOffset;
        }

        public long lastTimestamp() {
            return lastTimestamp;
        }

        public int batchCount() {
            return count;
        }

        /** Sequence of the newest batch's last record, or NO_SEQUENCE. */
        public int lastSequence() {
            return count == 0 ? RecordBatch.NO_SEQUENCE : lastSeq[slot(count - 1)];
        }

        public long lastOffset() {
            return count == 0 ? -1 : firstOffset[slot(count - 1)] + offsetDelta[slot(count - 1)];
        }

        private int slot(int i) {
            return (head + i) % BATCHES_RETAINED;
        }

        void addBatch(int first, int last, long offset, int delta, long ts) {
            int s;
            if (count < BATCHES_RETAINED) {
                s = slot(count);
                count++;
            } else {
                s = head;
                head = (head + 1) % BATCHES_RETAINED;
            }
            firstSeq[s] = first;
            lastSeq[s] = last;
            firstOffset[s] = offset;
            offsetDelta[s] = delta;
            timestamp[s] = ts;
        }

        void clearBatches() {
            count = 0;
            head = 0;
        }

        /** The ring slot of a retained batch with exactly these sequences, or -1. */
        int findDuplicate(int first, int last) {
            for (int i = 0; i < count; i++) {
                int s = slot(i);
                if (firstSeq[s] == first && lastSeq[s] == last) {
                    return s;
                }
            }
            return -1;
        }
    }

    public long mapEndOffset() {
        return mapEndOffset;
    }

    public void updateMapEndOffset(long offset) {
        mapEndOffset = offset;
    }

    public ProducerEntry entry(long producerId) {
        return producers.get(producerId);
    }

    /** A copy of every producer's state, in producer id order. */
    public List<ActiveProducer> activeProducers() {
        List<ActiveProducer> out = new ArrayList<>(producers.size());
        for (ProducerEntry e : producers.values()) {
            out.add(new ActiveProducer(e.producerId, e.epoch, e.lastSequence(), e.lastTimestamp, e.coordinatorEpoch,
                e.currentTxnFirstOffset));
        }
        out.sort(java.util.Comparator.comparingLong(ActiveProducer::producerId));
        return out;
    }

    public int producerCount() {
        return producers.size();
    }

    /** The first offset of the oldest open transaction: the last stable offset can be no higher. */
    public OptionalLong firstUnstableOffset() {
        return ongoingTxns.isEmpty() ? OptionalLong.empty() : OptionalLong.of(ongoingTxns.firstKey());
    }

    private static boolean inSequence(int lastSeq, int nextSeq) {
        return nextSeq == lastSeq + 1L || (nextSeq == 0 && lastSeq == Integer.MAX_VALUE);
    }

    /** {@link #check(RecordBatch, RecordBatch)} with no earlier batch of the same producer in the request. */
    public ProducerAppendCheck check(RecordBatch batch) {
        return check(batch, null);
    }

    /**
     * Decides whether {@code batch} may be appended. {@code previousInRequest}, if not null, is an
     * earlier batch of the same producer in the same request (validated but not yet applied), which
     * this one must follow. Batches without a producer id always pass.
     */
    public ProducerAppendCheck check(RecordBatch batch, RecordBatch previousInRequest) {
        if (!batch.hasProducerId()) {
            return ProducerAppendCheck.OK;
        }
        long pid = batch.producerId();
        short epoch = batch.producerEpoch();
        ProducerEntry entry = producers.get(pid);
        short currentEpoch = previousInRequest != null ? previousInRequest.producerEpoch()
            : entry == null ? RecordBatch.NO_PRODUCER_EPOCH : entry.epoch;
        if (epoch < currentEpoch) {
            return ProducerAppendCheck.error(Result.INVALID_PRODUCER_EPOCH, "producer " + pid + " epoch " + epoch
                + " is older than the current epoch " + currentEpoch);
        }
        if (batch.isControlBatch()) {
            if (entry != null && batch.recordCount() > 0) {
                int coordinatorEpoch = markerCoordinatorEpoch(batch);
                if (coordinatorEpoch < entry.coordinatorEpoch) {
                    return ProducerAppendCheck.error(Result.TRANSACTION_COORDINATOR_FENCED, "marker for producer " + pid
                        + " has coordinator epoch " + coordinatorEpoch + " below " + entry.coordinatorEpoch);
                }
            }
            return ProducerAppendCheck.OK;
        }
        if (!batch.isTransactional() && entry != null && entry.currentTxnFirstOffset >= 0 && epoch == entry.epoch) {
            return ProducerAppendCheck.error(Result.INVALID_TXN_STATE, "producer " + pid
                + " sent a non-transactional batch during its transaction starting at " + entry.currentTxnFirstOffset);
        }
        int firstSeq = batch.baseSequence();
        if (previousInRequest != null) {
            if (epoch == previousInRequest.producerEpoch() ? !inSequence(previousInRequest.lastSequence(), firstSeq) : firstSeq != 0) {
                return outOfOrder(pid, epoch, firstSeq, previousInRequest.lastSequence());
            }
            return ProducerAppendCheck.OK;
        }
        if (entry == null || entry.epoch == RecordBatch.NO_PRODUCER_EPOCH) {
            // unknown producer (new, or its state went with retention or producer.id.expiration.ms): any
            // sequence starts it, as in Kafka since KIP-360
            return ProducerAppendCheck.OK;
        }
        if (epoch > entry.epoch) {
            return firstSeq == 0 ? ProducerAppendCheck.OK : outOfOrder(pid, epoch, firstSeq, RecordBatch.NO_SEQUENCE);
        }
        int dup = entry.findDuplicate(firstSeq, batch.lastSequence());
        if (dup >= 0) {
            return new ProducerAppendCheck(Result.DUPLICATE, entry.firstOffset[dup],
                entry.firstOffset[dup] + entry.offsetDelta[dup], "duplicate of sequences " + firstSeq + ".." + batch.lastSequence());
        }
        if (!inSequence(entry.lastSequence(), firstSeq)) {
            return outOfOrder(pid, epoch, firstSeq, entry.lastSequence());
        }
        return ProducerAppendCheck.OK;
    }

    private static ProducerAppendCheck outOfOrder(long pid, short epoch, int firstSeq, int lastSeq) {
        return ProducerAppendCheck.error(Result.OUT_OF_ORDER_SEQUENCE, "producer " + pid + " epoch " + epoch
            + ": sequence " + firstSeq + " does not follow " + lastSeq);
    }

    private static int markerCoordinatorEpoch(RecordBatch controlBatch) {
        Iterator<Record> it = controlBatch.records();
        return ControlRecordType.coordinatorEpoch(it.next().value());
    }

    /**
     * Applies an appended batch (offsets assigned). Returns the transaction a control batch completes,
     * else null. Does no validation: replaying the log after a snapshot goes through here too.
     */
    public CompletedTxn update(RecordBatch batch) {
        mapEndOffset = Math.max(mapEndOffset, batch.nextOffset());
        if (!batch.hasProducerId()) {
            return null;
        }
        long pid = batch.producerId();
        ProducerEntry entry = producers.get(pid);
        if (entry == null) {
            entry = new ProducerEntry(pid);
            producers.put(pid, entry);
        }
        short epoch = batch.producerEpoch();
        if (epoch != entry.epoch) {
            entry.epoch = epoch;
            entry.clearBatches();
        }
        entry.lastTimestamp = Math.max(entry.lastTimestamp, batch.maxTimestamp());
        if (batch.isControlBatch()) {
            if (batch.recordCount() == 0) {
                return null;
            }
            Record marker = batch.records().next();
            ControlRecordType type = ControlRecordType.parse(marker.key());
            entry.coordinatorEpoch = ControlRecordType.coordinatorEpoch(marker.value());
            long first = entry.currentTxnFirstOffset;
            if (first < 0) {
                return null;
            }
            entry.currentTxnFirstOffset = -1;
            ongoingTxns.remove(first);
            return new CompletedTxn(pid, first, batch.lastOffset(), type == ControlRecordType.ABORT);
        }
        entry.addBatch(batch.baseSequence(), batch.lastSequence(), batch.baseOffset(), batch.lastOffsetDelta(),
            batch.maxTimestamp());
        if (batch.isTransactional() && entry.currentTxnFirstOffset < 0) {
            entry.currentTxnFirstOffset = batch.baseOffset();
            ongoingTxns.put(batch.baseOffset(), pid);
        }
        return null;
    }

    /** The last stable offset once {@code txn} is complete: the first other open transaction, or after the marker. */
    public long lastStableOffset(CompletedTxn txn) {
        for (Map.Entry<Long, Long> e : ongoingTxns.entrySet()) {
            if (e.getValue() != txn.producerId()) {
                return Math.min(e.getKey(), txn.lastOffset() + 1);
            }
        }
        return txn.lastOffset() + 1;
    }

    /**
     * Forgets every producer idle for at least {@code expirationMs} ({@code producer.id.expiration.ms}):
     * one whose last batch's max timestamp is that old, unless it has an open transaction, which stays
     * until its marker (dropping it would lose the first unstable offset and let a later marker find no
     * transaction to close). Bounds the state, and so every snapshot, to the producers still writing.
     * A producer that writes again after this is unknown, so its next batch is accepted at any sequence
     * (as in Kafka since KIP-360). Returns how many were removed.
     */
    public int removeExpiredProducers(long nowMs, long expirationMs) {
        int removed = 0;
        for (Iterator<ProducerEntry> it = producers.values().iterator(); it.hasNext(); ) {
            ProducerEntry e = it.next();
            if (e.currentTxnFirstOffset < 0 && nowMs - e.lastTimestamp >= expirationMs) {
                it.remove();
                removed++;
            }
        }
        return removed;
    }

    /** Forgets everything (the log was truncated fully or is being rebuilt). */
    public void clear() {
        producers.clear();
        ongoingTxns.clear();
        mapEndOffset = 0;
    }

    // ---------------------------------------------------------------- snapshots

    public static Path snapshotFile(Path dir, long offset) {
        return LogSegment.file(dir, offset, SNAPSHOT_SUFFIX);
    }

    /** Snapshot offsets in the directory, ascending. */
    public List<Long> snapshotOffsets() {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString())
                .filter(n -> n.endsWith(SNAPSHOT_SUFFIX) && n.length() == 20 + SNAPSHOT_SUFFIX.length())
                .forEach(n -> {
                    try {
                        out.add(LogSegment.offsetFromFileName(n));
                    } catch (NumberFormatException e) {
                        // not ours
                    }
                });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        out.sort(null);
        return out;
    }

    /**
     * The state as of {@link #mapEndOffset()}, serialized in memory: cheap, done under the log's lock.
     * {@link #writeSnapshot} puts it on disk (two fsyncs) after the lock is released.
     */
    public Snapshot captureSnapshot() {
        int size = 2 + 4 + 4;
        for (ProducerEntry e : producers.values()) {
            size += PRODUCER_HEADER_BYTES + e.count * BATCH_BYTES;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.putShort(SNAPSHOT_VERSION).putInt(0).putInt(producers.size());
        for (ProducerEntry e : producers.values()) {
            b.putLong(e.producerId).putShort(e.epoch).putInt(e.coordinatorEpoch).putLong(e.currentTxnFirstOffset)
                .putLong(e.lastTimestamp).put((byte) e.count);
            for (int i = 0; i < e.count; i++) {
                int s = e.slot(i);
                b.putInt(e.firstSeq[s]).putInt(e.lastSeq[s]).putLong(e.firstOffset[s]).putInt(e.offsetDelta[s])
                    .putLong(e.timestamp[s]);
            }
        }
        b.flip();
        b.putInt(2, (int) Crc32c.compute(b, 6, size - 6));
        synchronized (files) {
            return new Snapshot(mapEndOffset, b, filesGeneration);
        }
    }

    /**
     * Writes a captured snapshot to {@code <offset>.snapshot} (temp file, fsync, rename, directory
     * fsync), then keeps only the newest few. Safe without the log's lock: a snapshot captured before
     * a truncation deleted the snapshots above some offset is dropped rather than written, so a stale
     * state never lands at an offset the log has since rewritten. Returns whether it was written.
     */
    public boolean writeSnapshot(Snapshot snapshot) {
        synchronized (files) {
            if (snapshot.generation() != filesGeneration) {
                return false;
            }
            if (snapshotWriteObserver != null) {
                snapshotWriteObserver.run();
            }
            try {
                FileUtils.atomicWrite(snapshotFile(dir, snapshot.offset()), snapshot.bytes().duplicate());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write producer snapshot in " + dir, e);
            }
            List<Long> offsets = snapshotOffsets();
            for (int i = 0; i < offsets.size() - snapshotsRetained; i++) {
                deleteSnapshot(offsets.get(i));
            }
            return true;
        }
    }

    /** Captures and writes at once: for loading and tools, where no lock is contended. */
    public void takeSnapshot() {
        writeSnapshot(captureSnapshot());
    }

    /** Called (under the file monitor) just before each snapshot write; for tests that check who writes. */
    public void onSnapshotWrite(Runnable observer) {
        this.snapshotWriteObserver = observer;
    }

    /** The producer state serialized as of {@code offset}, waiting to be written. */
    public record Snapshot(long offset, ByteBuffer bytes, long generation) {
    }

    /**
     * Deletes snapshots above {@code offset} (they describe data a truncation removed), and drops any
     * snapshot captured before this call that is not yet written.
     */
    public void deleteSnapshotsAbove(long offset) {
        synchronized (files) {
            filesGeneration++;
            for (long o : snapshotOffsets()) {
                if (o > offset) {
                    deleteSnapshot(o);
                }
            }
        }
    }

    private void deleteSnapshot(long offset) {
        try {
            Files.deleteIfExists(snapshotFile(dir, offset));
        } catch (IOException e) {
            LOG.warn("Cannot delete producer snapshot {} in {}", offset, dir, e);
        }
    }

    /**
     * Replaces the state with the newest valid snapshot at or below {@code maxOffset}, deleting any
     * corrupt one it meets. Returns the snapshot's offset (the caller replays batches from there), or
     * empty when there is none (state cleared; replay from the log start).
     */
    public OptionalLong loadLatestSnapshot(long maxOffset) {
        clear();
        List<Long> offsets = snapshotOffsets();
        for (int i = offsets.size() - 1; i >= 0; i--) {
            long offset = offsets.get(i);
            if (offset > maxOffset) {
                continue;
            }
            try {
                read(snapshotFile(dir, offset));
                mapEndOffset = offset;
                return OptionalLong.of(offset);
            } catch (IOException | RuntimeException e) {
                LOG.warn("Deleting unreadable producer snapshot {} in {}: {}", offset, dir, e.toString());
                clear();
                deleteSnapshot(offset);
            }
        }
        return OptionalLong.empty();
    }

    private void read(Path file) throws IOException {
        ByteBuffer b = FileUtils.readBounded(file, MAX_SNAPSHOT_BYTES);
        if (b.remaining() < 10) {
            throw new IOException("snapshot " + file + " is too short");
        }
        short version = b.getShort(0);
        if (version != SNAPSHOT_VERSION) {
            throw new IOException("snapshot " + file + " has version " + version);
        }
        long stored = b.getInt(2) & 0xffffffffL;
        long computed = Crc32c.compute(b, 6, b.limit() - 6);
        if (stored != computed) {
            throw new IOException("snapshot " + file + " has CRC " + stored + ", computed " + computed);
        }
        b.position(6);
        int n = b.getInt();
        if (n < 0 || (long) n * PRODUCER_HEADER_BYTES > b.remaining()) {
            throw new IOException("snapshot " + file + " claims " + n + " producers");
        }
        for (int i = 0; i < n; i++) {
            ProducerEntry e = new ProducerEntry(b.getLong());
            e.epoch = b.getShort();
            e.coordinatorEpoch = b.getInt();
            e.currentTxnFirstOffset = b.getLong();
            e.lastTimestamp = b.getLong();
            int count = b.get();
            if (count < 0 || count > BATCHES_RETAINED || count * BATCH_BYTES > b.remaining()) {
                throw new IOException("snapshot " + file + " has " + count + " batches for producer " + e.producerId);
            }
            for (int j = 0; j < count; j++) {
                e.addBatch(b.getInt(), b.getInt(), b.getLong(), b.getInt(), b.getLong());
            }
            producers.put(e.producerId, e);
            if (e.currentTxnFirstOffset >= 0) {
                ongoingTxns.put(e.currentTxnFirstOffset, e.producerId);
            }
        }
        if (b.hasRemaining()) {
            throw new IOException("snapshot " + file + " has " + b.remaining() + " trailing bytes");
        }
    }
}
