package io.weir.tools;

import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.Header;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bin/weir-dump-log.sh}: prints segment files the way Kafka's DumpLogSegments does, one line
 * per batch (and, with {@code --print-data-log}, one line per record: control records as their
 * {@code endTxnMarker: COMMIT|ABORT coordinatorEpoch: N}); {@code --offsets-decoder} and
 * {@code --transaction-log-decoder} show the records of {@code __consumer_offsets} and
 * {@code __transaction_state} as Kafka does ({@link OffsetsDecoder}, {@link TransactionLogDecoder}); reads
 * {@code .index} and {@code .timeindex} files and reports entries that point past their log segment.
 */
@Command(name = "weir-dump-log.sh", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Print the batches and records of Weir/Kafka segment files, or the entries of index files.")
public final class DumpLogSegments implements Callable<Integer> {
    /** Upper bound on one batch read from a file: a hostile length never allocates more. */
    static final int MAX_BATCH_BYTES = 64 * 1024 * 1024;

    @Option(names = "--files", required = true, split = ",", paramLabel = "FILE",
        description = "Comma-separated .log, .index or .timeindex files to dump.")
    List<Path> files = new ArrayList<>();

    @Option(names = {"--print-data-log", "--deep-iteration"},
        description = "Also print every record (offset, timestamp, key, payload, headers).")
    boolean printDataLog;

    @Option(names = "--offsets-decoder", description = "Decode the records of a __consumer_offsets segment "
        + "(committed offsets, group metadata) as Kafka prints them; implies --print-data-log.")
    boolean offsetsDecoder;

    @Option(names = "--transaction-log-decoder", description = "Decode the records of a __transaction_state segment "
        + "(transactional id; producer id and epoch, state, partitions, timestamps) as Kafka prints them; implies "
        + "--print-data-log.")
    boolean transactionLogDecoder;

    @Option(names = "--max-bytes", paramLabel = "N", description = "Stop reading a .log file after N bytes (default: all).")
    long maxBytes = Long.MAX_VALUE;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream out;
    /** The decoder of a coordinator topic's records, or null to print keys and payloads as text. */
    private RecordDecoder decoder;

    DumpLogSegments(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the tool; returns its exit code (2 for bad flags, 1 when a file could not be read). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cmd = new CommandLine(new DumpLogSegments(out));
        cmd.setOut(new java.io.PrintWriter(out, true));
        cmd.setErr(new java.io.PrintWriter(err, true));
        return cmd.execute(args);
    }

    @Override
    public Integer call() {
        if (offsetsDecoder && transactionLogDecoder) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                "--offsets-decoder and --transaction-log-decoder cannot be used together");
        }
        decoder = offsetsDecoder ? OffsetsDecoder.INSTANCE : transactionLogDecoder ? TransactionLogDecoder.INSTANCE : null;
        int rc = 0;
        for (Path file : files) {
            out.println("Dumping " + file);
            try {
                String name = file.getFileName().toString();
                if (name.endsWith(".log")) {
                    dumpLog(file);
                } else if (name.endsWith(".timeindex")) {
                    dumpTimeIndex(file);
                } else if (name.endsWith(".index")) {
                    dumpOffsetIndex(file);
                } else {
                    out.println("Ignoring unknown file " + file + " (expected .log, .index or .timeindex)");
                    rc = 1;
                }
            } catch (IOException e) {
                out.println("Could not read " + file + ": " + e);
                rc = 1;
            }
        }
        return rc;
    }

    static long baseOffsetOf(Path file) {
        String name = file.getFileName().toString();
        String digits = name.substring(0, name.indexOf('.'));
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return 0L;
        }
    }

    private void dumpLog(Path file) throws IOException {
        out.println("Log starting offset: " + baseOffsetOf(file));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = Math.min(ch.size(), maxBytes);
            long position = 0;
            ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
            RecordBatch batch = new RecordBatch();
            while (position < size) {
                String problem = null;
                ByteBuffer buf = null;
                header.clear();
                if (size - position < RecordBatch.HEADER_SIZE) {
                    problem = "only " + (size - position) + " bytes remain, fewer than a batch header";
                } else {
                    readFully(ch, header, position);
                    int length = header.getInt(RecordBatch.LENGTH_OFFSET);
                    long total = (long) RecordBatch.LOG_OVERHEAD + length;
                    if (length < RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD) {
                        problem = "batch length " + length + " is less than a batch header";
                    } else if (position + total > size) {
                        problem = "batch length " + length + " runs past the end of the file";
                    } else if (total > MAX_BATCH_BYTES) {
                        problem = "batch length " + length + " exceeds " + MAX_BATCH_BYTES + " bytes";
                    } else {
                        buf = ByteBuffer.allocate((int) total);
                        readFully(ch, buf, position);
                    }
                }
                if (problem != null) {
                    out.println("Found " + (size - position) + " invalid bytes at the end of " + file.getFileName()
                        + " (position " + position + "): " + problem);
                    return;
                }
                batch.wrap(buf, 0);
                printBatch(batch, position);
                if ((printDataLog || decoder != null) && batch.isValid()) {
                    printRecords(batch);
                }
                position += batch.sizeInBytes();
            }
        }
    }

    private void printBatch(RecordBatch b, long position) {
        boolean valid = b.isValid();
        StringBuilder sb = new StringBuilder(256);
        sb.append("baseOffset: ").append(b.baseOffset())
            .append(" lastOffset: ").append(b.lastOffset())
            .append(" count: ").append(b.recordCount())
            .append(" baseSequence: ").append(b.baseSequence())
            .append(" lastSequence: ").append(b.lastSequence())
            .append(" producerId: ").append(b.producerId())
            .append(" producerEpoch: ").append(b.producerEpoch())
            .append(" partitionLeaderEpoch: ").append(b.partitionLeaderEpoch())
            .append(" isTransactional: ").append(b.isTransactional())
            .append(" isControl: ").append(b.isControlBatch())
            .append(" deleteHorizonMs: ").append(b.hasDeleteHorizon() ? "OptionalLong[" + b.deleteHorizonMs() + "]" : "OptionalLong.empty")
            .append(" position: ").append(position)
            .append(' ').append(b.timestampType().displayName).append(": ").append(b.maxTimestamp())
            .append(" size: ").append(b.sizeInBytes())
            .append(" magic: ").append(b.magic())
            .append(" compresscodec: ").append(safeCodec(b))
            .append(" crc: ").append(b.checksum())
            .append(" isvalid: ").append(valid);
        out.println(sb);
    }

    private static String safeCodec(RecordBatch b) {
        try {
            return b.compressionType().displayName;
        } catch (CorruptRecordException e) {
            return "unknown(" + (b.attributes() & 0x07) + ")";
        }
    }

    private void printRecords(RecordBatch b) {
        try {
            for (Iterator<Record> it = b.records(); it.hasNext(); ) {
                Record r = it.next();
                StringBuilder sb = new StringBuilder(128);
                sb.append("| offset: ").append(r.offset())
                    .append(' ').append(b.timestampType().displayName).append(": ").append(r.timestamp())
                    .append(" keySize: ").append(r.hasKey() ? r.key().remaining() : -1)
                    .append(" valueSize: ").append(r.hasValue() ? r.value().remaining() : -1);
                // as Kafka for magic v2 batches: the sequence always, -1 for a batch without a producer
                sb.append(" sequence: ").append(r.sequence());
                List<String> keys = new ArrayList<>();
                for (Header h : r.headers()) {
                    keys.add(h.key());
                }
                sb.append(" headerKeys: ").append(keys);
                if (b.isControlBatch()) {
                    sb.append(" endTxnMarker: ").append(io.weir.common.record.ControlRecordType.parse(r.key()))
                        .append(" coordinatorEpoch: ").append(io.weir.common.record.ControlRecordType.coordinatorEpoch(r.value()));
                } else if (decoder != null) {
                    RecordDecoder.Decoded d = decoder.decode(r.offset(), r.hasKey() ? r.key() : null,
                        r.hasValue() ? r.value() : null);
                    sb.append(" key: ").append(d.key());
                    if (d.payload() != null) {
                        sb.append(" payload: ").append(d.payload());
                    }
                } else {
                    sb.append(" key: ").append(text(r.keyBytes())).append(" payload: ").append(text(r.valueBytes()));
                }
                out.println(sb);
            }
        } catch (CorruptRecordException e) {
            out.println("| corrupt records in batch at offset " + b.baseOffset() + ": " + e.getMessage());
        }
    }

    private static String text(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }

    private void dumpOffsetIndex(Path file) throws IOException {
        long base = baseOffsetOf(file);
        Path log = sibling(file, ".log");
        long logSize = Files.exists(log) ? Files.size(log) : -1;
        ByteBuffer idx = ByteBuffer.wrap(Files.readAllBytes(file));
        int problems = 0;
        for (int i = 0; i + 8 <= idx.limit(); i += 8) {
            int rel = idx.getInt(i);
            int pos = idx.getInt(i + 4);
            if (i > 0 && rel == 0 && pos == 0) {
                break; // preallocated, unused space
            }
            out.println("offset: " + (base + rel) + " position: " + pos);
            if (logSize >= 0 && pos >= logSize && !(pos == 0 && logSize == 0)) {
                out.println("  entry " + (i / 8) + " (offset " + (base + rel) + ") points to position " + pos
                    + " past the end of " + log.getFileName() + " (size " + logSize + ")");
                problems++;
            }
        }
        if (logSize < 0) {
            out.println("No log file " + log.getFileName() + " beside the index: positions not checked");
        } else {
            out.println(problems == 0 ? "All index entries point inside the log"
                : problems + " index entries point past the end of the log");
        }
    }

    private void dumpTimeIndex(Path file) throws IOException {
        long base = baseOffsetOf(file);
        Path log = sibling(file, ".log");
        long lastOffsetInLog = Files.exists(log) ? lastOffset(log) : Long.MIN_VALUE;
        ByteBuffer idx = ByteBuffer.wrap(Files.readAllBytes(file));
        int problems = 0;
        for (int i = 0; i + 12 <= idx.limit(); i += 12) {
            long ts = idx.getLong(i);
            int rel = idx.getInt(i + 8);
            if (i > 0 && ts == 0 && rel == 0) {
                break;
            }
            out.println("timestamp: " + ts + " offset: " + (base + rel));
            if (lastOffsetInLog != Long.MIN_VALUE && base + rel > lastOffsetInLog) {
                out.println("  entry " + (i / 12) + " points to offset " + (base + rel) + " past the last offset "
                    + lastOffsetInLog + " of " + log.getFileName());
                problems++;
            }
        }
        if (lastOffsetInLog != Long.MIN_VALUE) {
            out.println(problems == 0 ? "All time index entries point inside the log"
                : problems + " time index entries point past the end of the log");
        }
    }

    /** The last offset of the valid batches of a log file, or base - 1 when it has none. */
    private static long lastOffset(Path log) throws IOException {
        long last = baseOffsetOf(log) - 1;
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ)) {
            long size = ch.size();
            long position = 0;
            ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
            while (size - position >= RecordBatch.HEADER_SIZE) {
                header.clear();
                readFully(ch, header, position);
                int length = header.getInt(RecordBatch.LENGTH_OFFSET);
                if (length < RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD
                    || position + RecordBatch.LOG_OVERHEAD + length > size) {
                    break;
                }
                last = header.getLong(RecordBatch.BASE_OFFSET_OFFSET) + header.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET);
                position += RecordBatch.LOG_OVERHEAD + length;
            }
        }
        return last;
    }

    private static Path sibling(Path file, String suffix) {
        String name = file.getFileName().toString();
        return file.resolveSibling(name.substring(0, name.indexOf('.')) + suffix);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) {
                throw new IOException("unexpected end of file at " + p);
            }
            p += n;
        }
        buf.flip();
    }
}
