package io.weir.streams.kstream.internals;

import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.Record;
import io.weir.streams.processor.internals.CachedStateStore;

/**
 * How a table node that writes its own store hands its updates downstream: itself, one {@link Change} per
 * update, when the store writes through; or, when the store caches, through the store's flush, which
 * forwards each key once per commit (or eviction) with its latest value and the value the store held
 * before. The node calls {@link #maybeForward} after every write either way. Used by the task's thread.
 */
final class TableForwarder {
    private final ProcessorContext<Object, Object> context;
    private final boolean viaCache;

    @SuppressWarnings("unchecked")
    TableForwarder(StateStore store, ProcessorContext<Object, Object> context) {
        this.context = context;
        this.viaCache = store instanceof CachedStateStore<?, ?> cached
            && ((CachedStateStore<Object, Object>) cached).setFlushListener(
                (record, oldValue) -> context.forward(record.withValue(new Change<>(record.value(), oldValue))));
    }

    /** Forwards the update now, unless the store's cache will forward it at its flush. */
    void maybeForward(Record<Object, Object> record, Object newValue, Object oldValue) {
        if (!viaCache) {
            context.forward(record.withValue(new Change<>(newValue, oldValue)));
        }
    }
}
