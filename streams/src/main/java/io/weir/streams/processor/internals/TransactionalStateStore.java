package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import io.weir.streams.processor.StateStore;

import java.nio.file.Path;
import java.util.Map;

/**
 * A store whose writes belong to the task's open transaction: the task {@link #commit}s it after the
 * broker transaction that carried its changelog records committed, and {@link #abort}s it otherwise.
 */
public interface TransactionalStateStore extends StateStore {

    /** Makes every uncommitted write durable together with the offsets, in one atomic step. */
    void commit(Map<TopicPartition, Long> offsets);

    /** Discards every uncommitted write. */
    void abort();

    /** The offsets of the last commit (empty for a new store): where changelog restore resumes. */
    Map<TopicPartition, Long> committedOffsets();

    /**
     * Hands the writes held in a record cache on to the store, its changelog and the downstream nodes
     * (see {@link ThreadCache}); the task calls it before every commit. Returns whether anything was
     * handed on. Stores without a cache have nothing to do.
     */
    default boolean flushCache() {
        return false;
    }

    /** Whether writes wait in a record cache (a commit now would leave them out). */
    default boolean hasCachedWrites() {
        return false;
    }

    /**
     * Writes a snapshot of the store's COMMITTED state into {@code target} (which must not exist) and returns
     * the committed offsets it holds, or null if the store's engine keeps no files to snapshot (in memory).
     * Call between commits, from the owning thread.
     */
    default Map<TopicPartition, Long> snapshot(Path target) {
        return null;
    }

    /** Approximate bytes of uncommitted writes. */
    long uncommittedBytes();

    /**
     * Applies one changelog record (the serialized key and value as the store logged them; a null value
     * deletes) as an uncommitted write that is not logged again: how the runtime restores the store from
     * its changelog before committing it with the new changelog offset.
     */
    default void restore(byte[] key, byte[] value) {
        throw new UnsupportedOperationException("state store " + name() + " cannot be restored from a changelog");
    }

    /** Before an active task's restore: see {@link io.weir.streams.state.internals.TransactionalBytesStore#beginBulkLoad}. */
    default void beginBulkLoad() {
    }

    /** After it (its last commit): see {@link io.weir.streams.state.internals.TransactionalBytesStore#endBulkLoad}. */
    default void endBulkLoad() {
    }
}
