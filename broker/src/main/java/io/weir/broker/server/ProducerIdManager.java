package io.weir.broker.server;

import io.weir.common.utils.FileUtils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Hands out producer ids for InitProducerId, unique for the life of the log directory.
 *
 * <p>Ids are reserved in blocks of {@link #BLOCK_SIZE}: before the first id of a block is returned,
 * the end of the block is written to {@code <log.dir>/__weir_metadata/producer_id_block} (temp file,
 * fsync, atomic rename, directory fsync). After a restart — clean or {@code kill -9} — allocation
 * resumes at the persisted end, so an id is never given twice even if some ids of the last block
 * were never used. One fsync per block keeps InitProducerId cheap.
 *
 * <p>Thread-safe: allocation is serialized on this object.
 */
public final class ProducerIdManager {
    /** Ids reserved per durable write. */
    public static final long BLOCK_SIZE = 1000;
    static final String FILE_NAME = "producer_id_block";

    private final Path file;
    private long nextId;
    private long blockEndExclusive;

    public ProducerIdManager(Path logDir) {
        Path dir = logDir.resolve(io.weir.broker.metadata.LocalMetadataStore.DIR_NAME);
        this.file = dir.resolve(FILE_NAME);
        try {
            Files.createDirectories(dir);
            long persistedEnd = 0;
            if (Files.exists(file)) {
                String s = Files.readString(file, StandardCharsets.UTF_8).trim();
                try {
                    persistedEnd = Long.parseLong(s);
                } catch (NumberFormatException e) {
                    throw new IllegalStateException("corrupt producer id block file " + file + ": '" + s + "'", e);
                }
                if (persistedEnd < 0) {
                    throw new IllegalStateException("corrupt producer id block file " + file + ": " + persistedEnd);
                }
            }
            this.nextId = persistedEnd;
            this.blockEndExclusive = persistedEnd;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open producer id state in " + dir, e);
        }
    }

    /** A producer id never handed out before by this log directory. */
    public synchronized long nextProducerId() {
        if (nextId >= blockEndExclusive) {
            long end = nextId + BLOCK_SIZE;
            try {
                FileUtils.atomicWrite(file, ByteBuffer.wrap((end + "\n").getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot persist producer id block to " + file, e);
            }
            blockEndExclusive = end;
        }
        return nextId++;
    }
}
