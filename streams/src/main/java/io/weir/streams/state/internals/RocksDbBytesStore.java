package io.weir.streams.state.internals;

import io.weir.common.TopicPartition;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Status;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBatchWithIndex;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

/**
 * A {@link TransactionalBytesStore} on RocksDB: the persistent engine behind Weir's exactly-once state
 * (DESIGN.md, "Exactly-once"). One RocksDB instance per store per task, in
 * {@code <taskStateDir>/rocksdb/<name>}, with two column families: {@value #DATA_CF_NAME} (the entries) and
 * {@value #METADATA_CF_NAME} (the format version and the committed offsets per partition).
 *
 * <p>Uncommitted writes live in a {@link WriteBatchWithIndex} (overwrite-key mode) that {@link #get} and
 * {@link #range} read through. {@link #commit} puts the offsets into that same batch and applies the whole
 * batch with one synced {@code db.write}: data and offsets become durable together or not at all. So after
 * a crash (SIGKILL, power loss) the store reopens exactly at its last commit and {@link #committedOffsets}
 * says where its changelog tail starts; nothing is ever wiped for an unclean stop. Only damaged files
 * ({@link StoreCorruptedException}) justify {@link #wipeCorrupted}. {@link #commitReplayable} (a changelogged
 * store) is the same write without the fsync: after a SIGKILL still exactly at the last commit, after a power
 * loss possibly at an earlier whole one; {@link #beginBulkLoad} (a restore) commits without the WAL.
 *
 * <p>Threads: the owning stream thread calls every method. {@link #getCommitted}, {@link #rangeCommitted}
 * (and its iterators) and {@link #committedOffsets} may also be called from other threads (interactive
 * queries): they read the DB only, never the batch, under a read lock that {@link #close} takes for
 * writing, so no reader ever touches a freed native handle. An iterator from {@link #rangeCommitted}
 * reads a consistent point-in-time view (RocksDB pins an implicit snapshot at its creation).
 *
 * <p>Iterators from {@link #range} merge the batch with the DB. Writes while one is open are allowed (it
 * may or may not see them); {@link #commit}, {@link #abort} and {@link #close} invalidate it (its next use
 * throws {@link IllegalStateException}) because they clear the batch it reads.
 */
public final class RocksDbBytesStore implements TransactionalBytesStore {

    private static final Logger log = LoggerFactory.getLogger(RocksDbBytesStore.class);

    /** The on-disk layout this code writes; a store written by a newer layout is refused, never wiped. */
    public static final int FORMAT_VERSION = 1;
    public static final String DATA_CF_NAME = "data";
    public static final String METADATA_CF_NAME = "metadata";
    /** The subdirectory of a task's state directory that holds its RocksDB stores. */
    public static final String ROCKSDB_DIR = "rocksdb";
    /** A snapshot's descriptor file (store name, format version, offsets), beside its {@code db/} directory. */
    public static final String SNAPSHOT_DESCRIPTOR = "snapshot.offsets";
    public static final String SNAPSHOT_DB_DIR = "db";

    private static final byte[] FORMAT_VERSION_KEY = "format.version".getBytes(StandardCharsets.UTF_8);
    /** Offset keys: this prefix, the partition (4 bytes big-endian), the topic (UTF-8). Value: 8 bytes. */
    private static final byte[] OFFSET_KEY_PREFIX = "offset/".getBytes(StandardCharsets.UTF_8);
    private static final Comparator<byte[]> KEY_ORDER = Arrays::compareUnsigned;
    private static final String SNAPSHOT_MAGIC = "weir-store-snapshot";

