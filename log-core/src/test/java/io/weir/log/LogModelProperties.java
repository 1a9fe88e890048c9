package io.weir.log;

import io.weir.common.record.CompressionType;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.common.testing.Batches;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.internals.LogSegment;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The partition {@link Log} against a model: a list of batches with contiguous offsets. Random
 * sequences of appends (every codec, several batches per request), reads from random offsets with
 * random byte and offset bounds, truncations (inside a batch, at a boundary, below the log start),
 * rolls, clean restarts, restarts without the clean-shutdown marker, crashes (the log dropped without
 * close, reopened from a random, older recovery point), clock moves and retention, on small segments
 * and indexes; transactions aborted by markers, with the transaction indexes of the recovered range
 * lost in each crash. After every step the log's whole content, read back batch by batch, equals the
 * model's, and so do the aborted transactions the log reports.
 * jqwik prints the seed and the shrunk step list on failure.
 */
class LogModelProperties {

    // ------------------------------------------------------------------ generated inputs

    record Rec(int timestampDelta, byte[] key, byte[] value) {
        @Override
        public String toString() {
            return "Rec(" + timestampDelta + ", key=" + (key == null ? "null" : key.length + "B")
                + ", value=" + (value == null ? "null" : value.length + "B") + ")";
        }
    }

    record BatchSpec(CompressionType codec, List<Rec> records) {
    }

    sealed interface Step permits Append, TxnAbort, Read, Truncate, Roll, Restart, Crash, Retention, AdvanceTime {
    }

    record Append(List<BatchSpec> batches) implements Step {
    }

    /** A new transactional producer appends {@code records} records, then an abort marker. */
    record TxnAbort(int records) implements Step {
    }

    /** {@code at}, {@code bound} in [0, 1): where to read, and which batch boundary bounds it (1 = none). */
    record Read(double at, double bound, int maxBytes, boolean minOneBatch) implements Step {
    }

    /** {@code at} in [0, 1) of [0, logEnd]: may fall below the log start. */
    record Truncate(double at) implements Step {
    }

    record Roll() implements Step {
    }

    /** close(), then open as after a clean shutdown, or as if the marker had not been written. */
    record Restart(boolean markerPresent) implements Step {
    }

    /**
     * No close(); reopen unclean from a checkpointed recovery point at {@code recoveryPointAt} of the real
     * one, after losing the {@code .txnindex} files that recovery must rebuild (those from the segment
     * holding the recovery point on).
     */
    record Crash(double recoveryPointAt) implements Step {
    }

    record Retention() implements Step {
    }

    record AdvanceTime(long ms) implements Step {
    }

