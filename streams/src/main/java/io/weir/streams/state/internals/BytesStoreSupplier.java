package io.weir.streams.state.internals;

import java.nio.file.Path;

/**
 * Creates the store of one name for each task that uses it: the storage-engine choice a
 * {@code Materialized} makes. {@link #open} is called once per task with that task's state directory.
 */
public interface BytesStoreSupplier {

    /** The store's name. */
    String name();

    /** True if the stores it opens are persistent. */
    boolean persistent();

    /** Opens (creating if needed) this store under the task's state directory. */
    TransactionalBytesStore open(Path taskStateDir);
}