    private final String name;
    private final Path dir;
    /** Options objects (and the bloom filter they use), closed after the DB. */
    private final List<AutoCloseable> options;
    private final RocksDB db;
    private final List<ColumnFamilyHandle> handles;
    private final ColumnFamilyHandle dataCf;
    private final ColumnFamilyHandle metaCf;
    private final WriteBatchWithIndex batch = new WriteBatchWithIndex(true);
    /** A non-owning view of the batch's WriteBatch, for its size. */
    private final WriteBatch batchView = batch.getWriteBatch();
    private final long emptyBatchBytes = batchView.getDataSize();
    private final ReadOptions readOptions = new ReadOptions();
    private final WriteOptions syncWrites = new WriteOptions().setSync(true);
    /** Commits of a changelogged store: the WAL write reaches the OS, without an fsync (see commitReplayable). */
    private final WriteOptions replayableWrites = new WriteOptions();
    /** A bulk load's commits: no WAL (the changelog can replay them), made durable by a flush at its end. */
    private final WriteOptions unloggedWrites = new WriteOptions().setDisableWAL(true);
    /** The writes of a bulk load (owning thread only); null when not loading. */
    private WriteBatch bulk;
    /** Whether commits since the last flush went unlogged (they are in memtables only). */
    private boolean unflushedUnloggedCommits;

    /** Guards native handles against {@link #close} for readers on other threads. */
    private final ReentrantReadWriteLock closeLock = new ReentrantReadWriteLock();
    private volatile boolean closed;
    /** Iterators over the batch (owning thread only). */
    private final List<RocksRangeIterator> batchIterators = new ArrayList<>();
    /** Iterators over committed data (any thread). */
    private final Set<RocksRangeIterator> committedIterators = ConcurrentHashMap.newKeySet();
    /** Immutable; replaced after each commit. */
    private volatile Map<TopicPartition, Long> offsets;

    private RocksDbBytesStore(String name, Path dir, List<AutoCloseable> options, RocksDB db,
                              List<ColumnFamilyHandle> handles) {
        this.name = name;
        this.dir = dir;
        this.options = options;
        this.db = db;
        this.handles = handles;
        this.dataCf = handles.get(1);
        this.metaCf = handles.get(2);
    }

