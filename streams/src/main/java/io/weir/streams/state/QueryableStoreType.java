package io.weir.streams.state;

import io.weir.streams.processor.StateStore;

import java.util.List;
import java.util.function.Supplier;

/**
 * A kind of read-only view that interactive queries give over one store name: which store objects it
 * accepts and how it combines the local tasks' stores (see {@link QueryableStoreTypes}).
 */
public interface QueryableStoreType<T> {

    /** Whether the store (one task's instance) can back this view. */
    boolean accepts(StateStore store);

    /**
     * The view over every local active task's store of the name: {@code stores} is asked again at each call
     * and throws {@link io.weir.streams.errors.InvalidStateStoreException} when the job cannot answer now.
     */
    T create(Supplier<List<StateStore>> stores, String storeName);
}
