package io.weir.log.internals;

import io.weir.common.TopicPartition;
import io.weir.common.utils.FileUtils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small text file mapping partitions to offsets (recovery points, log start offsets), replaced
 * atomically on every write (temp file, fsync, rename, fsync directory):
 * <pre>
 * 0                      version
 * 2                      entry count
 * orders 0 1234          topic partition offset
 * orders 1 99
 * </pre>
 * A malformed file is an {@link IOException} naming the line: the caller decides (the log manager
 * falls back to full recovery). Thread-safe: writes and reads are serialized.
 */
public final class CheckpointFile {
    private static final int VERSION = 0;
    private static final int MAX_BYTES = 64 * 1024 * 1024;

    private final Path file;

    public CheckpointFile(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    public synchronized void write(Map<TopicPartition, Long> offsets) {
        StringBuilder sb = new StringBuilder();
        sb.append(VERSION).append('\n').append(offsets.size()).append('\n');
        for (Map.Entry<TopicPartition, Long> e : offsets.entrySet()) {
            sb.append(e.getKey().topic()).append(' ').append(e.getKey().partition()).append(' ')
                .append(e.getValue()).append('\n');
        }
        try {
            FileUtils.atomicWrite(file, ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file, e);
        }
    }

    /** The entries, or an empty map if the file does not exist. */
    public synchronized Map<TopicPartition, Long> read() throws IOException {
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return out;
        }
        ByteBuffer b = FileUtils.readBounded(file, MAX_BYTES);
        String[] lines = StandardCharsets.UTF_8.decode(b).toString().split("\n", -1);
        if (lines.length < 2) {
            throw new IOException(file + ": missing version or count line");
        }
        try {
            int version = Integer.parseInt(lines[0].trim());
            if (version != VERSION) {
                throw new IOException(file + ": unsupported version " + version);
            }
            int count = Integer.parseInt(lines[1].trim());
            if (count < 0 || count > lines.length - 2) {
                throw new IOException(file + ": count " + count + " but " + (lines.length - 2) + " lines follow");
            }
            for (int i = 0; i < count; i++) {
                String[] parts = lines[2 + i].trim().split(" ");
                if (parts.length != 3) {
                    throw new IOException(file + ": malformed line " + (3 + i) + ": '" + lines[2 + i] + "'");
                }
                out.put(new TopicPartition(parts[0], Integer.parseInt(parts[1])), Long.parseLong(parts[2]));
            }
            for (int i = 2 + count; i < lines.length; i++) {
                if (!lines[i].isBlank()) {
                    throw new IOException(file + ": unexpected line " + (i + 1) + " after " + count + " entries");
                }
            }
        } catch (NumberFormatException e) {
            throw new IOException(file + ": malformed number: " + e.getMessage(), e);
        }
        return out;
    }
}
