package io.weir.streams.state.internals;

import java.nio.file.Path;

/**
 * A store's files are damaged (a garbled or truncated SST or MANIFEST, a missing CURRENT, a checksum
 * mismatch on read). This, and only this, tells the runtime to wipe the store with
 * {@link RocksDbBytesStore#wipeCorrupted} and restore it from its changelog; every other failure keeps
 * the store's files (DESIGN.md, "Exactly-once": never a wipe unless the store is actually corrupt).
 */
public final class StoreCorruptedException extends StateStoreException {
    private static final long serialVersionUID = 1L;

    private final String storeName;
    private final transient Path directory;

    public StoreCorruptedException(String storeName, Path directory, String cause, Throwable rootCause) {
        super("state store '" + storeName + "' in " + directory + " is corrupt: " + cause, rootCause);
        this.storeName = storeName;
        this.directory = directory;
    }

    /** The corrupt store's name. */
    public String storeName() {
        return storeName;
    }

    /** The corrupt store's directory (what {@link RocksDbBytesStore#wipeCorrupted} takes). */
    public Path directory() {
        return directory;
    }
}