    record Cfg(int segmentBytes, int indexIntervalBytes, int segmentIndexBytes, long retentionBytes, long retentionMs,
               long fileDeleteDelayMs) {
        LogConfig toLogConfig() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put(LogConfig.SEGMENT_BYTES, Integer.toString(segmentBytes));
            m.put(LogConfig.INDEX_INTERVAL_BYTES, Integer.toString(indexIntervalBytes));
            m.put(LogConfig.SEGMENT_INDEX_BYTES, Integer.toString(segmentIndexBytes));
            m.put(LogConfig.RETENTION_BYTES, Long.toString(retentionBytes));
            m.put(LogConfig.RETENTION_MS, Long.toString(retentionMs));
            m.put(LogConfig.FILE_DELETE_DELAY_MS, Long.toString(fileDeleteDelayMs));
            return LogConfig.fromMap(m);
        }
    }

    @Provide
    Arbitrary<Cfg> configs() {
        return Combinators.combine(
            Arbitraries.of(200, 700, 4096),
            Arbitraries.of(0, 150, 4096),
            // 24 bytes: 3 offset-index entries, 2 time-index entries, so indexes fill up and force rolls
            Arbitraries.of(24, 96, 10 * 1024 * 1024),
            Arbitraries.of(-1L, 1500L, 6000L),
            Arbitraries.of(-1L, 60_000L),
            Arbitraries.of(0L, 60_000L)).as(Cfg::new);
    }

    private static Arbitrary<Rec> records() {
        Arbitrary<byte[]> keys = Arbitraries.bytes().array(byte[].class).ofMaxSize(16).injectNull(0.1);
        Arbitrary<byte[]> values = Arbitraries.oneOf(
            Arbitraries.bytes().array(byte[].class).ofMaxSize(200),
            // compressible values too, so compressed batches come in very different sizes
            Arbitraries.integers().between(0, 400).map(n -> "x".repeat(n).getBytes()))
            .injectNull(0.1);
        return Combinators.combine(Arbitraries.integers().between(-1000, 1000), keys, values).as(Rec::new);
    }

    private static Arbitrary<BatchSpec> batchSpecs() {
        return Combinators.combine(Arbitraries.of(CompressionType.class), records().list().ofMinSize(1).ofMaxSize(8))
            .as(BatchSpec::new);
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> append = batchSpecs().list().ofMinSize(1).ofMaxSize(4).map(Append::new);
        Arbitrary<Double> fraction = Arbitraries.doubles().between(0, 1).filter(d -> d < 1);
        Arbitrary<Step> txnAbort = Arbitraries.integers().between(1, 4).map(TxnAbort::new);
        Arbitrary<Step> read = Combinators.combine(fraction, Arbitraries.doubles().between(0, 1),
            Arbitraries.integers().between(0, 3000), Arbitraries.of(true, false)).as(Read::new);
        Arbitrary<Step> truncate = fraction.map(Truncate::new);
        Arbitrary<Step> roll = Arbitraries.just(new Roll());
        Arbitrary<Step> restart = Arbitraries.of(true, false).map(Restart::new);
        Arbitrary<Step> crash = Arbitraries.doubles().between(0, 1).map(Crash::new);
        Arbitrary<Step> retention = Arbitraries.just(new Retention());
        Arbitrary<Step> advance = Arbitraries.longs().between(0, 90_000).map(AdvanceTime::new);
        return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(12, append),
            net.jqwik.api.Tuple.of(2, txnAbort),
            net.jqwik.api.Tuple.of(4, read),
            net.jqwik.api.Tuple.of(2, truncate),
            net.jqwik.api.Tuple.of(1, roll),
            net.jqwik.api.Tuple.of(1, restart),
            net.jqwik.api.Tuple.of(2, crash),
            net.jqwik.api.Tuple.of(2, retention),
            net.jqwik.api.Tuple.of(1, advance)).list().ofMinSize(1).ofMaxSize(40);
    }

    // ------------------------------------------------------------------ the model

    record ModelRecord(long offset, long timestamp, String key, String value) {
    }

    record ModelBatch(long baseOffset, int sizeInBytes, List<ModelRecord> records) {
        long lastOffset() {
            return baseOffset + records.size() - 1;
        }
    }

    /** An aborted transaction as the transaction index reports it. */
    record Aborted(long producerId, long firstOffset, long markerOffset) {
    }

    private static final class Model {
        final List<ModelBatch> batches = new ArrayList<>();
        /** In marker order. */
        final List<Aborted> aborted = new ArrayList<>();
        long start;
        long end;
        long nextProducerId = 1000;

        int indexOfBatchHolding(long offset) {
            for (int i = 0; i < batches.size(); i++) {
                if (batches.get(i).lastOffset() >= offset) {
                    return i;
                }
            }
            return -1;
        }
    }

    private static String hex(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static String hex(byte[] b) {
        return b == null ? null : HexFormat.of().formatHex(b);
    }

    private static ModelBatch describe(RecordBatch batch) {
        batch.ensureValid();
        List<ModelRecord> recs = new ArrayList<>();
        for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
            Record r = it.next();
            recs.add(new ModelRecord(r.offset(), r.timestamp(), hex(r.key()), hex(r.value())));
        }
        assertEquals(batch.lastOffset() - batch.baseOffset() + 1, recs.size(), "offsets in batch " + batch.baseOffset());
        return new ModelBatch(batch.baseOffset(), batch.sizeInBytes(), recs);
    }

    // ------------------------------------------------------------------ the property

    @Property(tries = 50)
    void logAgreesWithModel(@ForAll("configs") Cfg cfg, @ForAll("steps") List<Step> steps) throws IOException {
        Path root = TempDirs.create("log-model");
        Path dir = root.resolve("model-0");
        MockTime time = new MockTime();
        LogConfig config = cfg.toLogConfig();
        Model model = new Model();
        Log log = Log.open(dir, config, 0, 0, true, time);
        try {
            for (Step step : steps) {
                log = apply(step, log, model, dir, config, cfg, time);
                checkWholeLog(log, model);
            }
        } finally {
            log.close();
            TempDirs.delete(root);
        }
    }

    private static Log apply(Step step, Log log, Model model, Path dir, LogConfig config, Cfg cfg, MockTime time)
        throws IOException {
        if (step instanceof Append a) {
            append(log, model, a, time);
        } else if (step instanceof TxnAbort t) {
            abortedTransaction(log, model, t, time);
        } else if (step instanceof Read r) {
            read(log, model, r);
        } else if (step instanceof Truncate t) {
            truncate(log, model, t);
        } else if (step instanceof Roll) {
            int before = log.numberOfSegments();
            boolean activeEmpty = log.activeSegment().sizeInBytes() == 0;
            assertEquals(model.end, log.roll());
            assertEquals(activeEmpty ? before : before + 1, log.numberOfSegments());
        } else if (step instanceof Restart r) {
            // as LogManager does: close (flush), then checkpoint
            log.close();
            long recoveryPoint = log.recoveryPoint();
            long logStart = log.logStartOffset();
            log = Log.open(dir, config, recoveryPoint, logStart, r.markerPresent(), time);
            assertEquals(model.end, log.recoveryPoint(), "a clean close flushes everything");
        } else if (step instanceof Crash c) {
            // kill -9: the old object is dropped as it is (its bytes are in the page cache), and the
            // checkpointed recovery point may be older than the real one
            long recoveryPoint = (long) Math.floor(c.recoveryPointAt() * log.recoveryPoint());
            long logStart = log.logStartOffset();
            long recoverFrom = log.segments().get(0).baseOffset();
            for (var segment : log.segments()) {
                if (segment.baseOffset() <= recoveryPoint) {
                    recoverFrom = segment.baseOffset();
                }
            }
            for (var segment : log.segments()) {
                if (segment.baseOffset() >= recoverFrom) {
                    Files.deleteIfExists(LogSegment.file(dir, segment.baseOffset(), LogSegment.TXN_INDEX_SUFFIX));
                }
            }
            log = Log.open(dir, config, recoveryPoint, logStart, false, time);
            Log.RecoveryReport report = log.recoveryReport();
            assertTrue(report.recovered());
            assertEquals(0, report.bytesTruncated(), "a crash loses nothing the OS has: " + report);
            assertEquals(0, report.segmentsDeleted(), "a crash loses nothing the OS has: " + report);
        } else if (step instanceof Retention) {
            retention(log, model, cfg, time);
        } else if (step instanceof AdvanceTime a) {
            time.advance(a.ms());
        } else {
            throw new AssertionError("unknown step " + step);
        }
        return log;
    }

    private static void append(Log log, Model model, Append a, MockTime time) {
        List<MemoryRecords> parts = new ArrayList<>();
        List<ModelBatch> expected = new ArrayList<>();
        long offset = model.end;
        for (BatchSpec spec : a.batches()) {
            RecordBatchBuilder b = new RecordBatchBuilder(spec.codec());
            List<ModelRecord> recs = new ArrayList<>();
            for (Rec r : spec.records()) {
                long ts = time.milliseconds() + r.timestampDelta();
                b.append(ts, r.key(), r.value());
                recs.add(new ModelRecord(offset++, ts, hex(r.key()), hex(r.value())));
            }
            MemoryRecords m = MemoryRecords.readableRecords(b.build());
            parts.add(m);
            expected.add(new ModelBatch(recs.get(0).offset(), m.sizeInBytes(), recs));
        }
        LogAppendInfo info = log.appendAsLeader(Batches.concat(parts.toArray(new MemoryRecords[0])), 0);
        assertTrue(info.appended());
        assertEquals(model.end, info.firstOffset());
        assertEquals(offset - 1, info.lastOffset());
        model.batches.addAll(expected);
        model.end = offset;
    }

    private static void abortedTransaction(Log log, Model model, TxnAbort t, MockTime time) {
        long producerId = model.nextProducerId++;
        String[] values = new String[t.records()];
        for (int i = 0; i < values.length; i++) {
            values[i] = "txn-" + producerId + "-" + i;
        }
        MemoryRecords data = Batches.transactional(producerId, (short) 0, 0, time.milliseconds(), values);
        MemoryRecords marker = Batches.marker(producerId, (short) 0, ControlRecordType.ABORT, 0, time.milliseconds());
        long first = model.end;
        for (MemoryRecords m : List.of(data, marker)) {
            LogAppendInfo info = log.appendAsLeader(m, 0);
            assertTrue(info.appended(), info.toString());
            assertEquals(model.end, info.firstOffset());
            // the append assigned the offsets in place
            RecordBatch appended = new RecordBatch(m.buffer());
            model.batches.add(describe(appended));
            model.end = appended.nextOffset();
        }
        model.aborted.add(new Aborted(producerId, first, model.end - 1));
    }

    private static void read(Log log, Model model, Read r) throws IOException {
        long offset = model.start + (long) Math.floor(r.at() * (model.end - model.start + 1));
        int first = model.indexOfBatchHolding(offset);
        // the bound is a batch boundary at or after the start's batch, as a high watermark is
        long bound = Long.MAX_VALUE;
        if (first >= 0 && r.bound() < 0.9) {
            int i = first + (int) Math.floor(r.bound() / 0.9 * (model.batches.size() - first));
            bound = model.batches.get(i).lastOffset() + 1;
        }
        FetchDataInfo info = log.read(offset, r.maxBytes(), bound, r.minOneBatch());
        List<ModelBatch> got = new ArrayList<>();
        for (RecordBatch b : info.records().readRecords()) {
            got.add(describe(b));
        }
        if (first < 0) {
            assertEquals(0, info.records().sizeInBytes(), "read at the log end " + offset);
            return;
        }
        ModelBatch holding = model.batches.get(first);
        int limit = r.minOneBatch() ? Math.max(r.maxBytes(), holding.sizeInBytes()) : r.maxBytes();
        assertTrue(info.records().sizeInBytes() <= limit, "read " + info.records().sizeInBytes() + " > " + limit);
        if (limit >= holding.sizeInBytes()) {
            assertFalse(got.isEmpty(), "a read at " + offset + " with room for its batch returned none");
        }
        for (int i = 0; i < got.size(); i++) {
            assertEquals(model.batches.get(first + i), got.get(i), "batch " + i + " of a read at " + offset);
            assertTrue(got.get(i).lastOffset() < bound, "read past its bound " + bound);
        }
    }

    private static void truncate(Log log, Model model, Truncate t) {
        long target = (long) Math.floor(t.at() * (model.end + 1));
        boolean removed = log.truncateTo(target);
        assertEquals(target < model.end, removed, "truncateTo(" + target + ")");
        if (!removed) {
            return;
        }
        model.aborted.removeIf(a -> a.markerOffset() >= target || target < model.start);
        if (target < model.start) {
            model.batches.clear();
            model.start = target;
            model.end = target;
            return;
        }
        int cut = model.indexOfBatchHolding(target);
        model.end = model.batches.get(cut).baseOffset();
        model.batches.subList(cut, model.batches.size()).clear();
    }

    private static void retention(Log log, Model model, Cfg cfg, MockTime time) {
        long before = log.logStartOffset();
        long activeBase = log.activeSegment().baseOffset();
        int removed = log.deleteOldSegments(time.milliseconds());
        long start = log.logStartOffset();
        assertTrue(start >= before, "the log start went back from " + before + " to " + start);
        assertTrue(start <= activeBase, "retention removed the active segment");
        if (cfg.retentionBytes() < 0 && cfg.retentionMs() < 0) {
            assertEquals(0, removed);
        }
        assertEquals(removed > 0, start > before, "segments removed iff the log start moved");
        // whole segments go, so the new start is a batch boundary
        while (!model.batches.isEmpty() && model.batches.get(0).baseOffset() < start) {
            assertTrue(model.batches.get(0).lastOffset() < start, "retention split a batch at " + start);
            model.batches.remove(0);
        }
        model.start = start;
        // and enough went: what is left is within bounds, but for the active segment
        if (log.numberOfSegments() > 1) {
            var oldest = log.segments().get(0);
            if (cfg.retentionBytes() >= 0) {
                assertTrue(log.sizeInBytes() - oldest.sizeInBytes() < cfg.retentionBytes(),
                    "retention left " + log.sizeInBytes() + " bytes over " + cfg.retentionBytes());
            }
            if (cfg.retentionMs() >= 0) {
                assertTrue(time.milliseconds() - oldest.largestTimestamp() <= cfg.retentionMs(),
                    "retention left an expired segment");
            }
        }
    }

    /** Reads the whole log, batch by batch across segments, and compares it with the model. */
    private static void checkWholeLog(Log log, Model model) throws IOException {
        assertEquals(model.start, log.logStartOffset(), "log start offset");
        assertEquals(model.end, log.logEndOffset(), "log end offset");
        assertTrue(log.recoveryPoint() <= log.logEndOffset(), "recovery point beyond the log end");
        List<ModelBatch> got = new ArrayList<>();
        long next = log.logStartOffset();
        while (next < log.logEndOffset()) {
            FetchDataInfo info = log.read(next, 1 << 16, Long.MAX_VALUE, true);
            int before = got.size();
            for (RecordBatch b : info.records().readRecords()) {
                ModelBatch m = describe(b);
                assertEquals(next, m.baseOffset(), "offsets are contiguous");
                got.add(m);
                next = m.lastOffset() + 1;
            }
            assertTrue(got.size() > before, "no progress reading at " + next);
        }
        assertEquals(model.end, next, "the last batch ends at the log end offset");
        assertEquals(model.batches, got);
        List<Aborted> aborted = new ArrayList<>();
        for (AbortedTxn a : log.collectAbortedTransactions(model.start, model.end)) {
            aborted.add(new Aborted(a.producerId(), a.firstOffset(), a.lastOffset()));
        }
        assertEquals(model.aborted.stream().filter(a -> a.markerOffset() >= model.start).toList(), aborted,
            "aborted transactions");
    }
}