    /** A supplier of RocksDB stores of the given name, each in {@code <taskStateDir>/rocksdb/<name>}. */
    public static BytesStoreSupplier supplier(String name) {
        return new BytesStoreSupplier() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean persistent() {
                return true;
            }

            @Override
            public TransactionalBytesStore open(Path taskStateDir) {
                return RocksDbBytesStore.open(name, storeDir(taskStateDir, name));
            }
        };
    }

    /** Where the store of this name lives under a task's state directory. */
    public static Path storeDir(Path taskStateDir, String name) {
        return taskStateDir.resolve(ROCKSDB_DIR).resolve(name);
    }

    /**
     * Opens (creating if needed) the store in {@code dir}, at its last commit.
     *
     * @throws StoreCorruptedException if the store's files are damaged (wipe it and restore it)
     * @throws StateStoreException for any other failure (keep the files)
     */
    public static RocksDbBytesStore open(String name, Path dir) {
        RocksDB.loadLibrary();
        checkNotMissingCurrent(name, dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StateStoreException("cannot create the directory " + dir + " of state store '" + name + "'", e);
        }
        DBOptions dbOptions = new DBOptions()
            .setCreateIfMissing(true)
            .setCreateMissingColumnFamilies(true)
            .setParanoidChecks(true)
            // a torn WAL tail is a commit that never returned or was never synced: recovery stops before it
            .setWalRecoveryMode(WALRecoveryMode.PointInTimeRecovery)
            // every flush covers all families at one point: a WAL file is released once the data family's memtable
            // is flushed (the metadata family's few bytes would otherwise keep every WAL file alive up to
            // max_total_wal_size, about the store's size again), and a bulk load's unlogged commits (see
            // beginBulkLoad) reach the disk with their offsets or not at all
            .setAtomicFlush(true)
            .setKeepLogFileNum(3);
        // the data family serves point reads per record (bloom filter) and compacts well (LZ4); the
        // metadata family holds a few dozen bytes, so a small memtable
        BloomFilter bloomFilter = new BloomFilter(10);
        ColumnFamilyOptions dataOptions = new ColumnFamilyOptions()
            .setWriteBufferSize(16L << 20)
            .setMaxWriteBufferNumber(3)
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setTableFormatConfig(new BlockBasedTableConfig().setFilterPolicy(bloomFilter));
        ColumnFamilyOptions metaOptions = new ColumnFamilyOptions().setWriteBufferSize(1L << 20);
        List<ColumnFamilyDescriptor> descriptors = List.of(
            new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, metaOptions),
            new ColumnFamilyDescriptor(DATA_CF_NAME.getBytes(StandardCharsets.UTF_8), dataOptions),
            new ColumnFamilyDescriptor(METADATA_CF_NAME.getBytes(StandardCharsets.UTF_8), metaOptions));
        List<AutoCloseable> options = List.of(dataOptions, metaOptions, bloomFilter, dbOptions);
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        RocksDB db;
        try {
            db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        } catch (RocksDBException e) {
            handles.forEach(ColumnFamilyHandle::close);
            closeAll(options);
            throw translate(name, dir, "open", e);
        }
        RocksDbBytesStore store = new RocksDbBytesStore(name, dir, options, db, handles);
        try {
            store.loadMetadata();
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    /**
     * Restores a snapshot taken by {@link #checkpoint} into {@code <taskStateDir>/rocksdb/<name>} (which
     * must not hold a store) and opens it: the store starts at the snapshot's offsets, and the runtime
     * replays only the changelog after them.
     */
    public static RocksDbBytesStore openFromSnapshot(String name, Path snapshot, Path taskStateDir) {
        Path storeDir = storeDir(taskStateDir, name);
        Map<TopicPartition, Long> expected = restoreSnapshot(snapshot, storeDir);
        RocksDbBytesStore store = open(name, storeDir);
        if (!store.committedOffsets().equals(expected)) {
            Map<TopicPartition, Long> actual = store.committedOffsets();
            store.close();
            throw new StoreCorruptedException(name, storeDir, "restored from snapshot " + snapshot
                + " whose descriptor says offsets " + expected + " but whose data holds " + actual, null);
        }
        return store;
    }

    /**
     * Moves a corrupt store's directory aside (to {@code <dir>.corrupted}, replacing an older one, kept for
     * a post-mortem) and logs why, so the runtime can restore the store from its changelog. Call it only
     * for a {@link StoreCorruptedException}: a healthy store is never wiped.
     *
     * @return where the directory went, or null if there was nothing to wipe
     */
    public static Path wipeCorrupted(Path dir, String reason) {
        if (!Files.exists(dir)) {
            return null;
        }
        Path aside = dir.resolveSibling(dir.getFileName() + ".corrupted");
        deleteRecursively(aside);
        try {
            try {
                Files.move(dir, aside, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(dir, aside);
            }
            log.warn("Wiped corrupt state store directory {} (moved aside to {}) because: {}. "
                + "The store will be restored from its changelog.", dir, aside, reason);
            return aside;
        } catch (IOException e) {
            deleteRecursively(dir);
            log.warn("Wiped corrupt state store directory {} (deleted; moving it aside failed: {}) because: {}. "
                + "The store will be restored from its changelog.", dir, e.toString(), reason);
            return dir;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean persistent() {
        return true;
    }

    /** The store's RocksDB directory. */
    public Path directory() {
        return dir;
    }

    @Override
    public byte[] get(byte[] key) {
        ensureOpen();
        try {
            return batch.getFromBatchAndDB(db, dataCf, readOptions, key);
        } catch (RocksDBException e) {
            throw translate(name, dir, "get", e);
        }
    }

    @Override
    public void put(byte[] key, byte[] value) {
        ensureOpen();
        try {
            if (bulk != null) {
                if (value == null) {
                    bulk.delete(dataCf, key);
                } else {
                    bulk.put(dataCf, key, value);
                }
            } else if (value == null) {
                batch.delete(dataCf, key);
            } else {
                batch.put(dataCf, key, value);
            }
        } catch (RocksDBException e) {
            throw translate(name, dir, "put", e);
        }
    }

    @Override
    public BytesIterator range(byte[] from, byte[] to) {
        ensureOpen();
        if (emptyRange(from, to)) {
            return EmptyIterator.INSTANCE;
        }
        ReadOptions options = new ReadOptions();
        RocksIterator base = db.newIterator(dataCf, options);
        // the merged iterator owns (and frees) the base iterator
        RocksIterator merged = batch.newIteratorWithBase(dataCf, base, null);
        RocksRangeIterator it = new RocksRangeIterator(merged, options, to, null);
        batchIterators.add(it);
        it.start(from);
        return it;
    }

    @Override
    public byte[] getCommitted(byte[] key) {
        Lock lock = closeLock.readLock();
        lock.lock();
        try {
            ensureOpen();
            return db.get(dataCf, key);
        } catch (RocksDBException e) {
            throw translate(name, dir, "get", e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public BytesIterator rangeCommitted(byte[] from, byte[] to) {
        if (emptyRange(from, to)) {
            return EmptyIterator.INSTANCE;
        }
        Lock lock = closeLock.readLock();
        lock.lock();
        try {
            ensureOpen();
            ReadOptions options = new ReadOptions();
            RocksRangeIterator it = new RocksRangeIterator(db.newIterator(dataCf, options), options, to, lock);
            committedIterators.add(it);
            it.start(from);
            return it;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long uncommittedBytes() {
        ensureOpen();
        if (bulk != null) {
            return bulk.getDataSize();
        }
        return Math.max(0, batchView.getDataSize() - emptyBatchBytes);
    }

    /**
     * Writes the batch and the offsets in one synced RocksDB write. If it throws, the store's state on
     * disk is the previous commit; the caller closes the store (its batch now also holds the offsets).
     */
    @Override
    public void commit(Map<TopicPartition, Long> newOffsets) {
        commit(newOffsets, syncWrites);
    }

    /**
     * Without the fsync: a profile of the windowed aggregation showed the synced write of each commit (10 a second)
     * taking as long as all its processing. After a SIGKILL the store still reopens at its last commit (the WAL was
     * written); only a power loss can take it back to an earlier whole commit, and the changelog replays the rest.
     */
    @Override
    public void commitReplayable(Map<TopicPartition, Long> newOffsets) {
        commit(newOffsets, replayableWrites);
    }

    private void commit(Map<TopicPartition, Long> newOffsets, WriteOptions writeOptions) {
        ensureOpen();
        invalidateBatchIterators();
        try {
            if (bulk != null) {
                for (Map.Entry<TopicPartition, Long> e : newOffsets.entrySet()) {
                    bulk.put(metaCf, offsetKey(e.getKey()), longBytes(e.getValue()));
                }
                db.write(unloggedWrites, bulk);
                unflushedUnloggedCommits = true;
            } else {
                for (Map.Entry<TopicPartition, Long> e : newOffsets.entrySet()) {
                    batch.put(metaCf, offsetKey(e.getKey()), longBytes(e.getValue()));
                }
                db.write(writeOptions, batch);
            }
        } catch (RocksDBException e) {
            throw translate(name, dir, "commit", e);
        }
        if (bulk != null) {
            bulk.clear();
        }
        batch.clear();
        if (!newOffsets.isEmpty()) {
            Map<TopicPartition, Long> merged = new HashMap<>(offsets);
            merged.putAll(newOffsets);
            offsets = Map.copyOf(merged);
        }
    }

    @Override
    public void abort() {
        ensureOpen();
        invalidateBatchIterators();
        if (bulk != null) {
            bulk.clear();
        }
        batch.clear();
    }

    /**
     * Starts a bulk load (restoring the store from its changelog; nothing reads it meanwhile): writes go to a plain
     * {@link WriteBatch} (no index: {@link #get} and {@link #range} see only committed data until the load ends),
     * and {@link #commit} writes them with their offsets in one write without the WAL, as Kafka Streams restores.
     * A crash loses only what no flush has reached yet, data and offsets together (atomic flush), and the next
     * open replays that part of the changelog again. {@link #endBulkLoad} flushes, so logged commits never follow
     * unlogged ones that are still in memory only.
     */
    @Override
    public void beginBulkLoad() {
        ensureOpen();
        if (bulk != null) {
            return;
        }
        if (uncommittedBytes() > 0) {
            return;   // not from a clean commit point: restore through the indexed batch, as without a bulk load
        }
        bulk = new WriteBatch();
    }

    /** Ends a bulk load: its unflushed commits are flushed (waited for); uncommitted bulk writes are discarded. */
    @Override
    public void endBulkLoad() {
        ensureOpen();
        if (bulk == null) {
            return;
        }
        bulk.close();
        bulk = null;
        flushUnloggedCommits();
    }

    private void flushUnloggedCommits() {
        if (!unflushedUnloggedCommits) {
            return;
        }
        try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
            db.flush(flush, handles);
        } catch (RocksDBException e) {
            throw translate(name, dir, "flush", e);
        }
        unflushedUnloggedCommits = false;
    }

    @Override
    public Map<TopicPartition, Long> committedOffsets() {
        return offsets;
    }

    /**
     * Reads every SST file and checks its checksums (slow: reads the whole store). RocksDB checks each
     * block it reads anyway; this finds damage in blocks no read has touched yet.
     *
     * @throws StoreCorruptedException if a checksum does not match
     */
    public void verifyChecksums() {
        ensureOpen();
        try {
            db.verifyChecksum();
        } catch (RocksDBException e) {
            throw translate(name, dir, "verify checksums", e);
        }
    }

    /**
     * Writes the committed data held in memory (memtables) to SST files, so a later open replays no WAL.
     * Optional: a synced commit is already durable.
     */
    public void flush() {
        ensureOpen();
        try (FlushOptions options = new FlushOptions().setWaitForFlush(true)) {
            db.flush(options, List.of(dataCf, metaCf));
        } catch (RocksDBException e) {
            throw translate(name, dir, "flush", e);
        }
    }

    /**
     * Writes a snapshot of the committed state into {@code target} (which must not exist): a RocksDB
     * checkpoint in {@code target/db} (hard links to the immutable SST files where the file system allows)
     * and {@code target/snapshot.offsets} naming the store, the format version and the committed offsets
     * the snapshot is at. Uncommitted writes are never in it. Call it from the owning thread between
     * commits. The snapshot appears atomically (built under {@code <target>.tmp}, then renamed).
     *
     * @return the committed offsets the snapshot holds
     */
    public Map<TopicPartition, Long> checkpoint(Path target) {
        ensureOpen();
        if (Files.exists(target)) {
            throw new IllegalArgumentException("snapshot target " + target + " already exists");
        }
        Map<TopicPartition, Long> at = offsets;
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        deleteRecursively(tmp);
        try {
            Files.createDirectories(tmp);
            try (Checkpoint checkpoint = Checkpoint.create(db)) {
                checkpoint.createCheckpoint(tmp.resolve(SNAPSHOT_DB_DIR).toString());
            }
            writeDescriptor(tmp.resolve(SNAPSHOT_DESCRIPTOR), at);
            fsyncDir(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            fsyncDir(target.toAbsolutePath().getParent());
        } catch (RocksDBException e) {
            deleteRecursively(tmp);
            throw translate(name, dir, "checkpoint to " + target, e);
        } catch (IOException e) {
            deleteRecursively(tmp);
            throw new StateStoreException("cannot write snapshot of state store '" + name + "' to " + target, e);
        }
        return at;
    }

    /** The offsets a snapshot taken by {@link #checkpoint} is at, read from its descriptor. */
    public static Map<TopicPartition, Long> readSnapshotOffsets(Path snapshot) {
        Path file = snapshot.resolve(SNAPSHOT_DESCRIPTOR);
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StateStoreException("cannot read snapshot descriptor " + file, e);
        }
        if (lines.isEmpty() || !lines.get(0).equals(SNAPSHOT_MAGIC + " " + FORMAT_VERSION)) {
            throw new StateStoreException("snapshot descriptor " + file + " does not start with '"
                + SNAPSHOT_MAGIC + " " + FORMAT_VERSION + "'");
        }
        Map<TopicPartition, Long> result = new HashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            if (!line.startsWith("offset ")) {
                continue;
            }
            // offset <offset> <partition> <topic>; topics cannot hold spaces
            String[] parts = line.split(" ", 4);
            if (parts.length != 4) {
                throw new StateStoreException("bad line in snapshot descriptor " + file + ": " + line);
            }
            try {
                result.put(new TopicPartition(parts[3], Integer.parseInt(parts[2])), Long.parseLong(parts[1]));
            } catch (NumberFormatException e) {
                throw new StateStoreException("bad line in snapshot descriptor " + file + ": " + line, e);
            }
        }
        return Map.copyOf(result);
    }

    /**
     * Copies a snapshot taken by {@link #checkpoint} into {@code storeDir} (absent or empty): SST files are
     * hard-linked where possible (they are immutable), everything else copied and fsynced, the directory
     * appears by an atomic rename. Opening {@code storeDir} then gives the store at the snapshot's offsets.
     *
     * @return the snapshot's offsets (where the changelog replay starts)
     */
    public static Map<TopicPartition, Long> restoreSnapshot(Path snapshot, Path storeDir) {
        Map<TopicPartition, Long> at = readSnapshotOffsets(snapshot);
        Path source = snapshot.resolve(SNAPSHOT_DB_DIR);
        if (!Files.isRegularFile(source.resolve("CURRENT"))) {
            throw new StateStoreException("snapshot " + snapshot + " has no RocksDB checkpoint in " + source);
        }
        try {
            if (Files.isDirectory(storeDir)) {
                try (Stream<Path> entries = Files.list(storeDir)) {
                    if (entries.findAny().isPresent()) {
                        throw new IllegalStateException("cannot restore snapshot " + snapshot + " into " + storeDir
                            + ": it already holds a store");
                    }
                }
                Files.delete(storeDir);
            }
            Path tmp = storeDir.resolveSibling(storeDir.getFileName() + ".restoring");
            deleteRecursively(tmp);
            Files.createDirectories(tmp);
            try (Stream<Path> files = Files.list(source)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Path to = tmp.resolve(f.getFileName());
                    if (f.getFileName().toString().endsWith(".sst") && tryLink(to, f)) {
                        continue;
                    }
                    Files.copy(f, to);
                    try (FileChannel ch = FileChannel.open(to, StandardOpenOption.WRITE)) {
                        ch.force(true);
                    }
                }
            }
            fsyncDir(tmp);
            Files.move(tmp, storeDir, StandardCopyOption.ATOMIC_MOVE);
            fsyncDir(storeDir.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new StateStoreException("cannot restore snapshot " + snapshot + " into " + storeDir, e);
        }
        log.info("Restored state store snapshot {} into {} at offsets {}", snapshot, storeDir, at);
        return at;
    }

    /** Closes every native handle; uncommitted writes are discarded. Idempotent. */
    @Override
    public void close() {
        Lock lock = closeLock.writeLock();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (RocksRangeIterator it : committedIterators) {
                it.release();
            }
            committedIterators.clear();
        } finally {
            lock.unlock();
        }
        invalidateBatchIterators();
        if (bulk != null) {
            bulk.close();   // uncommitted: discarded, as the batch is
            bulk = null;
        }
        try {
            flushUnloggedCommits();   // RocksDB would flush unlogged data at close too; not left to chance
        } catch (RuntimeException e) {
            log.warn("Flushing state store '{}' in {} at close failed (the changelog replays what is lost): {}", name,
                dir, e.toString());
        }
        batch.close();
        readOptions.close();
        syncWrites.close();
        replayableWrites.close();
        unloggedWrites.close();
        // column family handles before the DB, options after it
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        try {
            db.closeE();
        } catch (RocksDBException e) {
            log.warn("Closing state store '{}' in {} failed: {}", name, dir, e.toString());
        }
        closeAll(options);
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("RocksDB options do not throw on close", e);
            }
        }
    }

    private void loadMetadata() {
        try {
            byte[] version = db.get(metaCf, FORMAT_VERSION_KEY);
            if (version == null) {
                db.put(metaCf, syncWrites, FORMAT_VERSION_KEY, ByteBuffer.allocate(4).putInt(FORMAT_VERSION).array());
            } else if (version.length != 4) {
                throw new StoreCorruptedException(name, dir, "format version entry has " + version.length + " bytes", null);
            } else if (ByteBuffer.wrap(version).getInt() > FORMAT_VERSION) {
                throw new StateStoreException("state store '" + name + "' in " + dir + " has format version "
                    + ByteBuffer.wrap(version).getInt() + ", newer than this Weir's " + FORMAT_VERSION);
            }
            Map<TopicPartition, Long> loaded = readOffsets(db, metaCf, name, dir);
            offsets = Map.copyOf(loaded);
        } catch (RocksDBException e) {
            throw translate(name, dir, "read metadata", e);
        }
    }

    /** The committed offsets in the metadata family of an open DB. */
    private static Map<TopicPartition, Long> readOffsets(RocksDB db, ColumnFamilyHandle metaCf, String name, Path dir)
        throws RocksDBException {
        Map<TopicPartition, Long> loaded = new HashMap<>();
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(metaCf, options)) {
            for (it.seek(OFFSET_KEY_PREFIX); it.isValid(); it.next()) {
                byte[] key = it.key();
                if (!startsWith(key, OFFSET_KEY_PREFIX)) {
                    break;
                }
                byte[] value = it.value();
                if (key.length < OFFSET_KEY_PREFIX.length + 4 || value.length != 8) {
                    throw new StoreCorruptedException(name, dir, "malformed committed-offset entry", null);
                }
                ByteBuffer k = ByteBuffer.wrap(key, OFFSET_KEY_PREFIX.length, key.length - OFFSET_KEY_PREFIX.length);
                int partition = k.getInt();
                String topic = new String(key, k.position(), k.remaining(), StandardCharsets.UTF_8);
                loaded.put(new TopicPartition(topic, partition), ByteBuffer.wrap(value).getLong());
            }
            it.status();
        }
        return loaded;
    }

    /**
     * The committed offsets of the store in {@code dir}, read without opening it for writing (RocksDB's read-only
     * mode takes no lock, so this works while a stream thread has the store open): what an instance reports to the
     * assignor about a task directory it has not opened since it started. Empty if {@code dir} holds no store.
     *
     * @throws StateStoreException if the store cannot be read
     */
    public static Map<TopicPartition, Long> readCommittedOffsets(Path dir) {
        if (!Files.exists(dir.resolve("CURRENT"))) {
            return Map.of();
        }
        RocksDB.loadLibrary();
        List<ColumnFamilyDescriptor> descriptors = List.of(
            new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY),
            new ColumnFamilyDescriptor(DATA_CF_NAME.getBytes(StandardCharsets.UTF_8)),
            new ColumnFamilyDescriptor(METADATA_CF_NAME.getBytes(StandardCharsets.UTF_8)));
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions dbOptions = new DBOptions();
             RocksDB db = RocksDB.openReadOnly(dbOptions, dir.toString(), descriptors, handles)) {
            try {
                return Map.copyOf(readOffsets(db, handles.get(2), dir.getFileName().toString(), dir));
            } finally {
                handles.forEach(ColumnFamilyHandle::close);
            }
        } catch (RocksDBException e) {
            handles.forEach(ColumnFamilyHandle::close);
            throw new StateStoreException("cannot read the committed offsets of the store in " + dir, e);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("state store '" + name + "' is closed");
        }
    }

    private void invalidateBatchIterators() {
        for (RocksRangeIterator it : batchIterators) {
            it.release();
        }
        batchIterators.clear();
    }

    private static boolean emptyRange(byte[] from, byte[] to) {
        return from != null && to != null && KEY_ORDER.compare(from, to) > 0;
    }

    /**
     * Maps a RocksDB failure to corruption (damaged files: wipe and restore) or an operating error (keep
     * the files). A file the MANIFEST names but the directory lacks is damage too.
     */
    static StateStoreException translate(String name, Path dir, String operation, RocksDBException e) {
        Status status = e.getStatus();
        Status.Code code = status == null ? null : status.getCode();
        String message = String.valueOf(e.getMessage());
        boolean missingFile = code == Status.Code.IOError && message.contains("No such file")
            && Files.isDirectory(dir);
        if (code == Status.Code.Corruption || missingFile) {
            return new StoreCorruptedException(name, dir, operation + " failed: " + message, e);
        }
        return new StateStoreException(operation + " of state store '" + name + "' in " + dir + " failed: " + message, e);
    }

    /**
     * RocksDB with create-if-missing would silently start an EMPTY store in a directory whose CURRENT file
     * is gone but whose data files remain; that directory is damaged, so say so instead.
     */
    private static void checkNotMissingCurrent(String name, Path dir) {
        if (!Files.isDirectory(dir) || Files.exists(dir.resolve("CURRENT"))) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<String> dbFiles = files.map(p -> p.getFileName().toString())
                .filter(f -> f.startsWith("MANIFEST-") || f.endsWith(".sst") || (f.endsWith(".log") && !f.startsWith("LOG")))
                .sorted()
                .toList();
            if (!dbFiles.isEmpty()) {
                throw new StoreCorruptedException(name, dir, "its CURRENT file is missing but it holds RocksDB files "
                    + dbFiles, null);
            }
        } catch (IOException e) {
            throw new StateStoreException("cannot list the directory " + dir + " of state store '" + name + "'", e);
        }
    }

    private void writeDescriptor(Path file, Map<TopicPartition, Long> at) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(SNAPSHOT_MAGIC).append(' ').append(FORMAT_VERSION).append('\n');
        sb.append("store ").append(name).append('\n');
        List<Map.Entry<TopicPartition, Long>> sorted = new ArrayList<>(at.entrySet());
        sorted.sort(Map.Entry.comparingByKey(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition)));
        for (Map.Entry<TopicPartition, Long> e : sorted) {
            sb.append("offset ").append(e.getValue()).append(' ').append(e.getKey().partition()).append(' ')
                .append(e.getKey().topic()).append('\n');
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    private static boolean tryLink(Path link, Path existing) {
        try {
            Files.createLink(link, existing);
            return true;
        } catch (UnsupportedOperationException | IOException e) {
            return false; // another file system, or links not supported: copy instead
        }
    }

    private static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some platforms cannot open a directory for fsync; the rename is still atomic there
            log.debug("fsync of directory {} not possible: {}", dir, e.toString());
        }
    }

    static void deleteRecursively(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] offsetKey(TopicPartition tp) {
        byte[] topic = tp.topic().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(OFFSET_KEY_PREFIX.length + 4 + topic.length)
            .put(OFFSET_KEY_PREFIX).putInt(tp.partition()).put(topic).array();
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /**
     * A bounded forward iterator over a RocksDB iterator, one entry fetched ahead. With a lock it serves
     * other threads (committed reads): each native step runs under the store's read lock.
     */
    private final class RocksRangeIterator implements BytesIterator {
        private final RocksIterator it;
        private final ReadOptions options;
        private final byte[] to;
        private final Lock lock;
        private Entry next;
        private boolean released;
        private boolean closedByCaller;

        RocksRangeIterator(RocksIterator it, ReadOptions options, byte[] to, Lock lock) {
            this.it = it;
            this.options = options;
            this.to = to;
            this.lock = lock;
        }

        void start(byte[] from) {
            if (from == null) {
                it.seekToFirst();
            } else {
                it.seek(from);
            }
            fetch();
        }

        /** Reads the entry at the native position into {@link #next} and steps past it. */
        private void fetch() {
            if (!it.isValid()) {
                next = null;
                try {
                    it.status();
                } catch (RocksDBException e) {
                    throw translate(name, dir, "iterate", e);
                }
                return;
            }
            byte[] key = it.key();
            if (to != null && KEY_ORDER.compare(key, to) > 0) {
                next = null;
                return;
            }
            next = new Entry(key, it.value());
            it.next();
        }

        @Override
        public boolean hasNext() {
            if (closedByCaller) {
                return false;
            }
            if (released && next != null) {
                throw new IllegalStateException("iterator of state store '" + name
                    + "' used after a commit, abort or close of the store");
            }
            return next != null;
        }

        @Override
        public Entry next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Entry result = next;
            if (lock == null) {
                fetch();
            } else {
                lock.lock();
                try {
                    if (released) {
                        throw new IllegalStateException("state store '" + name + "' closed during iteration");
                    }
                    fetch();
                } finally {
                    lock.unlock();
                }
            }
            return result;
        }

        /** Frees the native iterator; the store calls it at commit/abort/close, the caller through close. */
        void release() {
            if (!released) {
                released = true;
                it.close();
                options.close();
            }
        }

        @Override
        public void close() {
            closedByCaller = true;
            if (lock == null) {
                batchIterators.remove(this);
                release();
            } else {
                lock.lock();
                try {
                    committedIterators.remove(this);
                    release();
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    private static final class EmptyIterator implements BytesIterator {
        static final EmptyIterator INSTANCE = new EmptyIterator();

        @Override
        public boolean hasNext() {
            return false;
        }

        @Override
        public Entry next() {
            throw new NoSuchElementException();
        }

        @Override
        public void close() {
        }
    }
}
