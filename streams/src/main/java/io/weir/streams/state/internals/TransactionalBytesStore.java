package io.weir.streams.state.internals;

import io.weir.common.TopicPartition;

import java.util.Map;

/**
 * One state store of one task, at the byte level: the contract between the streams runtime (typed
 * stores, changelogging, the exactly-once commit) and the storage engines (RocksDB, memory).
 *
 * <p>Writes are uncommitted until {@link #commit}: reads ({@link #get}, {@link #range}) see them, and
 * {@link #abort} discards them. {@link #commit} makes every uncommitted write durable together with the
 * offsets it is given (the task's input offsets and the store's changelog end offset) in one atomic
 * step, so after a crash the store reopens exactly at its last commit and {@link #committedOffsets}
 * says where to resume the changelog. This is why Weir never wipes a store after an unclean stop
 * (DESIGN.md, "Exactly-once").
 *
 * <p>Keys are ordered by unsigned byte-wise comparison (RocksDB's default comparator). A store is used
 * by one stream thread at a time; interactive queries read through {@link #getCommitted} and
 * {@link #rangeCommitted}, which may be called from other threads.
 */
public interface TransactionalBytesStore extends AutoCloseable {

    /** The store's name (unique in its task). */
    String name();

    /** True if the store survives a process restart (RocksDB); false for in-memory stores. */
    boolean persistent();

    /** The value for the key including uncommitted writes, or null. */
    byte[] get(byte[] key);

    /** Writes (uncommitted) the value; a null value deletes the key. */
    void put(byte[] key, byte[] value);

    /** Deletes (uncommitted) the key. */
    default void delete(byte[] key) {
        put(key, null);
    }

    /**
     * Entries with {@code from <= key <= to} in key order, uncommitted writes included; a null bound is
     * unbounded. The caller closes the iterator.
     */
    BytesIterator range(byte[] from, byte[] to);

    /** Every entry in key order, uncommitted writes included. */
    default BytesIterator all() {
        return range(null, null);
    }

    /** The committed value for the key (what interactive queries see), or null. */
    byte[] getCommitted(byte[] key);

    /** Committed entries with {@code from <= key <= to} in key order; a null bound is unbounded. */
    BytesIterator rangeCommitted(byte[] from, byte[] to);

    /** Approximate bytes held by uncommitted writes (drives {@code statestore.uncommitted.max.bytes}). */
    long uncommittedBytes();

    /**
     * Atomically and durably applies every uncommitted write together with the given offsets (which
     * replace the stored offsets of the same partitions). Called only after the broker transaction that
     * carried this state's changelog records committed.
     */
    void commit(Map<TopicPartition, Long> offsets);

    /**
     * {@link #commit}, for a store whose every write is also in its changelog (whose offset {@code offsets} carries):
     * just as atomic, but an engine need not force it to stable storage before returning. A process that dies (even
     * by SIGKILL) loses nothing the operating system was handed; a machine that loses power may reopen the store at
     * an earlier whole commit, which the changelog replay from its stored offset brings forward. The store is never
     * ahead of the broker's commit, and input resumes from the group's committed offsets, so exactly-once holds.
     */
    default void commitReplayable(Map<TopicPartition, Long> offsets) {
        commit(offsets);
    }

    /** Discards every uncommitted write (the broker transaction aborted, or the producer was fenced). */
    void abort();

    /**
     * Starts restoring the store from its changelog in bulk: until {@link #endBulkLoad}, an engine may make
     * uncommitted writes invisible to reads and commit them more cheaply, as long as each {@link #commit} stays
     * atomic (its writes and offsets survive a crash together or not at all). Only with no uncommitted writes.
     */
    default void beginBulkLoad() {
    }

    /** Ends a bulk load: from here on, commits are as durable as ever. */
    default void endBulkLoad() {
    }

    /** The offsets stored by the last {@link #commit} (empty for a new store). */
    Map<TopicPartition, Long> committedOffsets();

    /** Closes the store; uncommitted writes are discarded. */
    @Override
    void close();
}
